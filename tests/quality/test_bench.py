"""The bench runner on a tiny case passed in explicitly, and its contact sheet."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from haikei.domain.vocabulary import Vocabulary
from haikei.engines.base import ALGORITHMIC_MEDIA, EngineContext, RenderRequest, RenderResult
from haikei.engines.baseline import BaselineOptions
from haikei.errors import InputError, RenderRefused
from haikei.quality.bench import BenchCase, parse_sizes, run_bench
from haikei.quality.sheet import THUMB_H, contact_sheet
from tests.quality.synth import VOCAB, board, layout, lines_for


class MedianFillEngine:
    """A real, deliberately plain engine: each region in its board class's median colour, no lines."""

    name = "medianfill"
    version = "0.1"
    digital_source_type = ALGORITHMIC_MEDIA
    options_model = BaselineOptions

    def render(self, request: RenderRequest, context: EngineContext) -> RenderResult:
        out = np.zeros((request.height, request.width, 3), np.uint8)
        b = request.boards[0]
        for c in np.unique(request.regions):
            on_board = b.labels == c
            if not on_board.any():
                raise RenderRefused(f"class {VOCAB.name_of(int(c))!r} is not on the board")
            out[request.regions == c] = np.median(b.image[on_board], axis=0).astype(np.uint8)
        context.progress(1.0, "done")
        return RenderResult(image=out, recipe={"engine": self.name}, timings={"total": 0.0})


def _case(name: str = "synth", h: int = 108, w: int = 192) -> BenchCase:
    regions = layout(h, w, seed=5)
    return BenchCase(name, lines_for(regions), regions, (board(),))


def test_bench_runs_engine_and_baseline_and_scores_both() -> None:
    report = run_bench([_case()], MedianFillEngine(), repeat=2)
    assert report.engines == ["medianfill", "baseline"]
    by = {r.engine: r for r in report.runs}
    for r in by.values():
        assert r.error is None
        assert r.seconds is not None and len(r.seconds_all) == 2
        assert r.seconds == pytest.approx(float(np.median(r.seconds_all)))
        assert r.mpx_per_s and r.mpx_per_s > 0 and r.peak_rss_mb and r.peak_rss_mb > 10
        assert r.deterministic is True
        assert r.image is not None and r.image.shape == (108, 192, 3)
    # the baseline keeps the layout's interior strokes; a plain fill cannot
    assert by["baseline"].metrics["line_f1"] > by["medianfill"].metrics["line_f1"]
    doc = json.loads(json.dumps(report.as_dict()))
    assert doc["statistic"] == "median" and len(doc["runs"]) == 2


def test_bench_with_baseline_alone_runs_it_once() -> None:
    report = run_bench([_case()], "baseline", repeat=1)
    assert [r.engine for r in report.runs] == ["baseline"]
    assert report.runs[0].deterministic is None


def test_refusal_is_recorded_and_the_run_goes_on() -> None:
    regions = layout(108, 192, seed=5)
    regions[:10, :10] = VOCAB.id_of("building")  # no board shows it, no fallback does
    refused = BenchCase("needs-building", lines_for(regions), regions, (board(),))
    report = run_bench([refused, _case()], "baseline", repeat=1)
    assert "building" in (report.runs[0].error or "")
    assert report.runs[1].error is None and report.runs[1].metrics["region_miou"] is not None


def test_contact_sheet_has_a_row_per_case_and_a_column_per_engine() -> None:
    report = run_bench([_case("a"), _case("b", 90, 160)], MedianFillEngine(), repeat=1)
    sheet = contact_sheet(report, Vocabulary())
    assert sheet.dtype == np.uint8 and sheet.shape[0] > 2 * THUMB_H
    col_w = round(THUMB_H * 192 / 108)
    assert sheet.shape[1] >= 4 * col_w  # layout | board | medianfill | baseline
    # every result cell holds the engine's picture, not the empty background
    y = 22 + THUMB_H // 2
    for c in range(4):
        x = 6 + c * (col_w + 6) + col_w // 2
        assert tuple(sheet[y, x]) != (32, 32, 36)


def test_contact_sheet_shows_every_art_board_of_a_case() -> None:
    """A case painted from two boards shows both in its board cell, side by side (not only the first)."""
    a = board()
    b = replace(a, key="synth1-negative", name="negative", image=(255 - a.image).astype(np.uint8))
    regions = layout(108, 192, seed=5)
    report = run_bench([BenchCase("two", lines_for(regions), regions, (a, b))], MedianFillEngine(), repeat=1)
    sheet = contact_sheet(report, Vocabulary()).astype(int)
    col_w = round(THUMB_H * 192 / 108)
    tw = (col_w - 6) // 2
    x0, y = 6 + (col_w + 6), 22 + THUMB_H // 2
    left = sheet[y, x0 + tw // 2]
    right = sheet[y, x0 + tw + 6 + tw // 2]
    # the right thumbnail is the negative of the left one (resampling is linear): they sum to white
    assert np.abs(left + right - 255).max() <= 6, (left, right)
    assert np.abs(left - right).max() > 20  # and it is not the background twice


def test_bad_arguments_are_refused() -> None:
    assert parse_sizes("960x540, 1920x1080") == [(960, 540), (1920, 1080)]
    with pytest.raises(InputError, match="WIDTHxHEIGHT"):
        parse_sizes("960by540")
    with pytest.raises(InputError):
        run_bench([], "baseline")
    with pytest.raises(InputError, match="repeat"):
        run_bench([_case()], "baseline", repeat=0)
    with pytest.raises(InputError, match="unknown engine"):
        run_bench([_case()], "no-such-engine")


def test_calibration_scores_each_board_as_a_painting_of_its_own_labels() -> None:
    """The bench's calibration: the board itself gets style 0 and repetition 0 by construction and no
    line F1 (a blank layout); each engine's painting of the same map is scored beside it."""
    a = board()
    regions = layout(108, 192, seed=5)
    case = BenchCase("c", lines_for(regions), regions, (a, a))  # one board twice: calibrated once
    report = run_bench([case], MedianFillEngine(), repeat=1, calibrate_boards=True)
    assert report.calibration is not None and len(report.calibration) == 1
    cal = report.calibration[0]
    assert cal.board == a.name and cal.size == f"{a.image.shape[1]}x{a.image.shape[0]}"
    assert set(cal.scores) == {"board", "medianfill", "baseline"}
    own = cal.scores["board"]
    assert own["style_distance"] == 0.0 and own["repetition"] == 0.0
    assert own["line_f1"] is None  # a blank layout has no lines to find
    for name in ("medianfill", "baseline"):
        assert cal.scores[name]["style_distance"] > 0.0
        assert 0.0 < cal.scores[name]["region_miou"] <= 1.0
    doc = json.loads(json.dumps(report.as_dict()))
    assert doc["calibration"][0]["scores"]["board"]["repetition"] == 0.0
    assert run_bench([case], MedianFillEngine(), repeat=1).as_dict()["calibration"] is None
