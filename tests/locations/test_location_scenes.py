"""The location layouts: one place from two camera positions, fully labelled, lined, deterministic."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from haikei.demo.location_scenes import LOCATION_PLACES, LOCATION_VIEWS, make_location_scene
from haikei.domain.vocabulary import UNLABELLED, Vocabulary
from haikei.errors import InputError

VOCAB = Vocabulary()
VIEWS = [(p, v) for p in LOCATION_PLACES for v in LOCATION_VIEWS[p]]


def _share_of_borders_on_ink(lines: np.ndarray, regions: np.ndarray, tol: int = 2) -> float:
    border = np.zeros(regions.shape, bool)
    border[:, 1:] |= regions[:, 1:] != regions[:, :-1]
    border[1:, :] |= regions[1:, :] != regions[:-1, :]
    near_ink = ndimage.binary_dilation(lines < 160, iterations=tol)
    return float(near_ink[border].mean())


def _classes(regions: np.ndarray) -> set[str]:
    return {VOCAB.name_of(int(c)) for c in np.unique(regions)}


def test_three_places_of_two_views_or_more() -> None:
    assert len(LOCATION_PLACES) >= 3
    for place in LOCATION_PLACES:
        assert 2 <= len(LOCATION_VIEWS[place]) <= 3


@pytest.mark.parametrize(("place", "view"), VIEWS)
def test_view_is_fully_labelled_and_lined(place: str, view: str) -> None:
    s = make_location_scene(place, view, 480, 270)
    assert s.lines.shape == s.regions.shape == s.book.shape == (270, 480)
    assert s.lines.dtype == np.uint8 and s.regions.dtype == np.uint8
    assert not (s.regions == UNLABELLED).any()
    ink = (s.lines < 128).mean()
    assert 0.005 < ink < 0.25, ink
    # every region border falls on a drawn line (within 2 px)
    assert _share_of_borders_on_ink(s.lines, s.regions) > 0.99
    # and there is drawing inside regions too (windows' mullions, strata, furrows, tile rows)
    border = np.zeros(s.regions.shape, bool)
    border[:, 1:] |= s.regions[:, 1:] != s.regions[:, :-1]
    border[1:, :] |= s.regions[1:, :] != s.regions[:-1, :]
    interior_ink = (s.lines < 128) & ~ndimage.binary_dilation(border, iterations=3)
    assert interior_ink.sum() > 100, interior_ink.sum()
    assert len(_classes(s.regions)) >= 8


def test_border_check_detects_missing_lines() -> None:
    s = make_location_scene("shore", "water", 480, 270)
    assert _share_of_borders_on_ink(np.full_like(s.lines, 255), s.regions) == 0.0


@pytest.mark.parametrize("place", LOCATION_PLACES)
def test_views_of_one_place_share_their_classes_but_not_their_drawing(place: str) -> None:
    scenes = [make_location_scene(place, v, 960, 540) for v in LOCATION_VIEWS[place]]
    first = scenes[0]
    for other in scenes[1:]:
        assert _classes(other.regions) == _classes(first.regions)
        # another camera position, not the same drawing again or mirrored: a street seen from its
        # other end is alike in its big areas (road, walls, sky), its drawing is another one
        ink = other.lines < 128
        for regions, lines in ((first.regions, first.lines), (first.regions[:, ::-1], first.lines[:, ::-1])):
            assert (other.regions != regions).mean() > 0.1
            near = ndimage.binary_dilation(lines < 128, iterations=2)
            assert (ink & ~near).sum() / ink.sum() > 0.3


def test_street_sides_swap_between_its_two_ends() -> None:
    """The poles stand on the east side: on the right from the south end, on the left from the north."""
    pole = VOCAB.id_of("pole")
    south = make_location_scene("street", "south_end", 960, 540)
    north = make_location_scene("street", "north_end", 960, 540)
    xs_south = np.nonzero(south.regions == pole)[1]
    xs_north = np.nonzero(north.regions == pole)[1]
    assert xs_south.size and xs_north.size
    assert np.median(xs_south) > 480 > np.median(xs_north)


def test_shore_from_the_hill_looks_down_and_from_the_water_looks_up() -> None:
    hill = make_location_scene("shore", "hill", 960, 540)
    water = make_location_scene("shore", "water", 960, 540)
    sky, sea = VOCAB.id_of("sky"), VOCAB.id_of("sea")
    # from the hill the horizon is high: little sky, much sea and beach below it
    assert (hill.regions == sky).mean() < (water.regions == sky).mean()
    # from the water the sea fills the bottom of the frame
    assert (water.regions[-60:] == sea).mean() > 0.9
    assert (hill.regions[-60:] == sea).mean() < 0.9


def test_deterministic_and_seeded() -> None:
    a = make_location_scene("farmhouse", "garden", 480, 270)
    b = make_location_scene("farmhouse", "garden", 480, 270)
    c = make_location_scene("farmhouse", "garden", 480, 270, seed=1)
    assert np.array_equal(a.lines, b.lines) and np.array_equal(a.regions, b.regions)
    assert not np.array_equal(a.lines, c.lines)


def test_same_drawing_at_two_scales() -> None:
    small = make_location_scene("street", "north_end", 480, 270)
    big = make_location_scene("street", "north_end", 960, 540)
    assert (big.regions[::2, ::2] == small.regions).mean() > 0.97


def test_unknown_place_view_or_size_is_one_clear_error() -> None:
    with pytest.raises(InputError, match="unknown location place 'moon'"):
        make_location_scene("moon", "south_end", 480, 270)
    with pytest.raises(InputError, match=r"has no view 'roof'.*south_end"):
        make_location_scene("street", "roof", 480, 270)
    with pytest.raises(InputError, match=r"outside 64\.\.16384"):
        make_location_scene("street", "south_end", 20, 270)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "usage: python -m tests.locations.bench_locations OUT_DIR"),
        (["OUT", "--size", "960by540"], "--size wants WIDTHxHEIGHT"),
        (["OUT", "--size"], "--size wants WIDTHxHEIGHT"),
        (["OUT", "--size", "20x20"], "--size 20x20 is outside 64..8192"),
        (["OUT", "--seeds", "three"], "--seeds wants a whole number"),
        (["OUT", "--seeds", "0"], "--seeds 0 is outside 1..20"),
    ],
)
def test_bench_cli_bad_input_is_one_line_and_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path
) -> None:
    from tests.locations.bench_locations import main

    argv = [str(tmp_path / a) if a == "OUT" else a for a in argv]
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "OUT").exists()
