"""Each metric must rank an obviously good painting above an obviously bad one (QUALITY.md)."""

from __future__ import annotations

import numpy as np
import pytest

from haikei.engines.base import BoardInput
from haikei.errors import InputError
from haikei.quality.metrics import (
    QualityScores,
    line_f1,
    prepare_reference,
    region_miou,
    repetition_rate,
    score_painting,
    style_distance,
)
from tests.quality.synth import VOCAB, board, draw_lines, layout, lines_for, paint

H, W = 216, 384
SWAP = {"sky": "grass", "grass": "sky", "mountain": "forest", "forest": "mountain"}


@pytest.fixture(scope="module")
def ref():  # type: ignore[no-untyped-def]
    return prepare_reference([board()], VOCAB)


@pytest.fixture(scope="module")
def scene():  # type: ignore[no-untyped-def]
    regions = layout(H, W, seed=5)  # another composition than the board's
    lines = lines_for(regions)
    good = draw_lines(paint(regions, seed=9), lines)  # same hand, other seed
    return regions, lines, good


def _score(img: np.ndarray, scene, ref) -> QualityScores:  # type: ignore[no-untyped-def]
    regions, lines, _ = scene
    return score_painting(img, lines, regions, ref)


def _bad_paintings(scene) -> dict[str, np.ndarray]:  # type: ignore[no-untyped-def]
    regions, lines, good = scene
    rng = np.random.default_rng(0)
    b = 24
    blocks = (
        good[: H // b * b, : W // b * b].reshape(H // b, b, W // b, b, 3).swapaxes(1, 2).reshape(-1, b, b, 3)
    )
    shuffled = blocks[rng.permutation(len(blocks))].reshape(H // b, W // b, b, b, 3).swapaxes(1, 2)
    return {
        "flat": np.full_like(good, 128),
        "wrong_class": draw_lines(paint(regions, seed=9, swap=SWAP), lines),
        "shuffled": np.ascontiguousarray(shuffled.reshape(H // b * b, W // b * b, 3)),
        "tiled": np.ascontiguousarray(np.tile(good[100:132, 50:82], (H // 32 + 1, W // 32 + 1, 1))[:H, :W]),
    }


def test_region_miou_ranks_good_above_bad(scene, ref) -> None:  # type: ignore[no-untyped-def]
    good = region_miou(scene[2], scene[0], ref)
    assert good is not None and good > 0.75
    for name, img in _bad_paintings(scene).items():
        regions = scene[0][: img.shape[0], : img.shape[1]]
        bad = region_miou(img, regions, ref)
        assert bad is not None and bad < good - 0.3, (name, bad, good)


def test_board_against_its_own_labels_is_nearly_perfect(ref) -> None:  # type: ignore[no-untyped-def]
    b = board()
    s = score_painting(b.image, lines_for(b.labels), b.labels, ref)
    assert s.region_miou is not None and s.region_miou > 0.9
    assert s.style_distance == pytest.approx(0.0, abs=0.5)
    # with its own labels as region map the board's own rate comes back exactly; with its layout,
    # duplicates that lie on repeated line work are excused too, so it can only go down
    assert repetition_rate(b.image, None, b.labels) == pytest.approx(ref.repetition_rate, abs=1e-12)
    assert s.repetition is not None and s.repetition <= 1e-12


def test_line_f1_prefers_a_painting_with_the_layouts_lines(scene) -> None:  # type: ignore[no-untyped-def]
    regions, lines, good = scene
    with_lines, _ = line_f1(good, lines)
    without, _ = line_f1(paint(regions, seed=9), lines)
    shifted, _ = line_f1(np.roll(good, 12, axis=1), lines)
    flat, _ = line_f1(np.full_like(good, 128), lines)
    assert with_lines is not None and without is not None and shifted is not None
    assert with_lines > without + 0.1
    assert with_lines > shifted + 0.1
    assert flat == 0.0
    assert line_f1(good, np.full_like(lines, 255))[0] is None  # no ink, nothing to score


def test_style_distance_ranks_good_below_bad(scene, ref) -> None:  # type: ignore[no-untyped-def]
    regions, lines, good = scene
    d_good = style_distance(good, regions, ref)
    recoloured = good[..., ::-1].copy()  # right textures, wrong palette
    smooth = draw_lines(
        np.asarray(paint(regions, seed=9), np.float32)
        .mean(axis=(0, 1), keepdims=True)
        .repeat(H, 0)
        .repeat(W, 1)
        .astype(np.uint8),
        lines,
    )
    assert d_good is not None
    for name, img in {**_bad_paintings(scene), "recoloured": recoloured, "mean_colour": smooth}.items():
        d_bad = style_distance(img, regions[: img.shape[0], : img.shape[1]], ref)
        assert d_bad is not None and d_bad > d_good + 5, (name, d_bad, d_good)


def test_repetition_flags_a_tiled_painting(scene, ref) -> None:  # type: ignore[no-untyped-def]
    good = _score(scene[2], scene, ref).repetition
    tiled = _score(_bad_paintings(scene)["tiled"], scene, ref).repetition
    assert good is not None and tiled is not None
    assert tiled > good + 0.5
    assert repetition_rate(np.full((64, 64, 3), 90, np.uint8)) == 0.0  # flat paper cannot tile


def test_classes_not_on_the_boards_are_left_out_not_failed(scene, ref) -> None:  # type: ignore[no-untyped-def]
    regions, lines, good = scene
    # 'hill' is not on the board: there is no reference for it, so its area is left out
    as_hill = regions.copy()
    hill = regions == VOCAB.id_of("mountain")
    as_hill[hill] = VOCAB.id_of("hill")
    grey_hill = good.copy()
    grey_hill[hill] = (128, 128, 128)  # whatever is painted there is not judged
    s = score_painting(good, lines, as_hill, ref)
    assert s.details["not_on_boards"] == ["hill"] and s.details["class_scoring"] == "exact"
    assert s.details["fallbacks"] == {} and not s.warnings
    assert set(s.details["iou_per_class"]) == {"sky", "forest", "grass"}
    # (only the 9x9 feature windows of neighbouring classes see the hill's paint)
    assert region_miou(grey_hill, as_hill, ref) == pytest.approx(s.region_miou, abs=0.03)
    assert style_distance(grey_hill, as_hill, ref) == pytest.approx(s.style_distance, rel=0.05)
    # the classes that are on the board are still judged: swapping them is caught
    swapped = draw_lines(paint(regions, seed=9, swap=SWAP), lines)
    assert (region_miou(swapped, as_hill, ref) or 0.0) < (s.region_miou or 0.0) - 0.3
    # 'building' is on no board either: listed, no warning, not guessed
    with_building = regions.copy()
    with_building[:20, :20] = VOCAB.id_of("building")
    s = score_painting(good, lines, with_building, ref)
    assert s.details["not_on_boards"] == ["building"] and not s.warnings


def test_score_fallbacks_judges_by_the_substitute(scene, ref) -> None:  # type: ignore[no-untyped-def]
    regions, lines, good = scene
    # 'hill' falls back to (mountain, grass, field): the board's mountain judges it
    as_hill = regions.copy()
    hill = regions == VOCAB.id_of("mountain")
    as_hill[hill] = VOCAB.id_of("hill")
    s = score_painting(good, lines, as_hill, ref, score_fallbacks=True)
    assert s.details["fallbacks"] == {"hill": "mountain"} and s.details["class_scoring"] == "fallbacks"
    assert s.region_miou == pytest.approx(_score(good, scene, ref).region_miou)
    grey_hill = good.copy()
    grey_hill[hill] = (128, 128, 128)
    # judged against the board's mountain, a flat grey hill is far off (left out by default)
    assert (style_distance(grey_hill, as_hill, ref, score_fallbacks=True) or 0.0) > (
        s.style_distance or 0.0
    ) + 5
    # 'building' has no substitute on the board: reported, not scored, not guessed
    with_building = regions.copy()
    with_building[:20, :20] = VOCAB.id_of("building")
    s = score_painting(good, lines, with_building, ref, score_fallbacks=True)
    assert s.details["unscored_classes"] == ["building"]
    assert any("building" in w for w in s.warnings)


def test_no_layout_class_on_the_boards_scores_none(scene, ref) -> None:  # type: ignore[no-untyped-def]
    regions, lines, good = scene
    town = np.where(regions == VOCAB.id_of("sky"), VOCAB.id_of("building"), VOCAB.id_of("road")).astype(
        np.uint8
    )
    for img in (good, np.full_like(good, 128)):  # no painting can earn a figure here
        s = score_painting(img, lines, town, ref)
        assert s.region_miou is None and s.style_distance is None
        assert any("no class of the layout is on the art boards" in w for w in s.warnings)
        assert set(s.details["not_on_boards"]) == {"road", "building"}
        assert s.line_f1 is not None and s.repetition is not None  # the other metrics still judge it


def test_a_single_judged_class_must_beat_the_boards_other_classes(scene, ref) -> None:  # type: ignore[no-untyped-def]
    regions, lines, good = scene
    # only the sky is on the board; a classifier choosing among {sky} would call anything sky
    sky_only = np.where(regions == VOCAB.id_of("sky"), regions, VOCAB.id_of("building")).astype(np.uint8)
    right = region_miou(good, sky_only, ref)
    wrong = region_miou(draw_lines(paint(regions, seed=9, swap=SWAP), lines), sky_only, ref)
    assert right is not None and wrong is not None
    assert right > 0.75 and wrong < 0.25


def test_scores_are_deterministic(scene, ref) -> None:  # type: ignore[no-untyped-def]
    a = _score(scene[2], scene, ref).as_dict()
    b = _score(scene[2], scene, ref).as_dict()
    a.pop("metric_seconds"), b.pop("metric_seconds")
    assert a == b


def test_refuses_mismatched_sizes(scene, ref) -> None:  # type: ignore[no-untyped-def]
    regions, lines, good = scene
    with pytest.raises(InputError, match="size"):
        score_painting(good[:-4], lines, regions, ref)
    with pytest.raises(InputError, match="uint8"):
        score_painting(good.astype(np.float32), lines, regions, ref)
    with pytest.raises(InputError, match="art board"):
        prepare_reference([], VOCAB)


def test_style_is_judged_against_one_boards_hand_not_a_patchwork_of_two(scene) -> None:  # type: ignore[no-untyped-def]
    """Two boards in different palettes: a painting in either board's hand is in style; a patchwork
    of both (half the sky cream, half blue) is not, although its pooled colours match the pair's."""
    regions, _lines, good = scene
    a = board()
    b = BoardInput(key="other", image=np.ascontiguousarray(a.image[..., ::-1]), labels=a.labels, name="other")
    ref2 = prepare_reference([a, b], VOCAB)
    in_a = good
    in_b = np.ascontiguousarray(good[..., ::-1])
    patchwork = in_a.copy()
    cols = (np.arange(W) // 24) % 2 == 1
    patchwork[:, cols] = in_b[:, cols]
    d_a, d_b, d_patch = (style_distance(img, regions, ref2) for img in (in_a, in_b, patchwork))
    assert d_a is not None and d_b is not None and d_patch is not None
    assert abs(d_a - d_b) < 2.0, (d_a, d_b)
    assert d_patch > max(d_a, d_b) + 5, (d_patch, d_a, d_b)
