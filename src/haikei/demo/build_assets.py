"""Rebuild the bundled demo art boards from their sources (a maintainer's tool, not run by haikei).

    python -m haikei.demo.build_assets [--altai PATH] [--safelanding DIR] [--out DIR]

Sources (see ASSETS.md at the repository root for licences):

- SafeLanding by Louis Durrant (CC-BY-SA-4.0): the 1920x1080 crop and its hand-made label map in
  ``/work/shared/assets/safelanding`` (labels: 0 sky, 1 mountain, 2 hill, 3 water, 4 grass, 5 tree,
  6 ground, 7 building, 8 bush).
- Altai by Alesya Khoteeva (CC-BY-SA-4.0), Debian package plasma-workspace-wallpapers,
  ``/usr/share/wallpapers/Altai/contents/images/5120x2880.png``. Its label map is made here: the
  polygons below were written by hand against a 1280x720 copy, then every pixel within a few pixels
  of a polygon border is re-classified by a colour + position nearest-neighbour classifier trained
  on the pixels just outside that band, so borders follow the painting's own facet edges.

Both boards are stored at 1280x720: the painting as a high-quality JPEG, the label map as a PNG in
the vocabulary's standard colours (``haikei.imaging.io.encode_region_map``).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import tomllib
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from haikei.domain.vocabulary import UNLABELLED, Vocabulary
from haikei.imaging.io import encode_region_map, load_rgb, save_png

__all__ = ["ALTAI_POLYGONS", "build_altai_labels", "main", "refine_borders"]

SIZE = (1280, 720)
ASSETS = Path(__file__).parent / "assets"

SAFELANDING_IDS = ("sky", "mountain", "hill", "water", "grass", "tree", "ground", "building", "bush")

# Painter's order: later polygons cover earlier ones. Coordinates in the 1280x720 board.
ALTAI_POLYGONS: tuple[tuple[str, tuple[tuple[float, float], ...]], ...] = (
    ("sky", ((0, 0), (1280, 0), (1280, 720), (0, 720))),
    # the pale distant range behind the two main mountains
    (
        "mountain_far",
        (
            (380, 200),
            (420, 190),
            (500, 183),
            (560, 200),
            (620, 225),
            (690, 238),
            (755, 177),
            (845, 203),
            (880, 215),
            (880, 430),
            (380, 430),
        ),
    ),
    # the big lit peak on the right with its dark right shoulder
    (
        "mountain",
        (
            (690, 420),
            (757, 360),
            (770, 312),
            (1032, 72),
            (1085, 62),
            (1167, 140),
            (1250, 215),
            (1280, 222),
            (1280, 487),
            (690, 487),
        ),
    ),
    # the dark foreground slope on the left and the blue mountain in the middle
    (
        "mountain",
        (
            (0, 20),
            (107, 120),
            (190, 197),
            (242, 187),
            (297, 176),
            (350, 165),
            (597, 392),
            (597, 487),
            (0, 487),
        ),
    ),
    ("snow", ((190, 197), (242, 187), (297, 176), (285, 224), (230, 236), (200, 208))),
    ("snow", ((1032, 72), (1085, 62), (1167, 140), (1112, 128), (1072, 112), (1046, 96))),
    # the green forest belt in front of the mountains
    (
        "forest",
        (
            (0, 300),
            (165, 295),
            (350, 350),
            (597, 392),
            (650, 382),
            (692, 420),
            (700, 487),
            (0, 487),
        ),
    ),
    ("forest", ((995, 445), (1040, 400), (1120, 388), (1280, 402), (1280, 487), (985, 487))),
    # the grey near shore (bank and a pale slab) at the foot of the slopes
    (
        "rock",
        (
            (0, 430),
            (75, 452),
            (287, 410),
            (327, 447),
            (490, 415),
            (640, 430),
            (690, 445),
            (700, 487),
            (0, 487),
        ),
    ),
    # the lake with the reflections
    ("water", ((0, 487), (1280, 487), (1280, 720), (0, 720))),
)


def _rasterise(
    polygons: tuple[tuple[str, tuple[tuple[float, float], ...]], ...], vocab: Vocabulary
) -> np.ndarray:
    img = Image.new("L", SIZE, UNLABELLED)
    draw = ImageDraw.Draw(img)
    for name, pts in polygons:
        draw.polygon([(x - 0.5, y - 0.5) for x, y in pts], fill=vocab.id_of(name))
    return np.asarray(img, dtype=np.uint8).copy()


def _lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB uint8 -> CIE Lab (D65), float32."""
    c = rgb.astype(np.float32) / 255.0
    c = np.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]], np.float32)
    xyz = c @ m.T / np.array([0.95047, 1.0, 1.08883], np.float32)
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1)


def refine_borders(image: np.ndarray, labels: np.ndarray, band: int = 6, k: int = 5) -> np.ndarray:
    """Re-classify pixels within ``band`` px of a label border by colour + position k-NN.

    Training pixels are those ``band+1 .. 3*band`` px from any border (confidently inside a
    polygon). Position is part of the feature so that only nearby classes compete.
    """
    from scipy import ndimage
    from scipy.spatial import cKDTree

    border = np.zeros(labels.shape, bool)
    border[:, 1:] |= labels[:, 1:] != labels[:, :-1]
    border[1:, :] |= labels[1:, :] != labels[:-1, :]
    dist = ndimage.distance_transform_edt(~border)
    near = dist <= band
    train = (dist > band + 1) & (dist <= 3 * band)
    lab = _lab(image)
    ys, xs = np.mgrid[0 : labels.shape[0], 0 : labels.shape[1]].astype(np.float32)
    pos_weight = 1.5  # Lab units per pixel: a colour must differ clearly to beat distance
    feats = np.concatenate([lab, (xs * pos_weight)[..., None], (ys * pos_weight)[..., None]], -1)
    tree = cKDTree(feats[train])
    train_labels = labels[train]
    _, idx = tree.query(feats[near], k=k)
    votes = train_labels[idx]
    out = labels.copy()
    # majority vote; ties go to the nearest neighbour
    best = votes[:, 0].copy()
    best_count = (votes == best[:, None]).sum(1)
    for j in range(1, k):
        cand = votes[:, j]
        count = (votes == cand[:, None]).sum(1)
        better = count > best_count
        best[better] = cand[better]
        best_count[better] = count[better]
    out[near] = best
    return out


def build_altai_labels(image: np.ndarray, vocab: Vocabulary) -> np.ndarray:
    labels = _rasterise(ALTAI_POLYGONS, vocab)
    refined = refine_borders(image, labels)
    # the lake's shoreline is a straight painted edge: keep it exact
    water = vocab.id_of("water")
    refined[487:, :] = water
    refined[:487][refined[:487] == water] = labels[:487][refined[:487] == water]
    return refined


def _downscale_labels(labels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Area-weighted majority: resize one-hot planes with a box filter and take the arg-max."""
    classes = np.unique(labels)
    planes = []
    for c in classes:
        plane = Image.fromarray(((labels == c) * 255).astype(np.uint8)).resize(size, Image.Resampling.BOX)
        planes.append(np.asarray(plane, dtype=np.uint8))
    return classes[np.argmax(np.stack(planes), axis=0)].astype(np.uint8)


def _jpeg(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=92, subsampling=0, optimize=True)
    return buf.getvalue()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_board(
    out: Path, name: str, rgb: np.ndarray, labels: np.ndarray, vocab: Vocabulary
) -> dict[str, str]:
    jpg = _jpeg(rgb)
    (out / f"{name}.jpg").write_bytes(jpg)
    save_png(out / f"{name}_labels.png", encode_region_map(labels, vocab))
    (out / f"{name}_labels.png").chmod(0o644)
    return {
        "image": f"{name}.jpg",
        "labels": f"{name}_labels.png",
        "sha256": _sha(jpg),
        "labels_sha256": _sha((out / f"{name}_labels.png").read_bytes()),
    }


def _update_manifest(out: Path, files: dict[str, dict[str, str]]) -> None:
    """Rewrite the file names and hashes in boards.toml, keeping its hand-written metadata."""
    import tomli_w

    path = out / "boards.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    for board in data["board"]:
        if board["name"] in files:
            board.update(files[board["name"]])
    path.write_text(
        "# Bundled demo art boards: hand-written metadata; image names and hashes are written by\n"
        "# python -m haikei.demo.build_assets. Licence texts: ASSETS.md at the repository root.\n"
        + tomli_w.dumps(data),
        encoding="utf-8",
    )


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--altai", default="/usr/share/wallpapers/Altai/contents/images/5120x2880.png")
    p.add_argument("--safelanding", default="/work/shared/assets/safelanding")
    p.add_argument("--out", default=str(ASSETS))
    args = p.parse_args(argv)
    vocab = Vocabulary()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, dict[str, str]] = {}

    sl_dir = Path(args.safelanding)
    sl_rgb = np.asarray(
        Image.fromarray(load_rgb(sl_dir / "board.png")).resize(SIZE, Image.Resampling.LANCZOS)
    )
    raw = np.asarray(Image.open(sl_dir / "board_labels.png"), dtype=np.uint8)
    table = np.full(256, UNLABELLED, np.uint8)
    for i, n in enumerate(SAFELANDING_IDS):
        table[i] = vocab.id_of(n)
    sl_labels = _downscale_labels(table[raw], SIZE)
    files["safelanding"] = _write_board(out, "safelanding", sl_rgb, sl_labels, vocab)

    altai = Image.fromarray(load_rgb(args.altai)).resize(SIZE, Image.Resampling.LANCZOS)
    al_rgb = np.asarray(altai, dtype=np.uint8)
    files["altai"] = _write_board(out, "altai", al_rgb, build_altai_labels(al_rgb, vocab), vocab)
    _update_manifest(out, files)


if __name__ == "__main__":
    main()
