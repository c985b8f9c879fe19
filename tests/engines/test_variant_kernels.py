"""The variant re-vote straight from the boards equals the atlas vote it replaces, and hands over to
the atlas (with repair) when a parent match breaks the label constraint."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from haikei.engines.base import BoardInput, EngineContext, RenderRequest
from haikei.engines.exemplar import create
from haikei.engines.exemplar import variant as V
from tests.engines.contract import tiny_board, tiny_layout


def _variant_request(board_scale: float | None) -> tuple[RenderRequest, Any]:
    b = tiny_board()
    evening = (b.image.astype(np.float32) * np.array([0.9, 0.6, 0.5])).astype(np.uint8)
    board = BoardInput(key=b.key, image=b.image, labels=b.labels, variants={"evening": evening})
    lines, regions = tiny_layout(48, 72)
    opts = {} if board_scale is None else {"board_scale": board_scale}
    eng = create({})
    parent = eng.render(
        RenderRequest(lines=lines, regions=regions, boards=(board,), options=opts), EngineContext()
    )
    req = RenderRequest(
        lines=lines,
        regions=regions,
        boards=(board,),
        variant="evening",
        init=parent.image,
        init_source_map=parent.source_map,
        options=opts,
    )
    return req, eng


@pytest.mark.parametrize("board_scale", [None, 0.75])
def test_revote_from_boards_equals_the_atlas_vote(
    board_scale: float | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    req, eng = _variant_request(board_scale)
    seen: list[bool] = []
    fast = V._revote

    def both(sm, tcls, allowed, scale, canvas, packed):  # type: ignore[no-untyped-def]
        ref = canvas.copy()
        parts = eng.variant_cache.repaints.values()[0][0]  # the boards this variant re-votes
        scales = {b: float(sc) for b, sc in enumerate(scale)}
        V._revote_in_atlas(sm, tcls, allowed, scales, parts, len(scale), 0, ref)
        ok = fast(sm, tcls, allowed, scale, canvas, packed)
        assert ok
        assert (tcls >= 0).sum() > 100 and np.array_equal(canvas, ref)
        seen.append(ok)
        return ok

    monkeypatch.setattr(V, "_revote", both)
    eng.render(req, EngineContext())
    assert seen == [True]


def test_a_match_breaking_the_label_constraint_is_repaired_in_the_atlas(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    req, eng = _variant_request(None)
    good = eng.render(req, EngineContext()).image
    sm = req.init_source_map
    assert sm is not None
    labels = req.boards[0].labels
    broken = sm.copy()
    # send a few pixels of one class to board pixels of another class
    ys, xs = np.nonzero(req.regions == req.regions[0, 0])
    other = np.argwhere(labels != req.regions[0, 0])[0]
    broken[ys[:5], xs[:5], 1:] = other
    calls: list[str] = []
    fast, slow = V._revote, V._revote_in_atlas

    def spy_fast(*a):  # type: ignore[no-untyped-def]
        ok = fast(*a)
        calls.append(f"fast:{ok}")
        if not ok:
            assert not a[4].any()  # nothing voted on the canvas before the repair
        return ok

    def spy_slow(*a):  # type: ignore[no-untyped-def]
        calls.append("atlas")
        return slow(*a)

    monkeypatch.setattr(V, "_revote", spy_fast)
    monkeypatch.setattr(V, "_revote_in_atlas", spy_slow)
    from dataclasses import replace

    res = eng.render(replace(req, init_source_map=broken), EngineContext())
    assert calls == ["fast:False", "atlas"]
    # only the neighbourhood of the moved matches changes
    diff = np.abs(res.image.astype(int) - good).max(-1) > 0
    assert diff.any() and diff.sum() < 5 * 9 * 4
