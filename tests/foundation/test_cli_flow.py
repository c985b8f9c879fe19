"""The README's command-line flow, end to end, on a tiny production (baseline engine: fast)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from haikei.imaging.io import encode_region_map, load_rgb, save_png
from tests.conftest import VOCAB, write_board, write_layout
from tests.engines.contract import tiny_layout
from tests.foundation.cli import run_cli


def test_readme_flow(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = str(tmp_path / "show")
    ok = lambda args: run_cli(args, capsys)  # noqa: E731
    code, _, err = ok(["init", p, "--name", "Show", "--size", "64x40", "--episode", "ep02"])
    assert code == 0, err
    img, lab = write_board(tmp_path, "autumn_board")
    code, out, err = ok(
        [
            "artboard",
            "add",
            str(img),
            "--labels",
            str(lab),
            "--tags",
            "autumn,evening",
            "--artist",
            "Aki Tanaka",
            "--licence",
            "studio",
            "--consent",
            "-p",
            p,
            "--json",
        ]
    )
    assert code == 0, err and json.loads(out)["consent"] is True
    code, out, _ = ok(["artboard", "list", "-p", p, "--json"])
    (board,) = json.loads(out)
    assert board["artist"] == "Aki Tanaka" and "sky" in board["classes"]
    lo = tmp_path / "lo"
    lo.mkdir()
    write_layout(lo, "c012")
    write_layout(lo, "c014", regions=False)
    code, out, err = ok(["import", str(lo), "-p", p, "--artist", "Kenji Mori", "--json"])
    assert code == 0, err
    rep = json.loads(out)
    assert rep["added_cuts"] == ["c012", "c014"] and rep["unlabelled"] == ["c014"]
    code, _, err = ok(["render", "--cuts", "c014", "--engine", "baseline", "-p", p])
    assert code == 2 and "unlabelled" in err and err.count("\n") == 1
    code, out, err = ok(["regions", "label", "c014", "sky@5,2", "mountain@5,20", "grass@5,38", "-p", p])
    assert code == 0 and "fully labelled" in out, err
    code, out, err = ok(["direction", "c012", "秋の夕方、逆光", "-p", p, "--json"])
    assert code == 0 and json.loads(out)["season"] == "autumn" and json.loads(out)["time_of_day"] == "evening"
    code, out, err = ok(["render", "--engine", "baseline", "--candidates", "2", "-p", p, "--json"])
    assert code == 0, err
    assert len(json.loads(out)["version_ids"]) == 4
    code, out, _ = ok(["status", "-p", p, "--json"])
    st = json.loads(out)
    assert [b["versions"] for b in st["backgrounds"]] == [2, 2]
    assert st["backgrounds"][0]["direction"] == "秋の夕方、逆光"
    code, out, err = ok(["keys", "init", "-p", p])
    assert code == 0, err
    code, out, err = ok(["export", "--to", str(tmp_path / "delivery"), "-p", p, "--json"])
    assert code == 0, err
    files = json.loads(out)["files"]
    assert any(f.endswith("ep02_c012_bg_v001.png") for f in files)
    rows = list(csv.DictReader((tmp_path / "delivery" / "cuts.csv").open()))
    assert [r["cut"] for r in rows] == ["c012", "c014"]
    code, out, err = ok(["verify", "-p", p, str(tmp_path / "delivery" / "ep02_c012_bg_v001.png")])
    assert code == 0 and "VALID" in out, out + err
    code, out, err = ok(["credits", "-p", p, "--format", "csv"])
    assert code == 0 and "Kenji Mori" in out and "Aki Tanaka" in out


def _paint_args(tmp_path: Path) -> list[str]:
    """``haikei paint`` with a board and the tiny layout written under ``tmp_path`` (no --out yet)."""
    img, lab = write_board(tmp_path)
    lines, reg = tiny_layout()
    save_png(tmp_path / "lo.png", lines)
    save_png(tmp_path / "reg.png", encode_region_map(reg, VOCAB))
    return [
        "paint",
        "--artboard",
        str(img),
        "--artboard-labels",
        str(lab),
        "--layout",
        str(tmp_path / "lo.png"),
        "--regions",
        str(tmp_path / "reg.png"),
        "--engine",
        "baseline",
    ]


def test_paint_one_shot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out.png"
    args = [*_paint_args(tmp_path), "--seed", "3", "--out", str(out), "--json"]
    code, o, err = run_cli(args, capsys)
    assert code == 0, err
    rep = json.loads(o)
    for k in ("seconds_render", "seconds_total", "width", "height", "peak_rss_mb", "warnings"):
        assert k in rep
    assert (rep["width"], rep["height"]) == (64, 40)
    first = out.read_bytes()
    assert run_cli(args, capsys)[0] == 0
    assert out.read_bytes() == first  # same request, identical bytes
    # size change, then a retake of the painting with a mask
    code, o, err = run_cli([*args[:-3], "--size", "128x80", "--out", str(tmp_path / "big.png")], capsys)
    assert code == 0 and load_rgb(tmp_path / "big.png").shape == (80, 128, 3), err
    mask = np.zeros((40, 64), np.uint8)
    mask[:10] = 255
    save_png(tmp_path / "m.png", mask)
    code, o, err = run_cli(
        [*args[:-3], "--mask", str(tmp_path / "m.png"), "--init", str(out), "--out", str(tmp_path / "r.png")],
        capsys,
    )
    assert code == 0, err
    a, b = load_rgb(out), load_rgb(tmp_path / "r.png")
    assert np.array_equal(a[10:], b[10:])


@pytest.mark.parametrize(
    "change, msg",
    [
        (["--regions", "MISSING"], "not found"),
        (["--mask", "M"], "--mask needs --init"),
        (["--size", "huge"], "--size"),
    ],
)
def test_paint_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: list[str], msg: str
) -> None:
    save_png(tmp_path / "M", np.zeros((40, 64), np.uint8))
    args = [*_paint_args(tmp_path), "--out", str(tmp_path / "o.png")]
    for i in range(0, len(change), 2):
        flag, val = change[i], change[i + 1]
        val = str(tmp_path / val) if val in ("MISSING", "M") else val
        if flag in args:
            args[args.index(flag) + 1] = val
        else:
            args += [flag, val]
    code, _, err = run_cli(args, capsys)
    assert code == 2 and msg in err and err.count("\n") == 1
    assert not (tmp_path / "o.png").exists()
