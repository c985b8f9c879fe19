from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from psd_tools import PSDImage

from haikei.errors import ConfigError, ConsentError, InputError
from haikei.imaging.io import load_rgb, png_bytes, read_png_text
from haikei.provenance.c2pa_sign import verify
from haikei.provenance.credits import build_credits, format_credits
from haikei.provenance.keys import init_keys
from haikei.services.artboards import set_consent
from haikei.services.delivery import credits_input, export
from haikei.services.intake import import_folder
from haikei.services.rendering import RenderSpec, render_backgrounds, render_spec


@pytest.fixture
def rendered(production, layouts_dir: Path):
    import_folder(production, layouts_dir, artist="Kenji Mori")
    render_backgrounds(production, None, engine="baseline", candidates=1, actor="aki")
    init_keys(production.root / "keys", org="Test Studio")
    return production


def _tree(p: Path) -> dict[str, bytes]:
    return (
        {str(f.relative_to(p)): f.read_bytes() for f in sorted(p.rglob("*")) if f.is_file()}
        if p.exists()
        else {}
    )


def test_export_files_psd_layers_and_cut_list(rendered, tmp_path: Path) -> None:
    # a retake on c001 so its PSD has a second pixel layer
    (v,) = [x for x in render_backgrounds(rendered, ["c001"], engine="baseline", candidates=1, actor="aki")]
    mask = np.zeros((40, 64), np.uint8)
    mask[4:16, 4:30] = 255
    retake = render_spec(
        rendered,
        RenderSpec(
            bg="c001",
            engine="baseline",
            kind="retake",
            parent_version_id=v.id,
            mask_blob=rendered.blobs.put(png_bytes(mask)),
            seed=4,
            actor="aki",
        ),
    )
    out = tmp_path / "delivery"
    res = export(rendered, out)
    names = sorted(p.name for p in res.files)
    assert "ep01_c001_bg_v002.png" in names and "ep01_c003-c004_bg_v001.psd" in names
    assert "ep01_c001_bg_v002.c2pa" in names and "cuts.csv" in names and "delivery.json" in names
    # shared BG delivered once, listed for both cuts
    rows = list(csv.DictReader((out / "cuts.csv").open()))
    assert {r["cut"]: r["png"] for r in rows}["c004"] == "ep01_c003-c004_bg_v001.png"
    assert [r["cut"] for r in rows] == ["c001", "c002", "c003", "c004"]
    # PNG: delivery size, independent reader, recipe embedded
    png = out / "ep01_c001_bg_v002.png"
    with Image.open(png) as im:
        assert im.size == (64, 40) and im.mode == "RGB"
    final = load_rgb(rendered.blobs.get(retake.image_blob))
    assert np.array_equal(load_rgb(png), final)
    rec = json.loads(read_png_text(png)["haikei:recipe"])
    assert [s["kind"] for s in rec["lineage"]] == ["render", "composite"]
    # PSD: names, order (bottom first), sizes, pixels
    psd = PSDImage.open(out / "ep01_c001_bg_v002.psd")
    assert psd.size == (64, 40)
    layer_names = [layer.name for layer in psd]
    assert layer_names[0] == "regions" and layer_names[1].startswith("render baseline")
    assert layer_names[2].startswith("retake baseline") and layer_names[3] == "layout lines"
    assert not psd[0].visible and not psd[3].visible
    comp = np.asarray(psd.composite().convert("RGB"))
    assert np.abs(comp.astype(int) - final.astype(int)).max() <= 2
    assert oct(os.stat(png).st_mode & 0o777) == "0o644"


def test_signed_png_verifies_and_tamper_is_caught(rendered, tmp_path: Path) -> None:
    out = tmp_path / "d"
    export(rendered, out, cuts=["c002"])
    png = out / "ep01_c002_bg_v001.png"
    anchors = (rendered.root / "keys" / "root-ca.pem").read_bytes()
    rep = verify(png, trust_anchors=anchors)
    assert rep.valid, rep
    data = bytearray(png.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad = tmp_path / "bad.png"
    bad.write_bytes(bytes(data))
    assert not verify(bad, trust_anchors=anchors).valid
    psd = out / "ep01_c002_bg_v001.psd"
    assert verify(psd, trust_anchors=anchors).valid


def test_credits_name_people(rendered) -> None:
    text = format_credits(build_credits(credits_input(rendered)), "text")
    assert "Kenji Mori" in text and "Aki Tanaka" in text and "baseline" in text
    data = json.loads(format_credits(build_credits(credits_input(rendered)), "json"))
    assert data


def test_refused_exports_write_nothing(rendered, tmp_path: Path) -> None:
    out = tmp_path / "d"
    out.mkdir()
    (out / "keep.txt").write_text("earlier delivery")
    before = _tree(out)
    with pytest.raises(InputError, match="nothing to deliver"):
        export(rendered, out, only_approved=True)
    assert _tree(out) == before
    set_consent(rendered, "tiny", False)
    with pytest.raises(ConsentError, match="consent"):
        export(rendered, out)
    assert _tree(out) == before
    set_consent(rendered, "tiny", True)
    cfg = rendered.root / "haikei.toml"
    rendered.settings.render.allowed_engines = ["exemplar"]
    with pytest.raises(ConsentError, match="allow-list"):
        export(rendered, out)
    rendered.settings.render.allowed_engines = ["exemplar", "baseline"]
    (rendered.root / "keys" / "chain.pem").unlink()
    with pytest.raises(ConfigError, match="keys init"):
        export(rendered, out)
    assert _tree(out) == before
    del cfg


def test_paint_over_is_a_layer_an_edit_and_a_credit(rendered, tmp_path: Path) -> None:
    """A person's paint-over uploaded in review: its own PSD layer, a named C2PA edit, a line in the credits."""
    from haikei.services.review import approve, bg_detail, upload_paintover
    from haikei.services.users import add_user, get_user

    add_user(rendered, "kenji", "artist", password="kenji-pass-1", display_name="Kenji Mori")
    add_user(rendered, "haruka", "director", password="haruka-pass-1", display_name="Haruka Aoki")
    d = bg_detail(rendered, "c002")
    parent = load_rgb(
        rendered.blobs.get(next(v for v in d.versions if v.id == d.bg.current_version_id).image_blob)
    )
    painted = parent.copy()
    painted[2:12, 40:60] = (250, 200, 120)  # a warmer patch of sky, 200 of 2560 pixels
    v = upload_paintover(
        rendered,
        get_user(rendered, "kenji"),
        "c002",
        d.bg.current_version_id,
        d.bg.lock_version,
        png_bytes(painted),
        "c002_paintover.png",
        "warmer sky",
    )
    assert v.changed_share == pytest.approx(200 / 2560)
    d = bg_detail(rendered, "c002")
    approve(rendered, get_user(rendered, "haruka"), "c002", v.id, d.bg.lock_version)
    out = tmp_path / "d"
    export(rendered, out, cuts=["c002"], only_approved=True)
    psd = PSDImage.open(out / "ep01_c002_bg_v002.psd")
    names = [layer.name for layer in psd]
    assert "paint-over Kenji Mori" in names and names.index("paint-over Kenji Mori") > 1
    rep = verify(
        out / "ep01_c002_bg_v002.png", trust_anchors=(rendered.root / "keys" / "root-ca.pem").read_bytes()
    )
    text = rep.format_text()
    assert rep.valid and "Kenji Mori" in text and "Haruka Aoki" in text
    assert rep.to_dict()["source_type"].endswith("compositeSynthetic")  # an untrained engine and a person
    credits = format_credits(build_credits(credits_input(rendered, ["c002"])), "text")
    assert "Kenji Mori" in credits and "7.8%" in credits and "Haruka Aoki" in credits
