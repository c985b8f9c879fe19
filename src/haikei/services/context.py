"""What every service function receives: the production's settings, database, blobs, vocabulary
and a way to get an engine. Built once by haikei.app (the composition root) and passed down."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from haikei.domain.vocabulary import Vocabulary
from haikei.engines.base import Engine
from haikei.settings import Settings
from haikei.store.blobs import BlobStore
from haikei.store.db import Database

__all__ = ["ServiceContext"]


@dataclass
class ServiceContext:
    root: Path
    settings: Settings
    db: Database
    blobs: BlobStore
    vocabulary: Vocabulary
    engine_loader: Callable[[str, dict[str, Any]], Engine]
    _engines: dict[str, Engine] = field(default_factory=dict, repr=False)

    def engine(self, name: str) -> Engine:
        """The engine ``name`` configured from haikei.toml's [engines.NAME], loaded once per context."""
        if name not in self._engines:
            self._engines[name] = self.engine_loader(name, dict(self.settings.engines.get(name, {})))
        return self._engines[name]

    def close(self) -> None:
        self.db.dispose()
