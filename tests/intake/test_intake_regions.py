"""Closed areas of line drawings, paint-bucket labelling and the CLASS@X,Y spec."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from haikei.domain.vocabulary import UNLABELLED, Vocabulary
from haikei.errors import ImageError, InputError
from haikei.imaging.regions import default_gap, derive_regions, label_regions, parse_label_spec

W, H = 480, 270


def _landscape(gap: int = 4) -> np.ndarray:
    """Horizon, a mountain whose right foot stops ``gap`` px above the horizon, a house, a pole."""
    img = Image.new("L", (W, H), 255)
    d = ImageDraw.Draw(img)
    d.line((0, 150, W, 150), fill=0, width=3)  # horizon: rows 149..151
    d.line([(0, 120), (100, 60), (190, 148 - gap)], fill=0, width=2)  # mountain, open at its foot
    d.rectangle((300, 80, 400, 150), outline=0, width=2)  # house on the horizon
    d.rectangle((330, 100, 334, 140), outline=0, width=1)  # a pole: closed but only 3 px wide inside
    return np.asarray(img).copy()


def _ids_at(comp: np.ndarray, *points: tuple[int, int]) -> list[int]:
    return [int(comp[y, x]) for x, y in points]


SKY, MOUNTAIN, HOUSE, POLE, GROUND = (10, 10), (100, 100), (380, 120), (332, 120), (200, 250)


def test_gap_is_bridged_and_every_area_found() -> None:
    comp, count = derive_regions(_landscape(gap=4), gap=6)
    sky, mountain, house, pole, ground = _ids_at(comp, SKY, MOUNTAIN, HOUSE, POLE, GROUND)
    assert len({sky, mountain, house, pole, ground}) == 5
    assert count == 5 and comp.dtype == np.int32
    assert comp.min() == 1 and comp.max() == count  # every pixel, ink included, belongs to an area
    # the bridge splits the gap: pixels just below the mountain's foot are mountain, far right is sky
    assert comp[146, 150] == mountain and comp[140, 250] == sky


def test_without_bridging_the_gap_leaks() -> None:
    comp, _ = derive_regions(_landscape(gap=4), gap=0)
    sky, mountain = _ids_at(comp, SKY, MOUNTAIN)
    assert sky == mountain


def test_gap_wider_than_the_setting_stays_open() -> None:
    comp, _ = derive_regions(_landscape(gap=12), gap=6)
    assert len(set(_ids_at(comp, SKY, MOUNTAIN))) == 1


def test_specks_merge_and_ids_are_raster_ordered() -> None:
    lines = _landscape()
    img = Image.fromarray(lines)
    ImageDraw.Draw(img).ellipse((50, 200, 54, 204), outline=0)  # a tiny closed circle in the ground
    comp, count = derive_regions(np.asarray(img).copy(), gap=6, min_area=40)
    assert count == 5 and comp[202, 52] == comp[GROUND[1], GROUND[0]]
    assert comp[0, 0] == 1  # first area met in raster order is 1


def test_default_gap_scales_with_the_image() -> None:
    assert default_gap((540, 960)) == 6
    assert default_gap((1080, 1920)) == 11
    assert default_gap((100, 100)) == 3


def test_refusals() -> None:
    with pytest.raises(ImageError, match="all ink"):
        derive_regions(np.zeros((50, 50), np.uint8), name="c012.png")
    with pytest.raises(ImageError, match="2-D uint8"):
        derive_regions(np.zeros((50, 50, 3), np.uint8))
    with pytest.raises(InputError, match="gap"):
        derive_regions(_landscape(), gap=100)


def test_label_regions_paint_bucket() -> None:
    comp, _ = derive_regions(_landscape(), gap=6)
    v = Vocabulary()
    sky, mountain = v.id_of("sky"), v.id_of("mountain")
    labels = label_regions(comp, [(sky, *SKY), (mountain, *MOUNTAIN), (v.id_of("grass"), *MOUNTAIN)])
    assert labels.dtype == np.uint8
    assert labels[SKY[1], SKY[0]] == sky and labels[140, 250] == sky
    assert labels[MOUNTAIN[1], MOUNTAIN[0]] == v.id_of("grass")  # the later click wins
    assert labels[GROUND[1], GROUND[0]] == UNLABELLED
    # incremental: start from the previous map
    more = label_regions(comp, [(v.id_of("road"), *GROUND)], base=labels)
    assert more[GROUND[1], GROUND[0]] == v.id_of("road") and more[SKY[1], SKY[0]] == sky


def test_label_regions_refuses_bad_points() -> None:
    comp, _ = derive_regions(_landscape(), gap=6)
    with pytest.raises(InputError, match=r"outside the 480x270 layout"):
        label_regions(comp, [(0, 480, 10)])
    with pytest.raises(InputError, match="class id 255"):
        label_regions(comp, [(255, 1, 1)])
    with pytest.raises(InputError, match="existing class map"):
        label_regions(comp, [], base=np.zeros((10, 10), np.uint8))


def test_parse_label_spec() -> None:
    v = Vocabulary()
    assert parse_label_spec("sky@120,40", v) == (v.id_of("sky"), 120, 40)
    assert parse_label_spec(" Mountain @ 3 , 4 ", v) == (v.id_of("mountain"), 3, 4)
    assert parse_label_spec("空＠１２０，４０", v) == (v.id_of("sky"), 120, 40)  # Japanese name, full-width
    with pytest.raises(InputError, match=r"unknown region class 'skyy'; did you mean sky"):
        parse_label_spec("skyy@1,2", v)
    with pytest.raises(InputError, match="CLASS@X,Y"):
        parse_label_spec("sky 120 40", v)
    with pytest.raises(InputError, match="CLASS@X,Y"):
        parse_label_spec("sky@1.5,2", v)
    with pytest.raises(InputError, match="0 or more"):
        parse_label_spec("sky@-1,2", v)
