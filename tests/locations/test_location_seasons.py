"""Seasons carry across a location: c001's approved winter variant (a re-vote over its board's
aligned winter repaint) becomes its location board's winter repaint, so c003, painted from that
location board, gets the same winter by re-voting its own correspondences over it."""

from __future__ import annotations

import numpy as np

from haikei.imaging.io import load_rgb, png_bytes
from haikei.services.locations import set_location
from haikei.services.rendering import render_backgrounds, render_spec
from haikei.services.review import approve, approve_variant, bg_detail
from haikei.services.review_variants import variant_options, variant_specs
from haikei.services.users import get_user
from haikei.store.tables import ArtBoardRow, VersionRow


def _approve(ctx, ref: str, vid: int) -> None:
    approve(ctx, get_user(ctx, "haruka"), ref, vid, bg_detail(ctx, ref).bg.lock_version)


def test_an_approved_winter_carries_to_the_other_cuts_of_the_place(place) -> None:
    # the 'tiny' board gets an aligned winter repaint (pale, snowy), as a studio's board set has
    with place.db.session() as s:
        b = s.query(ArtBoardRow).filter_by(name="tiny").one()
        img = load_rgb(place.blobs.get(b.image_blob)).astype(np.float64)
        b.variants = {
            "winter": place.blobs.put(png_bytes(np.clip(img * 0.35 + 170, 0, 255).astype(np.uint8)))
        }
    set_location(place, "c003", "house")  # c003: sky, mountain, grass only (all on the location board)
    (v1,) = render_backgrounds(place, ["c001"], engine="exemplar", candidates=1, actor="aki")
    _approve(place, "c001", v1.id)
    (v3,) = render_backgrounds(place, ["c003"], engine="exemplar", candidates=1, actor="aki")
    _approve(place, "c003", v3.id)
    assert "winter" not in variant_options(place, "c003")  # the location board has no winter yet
    # c001's winter: a re-vote over tiny's winter repaint, approved
    (spec,), (opt,), _ = variant_specs(place, "c001", ["winter"], "haruka")
    assert opt.method == "revote"
    w1 = render_spec(place, spec)
    approve_variant(place, get_user(place, "haruka"), "c001", w1.id, bg_detail(place, "c001").bg.lock_version)
    with place.db.session() as s:
        board = s.query(ArtBoardRow).filter_by(source_version_id=v1.id).one()  # c001's location board
        assert board.variants == {"winter": w1.image_blob}
        c3_board = s.query(ArtBoardRow).filter_by(source_version_id=v3.id).one()
        assert c3_board.variants == {}  # c003's board: its own winter is not approved
    # c003 can now have the same winter: a re-vote over the location board's winter
    assert variant_options(place, "c003")["winter"].method == "revote"
    (spec3,), _, _ = variant_specs(place, "c003", ["winter"], "haruka")
    w3 = render_spec(place, spec3)
    with place.db.session() as s:
        recipe = s.get(VersionRow, w3.id).recipe
    assert recipe["kind"] == "variant" and recipe["inputs"]["location"]["boards"][0]["id"] == board.id
    summer = load_rgb(place.blobs.get(v3.image_blob)).astype(np.float64)
    winter = load_rgb(place.blobs.get(w3.image_blob)).astype(np.float64)
    c1_winter = load_rgb(place.blobs.get(w1.image_blob)).astype(np.float64)
    # paler like c001's winter, and much closer to c001's winter colours than to c003's summer
    assert winter.mean() > summer.mean() + 20
    assert abs(winter.mean() - c1_winter.mean()) < abs(summer.mean() - c1_winter.mean()) / 3
