"""No refusal for a missing class (issue 17 item 2): a class no board shows, not even along its
fallbacks, is painted from the boards' colours for that kind of surface and flagged in the recipe,
the warnings and ``haikei status``; only what cannot be painted at all is refused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from haikei.engines.base import BoardInput, EngineContext, RenderRequest, RenderResult
from haikei.engines.exemplar import create
from haikei.engines.exemplar.palettes import KINDS, board_samples, derived_palette
from haikei.errors import RenderRefused
from tests.engines.contract import VOCAB, tiny_board, tiny_layout

FLAG = "no board shows it; painted from a derived palette"
LUMA = np.array([0.299, 0.587, 0.114])


def _tree_layout(h: int = 72, w: int = 120) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sky / mountain / grass with a round tree crown standing on the grass (and its outline drawn)."""
    lines, regions = tiny_layout(h, w)
    regions, lines = regions.copy(), lines.copy()
    yy, xx = np.mgrid[0:h, 0:w]
    crown = ((yy - 44) / 16.0) ** 2 + ((xx - 40) / 20.0) ** 2 < 1.0
    regions[crown] = VOCAB.id_of("tree")
    ring = crown & ~np.roll(crown, 1, 0) | crown & ~np.roll(crown, 1, 1)
    lines[ring] = 0
    return lines, regions, crown


def _render(regions: np.ndarray, lines: np.ndarray, boards: tuple[BoardInput, ...]) -> RenderResult:
    req = RenderRequest(lines=lines, regions=regions, boards=boards, seed=2, vocabulary=VOCAB)
    return create({}).render(req, EngineContext())


def test_a_tree_no_board_shows_is_painted_from_the_boards_greens_and_flagged() -> None:
    lines, regions, crown = _tree_layout()
    res = _render(regions, lines, (tiny_board(),))  # sky, mountain, grass: no tree, forest or bush
    assert res.recipe["flags"] == {"tree": FLAG}
    assert f"tree: {FLAG}" in res.warnings
    tree = res.recipe["classes"]["tree"]
    assert tree["plan"] == "derived" and tree["painter"] == "palette" and "foliage" in tree["painted_from"]
    assert res.source_map is not None and (res.source_map[crown] == -1).all()  # no board pixel copied
    px = res.image[crown].astype(float)
    assert px[:, 1].mean() > px[:, 0].mean() + 15 and px[:, 1].mean() > px[:, 2].mean() + 15  # green
    assert px.std(axis=0).max() > 6  # brushwork and clumps, not a flat fill
    # a mass in the light from the upper left: its upper-left part lighter than its lower right
    yy, xx = np.mgrid[0 : crown.shape[0], 0 : crown.shape[1]]
    inner = crown & (np.abs(yy - 44) < 12) & (np.abs(xx - 40) < 16)
    lum = res.image.astype(float) @ LUMA
    lit = inner & (yy < 44) & (xx < 40)
    shade = inner & (yy > 44) & (xx > 40)
    assert lum[lit].mean() > lum[shade].mean() + 8
    # the classes the board shows are painted as before: from the board, unflagged
    assert res.recipe["classes"]["grass"]["plan"] == "board"


def test_a_class_a_fallback_shows_is_not_flagged() -> None:
    lines, regions = tiny_layout(48, 72)
    regions = regions.copy()
    regions[-10:, :] = VOCAB.id_of("field")  # field -> grass: the board shows grass
    res = _render(regions, lines, (tiny_board(),))
    assert res.recipe["flags"] == {}
    assert res.recipe["classes"]["field"]["plan"] == "fallback"
    assert not any(FLAG in w for w in res.warnings)


def test_a_water_no_board_shows_takes_the_boards_blues() -> None:
    lines, regions = tiny_layout(48, 72)
    regions = regions.copy()
    regions[-12:, :] = VOCAB.id_of("sea")  # sea -> water, river: not on the board
    res = _render(regions, lines, (tiny_board(),))
    assert res.recipe["flags"] == {"sea": FLAG}
    sea = res.image[regions == VOCAB.id_of("sea")].astype(float)
    assert sea[:, 2].mean() > sea[:, 0].mean() + 20  # blue, as the board's blues


def test_boards_that_show_no_lit_surface_still_refuse() -> None:
    b = tiny_board()
    sky_only = BoardInput(key="skyonly", image=b.image, labels=np.full_like(b.labels, VOCAB.id_of("sky")))
    lines, regions, _ = _tree_layout()
    with pytest.raises(RenderRefused, match=r"class 'mountain' .* no board shows a lit surface"):
        _render(regions, lines, (sky_only,))


def test_a_kind_palette_comes_from_the_boards_own_colours_of_that_kind() -> None:
    """Foliage on a board with a teal-green area (not labelled tree) takes that teal; on a board
    with no greens at all it is still green (the kind's hue at the board's colourfulness)."""
    b = tiny_board()
    img = b.image.copy()
    img[-20:, :] = (40, 120, 100)  # teal-green paint, labelled grass
    f, sky = board_samples([img], [b.labels], VOCAB.id_of("sky"))
    teal = derived_palette(KINDS["foliage"], f, sky)
    assert teal.mid[2] > teal.mid[0] + 0.1 and teal.mid[1] > teal.mid[0] + 0.2  # the board's teal
    grey = np.repeat((b.image.astype(float) @ LUMA)[..., None], 3, axis=2).astype(np.uint8)
    f2, sky2 = board_samples([grey], [b.labels], VOCAB.id_of("sky"))
    green = derived_palette(KINDS["foliage"], f2, sky2)
    assert green.mid[1] > green.mid[0] + 0.1 and green.mid[1] > green.mid[2] + 0.05


def test_haikei_status_shows_the_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from haikei.imaging.io import encode_region_map, save_png
    from tests.conftest import write_board
    from tests.foundation.cli import run_cli

    p = str(tmp_path / "show")
    assert run_cli(["init", p, "--name", "Show", "--size", "120x72"], capsys)[0] == 0
    img, lab = write_board(tmp_path, "board")
    code, _, err = run_cli(
        ["artboard", "add", str(img), "--labels", str(lab), "--artist", "A", "--consent", "-p", p], capsys
    )
    assert code == 0, err
    lo = tmp_path / "lo"
    lo.mkdir()
    lines, regions, _ = _tree_layout()
    save_png(lo / "c021_lo.png", lines)
    save_png(lo / "c021_regions.png", encode_region_map(regions, VOCAB))
    assert run_cli(["import", str(lo), "-p", p], capsys)[0] == 0
    code, _, err = run_cli(["render", "--engine", "exemplar", "-p", p], capsys)
    assert code == 0, err
    code, out, _ = run_cli(["status", "-p", p, "--json"], capsys)
    (bg,) = json.loads(out)["backgrounds"]
    assert bg["flags"] == {"tree": FLAG}
    code, out, _ = run_cli(["status", "-p", p], capsys)
    assert code == 0 and f"tree: {FLAG}" in " ".join(out.split())


def test_a_class_whose_board_paint_is_too_little_to_copy_is_derived_and_its_variant_too() -> None:
    """A 9x9 px tree on a board passes the plan (a board shows it) but vanishes at the search's coarse
    levels; it was refused ("the art boards are too small to paint class 'tree'"): now it is derived,
    flagged, and a variant of that render re-plans it the same way."""
    b = tiny_board(h=96, w=160)
    labels, img = b.labels.copy(), b.image.copy()
    labels[70:79, 20:29] = VOCAB.id_of("tree")
    img[70:79, 20:29] = (40, 110, 50)
    evening = (img.astype(np.float32) * np.array([0.9, 0.6, 0.5])).astype(np.uint8)
    board = BoardInput(key="smalltree", image=img, labels=labels, variants={"evening": evening})
    lines, regions = tiny_layout(400, 720)
    regions = regions.copy()
    regions[220:360, 72:288] = VOCAB.id_of("tree")
    tree = regions == VOCAB.id_of("tree")
    res = _render(regions, lines, (board,))
    assert res.recipe["flags"] == {
        "tree": "too little of it on the boards to copy; painted from a derived palette"
    }
    assert res.recipe["classes"]["tree"]["plan"] == "derived"
    assert res.source_map is not None and (res.source_map[tree] == -1).all()
    req = RenderRequest(
        lines=lines, regions=regions, boards=(board,), seed=2, vocabulary=VOCAB, variant="evening",
        init=res.image, init_source_map=res.source_map,
    )  # fmt: skip
    var = create({}).render(req, EngineContext())
    assert var.recipe["mode"] == "variant" and var.recipe["flags"] == res.recipe["flags"]
    # the tree follows the evening light too: its palette mapped from the board's to the repaint's
    assert var.image[tree][:, 2].mean() < res.image[tree][:, 2].mean() - 10
