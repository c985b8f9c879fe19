from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from haikei.domain.vocabulary import UNLABELLED, Vocabulary
from haikei.errors import ImageError, RegionMapError
from haikei.imaging import io as hio

V = Vocabulary()


def _save(path: Path, img: Image.Image, **kw) -> Path:
    img.save(path, **kw)
    return path


def test_region_map_round_trip(tmp_path: Path) -> None:
    ids = np.random.default_rng(0).integers(0, len(V), (30, 50)).astype(np.uint8)
    ids[0, 0] = UNLABELLED
    p = tmp_path / "r.png"
    hio.save_png(p, hio.encode_region_map(ids, V))
    assert np.array_equal(hio.load_region_map(p, V), ids)


def test_region_map_unknown_colour_names_colour_count_and_place(tmp_path: Path) -> None:
    ids = np.full((40, 60), V.id_of("sky"), np.uint8)
    rgb = hio.encode_region_map(ids, V)
    rgb[10:14, 20:25] = (1, 2, 3)  # 20 pixels of a colour nobody knows
    p = tmp_path / "c012_regions.png"
    hio.save_png(p, rgb)
    with pytest.raises(RegionMapError) as e:
        hio.load_region_map(p, V)
    msg = str(e.value)
    assert "c012_regions.png" in msg and "(1, 2, 3)" in msg and "20 pixels" in msg
    assert "x=20..24" in msg and "y=10..13" in msg and "\n" not in msg


def test_region_map_with_transparency_refused(tmp_path: Path) -> None:
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., :3] = V.get("sky").colour
    rgba[..., 3] = 255
    rgba[0, 0, 3] = 0
    p = _save(tmp_path / "r.png", Image.fromarray(rgba, "RGBA"))
    with pytest.raises(RegionMapError, match="transparent"):
        hio.load_region_map(p, V)


def test_truncated_file_one_clear_line(tmp_path: Path) -> None:
    good = tmp_path / "good.png"
    hio.save_png(good, np.full((64, 64, 3), 128, np.uint8))
    bad = tmp_path / "c001_lo.png"
    bad.write_bytes(good.read_bytes()[:60])
    with pytest.raises(ImageError) as e:
        hio.load_rgb(bad)
    assert str(bad) in str(e.value) and "\n" not in str(e.value)


def test_not_an_image_and_missing_and_empty(tmp_path: Path) -> None:
    t = tmp_path / "notes.png"
    t.write_text("hello")
    with pytest.raises(ImageError, match="not an image"):
        hio.load_rgb(t)
    with pytest.raises(ImageError, match="not found"):
        hio.load_rgb(tmp_path / "nope.png")
    e = tmp_path / "empty.png"
    e.write_bytes(b"")
    with pytest.raises(ImageError, match="empty"):
        hio.load_rgb(e)


def test_decompression_bomb_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "big.png"
    hio.save_png(p, np.zeros((200, 300), np.uint8))
    monkeypatch.setattr(hio, "_max_pixels", 10_000)
    with pytest.raises(ImageError, match=r"200 .*over the 0.01 Mpx limit.*\[limits\] max_pixels"):
        hio.load_gray(p)


def _png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG that declares width x height but holds almost no data: what a decompression bomb looks
    like before decoding (haikei must refuse it from the header, without decoding anything)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )
    return path


def test_one_pixel_limit_haikei_not_pillow(tmp_path: Path) -> None:
    """Issue 14 #8: a 99 Mpx PNG is under haikei's 120 Mpx limit and loads (Pillow's own guard used to
    refuse it at 89 Mpx); 121 Mpx and a 2-gigapixel bomb are refused by haikei's message, from the header."""
    from PIL import Image

    assert hio.max_pixels() == 120_000_000 == hio.MAX_PIXELS
    ok = tmp_path / "c001_lo.png"
    Image.new("1", (11_000, 9_000), 1).save(ok)  # 99 Mpx, one bit deep: small on disk
    img = hio.load_image(ok)
    assert img.size == (11_000, 9_000)
    del img
    for w, h in ((11_000, 11_000), (50_000, 40_000)):
        bomb = _png_header_only(tmp_path / f"bomb{w}.png", w, h)
        with pytest.raises(ImageError, match=rf"{w * h / 1e6:.1f} Mpx is over the 120 Mpx limit") as e:
            hio.load_gray(bomb)
        assert "[limits] max_pixels" in str(e.value)
    # Pillow's own guard is tied to the same limit, for code that opens images without haikei's loaders
    with pytest.raises((Image.DecompressionBombError, Image.DecompressionBombWarning)):
        Image.open(_png_header_only(tmp_path / "raw.png", 11_000, 11_000))


def test_a_raised_limit_is_haikeis_and_pillows(tmp_path: Path) -> None:
    """[limits] max_pixels = 200 Mpx: a 150 Mpx header passes both checks (it fails later, as a truncated
    file, which proves no size guard stopped it); the default comes back for the next production."""
    bomb = _png_header_only(tmp_path / "big.png", 15_000, 10_000)
    hio.set_max_pixels(200_000_000)
    try:
        with pytest.raises(ImageError, match="corrupt or truncated"):
            hio.load_gray(bomb)
    finally:
        hio.set_max_pixels(hio.MAX_PIXELS)
    with pytest.raises(ImageError, match=r"150\.0 Mpx is over the 120 Mpx limit"):
        hio.load_gray(bomb)


def test_modes_are_normalised(tmp_path: Path) -> None:
    # palette
    pal = Image.fromarray(np.array([[0, 1], [1, 0]], np.uint8), "P")
    pal.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    assert hio.load_rgb(_save(tmp_path / "p.png", pal))[0, 0].tolist() == [255, 0, 0]
    # 16-bit grey
    g16 = Image.fromarray(np.full((4, 4), 65535, np.uint16))
    assert hio.load_gray(_save(tmp_path / "g16.png", g16)).max() == 255
    # CMYK
    cmyk = Image.new("CMYK", (4, 4), (0, 0, 0, 0))
    assert hio.load_rgb(_save(tmp_path / "c.jpg", cmyk, quality=95))[0, 0].min() > 240
    # LA over white
    la = Image.fromarray(np.stack([np.zeros((4, 4), np.uint8), np.zeros((4, 4), np.uint8)], -1), "LA")
    assert hio.load_gray(_save(tmp_path / "la.png", la)).min() == 255


def test_exif_orientation_applied(tmp_path: Path) -> None:
    img = Image.fromarray(np.zeros((10, 20, 3), np.uint8))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW on display
    p = tmp_path / "o.jpg"
    img.save(p, exif=exif)
    assert hio.load_rgb(p).shape[:2] == (20, 10)


def test_png_text_round_trip_and_atomic_write(tmp_path: Path) -> None:
    p = tmp_path / "x.png"
    hio.save_png(p, np.zeros((4, 4, 3), np.uint8), {"haikei:recipe": '{"a": "秋"}'})
    assert hio.read_png_text(p)["haikei:recipe"] == '{"a": "秋"}'
    assert not [f for f in tmp_path.iterdir() if f.name.endswith(".tmp")]


def test_upload_bytes(tmp_path: Path) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (5, 6)).save(buf, format="PNG")
    assert hio.load_rgb(buf.getvalue(), name="upload.png").shape == (6, 5, 3)
    with pytest.raises(ImageError, match=r"upload\.png"):
        hio.load_rgb(b"\x89PNG garbage", name="upload.png")
