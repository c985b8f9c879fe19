"""[kitsu] preview_width: a BG wider than it is published at that width (less work for Kitsu per
version); Kitsu shows the same picture, the comment says where the full size is, and a drawing
on the smaller preview still becomes a mask at the BG's size."""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import select

from haikei.imaging.io import load_gray, load_rgb, resize
from haikei.store.tables import NoteRow, VersionRow
from tests.kitsu.conftest import KitsuProd, bg_task, comment, set_kitsu, task_comments
from tests.kitsu.test_review_loop import bg, sync


def test_a_wide_bg_is_published_at_preview_width(reviewed_in_kitsu: KitsuProd, capsys: Any) -> None:
    kp = reviewed_in_kitsu
    set_kitsu(kp.root, preview_width=32)  # the test BGs are 64x40: 32 stands for 1200 under 1920
    ctx = kp.reopen()
    admin = kp.admin
    rep = sync(kp, capsys)
    assert len(rep["push"]["published"]) == 4
    t1 = bg_task(kp, "c001")
    (c,) = task_comments(kp, t1["id"])
    assert "preview 32x20; the full-size 64x40 BG is in haikei" in c["text"]
    assert c["text"].rstrip().endswith("]")  # the mark a resumed push looks for stays last
    pf = admin.get(f"data/preview-files/{c['previews'][0]['id']}")
    assert (pf["status"], pf["width"], pf["height"]) == ("ready", 32, 20)
    # what Kitsu shows is haikei's current version, scaled (not another picture)
    shown = load_rgb(admin.download(f"pictures/originals/preview-files/{pf['id']}.png"))
    b1 = bg(ctx, "c001")
    with ctx.db.session() as s:
        v = s.get(VersionRow, b1.current_version_id)
        assert v is not None
        full = load_rgb(ctx.blobs.get(v.image_blob))
    assert full.shape == (40, 64, 3) and shown.shape == (20, 32, 3)
    assert np.abs(shown.astype(int) - resize(full, 32, 20, labels=False).astype(int)).mean() < 2.0
    # the shared BG's two shots get the same picture
    s3, s4 = (task_comments(kp, bg_task(kp, s)["id"])[0]["previews"][0]["id"] for s in ("c003", "c004"))
    assert admin.download(f"pictures/originals/preview-files/{s3}.png") == admin.download(
        f"pictures/originals/preview-files/{s4}.png"
    )

    # Dana rings the left half of the 32x20 preview in the player (canvas 320x200): the retake's
    # mask is the left half of the 64x40 BG
    dana = admin.fetch_first("persons", {"email": "dana@haikei-studio.jp"})
    rect = {
        "type": "rect",
        "left": 0,
        "top": 0,
        "width": 160,
        "height": 200,
        "stroke": "#ff3860",
        "strokeWidth": 2,
        "fill": "transparent",
        "canvasWidth": 320,
        "canvasHeight": 200,
    }
    admin.put(
        f"actions/preview-files/{pf['id']}/update-annotations",
        {"additions": [{"time": 0, "drawing": {"objects": [rect]}}], "updates": [], "deletions": []},
    )
    comment(admin, t1["id"], "retake", "warmer on the left", dana["id"])
    rep = sync(kp, capsys)
    assert rep["review"]["retakes"] == 1
    with ctx.db.session() as s:
        note = s.scalars(
            select(NoteRow).where(NoteRow.background_id == b1.id, NoteRow.status_change == "retake")
        ).one()
        mask = load_gray(ctx.blobs.get(note.mask_blob)) >= 128
    assert mask.shape == (40, 64)
    assert mask[2:38, 2:30].all() and not mask[:, 36:].any()
