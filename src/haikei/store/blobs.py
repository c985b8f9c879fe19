"""Content-addressed blob store: ``blobs/ab/cdef...`` named by the SHA-256 of the bytes.

Writes are atomic (temp file in the same folder, fsync, rename), so a crash leaves either no
blob or a whole one; a second write of the same bytes is a no-op. The folder may live on a
path every render worker shares (NFS, SMB, a cluster file system): all it needs is atomic
rename within a folder, which those give.

A change that writes blobs and then rows that point at them (a paint-over, a retake mask)
writes them through :meth:`BlobStore.scope`: if the change is refused or loses a race (its
transaction raises), the scope removes the blobs it created, so nothing is left behind. A blob
that another open scope also wrote, or that a committed scope keeps, is never removed.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from haikei.errors import NotFoundError

__all__ = ["BlobStore", "BlobWrites", "sha256_bytes"]

_HASH = re.compile(r"^[0-9a-f]{64}$")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class BlobWrites:
    """The blobs one change writes (see :meth:`BlobStore.scope`)."""

    def __init__(self, store: BlobStore) -> None:
        self.store = store
        self.keys: list[str] = []

    def put(self, data: bytes) -> str:
        key = sha256_bytes(data)
        self.store._claim(key, self)  # before the write: a concurrent scope sees the claim
        self.keys.append(key)
        self.store.put(data)
        return key


class BlobStore:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        # open scopes' claims: key -> [scopes that wrote it, created by one of them?]
        self._pending: dict[str, tuple[set[int], bool]] = {}
        self._lock = threading.Lock()

    @contextmanager
    def scope(self) -> Iterator[BlobWrites]:
        """Blobs written for one change. Put the change's transaction inside the ``with``: when
        anything inside raises (refused, stale lock, a lost race), the blobs this scope created
        are removed again, unless another scope wrote the same bytes meanwhile (it decides) or a
        scope that wrote them finished without error (its rows point at them). Blobs that
        existed before are never removed. Claims are per process (one server process per
        production); a different process writing the same bytes in the same instant is the
        one case ``haikei gc`` (which keeps blobs younger than an hour) still has to tidy."""
        writes = BlobWrites(self)
        try:
            yield writes
        except BaseException:
            self._release(writes, keep=False)
            raise
        self._release(writes, keep=True)

    def _claim(self, key: str, writes: BlobWrites) -> None:
        with self._lock:
            entry = self._pending.get(key)
            if entry is None:
                created = not self.path(key).exists()
                self._pending[key] = ({id(writes)}, created)
            else:
                entry[0].add(id(writes))

    def _release(self, writes: BlobWrites, *, keep: bool) -> None:
        with self._lock:
            for key in dict.fromkeys(writes.keys):
                entry = self._pending.get(key)
                if entry is None:
                    continue
                owners, created = entry
                owners.discard(id(writes))
                if keep:
                    created = False  # a committed row points at it: nobody removes it now
                if owners:
                    self._pending[key] = (owners, created)
                    continue
                del self._pending[key]
                if created:
                    self.path(key).unlink(missing_ok=True)

    def path(self, key: str) -> Path:
        if not _HASH.match(key):
            raise NotFoundError(f"{key!r} is not a blob hash")
        return self.root / key[:2] / key[2:]

    def put(self, data: bytes) -> str:
        key = sha256_bytes(data)
        dst = self.path(key)
        if dst.exists():
            return key
        dst.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=dst.parent)
        os.fchmod(fd, 0o644)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, dst)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return key

    def get(self, key: str) -> bytes:
        p = self.path(key)
        try:
            return p.read_bytes()
        except FileNotFoundError:
            raise NotFoundError(f"blob {key[:12]} is missing from {self.root}") from None

    def exists(self, key: str) -> bool:
        return self.path(key).exists()

    def keys(self) -> Iterator[str]:
        if not self.root.exists():
            return
        for sub in sorted(self.root.iterdir()):
            if sub.is_dir() and len(sub.name) == 2:
                for f in sorted(sub.iterdir()):
                    if not f.name.startswith(".") and _HASH.match(sub.name + f.name):
                        yield sub.name + f.name

    def temp_files(self) -> Iterator[Path]:
        if self.root.exists():
            yield from self.root.glob("*/.tmp-*")

    def snapshot(self) -> dict[str, int]:
        """{relative path: size} of everything under the root (tests: 'nothing changed')."""
        out: dict[str, int] = {}
        if self.root.exists():
            for p in sorted(self.root.rglob("*")):
                if p.is_file():
                    out[str(p.relative_to(self.root))] = p.stat().st_size
        return out

    def collect_garbage(self, referenced: Iterable[str], min_age_s: float = 3600.0) -> list[str]:
        """Delete blobs nobody references (and stale temp files), older than ``min_age_s``.

        The age guard keeps blobs that a running render has written but not yet committed.
        """
        keep = set(referenced)
        now = time.time()
        removed: list[str] = []
        for key in list(self.keys()):
            p = self.path(key)
            if key not in keep and now - p.stat().st_mtime >= min_age_s:
                p.unlink(missing_ok=True)
                removed.append(key)
        for tmp in list(self.temp_files()):
            if now - tmp.stat().st_mtime >= min_age_s:
                tmp.unlink(missing_ok=True)
        return removed
