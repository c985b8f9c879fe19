"""The baseline engine: the shared contract, plus what makes it a baseline."""

from __future__ import annotations

import numpy as np
import pytest

from haikei.engines.base import ALGORITHMIC_MEDIA, BoardInput, EngineContext
from haikei.engines.baseline import BaselineEngine, _kuwahara, create
from haikei.engines.registry import load_engine
from haikei.errors import ConfigError, RenderRefused
from tests.engines.contract import VOCAB, EngineContract, tiny_board, tiny_layout


class TestBaselineContract(EngineContract):
    def make_engine(self) -> BaselineEngine:
        return create({})


def _render(req):  # type: ignore[no-untyped-def]
    return create({}).render(req, EngineContext())


def test_registered_under_its_name() -> None:
    engine = load_engine("baseline")
    assert engine.name == "baseline"
    assert engine.digital_source_type == ALGORITHMIC_MEDIA


def test_regions_take_their_board_class_colour() -> None:
    req = TestBaselineContract().make_request()
    img = _render(req).image.astype(float)
    board = tiny_board()
    for name in ("sky", "mountain", "grass"):
        cid = VOCAB.id_of(name)
        want = np.median(board.image[board.labels == cid].astype(float), axis=0)
        got = np.median(img[req.regions == cid], axis=0)
        assert np.abs(got - want).max() < 20, (name, got, want)


def test_fallback_class_is_painted_and_reported() -> None:
    # 'hill' is not on the board; its chain is mountain -> grass -> field, so mountain paints it
    t = TestBaselineContract()
    _lines, regions = tiny_layout()
    regions = regions.copy()
    regions[regions == VOCAB.id_of("mountain")] = VOCAB.id_of("hill")
    res = _render(t.make_request(regions=regions))
    assert res.recipe["painted_from"]["hill"] == "mountain"
    assert any("hill" in w for w in res.warnings)


def test_lines_stay_visible() -> None:
    t = TestBaselineContract()
    lines, regions = tiny_layout()
    lines = lines.copy()
    lines[20, 5:60] = 0  # an interior stroke across the mountain/grass
    img = _render(t.make_request(lines=lines, regions=regions)).image.astype(float).mean(axis=2)
    assert img[20, 10:55].mean() < img[17, 10:55].mean() - 15


def test_options_are_validated() -> None:
    t = TestBaselineContract()
    with pytest.raises(RenderRefused, match="radius"):
        _render(t.make_request(options={"radius": 99}))
    with pytest.raises(ConfigError):
        create({"bogus": 1})


def test_direction_picks_matching_boards() -> None:
    t = TestBaselineContract()
    summer = tiny_board()
    dark = BoardInput(key="dark", image=(summer.image // 4), labels=summer.labels, tags=frozenset({"night"}))
    res = _render(t.make_request(boards=(summer, dark)))  # direction is summer
    assert res.recipe["boards"] == [summer.key]


def test_kuwahara_keeps_a_step_edge_sharp() -> None:
    img = np.zeros((20, 20, 3), np.float32)
    img[:, 10:] = 200.0
    for r in (2, 3):
        out = _kuwahara(img, r)
        assert np.array_equal(out, img), f"radius {r} smeared a clean edge"
