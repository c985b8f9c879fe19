"""What locations cost (issue 18, "Measure it" and item 5), measured with pytest-benchmark on real
productions drawn from the demo scenes (slow: minutes of 1080p exemplar renders to set up).

- seasons carry across a location: c002's winter, re-voted over its location board's approved
  winter (c001's), at 1920x1080 (target: the re-vote under a second);
- adding a location board (the approval that makes it) against adding one art board
  (``haikei artboard add``'s path: decode, validate, store) at 1920x1080 (target: no more);
- a render of a located BG (painted from its location board) against the same BG with no location,
  at 960x540 (target: no slower).

The production boards' winter repaints are stand-ins (a pale, snowy grade of the board), as in
test_location_seasons.py: the bundled boards come with no painted variant. Figures go to stdout:

    .venv/bin/pytest tests/locations/test_bench_location_cost.py -m slow -s -p no:cacheprovider
"""

from __future__ import annotations

import hashlib
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from haikei.domain.models import FrameSize
from haikei.engines.base import EngineContext
from haikei.imaging.io import encode_region_map, load_rgb, png_bytes, save_png

pytestmark = pytest.mark.slow

PLACE = "山道"


def _production(root: Path, w: int, h: int) -> Any:
    """A production at w x h with the bundled boards (each given a winter stand-in repaint), c001
    and c002 two drawings of the mountain road at one location, c003 the lake elsewhere."""
    from haikei.app import create_production
    from haikei.demo.build import DEMO_DIRECTIONS, add_bundled_boards
    from haikei.demo.scenes import make_scene
    from haikei.services.backgrounds import set_direction
    from haikei.services.intake import import_folder
    from haikei.services.locations import set_location
    from haikei.services.users import add_user
    from haikei.store.tables import ArtBoardRow

    ctx = create_production(root / "prod", "location cost", FrameSize(w, h), episode="ep01")
    add_bundled_boards(ctx)
    with ctx.db.session() as s:
        for b in s.query(ArtBoardRow).all():
            img = load_rgb(ctx.blobs.get(b.image_blob)).astype(np.float64)
            b.variants = {
                "winter": ctx.blobs.put(png_bytes(np.clip(img * 0.35 + 170, 0, 255).astype(np.uint8)))
            }
    lo = root / "layouts"
    lo.mkdir(parents=True)
    for cut, scene, seed in (("c001", "mountain_road", 0), ("c002", "mountain_road", 1)):
        sc = make_scene(scene, w, h, seed=seed)
        save_png(lo / f"{cut}_lo.png", sc.lines)
        save_png(lo / f"{cut}_regions.png", encode_region_map(sc.regions, ctx.vocabulary))
    import_folder(ctx, lo, artist="bench layouts")
    for cut in ("c001", "c002"):
        set_direction(ctx, cut, DEMO_DIRECTIONS["mountain_road"])
        set_location(ctx, cut, PLACE)
    add_user(ctx, "haruka", "director", password="haruka-pass-1", display_name="Haruka Aoki")
    add_user(ctx, "yuki", "artist", password="yuki-pass-1", display_name="Yuki Ito")
    return ctx


def _render(ctx: Any, cut: str, seed: int = 0) -> Any:
    from haikei.services.rendering import RenderSpec, render_spec

    return render_spec(ctx, RenderSpec(bg=cut, engine="exemplar", seed=seed, candidate=0, actor="bench"))


def _approve(ctx: Any, cut: str, vid: int, **kw: Any) -> None:
    from haikei.services.review import approve, bg_detail
    from haikei.services.users import get_user

    approve(ctx, get_user(ctx, "haruka"), cut, vid, bg_detail(ctx, cut).bg.lock_version, **kw)


def _median(xs: list[float]) -> float:
    return float(statistics.median(xs))


@pytest.fixture(scope="module")
def hd(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """1920x1080: c001 painted and approved (the location's board), its winter re-voted and
    approved (the board's winter); c002 painted from the location board and approved."""
    from haikei.services.rendering import render_spec
    from haikei.services.review import approve_variant, bg_detail
    from haikei.services.review_variants import variant_specs
    from haikei.services.users import get_user

    ctx = _production(tmp_path_factory.mktemp("hd"), 1920, 1080)
    v1 = _render(ctx, "c001")
    _approve(ctx, "c001", v1.id)
    (spec,), (opt,), _ = variant_specs(ctx, "c001", ["winter"], "haruka")
    assert opt.method == "revote"
    w1 = render_spec(ctx, spec)
    approve_variant(ctx, get_user(ctx, "haruka"), "c001", w1.id, bg_detail(ctx, "c001").bg.lock_version)
    v2 = _render(ctx, "c002")
    assert v2.recipe["inputs"].get("location"), "c002 was not painted from its location board"
    _approve(ctx, "c002", v2.id)
    yield ctx, v1, w1, v2
    ctx.close()


def test_seasons_carry_across_at_1080p(benchmark, hd, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """c002's winter from c001's approved winter: the re-vote of c002's correspondences over the
    location board's winter, and the service around it (prepare: decode the boards and the parent's
    source map; commit: encode and store the PNG)."""
    from haikei.services.rendering import commit, prepare
    from haikei.services.review_variants import variant_options, variant_specs

    ctx, _v1, w1, v2 = hd
    opt = variant_options(ctx, "c002")["winter"]
    assert opt.method == "revote"
    (spec,), _, _ = variant_specs(ctx, "c002", ["winter"], "haruka")
    prepares: list[float] = []
    revotes: list[float] = []
    hashes: set[str] = set()
    out: dict[str, Any] = {}

    def one() -> None:
        t = time.perf_counter()
        prep = prepare(ctx, spec)
        t1 = time.perf_counter()
        result = prep.engine.render(prep.request, EngineContext())
        t2 = time.perf_counter()
        prepares.append(t1 - t)
        revotes.append(t2 - t1)
        hashes.add(hashlib.sha256(np.ascontiguousarray(result.image).tobytes()).hexdigest())
        out["prep"], out["result"] = prep, result

    benchmark.pedantic(one, rounds=5, iterations=1, warmup_rounds=1)
    assert len(hashes) == 1, "the re-vote is not deterministic"
    first_prepare, first_revote = prepares.pop(0), revotes.pop(0)  # the warm-up: engine caches cold
    t = time.perf_counter()
    version = commit(ctx, out["prep"], out["result"])
    t_commit = time.perf_counter() - t
    assert version.recipe["kind"] == "variant" and version.recipe["inputs"]["location"]
    # the same winter as c001's: its location board's winter is what c002 was re-voted over
    winter = load_rgb(ctx.blobs.get(version.image_blob)).astype(np.float64)
    summer = load_rgb(ctx.blobs.get(v2.image_blob)).astype(np.float64)
    c1_winter = load_rgb(ctx.blobs.get(w1.image_blob)).astype(np.float64)
    assert winter.mean() > summer.mean() + 20
    assert abs(winter.mean() - c1_winter.mean()) < abs(summer.mean() - c1_winter.mean()) / 3
    print(
        f"\n1920x1080 c002 winter from c001's approved winter: re-vote median {_median(revotes):.3f} s "
        f"(min {min(revotes):.3f}, first {first_revote:.3f}), prepare median {_median(prepares):.3f} s "
        f"(first {first_prepare:.3f}), commit {t_commit:.3f} s; "
        f"timings {out['result'].timings}; image sha256 {next(iter(hashes))[:16]}"
    )
    assert _median(revotes) < 5.0, "the re-vote is far over its one second (even on a loaded machine)"


def test_adding_a_location_board_costs_no_more_than_adding_a_board(benchmark, hd, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The approval that makes c001's location board (each round approves another version of c001:
    the rendered one and a paint-over of it, so each makes a new board and retires the last) against
    adding one 1080p art board through the ``haikei artboard add`` path."""
    from haikei.services.artboards import add_artboard
    from haikei.services.review import bg_detail, upload_paintover
    from haikei.services.users import get_user
    from haikei.store.tables import ArtBoardRow, LayoutRow, VersionRow

    ctx, v1, _w1, _v2 = hd
    img = load_rgb(ctx.blobs.get(v1.image_blob))
    painted = img.copy()
    painted[:300] = np.clip(painted[:300].astype(np.int16) + 25, 0, 255).astype(np.uint8)  # a warmer sky
    over = upload_paintover(
        ctx,
        get_user(ctx, "yuki"),
        "c001",
        v1.id,
        bg_detail(ctx, "c001").bg.lock_version,
        png_bytes(painted),
        "paintover.png",
    )
    versions = [over.id, v1.id]
    approvals: list[float] = []

    def approve_one() -> None:
        vid = versions[len(approvals) % 2]
        t = time.perf_counter()
        _approve(ctx, "c001", vid, confirm_painters=True)
        approvals.append(time.perf_counter() - t)

    benchmark.pedantic(approve_one, rounds=6, iterations=1)
    with ctx.db.session() as s:
        made = s.query(ArtBoardRow).filter(ArtBoardRow.source_version_id.in_(versions)).all()
        assert len([b for b in made if b.retired_at is None]) == 1
        assert len(made) >= 6  # every round made a board (one more: the fixture's approval of v1)
        lay = s.get(LayoutRow, s.get(VersionRow, v1.id).layout_id)
        regions = lay.regions_blob
    # one 1920x1080 art board added as 'haikei artboard add' does (files on disk, decoded, stored)
    (tmp_path / "board.png").write_bytes(ctx.blobs.get(v1.image_blob))
    (tmp_path / "labels.png").write_bytes(ctx.blobs.get(regions))
    adds: list[float] = []
    for i in range(5):
        t = time.perf_counter()
        add_artboard(
            ctx,
            tmp_path / "board.png",
            tmp_path / "labels.png",
            name=f"bench board {i}",
            artist="bench",
            consent=True,
        )
        adds.append(time.perf_counter() - t)
    ratio = _median(approvals) / _median(adds)
    print(
        f"\n1920x1080 approval that adds a location board: median {_median(approvals):.3f} s "
        f"(min {min(approvals):.3f}); 'artboard add' of one board: median {_median(adds):.3f} s "
        f"(min {min(adds):.3f}); ratio {ratio:.2f}"
    )
    assert ratio < 3.0, "adding a location board costs far more than adding an art board"


@pytest.fixture(scope="module")
def qhd(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """960x540: c001 painted and approved (the location's board); c002 at the same place."""
    ctx = _production(tmp_path_factory.mktemp("qhd"), 960, 540)
    v1 = _render(ctx, "c001")
    _approve(ctx, "c001", v1.id)
    yield ctx
    ctx.close()


def test_a_located_render_is_no_slower(benchmark, qhd) -> None:  # type: ignore[no-untyped-def]
    """c002 painted from its location board, and c002 with no location (the production's boards
    only, as before locations), rendered in turns with new seeds (no stored render is re-used);
    the first render of each (engine caches cold for its boards) is timed apart."""
    from haikei.services.locations import set_location

    ctx = qhd
    seeds = iter(range(100, 200))
    times: dict[str, list[float]] = {"located": [], "plain": []}
    firsts: dict[str, float] = {}

    def render_as(kind: str) -> None:
        set_location(ctx, "c002", PLACE if kind == "located" else None)
        t = time.perf_counter()
        v = _render(ctx, "c002", seed=next(seeds))
        dt = time.perf_counter() - t
        assert bool(v.recipe["inputs"].get("location")) == (kind == "located")
        if kind in firsts:
            times[kind].append(dt)
        else:
            firsts[kind] = dt

    def both() -> None:
        render_as("located")
        render_as("plain")

    benchmark.pedantic(both, rounds=4, iterations=1, warmup_rounds=0)
    located, plain = _median(times["located"]), _median(times["plain"])
    print(
        f"\n960x540 render of c002: located median {located:.2f} s (first {firsts['located']:.2f}), "
        f"without location median {plain:.2f} s (first {firsts['plain']:.2f}); ratio {located / plain:.2f} "
        f"(rounds {len(times['located'])})"
    )
    assert located / plain < 2.0, "a located render is far slower than the same BG without location"
