from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from psd_tools import PSDImage

from haikei.errors import InputError
from haikei.imaging.psd import (
    PsdLayer,
    book_layer,
    delivery_layers,
    lines_layer,
    opaque_layer,
    paintover_layer,
    write_psd,
)

H, W = 40, 64


def scene() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(3)
    render = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    after = render.copy()
    after[5:12, 20:40] = (250, 200, 150)  # the paint-over
    lines = np.full((H, W), 255, np.uint8)
    lines[20, :] = 0
    lines[:, 10] = 128
    regions = np.zeros((H, W, 3), np.uint8)
    regions[:20] = (0, 100, 255)
    regions[20:] = (0, 200, 0)
    book = np.zeros((H, W), bool)
    book[30:, :16] = True
    return {"render": render, "after": after, "lines": lines, "regions": regions, "book": book}


def write(path: Path, show_lines: bool = False) -> dict[str, np.ndarray]:
    s = scene()
    po, share = paintover_layer(s["render"], s["after"])
    assert share == pytest.approx(7 * 20 / (H * W))
    layers = delivery_layers(
        render=s["render"],
        engine="exemplar 0.3",
        lines=s["lines"],
        regions_rgb=s["regions"],
        paintovers=[("佐藤 花子", po)],
        book=book_layer(s["after"], s["book"]),
        show_lines=show_lines,
    )
    write_psd(path, W, H, layers)
    return s


def test_delivery_psd_reads_back_layer_by_layer(tmp_path: Path) -> None:
    s = write(tmp_path / "c012.psd")
    psd = PSDImage.open(tmp_path / "c012.psd")
    assert psd.size == (W, H)
    layers = list(psd)  # bottom first
    assert [layer.name for layer in layers] == [
        "regions",
        "render exemplar 0.3",
        "paint-over 佐藤 花子",
        "layout lines",
        "BOOK",
    ]
    assert [layer.visible for layer in layers] == [False, True, True, False, True]
    assert layers[3].blend_mode.name == "MULTIPLY"
    # cropped to their visible pixels
    assert layers[1].bbox == (0, 0, W, H)
    assert layers[2].bbox == (20, 5, 40, 12)
    assert layers[4].bbox == (0, 30, 16, H)
    # pixels
    regions = np.asarray(layers[0].topil().convert("RGB"))
    assert np.array_equal(regions, s["regions"])
    render = np.asarray(layers[1].topil().convert("RGB"))
    assert np.array_equal(render, s["render"])
    po = np.asarray(layers[2].topil())  # RGBA of the bbox
    assert po.shape == (7, 20, 4) and (po[..., 3] == 255).all() and (po[..., :3] == (250, 200, 150)).all()
    lines = np.asarray(layers[3].topil())
    assert lines.shape == (H, W, 4) and (lines[..., :3] == 0).all()
    assert np.array_equal(lines[..., 3], 255 - s["lines"])
    book = np.asarray(layers[4].topil())
    assert np.array_equal(book[..., :3], s["after"][30:, :16]) and (book[..., 3] == 255).all()


def test_flattened_image_is_the_delivered_painting(tmp_path: Path) -> None:
    s = write(tmp_path / "c012.psd")
    flat = np.asarray(Image.open(tmp_path / "c012.psd").convert("RGB"))
    assert np.array_equal(flat, s["after"])


def test_visible_lines_multiply_the_painting(tmp_path: Path) -> None:
    s = write(tmp_path / "lines.psd", show_lines=True)
    flat = np.asarray(Image.open(tmp_path / "lines.psd").convert("RGB")).astype(int)
    expected = np.round(s["after"].astype(float) * (s["lines"][..., None] / 255.0))
    expected[s["book"]] = s["after"][s["book"]]  # BOOK sits over the lines
    assert np.abs(flat - expected).max() <= 1


def test_bad_layers_are_refused_and_the_old_file_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "keep.psd"
    write(path)
    before = path.read_bytes()
    good = opaque_layer(np.zeros((H, W, 3), np.uint8))
    cases = [
        ([PsdLayer("x", good[:10])], "like the canvas"),
        ([PsdLayer("x", good.astype(np.float32))], "uint8"),
        ([PsdLayer("", good)], "name"),
        ([PsdLayer("x", good, opacity=2.0)], "opacity"),
        ([], "at least one layer"),
    ]
    for layers, message in cases:
        with pytest.raises(InputError, match=message):
            write_psd(path, W, H, layers)
    with pytest.raises(InputError, match="outside"):
        write_psd(path, 40000, H, [PsdLayer("x", good)])
    assert path.read_bytes() == before
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_layer_helpers_refuse_mismatched_inputs() -> None:
    s = scene()
    with pytest.raises(InputError, match="layout lines"):
        delivery_layers(render=s["render"], engine="e", lines=s["lines"][:10])
    with pytest.raises(InputError, match="engine"):
        delivery_layers(render=s["render"], engine=" ", lines=s["lines"])
    with pytest.raises(InputError, match="artist"):
        delivery_layers(
            render=s["render"], engine="e", lines=s["lines"], paintovers=[("", opaque_layer(s["render"]))]
        )
    with pytest.raises(InputError, match="paint-over"):
        paintover_layer(s["render"], s["after"][:5])
    with pytest.raises(InputError, match="BOOK mask"):
        book_layer(s["render"], s["book"][:5])
    with pytest.raises(InputError):
        lines_layer(s["render"])


@pytest.mark.slow
@pytest.mark.parametrize("size", [(1920, 1080), (3840, 1080)])
def test_full_size_and_pan_psd(tmp_path: Path, size: tuple[int, int]) -> None:
    w, h = size
    y, x = np.mgrid[0:h, 0:w]
    render = np.dstack([(x * 255 // w), (y * 255 // h), np.full((h, w), 120)]).astype(np.uint8)
    lines = np.where((x % 200 == 0) | (y % 150 == 0), 0, 255).astype(np.uint8)
    write_psd(tmp_path / "big.psd", w, h, delivery_layers(render=render, engine="sd 0.2", lines=lines))
    psd = PSDImage.open(tmp_path / "big.psd")
    assert psd.size == (w, h) and [layer.name for layer in psd] == ["render sd 0.2", "layout lines"]
    assert np.array_equal(np.asarray(Image.open(tmp_path / "big.psd").convert("RGB")), render)
