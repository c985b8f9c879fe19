"""Safe image reading and atomic writing.

Every reader refuses rather than repairs: a file that is too large, truncated, not an image,
or of an unusual kind gives one :class:`ImageError` naming the file and the fix. Modes are
normalised the documented way (palette / 16-bit / CMYK / LA -> RGB; alpha is composited over
white for paintings and refused for region maps), and EXIF orientation is applied.
"""

from __future__ import annotations

import io
import os
import re
import secrets
import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, PngImagePlugin, UnidentifiedImageError

from haikei.domain.limits import DEFAULT_LIMITS
from haikei.domain.vocabulary import UNLABELLED, UNLABELLED_COLOUR, Vocabulary
from haikei.errors import ImageError, InputError, RegionMapError

__all__ = [
    "MAX_PIXELS",
    "atomic_write_bytes",
    "check_pixels",
    "decode_region_map",
    "encode_region_map",
    "load_gray",
    "load_image",
    "load_region_map",
    "load_rgb",
    "max_pixels",
    "png_bytes",
    "read_png_text",
    "resize",
    "save_png",
    "set_max_pixels",
]

MAX_PIXELS = DEFAULT_LIMITS.max_pixels  # the default; the limit in force is max_pixels()
MAX_FILE_BYTES = 512 * 1024 * 1024

# One pixel limit, stated once (haikei.domain.limits). Pillow's own decompression-bomb guard, left at
# its default, refused at 89 Mpx (its warning turned into an error) whatever haikei's limit said. It is
# kept, for every Image.open in the process (an engine decoding a server's answer too), but tied to
# haikei's limit: Pillow warns above MAX_IMAGE_PIXELS, set to the limit, and that warning is an error
# (Pillow itself raises above twice the limit). Both are checked from the header, before decoding;
# _open turns them into haikei's one line naming the file and the setting.
warnings.filterwarnings("error", category=Image.DecompressionBombWarning)


def _tie_pillow_guard(limit: int) -> None:
    Image.MAX_IMAGE_PIXELS = limit


_max_pixels = DEFAULT_LIMITS.max_pixels
_tie_pillow_guard(_max_pixels)


def max_pixels() -> int:
    """The pixel limit in force: [limits] max_pixels of the production opened last, or the default."""
    return _max_pixels


def set_max_pixels(limit: int) -> None:
    """Put a production's pixel limit in force for this process (haikei.app.build_context does)."""
    global _max_pixels
    if limit < 1:
        raise ValueError(f"pixel limit {limit} must be positive")
    _max_pixels = int(limit)
    _tie_pillow_guard(_max_pixels)


def check_pixels(label: str, width: int, height: int, what: str = "image") -> None:
    """Refuse a size over the pixel limit in force, naming the file and the setting that raises it."""
    limit = _max_pixels
    if width * height > limit:
        raise ImageError(
            label,
            f"{what} {width}x{height} ({width * height / 1_000_000:.1f} Mpx) is over the "
            f"{limit / 1_000_000:g} Mpx limit",
            "scale it down (or raise [limits] max_pixels in haikei.toml)",
        )


def _open(source: str | os.PathLike[str] | bytes, name: str | None = None) -> tuple[Image.Image, str]:
    label = name or (str(source) if not isinstance(source, bytes) else "<upload>")
    if not isinstance(source, bytes):
        p = Path(source)
        if not p.is_file():
            raise ImageError(label, "file not found", "check the path")
        if p.stat().st_size > MAX_FILE_BYTES:
            raise ImageError(
                label, f"file is larger than {MAX_FILE_BYTES >> 20} MiB", "export a smaller file"
            )
        data = p.read_bytes()
    else:
        data = source
    if not data:
        raise ImageError(label, "file is empty", "export it again")
    try:
        img = Image.open(io.BytesIO(data))  # reads the header only
        w, h = img.size
        check_pixels(label, w, h)
        img.load()
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:  # Pillow, from the header
        m = re.search(r"\((\d+) pixels\)", str(exc))
        size = f"image of {int(m[1]) / 1_000_000:.1f} Mpx" if m else "image"
        raise ImageError(
            label,
            f"{size} is over the {_max_pixels / 1_000_000:g} Mpx limit",
            "scale it down (or raise [limits] max_pixels in haikei.toml)",
        ) from None
    except UnidentifiedImageError:
        raise ImageError(label, "not an image haikei can read", "save it as PNG, JPEG, TIFF or PSD") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(label, f"corrupt or truncated image ({exc})", "export it again") from None
    return img, label


def load_image(source: str | os.PathLike[str] | bytes, name: str | None = None) -> Image.Image:
    """Open and fully decode an image with size guards and EXIF orientation applied."""
    img, label = _open(source, name)
    try:
        img = ImageOps.exif_transpose(img)
    except Exception as exc:  # pragma: no cover - odd EXIF blocks
        raise ImageError(label, f"unreadable EXIF orientation ({exc})", "strip the metadata") from None
    return img


def _to_rgb(img: Image.Image) -> Image.Image:
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img, dtype=np.float64)
        peak = 65535.0 if arr.max() > 255 else 255.0
        img = Image.fromarray(np.clip(arr / peak * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
        mode = "L"
    if mode == "F":
        arr = np.asarray(img, dtype=np.float64)
        img = Image.fromarray(np.clip(arr * (255.0 if arr.max() <= 1.0 else 1.0), 0, 255).astype(np.uint8))
        mode = "L"
    if mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
        mode = img.mode
    if mode in ("RGBA", "LA", "PA"):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    if mode == "RGB;16" or (mode.startswith("RGB") and mode != "RGB"):
        return img.convert("RGB")
    return img.convert("RGB")


def load_rgb(source: str | os.PathLike[str] | bytes, name: str | None = None) -> np.ndarray:
    """An image as ``uint8`` HxWx3 RGB (alpha composited over white)."""
    return np.asarray(_to_rgb(load_image(source, name)), dtype=np.uint8).copy()


def load_gray(source: str | os.PathLike[str] | bytes, name: str | None = None) -> np.ndarray:
    """An image as ``uint8`` HxW luminance (alpha composited over white)."""
    rgb = _to_rgb(load_image(source, name))
    return np.asarray(rgb.convert("L"), dtype=np.uint8).copy()


_UNKNOWN = 254  # never a class id (classes are numbered from 0, fewer than 254; 255 is unlabelled)
_LUTS: dict[tuple[tuple[int, int], ...], np.ndarray] = {}


def _colour_lut(vocabulary: Vocabulary) -> np.ndarray:
    """Packed 24-bit colour -> class id (UNLABELLED for its colour, _UNKNOWN for any other colour)."""
    pairs = [(((c.colour[0] << 16) | (c.colour[1] << 8) | c.colour[2]), c.id) for c in vocabulary.classes]
    ur, ug, ub = UNLABELLED_COLOUR
    pairs.append(((ur << 16) | (ug << 8) | ub, UNLABELLED))
    key = tuple(pairs)
    lut = _LUTS.get(key)
    if lut is None:
        if any(cid == _UNKNOWN for _, cid in pairs):
            raise ValueError(f"class id {_UNKNOWN} is reserved")
        lut = np.full(1 << 24, _UNKNOWN, np.uint8)
        for v, cid in pairs:
            lut[v] = cid
        if len(_LUTS) >= 4:  # a process uses one vocabulary; tests a few
            _LUTS.pop(next(iter(_LUTS)))
        _LUTS[key] = lut
    return lut


def decode_region_map(rgb: np.ndarray, vocabulary: Vocabulary, label: str = "<region map>") -> np.ndarray:
    """Map an RGB region map to class ids; refuse colours outside the vocabulary.

    The error names the first unknown colour, its pixel count and its bounding box.
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise RegionMapError(label, "region map must be an RGB image", "save it as RGB PNG")
    packed = (rgb[..., 0].astype(np.uint32) << 16) | (rgb[..., 1].astype(np.uint32) << 8) | rgb[..., 2]
    # the usual case, every colour known: one lookup per pixel in a 16 MB table (a 1080p map in
    # ~20 ms; the sort below took ~0.2 s), kept per vocabulary; an unknown colour takes the slow
    # path, which finds the worst one for the error
    lut = _colour_lut(vocabulary)
    fast = lut[packed]
    if not (fast == _UNKNOWN).any():
        return fast
    table = vocabulary.colour_table()
    known: dict[int, int] = {}
    for c in vocabulary.classes:
        r, g, b = c.colour
        known[(r << 16) | (g << 8) | b] = c.id
    ur, ug, ub = UNLABELLED_COLOUR
    known[(ur << 16) | (ug << 8) | ub] = UNLABELLED
    del table
    uniq, inverse = np.unique(packed.ravel(), return_inverse=True)
    ids = np.empty(len(uniq), dtype=np.uint8)
    unknown: list[tuple[int, int]] = []
    for i, v in enumerate(uniq.tolist()):
        cid = known.get(v)
        if cid is None:
            unknown.append((i, v))
            ids[i] = UNLABELLED
        else:
            ids[i] = cid
    if unknown:
        counts = np.bincount(inverse, minlength=len(uniq))
        worst_i, worst_v = max(unknown, key=lambda t: counts[t[0]])
        ys, xs = np.nonzero(packed == worst_v)
        colour = ((worst_v >> 16) & 255, (worst_v >> 8) & 255, worst_v & 255)
        more = f" (and {len(unknown) - 1} other unknown colours)" if len(unknown) > 1 else ""
        raise RegionMapError(
            label,
            f"colour {colour} is not a region class: {int(counts[worst_i])} pixels in "
            f"x={int(xs.min())}..{int(xs.max())}, y={int(ys.min())}..{int(ys.max())}{more}",
            "repaint it with a colour from 'haikei classes' (antialiasing off) or add the class in haikei.toml",
        )
    return ids[inverse].reshape(packed.shape)


def encode_region_map(ids: np.ndarray, vocabulary: Vocabulary) -> np.ndarray:
    """Class ids -> RGB with the vocabulary's standard colours (UNLABELLED -> black)."""
    table = np.array(vocabulary.colour_table(), dtype=np.uint8)
    return table[ids]


def load_region_map(
    source: str | os.PathLike[str] | bytes, vocabulary: Vocabulary, name: str | None = None
) -> np.ndarray:
    """Read a region / label map file as class ids. Alpha or palette tricks are refused."""
    img = load_image(source, name)
    label = name or str(source if not isinstance(source, bytes) else "<upload>")
    if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:
        alpha = np.asarray(img.convert("RGBA"))[..., 3]
        if (alpha < 255).any():
            raise RegionMapError(label, "region map has transparent pixels", "flatten it onto a class colour")
    if img.mode not in ("RGB", "RGBA", "P", "L"):
        raise RegionMapError(
            label, f"region map mode {img.mode} is not supported", "save it as 8-bit RGB PNG"
        )
    rgb = np.asarray(img.convert("RGB"), dtype=np.uint8)
    return decode_region_map(rgb, vocabulary, label)


def _create_temp(folder: Path, prefix: str, mode: int) -> tuple[int, Path]:
    """A new, empty file in ``folder`` created with ``mode`` under the process umask, as open() does.

    (Reading the umask would mean setting it for a moment, which races with other threads.)
    """
    for _ in range(16):
        tmp = folder / f"{prefix}{secrets.token_hex(8)}.tmp"
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"{folder}: could not create a temporary file beside {prefix!r}")


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, mode: int = 0o666) -> None:
    """Write a file so that readers see the old or the new content, never half of it.

    ``mode`` is applied with the process umask like open() does (0o600 for private keys).
    """
    p = Path(path)
    if p.is_dir():
        raise InputError(f"{p}: is a folder; give a file name (nothing was written)")
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = _create_temp(p.parent, f".{p.name}.", mode)
    except OSError as exc:  # name the file the user asked for, not our temporary one
        raise OSError(exc.errno, exc.strerror, str(p)) from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, p)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def resize(arr: np.ndarray, width: int, height: int, *, labels: bool) -> np.ndarray:
    """``arr`` (uint8 HxW or HxWx3) resampled to ``width`` x ``height``.

    ``labels=True`` for region / label maps (nearest neighbour: class ids and class colours never
    blend); otherwise Lanczos, for line drawings and paintings.
    """
    mode = Image.Resampling.NEAREST if labels else Image.Resampling.LANCZOS
    return np.asarray(Image.fromarray(arr).resize((width, height), mode), dtype=np.uint8)


def png_bytes(arr: np.ndarray, text: Mapping[str, str] | None = None, compress_level: int = 6) -> bytes:
    """Encode a uint8 array (HxW, HxWx3 or HxWx4) as PNG with optional iTXt chunks."""
    if arr.dtype != np.uint8:
        raise ValueError(f"png_bytes needs uint8, got {arr.dtype}")
    img = Image.fromarray(arr)
    info = None
    if text:
        info = PngImagePlugin.PngInfo()
        for k, v in text.items():
            info.add_itxt(k, v)
    buf = io.BytesIO()
    img.save(buf, format="PNG", pnginfo=info, compress_level=compress_level)
    return buf.getvalue()


def save_png(path: str | os.PathLike[str], arr: np.ndarray, text: Mapping[str, str] | None = None) -> None:
    """Atomically write ``arr`` as a PNG (with iTXt metadata when given)."""
    atomic_write_bytes(path, png_bytes(arr, text))


def read_png_text(source: str | os.PathLike[str] | bytes) -> dict[str, str]:
    """The text chunks (tEXt/iTXt/zTXt) of a PNG."""
    img, _label = _open(source)
    text = getattr(img, "text", None) or {k: v for k, v in img.info.items() if isinstance(v, str)}
    return {str(k): str(v) for k, v in text.items()}
