"""Location bench (not collected by pytest): does a place look like itself across its cuts?

    .venv/bin/python -m tests.locations.bench_locations OUT_DIR [--size 960x540] [--paint-over]

For three places (demo scenes drawn twice, with different seeds: two cuts of one place), paint both
cuts independently from the production's boards; approve the first; paint the second again, now
from the location's board. Reports the location-consistency figure (first vs second) both ways,
region_miou / line_f1 of the second cut against its layout, the time of adding the location board
(the approval) and the render times; writes OUT_DIR/locations.json and a contact sheet
OUT_DIR/locations_sheet.png (per place: approved first cut | second painted independently | second
painted from the location board). ``--paint-over``: the first cut is painted over (simulated: a
warmer sky, greener grass) before approval, as a studio's approved BG usually is.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

PLACES = (("mountain_road", (0, 1)), ("lake", (0, 2)), ("coast", (1, 2)))


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


def run(out: Path, width: int, height: int, paint_over: bool = False) -> dict:
    from haikei.app import create_production
    from haikei.demo.build import DEMO_DIRECTIONS, add_bundled_boards
    from haikei.demo.scenes import make_scene
    from haikei.domain.models import FrameSize
    from haikei.imaging.io import encode_region_map, load_gray, load_region_map, load_rgb, save_png
    from haikei.quality.location import location_consistency
    from haikei.quality.metrics import prepare_reference, score_painting
    from haikei.services.artboards import list_artboards, load_board_input
    from haikei.services.backgrounds import set_direction
    from haikei.services.intake import import_folder
    from haikei.services.locations import set_location
    from haikei.services.rendering import RenderSpec, render_spec
    from haikei.services.review import approve, bg_detail
    from haikei.services.users import add_user, get_user
    from haikei.store.tables import LayoutRow, VersionRow

    out.mkdir(parents=True, exist_ok=True)
    root = out / "prod"
    ctx = create_production(root, "location bench", FrameSize(width, height), episode="ep01")
    add_bundled_boards(ctx)
    lo = out / "layouts"
    lo.mkdir(exist_ok=True)
    cuts: list[tuple[str, str, str]] = []  # (place, first cut, second cut)
    n = 1
    for scene, seeds in PLACES:
        names = []
        for seed in seeds:
            cut = f"c{n:03d}"
            n += 1
            sc = make_scene(scene, width, height, seed=seed)
            save_png(lo / f"{cut}_lo.png", sc.lines)
            save_png(lo / f"{cut}_regions.png", encode_region_map(sc.regions, ctx.vocabulary))
            names.append(cut)
        cuts.append((scene, names[0], names[1]))
    import_folder(ctx, lo, artist="bench layouts")
    add_user(ctx, "haruka", "director", password="haruka-pass-1", display_name="Haruka Aoki")
    director = get_user(ctx, "haruka")
    add_user(ctx, "yuki", "artist", password="yuki-pass-1", display_name="Yuki Ito")
    artist = get_user(ctx, "yuki")
    for scene, a, b in cuts:
        for c in (a, b):
            set_direction(ctx, c, DEMO_DIRECTIONS[scene])
            set_location(ctx, c, scene)
    ref = prepare_reference([load_board_input(ctx, bd) for bd in list_artboards(ctx)], ctx.vocabulary)

    def painting(version_id: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        with ctx.db.session() as s:
            v = s.get(VersionRow, version_id)
            lay = s.get(LayoutRow, v.layout_id)
            img, lines, reg = v.image_blob, lay.lines_blob, lay.regions_blob
        return (
            load_rgb(ctx.blobs.get(img)),
            load_gray(ctx.blobs.get(lines)),
            load_region_map(ctx.blobs.get(reg), ctx.vocabulary),
        )

    rows = []
    sheet_rows = []
    for scene, a, b in cuts:
        t = time.perf_counter()
        va = render_spec(ctx, RenderSpec(bg=a, engine="exemplar", seed=0, candidate=0, actor="bench"))
        t_a = time.perf_counter() - t
        t = time.perf_counter()
        vb = render_spec(ctx, RenderSpec(bg=b, engine="exemplar", seed=0, candidate=0, actor="bench"))
        t_b = time.perf_counter() - t
        approved_id = va.id
        if paint_over:  # an artist repaints the first cut's sky warmer and its ground greener
            approved_id = _paint_over(ctx, artist, a, va.id)
        t = time.perf_counter()
        approve(ctx, director, a, approved_id, bg_detail(ctx, a).bg.lock_version, confirm_painters=True)
        t_board = time.perf_counter() - t
        t = time.perf_counter()
        vl = render_spec(ctx, RenderSpec(bg=b, engine="exemplar", seed=0, candidate=1, actor="bench"))
        t_loc = time.perf_counter() - t
        with ctx.db.session() as s:
            loc_entry = s.get(VersionRow, vl.id).recipe["inputs"].get("location")
        assert loc_entry is not None, f"{b} was not painted from its location board"
        ia, _la, ra = painting(approved_id)
        ib, lb, rb = painting(vb.id)
        il, _ll, rl = painting(vl.id)
        indep = location_consistency(ia, ra, ib, rb, ctx.vocabulary)
        loc = location_consistency(ia, ra, il, rl, ctx.vocabulary)
        s_ind = score_painting(ib, lb, rb, ref)
        s_loc = score_painting(il, lb, rl, ref)
        # the same two paintings against the boards the location render had: the location board too
        from haikei.services.artboards import get_artboard

        with_board = prepare_reference(
            [load_board_input(ctx, bd) for bd in list_artboards(ctx) if bd.location_id is None]
            + [load_board_input(ctx, get_artboard(ctx, loc_entry["boards"][0]["id"]))],
            ctx.vocabulary,
        )
        m_ind2 = score_painting(ib, lb, rb, with_board).region_miou
        m_loc2 = score_painting(il, lb, rl, with_board).region_miou
        rows.append(
            {
                "place": scene,
                "first": a,
                "second": b,
                "consistency_independent": indep.distance,
                "consistency_location": loc.distance,
                "per_class_independent": indep.per_class,
                "per_class_location": loc.per_class,
                "location_classes": loc_entry["classes"],
                "region_miou_independent": s_ind.region_miou,
                "region_miou_location": s_loc.region_miou,
                "region_miou_independent_vs_boards_and_location_board": m_ind2,
                "region_miou_location_vs_boards_and_location_board": m_loc2,
                "line_f1_independent": s_ind.line_f1,
                "line_f1_location": s_loc.line_f1,
                "seconds_render_first": t_a,
                "seconds_render_second_independent": t_b,
                "seconds_render_second_location": t_loc,
                "seconds_approve_with_board": t_board,
            }
        )
        sheet_rows.append((scene, a, b, ia, ib, il, indep.distance, loc.distance))
    ctx.close()
    _sheet(out / "locations_sheet.png", sheet_rows)
    result = {"size": [width, height], "engine": "exemplar", "paint_over": paint_over, "places": rows}
    (out / "locations.json").write_text(json.dumps(result, indent=2, default=float))
    return result


def _sheet(path: Path, rows: list) -> None:
    tw = 480
    th = None
    tiles = []
    for scene, a, b, ia, ib, il, d_ind, d_loc in rows:
        imgs = [Image.fromarray(x) for x in (ia, ib, il)]
        th = round(tw * imgs[0].height / imgs[0].width)
        tiles.append(
            (
                [im.resize((tw, th)) for im in imgs],
                [
                    f"{scene}: {a} approved (location board)",
                    f"{b} painted independently: {d_ind:.2f}",
                    f"{b} painted from the location board: {d_loc:.2f}",
                ],
            )
        )
    assert th is not None
    pad = 22
    sheet = Image.new("RGB", (3 * tw + 4 * 8, len(tiles) * (th + pad + 8) + 8), "white")
    draw = ImageDraw.Draw(sheet)
    for r, (ims, labels) in enumerate(tiles):
        y = 8 + r * (th + pad + 8)
        for c, (im, label) in enumerate(zip(ims, labels, strict=True)):
            x = 8 + c * (tw + 8)
            draw.text((x, y), label, fill="black")
            sheet.paste(im, (x, y + pad))
    sheet.save(path)


def main(argv: list[str]) -> None:
    out = Path(argv[0])
    w, h = 960, 540
    if "--size" in argv:
        w, h = (int(x) for x in argv[argv.index("--size") + 1].split("x"))
    res = run(out, w, h, paint_over="--paint-over" in argv)
    for r in res["places"]:
        print(
            f"{r['place']:14s} {r['first']}->{r['second']}  consistency indep {r['consistency_independent']:.2f}  "
            f"location {r['consistency_location']:.2f}  miou {r['region_miou_independent']:.3f}->"
            f"{r['region_miou_location']:.3f} (with the location board as reference too: "
            f"{r['region_miou_independent_vs_boards_and_location_board']:.3f}->"
            f"{r['region_miou_location_vs_boards_and_location_board']:.3f})  line_f1 {r['line_f1_independent']:.3f}->{r['line_f1_location']:.3f}  "
            f"render {r['seconds_render_second_independent']:.1f}s->{r['seconds_render_second_location']:.1f}s  "
            f"board {r['seconds_approve_with_board']:.2f}s"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
