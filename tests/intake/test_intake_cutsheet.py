"""Cut sheets from CSV / TSV / TOML."""

from __future__ import annotations

from pathlib import Path

import pytest

from haikei.domain.cutsheet import read_cut_sheet
from haikei.errors import InputError


def _write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def test_csv_with_frame_and_pan(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        "sheet.csv",
        "cut,frame,pan_length,pan_direction,notes,作監\n"
        "c012,1920x1080,960,left,夕方,山田\n"
        "13,1920x1080,,,,\n"
        "\n"
        "#14,draft,,,,\n"
        "C15,,,,,\n",
    )
    rows = read_cut_sheet(p)
    assert [r.cut for r in rows] == ["c012", "c013", "c015"]
    a = rows[0]
    assert (a.width, a.height, a.pan_length, a.pan_direction, a.notes) == (1920, 1080, 960, "left", "夕方")
    assert a.extra == {"作監": "山田"} and a.line == 2
    assert rows[1].pan_length is None and rows[1].frame == (1920, 1080)
    assert rows[2].frame is None and rows[2].line == 6


def test_japanese_headers_shift_jis_and_fullwidth(tmp_path: Path) -> None:
    text = "話数,カット,幅,高さ,パン長,パン方向,尺,備考\n1,12,１９２０,１０８０,480px,右,3+12,逆光\n"
    rows = read_cut_sheet(_write(tmp_path, "sheet.csv", text, "cp932"))
    (r,) = rows
    assert (r.episode, r.cut, r.width, r.height, r.pan_length, r.pan_direction) == (
        "ep01",
        "c012",
        1920,
        1080,
        480,
        "right",
    )
    assert r.duration_frames == 3 * 24 + 12 and r.notes == "逆光"


def test_utf8_bom_and_tsv(tmp_path: Path) -> None:
    p = tmp_path / "sheet.tsv"
    p.write_bytes("\ufeffcut\twidth\theight\nc001\t1280\t720\n".encode())
    (r,) = read_cut_sheet(p)
    assert (r.cut, r.frame) == ("c001", (1280, 720))


def test_toml(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        "sheet.toml",
        'episode = "ep03"\n\n[[cut]]\ncut = "c012"\nframe = "1920x1080"\npan_length = 960\npan_direction = "up"\n\n'
        '[[cut]]\ncut = 13\nwidth = 1920\nheight = 1080\nepisode = 4\nnotes = "rain"\n',
    )
    a, b = read_cut_sheet(p)
    assert (a.episode, a.cut, a.pan_length, a.pan_direction) == ("ep03", "c012", 960, "up")
    assert (b.episode, b.cut, b.frame, b.notes) == ("ep04", "c013", (1920, 1080), "rain")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "cut,frame\nc012,1920by1080\n",
            r"sheet\.csv: line 2: frame '1920by1080' is not WIDTHxHEIGHT; write it like 1920x1080",
        ),
        ("cut,width,height\nc012,1920,\n", r"line 2: only one of width/height"),
        ("cut,width,height,frame\nc012,1920,1080,1280x720\n", r"line 2: frame 1280x720 disagrees"),
        ("cut,pan_length\nc012,960\n", r"line 2: a PAN needs both"),
        (
            "cut,pan_length,pan_direction\nc012,960,sideways\n",
            r"pan_direction 'sideways' is unknown; write left, right, up or down",
        ),
        ("cut,width,height\nc012,-5,1080\n", r"width '-5' is not a whole number of pixels"),
        ("cut,width,height\nc012,99999,1080\n", r"width '99999'"),
        ("cut,notes\nc012,a\nx12,b\n", r"line 3: 'x12' is not a cut number"),
        ("cut,notes\nc012,a\n12,b\n", r"line 3: cut c012 is already on line 2"),
        ("cut,widht\nc012,5\n", r"line 1: unknown column 'widht'; did you mean 'width'"),
        ("width,height\n1920,1080\n", r"no 'cut' column"),
        ("cut,duration\nc012,3+30\n", r"duration '3\+30'"),
        ("cut,notes\n", r"no cuts in the sheet"),
        ("cut,notes\nc012,a,b,c\n", r"line 2: 4 cells but the header has 2"),
    ],
)
def test_bad_csv_rows_name_file_line_and_fix(tmp_path: Path, body: str, message: str) -> None:
    p = _write(tmp_path, "sheet.csv", body)
    with pytest.raises(InputError, match=message):
        read_cut_sheet(p)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[[cut]]\ncut = "c012"\nframe = "big"\n', r"sheet\.toml: \[\[cut\]\] #1: frame 'big'"),
        (
            '[[cut]]\ncut = "c012"\n[[cut]]\ncut = 12\n',
            r"\[\[cut\]\] #2: cut c012 is already on \[\[cut\]\] #1",
        ),
        ("cuts = 1\n", r"unknown keys"),
        ('[[cut]]\ncut = "c012"\nframe = [1920, 1080]\n', r"frame must be a single value"),
        ("[[cut]\n", r"not valid TOML"),
    ],
)
def test_bad_toml(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        read_cut_sheet(_write(tmp_path, "sheet.toml", body))


def test_wrong_kind_of_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"must be \.csv, \.tsv or \.toml"):
        read_cut_sheet(_write(tmp_path, "sheet.xlsx", "x"))
    with pytest.raises(InputError, match="file not found"):
        read_cut_sheet(tmp_path / "missing.csv")
    with pytest.raises(InputError, match="neither UTF-8 nor Shift_JIS"):
        (tmp_path / "bin.csv").write_bytes(b"cut\n\x81\x7f\xff\xfe\n")
        read_cut_sheet(tmp_path / "bin.csv")
