"""`haikei demo`: the whole newcomer path on a small frame (baseline engine for speed)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from haikei.app import open_production
from haikei.jobs import queue
from haikei.provenance.c2pa_sign import verify
from haikei.services.users import authenticate
from tests.foundation.cli import run_cli


@pytest.mark.slow
def test_demo_builds_paints_delivers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "demo"
    code, out, err = run_cli(
        ["demo", str(root), "--size", "480x270", "--engine", "baseline", "--candidates", "1", "--json"],
        capsys,
    )
    assert code == 0, err
    rep = json.loads(out)
    assert rep["engine"] == "baseline" and rep["versions"] == 7  # 8 cuts, one BG shared by c005 and c006
    rows = list(csv.DictReader((root / "delivery" / "cuts.csv").open()))
    assert [r["cut"] for r in rows] == [f"c00{i}" for i in range(1, 9)]
    assert rows[4]["png"] == rows[5]["png"] == "ep01_c005-c006_bg_v001.png"
    # locations: c008 is c001's place (山道), painted after c001's approval from its approved BG
    lineage = json.loads((root / "delivery" / "ep01_c008_bg_v001.recipe.json").read_text())["lineage"]
    loc = lineage[-1]["recipe"]["inputs"]["location"]
    assert loc["name"] == "山道" and [b["name"] for b in loc["boards"]] == ["山道/c001-r1"], loc
    assert {"sky", "mountain", "road"} <= set(loc["classes"]), loc  # painted from c001's approved BG
    assert loc["boards"][0]["source_version_id"] is not None
    assert "山道/c001-r1" in rep["notes"][-1]
    anchors = (root / "keys" / "root-ca.pem").read_bytes()
    for r in rows:
        assert verify(root / "delivery" / r["png"], trust_anchors=anchors).valid
    assert [r["approved_by"] for r in rows[:4]] == ["Haruka Aoki"] * 4
    code, credits, _ = run_cli(["credits", "-p", str(root)], capsys)
    assert "Louis Durrant" in credits and "Alesya Khoteeva" in credits and "Haruka Aoki" in credits
    ctx = open_production(root)
    try:
        assert all(j.state.value == "done" for j in queue.list_jobs(ctx))
        for name, _role, password in [(u["name"], u["role"], u["password"]) for u in rep["users"]]:
            assert authenticate(ctx, name, password).name == name
    finally:
        ctx.close()
    # a second demo in the same place needs --force, and nothing is touched without it
    before = sorted(p.name for p in root.iterdir())
    code, _, err = run_cli(["demo", str(root), "--size", "480x270", "--engine", "baseline"], capsys)
    assert code == 2 and "--force" in err and sorted(p.name for p in root.iterdir()) == before
