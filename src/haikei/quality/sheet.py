"""A contact sheet a person can look at: per case, layout | art board | each engine's result | each peer's."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from haikei.domain.vocabulary import Vocabulary
from haikei.imaging.io import encode_region_map
from haikei.quality.bench import BenchCase, BenchReport, EngineRun

__all__ = ["contact_sheet", "layout_preview"]

THUMB_H = 216
LABEL_H = 34
PAD = 6
BG = (32, 32, 36)
FG = (235, 235, 235)
BAD = (255, 120, 120)


def layout_preview(case: BenchCase, vocabulary: Vocabulary) -> np.ndarray:
    """The region map's colours washed toward white, with the layout's ink on top."""
    colours = encode_region_map(case.regions, vocabulary).astype(np.float32)
    washed = 0.55 * colours + 0.45 * 255.0
    ink = (case.lines.astype(np.float32) / 255.0)[..., None]
    return np.asarray(np.clip(washed * ink, 0, 255), dtype=np.uint8)


def _thumb(img: np.ndarray, width: int) -> Image.Image:
    pil = Image.fromarray(img)
    return pil.resize((width, THUMB_H), Image.Resampling.LANCZOS)


def _boards_tile(case: BenchCase, width: int) -> np.ndarray | None:
    """Every art board of the case in one cell: one fills it; n share it side by side, each scaled to
    1/n of the width in its own shape (so the sheet shows where a render's paint can come from)."""
    if not case.boards:
        return None
    if len(case.boards) == 1:
        return case.boards[0].image
    n = len(case.boards)
    cell = Image.new("RGB", (width, THUMB_H), BG)
    tw = (width - (n - 1) * PAD) // n
    for i, b in enumerate(case.boards):
        bh, bw = b.image.shape[:2]
        th = min(THUMB_H, max(1, round(tw * bh / bw)))
        pil = Image.fromarray(b.image).resize((tw, th), Image.Resampling.LANCZOS)
        cell.paste(pil, (i * (tw + PAD), (THUMB_H - th) // 2))
    return np.asarray(cell, dtype=np.uint8)


def _run_label(run: EngineRun) -> tuple[str, str, tuple[int, int, int]]:
    if run.status != "ok" or run.error is not None:
        why = run.status if run.status != "ok" else "refused"
        return f"{run.engine}: {why.upper()}", (run.error or "")[:64], BAD
    m = run.metrics

    def f(key: str, fmt: str) -> str:
        v = m.get(key)
        return "-" if v is None else format(v, fmt)

    if run.peer is not None:
        top = f"{run.engine} (outside painting, not timed here)"
    else:
        top = f"{run.engine} {run.engine_version}  {run.seconds or 0:.2f}s  {run.peak_rss_mb or 0:.0f}MB"
    bottom = (
        f"mIoU {f('region_miou', '.2f')}  F1 {f('line_f1', '.2f')}  "
        f"style {f('style_distance', '.1f')}  rep {f('repetition', '+.2f')}  ink {f('ink', '.1f')}"
    )
    return top, bottom, FG


def contact_sheet(report: BenchReport, vocabulary: Vocabulary | None = None) -> np.ndarray:
    """Rows of layout | art boards | result per engine, labelled with timings and metrics."""
    vocab = vocabulary or Vocabulary()
    font = ImageFont.load_default()
    by_case: dict[tuple[str, str], dict[str, EngineRun]] = {}
    for done in report.runs:
        by_case.setdefault((done.case, done.size), {})[done.engine] = done
    columns = report.columns
    n_cols = 2 + len(columns)
    aspect = max(c.lines.shape[1] / c.lines.shape[0] for c in report.cases)
    col_w = round(THUMB_H * aspect)
    header_h = 22
    row_h = THUMB_H + LABEL_H + PAD
    width = PAD + n_cols * (col_w + PAD)
    height = header_h + len(report.cases) * row_h + PAD
    sheet = Image.new("RGB", (width, height), BG)
    draw = ImageDraw.Draw(sheet)
    peers = {p.name for p in report.peers}
    titles = [
        "layout (regions + lines)",
        "art boards",
        *(f"{c} (peer)" if c in peers else c for c in columns),
    ]
    for i, t in enumerate(titles):
        draw.text((PAD + i * (col_w + PAD), 5), t, fill=FG, font=font)
    for r, case in enumerate(report.cases):
        y = header_h + r * row_h
        runs = by_case.get((case.name, case.size), {})
        cells: list[tuple[np.ndarray | None, str, str, tuple[int, int, int]]] = [
            (layout_preview(case, vocab), f"{case.name} {case.size}", "", FG),
            (_boards_tile(case, col_w), " + ".join(b.name for b in case.boards), "", FG),
        ]
        for name in columns:
            run = runs.get(name)
            if run is None:
                cells.append((None, f"{name}: not run", "", BAD))
                continue
            top, bottom, colour = _run_label(run)
            cells.append((run.image, top, bottom, colour))
        for c, (img, top, bottom, colour) in enumerate(cells):
            x = PAD + c * (col_w + PAD)
            if img is not None:
                sheet.paste(_thumb(img, col_w), (x, y))
            else:
                draw.rectangle((x, y, x + col_w - 1, y + THUMB_H - 1), outline=BAD)
            draw.text((x, y + THUMB_H + 3), top, fill=colour, font=font)
            draw.text((x, y + THUMB_H + 17), bottom, fill=colour, font=font)
    return np.asarray(sheet, dtype=np.uint8)
