"""A located render against the same cut without its location, warm (not collected by pytest).

    .venv/bin/python -m tests.locations.bench_located_render BENCH_OUT_DIR CUT PLACE [N]

Uses a finished location bench (``tests.locations.bench_locations``, any size): renders CUT N + 1
times from its location PLACE, then N + 1 times with its location unset (the same production, the
same engine process), each with a seed not rendered before, and prints every render's wall clock
and engine time and the medians of the last N each way (the first of each group warms the engine's
caches for that way). The cut's location is set back to PLACE at the end. Writes nothing else.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np


def run(out: Path, cut: str, place: str, n: int) -> dict[str, tuple[float, float]]:
    from haikei.app import open_production
    from haikei.services.locations import set_location
    from haikei.services.rendering import RenderSpec, render_spec

    ctx = open_production(out / "prod")
    base = 1000 + int(time.time()) % 100000  # seeds no earlier run of this script rendered
    medians: dict[str, tuple[float, float]] = {}
    try:
        for way, loc, cand in (("located", place, 7), ("without location", None, 8)):
            set_location(ctx, cut, loc)
            walls, engines = [], []
            for i in range(n + 1):
                t = time.perf_counter()
                v = render_spec(
                    ctx, RenderSpec(bg=cut, engine="exemplar", seed=base + i, candidate=cand, actor="bench")
                )
                walls.append(time.perf_counter() - t)
                engines.append(float(v.recipe.get("timings", {}).get("total", float("nan"))))
            print(f"{cut} {way}: wall {[round(w, 2) for w in walls]} engine {[round(e, 2) for e in engines]}")
            medians[way] = (float(np.median(walls[1:])), float(np.median(engines[1:])))
    finally:
        set_location(ctx, cut, place)
        ctx.close()
    (lw, le), (pw, pe) = medians["located"], medians["without location"]
    print(
        f"{cut}: warm medians wall {lw:.2f} / {pw:.2f} s = {lw / pw:.2f}; engine {le:.2f} / {pe:.2f} s = {le / pe:.2f}"
    )
    return medians


def main(argv: list[str]) -> None:
    if len(argv) not in (3, 4) or not (Path(argv[0]) / "prod").is_dir():
        print(
            "bench_located_render: usage: python -m tests.locations.bench_located_render BENCH_OUT_DIR CUT "
            "PLACE [N] (a folder written by tests.locations.bench_locations)",
            file=sys.stderr,
        )
        raise SystemExit(2)
    try:
        n = int(argv[3]) if len(argv) == 4 else 3
    except ValueError:
        n = 0
    if not 1 <= n <= 20:
        print("bench_located_render: N is the number of warm renders each way, 1..20", file=sys.stderr)
        raise SystemExit(2)
    run(Path(argv[0]), argv[1], argv[2], n)


if __name__ == "__main__":
    main(sys.argv[1:])
