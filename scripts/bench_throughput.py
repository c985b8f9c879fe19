"""Backgrounds per hour through the queue: N BGs at WxH with ENGINE, 1 worker vs 2 (processes).

    .venv/bin/python scripts/bench_throughput.py --bgs 4 --size 1920x1080 --engine exemplar --workers 1 2

Each configuration gets its own fresh production (same BGs, same boards). --mode cli runs the real
'haikei render' (start-up included); --mode process/thread times a LocalExecutor in this process.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from haikei.jobs.testbed import build_production


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bgs", type=int, default=4)
    ap.add_argument("--size", default="1920x1080")
    ap.add_argument("--engine", default="exemplar")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument(
        "--mode",
        choices=["cli", "process", "thread"],
        default="cli",
        help="cli: the 'haikei render' command (processes, start-up included); process/thread: "
        "LocalExecutor in this process, timed from start() to the last job done",
    )
    args = ap.parse_args()
    w, h = (int(x) for x in args.size.split("x"))
    out = []
    for n in args.workers:
        with tempfile.TemporaryDirectory(prefix="haikei-bench-") as tmp:
            prod = Path(tmp) / "prod"
            build_production(prod, args.bgs, w, h).close()
            t0 = time.perf_counter()
            if args.mode == "cli":
                res = subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "haikei.cli.main",
                        "render",
                        "--engine",
                        args.engine,
                        "--candidates",
                        "1",
                        "--workers",
                        str(n),
                        "--json",
                        "-p",
                        str(prod),
                    ],
                    capture_output=True,
                    text=True,
                )
                wall = time.perf_counter() - t0
                if res.returncode != 0:
                    sys.exit(res.stderr[-2000:])
                done = json.loads(res.stdout)["done"]
            else:
                from haikei.app import open_production
                from haikei.jobs.batch import submit_batch
                from haikei.jobs.local import LocalExecutor

                ctx = open_production(prod)
                ids = [j.id for j in submit_batch(ctx, None, engine=args.engine, candidates=1)]
                t0 = time.perf_counter()
                final = LocalExecutor(ctx, workers=n, mode=args.mode).run_until_empty(ids)
                wall = time.perf_counter() - t0
                done = sum(j.state.value == "done" for j in final)
                ctx.close()
            row = {
                "mode": args.mode,
                "workers": n,
                "bgs": done,
                "seconds": round(wall, 1),
                "bg_per_hour": round(3600 * done / wall, 1),
            }
            print(json.dumps(row), flush=True)
            out.append(row)


if __name__ == "__main__":
    main()
