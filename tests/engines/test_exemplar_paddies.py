"""Paddies that read as paddies in the season: flooded water reflecting the boards' sky with shoots
in the layout's rows, green or gold rice, the bund's earth at the water's edge (engines/exemplar/paddies)."""

from __future__ import annotations

import numpy as np
import pytest

from haikei.domain.direction import Direction
from haikei.domain.vocabulary import Vocabulary
from haikei.engines.base import EngineContext, RenderRequest
from haikei.engines.exemplar.engine import ExemplarEngine
from haikei.engines.exemplar.paddies import paddy_colours, paddy_season, paint_paddies
from haikei.engines.exemplar.palettes import KINDS, kind_of
from tests.engines.contract import tiny_board

VOCAB = Vocabulary()
SKY, GRASS, PADDY, WATER = (VOCAB.id_of(n) for n in ("sky", "grass", "rice_paddy", "water"))
GROUND = [c for c in range(len(VOCAB.classes)) if kind_of(VOCAB.name_of(c), VOCAB) in (KINDS["grass"],)]


def _board(sky_rgb: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """tiny_board with its sky repainted ``sky_rgb`` (a little texture kept) and a gold-green grass."""
    b = tiny_board()
    img = b.image.astype(np.float32)
    sky = b.labels == SKY
    img[sky] = np.array(sky_rgb, np.float32) + 0.2 * (img[sky] - img[sky].mean(axis=0))
    return np.clip(img, 0, 255).astype(np.uint8), b.labels


def _plots(h: int = 120, w: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Regions: grass with two paddy plots separated by a grass ridge; ink (1 = stroke): the plots'
    outlines and one drawn row across the lower plot."""
    regions = np.full((h, w), GRASS, np.uint8)
    regions[20:55, 10:190] = PADDY
    regions[65:112, 10:190] = PADDY
    ink = np.zeros((h, w), np.float32)
    edge = np.zeros((h, w), bool)
    edge[:-1] |= regions[:-1] != regions[1:]
    edge[:, :-1] |= regions[:, :-1] != regions[:, 1:]
    ink[edge] = 1.0
    ink[88, 20:180] = 1.0  # a row the layout draws inside the lower plot
    return regions, ink


def _paint(
    look: str, sky_rgb: tuple[int, int, int], laid: tuple[float, float, float]
) -> tuple[np.ndarray, ...]:
    img, labels = _board(sky_rgb)
    regions, ink = _plots()
    colours = paddy_colours([img], [labels], [img], [labels], SKY, [WATER], GROUND, look)
    canvas = np.empty((*regions.shape, 3), np.float32)
    canvas[:] = np.array(laid, np.float32)
    rng = np.random.default_rng(3)
    canvas *= 1.0 + 0.03 * rng.standard_normal(regions.shape).astype(np.float32)[..., None]
    before = canvas.copy()
    paint_paddies(canvas, regions, ink, {PADDY: colours}, look, regions.shape, 0, cover=[GRASS])
    return canvas, before, regions, ink


def _hue(rgb: np.ndarray) -> float:
    """Hue angle (degrees) in the opponent plane (red-green, yellow-blue)."""
    r, g, b = (float(v) for v in rgb)
    return float(np.degrees(np.arctan2(0.25 * (r + g) - 0.5 * b, 0.5 * (r - g))))


def test_season_from_the_direction_then_the_boards() -> None:
    assert paddy_season(Direction(season="spring")) == "flooded"
    assert paddy_season(Direction(season="summer")) == "green"
    assert paddy_season(Direction(season="summer", extra_tags=("early_summer",))) == "flooded"
    assert paddy_season(Direction(season="autumn")) == "gold"
    assert paddy_season(Direction(season="winter")) == "stubble"
    # no season asked: the painting's season is its boards' (an autumn board's paddies are ripe)
    assert paddy_season(Direction(), [frozenset({"autumn", "clear"})]) == "gold"
    assert paddy_season(Direction(season="spring"), [frozenset({"autumn"})]) == "flooded"
    assert paddy_season(Direction(), []) == "flooded"


def test_flooded_paddies_are_water_reflecting_the_sky_with_earth_at_the_bunds() -> None:
    gold_grass = (0.72, 0.6, 0.3)
    canvas, before, regions, _ink = _paint("flooded", (120, 180, 245), gold_grass)
    core = np.zeros(regions.shape, bool)
    core[30:50, 30:170] = True  # the upper plot's water, away from its bunds and drawn rows
    water = canvas[core].mean(axis=0)
    # bluer than the laid-in grass (which it was), and than the bund's edge
    assert water[2] - water[0] > 0.1 + (before[core].mean(axis=0)[2] - before[core].mean(axis=0)[0])
    lip = (regions == PADDY) & (np.abs(np.arange(regions.shape[0])[:, None] - 21.5) < 1.6)
    lip &= (np.arange(regions.shape[1])[None, :] > 30) & (np.arange(regions.shape[1])[None, :] < 170)
    edge = canvas[lip].mean(axis=0)
    assert water[2] - water[0] > edge[2] - edge[0] + 0.1
    # smoother than the laid-in paint was: still water, not a meadow's grain
    lum = np.array([0.299, 0.587, 0.114], np.float32)
    grain = lambda a: float(np.abs(np.diff(a @ lum, axis=1))[core[:, 1:]].mean())  # noqa: E731
    assert grain(canvas) < grain(before)
    # the grass around it untouched
    assert np.array_equal(canvas[regions == GRASS], before[regions == GRASS])


def test_the_water_takes_the_hue_of_the_boards_sky() -> None:
    core = (slice(30, 50), slice(30, 170))
    blue, *_ = _paint("flooded", (110, 170, 250), (0.5, 0.55, 0.3))
    rose, *_ = _paint("flooded", (250, 170, 190), (0.5, 0.55, 0.3))
    hb, hr = _hue(blue[core].reshape(-1, 3).mean(axis=0)), _hue(rose[core].reshape(-1, 3).mean(axis=0))
    sky_b, sky_r = _hue(np.array([110, 170, 250]) / 255), _hue(np.array([250, 170, 190]) / 255)
    # each water leans to its own sky: nearer its own sky's hue than the other sky's
    d = lambda a, b: abs((a - b + 180) % 360 - 180)  # noqa: E731
    assert d(hb, sky_b) < d(hb, sky_r)
    assert d(hr, sky_r) < d(hr, sky_b)


def test_shoots_follow_the_rows_the_layout_draws() -> None:
    canvas, _, _regions, _ = _paint("flooded", (120, 180, 245), (0.72, 0.6, 0.3))
    green = canvas[..., 1] - 0.5 * (canvas[..., 0] + canvas[..., 2])
    on_row = green[87:90, 30:170].mean()
    off_row = green[76:80, 30:170].mean()  # the same plot, between the drawn row and its bund
    assert on_row > off_row + 0.03


def test_autumn_paddies_are_gold_and_a_gold_board_paint_is_kept() -> None:
    green_laid = (0.3, 0.55, 0.25)
    canvas, before, _regions, _ = _paint("gold", (120, 180, 245), green_laid)
    core = (slice(30, 50), slice(30, 170))
    r, g, b = (float(v) for v in canvas[core].reshape(-1, 3).mean(axis=0))
    # gold: yellow (red and green well above blue), red close to green, not the laid-in green
    assert r > b + 0.15 and g > b + 0.1 and r > 0.8 * g
    assert r - float(before[core].reshape(-1, 3).mean(axis=0)[0]) > 0.1
    # paint already gold (an autumn board's field) is kept as laid, to its bunds (standing rice hides them)
    gold_laid = (0.75, 0.6, 0.25)
    kept, before2, _, _ = _paint("gold", (120, 180, 245), gold_laid)
    assert np.allclose(kept, before2, atol=1e-6)


@pytest.mark.parametrize("season", ["spring", "autumn"])
def test_through_the_engine_the_paddy_shows_the_season(season: str) -> None:
    h, w = 72, 128
    regions = np.full((h, w), GRASS, np.uint8)
    regions[: h // 3] = SKY
    regions[34:60, 8:120] = PADDY
    lines = np.full((h, w), 255, np.uint8)
    border = np.zeros((h, w), bool)
    border[:-1] |= regions[:-1] != regions[1:]
    border[:, :-1] |= regions[:, :-1] != regions[:, 1:]
    lines[border] = 0
    board = tiny_board()
    req = RenderRequest(
        lines=lines, regions=regions, boards=(board,), direction=Direction(season=season), vocabulary=VOCAB
    )
    img = ExemplarEngine().render(req, EngineContext()).image.astype(np.float32) / 255.0
    paddy = img[40:55, 20:108].reshape(-1, 3).mean(axis=0)
    grass = img[64:, :].reshape(-1, 3).mean(axis=0)
    sky = img[: h // 4].reshape(-1, 3).mean(axis=0)
    if season == "spring":  # water: towards the sky's blue, away from the grass it was painted from
        assert np.linalg.norm(paddy - sky) < np.linalg.norm(grass - sky) - 0.05
        assert paddy[2] - paddy[1] > grass[2] - grass[1] + 0.05
    else:  # ripe rice: yellower than the board's (green) grass
        assert (paddy[0] - paddy[2]) > (grass[0] - grass[2]) + 0.05
