"""Read a layered layout PSD: line drawing, region map and BOOK mask as separate layers.

Layer names (case-insensitive, anywhere in the layer tree; a hidden role layer is still read,
hidden layers inside a role group are not):

* lines: ``lines``, ``line``, ``lo``, ``layout``, ``線画``, ``レイアウト`` — required;
* regions: ``regions``, ``region``, ``領域``, ``色分け`` — optional;
* BOOK: ``book``, ``ブック`` — optional.

Each layer (or group) is composited at the document size. Lines are flattened onto white and
returned as grey. The region layer must be opaque where painted and empty elsewhere (empty =
unlabelled); half-transparent pixels (antialiasing, layer opacity) are refused because their
colours belong to no class. BOOK pixels are those at least half opaque; a BOOK layer with no
transparency at all is read as a mask instead: dark (< 128) = BOOK.
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from haikei.domain.vocabulary import UNLABELLED_COLOUR
from haikei.errors import ImageError
from haikei.imaging.io import MAX_FILE_BYTES, check_pixels

__all__ = ["LAYER_NAMES", "LayoutLayers", "layer_role", "read_layout_psd"]

LAYER_NAMES: dict[str, tuple[str, ...]] = {
    "lines": ("lines", "line", "lo", "layout", "線画", "レイアウト"),
    "regions": ("regions", "region", "領域", "色分け"),
    "book": ("book", "ブック"),
}


@dataclass(frozen=True)
class LayoutLayers:
    """``lines`` uint8 HxW grey (ink dark on white); ``regions_rgb`` uint8 HxWx3 with
    unlabelled pixels black, or None; ``book`` bool HxW, or None."""

    lines: np.ndarray
    regions_rgb: np.ndarray | None
    book: np.ndarray | None


def layer_role(name: str) -> str | None:
    """'lines' | 'regions' | 'book' for a layer name that means one, else None."""
    key = unicodedata.normalize("NFKC", name).strip().lower()
    for role, names in LAYER_NAMES.items():
        if key in names:
            return role
    return None


def _rgba(layer: Any, viewbox: tuple[int, int, int, int], label: str) -> np.ndarray:
    try:
        # the role layer counts even when hidden (artists hide regions while drawing); hidden
        # layers inside a role group stay hidden
        img = layer.composite(viewport=viewbox, layer_filter=lambda x: x is layer or bool(x.visible))
    except Exception as exc:  # psd-tools raises many kinds on odd layers
        raise ImageError(
            label, f"layer {layer.name!r} cannot be composited ({exc})", "rasterize it in Photoshop"
        ) from None
    w, h = viewbox[2] - viewbox[0], viewbox[3] - viewbox[1]
    if img is None:
        return np.zeros((h, w, 4), np.uint8)
    arr = np.asarray(img.convert("RGBA"), dtype=np.uint8)
    if arr.shape[:2] != (h, w):  # pragma: no cover - composite honours the viewport
        raise ImageError(
            label, f"layer {layer.name!r} composited to {arr.shape[1]}x{arr.shape[0]}", "rasterize it"
        )
    return arr


def read_layout_psd(path: str | os.PathLike[str]) -> LayoutLayers:
    """The lines, regions and BOOK layers of a layout PSD, each at the document size."""
    # 1. open with the same guards as every other image
    label = str(path)
    p = Path(path)
    if not p.is_file():
        raise ImageError(label, "file not found", "check the path")
    if p.stat().st_size > MAX_FILE_BYTES:
        raise ImageError(label, f"file is larger than {MAX_FILE_BYTES >> 20} MiB", "export a smaller file")
    from psd_tools import PSDImage

    try:
        psd = PSDImage.open(p)
    except Exception as exc:
        raise ImageError(
            label, f"not a PSD haikei can read ({type(exc).__name__}: {exc})", "save it again as PSD"
        ) from None
    check_pixels(label, psd.width, psd.height, "PSD")
    if psd.depth != 8:
        raise ImageError(label, f"{psd.depth}-bit PSD", "convert it to 8 bits per channel")

    # 2. find one layer per role
    found: dict[str, Any] = {}
    for layer in psd.descendants():
        role = layer_role(layer.name)
        if role is None:
            continue
        if role in found:
            raise ImageError(
                label,
                f"two layers mean {role}: {found[role].name!r} and {layer.name!r}",
                "rename or merge one of them",
            )
        found[role] = layer
    if "lines" not in found:
        names = ", ".join(LAYER_NAMES["lines"])
        present = ", ".join(repr(ly.name) for ly in psd.descendants()) or "none"
        raise ImageError(
            label, f"no line-drawing layer (layers: {present})", f"name the lines layer one of: {names}"
        )
    viewbox = psd.viewbox

    # 3. lines: flattened onto white, as grey
    rgba = _rgba(found["lines"], viewbox, label).astype(np.float32)
    a = rgba[..., 3:4] / 255.0
    rgb = rgba[..., :3] * a + 255.0 * (1.0 - a)
    lines = np.clip(rgb @ np.array([0.299, 0.587, 0.114], np.float32) + 0.5, 0, 255).astype(np.uint8)

    # 4. regions: opaque class colours, empty = unlabelled, half-transparent refused
    regions = None
    if "regions" in found:
        rgba_r = _rgba(found["regions"], viewbox, label)
        alpha = rgba_r[..., 3]
        partial = (alpha > 0) & (alpha < 255)
        if partial.any():
            ys, xs = np.nonzero(partial)
            raise ImageError(
                label,
                f"regions layer {found['regions'].name!r} has {int(partial.sum())} half-transparent pixels "
                f"in x={int(xs.min())}..{int(xs.max())}, y={int(ys.min())}..{int(ys.max())}",
                "paint region colours with antialiasing off at 100% opacity",
            )
        regions = rgba_r[..., :3].copy()
        regions[alpha == 0] = UNLABELLED_COLOUR

    # 5. BOOK: painted pixels, or dark pixels of an opaque mask layer
    book = None
    if "book" in found:
        rgba_b = _rgba(found["book"], viewbox, label)
        if (rgba_b[..., 3] == 255).all():
            grey = rgba_b[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
            book = grey < 128
        else:
            book = rgba_b[..., 3] >= 128
    return LayoutLayers(lines, regions, book)
