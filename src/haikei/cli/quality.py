"""``haikei quality`` (score one painting) and ``haikei bench`` (engines vs the baseline on bundled cases)."""

from __future__ import annotations

import hashlib
import json
import resource
import sys
import time
from pathlib import Path
from typing import Annotated, Literal, cast

import typer

from haikei.domain.vocabulary import Vocabulary
from haikei.engines.base import BoardInput
from haikei.errors import InputError

ScoreFallbacksOpt = Annotated[
    bool,
    typer.Option(
        "--score-fallbacks",
        help="judge layout classes the art boards lack by their vocabulary fallback's board class "
        "(default: leave them out as not_on_boards)",
    ),
]

__all__ = ["register"]


def _fmt(v: object, spec: str) -> str:
    return "-" if v is None else format(v, spec)


def register(app: typer.Typer) -> None:
    """Add the ``quality`` and ``bench`` commands to the root app."""

    @app.command("quality")
    def quality(
        artboard: Annotated[
            list[Path], typer.Option("--artboard", help="art board image (repeat for several)")
        ],
        artboard_labels: Annotated[
            list[Path],
            typer.Option(
                "--artboard-labels", help="label map of each --artboard, in the same order (class colours)"
            ),
        ],
        layout: Annotated[
            Path, typer.Option("--layout", help="layout line drawing (dark ink on light paper)")
        ],
        regions: Annotated[
            Path, typer.Option("--regions", help="layout region map in the vocabulary's colours")
        ],
        image: Annotated[Path, typer.Option("--image", help="the painting to score")],
        as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
        score_fallbacks: ScoreFallbacksOpt = False,
        same_place: Annotated[
            Path | None,
            typer.Option(
                "--same-place",
                help="another painting of the same place (another cut of its location): also report "
                "location consistency, per shared class (needs --same-place-regions)",
            ),
        ] = None,
        same_place_regions: Annotated[
            Path | None,
            typer.Option("--same-place-regions", help="the region map of the --same-place painting"),
        ] = None,
    ) -> None:
        """Score a painting against its layout and art boards (region mIoU, line F1, style, repetition, ink;
        with --same-place, how alike it looks to another painting of the place)."""
        from haikei.imaging.io import load_gray, load_region_map, load_rgb
        from haikei.quality.metrics import prepare_reference, score_painting

        t0 = time.perf_counter()
        if (same_place is None) != (same_place_regions is None):
            raise InputError(
                "--same-place and --same-place-regions go together: give the other painting of the place "
                "and its region map"
            )
        if len(artboard) != len(artboard_labels):
            raise InputError(
                f"{len(artboard)} --artboard but {len(artboard_labels)} --artboard-labels; give one label map per board"
            )
        vocab = Vocabulary()
        boards = []
        for img_path, lab_path in zip(artboard, artboard_labels, strict=True):
            img = load_rgb(img_path)
            labels = load_region_map(lab_path, vocab)
            if labels.shape != img.shape[:2]:
                raise InputError(
                    f"{lab_path}: label map is not the size of {img_path}; export both at one size"
                )
            key = hashlib.sha256(img.tobytes()).hexdigest()
            boards.append(BoardInput(key=key, image=img, labels=labels, name=img_path.name))
        lines = load_gray(layout)
        region_ids = load_region_map(regions, vocab)
        painting = load_rgb(image)
        ref = prepare_reference(boards, vocab)
        scores = score_painting(painting, lines, region_ids, ref, score_fallbacks=score_fallbacks)
        out = scores.as_dict()
        place = None
        if same_place is not None and same_place_regions is not None:
            from haikei.quality.location import location_consistency

            other, other_ids = load_rgb(same_place), load_region_map(same_place_regions, vocab)
            if other_ids.shape != other.shape[:2]:
                raise InputError(
                    f"{same_place_regions}: region map is not the size of {same_place}; give that painting's own region map"
                )
            if region_ids.shape != painting.shape[:2]:
                raise InputError(
                    f"{regions}: region map is not the size of {image}; give the painting's own region map"
                )
            place = location_consistency(painting, region_ids, other, other_ids, vocab)
            out["location_consistency"] = place.as_json()
        out["seconds"] = round(time.perf_counter() - t0, 3)
        out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        if as_json:
            typer.echo(json.dumps(out, indent=2))
            return
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"quality of {image.name}")
        table.add_column("metric")
        table.add_column("value", justify="right")
        table.add_column("better")
        table.add_row("region_miou", _fmt(scores.region_miou, ".3f"), "higher")
        table.add_row("line_f1", _fmt(scores.line_f1, ".3f"), "higher")
        table.add_row("style_distance", _fmt(scores.style_distance, ".2f"), "lower")
        table.add_row("repetition", _fmt(scores.repetition, "+.3f"), "lower")
        table.add_row("ink (L*, 0 = lines painted as edges)", _fmt(scores.ink, ".2f"), "lower")
        if place is not None and same_place is not None:
            table.add_row(
                f"location consistency with {same_place.name} (Lab, 0 = same paint)",
                _fmt(place.distance, ".2f"),
                "lower",
            )
        table.add_row("seconds (whole command)", f"{out['seconds']:.2f}", "")
        table.add_row("peak_rss_mb", f"{out['peak_rss_mb']:.0f}", "")
        console = Console()
        console.print(table)
        for w in scores.warnings:
            console.print(f"[yellow]warning:[/] {w}")

    @app.command("bench")
    def bench(
        json_file: Annotated[
            Path | None, typer.Option("--json", help="write the full results as JSON here")
        ] = None,
        sheet: Annotated[Path | None, typer.Option("--sheet", help="write a contact sheet PNG here")] = None,
        engine: Annotated[
            str, typer.Option("--engine", help="engine to compare with the baseline")
        ] = "exemplar",
        sizes: Annotated[
            str, typer.Option("--sizes", help="comma-separated WIDTHxHEIGHT")
        ] = "960x540,1920x1080",
        repeat: Annotated[
            int, typer.Option("--repeat", min=1, max=50, help="renders per case; medians are quoted")
        ] = 3,
        cases: Annotated[
            str | None, typer.Option("--cases", help="comma-separated bundled case names (default all)")
        ] = None,
        seed: Annotated[int, typer.Option("--seed", help="render seed")] = 0,
        families: Annotated[
            str, typer.Option("--families", help="--engine sd: model architectures to time (sd15,sdxl)")
        ] = "sd15,sdxl",
        steps: Annotated[
            int, typer.Option("--steps", min=1, max=200, help="--engine sd: denoising steps")
        ] = 30,
        batch: Annotated[
            int, typer.Option("--batch", min=1, max=16, help="--engine sd: images per batch")
        ] = 1,
        device: Annotated[str, typer.Option("--device", help="--engine sd: torch device")] = "cuda",
        compile_unet: Annotated[
            bool, typer.Option("--compile/--no-compile", help="--engine sd: torch.compile the UNet")
        ] = False,
        tiny: Annotated[
            bool,
            typer.Option("--tiny", help="--engine sd: toy-sized models (a CPU smoke run, not a benchmark)"),
        ] = False,
        score_fallbacks: ScoreFallbacksOpt = False,
        variants: Annotated[
            bool,
            typer.Option(
                "--variants/--no-variants",
                help="also time a variant re-vote of each case (engines that give a source map), over "
                "colour-graded stand-ins of the boards: timing only, not painted variants",
            ),
        ] = True,
        retakes: Annotated[
            bool,
            typer.Option(
                "--retakes/--no-retakes",
                help="also time regional retakes of each case (centred masks of 1/64, 1/16 and 1/4 of the "
                "frame) and check the pixels outside them are kept",
            ),
        ] = True,
        calibrate: Annotated[
            bool,
            typer.Option(
                "--calibrate/--no-calibrate",
                help="also score each art board as a painting of its own label map, beside the engine's and "
                "the baseline's paintings of that map: what the metrics give the artist's own painting",
            ),
        ] = True,
        peer: Annotated[
            list[str] | None,
            typer.Option(
                "--peer",
                help="NAME=FOLDER: also score an outside tool's paintings of the cases (FOLDER/CASE.png, "
                "beside FOLDER/CASE_region_ids.png) in the same table and sheet; repeat for several",
            ),
        ] = None,
    ) -> None:
        """Render the bundled cases with an engine and the baseline; time, score, and draw a contact sheet.

        With --engine sd: GPU throughput of full-size SD1.5 / SDXL + ControlNet with random weights
        (timing does not depend on weight values), against a plain diffusers pipeline call."""
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table

        if engine == "sd":
            _bench_sd(json_file, sizes, families, steps, batch, repeat, device, compile_unet, tiny)
            return

        from haikei.imaging.io import atomic_write_bytes, save_png
        from haikei.quality.bench import BASELINE, Peer, demo_cases, parse_peer, parse_sizes, run_bench
        from haikei.quality.sheet import contact_sheet

        console = Console(stderr=True)
        names = [c.strip() for c in cases.split(",") if c.strip()] if cases else None
        peers: list[Peer] = []
        for text in peer or []:
            peers.append(parse_peer(text, [engine, BASELINE, *(p.name for p in peers)]))
        bench_cases = demo_cases(names, parse_sizes(sizes))
        report = run_bench(
            bench_cases,
            engine,
            repeat=repeat,
            seed=seed,
            progress=lambda m: console.print(m),
            score_fallbacks=score_fallbacks,
            variants=variants,
            retakes=retakes,
            calibrate_boards=calibrate,
            peers=peers,
        )
        if json_file is not None:
            atomic_write_bytes(json_file, json.dumps(report.as_dict(), indent=2).encode())
        if sheet is not None:
            save_png(sheet, contact_sheet(report))
        table = Table(title=f"bench: median of {repeat}")
        cols = ["case", "size", "engine", "s", "Mpx/s", "MB", "mIoU", "F1", "style", "rep", "ink"]
        if retakes:
            cols.insert(4, "retake s")
        if variants:
            cols.insert(4, "variant s")
        for col in cols:
            table.add_column(col)
        for r in report.runs:
            m = r.metrics
            v = r.variant
            var = (
                []
                if not variants
                else ["-" if v is None else ("refused" if v.error else _fmt(v.seconds, ".2f"))]
            )
            ret = [] if not retakes else ["/".join(_fmt(t.seconds, ".2f") for t in r.retakes) or "-"]
            table.add_row(
                r.case,
                r.size,
                r.engine,
                _fmt(r.seconds, ".2f"),
                *var,
                *ret,
                _fmt(r.mpx_per_s, ".2f"),
                _fmt(r.peak_rss_mb, ".0f"),
                _fmt(m.get("region_miou"), ".3f") if r.status == "ok" else f"[red]{r.status.upper()}[/]",
                _fmt(m.get("line_f1"), ".3f"),
                _fmt(m.get("style_distance"), ".2f"),
                _fmt(m.get("repetition"), "+.3f"),
                _fmt(m.get("ink"), ".2f"),
            )
        out = Console() if sys.stdout.isatty() else Console(width=200)  # a piped table keeps its columns
        out.print(table)
        if report.calibration:
            cal = Table(
                title="calibration: each board as a painting of its own label map (blank layout); "
                "ink and F1 with its label borders drawn as the layout's lines"
            )
            for col in ("board", "size", "painting", "mIoU", "style", "rep (rate)", "ink", "F1 (lined)"):
                cal.add_column(col)
            for c in report.calibration:
                for who, sc in c.scores.items():
                    ln = c.lined.get(who, {})
                    lined_cells = (
                        ["refused", ""]
                        if "error" in ln
                        else [_fmt(ln.get("ink"), ".2f"), _fmt(ln.get("line_f1"), ".3f")]
                    )
                    if "error" in sc:
                        cal.add_row(c.board, c.size, who, "refused", "", "", *lined_cells)
                        continue
                    cal.add_row(
                        c.board,
                        c.size,
                        "the board itself" if who == "board" else who,
                        _fmt(sc.get("region_miou"), ".3f"),
                        _fmt(sc.get("style_distance"), ".2f"),
                        f"{_fmt(sc.get('repetition'), '+.3f')} ({_fmt(sc.get('repetition_painting'), '.3f')})",
                        *lined_cells,
                    )
            out.print(cal)
        if variants:
            console.print("variant s: re-vote over colour-graded stand-ins of the boards (timing only)")
        if retakes:
            console.print("retake s: masks of 1/64, 1/16, 1/4 of the frame; pixels outside kept")
        console.print(
            "ink: L* the layout's strokes are darker than both sides (0: painted as edges and form)"
        )
        for r in report.runs:
            if r.error:
                console.print(f"[red]{r.engine} on {r.case} {r.size} ({r.status}):[/] {escape(r.error)}")
            elif r.peer is not None:
                for w in r.warnings:
                    console.print(f"[yellow]{r.engine} on {r.case} {r.size}:[/] {escape(w)}")
            if r.variant is not None and r.variant.error:
                console.print(f"[red]{r.engine} variant of {r.case} {r.size}:[/] {r.variant.error}")
            for t in r.retakes:
                if t.error:
                    console.print(f"[red]{r.engine} retake of {r.case} {r.size}:[/] {t.error}")
                elif t.outside_identical is False:
                    console.print(
                        f"[red]{r.engine} retake of {r.case} {r.size} changed pixels outside its mask"
                    )


def _bench_sd(
    json_file: Path | None,
    sizes: str,
    families: str,
    steps: int,
    batch: int,
    repeat: int,
    device: str,
    compile_unet: bool,
    tiny: bool,
) -> None:
    """haikei bench --engine sd: images per hour, ours vs plain diffusers, per family and size."""
    from rich.console import Console

    from haikei.errors import InputError, MissingExtraError
    from haikei.imaging.io import atomic_write_bytes
    from haikei.quality.bench import parse_sizes

    try:
        import torch

        from haikei.engines.sd.bench import run_sd_bench
    except ImportError:
        raise MissingExtraError("sd", "haikei bench --engine sd") from None
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise InputError(
            "--engine sd times a GPU and none is visible here; pass --device cpu --tiny for a smoke run"
        )
    fams: list[Literal["sd15", "sdxl"]] = []
    for f in (x.strip() for x in families.split(",")):
        if f == "sd15" or f == "sdxl":
            fams.append(cast(Literal["sd15", "sdxl"], f))
        elif f:
            raise InputError(f"--families: {f!r} is not sd15 or sdxl")
    size_list = tuple((w, h) for w, h in parse_sizes(sizes))
    dtype = "float16" if device.startswith("cuda") else "float32"
    results = {}
    for fam in fams:
        results[fam] = run_sd_bench(
            fam, sizes=size_list, steps=steps, batch=batch, repeats=repeat, device=device, dtype=dtype,
            compile=compile_unet, tiny=tiny,
        )  # fmt: skip
    if json_file is not None:
        atomic_write_bytes(json_file, json.dumps(results, indent=2, default=str).encode())
    Console().print_json(json.dumps(results, default=str))
