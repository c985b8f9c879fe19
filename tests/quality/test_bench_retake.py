"""The bench's regional-retake figures: masks of growing area over each case's render, timed, with
the pixels outside each mask checked against the parent, and a line fitted through the times."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from haikei.engines.base import EngineContext, RenderRequest, RenderResult
from haikei.quality.bench import RETAKE_SHARES, BenchCase, RetakeRun, retake_box, retake_fit, run_bench
from tests.quality.synth import board, layout, lines_for
from tests.quality.test_bench import MedianFillEngine


def _case(h: int = 72, w: int = 128) -> BenchCase:
    regions = layout(h, w, seed=3)
    return BenchCase("synth", lines_for(regions), regions, (board(),))


def test_retake_box_is_centred_in_the_frames_shape_and_covers_its_share() -> None:
    for w, h in ((1920, 1080), (960, 540), (128, 72)):
        for share in RETAKE_SHARES:
            x, y, bw, bh = retake_box(w, h, share)
            assert bw * bh == pytest.approx(share * w * h, rel=0.05)
            assert bw / bh == pytest.approx(w / h, rel=0.05)
            assert abs((x + bw / 2) - w / 2) <= 1 and abs((y + bh / 2) - h / 2) <= 1


def test_exemplar_bench_times_three_retakes_that_keep_the_parent_outside_their_masks() -> None:
    report = run_bench([_case()], "exemplar", repeat=2, retakes=True)
    by = {r.engine: r for r in report.runs}
    ex = by["exemplar"]
    assert [t.share for t in ex.retakes] == list(RETAKE_SHARES)
    for t in ex.retakes:
        assert t.error is None and t.seconds is not None and t.seconds > 0
        assert t.outside_identical is True and t.deterministic is True
    assert ex.retakes[0].mpx < ex.retakes[1].mpx < ex.retakes[2].mpx
    assert by["baseline"].retakes == []  # only the engine under test is asked for retakes
    doc = json.loads(json.dumps(report.as_dict()))
    assert doc["retake_shares"] == list(RETAKE_SHARES)
    run = next(r for r in doc["runs"] if r["engine"] == "exemplar")
    assert len(run["retakes"]) == 3 and run["retakes"][2]["outside_identical"] is True
    assert set(run["retake_fit"]) == {"fixed_s", "s_per_masked_mpx", "area_ratio", "time_ratio"}
    assert run["retake_fit"]["area_ratio"] == pytest.approx(16, rel=0.1)


def test_without_retakes_nothing_is_timed_and_json_says_so() -> None:
    report = run_bench([_case()], "exemplar", repeat=1)
    assert all(r.retakes == [] for r in report.runs)
    doc = report.as_dict()
    assert doc["retake_shares"] is None and doc["runs"][0]["retake_fit"] is None


class _MaskIgnoringEngine(MedianFillEngine):
    """A real engine that ignores the retake mask: it repaints the whole frame with seed noise."""

    name = "maskignoring"

    def render(self, request: RenderRequest, context: EngineContext) -> RenderResult:
        res = super().render(request, context)
        noise = np.random.default_rng(request.seed).integers(0, 40, res.image.shape)
        return RenderResult(
            image=np.clip(res.image.astype(int) + noise, 0, 255).astype(np.uint8),
            recipe=res.recipe,
            timings=res.timings,
        )


def test_the_bench_catches_an_engine_that_changes_pixels_outside_the_mask() -> None:
    report = run_bench([_case()], _MaskIgnoringEngine(), repeat=1, retakes=True)
    run = report.runs[0]
    assert run.engine == "maskignoring" and len(run.retakes) == 3
    assert all(t.outside_identical is False for t in run.retakes)


def test_retake_fit_recovers_a_fixed_cost_and_a_cost_per_megapixel() -> None:
    runs = []
    for share, mpx in zip(RETAKE_SHARES, (0.0324, 0.1296, 0.5184), strict=True):
        side = round((mpx * 1e6) ** 0.5)
        r = RetakeRun(share, (0, 0, side, side))
        r.seconds = 0.2 + 1.5 * r.mpx
        runs.append(r)
    fit = retake_fit(runs)
    assert fit is not None
    assert fit["fixed_s"] == pytest.approx(0.2, abs=1e-6)
    assert fit["s_per_masked_mpx"] == pytest.approx(1.5, rel=1e-6)
    assert fit["time_ratio"] == pytest.approx(runs[2].seconds / runs[0].seconds)
    # fewer than two timed retakes (a refusal has no time): no line
    runs[1].seconds = runs[2].seconds = None
    assert retake_fit(runs) is None


def test_cli_bench_prints_and_writes_the_retake_times(app: typer.Typer, tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    args = ["bench", "--engine", "exemplar", "--cases", "lake", "--sizes", "160x90", "--repeat", "1"]
    args += ["--no-calibrate"]
    res = CliRunner().invoke(app, [*args, "--no-variants", "--json", str(out)])
    assert res.exit_code == 0, res.output
    assert "retake s" in res.output and "pixels outside kept" in res.output
    ex = next(r for r in json.loads(out.read_text())["runs"] if r["engine"] == "exemplar")
    assert [t["outside_identical"] for t in ex["retakes"]] == [True, True, True]
    res = CliRunner().invoke(app, [*args, "--no-variants", "--no-retakes"])
    assert res.exit_code == 0 and "retake s" not in res.output


def test_cli_bench_prints_and_writes_the_calibration(app: typer.Typer, tmp_path: Path) -> None:
    """By default the bench also scores the bundled boards as paintings of their own label maps."""
    out = tmp_path / "bench.json"
    args = ["bench", "--engine", "exemplar", "--cases", "lake", "--sizes", "160x90", "--repeat", "1"]
    res = CliRunner().invoke(app, [*args, "--no-variants", "--no-retakes", "--json", str(out)])
    assert res.exit_code == 0, res.output
    assert "calibration" in res.output and "the board itself" in res.output
    cal = json.loads(out.read_text())["calibration"]
    assert {c["board"] for c in cal} == {"safelanding", "altai"}
    for c in cal:
        assert c["size"] == "1280x720" and set(c["scores"]) == {"board", "exemplar", "baseline"}
        assert c["scores"]["board"]["repetition"] == 0.0
        # the point of the table: the baseline's noise repeats less than the artist's own painting
        assert c["scores"]["baseline"]["repetition"] < 0.0
