"""Scale figures of the Kitsu sync against a running Kitsu server (issue 16, item 6).

    scripts/kitsu-test-server.sh start && eval "$(scripts/kitsu-test-server.sh env)"
    .venv/bin/python -m tests.kitsu.scale --shots 300 --push 300

Makes a Kitsu project with SHOTS shots (set-up, not timed), then times on a fresh haikei
production: the first ``pull`` (shots -> cuts, one Background task made per shot), an idle
``sync`` pass (nothing changed), and a ``push`` of PUSH new BG versions (1920x1080 PNGs, the
delivery size). Each figure comes with the number of HTTP requests it took. The versions are
written straight into haikei's database by this harness (a render of 300 BGs is not what is
being measured); everything the sync does goes through haikei's code and a real zou server.

``--preview-width W [W ...]``: one push round per width (``[kitsu] preview_width``; 0 = the
full-size BG), each with PUSH new versions (revision 1, 2 ...) of the same BGs, back to back, so
the figures are taken under the same load (the machine's load average is printed with each).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np


def bg_image(i: int, w: int = 1920, h: int = 1080) -> np.ndarray:
    """A painted-looking BG: soft gradients and some texture (PNG size like a real BG's)."""
    rng = np.random.default_rng(i)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.stack(
        [120 + 60 * np.sin(xx / 300 + i), 140 + 50 * np.cos(yy / 200), 160 + 40 * np.sin((xx + yy) / 500)], -1
    )
    base += rng.normal(0, 6, (h // 8, w // 8, 1)).repeat(8, 0).repeat(8, 1)
    return np.clip(base, 0, 255).astype(np.uint8)


def make_project(k: Any, shots: int) -> dict[str, Any]:
    import gazu

    name = f"haikei-scale-{uuid.uuid4().hex[:8]}"
    project = k.post("data/projects", {"name": name, "production_type": "short"})
    seq = k._call(lambda: gazu.shot.new_sequence(project, "SQ01", client=k.client), "sequence")
    for n in range(shots):
        k._call(
            lambda n=n: gazu.shot.new_shot(
                project,
                seq,
                f"SH{(n + 1) * 10:04d}",
                nb_frames=72,
                data={"resolution": "1920x1080"},
                client=k.client,
            ),
            "shot",
        )
    return project  # type: ignore[no-any-return]


def add_versions(ctx: Any, count: int, revision: int = 1) -> None:
    from sqlalchemy import select

    from haikei.imaging.io import png_bytes
    from haikei.store.tables import BackgroundRow, VersionRow

    with ctx.db.session() as s:
        bgs = s.scalars(select(BackgroundRow).order_by(BackgroundRow.name)).unique().all()[:count]
        ids = [b.id for b in bgs]
    keys = [ctx.blobs.put(png_bytes(bg_image(i + 1000 * revision))) for i in range(len(ids))]
    with ctx.db.session() as s:
        for bid, key in zip(ids, keys, strict=True):
            v = VersionRow(
                background_id=bid,
                revision=revision,
                kind="render",
                engine="exemplar",
                image_blob=key,
                recipe={"seed": 1},
            )
            s.add(v)
            s.flush()
            s.get(BackgroundRow, bid).current_version_id = v.id


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shots", type=int, default=300)
    ap.add_argument("--push", type=int, default=300, help="new BG versions to push")
    ap.add_argument(
        "--preview-width",
        type=int,
        nargs="+",
        default=None,
        help="push rounds, one per [kitsu] preview_width (0 = full size); default: the setting's default",
    )
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()

    from haikei.app import create_production
    from haikei.domain.models import FrameSize
    from haikei.kitsu.client import Kitsu
    from haikei.kitsu.sync import KitsuProject, pull, push, sync_once
    from haikei.settings import Settings

    env_settings = Settings.model_validate({"production": {"name": "x", "width": 1920, "height": 1080}})
    k = Kitsu.from_settings(env_settings)
    t = time.perf_counter()
    project = make_project(k, args.shots)
    setup_s = time.perf_counter() - t
    root = Path(tempfile.mkdtemp(prefix="haikei-kitsu-scale-")) / "prod"
    ctx = create_production(root, "Scale", FrameSize(1920, 1080))
    ctx.settings.kitsu.project = project["name"]
    out: dict[str, Any] = {"shots": args.shots, "setup_seconds": round(setup_s, 1)}

    n0, t = k.requests, time.perf_counter()
    rep = pull(ctx, KitsuProject.load(ctx, k))
    out["pull"] = {
        "seconds": round(time.perf_counter() - t, 2),
        "requests": k.requests - n0,
        "cuts": len(rep.added_cuts),
    }
    assert len(rep.added_cuts) == args.shots, rep.skipped

    sync_once(ctx, k)  # settles the cursors
    n0, t = k.requests, time.perf_counter()
    idle = sync_once(ctx, k)
    out["idle_sync"] = {"seconds": round(time.perf_counter() - t, 2), "requests": k.requests - n0}
    assert not idle.push.published and not idle.pull.added_cuts

    import os

    widths = args.preview_width if args.preview_width is not None else [ctx.settings.kitsu.preview_width]
    rounds = []
    for revision, width in enumerate(widths, start=1):
        ctx.settings.kitsu.preview_width = width
        add_versions(ctx, args.push, revision)
        load0 = os.getloadavg()[0]
        n0, t = k.requests, time.perf_counter()
        pushed = push(ctx, KitsuProject.load(ctx, k))
        secs = time.perf_counter() - t
        rounds.append(
            {
                "preview_width": width,
                "versions": len(pushed.published),
                "seconds": round(secs, 1),
                "requests": k.requests - n0,
                "seconds_per_version": round(secs / max(1, len(pushed.published)), 3),
                "extrapolated_300_seconds": round(secs / max(1, len(pushed.published)) * 300, 1),
                "load_average_1min": [round(load0, 2), round(os.getloadavg()[0], 2)],  # before, after
            }
        )
    out["push"] = rounds[0] if len(rounds) == 1 else rounds
    ctx.close()
    print(json.dumps(out, indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
