"""The art boards bundled with haikei for demos, tests and benchmarks.

Each board is a painting (JPEG) plus a label map (PNG in the vocabulary's standard colours),
described in ``assets/boards.toml``: name, artist, licence, source, tags and consent. Every
bundled board's licence (CC-BY-SA-4.0) allows the studio's use; the attribution travels with
the board through ``artist`` and ``licence`` (credits and provenance read them).

No aligned time-of-day or season variant of these paintings exists in their source package,
so ``variants`` is empty; a colour grade is not a painted variant and is never passed off as one.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from haikei.domain.vocabulary import Vocabulary
from haikei.engines.base import BoardInput
from haikei.errors import ConfigError, ImageError
from haikei.imaging.io import load_region_map, load_rgb

__all__ = ["BoardFile", "assets_dir", "board_files", "load_boards"]

_REQUIRED = ("name", "title", "artist", "licence", "source", "tags", "consent", "image", "labels", "sha256")


def assets_dir() -> Path:
    """The folder holding the bundled boards and their manifest."""
    return Path(__file__).parent / "assets"


@dataclass(frozen=True)
class BoardFile:
    """One bundled board on disk with its recorded metadata (what an intake reads)."""

    name: str
    title: str
    image_path: Path
    labels_path: Path
    artist: str
    licence: str
    source: str
    tags: frozenset[str]
    consent: bool
    sha256: str  # of the image file's bytes
    allows_derived_use: bool = False  # locations: a painting made from it may become a board


def board_files(folder: Path | None = None) -> list[BoardFile]:
    """The boards listed in ``boards.toml`` (in manifest order), checked against the files."""
    root = folder or assets_dir()
    manifest = root / "boards.toml"
    try:
        data = tomllib.loads(manifest.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{manifest}: the demo board manifest is missing; reinstall haikei") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{manifest}: not valid TOML ({exc}); restore it from the repository") from None
    out: list[BoardFile] = []
    for i, entry in enumerate(data.get("board", [])):
        missing = [k for k in _REQUIRED if k not in entry]
        if missing:
            raise ConfigError(f"{manifest}: board {i} lacks {', '.join(missing)}; every board needs them all")
        if not str(entry["artist"]).strip() or not str(entry["licence"]).strip():
            raise ConfigError(f"{manifest}: board {entry['name']!r} has an empty artist or licence")
        image_path, labels_path = root / str(entry["image"]), root / str(entry["labels"])
        for p in (image_path, labels_path):
            if not p.is_file():
                raise ImageError(p, "bundled board file is missing", "reinstall haikei")
        out.append(
            BoardFile(
                name=str(entry["name"]),
                title=str(entry["title"]),
                image_path=image_path,
                labels_path=labels_path,
                artist=str(entry["artist"]),
                licence=str(entry["licence"]),
                source=str(entry["source"]),
                tags=frozenset(str(t) for t in entry["tags"]),
                consent=bool(entry["consent"]),
                sha256=str(entry["sha256"]),
                allows_derived_use=bool(entry.get("allows_derived_use", False)),
            )
        )
    if not out:
        raise ConfigError(f"{manifest}: lists no boards")
    return out


def load_boards(vocabulary: Vocabulary | None = None, folder: Path | None = None) -> list[BoardInput]:
    """The bundled boards as engines take them. Refuses a file whose hash differs from the manifest."""
    vocab = vocabulary or Vocabulary()
    boards: list[BoardInput] = []
    for bf in board_files(folder):
        if not bf.consent:
            continue  # only boards with recorded consent ever reach an engine
        data = bf.image_path.read_bytes()
        key = hashlib.sha256(data).hexdigest()
        if key != bf.sha256:
            raise ImageError(
                bf.image_path,
                f"content hash {key[:12]} differs from the manifest's {bf.sha256[:12]}",
                "reinstall haikei or rebuild the assets with python -m haikei.demo.build_assets",
            )
        image = load_rgb(data, name=str(bf.image_path))
        labels = load_region_map(bf.labels_path, vocab)
        if labels.shape != image.shape[:2]:
            raise ImageError(bf.labels_path, "label map size differs from the painting", "rebuild the assets")
        boards.append(
            BoardInput(
                key=key,
                image=image,
                labels=np.ascontiguousarray(labels),
                tags=bf.tags,
                artist=bf.artist,
                name=bf.name,
                variants={},
            )
        )
    return boards
