"""Peers in the bench: outside paintings scored beside the engines, and said plainly when they are
missing, of another size or painted from another region map (stale)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from haikei.engines.base import BoardInput
from haikei.errors import InputError
from haikei.imaging.io import save_png
from haikei.quality.bench import BenchCase, Peer, label_border_lines, parse_peer, run_bench, score_peer
from haikei.quality.metrics import prepare_reference, score_painting
from haikei.quality.sheet import THUMB_H, contact_sheet
from tests.quality.synth import VOCAB, board, draw_lines, layout, lines_for, paint
from tests.quality.test_bench import MedianFillEngine

H, W = 108, 192
SHARED_PEER = Path(__file__).resolve().parents[2].parent / "shared" / "peers" / "ebsynth_960x540"


def _case(name: str, seed: int) -> BenchCase:
    regions = layout(H, W, seed=seed)
    return BenchCase(name, lines_for(regions), regions, (board(),))


@pytest.fixture
def peer_folder(tmp_path: Path) -> tuple[Path, dict[str, BenchCase]]:
    """A peer that painted: 'good' (from its region map), 'noids' (no region map beside it),
    'stale' (from an older region map), 'small' (at another size); 'absent' it never painted."""
    cases = {
        n: _case(n, s) for n, s in (("good", 5), ("noids", 6), ("stale", 7), ("small", 8), ("absent", 9))
    }
    for name in ("good", "noids", "stale"):
        c = cases[name]
        save_png(tmp_path / f"{name}.png", draw_lines(paint(c.regions, seed=11), c.lines))
    for name in ("good", "stale", "small"):
        save_png(tmp_path / f"{name}_region_ids.png", cases[name].regions)
    older = layout(H, W, seed=70)  # the scene was redrawn since the peer painted it
    save_png(tmp_path / "stale_region_ids.png", older)
    save_png(tmp_path / "small.png", np.full((H // 2, W // 2, 3), 90, np.uint8))
    return tmp_path, cases


def test_peer_is_scored_like_an_engine_and_each_problem_is_named(peer_folder) -> None:  # type: ignore[no-untyped-def]
    folder, cases = peer_folder
    peer = Peer("outside", folder)
    report = run_bench(list(cases.values()), MedianFillEngine(), repeat=1, peers=[peer])
    assert report.columns == ["medianfill", "baseline", "outside"]
    runs = {r.case: r for r in report.runs if r.engine == "outside"}
    assert {n: r.status for n, r in runs.items()} == {
        "good": "ok",
        "noids": "ok",
        "stale": "stale",
        "small": "wrong size",
        "absent": "missing",
    }
    # scored exactly as score_painting scores that file against the case
    good = cases["good"]
    ref = prepare_reference(good.boards, VOCAB)
    direct = score_painting(
        draw_lines(paint(good.regions, seed=11), good.lines), good.lines, good.regions, ref
    )
    for key in ("region_miou", "line_f1", "style_distance", "repetition", "ink"):
        assert runs["good"].metrics[key] == pytest.approx(getattr(direct, key)), key
    assert runs["good"].seconds is None and runs["good"].engine_version == "peer"
    assert runs["good"].peer == str(folder / "good.png") and not runs["good"].warnings
    # without the region map beside it: scored, with a warning that it could not be checked
    assert runs["noids"].metrics["region_miou"] is not None
    assert any("noids_region_ids.png is missing" in w for w in runs["noids"].warnings)
    # the others carry no figures, and say why
    for name in ("stale", "small", "absent"):
        assert runs[name].metrics == {} and runs[name].error
    assert "another region map" in (runs["stale"].error or "") and "repaint" in (runs["stale"].error or "")
    assert "96x54" in (runs["small"].error or "") and "192x108" in (runs["small"].error or "")
    assert "absent.png" in (runs["absent"].error or "")
    doc = json.loads(json.dumps(report.as_dict()))
    assert doc["peers"] == [{"name": "outside", "folder": str(folder)}]
    assert {r["status"] for r in doc["runs"] if r["engine"] == "outside"} == {
        "ok",
        "stale",
        "wrong size",
        "missing",
    }


def test_peer_column_on_the_contact_sheet(peer_folder) -> None:  # type: ignore[no-untyped-def]
    folder, cases = peer_folder
    report = run_bench(
        [cases["good"], cases["absent"]], "baseline", repeat=1, peers=[Peer("outside", folder)]
    )
    sheet = contact_sheet(report)
    col_w = round(THUMB_H * W / H)
    x = 6 + 2 * (col_w + 6) + col_w // 2  # layout | boards | baseline | outside
    row_h = THUMB_H + 34 + 6
    painted = sheet[22 + THUMB_H // 2, x + col_w + 6]
    missing = sheet[22 + row_h + THUMB_H // 2, x + col_w + 6]
    assert tuple(painted) != (32, 32, 36)  # the peer's painting is in its cell
    assert tuple(missing) == (32, 32, 36)  # an empty, outlined cell where it has none
    assert sheet.shape[1] >= 6 + 4 * (col_w + 6)


def test_a_refusal_is_shown_as_such() -> None:
    regions = layout(H, W, seed=5)
    regions[:10, :10] = VOCAB.id_of("building")  # no board shows it, no fallback does
    report = run_bench(
        [BenchCase("needs-building", lines_for(regions), regions, (board(),))], "baseline", repeat=1
    )
    run = report.runs[0]
    assert run.status == "refused" and "building" in (run.error or "") and run.metrics == {}
    assert report.as_dict()["runs"][0]["status"] == "refused"


def test_bad_peers_are_refused(tmp_path: Path) -> None:
    assert parse_peer(f"eb={tmp_path}") == Peer("eb", tmp_path)
    with pytest.raises(InputError, match="NAME=FOLDER"):
        parse_peer(str(tmp_path))
    with pytest.raises(InputError, match="letters, digits"):
        parse_peer(f"e b={tmp_path}")
    with pytest.raises(InputError, match="not a folder"):
        parse_peer(f"eb={tmp_path / 'nothing'}")
    with pytest.raises(InputError, match="already an engine"):
        parse_peer(f"baseline={tmp_path}", ["exemplar", "baseline"])
    with pytest.raises(InputError, match="name of an engine"):
        run_bench([_case("a", 5)], "baseline", repeat=1, peers=[Peer("baseline", tmp_path)])


def test_unreadable_peer_painting(tmp_path: Path) -> None:
    case = _case("broken", 5)
    (tmp_path / "broken.png").write_bytes(b"not a png")
    run = score_peer(Peer("eb", tmp_path), case, prepare_reference(case.boards, VOCAB))
    assert run.status == "unreadable" and "broken.png" in (run.error or "")


def test_calibration_measures_ink_along_each_boards_own_label_borders() -> None:
    """The board itself gives (almost) no ink along its own label borders; the baseline, which keeps
    the layout's lines dark, gives much more; a flat fill none."""
    b: BoardInput = board()
    case = BenchCase("c", lines_for(layout(H, W, seed=5)), layout(H, W, seed=5), (b,))
    report = run_bench([case], MedianFillEngine(), repeat=1, calibrate_boards=True)
    assert report.calibration is not None
    lined = report.calibration[0].lined
    assert set(lined) == {"board", "medianfill", "baseline"}
    assert lined["board"]["ink"] < 1.5
    assert lined["board"]["line_f1"] > 0.3  # its label borders are edges of its own (textured) painting
    assert lined["medianfill"]["ink"] < 1.5
    assert lined["baseline"]["ink"] > lined["board"]["ink"] + 3
    drawn = label_border_lines(b.labels)
    assert drawn.dtype == np.uint8 and set(np.unique(drawn).tolist()) == {0, 255}
    assert report.as_dict()["calibration"][0]["lined"]["board"]["ink"] == lined["board"]["ink"]


def test_bench_cli_scores_the_ebsynth_peer(app: typer.Typer, tmp_path: Path) -> None:
    """The real peer folder (EbSynth's paintings at 960x540, beside the repository as ../shared):
    its lake is scored as its README recorded; the beach it never painted is missing."""
    if not (SHARED_PEER / "lake.png").is_file():
        pytest.skip(f"{SHARED_PEER} is absent (shared/ sits beside the clone in CI)")
    out = tmp_path / "bench.json"
    res = CliRunner().invoke(
        app,
        [
            "bench", "--engine", "baseline", "--sizes", "960x540", "--repeat", "1", "--cases", "lake,beach",
            "--no-variants", "--no-retakes", "--no-calibrate", "--peer", f"ebsynth={SHARED_PEER}",
            "--json", str(out), "--sheet", str(tmp_path / "sheet.png"),
        ],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    runs = {(r["case"], r["engine"]): r for r in doc["runs"]}
    lake = runs[("lake", "ebsynth")]
    assert lake["status"] == "ok"
    # the figures the peer's README recorded for EbSynth's lake (region_miou / line_f1 / style)
    assert lake["metrics"]["region_miou"] == pytest.approx(0.418, abs=0.01)
    assert lake["metrics"]["line_f1"] == pytest.approx(0.501, abs=0.01)
    assert lake["metrics"]["style_distance"] == pytest.approx(13.31, abs=0.1)
    assert lake["metrics"]["ink"] < 1.0  # EbSynth was given no lines: it draws none
    assert runs[("beach", "ebsynth")]["status"] == "missing"
    assert "MISSING" in res.stdout and "ebsynth" in res.stdout
    assert (tmp_path / "sheet.png").stat().st_size > 10_000


def test_bench_cli_refuses_a_bad_peer(app: typer.Typer, tmp_path: Path) -> None:
    res = CliRunner().invoke(
        app, ["bench", "--engine", "baseline", "--sizes", "64x48", "--peer", str(tmp_path)]
    )
    assert isinstance(res.exception, InputError) and "NAME=FOLDER" in str(res.exception)
