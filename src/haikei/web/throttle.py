"""Login throttling: after ``limit`` failed logins for one user name, or from one client address,
within ``window_s`` seconds, further attempts for it are refused until the oldest of those
failures is ``window_s`` old (a sliding window: at most ``limit`` guesses per window).

Kept in memory, one per app (``app.state.login_throttle``): a restart forgets it, and several
server processes each count on their own. Refused attempts are not checked against the password
(no argon2 work for an attacker to cause) and are not counted. A successful login clears the
user name's and the client's failures.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable

from haikei.errors import PermissionDenied

__all__ = ["LoginThrottle", "TooManyAttempts"]


class TooManyAttempts(PermissionDenied):
    """Too many failed logins recently (HTTP 429)."""


class LoginThrottle:
    def __init__(
        self,
        *,
        limit: int = 5,
        window_s: float = 300.0,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self.max_keys = max_keys
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def keys(username: str, client: str | None) -> list[str]:
        out = [f"user:{username.strip().lower()}"]
        if client:
            out.append(f"client:{client}")
        return out

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._failures.get(key)
        if q is None:
            return deque()
        while q and q[0] <= now - self.window_s:
            q.popleft()
        if not q:
            del self._failures[key]
        return q

    def check(self, keys: Iterable[str]) -> None:
        """TooManyAttempts when any key has ``limit`` failures within the window."""
        now = self._clock()
        with self._lock:
            wait = 0.0
            for key in keys:
                q = self._recent(key, now)
                if len(q) >= self.limit:
                    wait = max(wait, q[-self.limit] + self.window_s - now)
        if wait > 0:
            minutes = max(1, math.ceil(wait / 60))
            raise TooManyAttempts(
                f"too many failed logins for this user name or from this address; "
                f"wait {minutes} minute{'s' if minutes > 1 else ''} and try again"
            )

    def failed(self, keys: Iterable[str]) -> None:
        now = self._clock()
        with self._lock:
            for key in keys:
                self._recent(key, now)
                self._failures.setdefault(key, deque()).append(now)
            if len(self._failures) > self.max_keys:
                self._prune(now)

    def succeeded(self, keys: Iterable[str]) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)

    def _prune(self, now: float) -> None:
        for key in list(self._failures):
            self._recent(key, now)
        if len(self._failures) > self.max_keys:  # still too many: forget the stalest
            stalest = sorted(self._failures, key=lambda k: self._failures[k][-1])
            for key in stalest[: len(self._failures) - self.max_keys]:
                del self._failures[key]
