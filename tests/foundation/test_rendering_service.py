from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from haikei.errors import ConsentError, NotFoundError, RenderRefused
from haikei.imaging.io import load_rgb, png_bytes, read_png_text
from haikei.services.artboards import set_consent
from haikei.services.intake import import_folder
from haikei.services.rendering import RenderSpec, render_backgrounds, render_spec
from haikei.store.tables import BackgroundRow, VersionRow
from tests.conftest import snapshot


@pytest.fixture
def imported(production, layouts_dir: Path):
    import_folder(production, layouts_dir, artist="Kenji Mori")
    return production


def test_render_candidates_make_versions_with_recipes(imported) -> None:
    vs = render_backgrounds(imported, ["c001", "c004"], engine="baseline", candidates=2, seed=5, actor="aki")
    assert [(v.revision, v.candidate) for v in vs] == [(1, 0), (2, 1), (1, 0), (2, 1)]
    v = vs[0]
    r = v.recipe
    assert r["engine"] == "baseline" and r["seed"] == 5 and r["actor"] == "aki"
    assert r["inputs"]["artboards"][0]["artist"] == "Aki Tanaka"
    assert r["inputs"]["layout_lines"] and r["render_key"] == v.render_key
    png = imported.blobs.get(v.image_blob)
    assert json.loads(read_png_text(png)["haikei:recipe"])["render_key"] == v.render_key
    assert load_rgb(png).shape == (40, 64, 3)
    with imported.db.session() as s:
        bg = s.scalars(select(BackgroundRow).where(BackgroundRow.name == "c001")).unique().one()
        assert bg.current_version_id == v.id  # the first candidate becomes current


def test_same_request_is_not_rendered_twice(imported) -> None:
    a = render_backgrounds(imported, ["c001"], engine="baseline", candidates=1, seed=3)
    before = snapshot(imported)
    b = render_backgrounds(imported, ["c001"], engine="baseline", candidates=1, seed=3)
    assert [v.id for v in a] == [v.id for v in b]
    assert snapshot(imported) == before


def test_retake_only_changes_the_mask(imported) -> None:
    (parent,) = render_backgrounds(imported, ["c002"], engine="baseline", candidates=1)
    mask = np.zeros((40, 64), np.uint8)
    mask[5:20, 10:30] = 255
    key = imported.blobs.put(png_bytes(mask))
    v = render_spec(
        imported,
        RenderSpec(
            bg="c002", engine="baseline", kind="retake", parent_version_id=parent.id, mask_blob=key, seed=9
        ),
    )
    assert v.revision == 2 and v.parent_id == parent.id and v.kind.value == "composite"
    a, b = load_rgb(imported.blobs.get(parent.image_blob)), load_rgb(imported.blobs.get(v.image_blob))
    outside = mask < 128
    assert np.array_equal(a[outside], b[outside]) and not np.array_equal(a[~outside], b[~outside])


def test_refusals_leave_no_trace(imported) -> None:
    before = snapshot(imported)
    with pytest.raises(ConsentError, match="allow-list"):
        render_spec(imported, RenderSpec(bg="c001", engine="comfyui"))
    with pytest.raises(NotFoundError, match="no BG or cut"):
        render_spec(imported, RenderSpec(bg="c999", engine="baseline"))
    with pytest.raises(RenderRefused, match="needs a parent"):
        render_spec(imported, RenderSpec(bg="c001", engine="baseline", kind="refine"))
    set_consent(imported, "tiny", False)
    mid = snapshot(imported)
    with pytest.raises(ConsentError):
        render_spec(imported, RenderSpec(bg="c001", engine="baseline"))
    assert snapshot(imported) == mid
    with imported.db.session() as s:
        assert s.scalars(select(VersionRow)).first() is None
    del before


def test_cut_of_shared_bg_resolves_to_bg(imported) -> None:
    (v,) = render_backgrounds(imported, ["c003"], engine="baseline", candidates=1)
    with imported.db.session() as s:
        assert s.get(BackgroundRow, v.background_id).name == "c003-c004"


def test_retake_arrival_moves_bg_to_waiting_for_approval(imported) -> None:
    from haikei.store.tables import NoteRow, ReviewStatusRow

    (parent,) = render_backgrounds(imported, ["c002"], engine="baseline", candidates=1)
    with imported.db.session() as s:
        bg = s.scalars(select(BackgroundRow).where(BackgroundRow.name == "c002")).unique().one()
        bg.status_id = (
            s.scalars(select(ReviewStatusRow).where(ReviewStatusRow.short_name == "retake")).one().id
        )
        lock = bg.lock_version
    mask = np.zeros((40, 64), np.uint8)
    mask[5:20, 10:30] = 255
    v = render_spec(
        imported,
        RenderSpec(
            bg="c002",
            engine="baseline",
            kind="retake",
            parent_version_id=parent.id,
            mask_blob=imported.blobs.put(png_bytes(mask)),
            actor="haruka",
        ),
    )
    with imported.db.session() as s:
        bg = s.scalars(select(BackgroundRow).where(BackgroundRow.name == "c002")).unique().one()
        assert bg.status.short_name == "wfa" and bg.lock_version == lock + 1 and bg.current_version_id == v.id
        # the candidate's arrival was noted first (review loop: rendered -> waiting), then the retake's
        first, note = s.scalars(
            select(NoteRow).where(NoteRow.background_id == bg.id).order_by(NoteRow.id)
        ).all()
        assert first.status_change == "wfa" and first.text.startswith("candidates rendered")
        assert note.status_change == "wfa" and note.author == "haruka" and note.version_id == v.id
