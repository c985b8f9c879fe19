"""haikei paint: one-shot painting with no production (files in, PNG out)."""

from __future__ import annotations

import hashlib
import json
import resource
import time
from pathlib import Path
from typing import Annotated

import typer

from haikei.cli.common import JsonOpt, console, parse_frame, print_json
from haikei.errors import InputError

__all__ = ["peak_rss_mb", "register"]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def paint(
    layout: Annotated[Path, typer.Option("--layout", help="layout line drawing (dark lines on white)")],
    out: Annotated[Path, typer.Option("--out", help="where to write the painting (PNG)")],
    artboard: Annotated[list[Path], typer.Option("--artboard", help="art board image (repeatable)")],
    artboard_labels: Annotated[
        list[Path], typer.Option("--artboard-labels", help="label map for each --artboard, same order")
    ],
    regions: Annotated[Path | None, typer.Option("--regions", help="region map in the class colours")] = None,
    direction: Annotated[str, typer.Option("--direction", help="art direction, Japanese or English")] = "",
    seed: Annotated[int, typer.Option("--seed", min=0, help="random seed (same seed, same pixels)")] = 0,
    size: Annotated[str | None, typer.Option("--size", help="render size WxH (layout is resampled)")] = None,
    mask: Annotated[
        Path | None, typer.Option("--mask", help="retake mask (white = repaint); needs --init")
    ] = None,
    init: Annotated[
        Path | None, typer.Option("--init", help="parent painting (retake / refine pass)")
    ] = None,
    engine: Annotated[str, typer.Option("--engine", help="engine name")] = "exemplar",
    artboard_tags: Annotated[
        list[str] | None, typer.Option("--artboard-tags", help="comma tags for each --artboard, same order")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Paint one layout from art boards, no production needed."""
    from haikei.domain.direction import Direction, parse_direction
    from haikei.domain.vocabulary import Vocabulary
    from haikei.engines.base import BoardInput, EngineContext, RenderRequest
    from haikei.engines.registry import load_engine
    from haikei.imaging.io import load_gray, load_region_map, load_rgb, resize, save_png

    t0 = time.perf_counter()
    vocab = Vocabulary()
    # 1. inputs: the options first (cheap), then the files
    fs = parse_frame(size) if size else None
    if len(artboard) != len(artboard_labels):
        raise InputError("give one --artboard-labels for each --artboard, in the same order")
    tags_list = list(artboard_tags or [])
    if tags_list and len(tags_list) != len(artboard):
        raise InputError("give one --artboard-tags for each --artboard, in the same order")
    boards = []
    for i, (img_p, lab_p) in enumerate(zip(artboard, artboard_labels, strict=True)):
        img = load_rgb(img_p)
        lab = load_region_map(lab_p, vocab)
        if lab.shape != img.shape[:2]:
            raise InputError(f"{lab_p}: label map size differs from {img_p}; export both at the same size")
        tags = (
            frozenset(t.strip() for t in tags_list[i].split(",") if t.strip()) if tags_list else frozenset()
        )
        boards.append(
            BoardInput(
                key=hashlib.sha256(Path(img_p).read_bytes()).hexdigest(),
                image=img,
                labels=lab,
                tags=tags,
                name=Path(img_p).stem,
            )
        )
    lines = load_gray(layout)
    if regions is None:
        raise InputError(
            f"{layout}: no --regions given; paint needs a region map in the class colours "
            "(see 'haikei classes'); in a production, 'haikei regions derive' makes one to label"
        )
    reg = load_region_map(regions, vocab)
    if reg.shape != lines.shape:
        raise InputError(
            f"{regions}: region map is not the size of the layout {layout}; export both at one size"
        )
    if fs is not None:
        lines = resize(lines, fs.width, fs.height, labels=False)
        reg = resize(reg, fs.width, fs.height, labels=True)
    h, w = lines.shape
    init_img = load_rgb(init) if init else None
    if init_img is not None and init_img.shape[:2] != (h, w):
        raise InputError(
            f"{init}: init image is {init_img.shape[1]}x{init_img.shape[0]}, the render is {w}x{h}"
        )
    mask_arr = None
    if mask is not None:
        if init_img is None:
            raise InputError("--mask needs --init (the painting to retake)")
        mask_arr = load_gray(mask) >= 128
        if mask_arr.shape != (h, w):
            raise InputError(f"{mask}: mask is not {w}x{h}")
    req = RenderRequest(
        lines=lines,
        regions=reg,
        boards=tuple(boards),
        direction=parse_direction(direction) if direction.strip() else Direction(),
        vocabulary=vocab,
        seed=seed,
        mask=mask_arr,
        init=init_img,
    )
    eng = load_engine(engine)
    # 2. render
    t1 = time.perf_counter()
    res = eng.render(req, EngineContext())
    t2 = time.perf_counter()
    # 3. write
    recipe = {
        "engine": eng.name,
        "engine_version": eng.version,
        "seed": seed,
        "artboards": [{"name": b.name, "hash": b.key} for b in boards],
        "direction": direction,
        "engine_recipe": res.recipe,
        "warnings": res.warnings,
    }
    save_png(out, res.image, {"haikei:recipe": json.dumps(recipe, sort_keys=True, default=str)})
    report = {
        "out": str(out),
        "engine": eng.name,
        "width": w,
        "height": h,
        "seconds_render": round(t2 - t1, 4),
        "seconds_total": round(time.perf_counter() - t0, 4),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "warnings": res.warnings,
        "timings": res.timings,
    }
    if as_json:
        print_json(report)
    else:
        console().print(
            f"painted {out} ({w}x{h}) with {eng.name} in {report['seconds_render']:.2f} s "
            f"(total {report['seconds_total']:.2f} s, peak {report['peak_rss_mb']:.0f} MB)"
        )
        for wmsg in res.warnings:
            console().print(f"[yellow]warning:[/] {wmsg}")


def register(app: typer.Typer) -> None:
    app.command()(paint)
