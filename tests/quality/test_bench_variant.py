"""The bench's variant figure (a re-vote of each case's render over graded stand-in boards) and its
peak-memory measurement."""

from __future__ import annotations

import json
import mmap
import time
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from haikei.engines.base import EngineContext, RenderRequest
from haikei.engines.registry import load_engine
from haikei.quality import bench as B
from haikei.quality.bench import STAND_IN_VARIANT, BenchCase, graded_stand_in, run_bench
from tests.quality.synth import board, layout, lines_for
from tests.quality.test_bench import MedianFillEngine


def _case(h: int = 72, w: int = 128) -> BenchCase:
    regions = layout(h, w, seed=3)
    return BenchCase("synth", lines_for(regions), regions, (board(),))


def test_graded_stand_in_is_an_aligned_darker_warmer_copy() -> None:
    img = board().image
    g = graded_stand_in(img)
    assert g.shape == img.shape and g.dtype == np.uint8
    assert g[..., 2].mean() < img[..., 2].mean() - 20  # less blue: evening light
    assert g[..., 0].mean() > g[..., 2].mean()
    # aligned: same structure, per-channel monotone map of the same picture
    assert np.corrcoef(g[..., 1].ravel(), img[..., 1].ravel())[0, 1] > 0.99


def test_exemplar_bench_times_a_variant_per_case_and_says_what_it_re_voted() -> None:
    report = run_bench([_case()], "exemplar", repeat=2, variants=True)
    by = {r.engine: r for r in report.runs}
    v = by["exemplar"].variant
    assert v is not None and v.error is None and v.name == STAND_IN_VARIANT
    assert v.seconds is not None and len(v.seconds_all) == 2
    assert v.seconds == pytest.approx(float(np.median(v.seconds_all)))
    assert v.deterministic is True and v.peak_rss_mb and v.peak_rss_mb > 10
    assert by["baseline"].variant is None  # the baseline is not asked for one
    doc = json.loads(json.dumps(report.as_dict()))
    assert doc["variant_input"] == "colour-graded stand-in, timing only"
    ex = next(r for r in doc["runs"] if r["engine"] == "exemplar")
    assert ex["variant"]["seconds_median"] == pytest.approx(v.seconds)
    assert ex["variant"]["name"] == STAND_IN_VARIANT


def test_the_timed_variant_is_the_re_vote_of_the_first_render() -> None:
    """What the bench times is a real variant render: same structure, the stand-in's light."""
    case = _case()
    eng = load_engine("exemplar")
    req = RenderRequest(lines=case.lines, regions=case.regions, boards=case.boards, seed=0)
    parent = eng.render(req, EngineContext())
    graded: dict[str, np.ndarray] = {}
    boards = B._with_stand_in(case.boards, graded)
    assert [b.key for b in boards] == [b.key for b in case.boards]
    run = B._bench_variant(eng, req, boards, parent.image, parent.source_map, repeat=1)
    assert run.error is None and run.seconds is not None and run.deterministic is None
    vreq = RenderRequest(
        lines=case.lines,
        regions=case.regions,
        boards=boards,
        seed=0,
        variant=STAND_IN_VARIANT,
        init=parent.image,
        init_source_map=parent.source_map,
    )
    var = eng.render(vreq, EngineContext())
    assert var.recipe["mode"] == "variant"
    assert var.image[..., 2].mean() < parent.image[..., 2].mean() - 10  # the grade's light
    assert np.corrcoef(var.image[..., 1].ravel(), parent.image[..., 1].ravel())[0, 1] > 0.8


def test_without_variants_nothing_is_timed_and_json_says_so() -> None:
    report = run_bench([_case()], "exemplar", repeat=1)
    assert all(r.variant is None for r in report.runs)
    assert report.as_dict()["variant_input"] is None


def test_an_engine_without_source_map_gets_a_variant_error_not_a_time() -> None:
    report = run_bench([_case()], MedianFillEngine(), repeat=1, variants=True)
    run = report.runs[0]
    assert run.error is None and run.seconds is not None
    assert run.variant is not None and run.variant.seconds is None
    assert "no source map" in (run.variant.error or "")


def _allocate_and_hold(mb: int, rss: B._PeakRss) -> None:
    start = rss.peak  # the sampler's first reading, taken on entry
    # fresh pages from the kernel, every one written: a numpy array would come from malloc, which in
    # a long test run may hand back heap that is already resident (a library raising malloc's mmap
    # threshold), so the process's RSS would not move at all and there would be nothing to measure
    buf = mmap.mmap(-1, mb * 2**20)
    a = np.frombuffer(buf, np.uint8)
    a[::4096] = 1  # touch every page: resident
    if rss.method == "sampled":
        # held until the 5 ms sampler has seen it (on a loaded 2-core CI machine the sampler thread can
        # miss a fixed 50 ms window; this waits for it, up to 5 s, instead of guessing a time)
        deadline = time.monotonic() + 5.0
        while rss.peak - start < 0.95 * a.nbytes and time.monotonic() < deadline:
            time.sleep(0.01)
    del a
    buf.close()


def test_peak_rss_sees_a_short_allocation_either_way(monkeypatch: pytest.MonkeyPatch) -> None:
    peaks = {}
    for resettable in (True, False):
        if resettable and not B._hwm_resettable():
            continue
        if not resettable:
            monkeypatch.setattr(B, "_hwm_resettable", lambda: False)
        before = B._PeakRss()._read()
        with B._PeakRss() as rss:
            _allocate_and_hold(200, rss)
        assert rss.method == ("hwm" if resettable else "sampled")
        assert rss.peak - before > 190 * 2**20
        peaks[resettable] = rss.peak
    if len(peaks) == 2:
        # the high-water mark and the sampler agree to within the process's own drift between the
        # two measurements (a thread stack, allocator arenas: up to ~10 MB seen), far below the 200 MB
        assert abs(peaks[True] - peaks[False]) < 24 * 2**20


def test_cli_bench_prints_and_writes_the_variant_time(app: typer.Typer, tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    args = ["bench", "--engine", "exemplar", "--cases", "lake", "--sizes", "160x90", "--repeat", "1"]
    args += ["--no-calibrate"]
    res = CliRunner().invoke(app, [*args, "--json", str(out)])
    assert res.exit_code == 0, res.output
    assert "variant s" in res.output and "timing only" in res.output
    doc = json.loads(out.read_text())
    assert doc["variant_input"] == "colour-graded stand-in, timing only"
    ex = next(r for r in doc["runs"] if r["engine"] == "exemplar")
    assert ex["variant"]["error"] is None and ex["variant"]["seconds_median"] > 0
    res = CliRunner().invoke(app, [*args, "--no-variants"])
    assert res.exit_code == 0 and "variant s" not in res.output
