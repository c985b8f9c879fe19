"""`haikei kitsu check` and `haikei kitsu pull` against a real Kitsu (zou) server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select

from haikei.imaging.io import load_gray, png_bytes
from haikei.services.users import add_user
from haikei.store.tables import BackgroundRow, CutRow, KitsuShotRow, LayoutRow
from tests.conftest import snapshot
from tests.engines.contract import tiny_layout
from tests.foundation.cli import run_cli
from tests.kitsu.conftest import KitsuProd, new_shots, person


def publish_picture(admin: Any, task_id: str, png: bytes, tmp: Path, text: str = "") -> dict[str, Any]:
    """A picture preview on a task, the way an artist publishes one in Kitsu (comment + preview)."""
    st = admin.fetch_first("task-status", {"short_name": "wfa"})
    c = admin.post(f"actions/tasks/{task_id}/comment", {"task_status_id": st["id"], "comment": text})
    pf = admin.post(f"actions/tasks/{task_id}/comments/{c['id']}/add-preview", {})
    path = tmp / f"{pf['id']}.png"
    path.write_bytes(png)
    return admin.upload(f"pictures/preview-files/{pf['id']}", str(path))  # type: ignore[no-any-return]


def layout_task(admin: Any, project: dict[str, Any], shot: dict[str, Any]) -> dict[str, Any]:
    lay = admin.fetch_first("task-types", {"name": "Layout"})
    admin.post(
        f"data/projects/{project['id']}/settings/task-types", {"task_type_id": lay["id"], "priority": 1}
    )
    tasks = admin.post(f"data/entities/{shot['id']}/tasks", {"task_type_ids": [lay["id"]]})
    return tasks[0]  # type: ignore[no-any-return]


def test_check_then_pull_makes_cuts_groups_assigns_and_imports_layouts(
    kitsu_prod: KitsuProd, tmp_path: Path, capsys: Any
) -> None:
    admin, project, ctx = kitsu_prod.admin, kitsu_prod.project, kitsu_prod.ctx
    aki = person(admin, "Aki", "Tanaka", "aki@haikei-studio.jp")
    add_user(ctx, "aki", "artist", password="aki-password", display_name="Aki Tanaka")
    shots = new_shots(
        admin,
        project,
        ["SH010", "SH020", "SH030"],
        SH010={"resolution": "64x40"},
        SH020={"bg": "BG02", "resolution": "64x40"},
        SH030={"bg": "BG02"},
    )
    # SH010 has a Layout task with a picture preview twice the BG's size (same aspect)
    lay = layout_task(admin, project, shots[0])
    lines, _ = tiny_layout(80, 128)
    publish_picture(admin, lay["id"], png_bytes(lines), tmp_path, "layout v1")

    code, out, err = run_cli(["kitsu", "check", "-p", str(kitsu_prod.root), "--json"], capsys)
    assert code == 0, err
    info = json.loads(out)
    assert info["project"] == project["name"] and info["shots"] == 3
    assert "admin@example.com" in info["as"]

    code, out, err = run_cli(["kitsu", "pull", "-p", str(kitsu_prod.root), "--json"], capsys)
    assert code == 0, err
    rep = json.loads(out)
    assert rep["shots"] == 3 and rep["created_tasks"] == 3
    assert sorted(rep["added_cuts"]) == ["SH010", "SH020", "SH030"]
    assert sorted(rep["added_backgrounds"]) == ["SH010", "SH020-SH030"]  # 兼用 by the shot data field
    assert rep["new_layouts"] == [{"bg": "SH010", "revision": 1}]
    with ctx.db.session() as s:
        cuts = {c.number: c for c in s.scalars(select(CutRow))}
        assert (cuts["SH010"].width, cuts["SH010"].height) == (64, 40)  # the shot's resolution
        assert (cuts["SH030"].width, cuts["SH030"].height) == (1920, 1080)  # the project's
        assert cuts["SH020"].background_id == cuts["SH030"].background_id != cuts["SH010"].background_id
        assert {r.name: r.nb_frames for r in s.scalars(select(KitsuShotRow))} == {
            "SH010": 24,
            "SH020": 24,
            "SH030": 24,
        }
        lay_row = s.scalars(select(LayoutRow)).one()
        assert lay_row.artist == "Super Admin" and not lay_row.labelled
        got = load_gray(ctx.blobs.get(lay_row.lines_blob))
    assert got.shape == (40, 64)  # resampled to the BG
    assert np.abs(got.astype(int) - lines[::2, ::2].astype(int)).mean() < 40

    # the BG task's assignee comes across by e-mail
    bg_task = admin.fetch_first(
        "tasks",
        {
            "entity_id": shots[0]["id"],
            "task_type_id": admin.fetch_first("task-types", {"name": "Background"})["id"],
        },
    )
    admin.put(f"actions/persons/{aki['id']}/assign", {"task_ids": [bg_task["id"]]})
    code, out, err = run_cli(["kitsu", "pull", "-p", str(kitsu_prod.root), "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["assigned"] == [{"bg": "SH010", "user": "aki"}]

    # a second pull changes nothing at all (every row and every blob as it was)
    before = snapshot(ctx)
    code, out, err = run_cli(["kitsu", "pull", "-p", str(kitsu_prod.root), "--json"], capsys)
    assert code == 0, err
    again = json.loads(out)
    assert (
        again["added_cuts"] == again["new_layouts"] == again["assigned"] == [] and again["created_tasks"] == 0
    )
    after = snapshot(ctx)
    rows_b, rows_a = before[0], after[0]
    rows_b.pop("kitsu_shots"), rows_a.pop("kitsu_shots")  # pulled_at is not touched, but compare the rest
    assert rows_a == rows_b and after[1] == before[1]

    # a changed layout preview makes a new layout revision
    lines2 = lines.copy()
    lines2[10:12, :] = 0
    publish_picture(admin, lay["id"], png_bytes(lines2), tmp_path, "layout v2")
    code, out, err = run_cli(["kitsu", "pull", "-p", str(kitsu_prod.root), "--json"], capsys)
    assert json.loads(out)["new_layouts"] == [{"bg": "SH010", "revision": 2}]
    with ctx.db.session() as s:
        bg = s.scalars(select(BackgroundRow).where(BackgroundRow.name == "SH010")).unique().one()
        assert bg.assignee_id is not None


def test_pull_refuses_a_wrong_project_name_in_one_line(kitsu_prod: KitsuProd, capsys: Any) -> None:
    from tests.kitsu.conftest import set_kitsu

    set_kitsu(kitsu_prod.root, project="No Such Show")
    before = snapshot(kitsu_prod.ctx)
    code, _out, err = run_cli(["kitsu", "pull", "-p", str(kitsu_prod.root)], capsys)
    assert code == 1
    assert err.count("\n") == 1 and "project = 'No Such Show'" in err and "Traceback" not in err
    assert snapshot(kitsu_prod.ctx) == before


def test_credentials_only_from_the_environment(kitsu_prod: KitsuProd, capsys: Any, monkeypatch: Any) -> None:
    monkeypatch.delenv("HAIKEI_KITSU_PASSWORD")
    code, _out, err = run_cli(["kitsu", "check", "-p", str(kitsu_prod.root)], capsys)
    assert code == 2 and "HAIKEI_KITSU_EMAIL and HAIKEI_KITSU_PASSWORD" in err and err.count("\n") == 1
    monkeypatch.setenv("HAIKEI_KITSU_PASSWORD", "wrong-password")
    code, _out, err = run_cli(["kitsu", "check", "-p", str(kitsu_prod.root)], capsys)
    assert code == 1 and "refused the credentials" in err and err.count("\n") == 1
    assert "wrong-password" not in (kitsu_prod.root / "haikei.toml").read_text()


def test_an_idle_pass_costs_the_same_list_calls_for_3_or_15_shots(kitsu_prod: KitsuProd, capsys: Any) -> None:
    """Batched list calls: the requests of an idle sync pass do not grow with the shots."""

    def idle_requests() -> int:
        for _ in range(2):  # the first pass settles the cursors, the second is the idle one
            code, out, err = run_cli(["kitsu", "sync", "-p", str(kitsu_prod.root), "--json"], capsys)
            assert code == 0, err
        rep = json.loads(out)
        assert rep["seconds"] < 5.0, (
            rep
        )  # item 6 asks 2 s (measured by tests.kitsu.scale); slack for a busy CI
        return int(rep["requests"])

    new_shots(kitsu_prod.admin, kitsu_prod.project, [f"SH{n:03d}" for n in range(10, 40, 10)])
    few = idle_requests()
    new_shots(kitsu_prod.admin, kitsu_prod.project, [f"SH{n:03d}" for n in range(40, 160, 10)], seq="SQ02")
    many = idle_requests()
    assert few == many <= 15
