"""`haikei location ...` through the real command (errors: one line and an exit code)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import write_board
from tests.foundation.cli import run_cli
from tests.locations.conftest import write_location_layouts


def test_location_commands_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from haikei.app import open_production
    from haikei.services.review import approve, bg_detail
    from haikei.services.users import add_user, get_user

    p = str(tmp_path / "show")
    ok = lambda args: run_cli([*args, "-p", p], capsys)  # noqa: E731
    assert run_cli(["init", p, "--name", "Show", "--size", "64x40"], capsys)[0] == 0
    img, lab = write_board(tmp_path, "tiny")
    code, _, err = ok(
        ["artboard", "add", str(img), "--labels", str(lab), "--artist", "Aki Tanaka", "--consent"]
    )
    assert code == 0, err
    code, out, err = ok(["import", str(write_location_layouts(tmp_path / "lo")), "--artist", "Kenji Mori"])
    assert code == 0, err
    # list / set / clear
    code, out, err = ok(["location", "list", "--json"])
    assert code == 0 and [(x["name"], x["bgs"], x["boards"]) for x in json.loads(out)] == [
        ("house", ["c001", "c002"], 0)
    ], err
    code, out, err = ok(["location", "set", "c003", "駅前"])
    assert code == 0 and "c003: location 駅前" in out, err
    code, out, _ = ok(["location", "list"])
    assert "駅前" in out and "c001 c002" in out
    code, out, err = ok(["location", "clear", "c003"])
    assert code == 0 and "no location" in out
    # usage errors: one line, exit 2; unknown: exit 3
    for args, rc, words in (
        (["location", "set", "c003", "a/b"], 2, "location name"),
        (["location", "clear", "c003"], 2, "not at any location"),
        (["location", "show", "nowhere"], 3, "no location 'nowhere'"),
        (["location", "set", "c999", "house"], 3, "no BG or cut 'c999'"),
        (["location", "derived-use", "nope", "--yes"], 3, "no art board"),
    ):
        code, out, err = ok(args)
        assert code == rc and words in err and err.count("\n") == 1 and "Traceback" not in err, (args, err)
    # the board does not allow derived use yet: approval makes no board, show says why
    code, out, err = ok(["render", "--cuts", "c001", "--engine", "exemplar", "--candidates", "1"])
    assert code == 0, err
    ctx = open_production(Path(p))
    try:
        add_user(ctx, "haruka", "director", password="haruka-pass-1", display_name="Haruka Aoki")
        d = bg_detail(ctx, "c001")
        approve(ctx, get_user(ctx, "haruka"), "c001", d.versions[0].id, d.bg.lock_version)
    finally:
        ctx.close()
    code, out, err = ok(["location", "show", "house", "--json"])
    assert code == 0, err
    shown = {b["name"]: b for b in json.loads(out)["bgs"]}
    assert shown["c001"]["board"] is None and "not allowed derived use" in shown["c001"]["why_no_board"]
    code, out, err = ok(["location", "show", "house"])
    assert code == 0 and "derived-use" in out  # the table says how to fix it
    code, out, err = ok(["location", "confirm", "c001", "--as", "haruka"])
    assert code == 6 and "no location board" in out
    # the painter agrees: record it, confirm, and the location has its board
    code, out, err = ok(["location", "derived-use", "tiny", "--yes"])
    assert code == 0 and "derived use allowed" in out, err
    code, out, err = ok(["location", "confirm", "c001", "--as", "haruka", "--json"])
    assert code == 0 and json.loads(out)["outcome"] == "board", out + err
    code, out, err = ok(["location", "show", "house", "--json", "--consistency"])
    d = json.loads(out)
    assert d["bgs"][0]["board"] == "house/c001-r1" and d["boards"][0]["usable"] is True
    assert d["boards"][0]["chain"][0]["artist"] == "Aki Tanaka"
    assert d["consistency"] == []  # one approved BG: nothing to compare yet
    code, out, err = ok(["location", "show", "house"])
    assert "board house/c001-r1 (usable): painted from tiny (Aki Tanaka)" in out, out
    code, out, err = ok(["location", "list", "--json"])
    assert json.loads(out)[0]["boards"] == 1
    code, out, err = ok(["artboard", "list", "--json"])
    assert [b["name"] for b in json.loads(out)] == ["tiny", "house/c001-r1"]
    # c002 renders from the location board
    code, out, err = ok(["render", "--cuts", "c002", "--engine", "exemplar", "--candidates", "1", "--json"])
    assert code == 0, err
    ctx = open_production(Path(p))
    try:
        d2 = bg_detail(ctx, "c002")
        d = bg_detail(ctx, "c002")
        approve(ctx, get_user(ctx, "haruka"), "c002", d2.versions[0].id, d.bg.lock_version)
    finally:
        ctx.close()
    code, out, err = ok(["location", "show", "house", "--consistency"])
    assert code == 0 and "consistency c001 ~ c002:" in out, out + err
