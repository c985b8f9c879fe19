"""The demo layouts: fully labelled, lines on every region border, deterministic, any size."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from scipy import ndimage

from haikei.demo.scenes import SCENES, demo_cuts, make_scene, write_demo_layouts
from haikei.domain.vocabulary import UNLABELLED, Vocabulary
from haikei.errors import InputError
from haikei.imaging.io import load_gray, load_region_map

VOCAB = Vocabulary()
# classes the bundled boards show, or reach through one fallback step
BOARD_CLASSES = {
    "sky",
    "mountain",
    "hill",
    "water",
    "grass",
    "tree",
    "ground",
    "building",
    "bush",
    "mountain_far",
    "snow",
    "forest",
    "rock",
}


def _border_pixels(regions: np.ndarray) -> np.ndarray:
    b = np.zeros(regions.shape, bool)
    b[:, 1:] |= regions[:, 1:] != regions[:, :-1]
    b[1:, :] |= regions[1:, :] != regions[:-1, :]
    return b


def _share_of_borders_on_ink(scene, tol: int = 2) -> float:
    ink = scene.lines < 160
    near_ink = ndimage.binary_dilation(ink, iterations=tol)
    border = _border_pixels(scene.regions)
    return float(near_ink[border].mean())


@pytest.mark.parametrize("name", SCENES)
@pytest.mark.parametrize("size", [(480, 270), (960, 540)])
def test_scene_is_fully_labelled_and_lined(name: str, size: tuple[int, int]) -> None:
    w, h = size
    s = make_scene(name, w, h)
    assert s.lines.shape == s.regions.shape == s.book.shape == (h, w)
    assert s.lines.dtype == np.uint8 and s.regions.dtype == np.uint8 and s.book.dtype == np.bool_
    assert not (s.regions == UNLABELLED).any()
    assert int(s.regions.max()) < len(VOCAB)
    # a real line drawing: mostly paper, some ink, anti-aliased grey edge pixels
    ink = (s.lines < 128).mean()
    assert 0.005 < ink < 0.25, ink
    assert ((s.lines > 0) & (s.lines < 255)).any()
    # every region border falls on a drawn line (within 2 px)
    assert _share_of_borders_on_ink(s) > 0.99
    # several classes, all paintable from the bundled boards through their fallback chains
    names = {VOCAB.name_of(int(c)) for c in np.unique(s.regions)}
    assert len(names) >= 5
    for n in names:
        assert VOCAB.resolve(n, BOARD_CLASSES) is not None, n


def test_border_check_detects_missing_lines() -> None:
    s = make_scene("coast", 480, 270)
    blank = type(s)(s.name, s.title, s.title_ja, np.full_like(s.lines, 255), s.regions, s.book)
    assert _share_of_borders_on_ink(blank) == 0.0


def test_scenes_are_deterministic_and_seeded() -> None:
    a = make_scene("rice_fields", 480, 270, seed=3)
    b = make_scene("rice_fields", 480, 270, seed=3)
    c = make_scene("rice_fields", 480, 270, seed=4)
    assert np.array_equal(a.lines, b.lines) and np.array_equal(a.regions, b.regions)
    assert not np.array_equal(a.regions, c.regions)


def test_same_drawing_at_two_scales() -> None:
    small = make_scene("lake", 480, 270)
    big = make_scene("lake", 960, 540)
    down = big.regions[::2, ::2]
    assert (down == small.regions).mean() > 0.97


def test_pan_shows_more_of_the_place() -> None:
    pan = make_scene("lake", 1280, 360)
    frame = make_scene("lake", 640, 360)
    assert pan.regions.shape == (360, 1280)
    assert not (pan.regions == UNLABELLED).any()
    assert _share_of_borders_on_ink(pan) > 0.99
    # the PAN is not the frame stretched: its right half is a different drawing
    assert (pan.regions[:, 640:] != frame.regions).mean() > 0.05


def test_book_where_the_scene_has_foreground() -> None:
    forest = make_scene("forest_path", 480, 270)
    assert forest.book.mean() > 0.03
    assert set(np.unique(forest.regions[forest.book]).tolist()) == {VOCAB.id_of("bush")}
    assert not make_scene("coast", 480, 270).book.any()


def test_unknown_scene_and_bad_size_refused() -> None:
    with pytest.raises(InputError, match="unknown demo scene"):
        make_scene("moon_base", 480, 270)
    with pytest.raises(InputError, match="outside"):
        make_scene("lake", 10, 270)


def test_demo_cuts_describe_the_production() -> None:
    cuts = demo_cuts()
    assert len(cuts) >= 6
    assert [c.cut for c in cuts] == sorted(c.cut for c in cuts)
    assert all(c.scene in SCENES for c in cuts)
    pans = [c for c in cuts if c.pan_length]
    assert len(pans) == 1 and pans[0].pan_length == 2 * pans[0].width and pans[0].pan_direction
    shared = {c.bg for c in cuts if sum(d.bg == c.bg for d in cuts) == 2}
    assert shared == {"c005-c006"}


def test_write_demo_layouts(tmp_path) -> None:
    files = write_demo_layouts(tmp_path, 384, 216)
    names = {p.name for p in files}
    assert {"c001_lo.png", "c001_regions.png", "c005-c006_lo.png", "c007_book.png", "cutsheet.csv"} <= names
    assert "c005_lo.png" not in names and "c006_lo.png" not in names
    pan_lines = load_gray(tmp_path / "c003_lo.png")
    assert pan_lines.shape == (216, 768)
    regions = load_region_map(tmp_path / "c003_regions.png", VOCAB)
    assert regions.shape == (216, 768) and not (regions == UNLABELLED).any()
    assert np.array_equal(regions, make_scene("lake", 768, 216).regions)
    rows = list(csv.DictReader((tmp_path / "cutsheet.csv").open(encoding="utf-8")))
    assert [r["cut"] for r in rows] == [c.cut for c in demo_cuts()]
    c003 = next(r for r in rows if r["cut"] == "c003")
    assert (c003["width"], c003["height"], c003["pan_length"]) == ("384", "216", "768")
    assert c003["pan_direction"] == "right"
