"""`haikei quality` and `haikei bench` through Typer, with files on disk."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import typer
from typer.testing import CliRunner

from haikei.errors import InputError
from haikei.imaging.io import encode_region_map, save_png
from tests.quality.synth import VOCAB, board, draw_lines, layout, lines_for, paint


def _files(tmp: Path) -> dict[str, Path]:
    b = board()
    regions = layout(108, 192, seed=5)
    lines = lines_for(regions)
    paths = {k: tmp / f"{k}.png" for k in ("board", "labels", "lines", "regions", "good", "flat")}
    save_png(paths["board"], b.image)
    save_png(paths["labels"], encode_region_map(b.labels, VOCAB))
    save_png(paths["lines"], lines)
    save_png(paths["regions"], encode_region_map(regions, VOCAB))
    save_png(paths["good"], draw_lines(paint(regions, seed=9), lines))
    save_png(paths["flat"], np.full((108, 192, 3), 128, np.uint8))
    return paths


def _quality(app: typer.Typer, p: dict[str, Path], image: str, *extra: str):  # type: ignore[no-untyped-def]
    args = [
        "quality",
        "--artboard",
        str(p["board"]),
        "--artboard-labels",
        str(p["labels"]),
        "--layout",
        str(p["lines"]),
        "--regions",
        str(p["regions"]),
        "--image",
        str(p[image]),
        *extra,
    ]
    return CliRunner().invoke(app, args)


def test_quality_json_ranks_good_above_flat(app: typer.Typer, tmp_path: Path) -> None:
    p = _files(tmp_path)
    good = json.loads(_quality(app, p, "good", "--json").stdout)
    flat = json.loads(_quality(app, p, "flat", "--json").stdout)
    assert good["region_miou"] > flat["region_miou"] + 0.3
    assert good["line_f1"] > flat["line_f1"]
    assert good["style_distance"] < flat["style_distance"]
    assert good["seconds"] > 0 and good["peak_rss_mb"] > 10


def test_quality_score_fallbacks_switch(app: typer.Typer, tmp_path: Path) -> None:
    p = _files(tmp_path)
    exact = json.loads(_quality(app, p, "good", "--json").stdout)
    fallbacks = json.loads(_quality(app, p, "good", "--json", "--score-fallbacks").stdout)
    assert exact["details"]["class_scoring"] == "exact"
    assert fallbacks["details"]["class_scoring"] == "fallbacks"


def test_quality_table(app: typer.Typer, tmp_path: Path) -> None:
    res = _quality(app, _files(tmp_path), "good")
    assert res.exit_code == 0, res.output
    for word in ("region_miou", "line_f1", "style_distance", "repetition"):
        assert word in res.stdout


def test_quality_refuses_unpaired_boards(app: typer.Typer, tmp_path: Path) -> None:
    p = _files(tmp_path)
    res = _quality(app, p, "good", "--artboard", str(p["board"]))  # two boards, one label map
    assert isinstance(res.exception, InputError) and "label map per board" in str(res.exception)


def test_bench_refuses_unknown_case(app: typer.Typer) -> None:
    res = CliRunner().invoke(
        app, ["bench", "--engine", "baseline", "--cases", "no-such-case", "--sizes", "64x48"]
    )
    assert isinstance(res.exception, InputError)


def test_quality_reports_ink(app: typer.Typer, tmp_path: Path) -> None:
    """`haikei quality` gives the ink figure: the painting with its lines drawn dark scores high, a flat
    grey one 0, and the table names it."""
    p = _files(tmp_path)
    good = json.loads(_quality(app, p, "good", "--json").stdout)
    flat = json.loads(_quality(app, p, "flat", "--json").stdout)
    assert good["ink"] > 10 and good["details"]["ink"]["dark_share"] > 0.5
    assert flat["ink"] == 0.0
    assert "ink" in _quality(app, p, "good").stdout


def test_quality_same_place_reports_location_consistency(app: typer.Typer, tmp_path: Path) -> None:
    """--same-place: how alike two paintings of one place look, per shared class (issue 18); the same
    painting is 0, a differently painted one is further, and a wrong region map is one clear line."""
    p = _files(tmp_path)
    regions = layout(108, 192, seed=5)
    other = tmp_path / "other.png"
    cooler = paint(regions, seed=31).astype(np.int16) + np.array([-30, 0, 40])  # painted cooler
    save_png(other, draw_lines(np.clip(cooler, 0, 255).astype(np.uint8), lines_for(regions)))
    same = json.loads(
        _quality(
            app,
            p,
            "good",
            "--json",
            "--same-place",
            str(p["good"]),
            "--same-place-regions",
            str(p["regions"]),
        ).stdout
    )["location_consistency"]
    apart = json.loads(
        _quality(
            app, p, "good", "--json", "--same-place", str(other), "--same-place-regions", str(p["regions"])
        ).stdout
    )["location_consistency"]
    assert same["distance"] == 0.0 and same["shared"]
    assert apart["distance"] > 0.5
    table = _quality(app, p, "good", "--same-place", str(other), "--same-place-regions", str(p["regions"]))
    assert table.exit_code == 0 and "location consistency" in table.stdout
    res = _quality(app, p, "good", "--same-place", str(other))
    assert isinstance(res.exception, InputError) and "--same-place-regions" in str(res.exception)
    small = tmp_path / "small_regions.png"
    save_png(small, encode_region_map(layout(54, 96, seed=5), VOCAB))
    res = _quality(app, p, "good", "--same-place", str(other), "--same-place-regions", str(small))
    assert isinstance(res.exception, InputError) and "small_regions.png" in str(res.exception)
