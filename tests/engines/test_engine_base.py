"""What every engine shares from engines/base.py: options parsed and refused one way, a retake put
into its parent one way, and ``engine_version`` in every recipe."""

from __future__ import annotations

import numpy as np
import pytest

from haikei.engines.base import EngineContext, RenderRequest, composite_retake, parse_config, parse_options
from haikei.engines.baseline import BaselineEngine, BaselineOptions
from haikei.engines.exemplar import create as create_exemplar
from haikei.engines.exemplar.options import ExemplarOptions
from haikei.engines.sd.config import SDOptions
from haikei.errors import ConfigError, RenderRefused
from tests.engines.contract import VOCAB, tiny_board, tiny_layout


@pytest.mark.parametrize(
    ("model", "engine", "bad", "field"),
    [
        (ExemplarOptions, "exemplar", {"patch_size": 4}, "patch_size"),
        (BaselineOptions, "baseline", {"radius": 99}, "radius"),
        (SDOptions, "sd", {"candidates": 0}, "candidates"),
    ],
)
def test_bad_options_are_refused_the_same_way_by_every_engine(
    model: type, engine: str, bad: dict[str, object], field: str
) -> None:
    with pytest.raises(RenderRefused, match=rf"^{engine} option {field}: .*; fix the render's options$"):
        parse_options(model, engine, bad)
    with pytest.raises(RenderRefused, match=f"{engine} option bogus"):
        parse_options(model, engine, {"bogus": 1})
    with pytest.raises(ConfigError, match=rf"^\[engines\.{engine}\] in haikei\.toml: {field}: "):
        parse_config(model, engine, bad)


def test_options_given_override_the_engines_defaults() -> None:
    opts = parse_options(ExemplarOptions, "exemplar", {"glaze": 0.1}, {"glaze": 0.2, "iterations": 2})
    assert opts.glaze == 0.1 and opts.iterations == 2


def test_composite_retake_keeps_the_parent_outside_and_feathers_inside() -> None:
    rng = np.random.default_rng(0)
    parent = rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)
    painted = rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)
    mask = np.zeros((40, 60), bool)
    mask[10:30, 15:45] = True
    out = composite_retake(parent, painted, mask, 4)
    assert np.array_equal(out[~mask], parent[~mask])
    assert np.array_equal(out[14:26, 19:41], painted[14:26, 19:41])  # 4 px in: the painting alone
    edge = out[10, 20].astype(float)  # 1 px in: a quarter painting, three quarters parent
    assert np.allclose(edge, 0.25 * painted[10, 20] + 0.75 * parent[10, 20], atol=0.51)
    hard = composite_retake(parent, painted, mask, 0)
    assert np.array_equal(hard[mask], painted[mask]) and np.array_equal(hard[~mask], parent[~mask])
    # a window round the mask gives the frame's result
    win = (slice(5, 35), slice(10, 50))
    assert np.array_equal(composite_retake(parent, painted[win], mask[win], 4, win), out)


def test_every_recipe_names_the_engine_version() -> None:
    lines, regions = tiny_layout(48, 72)
    req = RenderRequest(lines=lines, regions=regions, boards=(tiny_board(),), seed=1, vocabulary=VOCAB)
    for engine in (create_exemplar({}), BaselineEngine()):
        recipe = engine.render(req, EngineContext()).recipe
        assert recipe["engine"] == engine.name and recipe["engine_version"] == engine.version
        assert "version" not in recipe
