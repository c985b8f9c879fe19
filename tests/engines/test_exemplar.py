"""The exemplar engine: contract, label constraint, fallbacks, board choice, retake, refine, variant."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from haikei.domain.direction import Direction
from haikei.domain.vocabulary import Vocabulary
from haikei.engines.base import ALGORITHMIC_MEDIA, BoardInput, EngineContext, RenderRequest
from haikei.engines.exemplar import ExemplarEngine, create
from haikei.engines.exemplar.guides import clean_labels
from haikei.errors import ConfigError, RenderRefused
from tests.engines.contract import EngineContract, tiny_board, tiny_layout

VOCAB = Vocabulary()


class TestExemplarContract(EngineContract):
    def make_engine(self) -> ExemplarEngine:
        return create({})


def _render(req: RenderRequest, engine: ExemplarEngine | None = None):  # type: ignore[no-untyped-def]
    return (engine or create({})).render(req, EngineContext())


def _request(**changes: object) -> RenderRequest:
    lines, regions = tiny_layout(48, 72)
    base: dict[str, object] = dict(
        lines=lines, regions=regions, boards=(tiny_board(),), seed=3, vocabulary=VOCAB
    )
    base.update(changes)
    return RenderRequest(**base)  # type: ignore[arg-type]


def test_entry_point_and_attributes() -> None:
    from haikei.engines.registry import load_engine

    eng = load_engine("exemplar")
    assert isinstance(eng, ExemplarEngine)
    assert eng.digital_source_type == ALGORITHMIC_MEDIA
    with pytest.raises(ConfigError, match=r"\[engines.exemplar\].*patch_size"):
        create({"patch_size": 4})
    with pytest.raises(RenderRefused, match="exemplar option patch_size"):
        _render(_request(options={"patch_size": 4}))


def test_hard_label_constraint_every_pixel_copies_its_own_class() -> None:
    req = _request()
    res = _render(req)
    sm = res.source_map
    assert sm is not None and (sm[..., 0] == 0).all()
    board = req.boards[0]
    src_labels = board.labels[sm[..., 1], sm[..., 2]]
    assert np.array_equal(src_labels, req.regions)


def test_fallback_is_used_and_warned() -> None:
    lines, regions = tiny_layout(48, 72)
    regions = regions.copy()
    regions[-10:, :] = VOCAB.id_of("field")  # field -> grass (the board shows grass)
    res = _render(_request(lines=lines, regions=regions))
    assert res.recipe["fallbacks"] == {"field": "grass"}
    assert any("field" in w and "grass" in w for w in res.warnings)
    sm = res.source_map
    assert sm is not None
    src = tiny_board().labels[sm[..., 1], sm[..., 2]]
    assert (src[regions == VOCAB.id_of("field")] == VOCAB.id_of("grass")).all()


def test_boards_chosen_by_direction_tags() -> None:
    summer = tiny_board(1)
    autumn_src = tiny_board(2)
    autumn = BoardInput(
        key="autumn",
        image=255 - autumn_src.image,
        labels=autumn_src.labels,
        tags=frozenset({"autumn", "evening"}),
        name="autumn",
    )
    req = _request(boards=(summer, autumn), direction=Direction(season="autumn", time_of_day="evening"))
    res = _render(req)
    assert res.recipe["classes"]["sky"]["boards"] == ["autumn"]
    assert res.recipe["boards"][1]["tag_score"] == 2
    sm = res.source_map
    assert sm is not None and (sm[..., 0] == 1).all()
    # with a summer direction the other board wins
    res2 = _render(_request(boards=(summer, autumn), direction=Direction(season="summer")))
    assert res2.recipe["classes"]["sky"]["boards"] == ["tiny1"]


def test_one_board_paints_each_class_and_the_main_board_paints_what_it_can() -> None:
    """Two untagged boards in different palettes: each class comes from one board, never a mix,
    and from the same (main) board where it shows the class; a class only the other board shows
    is painted from that one."""
    a_src = tiny_board(1)
    a_labels = a_src.labels.copy()
    a_labels[-12:, :] = VOCAB.id_of("field")
    a = BoardInput(key="main", image=a_src.image, labels=a_labels, name="main")
    b_src = tiny_board(2)
    b_labels = b_src.labels.copy()
    b_labels[-12:, :] = VOCAB.id_of("water")  # only the second board shows water
    b = BoardInput(key="other", image=255 - b_src.image, labels=b_labels, name="other")
    lines, regions = tiny_layout(48, 72)
    regions = regions.copy()
    regions[-8:, :] = VOCAB.id_of("field")
    regions[-8:, :20] = VOCAB.id_of("water")
    res = _render(_request(lines=lines, regions=regions, boards=(b, a)))
    chosen = {name: c["boards"] for name, c in res.recipe["classes"].items()}
    assert all(len(keys) == 1 for keys in chosen.values()), chosen
    # 'main' can paint more of this layout (sky, mountain, grass, field) than 'other'
    assert chosen["sky"] == chosen["mountain"] == chosen["grass"] == chosen["field"] == ["main"]
    assert chosen["water"] == ["other"]
    sm = res.source_map
    assert sm is not None
    assert (sm[..., 0][regions == VOCAB.id_of("sky")] == 1).all()
    assert (sm[..., 0][regions == VOCAB.id_of("water")] == 0).all()


def _board_with_house() -> BoardInput:
    b = tiny_board()
    labels = b.labels.copy()
    labels[30:44, 10:40] = VOCAB.id_of("building")
    img = b.image.copy()
    img[30:44, 10:40] = (180, 40, 40)
    return BoardInput(key="withhouse", image=img, labels=labels)


def test_man_made_classes_are_structured_from_their_own_board_class_only() -> None:
    lines, regions = tiny_layout(48, 72)
    regions, lines = regions.copy(), lines.copy()
    regions[20:40, 5:30] = VOCAB.id_of("building")  # the board shows buildings: its red palette
    regions[20:40, 40:70] = VOCAB.id_of("wall")  # no wall on the board: never the red building paint
    lines[20:40, 17] = 0  # a face edge
    res = _render(_request(lines=lines, regions=regions, boards=(_board_with_house(),)))
    sm = res.source_map
    assert sm is not None
    man_made = np.isin(regions, [VOCAB.id_of("building"), VOCAB.id_of("wall")])
    assert (sm[man_made] == -1).all() and (sm[~man_made] >= 0).all()
    clean = lines == 255
    building = res.image[(regions == VOCAB.id_of("building")) & clean].astype(float)
    wall = res.image[(regions == VOCAB.id_of("wall")) & clean].astype(float)
    assert building[:, 0].mean() > building[:, 1].mean() + 60  # the board's own red building palette
    assert abs(wall[:, 0].mean() - wall[:, 1].mean()) < 40  # derived: desaturated, not the red building
    assert wall.mean() > building.mean()  # walls are painted light
    assert res.recipe["classes"]["wall"]["plan"] == "derived"
    assert res.recipe["classes"]["building"]["plan"] == "board"
    assert res.recipe["classes"]["wall"]["painter"] == "structured"
    assert any("wall" in w and "derived" in w for w in res.warnings)


def test_derived_palettes_follow_the_board_and_the_role() -> None:
    from haikei.engines.exemplar.palettes import ROLES, board_samples, derived_palette

    b = tiny_board()
    warm = np.clip(b.image.astype(float) * (1.25, 1.0, 0.6), 0, 255).astype(np.uint8)
    cool = np.clip(b.image.astype(float) * (0.6, 0.9, 1.3), 0, 255).astype(np.uint8)
    sky = VOCAB.id_of("sky")
    pw = {r: derived_palette(ROLES[r], *board_samples([warm], [b.labels], sky)) for r in ROLES}
    pc = {r: derived_palette(ROLES[r], *board_samples([cool], [b.labels], sky)) for r in ROLES}
    lum = np.array([0.299, 0.587, 0.114])
    # the colour family follows the board: a warm board's ground is redder than a cool board's
    assert pw["ground"].mid[0] - pw["ground"].mid[2] > pc["ground"].mid[0] - pc["ground"].mid[2] + 0.05
    # lightness follows the role: walls light, roads mid-dark, poles dark
    assert pw["wall"].mid @ lum > pw["road"].mid @ lum > pw["pole"].mid @ lum
    # windows reflect the sky: bluer than the walls on the warm board
    assert pw["window"].mid[2] - pw["window"].mid[0] > pw["wall"].mid[2] - pw["wall"].mid[0]


def test_sand_takes_the_boards_ochres_not_its_reds() -> None:
    """A board whose warmest pixels are red (a rocket, autumn leaves) still has ochres: sand is
    painted from those (yellow at least as strong as red), not salmon; a road keeps its cool hue."""
    from haikei.engines.exemplar.palettes import ROLES, board_samples, derived_palette

    b = tiny_board()
    img = b.image.copy()
    h, w = img.shape[:2]
    img[: h // 2, : w // 3] = (225, 45, 60)  # a big red object
    img[h // 2 :, : w // 3] = (200, 160, 70)  # ochre ground
    f, sky = board_samples([img], [b.labels], VOCAB.id_of("sky"))
    sand, road = derived_palette(ROLES["sand"], f, sky), derived_palette(ROLES["road"], f, sky)
    r, g, bl = sand.mid
    assert g >= 0.75 * r and r > bl  # beige to ochre: green close to red, blue lowest
    assert r - g < 0.2  # not salmon (the red side alone gives 0.25 here)
    # without ochres the warm side is all there is: the sand follows the board's reds
    reds = b.image.copy()
    reds[:, : w // 3] = (225, 45, 60)
    f2, sky2 = board_samples([reds], [b.labels], VOCAB.id_of("sky"))
    sand2 = derived_palette(ROLES["sand"], f2, sky2)
    assert sand2.mid[0] - sand2.mid[1] > r - g
    assert road.mid[2] - road.mid[0] > sand.mid[2] - sand.mid[0]


def test_small_board_objects_do_not_paint_large_surfaces() -> None:
    b = tiny_board()
    labels, img = b.labels.copy(), b.image.copy()
    labels[40:44, 60:64] = VOCAB.id_of("ground")  # a red boulder, labelled ground
    img[40:44, 60:64] = (220, 30, 40)
    board = BoardInput(key="boulder", image=img, labels=labels)
    lines, regions = tiny_layout(48, 72)
    regions = regions.copy()
    regions[-12:, :] = VOCAB.id_of("path")  # path -> ground is a fallback, but 16 px cannot paint it
    res = _render(_request(lines=lines, regions=regions, boards=(board,), vocabulary=VOCAB))
    assert res.recipe["classes"]["path"]["plan"] == "derived"
    path = res.image[regions == VOCAB.id_of("path")].astype(float)
    assert path[:, 0].mean() < path[:, 1].mean() + 60  # not the boulder's red


def test_unlabelled_clouds_are_painted_from_the_skys_lightest_tones() -> None:
    lines, regions = tiny_layout(48, 72)
    regions, lines = regions.copy(), lines.copy()
    yy, xx = np.mgrid[0:48, 0:72]
    cloud = ((yy - 7) / 5.0) ** 2 + ((xx - 30) / 14.0) ** 2 < 1.0
    regions[cloud] = VOCAB.id_of("cloud")
    res = _render(_request(lines=lines, regions=regions))
    assert res.recipe["classes"]["cloud"]["plan"] == "cloud"
    lum = res.image.astype(float) @ np.array([0.299, 0.587, 0.114])
    sky = regions == VOCAB.id_of("sky")
    assert lum[cloud].mean() > np.quantile(lum[sky], 0.8)  # lighter than nearly all the sky
    inner = ndimage.binary_erosion(cloud, iterations=3)
    rim = cloud & ~ndimage.binary_erosion(cloud, iterations=1)
    assert lum[inner].mean() > lum[rim].mean()  # soft shading towards its outline
    assert res.source_map is not None and (res.source_map[cloud] == -1).all()


def test_board_labels_are_cleaned_of_neighbour_colours() -> None:
    from haikei.engines.exemplar.guides import clean_labels

    b = tiny_board()
    labels, img = b.labels.copy(), b.image.copy()
    tree = VOCAB.id_of("tree")
    labels[10:46, 20:60] = tree  # a crown against the sky
    img[10:46, 20:60] = (40, 120, 40)
    holes = np.zeros(labels.shape, bool)
    holes[24:26, 25:55:6] = True  # sky seen between the leaves, labelled tree
    img[holes] = b.image[2, 2]
    clean = clean_labels(img, labels, erode=1)
    assert (clean[holes] == 255).all()
    assert (clean[30:42, 24:56] == tree).mean() > 0.9  # the crown itself stays
    board = BoardInput(key="crown", image=img, labels=labels)
    lines, regions = tiny_layout(48, 72)
    regions = regions.copy()
    regions[10:46, 10:60] = tree
    res = _render(_request(lines=lines, regions=regions, boards=(board,)))
    sm = res.source_map
    assert sm is not None
    src = sm[regions == tree]
    assert not holes[src[:, 1], src[:, 2]].any()


def test_retake_changes_only_the_mask_and_works_on_its_window() -> None:
    lines, regions = tiny_layout(120, 200)
    req = _request(lines=lines, regions=regions)
    parent = _render(req)
    mask = np.zeros(regions.shape, bool)
    mask[70:100, 20:60] = True
    res = _render(
        _request(
            lines=lines,
            regions=regions,
            mask=mask,
            init=parent.image,
            seed=9,
            init_source_map=parent.source_map,
        )
    )
    assert np.array_equal(res.image[~mask], parent.image[~mask])
    assert not np.array_equal(res.image[mask], parent.image[mask])
    x0, y0, x1, y1 = res.recipe["window"]
    assert (x1 - x0) * (y1 - y0) < regions.size // 2
    assert res.source_map is not None and np.array_equal(res.source_map[~mask], parent.source_map[~mask])


def test_a_retake_reuses_the_board_preparation_of_its_parent_render() -> None:
    """A retake's window is smaller than the frame, so its pyramid has fewer levels; the boards
    prepared for the parent (more levels) serve it: nothing is prepared again, same pixels."""
    lines, regions = tiny_layout(120, 200)
    eng = create({})
    parent = _render(_request(lines=lines, regions=regions), eng)
    boards = eng.synthesis_cache.boards
    preps = {k: boards.get(k) for k in boards}
    mask = np.zeros(regions.shape, bool)
    mask[70:100, 20:60] = True
    retake = _request(lines=lines, regions=regions, mask=mask, init=parent.image, seed=9)
    res = _render(retake, eng)
    assert boards.keys() == list(preps)
    assert all(boards.get(k) is preps[k] for k in preps)  # the same objects, not rebuilt
    fresh = _render(retake)  # a new engine prepares the boards for the window's own levels
    assert np.array_equal(res.image, fresh.image)


def test_refine_pass_follows_the_init_image() -> None:
    lines, regions = tiny_layout(64, 96)
    a = _render(_request(lines=lines, regions=regions, seed=1)).image
    b = _render(_request(lines=lines, regions=regions, seed=2)).image
    refined = _render(
        _request(lines=lines, regions=regions, seed=2, init=a, options={"refine_strength": 1.0})
    )
    assert refined.recipe["mode"] == "refine"
    d_plain = np.abs(b.astype(int) - a).mean()
    d_refined = np.abs(refined.image.astype(int) - a).mean()
    assert d_refined < d_plain


def test_variant_revotes_the_parent_correspondences() -> None:
    b = tiny_board()
    evening = (b.image.astype(np.float32) * np.array([0.9, 0.5, 0.4])).astype(np.uint8)
    board = BoardInput(key=b.key, image=b.image, labels=b.labels, variants={"evening": evening})
    lines, regions = tiny_layout(48, 72)
    parent = _render(_request(lines=lines, regions=regions, boards=(board,)))
    res = _render(
        _request(
            lines=lines,
            regions=regions,
            boards=(board,),
            variant="evening",
            init=parent.image,
            init_source_map=parent.source_map,
        )
    )
    assert res.recipe["mode"] == "variant"
    assert res.recipe["engine_version"] == "1.1.0" and res.recipe["boards_used"] == [b.key]
    # same structure, other light: the variant is close to the evening board at the same sources
    sm = parent.source_map
    assert sm is not None
    direct = evening[sm[..., 1], sm[..., 2]].astype(float)
    assert np.abs(res.image - direct).mean() < np.abs(parent.image - direct).mean() / 2
    assert np.corrcoef(res.image[..., 0].ravel(), parent.image[..., 0].ravel())[0, 1] > 0.8
    with pytest.raises(RenderRefused, match="no 'winter' variant"):
        _render(
            _request(
                lines=lines,
                regions=regions,
                boards=(board,),
                variant="winter",
                init=parent.image,
                init_source_map=parent.source_map,
            )
        )


def test_different_seed_differs_and_large_regions_do_not_copy_one_block() -> None:
    lines, regions = tiny_layout(96, 160)  # larger than the 48x80 board: regions must be assembled
    r1 = _render(_request(lines=lines, regions=regions, seed=1))
    r2 = _render(_request(lines=lines, regions=regions, seed=2))
    assert not np.array_equal(r1.image, r2.image)
    sm = r1.source_map
    assert sm is not None
    grass = regions == VOCAB.id_of("grass")
    used = {(int(y), int(x)) for y, x in sm[grass][:, 1:]}
    # the grass area is bigger than the board's grass: many distinct sources, spread over the board
    # (of the grass pixels fit to copy from: borders and off-colour pixels are not used)
    b = tiny_board()
    usable = clean_labels(b.image, b.labels, erode=1) == VOCAB.id_of("grass")
    assert len(used) > 0.5 * usable.sum()


@pytest.mark.slow
def test_real_board_full_hd(tmp_path: Path) -> None:
    asset = Path("/work/shared/assets/safelanding")
    if not (asset / "board.png").is_file():
        pytest.skip("SafeLanding asset not present")
    from haikei.demo.scenes import make_scene
    from haikei.imaging.io import load_gray

    names = ["sky", "mountain", "hill", "water", "grass", "tree", "ground", "building", "bush"]
    lut = np.array([VOCAB.id_of(n) for n in names] + [255] * (256 - len(names)), np.uint8)
    from PIL import Image

    image = np.asarray(Image.open(asset / "board.png").convert("RGB"))
    labels = lut[load_gray(asset / "board_labels.png")]
    board = BoardInput(key="safelanding", image=image, labels=labels, tags=frozenset({"autumn"}))
    scene = make_scene("lake", 1920, 1080)
    engine = create({})
    req = RenderRequest(lines=scene.lines, regions=scene.regions, boards=(board,), seed=1)
    engine.render(req, EngineContext())
    t = time.perf_counter()
    res = engine.render(req, EngineContext())
    elapsed = time.perf_counter() - t
    assert res.image.shape == (1080, 1920, 3)
    assert res.image.std() > 10
    assert elapsed < 60


def test_preview_and_delivery_sizes_choose_the_same_board_for_every_class() -> None:
    """Boards are weighed as full frames at any size: the 1280x720 demo boards are shrunk for a
    960x540 preview but never enlarged for 1920x1080, and the plan must not follow that cap (it did:
    a cream SafeLanding sky in the preview became Altai's blue sky in the delivery)."""
    from haikei.demo import boards as demo_boards
    from haikei.demo import scenes

    boards = tuple(demo_boards.load_boards())
    from haikei.engines.exemplar.plan import make_plan

    opts = create({}).options({})
    for name in scenes.SCENES:
        plans = []
        for w, h in ((960, 540), (1920, 1080)):
            scene = scenes.make_scene(name, w, h)
            req = RenderRequest(
                lines=scene.lines, regions=scene.regions, boards=boards, seed=0, vocabulary=VOCAB
            )
            plan = make_plan(req, opts, scene.regions)
            plans.append({VOCAB.name_of(c): (p.kind, p.source, p.boards) for c, p in plan.classes.items()})
        assert plans[0] == plans[1], name
