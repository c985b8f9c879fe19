"""Location bench (not collected by pytest): does a place look like itself across its cuts?

    .venv/bin/python -m tests.locations.bench_locations OUT_DIR [--size 960x540] [--paint-over] [--seeds N]

Three places of :mod:`haikei.demo.location_scenes`, each drawn from two or three camera positions
(a village street from its two ends, a farmhouse from the road and from its garden, a shore from the
hill, from the water and from the beach): one cut per view, all cuts of a place at one location.
Per place: paint every cut independently from the production's boards (exemplar engine, through
``render_spec``); approve the first cut (its location board); paint the other cuts again, now from
the location board. Reports,
per other cut: the location-consistency figure (the approved first cut vs that cut; lower = more
alike) both ways, region_miou / line_f1 of that cut against its own layout both ways, the time of
the approval that adds the location board and the render times (independent vs from the location).
Writes OUT_DIR/locations.json, OUT_DIR/locations_sheet.png (per place one row: approved first
cut | the other cuts painted independently | the other cuts painted from the location board) and
OUT_DIR/locations_layouts.png (the layouts, per place one row).
``--seeds N``: each cut is painted N times each way (seeds 0..N-1; the first cut's seed 0 is the
one approved): every figure is the median over the seeds (each seed's in the JSON), the sheet shows
seed 0, render times are medians too (the first render, which pays for preparing boards the engine
has not seen yet, is kept apart).
``--paint-over``: the first cut is painted over (simulated, and said so: a warmer sky, greener
grass) before approval, as a studio's approved BG usually is.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

# art direction per place, as an art director would write it
DIRECTIONS = {
    "street": "秋の午後、晴れ、田舎町",
    "farmhouse": "summer morning, clear sky, farmhouse",
    "shore": "夏の午後、快晴、海岸",
}


def _paint_over(ctx, artist, ref: str, version_id: int) -> int:  # type: ignore[no-untyped-def]
    """A simulated paint-over (stated as such in the report): the sky blended 40% towards a warm
    evening glow, grass and field 30% towards a deep green; uploaded as a person's version."""
    from haikei.imaging.io import load_region_map, load_rgb, png_bytes
    from haikei.services.review import bg_detail, upload_paintover
    from haikei.store.tables import LayoutRow, VersionRow

    with ctx.db.session() as s:
        v = s.get(VersionRow, version_id)
        img = load_rgb(ctx.blobs.get(v.image_blob)).astype(np.float64)
        reg = load_region_map(ctx.blobs.get(s.get(LayoutRow, v.layout_id).regions_blob), ctx.vocabulary)
    for names, colour, k in (
        (("sky", "cloud"), (250, 185, 140), 0.4),
        (("grass", "field"), (60, 120, 50), 0.3),
    ):
        m = np.isin(reg, [ctx.vocabulary.id_of(n) for n in names])
        img[m] = img[m] * (1 - k) + np.array(colour, np.float64) * k
    d = bg_detail(ctx, ref)
    data = png_bytes(np.clip(img + 0.5, 0, 255).astype(np.uint8))
    return upload_paintover(ctx, artist, ref, version_id, d.bg.lock_version, data, "paintover.png").id


def _source_state() -> dict[str, Any]:
    """Which code was measured: the commit, and whether engine/services files had changes."""
    root = Path(__file__).resolve().parents[2]
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "log", "-1", "--format=%h %s"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            [
                "git",
                "-C",
                str(root),
                "status",
                "--porcelain",
                "--",
                "src/haikei/engines",
                "src/haikei/services",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split("\n")
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "engine_or_services_changed": None}
    return {"commit": head, "engine_or_services_changed": [ln[3:] for ln in dirty if ln.strip()]}


def run(out: Path, width: int, height: int, paint_over: bool = False, repeat: int = 1) -> dict[str, Any]:
    from haikei.app import create_production
    from haikei.demo.build import add_bundled_boards
    from haikei.demo.location_scenes import LOCATION_PLACES, LOCATION_VIEWS, make_location_scene
    from haikei.domain.models import FrameSize
    from haikei.imaging.io import encode_region_map, load_gray, load_region_map, load_rgb, save_png
    from haikei.quality.location import location_consistency
    from haikei.quality.metrics import prepare_reference, score_painting
    from haikei.services.artboards import get_artboard, list_artboards, load_board_input
    from haikei.services.backgrounds import set_direction
    from haikei.services.intake import import_folder
    from haikei.services.locations import set_location
    from haikei.services.rendering import RenderSpec, render_spec
    from haikei.services.review import approve, bg_detail
    from haikei.services.users import add_user, get_user
    from haikei.store.tables import LayoutRow, VersionRow

    out.mkdir(parents=True, exist_ok=True)
    ctx = create_production(out / "prod", "location bench", FrameSize(width, height), episode="ep01")
    add_bundled_boards(ctx)
    lo = out / "layouts"
    lo.mkdir(exist_ok=True)
    places: list[tuple[str, list[tuple[str, str]]]] = []  # (place, [(cut, view), ...])
    n = 1
    for place in LOCATION_PLACES:
        cuts = []
        for view in LOCATION_VIEWS[place]:
            cut = f"c{n:03d}"
            n += 1
            sc = make_location_scene(place, view, width, height)
            save_png(lo / f"{cut}_lo.png", sc.lines)
            save_png(lo / f"{cut}_regions.png", encode_region_map(sc.regions, ctx.vocabulary))
            cuts.append((cut, view))
        places.append((place, cuts))
    _layouts_sheet(out / "locations_layouts.png", lo, places)
    import_folder(ctx, lo, artist="bench layouts (haikei.demo.location_scenes)")
    add_user(ctx, "haruka", "director", password="haruka-pass-1", display_name="Haruka Aoki")
    director = get_user(ctx, "haruka")
    add_user(ctx, "yuki", "artist", password="yuki-pass-1", display_name="Yuki Ito")
    artist = get_user(ctx, "yuki")
    for place, cuts in places:
        for cut, _view in cuts:
            set_direction(ctx, cut, DIRECTIONS[place])
            set_location(ctx, cut, place)
    ref = prepare_reference([load_board_input(ctx, bd) for bd in list_artboards(ctx)], ctx.vocabulary)

    def painting(version_id: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        with ctx.db.session() as s:
            v = s.get(VersionRow, version_id)
            lay = s.get(LayoutRow, v.layout_id) if v is not None else None
            if v is None or lay is None or v.image_blob is None or lay.regions_blob is None:
                raise RuntimeError(f"version {version_id} or its layout is missing from the bench production")
            img, lines, reg = v.image_blob, lay.lines_blob, lay.regions_blob
        return (
            load_rgb(ctx.blobs.get(img)),
            load_gray(ctx.blobs.get(lines)),
            load_region_map(ctx.blobs.get(reg), ctx.vocabulary),
        )

    def render(cut: str, candidate: int) -> tuple[list[int], float]:
        """The versions of ``repeat`` renders of the cut (seeds 0, 1 ...; seed 0 is the one shown and
        approved) and their median time. A render of a request already rendered comes back from the
        store without painting, hence other seeds, not other candidates. The first render pays for
        preparing boards the engine has not seen yet; ``first_seconds`` keeps its time."""
        times, ids = [], []
        for i in range(repeat):
            t = time.perf_counter()
            v = render_spec(
                ctx, RenderSpec(bg=cut, engine="exemplar", seed=i, candidate=candidate, actor="bench")
            )
            times.append(time.perf_counter() - t)
            ids.append(v.id)
        first_seconds[(cut, candidate)] = times[0]
        return ids, float(np.median(times))

    def med(vals: list[float | None]) -> float | None:
        got = [v for v in vals if v is not None]
        return float(np.median(got)) if got else None

    first_seconds: dict[tuple[str, int], float] = {}
    rows: list[dict[str, Any]] = []
    sheet: list[dict[str, Any]] = []
    for place, cuts in places:
        (first, first_view), others = cuts[0], cuts[1:]
        independent = {cut: render(cut, 0) for cut, _ in cuts}  # every cut painted on its own
        approved_id = independent[first][0][0]
        if paint_over:  # an artist repaints the first cut's sky warmer and its ground greener
            approved_id = _paint_over(ctx, artist, first, approved_id)
        t = time.perf_counter()
        approve(
            ctx, director, first, approved_id, bg_detail(ctx, first).bg.lock_version, confirm_painters=True
        )
        t_board = time.perf_counter() - t
        ia, _la, ra = painting(approved_id)
        row_sheet: dict[str, Any] = {"place": place, "first": (first, first_view, ia), "others": []}
        for cut, view in others:
            ids_loc, t_loc = render(cut, 1)
            with ctx.db.session() as s:
                v_loc = s.get(VersionRow, ids_loc[0])
                loc_entry = v_loc.recipe["inputs"].get("location") if v_loc is not None else None
            with_board = None
            if loc_entry is not None:
                # the same paintings scored against the boards the location render had: the
                # production's boards and the location board
                with_board = prepare_reference(
                    [load_board_input(ctx, bd) for bd in list_artboards(ctx) if bd.location_id is None]
                    + [load_board_input(ctx, get_artboard(ctx, loc_entry["boards"][0]["id"]))],
                    ctx.vocabulary,
                )
            seeds: list[dict[str, Any]] = []
            shown: tuple[np.ndarray, np.ndarray] | None = None
            per_class: tuple[Any, Any] | None = None
            for i, (vid_ind, vid_loc) in enumerate(zip(independent[cut][0], ids_loc, strict=True)):
                ib, lb, rb = painting(vid_ind)
                il, _ll, rl = painting(vid_loc)
                c_ind = location_consistency(ia, ra, ib, rb, ctx.vocabulary)
                c_loc = location_consistency(ia, ra, il, rl, ctx.vocabulary)
                s_ind = score_painting(ib, lb, rb, ref)
                s_loc = score_painting(il, lb, rl, ref)
                one: dict[str, Any] = {
                    "seed": i,
                    "consistency_independent": c_ind.distance,
                    "consistency_location": c_loc.distance,
                    "region_miou_independent": s_ind.region_miou,
                    "region_miou_location": s_loc.region_miou,
                    "line_f1_independent": s_ind.line_f1,
                    "line_f1_location": s_loc.line_f1,
                }
                if with_board is not None:
                    one["region_miou_independent_vs_boards_and_location_board"] = score_painting(
                        ib, lb, rb, with_board
                    ).region_miou
                    one["region_miou_location_vs_boards_and_location_board"] = score_painting(
                        il, lb, rl, with_board
                    ).region_miou
                seeds.append(one)
                if i == 0:
                    shown = (ib, il)
                    per_class = (c_ind.per_class, c_loc.per_class)
            assert shown is not None and per_class is not None
            row: dict[str, Any] = {
                "place": place,
                "first": first,
                "first_view": first_view,
                "cut": cut,
                "view": view,
                "painted_from_location_board": loc_entry is not None,
                "location_classes": (loc_entry or {}).get("classes"),
                # figures: the median over the seeds (each seed's in 'seeds'); per class: seed 0
                **{k: med([one.get(k) for one in seeds]) for k in seeds[0] if k != "seed"},
                "per_class_independent": per_class[0],
                "per_class_location": per_class[1],
                "seeds": seeds,
                "seconds_render_first": independent[first][1],
                "seconds_render_independent": independent[cut][1],
                "seconds_render_location": t_loc,
                "seconds_render_independent_first": first_seconds[(cut, 0)],
                "seconds_render_location_first": first_seconds[(cut, 1)],
                "seconds_approve_with_board": t_board,
            }
            rows.append(row)
            row_sheet["others"].append((cut, view, shown[0], shown[1], row))
        sheet.append(row_sheet)
    ctx.close()
    _sheet(out / "locations_sheet.png", sheet, paint_over, repeat)
    result = {
        "size": [width, height],
        "engine": "exemplar",
        "paint_over": paint_over,
        "seeds": repeat,
        "render_times": f"median of {repeat} render(s) per cut and way",
        "source": _source_state(),
        "rows": rows,
        "summary": _summary(rows),
    }
    tmp = out / "locations.json.tmp"
    tmp.write_text(json.dumps(result, indent=2, default=float, ensure_ascii=False))
    tmp.replace(out / "locations.json")
    return result


def _summary(rows: list[dict[str, Any]]) -> dict[str, float | int]:
    def med(key: str) -> float:
        vals = [r[key] for r in rows if r[key] is not None]
        return float(np.median(vals)) if vals else float("nan")

    return {
        "cuts": len(rows),
        "location_more_consistent": sum(
            1
            for r in rows
            if r["consistency_location"] is not None
            and r["consistency_independent"] is not None
            and r["consistency_location"] < r["consistency_independent"]
        ),
        **{
            f"median_{k}": med(k)
            for k in (
                "consistency_independent",
                "consistency_location",
                "region_miou_independent",
                "region_miou_location",
                "line_f1_independent",
                "line_f1_location",
                "seconds_render_independent",
                "seconds_render_location",
                "seconds_approve_with_board",
            )
        },
    }


def _layouts_sheet(path: Path, folder: Path, places: list[tuple[str, list[tuple[str, str]]]]) -> None:
    """The layouts the bench paints, per place one row: line drawing over a light tint of the region map."""
    tw, pad, gap = 400, 18, 8
    rows = []
    for place, cuts in places:
        tiles = []
        for cut, view in cuts:
            lines = np.asarray(Image.open(folder / f"{cut}_lo.png").convert("L"), np.float64)
            tint = np.asarray(Image.open(folder / f"{cut}_regions.png").convert("RGB"), np.float64)
            mixed = np.minimum(tint * 0.4 + 255 * 0.6, lines[:, :, None]).astype(np.uint8)
            tiles.append((f"{place} {cut}: from the {view.replace('_', ' ')}", Image.fromarray(mixed)))
        rows.append(tiles)
    th = round(tw * rows[0][0][1].height / rows[0][0][1].width)
    cols = max(len(r) for r in rows)
    sheet = Image.new("RGB", (cols * tw + (cols + 1) * gap, len(rows) * (th + pad + gap) + gap), "white")
    draw = ImageDraw.Draw(sheet)
    for r_i, tiles in enumerate(rows):
        y = gap + r_i * (th + pad + gap)
        for c_i, (label, im) in enumerate(tiles):
            x = gap + c_i * (tw + gap)
            draw.text((x, y + 2), label, fill="black")
            sheet.paste(im.resize((tw, th), Image.Resampling.LANCZOS), (x, y + pad))
    tmp = path.with_name(path.name + ".tmp.png")
    sheet.save(tmp)
    tmp.replace(path)


def _sheet(path: Path, rows: list[dict[str, Any]], paint_over: bool, seeds: int = 1) -> None:
    """Per place one row: approved first cut | others independent | others from the location board."""
    tw, pad, gap = 400, 34, 8
    cols = max(1 + 2 * len(r["others"]) for r in rows)
    first_img = rows[0]["first"][2]
    th = round(tw * first_img.shape[0] / first_img.shape[1])
    head = 26
    sheet = Image.new(
        "RGB", (cols * tw + (cols + 1) * gap, head + len(rows) * (th + pad + gap) + gap), "white"
    )
    draw = ImageDraw.Draw(sheet)
    draw.text(
        (gap, 6),
        "location consistency: style distance to the approved first cut (lower = more alike)"
        + ("; first cut painted over (simulated) before approval" if paint_over else "")
        + (f"; figures: medians over {seeds} seeds, pictures: seed 0" if seeds > 1 else ""),
        fill="black",
    )
    for r_i, r in enumerate(rows):
        y = head + r_i * (th + pad + gap)
        cut, view, img = r["first"]
        tiles: list[tuple[np.ndarray, list[str]]] = [
            (img, [f"{r['place']} {cut} ({view}): approved", "= the location board"])
        ]
        for o_cut, o_view, ib, _il, row in r["others"]:
            tiles.append(
                (
                    ib,
                    [
                        f"{o_cut} ({o_view}) independent: {row['consistency_independent']:.2f}",
                        f"mIoU {row['region_miou_independent']:.3f} line F1 {row['line_f1_independent']:.3f}",
                    ],
                )
            )
        for o_cut, o_view, _ib, il, row in r["others"]:
            tiles.append(
                (
                    il,
                    [
                        f"{o_cut} ({o_view}) from the location: {row['consistency_location']:.2f}",
                        f"mIoU {row['region_miou_location']:.3f} line F1 {row['line_f1_location']:.3f}",
                    ],
                )
            )
        for c_i, (im, labels) in enumerate(tiles):
            x = gap + c_i * (tw + gap)
            for k, label in enumerate(labels):
                draw.text((x, y + 2 + 14 * k), label, fill="black")
            sheet.paste(Image.fromarray(im).resize((tw, th), Image.Resampling.LANCZOS), (x, y + pad))
    tmp = path.with_name(path.name + ".tmp.png")
    sheet.save(tmp)
    tmp.replace(path)


def _fail(msg: str) -> None:
    print(f"bench_locations: {msg}", file=sys.stderr)
    raise SystemExit(2)


def main(argv: list[str]) -> None:
    if not argv or argv[0].startswith("-"):
        _fail(
            "usage: python -m tests.locations.bench_locations OUT_DIR [--size WxH] [--paint-over] [--seeds N]"
        )
    out = Path(argv[0])
    w, h = 960, 540
    if "--size" in argv:
        i = argv.index("--size")
        try:
            w, h = (int(x) for x in argv[i + 1].lower().split("x"))
        except (IndexError, ValueError):
            _fail("--size wants WIDTHxHEIGHT in pixels, e.g. --size 960x540")
        if not (64 <= w <= 8192 and 64 <= h <= 8192):
            _fail(f"--size {w}x{h} is outside 64..8192 pixels per side")
    if out.exists() and not out.is_dir():
        _fail(f"{out} is a file; give a folder for the bench's output")
    repeat = 1
    if "--seeds" in argv:
        i = argv.index("--seeds")
        try:
            repeat = int(argv[i + 1])
        except (IndexError, ValueError):
            _fail("--seeds wants a whole number of paintings per cut, e.g. --seeds 3")
        if not 1 <= repeat <= 20:
            _fail(f"--seeds {repeat} is outside 1..20")
    res = run(out, w, h, paint_over="--paint-over" in argv, repeat=repeat)
    for r in res["rows"]:
        print(
            f"{r['place']:10s} {r['first']}->{r['cut']} ({r['view']:9s}) "
            f"consistency indep {r['consistency_independent']:.2f} location {r['consistency_location']:.2f}  "
            f"miou {r['region_miou_independent']:.3f}->{r['region_miou_location']:.3f}  "
            f"line_f1 {r['line_f1_independent']:.3f}->{r['line_f1_location']:.3f}  "
            f"render {r['seconds_render_independent']:.1f}s->{r['seconds_render_location']:.1f}s  "
            f"board {r['seconds_approve_with_board']:.2f}s"
            + ("" if r["painted_from_location_board"] else "  (NOT painted from the location board)")
        )
    s = res["summary"]
    print(
        f"location more consistent in {s['location_more_consistent']}/{s['cuts']} cuts; medians: consistency "
        f"{s['median_consistency_independent']:.2f} -> {s['median_consistency_location']:.2f}, "
        f"miou {s['median_region_miou_independent']:.3f} -> {s['median_region_miou_location']:.3f}, "
        f"line_f1 {s['median_line_f1_independent']:.3f} -> {s['median_line_f1_location']:.3f}"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
