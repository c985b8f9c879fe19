"""Composition root: the only module that knows the concrete classes.

``open_production(path)`` -> a ServiceContext wired with the settings from haikei.toml, the
database (SQLite in the folder, or the URL given), the blob store and the engine registry.
"""

from __future__ import annotations

from pathlib import Path

from haikei.domain.models import FrameSize
from haikei.engines.registry import load_engine
from haikei.errors import ProductionError
from haikei.imaging.io import atomic_write_bytes, set_max_pixels
from haikei.services.context import ServiceContext
from haikei.services.production import seed_production
from haikei.settings import CONFIG_NAME, Settings
from haikei.store.blobs import BlobStore
from haikei.store.db import Database

__all__ = ["build_context", "create_production", "open_production"]


def build_context(root: Path, settings: Settings, db_url: str | None = None) -> ServiceContext:
    set_max_pixels(settings.limits.max_pixels)  # [limits]: the pixel limit every image read obeys
    url = db_url or settings.database_url(root)
    return ServiceContext(
        root=root,
        settings=settings,
        db=Database(url),
        blobs=BlobStore(settings.blob_root(root)),
        vocabulary=settings.vocabulary(),
        engine_loader=load_engine,
    )


def open_production(path: str | Path, db_url: str | None = None, *, migrate: bool = False) -> ServiceContext:
    """Open an existing production folder. ``migrate`` brings an older schema up to date."""
    root = Path(path).resolve()
    settings = Settings.load(root)
    ctx = build_context(root, settings, db_url)
    if migrate:
        ctx.db.migrate()
    elif not ctx.db.is_migrated():
        ctx.close()
        raise ProductionError(
            f"{root}: the database has no haikei schema; run 'haikei init' or check {CONFIG_NAME}"
        )
    return ctx


def create_production(
    path: str | Path, name: str, frame: FrameSize, *, episode: str = "", db_url: str | None = None
) -> ServiceContext:
    """Make a production folder: schema by migration, default statuses, then haikei.toml last
    (a folder without haikei.toml is not a production, so a failure leaves nothing usable behind)."""
    root = Path(path).resolve()
    if (root / CONFIG_NAME).exists():
        raise ProductionError(
            f"{root}: already a production ({CONFIG_NAME} exists); use it or choose another folder"
        )
    if root.exists() and not root.is_dir():
        raise ProductionError(f"{root}: exists and is not a folder; choose another path")
    settings = Settings.model_validate(
        {"production": {"name": name, "width": frame.width, "height": frame.height, "episode": episode}}
    )
    if db_url:
        settings.database.url = db_url
    root.mkdir(parents=True, exist_ok=True)
    ctx = build_context(root, settings)
    try:
        seed_production(ctx)
        atomic_write_bytes(root / CONFIG_NAME, settings.dump().encode("utf-8"))
    except BaseException:
        ctx.close()
        raise
    return ctx
