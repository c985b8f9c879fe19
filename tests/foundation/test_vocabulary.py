from __future__ import annotations

import pytest

from haikei.domain.vocabulary import DEFAULT_CLASSES, UNLABELLED, Vocabulary


def test_ids_colours_and_fallbacks_are_consistent() -> None:
    v = Vocabulary()
    assert [c.id for c in v] == list(range(len(v)))
    assert len({c.colour for c in v}) == len(v)
    for c in v:
        for fb in c.fallback:
            assert fb in v and fb != c.name
    assert len(v) < UNLABELLED


def test_required_classes_present() -> None:
    names = {c.name for c in DEFAULT_CLASSES}
    for n in (
        "sky",
        "cloud",
        "mountain_far",
        "mountain",
        "hill",
        "forest",
        "tree",
        "bush",
        "grass",
        "field",
        "water",
        "ground",
        "road",
        "rock",
        "building",
        "roof",
        "snow",
    ):
        assert n in names


def test_resolve_follows_listed_fallbacks_only() -> None:
    v = Vocabulary()
    assert v.resolve("road", ["road", "rock"]) == "road"
    assert v.resolve("road", ["rock", "sky"]) == "rock"
    assert v.resolve("road", ["ground", "rock"]) == "ground"  # order of the chain, not of the boards
    assert v.resolve("road", ["sky", "forest"]) is None  # no three-hop substitutes
    assert v.fallback_chain("road") == ["path", "ground", "rock"]


def test_studio_extension() -> None:
    v = Vocabulary().extended(
        {"paddy_water": {"colour": [90, 200, 201], "fallback": ["water"], "ja": "水田"}}
    )
    c = v.get("paddy_water")
    assert c.id == len(DEFAULT_CLASSES) and v.resolve("paddy_water", ["water"]) == "water"
    assert v.by_colour((90, 200, 201)) is c


@pytest.mark.parametrize(
    "extra, msg",
    [
        ({"x": {"colour": [135, 206, 235]}}, "already taken"),
        ({"x": {"colour": [1, 2]}}, "colour must be"),
        ({"x": {"colour": [1, 2, 3], "fallback": ["nope"]}}, "unknown class"),
        ({"sky": {"colour": [1, 2, 3]}}, "used twice"),
    ],
)
def test_bad_extension_refused(extra: dict, msg: str) -> None:
    with pytest.raises(ValueError, match=msg):
        Vocabulary().extended(extra)


def test_unknown_class_lookup_lists_known() -> None:
    with pytest.raises(KeyError, match="known classes"):
        Vocabulary().get("spaceship")
