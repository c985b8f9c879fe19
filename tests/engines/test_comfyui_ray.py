"""The comfyui engine on the Ray executor: `haikei render --executor ray --workers 2` with two
stand-in ComfyUI servers (tests/engines/comfy_server.py; it stands in for ComfyUI, which cannot be
installed here), all inside a private network namespace like tests/jobs/test_ray.py: Ray reaches
for outside addresses when it starts; there are none."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

pytest.importorskip("websockets")

from tests.engines.test_comfyui_production import make_production

pytestmark = [pytest.mark.ray, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]

SCENARIO = """
set -e
export RAY_USAGE_STATS_ENABLED=0
BIN="$(dirname "$PY")"
"$PY" -m tests.engines.comfy_server --port 18188 --root "$RAYTMP/comfy_a" --step-delay 0.02 &
A=$!
"$PY" -m tests.engines.comfy_server --port 18189 --root "$RAYTMP/comfy_b" --step-delay 0.02 &
B=$!
"$BIN/ray" start --head --node-ip-address=127.0.0.1 --port=6395 --num-cpus=2 --include-dashboard=false \
    --disable-usage-stats --temp-dir="$RAYTMP/ray" >/dev/null
set +e
"$PY" -m haikei.cli.main render --executor ray --address 127.0.0.1:6395 --workers 2 --engine comfyui \
    --cuts c001,c002 --candidates 2 --json -p "$PROD" >"$RAYTMP/render.json" 2>"$RAYTMP/render.err"
rc=$?
"$PY" -c "import httpx, json; print(json.dumps([httpx.get(f'http://127.0.0.1:{p}/_test/state').json() for p in (18188, 18189)]))" >"$RAYTMP/servers.json"
"$BIN/ray" stop --force >/dev/null 2>&1
kill $A $B
exit $rc
"""


def test_ray_executor_renders_through_two_comfyui_servers(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.skip("needs 'unshare' (util-linux) and 'ip' (iproute2) for a private network namespace")
    prod = tmp_path / "prod"
    make_production(prod, tmp_path / "layouts", ["http://127.0.0.1:18188", "http://127.0.0.1:18189"])
    raytmp = tempfile.mkdtemp(prefix="ray-")
    env = dict(os.environ, PY=sys.executable, PROD=str(prod), RAYTMP=raytmp)
    try:
        res = subprocess.run(
            [str(ROOT / "scripts/in-netns.sh"), "sh", "-c", SCENARIO],
            env=env,
            cwd=ROOT,
            capture_output=True,
            timeout=300,
        )
        out = Path(raytmp, "render.json").read_text() if Path(raytmp, "render.json").exists() else ""
        err = Path(raytmp, "render.err").read_text()[-2000:] if Path(raytmp, "render.err").exists() else ""
        servers = json.loads(Path(raytmp, "servers.json").read_text())
    finally:
        shutil.rmtree(raytmp, ignore_errors=True)
    assert res.returncode == 0, out + err + res.stdout.decode()[-3000:] + res.stderr.decode()[-3000:]
    summary = json.loads(out)
    assert summary["done"] == 4 and not summary["failed"]
    assert all(s["max_depth"] == 1 for s in servers), servers
    assert sum(len(s["history"]) for s in servers) == 4
