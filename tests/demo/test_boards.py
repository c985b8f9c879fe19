"""The bundled art boards: manifest complete, files match it, images and labels load."""

from __future__ import annotations

import hashlib
import shutil
import tomllib

import numpy as np
import pytest

from haikei.demo.boards import assets_dir, board_files, load_boards
from haikei.domain.vocabulary import UNLABELLED, Vocabulary
from haikei.errors import ConfigError, ImageError

VOCAB = Vocabulary()


def test_manifest_has_artist_licence_and_consent_for_every_board() -> None:
    data = tomllib.loads((assets_dir() / "boards.toml").read_text(encoding="utf-8"))
    assert len(data["board"]) >= 2
    for b in data["board"]:
        assert b["artist"].strip() and b["licence"].strip() and b["source"].strip(), b["name"]
        assert b["consent"] is True
        assert b["tags"]


def test_files_on_disk_match_the_manifest() -> None:
    listed = set()
    for bf in board_files():
        assert hashlib.sha256(bf.image_path.read_bytes()).hexdigest() == bf.sha256
        assert bf.image_path.stat().st_size < 1_500_000 and bf.labels_path.stat().st_size < 1_500_000
        listed |= {bf.image_path.name, bf.labels_path.name}
    on_disk = {p.name for p in assets_dir().iterdir() if p.suffix in (".jpg", ".png")}
    assert on_disk == listed


def test_boards_load_with_sizes_and_classes() -> None:
    boards = load_boards()
    by_name = {b.name: b for b in boards}
    assert {"safelanding", "altai"} <= set(by_name)
    expected = {
        "safelanding": {"sky", "mountain", "hill", "water", "grass", "tree", "ground", "building", "bush"},
        "altai": {"sky", "mountain_far", "mountain", "snow", "forest", "rock", "water"},
    }
    for name, classes in expected.items():
        b = by_name[name]
        assert b.image.shape == (720, 1280, 3) and b.image.dtype == np.uint8
        assert b.labels.shape == (720, 1280) and not (b.labels == UNLABELLED).any()
        shown = {VOCAB.name_of(int(c)) for c in np.unique(b.labels)}
        assert shown == classes
        for c in classes:  # every class covers a real area, not a few stray pixels
            assert (b.labels == VOCAB.id_of(c)).mean() > 0.005, (name, c)
        assert (
            b.key
            == hashlib.sha256(
                next(f for f in board_files() if f.name == name).image_path.read_bytes()
            ).hexdigest()
        )
        assert b.artist and b.tags and b.variants == {}


def _nearest_mean_accuracy(image: np.ndarray, labels: np.ndarray) -> float:
    """How well per-class mean colours (fitted on ``labels``) predict ``labels`` back."""
    px = image.reshape(-1, 3).astype(np.float32)
    lab = labels.ravel()
    classes = np.unique(lab)
    means = np.stack([px[lab == c].mean(0) for c in classes])
    pred = classes[np.argmin(((px[:, None, :] - means[None]) ** 2).sum(-1), axis=1)]
    return float((pred == lab).mean())


def test_labels_agree_with_the_painting() -> None:
    """A board's labels explain its colours far better than the same labels flipped upside down."""
    for b in load_boards():
        img, lab = b.image[::4, ::4], b.labels[::4, ::4]
        real = _nearest_mean_accuracy(img, lab)
        flipped = _nearest_mean_accuracy(img, lab[::-1])
        assert real > flipped + 0.05, (b.name, real, flipped)


def test_tampered_image_is_refused(tmp_path) -> None:
    shutil.copytree(assets_dir(), tmp_path / "assets")
    bf = board_files(tmp_path / "assets")[0]
    data = bytearray(bf.image_path.read_bytes())
    data[-10] ^= 0xFF
    bf.image_path.write_bytes(bytes(data))
    with pytest.raises(ImageError, match="differs from the manifest"):
        load_boards(folder=tmp_path / "assets")


def test_manifest_without_artist_is_refused(tmp_path) -> None:
    shutil.copytree(assets_dir(), tmp_path / "assets")
    m = tmp_path / "assets" / "boards.toml"
    m.write_text(m.read_text(encoding="utf-8").replace('artist = "Louis Durrant"\n', ""), encoding="utf-8")
    with pytest.raises(ConfigError, match="lacks artist"):
        board_files(tmp_path / "assets")
