"""haikei's approval and delivery reach Kitsu as the mapped statuses, on every shot, once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from haikei.services.delivery import export
from haikei.services.review import approve
from haikei.services.users import get_user
from tests.kitsu.conftest import KitsuProd, bg_task, set_kitsu, task_comments
from tests.kitsu.test_review_loop import bg, sync


def test_approval_then_delivery_set_the_mapped_statuses(
    reviewed_in_kitsu: KitsuProd, capsys: Any, tmp_path: Path
) -> None:
    kp = reviewed_in_kitsu
    admin = kp.admin
    # the studio's Kitsu has its own "Delivered" status; haikei's [kitsu] maps delivery to it
    short = "dlvd"
    delivered = admin.fetch_first("task-status", {"short_name": short}) or admin.post(
        "data/task-status", {"name": "Delivered", "short_name": short, "color": "#22d160"}
    )
    set_kitsu(kp.root, status_approved="done", status_delivered=short)
    ctx = kp.reopen()
    done = admin.fetch_first("task-status", {"short_name": "done"})
    wfa = admin.fetch_first("task-status", {"short_name": "wfa"})

    rep = sync(kp, capsys)
    assert len(rep["push"]["published"]) == 4 and rep["push"]["statuses"] == []
    shots = ("c001", "c002", "c003", "c004")
    tasks = {s: bg_task(kp, s)["id"] for s in shots}
    counts = {s: len(task_comments(kp, t)) for s, t in tasks.items()}

    # 1. approved in haikei (the shared BG serves two shots): "done" on each of its shots' tasks
    dana = get_user(ctx, "dana")
    for name in ("c001", "c003-c004"):
        b = bg(ctx, name)
        assert b.current_version_id is not None
        approve(ctx, dana, name, b.current_version_id, b.lock_version, "approved for delivery")
    rep = sync(kp, capsys)
    assert sorted((x["shot"], x["status"]) for x in rep["push"]["statuses"]) == [
        ("c001", "done"),
        ("c003", "done"),
        ("c004", "done"),
    ]
    assert rep["push"]["published"] == [] and rep["review"]["approvals"] == 0
    status = {s: bg_task(kp, s)["task_status_id"] for s in shots}
    assert status == {"c001": done["id"], "c002": wfa["id"], "c003": done["id"], "c004": done["id"]}
    last = task_comments(kp, tasks["c003"])[-1]
    assert last["task_status_id"] == done["id"] and "approved in haikei by dana" in last["text"]
    assert "approved for delivery" in last["text"]
    rep = sync(kp, capsys)
    assert rep["push"]["statuses"] == [] and rep["push"]["published"] == []

    # 2. exported (delivered) in haikei: the delivered status on the same three tasks
    out = export(ctx, tmp_path / "delivery", only_approved=True, sign=False)
    assert sorted(d["bg"] for d in out.delivered) == ["c001", "c003-c004"]
    assert bg(ctx, "c001").status.short_name == ctx.settings.review.delivered
    rep = sync(kp, capsys)
    assert sorted((x["shot"], x["status"]) for x in rep["push"]["statuses"]) == [
        ("c001", short),
        ("c003", short),
        ("c004", short),
    ]
    status = {s: bg_task(kp, s)["task_status_id"] for s in shots}
    assert status == {
        "c001": delivered["id"],
        "c002": wfa["id"],
        "c003": delivered["id"],
        "c004": delivered["id"],
    }

    # 3. a second pass does nothing more: no status, no preview, no comment on any task
    rep = sync(kp, capsys)
    assert rep["push"]["statuses"] == [] and rep["push"]["published"] == []
    assert rep["review"]["comments"] == rep["review"]["approvals"] == rep["review"]["kept"] == 0
    assert {s: len(task_comments(kp, t)) for s, t in tasks.items()} == {
        "c001": counts["c001"] + 2,
        "c002": counts["c002"],
        "c003": counts["c003"] + 2,
        "c004": counts["c004"] + 2,
    }
