"""Layered layout PSDs written in the test with psd-tools, read back by read_layout_psd."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from psd_tools import PSDImage
from psd_tools.api.layers import PixelLayer

from haikei.domain.vocabulary import Vocabulary
from haikei.errors import ImageError
from haikei.imaging.io import decode_region_map
from haikei.imaging.psd_layout import layer_role, read_layout_psd

W, H = 64, 48


def _psd(tmp_path: Path, layers: list[tuple[str, Image.Image, int, int]], name: str = "c012.psd") -> Path:
    psd = PSDImage.new("RGB", (W, H), color=(255, 255, 255))
    for layer_name, img, left, top in layers:
        layer = PixelLayer.frompil(img, psd, "layer", top=top, left=left)
        psd.append(layer)
        layer.name = layer_name  # set afterwards: stored as a Unicode name, so 線画 works
    path = tmp_path / name
    psd.save(path)
    return path


def _lines_layer() -> Image.Image:
    img = Image.new("RGBA", (W, H), (0, 0, 0, 0))
    img.paste((0, 0, 0, 255), (0, 20, W, 22))  # a horizon
    return img


def _regions_layer(v: Vocabulary) -> Image.Image:
    img = Image.new("RGBA", (W, H), (0, 0, 0, 0))
    img.paste((*v.get("sky").colour, 255), (0, 0, W, 20))
    img.paste((*v.get("grass").colour, 255), (0, 22, W // 2, H))  # right half of the ground unlabelled
    return img


@pytest.mark.parametrize(
    "names", [("lines", "regions", "book"), ("線画", "領域", "ブック"), ("LO", "Regions", "BOOK")]
)
def test_reads_all_three_layers(tmp_path: Path, names: tuple[str, str, str]) -> None:
    v = Vocabulary()
    book = Image.new("RGBA", (10, 8), (30, 30, 30, 255))  # a small BOOK shape placed at (50, 40)
    path = _psd(
        tmp_path,
        [(names[0], _lines_layer(), 0, 0), (names[1], _regions_layer(v), 0, 0), (names[2], book, 50, 40)],
    )
    layers = read_layout_psd(path)
    assert layers.lines.shape == (H, W) and layers.lines.dtype == np.uint8
    assert (
        (layers.lines[20:22] < 10).all()
        and (layers.lines[:20] == 255).all()
        and (layers.lines[22:] == 255).all()
    )
    assert layers.regions_rgb is not None and layers.regions_rgb.shape == (H, W, 3)
    ids = decode_region_map(layers.regions_rgb, v)
    assert ids[5, 5] == v.id_of("sky") and ids[30, 5] == v.id_of("grass") and ids[30, 50] == 255
    assert layers.book is not None and layers.book.dtype == bool
    assert layers.book[40:48, 50:60].all() and layers.book.sum() == 80


def test_lines_only_and_layer_offset(tmp_path: Path) -> None:
    small = Image.new("RGBA", (8, 8), (0, 0, 0, 255))
    layers = read_layout_psd(_psd(tmp_path, [("lines", small, 10, 5)]))
    assert layers.regions_rgb is None and layers.book is None
    ink = layers.lines < 128
    assert ink[5:13, 10:18].all() and ink.sum() == 64  # placed at its offset in the document


def test_missing_lines_layer_names_file_and_expected_names(tmp_path: Path) -> None:
    path = _psd(tmp_path, [("Layer 1", _lines_layer(), 0, 0)])
    with pytest.raises(
        ImageError,
        match=r"c012\.psd: no line-drawing layer \(layers: 'Layer 1'\); name the lines layer one of: lines, line, lo, layout, 線画",
    ):
        read_layout_psd(path)


def test_antialiased_regions_are_refused(tmp_path: Path) -> None:
    regions = Image.new("RGBA", (W, H), (135, 206, 235, 255))
    regions.paste((135, 206, 235, 128), (10, 10, 12, 12))
    with pytest.raises(ImageError, match=r"4 half-transparent pixels in x=10\.\.11, y=10\.\.11"):
        read_layout_psd(_psd(tmp_path, [("lines", _lines_layer(), 0, 0), ("regions", regions, 0, 0)]))


def test_two_layers_for_one_role_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="two layers mean lines"):
        read_layout_psd(_psd(tmp_path, [("lines", _lines_layer(), 0, 0), ("線画", _lines_layer(), 0, 0)]))


def test_opaque_book_layer_is_a_mask(tmp_path: Path) -> None:
    mask = Image.new("RGBA", (W, H), (255, 255, 255, 255))
    mask.paste((0, 0, 0, 255), (0, 30, 20, H))
    layers = read_layout_psd(_psd(tmp_path, [("lines", _lines_layer(), 0, 0), ("book", mask, 0, 0)]))
    assert layers.book is not None and layers.book[30:, :20].all() and layers.book.sum() == 20 * (H - 30)


def test_not_a_psd(tmp_path: Path) -> None:
    bad = tmp_path / "c012.psd"
    bad.write_bytes(b"8BPS not really")
    with pytest.raises(ImageError, match=r"c012\.psd: not a PSD"):
        read_layout_psd(bad)
    with pytest.raises(ImageError, match="file not found"):
        read_layout_psd(tmp_path / "none.psd")


def test_layer_role_names() -> None:
    assert (
        layer_role(" Lines ") == "lines"
        and layer_role("ＢＯＯＫ") == "book"
        and layer_role("色分け") == "regions"
    )
    assert layer_role("background") is None


def test_hidden_role_layers_are_read_but_hidden_sketches_inside_stay_hidden(tmp_path: Path) -> None:
    psd = PSDImage.new("RGB", (W, H), color=(255, 255, 255))
    group = psd.create_group(name="group")
    group.name = "線画"
    group.visible = False  # the artist hid the whole lines group
    group.append(PixelLayer.frompil(_lines_layer(), group, "ink"))
    sketch = Image.new("RGBA", (W, H), (0, 0, 0, 0))
    sketch.paste((0, 0, 0, 255), (0, 30, W, 32))
    hidden = PixelLayer.frompil(sketch, group, "rough")
    group.append(hidden)
    hidden.visible = False  # a rough sketch inside the group, switched off
    path = tmp_path / "c012.psd"
    psd.save(path)
    ink_rows = np.nonzero((read_layout_psd(path).lines < 128).any(axis=1))[0]
    assert ink_rows.tolist() == [20, 21]
