"""The exemplar paints the classes a location board shows in that board's tones (engines/exemplar/location.py).

A location board is an approved BG of the place (``BoardInput.location`` set by the service); its
classes come out with the board's colour distribution, structure kept; a class copied from a
production board is put in the location board's tones when the location board shows it, untouched
when it does not; a location board paints only the classes it was given (``paints``), a class whose
location paint is too little to copy goes back to the production board; a render without location
boards is untouched (tests/engines/test_exemplar_pinned.py pins those pixels)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from haikei.engines.base import BoardInput, EngineContext, RenderRequest
from haikei.engines.exemplar import ExemplarEngine
from haikei.engines.exemplar.location import LocationQuantiles, match_location
from haikei.quality.colour import rgb_to_lab
from tests.engines.contract import VOCAB, tiny_board, tiny_layout

SKY, MOUNTAIN, GRASS, WATER = (VOCAB.id_of(n) for n in ("sky", "mountain", "grass", "water"))


def _approved_bg() -> BoardInput:
    """An 'approved BG' of the place: the tiny board with a warm evening sky painted over it."""
    b = tiny_board(3)
    img = b.image.astype(np.float64)
    sky = b.labels == SKY
    img[sky] = img[sky] * 0.4 + np.array([250.0, 160.0, 110.0]) * 0.6
    return replace(b, key="approved-c001", image=np.clip(img, 0, 255).astype(np.uint8), name="c001 r2")


def _pond_board() -> BoardInput:
    """A production board that shows only water (and sky)."""
    rng = np.random.default_rng(5)
    labels = np.full((48, 80), WATER, np.uint8)
    labels[:16] = SKY
    base = np.array(VOCAB.colour_table(), np.float64)[labels]
    img = np.clip(base * 0.7 + rng.normal(0, 12, (48, 80, 1)), 0, 255).astype(np.uint8)
    return BoardInput(key="pond", image=img, labels=labels, tags=frozenset({"summer"}), name="pond")


def _layout_with_pond() -> tuple[np.ndarray, np.ndarray]:
    lines, regions = tiny_layout()
    regions = regions.copy()
    regions[30:37, 6:30] = WATER
    lines = lines.copy()
    edge = np.zeros_like(regions, bool)
    edge[:-1] |= regions[:-1] != regions[1:]
    edge[:, :-1] |= regions[:, :-1] != regions[:, 1:]
    lines[edge] = 0
    return lines, regions


def _render(boards: tuple[BoardInput, ...]):  # type: ignore[no-untyped-def]
    lines, regions = _layout_with_pond()
    req = RenderRequest(lines=lines, regions=regions, boards=boards, vocabulary=VOCAB, seed=2)
    return ExemplarEngine().render(req, EngineContext()), regions


def _quantiles(img: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return np.quantile(rgb_to_lab(img)[mask], np.linspace(0.05, 0.95, 10), axis=0)


def _plan_for(regions: np.ndarray, boards: tuple[BoardInput, ...]):  # type: ignore[no-untyped-def]
    from haikei.engines.exemplar.options import ExemplarOptions
    from haikei.engines.exemplar.plan import make_plan

    lines = np.full(regions.shape, 255, np.uint8)
    req = RenderRequest(lines=lines, regions=regions, boards=boards, vocabulary=VOCAB)
    return make_plan(req, ExemplarOptions(), regions)


def test_a_painting_off_the_place_s_tones_is_brought_onto_them() -> None:
    """A painting whose sky and grass came out darker and cooler than the approved BG's: the match
    puts each class onto the board's tones; the pond from the production board stays as painted."""
    loc = replace(_approved_bg(), location="house")
    _lines, regions = _layout_with_pond()
    boards = (loc, _pond_board())
    plan = _plan_for(regions, boards)
    rng = np.random.default_rng(1)
    base = np.array(VOCAB.colour_table(), np.float64)[regions] * 0.6 + np.array([0.0, 10.0, 40.0])
    painted = np.clip(base + rng.normal(0, 10, regions.shape)[..., None], 0, 255).astype(np.uint8)
    names = {c: VOCAB.name_of(c) for c in plan.classes}
    out, info = match_location(painted, regions, boards, plan, names, LocationQuantiles())
    assert info is not None and {"sky", "grass", "mountain"} <= set(info.classes)
    for c in (SKY, GRASS):
        want = _quantiles(loc.image, loc.labels == c)
        before = np.abs(_quantiles(painted, regions == c) - want).mean()
        after = np.abs(_quantiles(out, regions == c) - want).mean()
        assert after < 0.25 * before and after < 3.0, (VOCAB.name_of(c), before, after)
        # structure kept: of two pixels of the class, the lighter stays the lighter
        l0 = rgb_to_lab(painted)[regions == c][:, 0]
        l1 = rgb_to_lab(out)[regions == c][:, 0]
        assert np.corrcoef(l0, l1)[0, 1] > 0.9
    water = regions == WATER
    assert np.array_equal(out[water], painted[water])


def test_location_classes_take_the_approved_bgs_tones_and_the_rest_is_untouched() -> None:
    loc = replace(_approved_bg(), location="house")
    plain, regions = _render((replace(loc, location=""), _pond_board()))
    located, _ = _render((loc, _pond_board()))

    assert "location_match" not in plain.recipe
    matched = located.recipe["location_match"]
    assert {"sky", "mountain", "grass"} <= set(matched), matched
    assert "water" not in matched  # painted from the production board 'pond'
    assert matched["sky"] == ["c001 r2"]

    # the sky's tones: the approved BG's evening sky, no further from it than the plain copy
    target = _quantiles(loc.image, loc.labels == SKY)
    sky = regions == SKY
    d_plain = np.abs(_quantiles(plain.image, sky) - target).mean()
    d_loc = np.abs(_quantiles(located.image, sky) - target).mean()
    assert d_loc <= d_plain + 0.5, (d_plain, d_loc)

    # a class from a production board keeps its pixels exactly
    water = regions == WATER
    assert np.array_equal(located.image[water], plain.image[water])


def test_the_match_keeps_the_paintings_structure() -> None:
    """Monotone per channel: of two sky pixels, the lighter one stays the lighter one."""
    loc = replace(_approved_bg(), location="house")
    plain, regions = _render((replace(loc, location=""), _pond_board()))
    located, _ = _render((loc, _pond_board()))
    sky = regions == SKY
    before = rgb_to_lab(plain.image)[sky][:, 0]
    after = rgb_to_lab(located.image)[sky][:, 0]
    order = np.argsort(before, kind="stable")
    # lightness stays sorted, to within the rounding to 8 bits and back
    assert np.all(np.diff(after[order]) > -1.5)
    assert np.corrcoef(before, after)[0, 1] > 0.95


def test_no_location_board_no_change_byte_for_byte() -> None:
    painted = np.random.default_rng(0).integers(0, 256, (40, 64, 3), dtype=np.uint8)
    _lines, regions = tiny_layout()
    from haikei.engines.exemplar.options import ExemplarOptions
    from haikei.engines.exemplar.plan import make_plan

    req = RenderRequest(lines=_lines, regions=regions, boards=(tiny_board(),), vocabulary=VOCAB)
    plan = make_plan(req, ExemplarOptions(), regions)
    out, info = match_location(painted, regions, req.boards, plan, {}, LocationQuantiles())
    assert out is painted and info is None


def _thin_water_location_board() -> BoardInput:
    """An approved BG of the place whose only water is a 9x9 px pond far off: enough pixels to be
    planned, gone at the search's coarse levels."""
    b = tiny_board(h=96, w=160)
    labels, img = b.labels.copy(), b.image.copy()
    labels[70:79, 20:29] = WATER
    img[70:79, 20:29] = (30, 60, 160)
    return replace(b, key="approved-thin", image=img, labels=labels, name="c001 r1", location="house")


def test_a_class_the_location_board_shows_too_little_of_is_copied_from_the_production_board() -> None:
    """The location board shows water only as a far pond: planned from it, its paint vanishes at the
    search's coarse levels (the water would be a derived palette, flagged); the production board
    that left water to the location board paints it after all, from real paint, and a variant
    re-plans it the same way."""
    loc = _thin_water_location_board()
    pond = replace(_pond_board(), withheld=frozenset({WATER}))
    lines, regions = tiny_layout(400, 720)
    regions = regions.copy()
    regions[280:340, 100:250] = WATER
    water = regions == WATER
    req = RenderRequest(lines=lines, regions=regions, boards=(loc, pond), vocabulary=VOCAB, seed=2)
    res = ExemplarEngine().render(req, EngineContext())
    cls = res.recipe["classes"]["water"]
    assert cls["plan"] == "board" and cls["boards"] == ["pond"], cls
    assert "water" not in res.recipe.get("flags", {})
    assert any(w.startswith("water: too little of it on the location boards") for w in res.warnings)
    assert res.source_map is not None and (res.source_map[water][:, 0] == 1).mean() > 0.95
    # the location board still paints what it shows enough of
    assert res.recipe["classes"]["sky"]["boards"] == ["approved-thin"]

    # a variant of the render plans the water as its parent did
    def evening(b: BoardInput) -> BoardInput:
        return replace(b, variants={"evening": (b.image * np.array([0.9, 0.6, 0.5])).astype(np.uint8)})

    var = ExemplarEngine().render(
        replace(
            req,
            boards=(evening(loc), evening(pond)),
            init=res.image,
            init_source_map=res.source_map,
            variant="evening",
        ),
        EngineContext(),
    )
    assert not var.recipe.get("flags")  # not derived
    assert any(w.startswith("water: too little of it on the location boards") for w in var.warnings)


def test_a_location_board_paints_only_its_classes_and_the_rest_takes_its_tones() -> None:
    """The service gives a location board the classes it has enough paint of (``paints``); a class it
    shows but does not paint comes from the production's boards, put in the location board's tones;
    a class it does not show keeps the production board's pixels."""
    loc = replace(_approved_bg(), location="house", paints=frozenset({MOUNTAIN, GRASS}))
    located, regions = _render((loc, _pond_board()))
    plain, _ = _render((replace(loc, location="", paints=None, key="c001-as-production"), _pond_board()))
    r = located.recipe
    assert r["classes"]["sky"]["boards"] == ["pond"] and r["classes"]["grass"]["boards"] == ["approved-c001"]
    sky = regions == SKY
    assert located.source_map is not None and (located.source_map[sky][:, 0] == 1).all()
    assert {"sky", "mountain", "grass"} <= set(r["location_match"]) and "water" not in r["location_match"]
    # the sky copied from the pond board, in the approved BG's evening tones
    target = _quantiles(loc.image, loc.labels == SKY)
    d_loc = np.abs(_quantiles(located.image, sky) - target).mean()
    d_plain = np.abs(_quantiles(plain.image, sky) - target).mean()
    assert d_loc < 3.0 and d_loc <= d_plain + 0.5, (d_loc, d_plain)


def test_a_render_of_the_same_request_plans_once_and_paints_the_same(monkeypatch) -> None:
    """The coarse-level check's outcome (here: water released to the production board) is kept per
    request: the second render of the same request (another seed too) skips the check and its
    dropped plan, and paints byte for byte what a fresh engine paints."""
    import haikei.engines.exemplar.engine as engine_mod

    loc = _thin_water_location_board()
    pond = replace(_pond_board(), withheld=frozenset({WATER}))
    lines, regions = tiny_layout(400, 720)
    regions = regions.copy()
    regions[280:340, 100:250] = WATER
    req = RenderRequest(lines=lines, regions=regions, boards=(loc, pond), vocabulary=VOCAB, seed=2)
    engine = ExemplarEngine()
    first = engine.render(req, EngineContext())
    calls = []
    real = engine_mod.classes_without_paint
    monkeypatch.setattr(engine_mod, "classes_without_paint", lambda *a: calls.append(1) or real(*a))
    again = engine.render(req, EngineContext())
    other_seed = engine.render(replace(req, seed=3), EngineContext())
    assert calls == []  # planned from what the first render found
    assert np.array_equal(again.image, first.image)
    assert again.recipe["classes"]["water"]["boards"] == ["pond"]
    fresh = ExemplarEngine().render(replace(req, seed=3), EngineContext())
    assert other_seed.recipe["classes"] == fresh.recipe["classes"]
    assert np.array_equal(other_seed.image, fresh.image)
    # another layout is checked again
    regions2 = regions.copy()
    regions2[280:340, 100:250] = GRASS
    engine.render(replace(req, regions=regions2), EngineContext())
    assert calls, "a new layout must be checked"
