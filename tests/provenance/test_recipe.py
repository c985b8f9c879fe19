from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from haikei.errors import InputError
from haikei.imaging.io import load_rgb, read_png_text, save_png
from haikei.provenance.recipe import (
    RECIPE_PNG_KEY,
    Actor,
    EngineRef,
    InputHashes,
    Recipe,
    canonical_json,
    hash_array,
    hash_bytes,
    read_recipe_png,
    render_key,
    save_png_with_recipe,
)

H1, H2, H3 = hash_bytes(b"lines"), hash_bytes(b"regions"), hash_bytes(b"board")


def recipe(**over) -> Recipe:
    base = dict(
        kind="render",
        engine=EngineRef(name="exemplar", version="0.3", digital_source_type="x"),
        inputs=InputHashes(lines=H1, regions=H2, boards=(H3,)),
        parameters={"patch": 5, "strength": 0.75},
        direction={"season": "autumn"},
        seed=7,
        timings={"render": 3.2},
        actor=Actor(name="佐藤 花子", role="bg_artist"),
        created_at="2026-11-22T01:00:00Z",
        parent="v-0012",
    )
    base.update(over)
    return Recipe(**base)


def test_canonical_json_has_one_spelling_per_value() -> None:
    assert canonical_json({"b": 1, "a": [1.0, -0.0, 0.5]}) == b'{"a":[1,0,0.5],"b":1}'
    assert canonical_json({"a": (1, 2)}) == canonical_json({"a": [1, 2]})
    assert canonical_json({"x": np.float32(2.0), "y": np.int64(3)}) == b'{"x":2,"y":3}'
    assert canonical_json({"t": "秋の夕方"}) == '{"t":"秋の夕方"}'.encode()
    assert canonical_json({"z": 1, "a": 2}) == canonical_json({"a": 2, "z": 1})


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), {1, 2}, object()])
def test_canonical_json_refuses_values_without_a_canonical_form(bad: object) -> None:
    with pytest.raises((ValueError, TypeError)):
        canonical_json({"v": bad})


def test_render_key_ignores_who_when_and_how_long() -> None:
    a = recipe()
    b = recipe(
        timings={"render": 9.9},
        actor=Actor(name="Other", role="director"),
        created_at=None,
        parent=None,
        note="again",
        parameters={"strength": 0.75, "patch": 5.0},  # same values, other order / spelling
    )
    assert render_key(a) == render_key(b)
    assert len(render_key(a)) == 64 and int(render_key(a), 16) >= 0


@pytest.mark.parametrize(
    "change",
    [
        {"seed": 8},
        {"parameters": {"patch": 7, "strength": 0.75}},
        {"inputs": InputHashes(lines=H1, regions=H2, boards=(H3, H1))},
        {"inputs": InputHashes(lines=H2, regions=H2, boards=(H3,))},
        {"engine": EngineRef(name="exemplar", version="0.4", digital_source_type="x")},
        {"direction": {"season": "winter"}},
        {"models": {"unet": H1}},
        {"variant": "evening"},
    ],
)
def test_render_key_changes_with_what_was_asked(change: dict) -> None:
    assert render_key(recipe(**change)) != render_key(recipe())


def test_recipe_refuses_incomplete_records() -> None:
    with pytest.raises(ValueError, match="engine"):
        Recipe(kind="render")
    with pytest.raises(ValueError, match="actor"):
        Recipe(kind="human")
    with pytest.raises(ValueError):
        InputHashes(lines="not-a-hash")
    with pytest.raises(ValueError):
        InputHashes(boards=("abc",))
    with pytest.raises(ValueError):
        recipe(models={"unet": "xyz"})
    with pytest.raises(ValueError):
        recipe(unknown_field=1)


def test_recipe_png_round_trip(tmp_path: Path) -> None:
    img = np.random.default_rng(0).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    r = recipe()
    save_png_with_recipe(tmp_path / "v.png", img, r, text={"Title": "c012"})
    assert read_recipe_png(tmp_path / "v.png") == r
    assert np.array_equal(load_rgb(tmp_path / "v.png"), img)
    text = read_png_text(tmp_path / "v.png")
    assert text["Title"] == "c012"
    assert json.loads(text[RECIPE_PNG_KEY])["seed"] == 7
    assert render_key(read_recipe_png((tmp_path / "v.png").read_bytes())) == render_key(r)


def test_reading_a_png_without_or_with_a_broken_recipe_is_refused(tmp_path: Path) -> None:
    img = np.zeros((4, 4, 3), np.uint8)
    save_png(tmp_path / "plain.png", img)
    with pytest.raises(InputError, match="no haikei recipe"):
        read_recipe_png(tmp_path / "plain.png")
    save_png(tmp_path / "broken.png", img, text={RECIPE_PNG_KEY: '{"kind": "render"'})
    with pytest.raises(InputError, match="not valid JSON"):
        read_recipe_png(tmp_path / "broken.png")
    save_png(tmp_path / "bad.png", img, text={RECIPE_PNG_KEY: '{"kind": "paint"}'})
    with pytest.raises(InputError, match="malformed at kind"):
        read_recipe_png(tmp_path / "bad.png")
    with pytest.raises(InputError, match="reserved"):
        save_png_with_recipe(tmp_path / "x.png", img, recipe(), text={RECIPE_PNG_KEY: "x"})


def test_hash_array_covers_shape_and_dtype() -> None:
    a = np.arange(12, dtype=np.uint8)
    assert hash_array(a) != hash_array(a.reshape(3, 4))
    assert hash_array(a) != hash_array(a.astype(np.int8))
    assert hash_array(a.reshape(3, 4)) == hash_array(np.arange(12, dtype=np.uint8).reshape(3, 4))
    assert hash_array(a.reshape(3, 4).T) == hash_array(np.ascontiguousarray(a.reshape(3, 4).T))
