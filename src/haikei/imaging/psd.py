"""Write a layered PSD for compositing (撮影), with psd-tools.

Layer order is bottom first. A delivery PSD (:func:`delivery_layers`) has, from the bottom:

1. ``regions`` — the region map in its class colours, hidden (for selections in Photoshop)
2. ``render <engine> <version>`` — the engine's painting, opaque
3. ``paint-over <artist>`` — one per human paint-over, only the pixels that person changed
4. ``layout lines`` — the layout's ink as black on transparent (alpha = darkness), blend multiply;
   hidden by default, so the flattened image is the delivered painting (``show_lines=True`` shows it)
5. ``BOOK`` — the foreground part that sits over the characters (alpha cut-out), on top

Each layer is stored cropped to the bounding box of its non-transparent pixels (transparent margins
carry nothing), so a small paint-over or BOOK costs little. The file also carries the flattened
composite of the visible layers over white, which Pillow and other readers show. Writes are atomic.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from haikei.errors import InputError
from haikei.imaging.io import atomic_write_bytes

__all__ = [
    "PSD_MAX_SIDE",
    "PsdLayer",
    "book_layer",
    "changed_mask",
    "delivery_layers",
    "lines_layer",
    "opaque_layer",
    "paintover_layer",
    "write_psd",
]

PSD_MAX_SIDE = 30000  # the PSD format's limit (PSB goes further; not written here)


@dataclass(frozen=True)
class PsdLayer:
    """One layer: ``rgba`` is uint8 HxWx4 at the full canvas size; ``opacity`` 0..1."""

    name: str
    rgba: np.ndarray
    visible: bool = True
    opacity: float = 1.0
    blend: Literal["normal", "multiply"] = "normal"


def _check_layers(width: int, height: int, layers: Sequence[PsdLayer]) -> None:
    if not (1 <= width <= PSD_MAX_SIDE and 1 <= height <= PSD_MAX_SIDE):
        raise InputError(f"PSD size {width}x{height} is outside 1..{PSD_MAX_SIDE} pixels per side")
    if not layers:
        raise InputError("a PSD needs at least one layer")
    for i, layer in enumerate(layers):
        label = f"layer {i} ({layer.name!r})"
        if not layer.name.strip() or len(layer.name) > 255:
            raise InputError(f"{label}: the name must be 1..255 characters")
        a = layer.rgba
        if not isinstance(a, np.ndarray) or a.dtype != np.uint8 or a.shape != (height, width, 4):
            got = f"{getattr(a, 'dtype', type(a))} {getattr(a, 'shape', '')}"
            raise InputError(
                f"{label}: pixels must be uint8 {height}x{width}x4 RGBA like the canvas, got {got}"
            )
        if not 0.0 <= layer.opacity <= 1.0:
            raise InputError(f"{label}: opacity {layer.opacity} is outside 0..1")
        if layer.blend not in ("normal", "multiply"):
            raise InputError(f"{label}: blend {layer.blend!r} must be normal or multiply")


def _alpha_bbox(alpha: np.ndarray) -> tuple[int, int, int, int] | None:
    rows = np.flatnonzero(alpha.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(alpha.any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def write_psd(path: str | os.PathLike[str], width: int, height: int, layers: Sequence[PsdLayer]) -> None:
    """Write ``layers`` (bottom first) as an 8-bit RGB PSD at ``path``, atomically."""
    from psd_tools import PSDImage
    from psd_tools.constants import BlendMode, Compression

    # 1. check every layer before touching the file
    _check_layers(width, height, layers)
    # 2. build the document on white, layers bottom first, each cropped to its visible pixels
    psd = PSDImage.new("RGB", (width, height), color=(255, 255, 255))
    for layer in layers:
        box = _alpha_bbox(layer.rgba[..., 3])
        top, bottom, left, right = box if box is not None else (0, height, 0, width)
        created = psd.create_pixel_layer_from_array(
            np.ascontiguousarray(layer.rgba[top:bottom, left:right]),
            name="layer",
            top=top,
            left=left,
            compression=Compression.RLE,
            opacity=round(layer.opacity * 255),
            blend_mode=BlendMode.MULTIPLY if layer.blend == "multiply" else BlendMode.NORMAL,
        )
        created.name = layer.name  # the setter stores Unicode names (luni) as well as the Pascal name
        created.visible = layer.visible
    # 3. serialise (psd-tools composites the visible layers into the merged image) and swap in
    buf = io.BytesIO()
    psd.save(buf)
    atomic_write_bytes(path, buf.getvalue())


# ---------------------------------------------------------------- building the delivery layers


def _rgb(arr: np.ndarray, what: str, shape: tuple[int, int] | None = None) -> np.ndarray:
    if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] != 3:
        raise InputError(f"{what} must be uint8 HxWx3 RGB, got {arr.dtype} {arr.shape}")
    if shape is not None and arr.shape[:2] != shape:
        raise InputError(f"{what} is {arr.shape[1]}x{arr.shape[0]}, the canvas is {shape[1]}x{shape[0]}")
    return arr


def opaque_layer(rgb: np.ndarray) -> np.ndarray:
    """RGB -> RGBA with full alpha."""
    _rgb(rgb, "image")
    return np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])


def lines_layer(lines: np.ndarray) -> np.ndarray:
    """Layout lines (uint8 HxW, 0 = ink, 255 = paper) -> black RGBA whose alpha is the ink's darkness."""
    if lines.dtype != np.uint8 or lines.ndim != 2:
        raise InputError(f"layout lines must be uint8 HxW, got {lines.dtype} {lines.shape}")
    out = np.zeros((*lines.shape, 4), np.uint8)
    out[..., 3] = 255 - lines
    return out


def changed_mask(before: np.ndarray, after: np.ndarray, tolerance: int = 0) -> np.ndarray:
    """bool HxW: pixels whose RGB differs by more than ``tolerance`` in any channel."""
    _rgb(before, "image before the paint-over")
    _rgb(after, "paint-over", before.shape[:2])
    diff = np.abs(before.astype(np.int16) - after.astype(np.int16)).max(axis=2)
    return diff > tolerance


def paintover_layer(before: np.ndarray, after: np.ndarray, tolerance: int = 0) -> tuple[np.ndarray, float]:
    """The pixels a paint-over changed as RGBA (others transparent), and the share changed (0..1)."""
    mask = changed_mask(before, after, tolerance)
    out = np.zeros((*after.shape[:2], 4), np.uint8)
    out[..., :3] = after
    out[..., 3] = np.where(mask, 255, 0).astype(np.uint8)
    return out, float(mask.mean())


def book_layer(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The BOOK cut-out: ``image`` where ``mask`` (bool, or uint8 alpha) is set, transparent elsewhere."""
    _rgb(image, "BOOK source image")
    if mask.shape != image.shape[:2] or mask.dtype not in (np.bool_, np.uint8):
        raise InputError(
            f"BOOK mask must be bool or uint8 {image.shape[1]}x{image.shape[0]}, got {mask.dtype} {mask.shape}"
        )
    alpha = np.where(mask, 255, 0).astype(np.uint8) if mask.dtype == np.bool_ else mask
    return np.dstack([image, alpha])


def delivery_layers(
    *,
    render: np.ndarray,
    engine: str,
    lines: np.ndarray,
    regions_rgb: np.ndarray | None = None,
    paintovers: Sequence[tuple[str, np.ndarray]] = (),
    book: np.ndarray | None = None,
    show_lines: bool = False,
) -> list[PsdLayer]:
    """The delivery layer stack, bottom first (see the module doc).

    ``render``: the engine's RGB painting; ``engine``: e.g. "exemplar 0.3"; ``lines``: uint8 HxW;
    ``regions_rgb``: the region map in class colours; ``paintovers``: ``(artist, rgba)`` in the order
    they were painted (e.g. from :func:`paintover_layer`); ``book``: RGBA cut-out (:func:`book_layer`).
    """
    _rgb(render, "render")
    shape = render.shape[:2]
    if lines.shape != shape:
        raise InputError(
            f"layout lines are {lines.shape[1]}x{lines.shape[0]}, the render is {shape[1]}x{shape[0]}"
        )
    if not engine.strip():
        raise InputError("name the engine that painted the render layer (e.g. 'exemplar 0.3')")
    layers: list[PsdLayer] = []
    if regions_rgb is not None:
        layers.append(
            PsdLayer("regions", opaque_layer(_rgb(regions_rgb, "region map", shape)), visible=False)
        )
    layers.append(PsdLayer(f"render {engine.strip()}", opaque_layer(render)))
    for artist, rgba in paintovers:
        if not artist.strip():
            raise InputError("a paint-over layer needs the artist's name")
        layers.append(PsdLayer(f"paint-over {artist.strip()}", rgba))
    layers.append(PsdLayer("layout lines", lines_layer(lines), visible=show_lines, blend="multiply"))
    if book is not None:
        layers.append(PsdLayer("BOOK", book))
    return layers
