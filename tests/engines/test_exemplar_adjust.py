"""A retake note's colour words move the masked area within the boards' own paint (exemplar,
engines/exemplar/adjust.py); outside the mask the parent stays byte for byte."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from haikei.domain.vocabulary import Vocabulary
from haikei.engines.base import BoardInput, EngineContext, RenderRequest
from haikei.engines.exemplar import create
from haikei.engines.exemplar.adjust import lab_to_rgb, read_colour_words
from haikei.errors import RenderRefused
from haikei.quality.colour import rgb_to_lab
from tests.engines.contract import tiny_board, tiny_layout

VOCAB = Vocabulary()


def painted_board() -> BoardInput:
    """The tiny board as a painter's hand with range: each class painted greyer on the left and
    more saturated on the right, lighter at the top and darker at the bottom, a little ochre
    ground showing along the bottom edge of the grass."""
    b = tiny_board()
    img = b.image.astype(np.float64)
    h, w = b.labels.shape
    yy, xx = np.mgrid[0:h, 0:w]
    grey = img.mean(axis=2, keepdims=True)
    sat = (0.35 + 1.0 * xx / (w - 1))[..., None]
    img = grey + (img - grey) * sat
    img *= (1.15 - 0.35 * yy / (h - 1))[..., None]
    return dataclasses.replace(b, image=np.clip(img, 0, 255).astype(np.uint8))


@pytest.fixture(scope="module")
def retakes() -> dict[str, object]:
    """A parent render, its mask, and retakes of it (same seed) with and without colour words."""
    lines, regions = tiny_layout(120, 200)
    eng = create({})
    base = dict(lines=lines, regions=regions, boards=(painted_board(),), seed=3, vocabulary=VOCAB)
    parent = eng.render(RenderRequest(**base), EngineContext())  # type: ignore[arg-type]
    mask = np.zeros(regions.shape, bool)
    mask[60:110, 20:120] = True

    def retake(note: str) -> object:
        opts = {"palette_adjust": read_colour_words(note).as_options()} if note else {}
        req = RenderRequest(**{**base, "seed": 9}, mask=mask, init=parent.image, options=opts)  # type: ignore[arg-type]
        return eng.render(req, EngineContext())

    out: dict[str, object] = {"parent": parent, "mask": mask, "regions": regions}
    for note in ("", "darker", "less grey", "warmer", "乾いた土"):
        out[note] = retake(note)
    return out


def _lab(img: np.ndarray, sel: np.ndarray) -> np.ndarray:
    return rgb_to_lab(img[sel])


@pytest.mark.parametrize(
    "note,want",
    [
        ("darker", (("darker", 0.7),)),
        ("a little lighter, much warmer", (("lighter", 0.35), ("warmer", 0.9))),
        ("less grey", (("more_saturated", 0.7),)),
        ("dry earth, less gray", (("dry_earth", 0.7), ("more_saturated", 0.7))),
        ("乾いた土、少し暗く", (("dry_earth", 0.7), ("darker", 0.35))),
        ("もっと鮮やかに", (("more_saturated", 0.9),)),
        ("greener and bluer", (("greener", 0.7), ("bluer", 0.7))),
        ("fix the tree", ()),
        ("darkness", ()),  # a word is matched whole, not inside another
    ],
)
def test_colour_words_are_read_in_english_and_japanese(note: str, want: tuple) -> None:
    assert read_colour_words(note).wants == want


def test_covers_tells_a_pure_colour_phrase_from_one_with_other_words() -> None:
    r = read_colour_words("x")
    assert r.covers("less grey") and r.covers("a little darker") and r.covers("make it darker please")
    assert r.covers("もっと鮮やかにして")
    assert not r.covers("darker tree trunks") and not r.covers("fix the tree")


def test_lab_round_trip() -> None:
    rgb = np.random.default_rng(0).integers(0, 256, (500, 3), dtype=np.uint8)
    assert np.abs(lab_to_rgb(rgb_to_lab(rgb)).astype(int) - rgb).max() <= 1


def test_darker_is_darker_in_the_mask_and_identical_outside(retakes) -> None:  # type: ignore[no-untyped-def]
    mask, parent = retakes["mask"], retakes["parent"]
    plain, dark = retakes[""], retakes["darker"]
    assert np.array_equal(dark.image[~mask], parent.image[~mask])  # outside: the parent, byte for byte
    l_plain = np.median(_lab(plain.image, mask)[:, 0])
    l_dark = np.median(_lab(dark.image, mask)[:, 0])
    assert l_dark < l_plain - 4.0, (l_plain, l_dark)
    rec = dark.recipe["palette_adjust"]
    assert rec["asked"] == [["darker", 0.7]]
    assert all(c["mean_shift_lab"][0] < 0 for c in rec["classes"].values())
    assert "palette_adjust" not in plain.recipe
    # within the board's hand: the darker pixels are no darker than the board's own darkest paint
    board_l = rgb_to_lab(painted_board().image.reshape(-1, 3))[:, 0]
    assert np.percentile(_lab(dark.image, mask)[:, 0], 1) >= np.percentile(board_l, 0.1) - 3


def test_less_grey_raises_chroma_and_warmer_moves_toward_orange(retakes) -> None:  # type: ignore[no-untyped-def]
    mask = retakes["mask"]
    plain = _lab(retakes[""].image, mask)
    vivid = _lab(retakes["less grey"].image, mask)
    warm = _lab(retakes["warmer"].image, mask)

    def chroma(lab: np.ndarray) -> float:
        return float(np.median(np.hypot(lab[:, 1], lab[:, 2])))

    assert chroma(vivid) > chroma(plain) + 2.0, (chroma(plain), chroma(vivid))
    warmth = lambda lab: float(np.median(0.45 * lab[:, 1] + 0.89 * lab[:, 2]))  # noqa: E731
    assert warmth(warm) > warmth(plain) + 2.0
    for note in ("less grey", "warmer", "乾いた土"):
        assert np.array_equal(retakes[note].image[~mask], retakes["parent"].image[~mask])


def test_dry_earth_uses_the_boards_ochre_or_says_there_is_none(retakes) -> None:  # type: ignore[no-untyped-def]
    rec = retakes["乾いた土"].recipe["palette_adjust"]
    did = [d for c in rec["classes"].values() for d in c["did"]]
    assert did and all(d.startswith("dry earth") for d in did)
    if any("toward the ochre" in d for d in did):
        mask = retakes["mask"]
        hue = lambda lab: np.degrees(np.arctan2(np.median(lab[:, 2]), np.median(lab[:, 1])))  # noqa: E731
        assert abs(hue(_lab(retakes["乾いた土"].image, mask)) - 75) < abs(
            hue(_lab(retakes[""].image, mask)) - 75
        )


def test_a_bad_palette_adjust_option_is_refused() -> None:
    lines, regions = tiny_layout(48, 72)
    req = RenderRequest(
        lines=lines,
        regions=regions,
        boards=(tiny_board(),),
        vocabulary=VOCAB,
        options={"palette_adjust": [["purple", 0.5]]},
    )
    with pytest.raises(RenderRefused, match="palette_adjust"):
        create({}).render(req, EngineContext())


def test_dry_earth_moves_toward_the_boards_own_ochre_when_it_has_some() -> None:
    """A board whose grass shows patches of dry, ochre ground: 乾いた土 on a grass retake moves it
    toward those tones (hue toward ochre), and the recipe says where they came from."""
    b = painted_board()
    img = b.image.copy()
    grass = b.labels == VOCAB.id_of("grass")
    patch = grass & (np.arange(b.labels.shape[1])[None, :] % 10 < 4)
    img[patch] = np.clip(
        np.array([176, 140, 82]) + (img[patch].astype(int) - img[patch].mean(0)) * 0.3, 0, 255
    )
    board = dataclasses.replace(b, image=img)
    lines, regions = tiny_layout(120, 200)
    eng = create({})
    base = dict(lines=lines, regions=regions, boards=(board,), seed=3, vocabulary=VOCAB)
    parent = eng.render(RenderRequest(**base), EngineContext())  # type: ignore[arg-type]
    mask = (regions == VOCAB.id_of("grass")) & (np.arange(200)[None, :] < 120)
    out = {}
    for note in ("", "乾いた土"):
        opts = {"palette_adjust": read_colour_words(note).as_options()} if note else {}
        req = RenderRequest(**{**base, "seed": 9}, mask=mask, init=parent.image, options=opts)  # type: ignore[arg-type]
        out[note] = eng.render(req, EngineContext())
    ochre = rgb_to_lab(np.array([[176, 140, 82]], np.uint8))[0]

    def dist(img: np.ndarray) -> float:
        return float(np.median(np.linalg.norm(rgb_to_lab(img[mask])[:, 1:] - ochre[1:], axis=1)))

    assert dist(out["乾いた土"].image) < dist(out[""].image) - 8, (
        dist(out[""].image),
        dist(out["乾いた土"].image),
    )
    did = out["乾いた土"].recipe["palette_adjust"]["classes"]["grass"]["did"]
    assert did == ["dry earth: toward the ochre tones of this class"]
    assert np.array_equal(out["乾いた土"].image[~mask], parent.image[~mask])
