#!/usr/bin/env bash
# Rebuilds docs/kitsu: the demo production pushed to a local Kitsu (the one command is marked),
# reviewed there by a director (a drawing on the preview + a retake), synced back into haikei,
# then the Kitsu task fetched back through the API (preview PNG + comment listing).
set -euo pipefail
cd "$(dirname "$0")/../.."
DEMO="${DEMO:-/tmp/haikei-kitsu-demo}"
OUT=docs/kitsu
scripts/kitsu-test-server.sh start >/dev/null
eval "$(scripts/kitsu-test-server.sh env)"
.venv/bin/haikei demo "$DEMO" --force --size 960x540 --candidates 1 >/dev/null
# a Kitsu project of its own for each rebuild (the demo folder is rebuilt from nothing)
.venv/bin/python - "$DEMO" <<'PY'
import sys, time, tomllib, pathlib, tomli_w
p = pathlib.Path(sys.argv[1]) / "haikei.toml"
d = tomllib.loads(p.read_text(encoding="utf-8"))
d.setdefault("kitsu", {})["project"] = "haikei demo " + time.strftime("%Y-%m-%d %H%M%S")
p.write_text(tomli_w.dumps(d), encoding="utf-8")
PY
.venv/bin/haikei user add dana --role director --password dana-password --display-name "Dana Director" -p "$DEMO"

# the one command: the demo's cuts become shots of a Kitsu project, every BG a preview for review
.venv/bin/haikei kitsu push --create-shots -p "$DEMO"

.venv/bin/python docs/kitsu/review_in_kitsu.py "$DEMO" c001
.venv/bin/haikei kitsu sync -p "$DEMO"
.venv/bin/python docs/kitsu/fetch_task.py "$DEMO" c001 "$OUT"
.venv/bin/python docs/kitsu/review_in_kitsu.py --mask "$DEMO" c001 "$OUT"
