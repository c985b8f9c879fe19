"""How much region_miou moves when a painting's tones move a little (not collected by pytest).

    .venv/bin/python -m tests.locations.bench_tone_sensitivity BENCH_OUT_DIR

Reads a finished location bench (``tests.locations.bench_locations``: BENCH_OUT_DIR/prod and
BENCH_OUT_DIR/locations.json) and scores each other cut's independent painting as painted and with
its whole image's tones nudged: RGB x1.02 and x0.98 (about 2% lighter / darker), warmer (R x1.02,
B x0.98) and cooler (R x0.98, B x1.02), against the production's boards (the reference the bench's
region_miou uses). A located cut is painted in the approved BG's tones, so its region_miou moves by
what such a change moves it; this puts a number on that. Writes BENCH_OUT_DIR/tone_sensitivity.json.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

SHIFTS: dict[str, tuple[float, float, float]] = {
    "lighter_2pct": (1.02, 1.02, 1.02),
    "darker_2pct": (0.98, 0.98, 0.98),
    "warmer": (1.02, 1.0, 0.98),
    "cooler": (0.98, 1.0, 1.02),
}


def run(out: Path) -> dict[str, Any]:
    from sqlalchemy import select

    from haikei.app import open_production
    from haikei.imaging.io import load_gray, load_region_map, load_rgb
    from haikei.quality.metrics import prepare_reference, score_painting
    from haikei.services.artboards import list_artboards, load_board_input
    from haikei.store.tables import BackgroundRow, LayoutRow, VersionRow

    bench = json.loads((out / "locations.json").read_text())
    ctx = open_production(out / "prod")
    ref = prepare_reference(
        [load_board_input(ctx, b) for b in list_artboards(ctx) if b.location_id is None], ctx.vocabulary
    )
    rows = []
    for r in bench["rows"]:
        with ctx.db.session() as s:
            bg = s.scalars(select(BackgroundRow).where(BackgroundRow.name == r["cut"])).one()
            v = s.scalars(
                select(VersionRow)
                .where(VersionRow.background_id == bg.id, VersionRow.candidate == 0)
                .order_by(VersionRow.revision)
            ).first()
            lay = s.get(LayoutRow, v.layout_id) if v is not None and v.layout_id is not None else None
            if v is None or lay is None or lay.regions_blob is None:
                raise SystemExit(f"bench_tone_sensitivity: {r['cut']} has no independent painting in {out}")
            img_blob, lines_blob, reg_blob = v.image_blob, lay.lines_blob, lay.regions_blob
        img = load_rgb(ctx.blobs.get(img_blob))
        lines = load_gray(ctx.blobs.get(lines_blob))
        regions = load_region_map(ctx.blobs.get(reg_blob), ctx.vocabulary)
        base = score_painting(img, lines, regions, ref).region_miou
        moved: dict[str, float | None] = {}
        for name, k in SHIFTS.items():
            shifted = np.clip(img.astype(np.float64) * np.array(k) + 0.5, 0, 255).astype(np.uint8)
            m = score_painting(shifted, lines, regions, ref).region_miou
            moved[name] = None if m is None or base is None else m - base
        rows.append(
            {
                "cut": r["cut"],
                "region_miou_independent": base,
                "change": moved,
                "located_change": r["region_miou_location"] - r["region_miou_independent"],
            }
        )
    ctx.close()
    result = {"bench": str(out), "shifts": SHIFTS, "rows": rows}
    (out / "tone_sensitivity.json").write_text(json.dumps(result, indent=2))
    return result


def main(argv: list[str]) -> None:
    if len(argv) != 1 or not (Path(argv[0]) / "locations.json").is_file():
        print(
            "bench_tone_sensitivity: usage: python -m tests.locations.bench_tone_sensitivity BENCH_OUT_DIR "
            "(a folder written by tests.locations.bench_locations)",
            file=sys.stderr,
        )
        raise SystemExit(2)
    res = run(Path(argv[0]))
    for r in res["rows"]:
        ch = "  ".join(f"{k} {v:+.3f}" for k, v in r["change"].items() if v is not None)
        print(
            f"{r['cut']}: region_miou {r['region_miou_independent']:.3f}; tones moved: {ch}; "
            f"from the location: {r['located_change']:+.3f}"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
