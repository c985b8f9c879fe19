"""`haikei artboard list` (and --json) marks location boards: which location, from which cut and
revision, and whether retired; production boards say they are none."""

from __future__ import annotations

import json

import pytest

from haikei.services.rendering import render_backgrounds
from haikei.services.review import approve, bg_detail
from haikei.services.users import get_user
from tests.foundation.cli import run_cli


def _approve(ctx, ref: str, vid: int) -> None:  # type: ignore[no-untyped-def]
    approve(ctx, get_user(ctx, "haruka"), ref, vid, bg_detail(ctx, ref).bg.lock_version)


def test_artboard_list_marks_location_boards(
    place, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "240")  # one table row per board
    a, b = render_backgrounds(place, ["c001"], engine="exemplar", candidates=2, actor="aki")
    _approve(place, "c001", a.id)
    _approve(place, "c001", b.id)  # a's board retired, b's current
    p = str(place.root)
    code, out, err = run_cli(["artboard", "list", "--json", "-p", p], capsys)
    assert code == 0, err
    rows = {r["name"]: r for r in json.loads(out)}
    assert rows["tiny"]["location"] is None and rows["lake"]["location"] is None
    old, new = rows["house/c001-r1"]["location"], rows["house/c001-r2"]["location"]
    assert (old["location"], old["bg"], old["cuts"], old["revision"], old["version_id"], old["retired"]) == (
        "house",
        "c001",
        ["c001"],
        1,
        a.id,
        True,
    )
    assert old["retired_why"] == "its BG was approved again"
    assert (new["location"], new["cuts"], new["revision"], new["version_id"], new["retired"]) == (
        "house",
        ["c001"],
        2,
        b.id,
        False,
    )
    code, out, err = run_cli(["artboard", "list", "-p", p], capsys)
    assert code == 0, err
    lines = {ln.split("│")[2].strip(): ln for ln in out.splitlines() if ln.count("│") > 3}
    assert "house: c001 r1 (retired)" in lines["house/c001-r1"]
    assert "house: c001 r2" in lines["house/c001-r2"] and "retired" not in lines["house/c001-r2"]
    assert "house" not in lines["tiny"]
