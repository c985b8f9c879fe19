"""Review a pushed BG in Kitsu the way a director does in the Kitsu player, through zou's API:
draw an ellipse on the preview (an annotation stored on the preview file) and set the task to
retake with a note. Then, with --mask, save what haikei made of it after `haikei kitsu sync`: the
retake's mask over the BG.

    python docs/kitsu/review_in_kitsu.py PRODUCTION SHOT            # review in Kitsu
    python docs/kitsu/review_in_kitsu.py --mask PRODUCTION SHOT OUT  # haikei's retake mask as a PNG
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from sqlalchemy import select

from haikei.app import open_production
from haikei.kitsu.client import Kitsu


def review(production: str, shot_name: str) -> None:
    ctx = open_production(production)
    k = Kitsu.from_settings(ctx.settings)
    name = ctx.settings.kitsu.project or ctx.settings.production.name
    project = k.fetch_first("projects", {"name": name})
    assert project is not None
    shot = next(s for s in k.fetch_all(f"projects/{project['id']}/shots") if s["name"] == shot_name)
    tt = k.fetch_first("task-types", {"name": ctx.settings.kitsu.bg_task_type})
    task = k.fetch_first("tasks", {"entity_id": shot["id"], "task_type_id": tt["id"]})
    dana = k.fetch_first("persons", {"email": "dana@haikei-studio.jp"}) or k.post(
        "data/persons",
        {
            "first_name": "Dana",
            "last_name": "Director",
            "email": "dana@haikei-studio.jp",
            "role": "supervisor",
        },
    )
    pf = k.get(f"data/preview-files/{task['last_preview_file_id']}")
    # the player's canvas is 800 px wide here; the ellipse rings the far mountains (upper right)
    cw, ch = 800, round(800 * pf["height"] / pf["width"])
    ellipse = {
        "type": "ellipse",
        "left": 430,
        "top": 40,
        "width": 300,
        "height": 150,
        "rx": 150,
        "ry": 75,
        "stroke": "#ff3860",
        "strokeWidth": 4,
        "fill": "transparent",
        "canvasWidth": cw,
        "canvasHeight": ch,
    }
    k.put(
        f"actions/preview-files/{pf['id']}/update-annotations",
        {"additions": [{"time": 0, "drawing": {"objects": [ellipse]}}], "updates": [], "deletions": []},
    )
    retake = k.fetch_first("task-status", {"short_name": ctx.settings.kitsu.status_retake})
    k.post(
        f"actions/tasks/{task['id']}/comment",
        {
            "task_status_id": retake["id"],
            "comment": "the far mountains should be bluer and softer",
            "person_id": dana["id"],
        },
    )
    print(f"{shot_name}: Dana drew on the preview and asked for a retake in Kitsu")
    ctx.close()


def mask(production: str, shot_name: str, out: str) -> None:
    from haikei.imaging.io import load_gray, load_rgb, save_png
    from haikei.store.tables import BackgroundRow, CutRow, NoteRow, VersionRow

    ctx = open_production(production)
    with ctx.db.session() as s:
        bg = s.scalars(select(CutRow).where(CutRow.number == shot_name)).one().background
        note = s.scalars(
            select(NoteRow)
            .where(NoteRow.background_id == bg.id, NoteRow.mask_blob.is_not(None))
            .order_by(NoteRow.id.desc())
        ).first()
        assert note is not None, "no retake with a mask came back"
        v = s.get(VersionRow, note.version_id)
        image = load_rgb(ctx.blobs.get(v.image_blob))
        m = load_gray(ctx.blobs.get(note.mask_blob)) >= 128
        _ = BackgroundRow
    shown = image.astype(np.float32)
    shown[m] = shown[m] * 0.5 + np.array([255, 56, 96]) * 0.5
    Path(out).mkdir(parents=True, exist_ok=True)
    save_png(Path(out) / f"{shot_name}_retake_mask.png", shown.astype(np.uint8))
    print(
        f"{shot_name}: haikei retake by {note.author} on r{v.revision}: {note.text!r}, mask {m.mean():.1%} of the BG"
    )
    ctx.close()


if __name__ == "__main__":
    if sys.argv[1] == "--mask":
        mask(*sys.argv[2:5])
    else:
        review(*sys.argv[1:3])
