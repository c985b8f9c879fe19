"""Layout file-name conventions (specs/intake.md)."""

from __future__ import annotations

import pytest

from haikei.domain.naming import canonical_cut, canonical_episode, explain_layout_name, parse_layout_name
from haikei.errors import InputError


@pytest.mark.parametrize(
    ("filename", "episode", "cuts", "role", "ext"),
    [
        ("c012.png", None, ("c012",), "lines", "png"),
        ("c012_lo.png", None, ("c012",), "lines", "png"),
        ("ep01_c012.png", "ep01", ("c012",), "lines", "png"),
        ("ep01_c012_lo.png", "ep01", ("c012",), "lines", "png"),
        ("c012-c015_lo.png", None, ("c012", "c013", "c014", "c015"), "lines", "png"),
        ("c012-015.tif", None, ("c012", "c013", "c014", "c015"), "lines", "tif"),
        ("c12+c14_lo.png", None, ("c012", "c014"), "lines", "png"),
        ("c012_regions.png", None, ("c012",), "regions", "png"),
        ("c012_book.png", None, ("c012",), "book", "png"),
        ("c012.psd", None, ("c012",), "psd", "psd"),
        ("C12.PNG", None, ("c012",), "lines", "png"),
        ("cut012.jpeg", None, ("c012",), "lines", "jpeg"),
        ("EP1_C0012_LO.JPG", "ep01", ("c012",), "lines", "jpg"),
        ("ep01c012_lo.png", "ep01", ("c012",), "lines", "png"),
        ("c012A_lo.png", None, ("c012a",), "lines", "png"),
        ("c1234.png", None, ("c1234",), "lines", "png"),
    ],
)
def test_supported_names(
    filename: str, episode: str | None, cuts: tuple[str, ...], role: str, ext: str
) -> None:
    name = parse_layout_name(filename)
    assert name is not None, explain_layout_name(filename)[1]
    assert (name.episode, name.cuts, name.role, name.extension) == (episode, cuts, role, ext)
    assert name.cut == cuts[0]
    assert name.shared == (len(cuts) > 1)


def test_scene_is_kept_and_does_not_change_the_cut() -> None:
    name = parse_layout_name("s01_c012.png")
    assert name is not None
    assert (name.scene, name.cuts) == ("s01", ("c012",))


def test_directory_part_is_ignored() -> None:
    name = parse_layout_name("/scans/ep02/ep02_c003_regions.png")
    assert name is not None and (name.episode, name.cut, name.role) == ("ep02", "c003", "regions")


@pytest.mark.parametrize(
    ("filename", "reason_part"),
    [
        ("012.png", "convention"),
        ("background.png", "convention"),
        ("c012.gif", ".gif"),
        ("c012_regions.jpg", "lossless"),
        ("c012_book.jpeg", "lossless"),
        ("c012_foo.png", "unknown suffix _foo"),
        ("c015-c012.png", "upwards"),
        ("c000.png", "cut 0"),
        ("c001-c999.png", "more than"),
        ("c012a-c013.png", "split"),
        ("c012+c012.png", "twice"),
        ("c012_regions.psd", ".psd holds all layers"),
        ("._c012.png", "hidden"),
        ("c012", "extension"),
    ],
)
def test_refused_names_say_why(filename: str, reason_part: str) -> None:
    name, reason = explain_layout_name(filename)
    assert name is None
    assert parse_layout_name(filename) is None
    assert reason_part in reason


@pytest.mark.parametrize(
    ("raw", "canon"),
    [
        ("12", "c012"),
        (12, "c012"),
        ("C12", "c012"),
        ("cut012", "c012"),
        ("c0012", "c012"),
        ("12A", "c012a"),
        ("1234", "c1234"),
    ],
)
def test_canonical_cut(raw: str | int, canon: str) -> None:
    assert canonical_cut(raw) == canon


@pytest.mark.parametrize("raw", ["", "0", "c", "twelve", "12-15", "c12_lo"])
def test_canonical_cut_refuses(raw: str) -> None:
    with pytest.raises(InputError, match="not a cut number"):
        canonical_cut(raw)


def test_canonical_episode() -> None:
    assert canonical_episode("EP1") == canonical_episode(1) == canonical_episode("e01") == "ep01"
    with pytest.raises(InputError, match="episode"):
        canonical_episode("first")
