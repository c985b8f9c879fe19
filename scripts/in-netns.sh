#!/bin/sh
# Run a command inside a private network namespace that has only a loopback interface (127.0.0.1).
# Ray (and anything else) started this way cannot reach or be reached from any outside address.
#   scripts/in-netns.sh .venv/bin/python -m pytest -m ray tests/jobs
# Needs util-linux 'unshare' and iproute2 'ip', and the right to make namespaces (root, or
# unprivileged user namespaces: then it maps the caller to root inside with -r).
set -eu
if [ "$#" -eq 0 ]; then
    echo "usage: $0 COMMAND [ARG...]" >&2
    exit 2
fi
command -v unshare >/dev/null || { echo "in-netns: 'unshare' (util-linux) is missing" >&2; exit 2; }
command -v ip >/dev/null || { echo "in-netns: 'ip' (iproute2) is missing; apt-get install iproute2" >&2; exit 2; }
if [ "$(id -u)" -eq 0 ]; then
    exec unshare -n -- sh -c 'ip link set lo up && export HAIKEI_IN_NETNS=1 && exec "$@"' in-netns "$@"
fi
exec unshare -r -n -- sh -c 'ip link set lo up && export HAIKEI_IN_NETNS=1 && exec "$@"' in-netns "$@"
