from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from haikei.errors import ConflictError, ConsentError, ImageError, RegionMapError
from haikei.imaging.io import encode_region_map, save_png
from haikei.services.artboards import (
    add_artboard,
    boards_for_render,
    list_artboards,
    load_board_input,
    set_consent,
)
from tests.conftest import VOCAB, snapshot, write_board


def test_add_and_list(production, tmp_path: Path) -> None:
    boards = list_artboards(production)
    assert [b.name for b in boards] == ["tiny"]
    b = boards[0]
    assert b.artist == "Aki Tanaka" and b.consent and b.tags == ("summer",)
    bi = load_board_input(production, b)
    assert bi.image.shape == (48, 80, 3) and bi.labels.shape == (48, 80) and bi.artist == "Aki Tanaka"


def test_board_without_consent_is_stored_but_never_used(production, tmp_path: Path) -> None:
    img, lab = write_board(tmp_path, "other", seed=2)
    b = add_artboard(production, img, lab, name="no-consent", artist="Ren", consent=False)
    assert not b.consent and b in list_artboards(production)
    assert [x.name for x in boards_for_render(production)] == ["tiny"]
    with pytest.raises(ConsentError, match="no recorded consent"):
        boards_for_render(production, explicit_ids=[b.id])
    with pytest.raises(ConsentError):
        load_board_input(production, b)
    set_consent(production, "no-consent", True)
    assert {x.name for x in boards_for_render(production)} == {"tiny", "no-consent"}


def test_no_consented_board_at_all(production) -> None:
    set_consent(production, "tiny", False)
    with pytest.raises(ConsentError, match="no art board with recorded consent"):
        boards_for_render(production)


def _bad_inputs(tmp_path: Path) -> list[tuple[Path, Path, type[Exception], str]]:
    img, lab = write_board(tmp_path, "b2", seed=3)
    # label map with a colour outside the vocabulary
    rgb = encode_region_map(np.full((48, 80), VOCAB.id_of("sky"), np.uint8), VOCAB)
    rgb[0:3, 0:3] = (7, 7, 7)
    bad_colour = tmp_path / "bad_colour.png"
    save_png(bad_colour, rgb)
    # label map of another size
    small = tmp_path / "small.png"
    save_png(small, encode_region_map(np.zeros((10, 10), np.uint8), VOCAB))
    # truncated board
    trunc = tmp_path / "trunc.png"
    trunc.write_bytes(img.read_bytes()[:100])
    return [
        (img, bad_colour, RegionMapError, "(7, 7, 7)"),
        (img, small, ImageError, "same size"),
        (trunc, lab, ImageError, "trunc.png"),
        (img, lab, ConflictError, "exists"),  # name 'tiny' is taken (passed below)
    ]


def test_bad_input_leaves_production_unchanged(production, tmp_path: Path) -> None:
    before = snapshot(production)
    for image, labels, exc, msg in _bad_inputs(tmp_path):
        with pytest.raises(exc, match=msg.replace("(", r"\(").replace(")", r"\)")):
            add_artboard(
                production, image, labels, name="tiny" if exc is ConflictError else None, consent=True
            )
        assert snapshot(production) == before
