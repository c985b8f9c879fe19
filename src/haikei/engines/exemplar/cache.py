"""The one cache type of the painter: at most ``size`` entries, the oldest entry leaves first.

Everything the painter keeps between renders (boards prepared at a render's scale, atlases and
what hangs on them, a variant's repaint, the palette maps of variants, a board's grain spectrum and
brush contrast) depends only on its key, so a hit returns exactly what a miss would compute: the
caches change timings, never pixels. Bounds are per cache, chosen by what one render uses (see
``specs/engines.md``); they keep a long session's memory flat.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from typing import Generic, TypeVar

__all__ = ["BoundedCache"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class BoundedCache(Generic[K, V]):
    """A keyed store of at most ``size`` values; putting a new key into a full cache drops the
    oldest one (first in, first out: what one render puts in, it reads back in the same order).
    Safe to share between threads (one lock around each operation; values are computed outside it)."""

    def __init__(self, size: int, name: str = "") -> None:
        if size < 1:
            raise ValueError("a cache holds at least one entry")
        self.size = size
        self.name = name
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            return self._entries.get(key)

    def put(self, key: K, value: V) -> V:
        """Store ``value`` under ``key`` (replacing an entry of that key) and return it."""
        with self._lock:
            self._entries.pop(key, None)
            while len(self._entries) >= self.size:
                self._entries.popitem(last=False)
            self._entries[key] = value
        return value

    def get_or_make(self, key: K, make: Callable[[], V]) -> V:
        """The value under ``key``, made by ``make()`` and stored on a miss."""
        hit = self.get(key)
        return hit if hit is not None else self.put(key, make())

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def keys(self) -> list[K]:
        with self._lock:
            return list(self._entries)

    def values(self) -> list[V]:
        with self._lock:
            return list(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __iter__(self) -> Iterator[K]:
        return iter(self.keys())

    def __repr__(self) -> str:
        return f"BoundedCache({self.name or '?'}: {len(self)}/{self.size})"
