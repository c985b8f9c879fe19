"""Backgrounds per hour through the queue: N BGs at WxH with ENGINE, 1 worker vs 2 (processes).

    .venv/bin/python scripts/bench_throughput.py --bgs 4 --size 1920x1080 --engine exemplar --workers 1 2

Each configuration gets its own fresh production (same BGs, same boards) and runs the real
'haikei render' command; the wall time includes worker start-up, as a studio would see it.
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
    args = ap.parse_args()
    w, h = (int(x) for x in args.size.split("x"))
    out = []
    for n in args.workers:
        with tempfile.TemporaryDirectory(prefix="haikei-bench-") as tmp:
            prod = Path(tmp) / "prod"
            build_production(prod, args.bgs, w, h).close()
            t0 = time.perf_counter()
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
            row = {
                "workers": n,
                "bgs": done,
                "seconds": round(wall, 1),
                "bg_per_hour": round(3600 * done / wall, 1),
            }
            print(json.dumps(row), flush=True)
            out.append(row)


if __name__ == "__main__":
    main()
