"""Content-addressed blob store: ``blobs/ab/cdef...`` named by the SHA-256 of the bytes.

Writes are atomic (temp file in the same folder, fsync, rename), so a crash leaves either no
blob or a whole one; a second write of the same bytes is a no-op. The folder may live on a
path every render worker shares (NFS, SMB, a cluster file system): all it needs is atomic
rename within a folder, which those give.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from haikei.errors import NotFoundError

__all__ = ["BlobStore", "sha256_bytes"]

_HASH = re.compile(r"^[0-9a-f]{64}$")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class BlobStore:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

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
