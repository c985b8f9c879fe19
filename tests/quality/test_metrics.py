"""Each metric must rank an obviously good painting above an obviously bad one (QUALITY.md)."""

from __future__ import annotations

import numpy as np
import pytest

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
    assert s.repetition == pytest.approx(0.0, abs=1e-9)


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


def test_fallback_classes_are_judged_by_their_substitute(scene, ref) -> None:  # type: ignore[no-untyped-def]
    regions, lines, good = scene
    # 'hill' is not on the board: its chain (mountain, grass, field) says mountain judges it
    as_hill = regions.copy()
    as_hill[regions == VOCAB.id_of("mountain")] = VOCAB.id_of("hill")
    s = score_painting(good, lines, as_hill, ref)
    assert s.details["fallbacks"] == {"hill": "mountain"}
    assert s.region_miou == pytest.approx(_score(good, scene, ref).region_miou)
    # 'building' has no substitute on the board: reported, not scored, not guessed
    with_building = regions.copy()
    with_building[:20, :20] = VOCAB.id_of("building")
    s = score_painting(good, lines, with_building, ref)
    assert s.details["unscored_classes"] == ["building"]
    assert any("building" in w for w in s.warnings)


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
