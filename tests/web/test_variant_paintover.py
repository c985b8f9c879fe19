"""Issue 15 items 4 and 5, engine side: a retake note's colour words reach the exemplar (the masked
area moves within the boards' paint) and the page lists them as understood; a variant of a
painted-over BG keeps the artist's paint, re-coloured through the same board change."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import ndimage

from haikei.domain.direction import parse_direction
from haikei.engines.base import EngineContext
from haikei.engines.sd.prompts import direction_prompt
from haikei.imaging.io import load_rgb, png_bytes
from haikei.quality.colour import rgb_to_lab
from haikei.services.context import ServiceContext
from tests.web.conftest import bg_state
from tests.web.test_variants import _approve_exemplar, boards  # noqa: F401  (the fixture)

W, H = 64, 40


def _image(ctx: ServiceContext, version_id: int) -> np.ndarray:
    from haikei.store.tables import VersionRow

    with ctx.db.session() as s:
        blob = s.get(VersionRow, version_id).image_blob
    return load_rgb(ctx.blobs.get(blob))


# -- item 4: colour words ----------------------------------------------------------------------


def test_the_exemplar_understands_colour_words_and_others_still_say_what_they_ignore(reviewed) -> None:
    from haikei.services.retake_notes import read_note

    r = read_note(reviewed, "c001", "darker, less grey, 乾いた土, sparkly", "exemplar")
    said = {(k, v) for k, v in r.understood}
    assert {("colour", "darker"), ("colour", "less grey"), ("colour", "乾いた土")} <= said
    assert r.options == {"palette_adjust": [["darker", 0.7], ["more_saturated", 0.7], ["dry_earth", 0.7]]}
    assert any("darker part of the boards' paint" in u for u in r.used), r.used
    assert any("dry earth / ochre" in u for u in r.used), r.used
    assert not any("less grey" in i or "darker" in i or "乾いた" in i for i in r.ignored), r.ignored
    assert any("sparkly" in i and "does not read words" in i for i in r.ignored), r.ignored  # unknown
    # a note of colour words only changes no tag: the BG's own direction, the palette moved
    assert read_note(reviewed, "c001", "a little warmer", "exemplar").direction == ""
    # the baseline does not read them: still listed as ignored, no options
    b = read_note(reviewed, "c001", "less grey", "baseline")
    assert b.options == {} and any("less grey" in i and "does not read words" in i for i in b.ignored)
    # sd: the words go into the prompt for the masked area
    sd = read_note(reviewed, "c001", "summer, darker, less grey", "sd")
    prompt, _neg = direction_prompt(parse_direction(sd.direction), "en")
    assert "darker" in prompt and "less grey" in prompt and "summer" in prompt


def test_a_darker_retake_note_darkens_the_masked_area_and_nothing_else(boards, clients) -> None:  # noqa: F811
    from haikei.jobs.local import LocalExecutor
    from haikei.services.review import bg_detail, request_retake
    from haikei.services.users import get_user

    d, tok = clients("dir")
    st = _approve_exemplar(boards, d, tok)
    parent = st["approved_version_id"]
    art = get_user(boards, "art")
    # what the page shows before sending (the API the retake card reads)
    r = d.get(
        "/api/bgs/c001/retake-note",
        params={"version_id": parent, "text": "少し暗く、sparkly", "engine": "exemplar"},
    ).json()
    assert {"field": "colour", "value": "暗く"} in r["understood"], r
    assert r["options"] == {"palette_adjust": [["darker", 0.35]]}
    assert any("a little toward the darker part" in u for u in r["used"]), r["used"]
    assert any("sparkly" in i for i in r["ignored"]) and not any("暗く" in i for i in r["ignored"]), r
    m = np.zeros((H, W), np.uint8)
    m[6:34, 4:40] = 255
    mask = m > 0
    made: dict[str, Any] = {}
    for note in ("fix this", "darker"):
        lock = bg_detail(boards, "c001").bg.lock_version
        _n, job = request_retake(
            boards, art, "c001", parent, lock, png_bytes(m), note, engine="exemplar", seed=4
        )
        LocalExecutor(boards, workers=1, mode="thread").run_until_empty([job.id], timeout_s=120)
        made[note] = bg_detail(boards, "c001").versions[0]
    plain, dark = _image(boards, made["fix this"].id), _image(boards, made["darker"].id)
    before = _image(boards, parent)
    assert np.array_equal(dark[~mask], before[~mask]) and np.array_equal(plain[~mask], before[~mask])
    # inside the feathered edge (seam_feather 8 px) the retake is all the engine's paint
    inner = ndimage.distance_transform_edt(mask) >= 8
    l_plain = float(np.median(rgb_to_lab(plain[inner])[:, 0]))
    l_dark = float(np.median(rgb_to_lab(dark[inner])[:, 0]))
    print(f"darker retake, L* median inside the mask: {l_plain:.1f} -> {l_dark:.1f}")
    assert l_dark < l_plain - 4.0, (l_plain, l_dark)
    rec = made["darker"].recipe
    assert rec["options"]["palette_adjust"] == [["darker", 0.7]]
    assert rec["engine_recipe"]["palette_adjust"]["asked"] == [["darker", 0.7]]
    assert "palette_adjust" not in (made["fix this"].recipe.get("options") or {})


# -- item 5: a variant keeps the approved version's paint-over -----------------------------------


def _stroke() -> np.ndarray:
    """A thick diagonal brush stroke across sky, mountain and grass."""
    yy, xx = np.mgrid[0:H, 0:W]
    return (np.abs(yy - (0.5 * xx + 4)) < 2.5) & (xx > 8) & (xx < 56)


@pytest.fixture
def painted(boards, clients) -> dict[str, Any]:  # noqa: F811
    """c001 rendered by the exemplar and approved (r_render), then painted over with a warm stroke
    (r_human) and that approved."""
    d, tok = clients("dir")
    st = _approve_exemplar(boards, d, tok)
    render_id = st["approved_version_id"]
    img = _image(boards, render_id).copy()
    stroke = _stroke()
    img[stroke] = (225, 150, 70)
    r = d.post(
        "/api/bgs/c001/paintover",
        data={"version_id": render_id, "lock_version": st["lock_version"]},
        files={"file": ("over.png", png_bytes(img), "image/png")},
        headers={"X-CSRF-Token": tok},
    )
    assert r.status_code == 200, r.text
    human = r.json()
    st = bg_state(d)
    r = d.post(
        "/api/bgs/c001/approve",
        json={"version_id": human["id"], "lock_version": st["lock_version"]},
        headers={"X-CSRF-Token": tok},
    )
    assert r.status_code == 200, r.text
    return {"d": d, "tok": tok, "render": render_id, "human": human["id"], "stroke": stroke}


def test_a_variant_of_a_painted_over_bg_keeps_the_paint_in_the_new_light(boards, painted) -> None:  # noqa: F811
    from haikei.jobs.local import LocalExecutor
    from haikei.services.rendering import RenderSpec, prepare
    from haikei.services.review_variants import needs_paint_over_again

    d, tok = painted["d"], painted["tok"]
    st = bg_state(d)
    opts = st["variant_options"]
    assert opts["evening"]["method"] == "revote" and opts["evening"]["needs_paint_over_again"] is False
    assert "paint-over kept" in opts["evening"]["label"]
    assert opts["winter"]["needs_paint_over_again"] is True  # a re-render cannot carry it: still said
    assert "paint-over kept, re-coloured through the same change" in d.get("/cut/c001").text
    r = d.post(
        "/api/bgs/c001/variants",
        json={"tags": ["evening"], "lock_version": st["lock_version"]},
        headers={"X-CSRF-Token": tok},
    )
    assert r.status_code == 200, r.text
    jobs = [j["id"] for j in d.get("/api/bgs/c001/jobs").json() if j["variant"] == "evening"]
    LocalExecutor(boards, workers=1, mode="thread").run_until_empty(jobs, timeout_s=120)
    var = next(v for v in bg_state(d)["versions"] if v["variant"] == "evening")
    assert var["parent_id"] == painted["human"]
    kept = var["recipe"]["inputs"]["paint_over_kept"]
    assert kept == {"version_id": painted["human"], "source_map_of_version_id": painted["render"]}
    said = var["recipe"]["engine_recipe"]["paint_over"]
    assert said["pixels"] == said["recoloured"] == int(painted["stroke"].sum())
    with boards.db.session() as s:
        assert not needs_paint_over_again(s)  # nothing flagged: the paint is in the variant
    # the same variant of the unpainted render, for comparison
    prep = prepare(
        boards,
        RenderSpec(
            bg="c001",
            engine="exemplar",
            kind="variant",
            parent_version_id=painted["render"],
            variant="evening",
        ),
    )
    bare = boards.engine("exemplar").render(prep.request, EngineContext()).image.astype(float)
    out = _image(boards, var["id"]).astype(float)
    human = _image(boards, painted["human"]).astype(float)
    stroke = painted["stroke"]
    if os.environ.get("HAIKEI_LOOK_DIR"):  # for a person to look at: approved, variants, render
        from haikei.imaging.io import save_png

        rows = [_image(boards, painted["render"]), human, bare, out]
        save_png(
            Path(os.environ["HAIKEI_LOOK_DIR"]) / "paintover_variant.png",
            np.concatenate(rows, axis=1).astype(np.uint8),
        )
    # structure elsewhere as before: the variant of the render, pixel for pixel
    assert np.abs(out[~stroke] - bare[~stroke]).max() <= 1
    # the stroke keeps its shape: the variant differs from the unpainted one exactly there
    differs = np.abs(out - bare).max(axis=2) > 12
    iou = (differs & stroke).sum() / (differs | stroke).sum()
    assert iou > 0.9, iou
    # ... and follows the evening in colour: darker, and less red against blue, like the repaint
    assert out[stroke].mean() < human[stroke].mean() - 25
    ratio = lambda px: float(px[:, 2].mean() / max(px[:, 0].mean(), 1.0))  # noqa: E731
    assert ratio(out[stroke]) > ratio(human[stroke]) + 0.05


def test_where_the_re_vote_would_replace_the_paint_the_offer_says_so(boards, painted) -> None:  # noqa: F811
    """With [engines.exemplar] seam_blend = 0 the re-vote paints over the approved image instead of
    adding the change to it: a painted-over BG is not offered that re-vote, and asking says why."""
    import dataclasses

    from haikei.errors import InputError
    from haikei.services.review_variants import variant_options, variant_specs

    off = dataclasses.replace(
        boards,
        settings=boards.settings.model_copy(update={"engines": {"exemplar": {"seam_blend": 0}}}),
    )
    assert "evening" in variant_options(boards, "c001")
    assert "evening" not in variant_options(off, "c001")
    with pytest.raises(InputError, match=r"would not keep r[0-9]+'s paint-over"):
        variant_specs(off, "c001", ["evening"], "dir")


def test_an_approved_retake_by_an_engine_without_a_source_map_is_kept_too(boards, clients) -> None:  # noqa: F811
    """An exemplar render retaken by the baseline (a composite with no source map of its own) and
    approved: the evening re-vote uses the render's correspondences and re-colours the baseline's
    retake area (its mask) like a paint-over, instead of dropping it."""
    from haikei.jobs.local import LocalExecutor
    from haikei.services.rendering import RenderSpec, prepare
    from haikei.services.review import approve, bg_detail, request_retake
    from haikei.services.review_variants import variant_options, variant_specs
    from haikei.services.users import get_user

    d, tok = clients("dir")
    st = _approve_exemplar(boards, d, tok)
    render_id = st["approved_version_id"]
    m = np.zeros((H, W), np.uint8)
    m[4:30, 30:60] = 255
    lock = bg_detail(boards, "c001").bg.lock_version
    _n, job = request_retake(
        boards, get_user(boards, "art"), "c001", render_id, lock, png_bytes(m), "redo", engine="baseline"
    )
    LocalExecutor(boards, workers=1, mode="thread").run_until_empty([job.id], timeout_s=120)
    retake = bg_detail(boards, "c001").versions[0]
    assert retake.kind == "composite" and retake.engine == "baseline"
    approve(boards, get_user(boards, "dir"), "c001", retake.id, bg_detail(boards, "c001").bg.lock_version)
    opt = variant_options(boards, "c001")["evening"]
    assert opt.method == "revote" and not opt.redo and f"r{retake.revision}'s retake kept" in opt.label
    (spec,), _o, _id = variant_specs(boards, "c001", ["evening"], "dir")
    assert spec.mask_blob == retake.recipe["inputs"]["mask"] and spec.engine == "exemplar"
    eng = boards.engine("exemplar")
    res = eng.render(prepare(boards, spec).request, EngineContext())
    assert prepare(boards, spec).inputs["paint_over_kept"]["source_map_of_version_id"] == render_id
    assert res.recipe["paint_over"]["pixels"] == int((m > 0).sum())
    bare_spec = RenderSpec(
        bg="c001", engine="exemplar", kind="variant", parent_version_id=render_id, variant="evening"
    )
    bare = eng.render(prepare(boards, bare_spec).request, EngineContext()).image
    inside = m > 0
    assert np.array_equal(res.image[~inside], bare[~inside])  # elsewhere: the render's variant
    assert np.abs(res.image[inside].astype(int) - bare[inside]).mean() > 3  # the retake's paint, kept
    approved = _image(boards, retake.id)
    assert res.image[inside].mean() < approved[inside].mean() - 20  # ... in the evening light
