"""Push BG versions to a real Kitsu, review them there as people do, and sync the review back."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from haikei.imaging.io import load_gray
from haikei.services.users import get_user
from haikei.store.tables import BackgroundRow, JobRow, NoteRow, VersionRow
from tests.foundation.cli import run_cli
from tests.kitsu.conftest import KitsuProd, bg_task, comment, task_comments


def sync(kp: KitsuProd, capsys: Any, *extra: str) -> dict[str, Any]:
    code, out, err = run_cli(["kitsu", "sync", "-p", str(kp.root), "--json", *extra], capsys)
    assert code == 0, err
    return json.loads(out)  # type: ignore[no-any-return]


def bg(ctx: Any, name: str) -> BackgroundRow:
    with ctx.db.session() as s:
        return s.scalars(select(BackgroundRow).where(BackgroundRow.name == name)).unique().one()


def test_push_review_and_back(reviewed_in_kitsu: KitsuProd, capsys: Any) -> None:
    kp = reviewed_in_kitsu
    ctx, admin = kp.ctx, kp.admin
    dana = admin.fetch_first("persons", {"email": "dana@haikei-studio.jp"})
    aki = admin.fetch_first("persons", {"email": "aki@haikei-studio.jp"})

    # 1. pull links haikei's cuts (the shared BG keeps its two cuts), push publishes
    rep = sync(kp, capsys)
    assert rep["pull"]["linked_cuts"] == ["c001", "c002", "c003", "c004"] and rep["pull"]["added_cuts"] == []
    published = sorted((p["bg"], p["shot"]) for p in rep["push"]["published"])
    assert published == [("c001", "c001"), ("c002", "c002"), ("c003-c004", "c003"), ("c003-c004", "c004")]
    t1, t2, t3, t4 = (bg_task(kp, s) for s in ("c001", "c002", "c003", "c004"))
    wfa = admin.fetch_first("task-status", {"short_name": "wfa"})
    for t in (t1, t2, t3, t4):
        cs = task_comments(kp, t["id"])
        assert len(cs) == 1 and len(cs[0]["previews"]) == 1 and t["task_status_id"] == wfa["id"]
    text = task_comments(kp, t1["id"])[0]["text"]
    assert "engine: baseline" in text and "tiny by Aki Tanaka" in text and "seed " in text
    pf = admin.get(f"data/preview-files/{task_comments(kp, t2['id'])[0]['previews'][0]['id']}")
    assert (pf["status"], pf["extension"], pf["width"], pf["height"]) == ("ready", "png", 64, 40)

    # a second pass finds nothing to do on either side
    rep = sync(kp, capsys)
    assert rep["push"]["published"] == [] and rep["push"]["statuses"] == []
    assert rep["review"]["comments"] == rep["review"]["retakes"] == 0
    assert all(len(task_comments(kp, t["id"])) == 1 for t in (t1, t2, t3, t4))

    # 2. review in Kitsu: a plain comment, a drawn retake, an approval, a status on an older version
    comment(admin, t1["id"], "wfa", "the sky is a touch too saturated", aki["id"])
    # Dana draws on c002's preview in the Kitsu player (canvas 320x200; the BG is 64x40):
    # a rectangle over the top-left quarter and a freehand loop near the bottom right
    loop = [["M", 250, 150], ["Q", 300, 150, 300, 180], ["Q", 300, 195, 260, 195], ["Q", 230, 190, 250, 150]]
    objects = [
        {
            "type": "rect",
            "left": 0,
            "top": 0,
            "width": 160,
            "height": 100,
            "stroke": "#ff3860",
            "strokeWidth": 4,
            "fill": "transparent",
            "canvasWidth": 320,
            "canvasHeight": 200,
        },
        {
            "type": "path",
            "path": loop,
            "stroke": "#ff3860",
            "strokeWidth": 4,
            "fill": None,
            "left": 230,
            "top": 150,
            "width": 70,
            "height": 45,
            "canvasWidth": 320,
            "canvasHeight": 200,
        },
    ]
    admin.put(
        f"actions/preview-files/{pf['id']}/update-annotations",
        {"additions": [{"time": 0, "drawing": {"objects": objects}}], "updates": [], "deletions": []},
    )
    comment(admin, t2["id"], "retake", "the mountain reads too light; darken it", dana["id"])
    comment(admin, t1["id"], "done", "good", dana["id"])
    # haikei moves c003-c004 on to r2 before Dana's approval of r1 arrives
    from haikei.services.review import pick

    shared = bg(ctx, "c003-c004")
    with ctx.db.session() as s:
        r2 = s.scalars(
            select(VersionRow.id).where(
                VersionRow.background_id == shared.id, VersionRow.id != shared.current_version_id
            )
        ).one()
    pick(ctx, get_user(ctx, "aki"), "c003-c004", r2, shared.lock_version)
    comment(admin, t3["id"], "done", "ok as it is", dana["id"])

    rep = sync(kp, capsys)
    r = rep["review"]
    assert (r["comments"], r["retakes"], r["approvals"], r["kept"]) == (1, 1, 1, 1), r
    # the comment: a haikei comment by Aki on c001's version
    from haikei.services.comments import comments_of

    c1 = comments_of(ctx, "c001")
    assert [(c.author, c.text) for c in c1] == [("aki", "the sky is a touch too saturated")]
    assert c1[0].version_id == bg(ctx, "c001").approved_version_id
    # the approval: c001 approved by Dana, on the version Kitsu showed
    b1 = bg(ctx, "c001")
    assert b1.status.short_name == "approved" and b1.approved_version_id == b1.current_version_id
    # the retake: on c002's r1, by Dana, its mask = the drawing scaled to 64x40, a job queued
    b2 = bg(ctx, "c002")
    with ctx.db.session() as s:
        note = s.scalars(
            select(NoteRow).where(NoteRow.background_id == b2.id, NoteRow.status_change == "retake")
        ).one()
        job = s.scalars(select(JobRow).where(JobRow.background_id == b2.id, JobRow.kind == "retake")).one()
        assert (note.author, note.text, note.version_id) == (
            "dana",
            "the mountain reads too light; darken it",
            b2.current_version_id,
        )
        assert job.params["mask_blob"] == note.mask_blob
    mask = load_gray(ctx.blobs.get(note.mask_blob)) >= 128
    assert mask.shape == (40, 64)
    assert mask[2:18, 2:30].all()  # inside the rectangle (0..32 x 0..20 at BG scale)
    assert mask[33:38, 50:58].all()  # inside the loop (46..60 x 30..39)
    assert not mask[25:28, 5:20].any() and not mask[2:10, 45:60].any()  # away from both
    assert 0.2 < mask.mean() < 0.45
    # the approval written on r1 after haikei moved to r2: kept as a comment, not applied
    b3 = bg(ctx, "c003-c004")
    assert b3.status.short_name != "approved" and b3.approved_version_id is None
    kept = [c.text for c in comments_of(ctx, "c003-c004")]
    assert len(kept) == 1 and "older version" in kept[0] and "ok as it is" in kept[0]
    # ... and the same pass published r2 on both shots of the shared BG
    assert sorted(p["shot"] for p in rep["push"]["published"]) == ["c003", "c004"]

    # 3. haikei's own approval goes to Kitsu as the mapped status, once
    from haikei.services.review import approve

    b3 = bg(ctx, "c003-c004")
    assert b3.current_version_id is not None
    approve(ctx, get_user(ctx, "dana"), "c003-c004", b3.current_version_id, b3.lock_version, "lovely")
    rep = sync(kp, capsys)
    assert sorted(rep["push"]["statuses"], key=lambda x: x["shot"]) == [
        {"shot": "c003", "status": "done"},
        {"shot": "c004", "status": "done"},
    ]
    done = admin.fetch_first("task-status", {"short_name": "done"})
    assert bg_task(kp, "c003")["task_status_id"] == done["id"]
    rep = sync(kp, capsys)
    assert rep["push"]["statuses"] == [] and rep["review"]["approvals"] == rep["review"]["comments"] == 0
    assert rep["requests"] < 40  # an idle pass: list calls only


def test_push_create_shots_publishes_a_haikei_first_production(
    kitsu_prod: KitsuProd, layouts_dir: Any, capsys: Any
) -> None:
    """The documented one command: a production Kitsu has never seen becomes a Kitsu project."""
    import uuid

    from haikei.services.intake import import_folder
    from haikei.services.rendering import render_backgrounds
    from tests.kitsu.conftest import set_kitsu

    ctx, admin = kitsu_prod.ctx, kitsu_prod.admin
    import_folder(ctx, layouts_dir)
    render_backgrounds(ctx, ["c001", "c003"], engine="baseline", candidates=1, actor="test")
    name = f"haikei-new-{uuid.uuid4().hex[:8]}"
    set_kitsu(kitsu_prod.root, project=name)
    code, out, err = run_cli(["kitsu", "push", "--create-shots", "-p", str(kitsu_prod.root)], capsys)
    assert code == 0, err
    assert f"Kitsu project '{name}': 4 shots made" in out
    project = admin.fetch_first("projects", {"name": name})
    shots = {s["name"]: s for s in admin.fetch_all(f"projects/{project['id']}/shots")}
    assert sorted(shots) == ["c001", "c002", "c003", "c004"]
    assert shots["c003"]["data"]["bg"] == shots["c004"]["data"]["bg"] == "c003-c004"
    assert shots["c001"]["data"]["resolution"] == "64x40"
    assert "published c001 r1 on c001" in out and "published c003-c004 r1 on c004" in out
    assert "c002" not in out.split("shots made")[1]  # c002 has no version yet: nothing to publish
    code, out, err = run_cli(["kitsu", "push", "--create-shots", "-p", str(kitsu_prod.root)], capsys)
    assert code == 0 and "0 shots made" in out and "nothing new to publish" in out
