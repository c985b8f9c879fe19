"""Fetch a shot's Background task back from Kitsu through its API: the latest preview as a PNG and
the task's comments as text (what the Kitsu task page shows, without the Kitsu web app).

    python docs/kitsu/fetch_task.py PRODUCTION SHOT OUT_DIR

Credentials and host as for `haikei kitsu` (HAIKEI_KITSU_HOST / _EMAIL / _PASSWORD).
"""

from __future__ import annotations

import sys
from pathlib import Path

from haikei.app import open_production
from haikei.kitsu.client import Kitsu


def main(production: str, shot_name: str, out: str) -> None:
    ctx = open_production(production)
    conf = ctx.settings.kitsu
    k = Kitsu.from_settings(ctx.settings)
    project = k.fetch_first("projects", {"name": conf.project or ctx.settings.production.name})
    assert project is not None, "no such Kitsu project"
    shot = next(s for s in k.fetch_all(f"projects/{project['id']}/shots") if s["name"] == shot_name)
    tt = k.fetch_first("task-types", {"name": conf.bg_task_type})
    assert tt is not None
    task = k.fetch_first("tasks", {"entity_id": shot["id"], "task_type_id": tt["id"]})
    assert task is not None
    statuses = {s["id"]: s["short_name"] for s in k.fetch_all("task-status")}
    comments = sorted(reversed(k.get(f"data/tasks/{task['id']}/comments")), key=lambda c: c["created_at"])
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    lines = [
        f"Kitsu {project['name']} / {shot_name} / {tt['name']} task: {statuses[task['task_status_id']]}",
        "",
    ]
    preview_id = None
    for c in comments:
        previews = [p["id"] if isinstance(p, dict) else p for p in c.get("previews") or []]
        if previews:
            preview_id = previews[0]
        who = (c.get("person") or {}).get("full_name", "?")
        lines.append(
            f"{c['created_at']}  {who}  [{statuses.get(c['task_status_id'], '?')}]"
            + (f"  (preview {previews[0][:8]})" if previews else "")
        )
        lines.extend(f"    {t}" for t in (c.get("text") or "").splitlines())
        lines.append("")
    (out_dir / f"{shot_name}_comments.txt").write_text("\n".join(lines), encoding="utf-8")
    if preview_id:
        pf = k.get(f"data/preview-files/{preview_id}")
        data = k.download(f"pictures/originals/preview-files/{preview_id}.{pf['extension']}")
        (out_dir / f"{shot_name}_preview.{pf['extension']}").write_bytes(data)
        n = len(pf.get("annotations") or [])
        print(f"{shot_name}: preview r{pf['revision']} {pf['width']}x{pf['height']}, {n} annotated frame(s)")
    print(f"{shot_name}: {len(comments)} comments -> {out_dir}")
    ctx.close()


if __name__ == "__main__":
    main(*sys.argv[1:4])
