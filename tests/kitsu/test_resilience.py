"""The sync survives anything: kill -9 mid-sync (a real subprocess), Kitsu down, Kitsu answering 5xx."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from haikei.store.tables import KitsuCommentRow, KitsuPushRow, NoteRow
from tests.conftest import snapshot
from tests.foundation.cli import run_cli
from tests.kitsu.conftest import FlakyProxy, KitsuProd, bg_task, comment, set_kitsu, task_comments

HAIKEI = [sys.executable, "-m", "haikei.cli.main"]


def _count(db: Path, sql: str) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.05) as c:
            return int(c.execute(sql).fetchone()[0])
    except sqlite3.Error:
        return 0  # the table may not exist yet, or the writer holds the lock for a moment


def sync_killed_when(kp: KitsuProd, sql: str, at_least: int, timeout: float = 120.0) -> bool:
    """Run `haikei kitsu sync` in a real process and kill -9 it as soon as ``sql`` counts
    ``at_least``; True when it was killed (False: it finished first)."""
    db = kp.root / "haikei.db"
    proc = subprocess.Popen(
        [*HAIKEI, "kitsu", "sync", "-p", str(kp.root)],
        env={**os.environ},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    t0 = time.monotonic()
    while proc.poll() is None and time.monotonic() - t0 < timeout:
        if _count(db, sql) >= at_least:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.003)
    _, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err.decode()
    return False


def test_kill_9_mid_sync_then_sync_again_duplicates_nothing_and_loses_nothing(
    reviewed_in_kitsu: KitsuProd, capsys: Any
) -> None:
    kp = reviewed_in_kitsu
    ctx, admin = kp.ctx, kp.admin
    # push: killed while the first preview is pending, then synced to the end
    assert sync_killed_when(kp, "SELECT count(*) FROM kitsu_pushes", 1), "it finished before the kill"
    code, _out, err = run_cli(["kitsu", "sync", "-p", str(kp.root)], capsys)
    assert code == 0, err
    tasks = {s: bg_task(kp, s) for s in ("c001", "c002", "c003", "c004")}
    for shot, t in tasks.items():
        cs = task_comments(kp, t["id"])
        assert len(cs) == 1, (shot, [c["text"] for c in cs])  # one comment per version, no second
        assert len(cs[0]["previews"]) == 1  # one preview, uploaded
        pf = admin.get(f"data/preview-files/{cs[0]['previews'][0]['id']}")
        assert pf["status"] == "ready" and pf["file_size"] > 0
    with ctx.db.session() as s:
        pushes = s.scalars(select(KitsuPushRow)).all()
        assert len(pushes) == 4 and all(p.state == "done" for p in pushes)

    # review: three comments in Kitsu; killed once the first is pending, then synced again
    dana = admin.fetch_first("persons", {"email": "dana@haikei-studio.jp"})
    aki = admin.fetch_first("persons", {"email": "aki@haikei-studio.jp"})
    comment(admin, tasks["c001"]["id"], "wfa", "first note on c001", aki["id"])
    comment(admin, tasks["c001"]["id"], "wfa", "second note on c001", aki["id"])
    comment(admin, tasks["c002"]["id"], "retake", "c002: the river is too bright", dana["id"])
    assert sync_killed_when(kp, "SELECT count(*) FROM kitsu_comments", 1), "it finished before the kill"
    code, _out, err = run_cli(["kitsu", "sync", "-p", str(kp.root)], capsys)
    assert code == 0, err
    from haikei.services.comments import comments_of

    assert [c.text for c in comments_of(ctx, "c001")] == ["first note on c001", "second note on c001"]
    with ctx.db.session() as s:
        notes = s.scalars(select(NoteRow.text).where(NoteRow.status_change == "retake")).all()
        assert notes == ["c002: the river is too bright"]  # a retake without a drawing: once
        assert all(r.state == "done" for r in s.scalars(select(KitsuCommentRow)))
    # and Kitsu got nothing twice either: the BG tasks hold only what was pushed plus the review
    assert len(task_comments(kp, tasks["c001"]["id"])) == 3


def test_kitsu_down_is_one_line_and_haikei_keeps_working(
    kitsu_prod: KitsuProd, capsys: Any, monkeypatch: Any
) -> None:
    set_kitsu(kitsu_prod.root, retries=2, backoff_seconds=0.05)
    monkeypatch.setenv("HAIKEI_KITSU_HOST", "http://127.0.0.1:9")  # nothing listens there
    before = snapshot(kitsu_prod.ctx)
    t0 = time.monotonic()
    code, _out, err = run_cli(["kitsu", "sync", "-p", str(kitsu_prod.root)], capsys)
    assert code == 5
    assert err.count("\n") == 1 and "unavailable" in err and "after 3 tries" in err and "Traceback" not in err
    assert time.monotonic() - t0 < 10  # backoff 0.05 + 0.1 s, not a hang
    assert snapshot(kitsu_prod.ctx) == before
    code, _out, err = run_cli(["status", "-p", str(kitsu_prod.root)], capsys)
    assert code == 0, err


def test_5xx_is_retried_with_backoff(
    kitsu_prod: KitsuProd, flaky: FlakyProxy, capsys: Any, monkeypatch: Any
) -> None:
    set_kitsu(kitsu_prod.root, retries=3, backoff_seconds=0.05)
    monkeypatch.setenv("HAIKEI_KITSU_HOST", flaky.url)
    flaky.fail_next = 2  # the first two answers are 503
    code, out, err = run_cli(["kitsu", "sync", "-p", str(kitsu_prod.root), "--json"], capsys)
    assert code == 0, err
    assert flaky.failed == 2 and flaky.forwarded > 5
    assert json.loads(out)["pull"]["shots"] == 0
    flaky.down = True  # now every answer is 503: one line, exit 5
    code, out, err = run_cli(["kitsu", "sync", "-p", str(kitsu_prod.root)], capsys)
    assert code == 5 and err.count("\n") == 1 and "HTTP 503" in err


def test_watch_backs_off_while_kitsu_is_down_then_syncs(
    kitsu_prod: KitsuProd, flaky: FlakyProxy, capsys: Any, monkeypatch: Any
) -> None:
    set_kitsu(kitsu_prod.root, retries=1, backoff_seconds=0.05)
    monkeypatch.setenv("HAIKEI_KITSU_HOST", flaky.url)
    flaky.fail_next = 2  # the first pass fails (2 tries), the second gets through
    sleeps: list[float] = []
    real_sleep = time.sleep

    def sleep(s: float) -> None:
        sleeps.append(s)
        real_sleep(min(s, 0.05))

    monkeypatch.setattr("haikei.cli.kitsu.time.sleep", sleep)
    code, out, err = run_cli(
        ["kitsu", "sync", "-p", str(kitsu_prod.root), "--watch", "--interval", "1", "--passes", "3"], capsys
    )
    assert code == 0, err
    assert err.count("unavailable") == 1 and err.count("\n") == 1
    assert out.count("kitsu sync:") == 2
    assert sleeps == [2.0, 1.0]  # backed off after the failed pass, back to the interval after
