"""A real production with many BGs, quickly: for the queue's crash, load and throughput runs.

Layouts are the demo scenes (``haikei.demo.scenes``) drawn at any size, art boards the bundled
demo boards (with their recorded consent). Cuts, BGs and layouts are written as rows (the intake
service reads files; here the pixels are already in memory). Each BG gets one cut with a due
date, so claim order by due date can be checked.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from haikei.domain.models import FrameSize
from haikei.imaging.io import encode_region_map, png_bytes
from haikei.services.context import ServiceContext
from haikei.store.tables import BackgroundRow, CutRow, LayoutRow, ReviewStatusRow

__all__ = ["add_scene_bgs", "build_production"]


def add_scene_bgs(
    ctx: ServiceContext, count: int, width: int, height: int, *, prefix: str = "c", start: int = 1
) -> list[str]:
    """Add ``count`` BGs (one cut each, cycling the demo scenes); returns their names."""
    from haikei.demo.scenes import SCENES, make_scene

    names: list[str] = []
    drawn: dict[str, tuple[str, str]] = {}
    base_due = datetime(2027, 1, 1)
    with ctx.db.session() as s:
        todo = s.scalars(select(ReviewStatusRow.id).where(ReviewStatusRow.short_name == "todo")).one()
        for i in range(start, start + count):
            scene = SCENES[i % len(SCENES)]
            if scene not in drawn:
                sc = make_scene(scene, width, height, seed=0)
                lines_key = ctx.blobs.put(png_bytes(sc.lines))
                regions_key = ctx.blobs.put(png_bytes(encode_region_map(sc.regions, ctx.vocabulary)))
                drawn[scene] = (lines_key, regions_key)
            lines_key, regions_key = drawn[scene]
            name = f"{prefix}{i:03d}"
            bg = BackgroundRow(name=name, width=width, height=height, status_id=todo, direction_text="")
            s.add(bg)
            s.flush()
            s.add(
                CutRow(
                    number=name,
                    width=width,
                    height=height,
                    background_id=bg.id,
                    due_date=base_due + timedelta(days=(count - i) % 7),
                )
            )
            s.add(
                LayoutRow(
                    background_id=bg.id,
                    revision=1,
                    lines_blob=lines_key,
                    regions_blob=regions_key,
                    source_name=f"{scene}.png",
                    labelled=True,
                    artist="Layout Artist",
                )
            )
            names.append(name)
    return names


def _scaled_board(src_image: Path, src_labels: Path, scale: float, out: Path) -> tuple[Path, Path]:
    """The board and its label map scaled (labels by nearest neighbour), written to ``out``."""
    from PIL import Image

    out.mkdir(parents=True, exist_ok=True)
    with Image.open(src_image) as im, Image.open(src_labels) as lab:
        size = (max(16, round(im.width * scale)), max(16, round(im.height * scale)))
        im.convert("RGB").resize(size, Image.Resampling.LANCZOS).save(out / "board.png")
        lab.convert("RGB").resize(size, Image.Resampling.NEAREST).save(out / "labels.png")
    return out / "board.png", out / "labels.png"


def build_production(
    path: str | Path,
    n_bgs: int,
    width: int,
    height: int,
    *,
    db_url: str | None = None,
    boards: int = 2,
    board_scale: float = 1.0,
) -> ServiceContext:
    """A production at ``path`` with the bundled demo boards (scaled by ``board_scale``: small
    boards make fast tests) and ``n_bgs`` scene BGs."""
    import tempfile

    from haikei.app import create_production
    from haikei.demo.boards import board_files
    from haikei.services.artboards import add_artboard

    ctx = create_production(path, "queue testbed", FrameSize(width, height), db_url=db_url)
    with tempfile.TemporaryDirectory(prefix="haikei-testbed-") as tmp:
        for bf in board_files()[:boards]:
            image, labels = bf.image_path, bf.labels_path
            if board_scale != 1.0:
                image, labels = _scaled_board(image, labels, board_scale, Path(tmp) / bf.name)
            add_artboard(
                ctx,
                image,
                labels,
                name=bf.name,
                tags=sorted(bf.tags),
                artist=bf.artist,
                licence=bf.licence,
                consent=bf.consent,
            )
    add_scene_bgs(ctx, n_bgs, width, height)
    return ctx
