from __future__ import annotations

import struct
import time
import zlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from haikei.errors import InputError
from haikei.imaging.io import load_rgb, png_bytes, read_png_text, save_png
from haikei.imaging.psd import PsdLayer, write_psd
from haikei.provenance.c2pa_sign import (
    ALGORITHMIC_MEDIA,
    COMPOSITE_SYNTHETIC,
    COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA,
    DIGITAL_CREATION,
    HUMAN_EDITS,
    TRAINED_ALGORITHMIC_MEDIA,
    EngineStep,
    HumanStep,
    IngredientSpec,
    ManifestSpec,
    build_manifest,
    derive_source_type,
    sidecar_path_for,
    sign_png,
    sign_sidecar,
    verify,
)
from haikei.provenance.keys import SigningCredentials, init_keys, load_studio_keys

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> tuple[SigningCredentials, bytes]:
    d = tmp_path_factory.mktemp("keys")
    files = init_keys(d, "Studio Kaze")
    return load_studio_keys(d), files.root_cert.read_bytes()


def picture(h: int = 48, w: int = 64, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def spec(**over) -> ManifestSpec:
    base = dict(
        title="c012 BG rev 3",
        steps=(
            EngineStep(
                "sd", "0.2", TRAINED_ALGORITHMIC_MEDIA, seed=7, render_key="ab" * 32, requested_by="伊藤"
            ),
            HumanStep("佐藤 花子", changed_fraction=0.125),
        ),
        layout=IngredientSpec(
            "c012_LO.png", png_bytes(np.full((16, 16), 255, np.uint8)), "田中 一郎", "layout"
        ),
        art_boards=(
            IngredientSpec(
                "autumn river", png_bytes(picture(16, 16, 1)), "木村 さくら", "art_board", "staff work"
            ),
        ),
        approved_by="山田 太郎",
        facts={"cut": "c012", "revision": 3},
    )
    base.update(over)
    return ManifestSpec(**base)


def signed_png(tmp_path: Path, creds: SigningCredentials, **over) -> Path:
    src, dst = tmp_path / "bg.png", tmp_path / "bg_signed.png"
    save_png(src, picture(), text={"haikei:recipe": '{"kind":"render"}'})
    sign_png(src, dst, spec(**over), creds)
    return dst


# ---------------------------------------------------------------- source type


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        ([TRAINED_ALGORITHMIC_MEDIA], TRAINED_ALGORITHMIC_MEDIA),
        ([TRAINED_ALGORITHMIC_MEDIA, TRAINED_ALGORITHMIC_MEDIA], TRAINED_ALGORITHMIC_MEDIA),
        ([TRAINED_ALGORITHMIC_MEDIA, HUMAN_EDITS], COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA),
        ([ALGORITHMIC_MEDIA, TRAINED_ALGORITHMIC_MEDIA], COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA),
        ([DIGITAL_CREATION, TRAINED_ALGORITHMIC_MEDIA], COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA),
        ([ALGORITHMIC_MEDIA], ALGORITHMIC_MEDIA),
        ([ALGORITHMIC_MEDIA, ALGORITHMIC_MEDIA], ALGORITHMIC_MEDIA),
        ([ALGORITHMIC_MEDIA, HUMAN_EDITS], COMPOSITE_SYNTHETIC),
        ([DIGITAL_CREATION, ALGORITHMIC_MEDIA], COMPOSITE_SYNTHETIC),
        ([DIGITAL_CREATION], DIGITAL_CREATION),
        ([DIGITAL_CREATION, HUMAN_EDITS], DIGITAL_CREATION),
    ],
)
def test_derive_source_type(steps: list[str], expected: str) -> None:
    assert derive_source_type(steps) == expected
    assert expected.startswith(IPTC)


def test_derive_source_type_refuses_nothing_and_unknown_terms() -> None:
    with pytest.raises(InputError, match="no step"):
        derive_source_type([])
    with pytest.raises(InputError, match="unknown digital source type"):
        derive_source_type([IPTC + "digitalCapture"])


# ---------------------------------------------------------------- manifest content


def test_manifest_names_people_engines_and_forbids_training() -> None:
    definition, ingredients = build_manifest(spec())
    assert definition["claim_generator_info"][0]["name"] == "haikei"
    by_label = {a["label"]: a["data"] for a in definition["assertions"]}
    created, edited = by_label["c2pa.actions.v2"]["actions"]
    assert created["action"] == "c2pa.created"
    assert created["digitalSourceType"] == TRAINED_ALGORITHMIC_MEDIA
    assert created["softwareAgent"] == {"name": "haikei sd", "version": "0.2"}
    assert created["parameters"]["ingredientIds"] == ["layout", "art_board_0"]
    assert edited["action"] == "c2pa.edited" and edited["digitalSourceType"] == HUMAN_EDITS
    assert edited["parameters"]["org.haikei.artist"] == "佐藤 花子"
    assert all(v == {"use": "notAllowed"} for v in by_label["cawg.training-mining"]["entries"].values())
    assert len(by_label["cawg.training-mining"]["entries"]) == 4
    assert by_label["org.haikei.delivery"]["digitalSourceType"] == COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA
    assert [i[0]["metadata"]["org.haikei.artist"] for i in ingredients] == ["田中 一郎", "木村 さくら"]
    assert ingredients[0][0]["metadata"]["org.haikei.digitalSourceType"] == DIGITAL_CREATION
    assert ingredients[1][0]["metadata"]["org.haikei.licence"] == "staff work"


def test_manifest_first_human_step_is_a_creation() -> None:
    definition, _ = build_manifest(
        spec(steps=(HumanStep("Aki"), EngineStep("exemplar", "0.3", ALGORITHMIC_MEDIA)))
    )
    actions = definition["assertions"][0]["data"]["actions"]
    assert [a["action"] for a in actions] == ["c2pa.created", "c2pa.edited"]
    assert [a["digitalSourceType"] for a in actions] == [DIGITAL_CREATION, ALGORITHMIC_MEDIA]
    assert definition["assertions"][2]["data"]["digitalSourceType"] == COMPOSITE_SYNTHETIC


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"steps": ()}, "at least one step"),
        ({"steps": (HumanStep(" "),)}, "no artist name"),
        ({"steps": (HumanStep("A", changed_fraction=1.5),)}, "outside 0..1"),
        ({"steps": (EngineStep("x", "1", IPTC + "digitalCapture"),)}, "not algorithmicMedia"),
        ({"title": " "}, "title"),
        ({"art_boards": (IngredientSpec("b", b"x", "", "art_board"),)}, "has no artist"),
        ({"layout": IngredientSpec("b", b"x", "A", "art_board")}, "has role"),
        ({"training_mining": {"cawg.ai_training": "maybe"}}, "notAllowed"),
        ({"layout": IngredientSpec("lo", Path("/nonexistent/lo.png"), "A", "layout")}, "not found"),
    ],
)
def test_manifest_refuses_incomplete_specs(over: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        build_manifest(spec(**over))


# ---------------------------------------------------------------- sign and verify PNG


def test_signed_png_verifies_and_tells_who_made_it(tmp_path: Path, studio) -> None:
    creds, root = studio
    dst = signed_png(tmp_path, creds)
    assert np.array_equal(load_rgb(dst), picture())  # pixels untouched
    assert read_png_text(dst)["haikei:recipe"] == '{"kind":"render"}'  # recipe kept
    r = verify(dst, trust_anchors=root)
    assert r.valid and r.trusted and r.state == "Trusted", r.errors
    assert r.manifest_store == "embedded"
    assert r.signer == "Studio Kaze haikei signing"
    assert r.claim_generator.startswith("haikei/")
    assert r.title == "c012 BG rev 3"
    assert r.source_type == COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA
    assert r.approved_by == "山田 太郎"
    assert r.facts["cut"] == "c012"
    assert [(i.role, i.artist) for i in r.ingredients] == [
        ("layout", "田中 一郎"),
        ("art_board", "木村 さくら"),
    ]
    assert r.ingredients[1].licence == "staff work"
    assert [(a.action, a.source_type) for a in r.actions] == [
        ("c2pa.created", TRAINED_ALGORITHMIC_MEDIA),
        ("c2pa.edited", HUMAN_EDITS),
    ]
    assert r.actions[0].agent == "haikei sd 0.2" and r.actions[1].agent.startswith("佐藤 花子")
    assert set(r.training_mining.values()) == {"notAllowed"}
    text = r.format_text()
    assert "VALID" in text and "田中 一郎" in text and "compositeWithTrainedAlgorithmicMedia" in text


def test_without_the_studio_root_a_signature_is_not_trusted(tmp_path: Path, studio) -> None:
    creds, _ = studio
    r = verify(signed_png(tmp_path, creds))
    assert not r.valid and not r.trusted
    assert any("untrusted" in e for e in r.errors)


def test_another_studios_signature_is_invalid(tmp_path: Path, studio) -> None:
    _, root = studio
    init_keys(tmp_path / "other", "Other Studio")
    r = verify(signed_png(tmp_path, load_studio_keys(tmp_path / "other")), trust_anchors=root)
    assert not r.valid and not r.trusted
    assert any("signingCredential.untrusted" in e for e in r.errors)


def _chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    out, pos = [], 8
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos : pos + 4])
        out.append((data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + n]))
        pos += 12 + n
    return out


def _png(chunks: list[tuple[bytes, bytes]]) -> bytes:
    body = b"".join(
        struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
        for t, d in chunks
    )
    return b"\x89PNG\r\n\x1a\n" + body


def test_credentials_copied_onto_changed_pixels_are_invalid(tmp_path: Path, studio) -> None:
    creds, root = studio
    dst = signed_png(tmp_path, creds)
    chunks = _chunks(dst.read_bytes())
    manifest = [c for c in chunks if c[0] == b"caBX"]
    assert len(manifest) == 1
    changed = picture()
    changed[10, 10] = 255 - changed[10, 10]  # one pixel
    other = _chunks(png_bytes(changed))
    forged = tmp_path / "forged.png"
    forged.write_bytes(_png([other[0], manifest[0], *other[1:]]))  # a well-formed PNG with the old manifest
    assert np.array_equal(load_rgb(forged), changed)
    r = verify(forged, trust_anchors=root)
    assert not r.valid
    assert any("dataHash.mismatch" in e for e in r.errors)


def test_an_edited_claim_breaks_the_signature(tmp_path: Path, studio) -> None:
    creds, root = studio
    dst = signed_png(tmp_path, creds)
    data = dst.read_bytes()
    assert data.count("山田 太郎".encode()) == 1
    tampered = tmp_path / "tampered.png"
    tampered.write_bytes(data.replace("山田 太郎".encode(), "鈴木 太郎".encode()))  # same length
    r = verify(tampered, trust_anchors=root)
    assert not r.valid
    assert r.errors


def test_unsigned_and_missing_files(tmp_path: Path, studio) -> None:
    _, root = studio
    save_png(tmp_path / "plain.png", picture())
    r = verify(tmp_path / "plain.png", trust_anchors=root)
    assert not r.valid and r.state == "Missing" and "no C2PA manifest" in r.errors[0]
    with pytest.raises(InputError, match="not found"):
        verify(tmp_path / "nope.png")
    (tmp_path / "fake.png").write_bytes(b"GIF89a")
    with pytest.raises(InputError, match="not a PNG"):
        sign_png(tmp_path / "fake.png", tmp_path / "out.png", spec(), studio[0])


def test_signing_a_1080p_png_takes_well_under_a_second(tmp_path: Path, studio) -> None:
    creds, root = studio
    img = np.repeat(np.repeat(picture(135, 240), 8, axis=0), 8, axis=1)  # 1920x1080
    save_png(tmp_path / "big.png", img)
    t = time.perf_counter()
    sign_png(tmp_path / "big.png", tmp_path / "big_signed.png", spec(), creds)
    elapsed = time.perf_counter() - t
    assert elapsed < 1.0, f"signing took {elapsed:.2f} s"
    assert verify(tmp_path / "big_signed.png", trust_anchors=root).valid


# ---------------------------------------------------------------- PSD sidecar


def small_psd(path: Path, seed: int = 0) -> None:
    rgba = np.dstack([picture(24, 32, seed), np.full((24, 32), 255, np.uint8)])
    write_psd(path, 32, 24, [PsdLayer("render exemplar 0.3", rgba)])


def test_psd_sidecar_verifies_against_the_psd_bytes(tmp_path: Path, studio) -> None:
    creds, root = studio
    psd = tmp_path / "c012.psd"
    small_psd(psd)
    before = psd.read_bytes()
    side = sign_sidecar(psd, None, spec(), creds)
    assert side == sidecar_path_for(psd) == tmp_path / "c012.c2pa"
    assert psd.read_bytes() == before  # the PSD itself is not touched
    r = verify(psd, trust_anchors=root)
    assert r.valid, r.errors
    assert r.manifest_store.startswith("sidecar") and r.title == "c012 BG rev 3"

    data = bytearray(before)
    data[-10] ^= 0xFF  # one byte of the PSD's image data
    psd.write_bytes(bytes(data))
    r = verify(psd, trust_anchors=root)
    assert not r.valid and any("dataHash.mismatch" in e for e in r.errors)


def test_psd_with_a_missing_or_foreign_sidecar_is_invalid(tmp_path: Path, studio) -> None:
    creds, root = studio
    a, b = tmp_path / "a.psd", tmp_path / "b.psd"
    small_psd(a, 1)
    small_psd(b, 2)
    r = verify(a, trust_anchors=root)
    assert not r.valid and r.state == "Missing" and "a.c2pa" in r.errors[0]
    sign_sidecar(b, None, spec(), creds)
    r = verify(a, trust_anchors=root, sidecar=tmp_path / "b.c2pa")
    assert not r.valid and any("dataHash.mismatch" in e for e in r.errors)
    with pytest.raises(InputError, match="not a PSD"):
        sign_sidecar(tmp_path / "b.c2pa", None, spec(), creds)


def test_spec_variants_still_sign(tmp_path: Path, studio) -> None:
    creds, root = studio
    dst = signed_png(
        tmp_path,
        creds,
        steps=(EngineStep("exemplar", "0.3", ALGORITHMIC_MEDIA),),
        layout=None,
        art_boards=(),
        training_mining={"cawg.ai_inference": "allowed"},
    )
    r = verify(dst, trust_anchors=root)
    assert r.valid and r.source_type == ALGORITHMIC_MEDIA and r.ingredients == ()
    assert r.training_mining == {"cawg.ai_inference": "allowed"}


def test_the_chain_check_matches_what_the_c2pa_library_accepts(tmp_path: Path) -> None:
    from haikei.errors import ConfigError
    from haikei.provenance.keys import check_signing_chain
    from tests.provenance.certs import EMAIL, key_pem, make_cert, new_key, pem

    rk, lk = new_key(), new_key()
    root = make_cert("root", rk, ca=True)
    good = check_signing_chain(pem(make_cert("leaf", lk, ("root", rk), eku=EMAIL), root), key_pem(lk))
    save_png(tmp_path / "a.png", picture())
    sign_png(tmp_path / "a.png", tmp_path / "b.png", spec(), good)
    assert verify(tmp_path / "b.png", trust_anchors=pem(root)).valid
    # a certificate the check refuses (no Authority Key Identifier) is refused by the library too
    no_aki = make_cert("leaf", lk, ("root", rk), eku=EMAIL, aki=False)
    with pytest.raises(ConfigError, match="Authority Key Identifier"):
        check_signing_chain(pem(no_aki, root), key_pem(lk))
    with pytest.raises(ConfigError, match="refused the signing certificate"):
        sign_png(tmp_path / "a.png", tmp_path / "c.png", spec(), replace(good, chain_pem=pem(no_aki, root)))
