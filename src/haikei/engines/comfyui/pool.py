"""Several ComfyUI servers as one pool: one job per server at a time.

One pool per list of URLs per process, shared by every engine instance in it (the local
executor's worker threads each build their own engine). A job takes a free server; among free
servers it prefers one whose own queue (GET /queue) is empty, so processes that share the servers
(``--executor process``, Ray actors, other studios' users) spread out too. When every server is
busy a job waits here, where it can still go to whichever server frees first. Servers that do
not answer are skipped; when none answers the job fails with one line naming them.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from haikei.engines.comfyui.client import ComfyClient, ServerDown
from haikei.errors import RenderCanceled

__all__ = ["ServerPool", "pool_for"]

_POOLS: dict[tuple[str, ...], ServerPool] = {}
_POOLS_LOCK = threading.Lock()


class ServerPool:
    def __init__(self, urls: tuple[str, ...], timeout_s: float = 10.0) -> None:
        self.urls = urls
        self.clients = {u: ComfyClient(u, timeout_s) for u in urls}
        self._busy: set[str] = set()
        self._cond = threading.Condition()

    def _order(self, url: str) -> int:
        """Tie-break among equally idle servers, rotated per process: processes that look at the
        same idle servers at the same moment tend to take different ones."""
        return (self.urls.index(url) - os.getpid()) % len(self.urls)

    def client(self, url: str) -> ComfyClient:
        return self.clients[url]

    def _remote_load(self, url: str) -> int | None:
        """Jobs on the server's own queue; None when it does not answer."""
        try:
            running, pending = self.clients[url].queue()
        except Exception:
            return None
        return len(running) + len(pending)

    @contextmanager
    def lease(
        self, cancel: threading.Event, *, prefer: str | None = None, wait_s: float = 86400.0
    ) -> Iterator[ComfyClient]:
        """Hold one server for one job. ``prefer``: the server that already has this job."""
        url = self._acquire(cancel, prefer, wait_s)
        try:
            yield self.clients[url]
        finally:
            with self._cond:
                self._busy.discard(url)
                self._cond.notify_all()

    def _acquire(self, cancel: threading.Event, prefer: str | None, wait_s: float) -> str:
        deadline = time.monotonic() + wait_s
        while True:
            if cancel.is_set():
                raise RenderCanceled("render canceled while waiting for a ComfyUI server")
            with self._cond:
                free = [u for u in self.urls if u not in self._busy]
                if prefer is not None:
                    free = [u for u in free if u == prefer]
                    if not free:
                        self._cond.wait(0.2)
                        continue
            # ask the free servers how busy they are (outside the lock: it is network I/O)
            loads = {u: self._remote_load(u) for u in free} if prefer is None else {prefer: 0}
            answering = {u: n for u, n in loads.items() if n is not None}
            if free and not answering and len(free) == len(self.urls):
                raise ServerDown(
                    "no ComfyUI server answers ("
                    + ", ".join(self.urls)
                    + "); start one or fix [engines.comfyui] servers"
                )
            idle = sorted((n, self._order(u), u) for u, n in answering.items() if n == 0)
            pick = idle[0][2] if idle else None
            if pick is None and answering and time.monotonic() > deadline:
                pick = min((n, self._order(u), u) for u, n in answering.items())[2]
            if pick is not None:
                with self._cond:
                    if pick not in self._busy:
                        self._busy.add(pick)
                        return pick
                continue
            with self._cond:
                self._cond.wait(0.25)


def pool_for(urls: list[str], timeout_s: float) -> ServerPool:
    key = tuple(urls)
    with _POOLS_LOCK:
        pool = _POOLS.get(key)
        if pool is None:
            pool = _POOLS[key] = ServerPool(key, timeout_s)
        return pool
