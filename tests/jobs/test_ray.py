"""The Ray path end to end, inside a private network namespace (Ray reaches for outside addresses
when it starts; here there are none): a head node, a second node joined with
'haikei worker --address', and 'haikei render --executor ray' placing two actors on them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from haikei.jobs.testbed import build_production
from tests.jobs._checks import check_batch

pytestmark = [pytest.mark.ray, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SIZE = (160, 90)

SCENARIO = """
set -e
export RAY_USAGE_STATS_ENABLED=0
BIN="$(dirname "$PY")"
"$BIN/ray" start --head --node-ip-address=127.0.0.1 --port=6391 --num-cpus=1 --include-dashboard=false \
    --disable-usage-stats --temp-dir="$RAYTMP" >/dev/null
"$PY" -m haikei.cli.main worker --address 127.0.0.1:6391 --node-ip 127.0.0.1 -p "$PROD" >"$RAYTMP/node2.log" 2>&1 &
"$PY" - <<'EOF'
import time, ray
ray.init(address="127.0.0.1:6391", logging_level="ERROR")
deadline = time.time() + 120
while len([n for n in ray.nodes() if n["Alive"]]) < 2:
    assert time.time() < deadline, "second node did not join"
    time.sleep(1)
print("nodes: 2")
EOF
set +e
"$PY" -m haikei.cli.main render --executor ray --address 127.0.0.1:6391 --workers 2 --engine baseline \
    --candidates 2 --heartbeat-s 0.5 --stale-s 5 --json -p "$PROD"
rc=$?
"$BIN/ray" stop --force >/dev/null 2>&1
exit $rc
"""


def test_ray_cluster_of_two_nodes_renders_the_batch(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.skip("needs 'unshare' (util-linux) and 'ip' (iproute2) for a private network namespace")
    probe = subprocess.run([str(ROOT / "scripts/in-netns.sh"), "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot make a network namespace here: {probe.stderr.decode().strip()}")
    prod = tmp_path / "prod"
    ctx = build_production(prod, 4, *SIZE, boards=1, board_scale=0.25)
    try:
        raytmp = tempfile.mkdtemp(prefix="ray-")  # short: Ray's unix socket paths must stay under 108 bytes
        env = dict(os.environ, PY=sys.executable, PROD=str(prod), RAYTMP=raytmp)
        try:
            res = subprocess.run(
                [str(ROOT / "scripts/in-netns.sh"), "sh", "-c", SCENARIO],
                env=env,
                capture_output=True,
                timeout=400,
            )
        finally:
            shutil.rmtree(raytmp, ignore_errors=True)
        out = res.stdout.decode()
        assert res.returncode == 0, out[-3000:] + res.stderr.decode()[-3000:]
        assert "nodes: 2" in out
        gc = subprocess.run(
            [sys.executable, "-m", "haikei.cli.main", "gc", "--min-age", "0", "-p", str(prod)],
            capture_output=True,
        )
        assert gc.returncode == 0, gc.stderr.decode()
        check_batch(ctx, 2, SIZE)
        workers = {j["claimed_by"].split("/")[2] for j in _jobs(prod)}
        assert workers <= {"cpu0", "cpu1"} and workers, workers
    finally:
        ctx.close()


def _jobs(prod: Path) -> list[dict]:  # type: ignore[type-arg]
    import json

    out = subprocess.run(
        [sys.executable, "-m", "haikei.cli.main", "jobs", "--json", "-p", str(prod)],
        capture_output=True,
        check=True,
    )
    return list(json.loads(out.stdout))


DEMO_SCENARIO = """
set -e
export RAY_USAGE_STATS_ENABLED=0
BIN="$(dirname "$PY")"
"$BIN/ray" start --head --node-ip-address=127.0.0.1 --port=6393 --num-cpus=2 --include-dashboard=false \
    --disable-usage-stats --temp-dir="$RAYTMP" >/dev/null
set +e
"$PY" -m haikei.cli.main render --executor ray --address 127.0.0.1:6393 --workers 2 --engine exemplar \
    --candidates 1 --seed 50 --json -p "$PROD"
rc=$?
"$BIN/ray" stop --force >/dev/null 2>&1
exit $rc
"""


def test_ray_renders_the_demo_production(tmp_path: Path) -> None:
    """The demo production (made by `haikei demo`) painted again on a local Ray cluster, exemplar engine."""
    pytest.importorskip("ray")
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.skip("needs 'unshare' (util-linux) and 'ip' (iproute2) for a private network namespace")
    prod = tmp_path / "demo"
    made = subprocess.run(
        [sys.executable, "-m", "haikei.cli.main", "demo", str(prod), "--size", "480x270", "--engine", "baseline",
         "--candidates", "1"],
        capture_output=True,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr.decode()[-2000:]
    raytmp = tempfile.mkdtemp(prefix="ray-")
    env = dict(os.environ, PY=sys.executable, PROD=str(prod), RAYTMP=raytmp)
    try:
        res = subprocess.run(
            [str(ROOT / "scripts/in-netns.sh"), "sh", "-c", DEMO_SCENARIO],
            env=env,
            capture_output=True,
            timeout=400,
        )
    finally:
        shutil.rmtree(raytmp, ignore_errors=True)
    assert res.returncode == 0, res.stdout.decode()[-3000:] + res.stderr.decode()[-3000:]
    jobs = _jobs(prod)
    ray_jobs = [j for j in jobs if j["engine"] == "exemplar"]
    # 7 BGs: 8 cuts, c005 and c006 share one
    assert len(ray_jobs) == 7 and all(j["state"] == "done" for j in ray_jobs)
    assert {j["claimed_by"].split("/")[2] for j in ray_jobs} <= {"cpu0", "cpu1"}
