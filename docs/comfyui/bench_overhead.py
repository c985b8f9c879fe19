"""haikei's own cost around a ComfyUI job, measured against the stand-in server.

    PYTHONPATH=. .venv/bin/python docs/comfyui/bench_overhead.py

Eight 960x540 renders (seeds 0-7) through the shipped SDXL template on one stand-in server
(tests/engines/comfy_server.py; it stands in for ComfyUI, which cannot be installed here), then the
first request again (found in the server's history, not painted twice). Prints medians of the
recipe's timings: prepare (images to PNG, prompts, the graph), server (first node to the end on the
server), run (uploads, queue, follow, history, view), total. haikei's overhead is total - server.
"""

import statistics
import tempfile
import time
from pathlib import Path

from tests.engines.comfy_server import ComfyStandIn
from tests.engines.contract import tiny_board, tiny_layout
from tests.engines.test_comfyui import request

from haikei.engines.base import EngineContext
from haikei.engines.comfyui import create

s = ComfyStandIn(Path(tempfile.mkdtemp())).start()
lines, regions = tiny_layout(540, 960)
board = tiny_board(h=540, w=960)
e = create({"servers": [s.url], "template": "example:sdxl_lineart_ipadapter"})
rows = []
for seed in range(8):
    r = e.render(request(seed=seed, lines=lines, regions=regions, boards=(board,)), EngineContext())
    rows.append(r.timings)
for k in ("prepare_s", "server_s", "run_s", "total_s"):
    print(k, round(statistics.median(t[k] for t in rows), 3))
# found again: same request a second time
t = time.perf_counter()
r = e.render(request(seed=0, lines=lines, regions=regions, boards=(board,)), EngineContext())
print("found again", r.recipe["found_again"], round(time.perf_counter() - t, 3))
s.stop()
