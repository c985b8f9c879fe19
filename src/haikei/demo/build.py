"""The demo production: bundled art boards + procedurally drawn layouts, painted and delivered.

Everything here goes through what a studio uses (intake, art boards, the render queue, review,
delivery); the demo only supplies the inputs and the choices a person would make. It composes
the layers like the CLI does (app, services, jobs), so nothing below the CLI imports it.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from haikei.domain.models import FrameSize
from haikei.errors import ProductionError
from haikei.services.context import ServiceContext
from haikei.settings import CONFIG_NAME

__all__ = ["DEMO_DIRECTIONS", "DemoReport", "build_demo"]

# art direction per demo scene, as an art director would write it (Japanese and English)
DEMO_DIRECTIONS: dict[str, str] = {
    "mountain_road": "秋の午後、快晴、山道",
    "rice_fields": "summer morning, clear sky, rice paddies",
    "lake": "夏の朝、晴れ、湖畔",
    "coast": "夏の午後、快晴、海岸",
    "village_street": "秋の午後、晴れ、田舎町",
    "forest_path": "autumn afternoon, sunlight through trees (木漏れ日)",
}

# one place two cuts show (locations, 舞台): c001's mountain road, and c008, the same road drawn
# again (another seed of the scene). c008 is painted after c001 is approved, from its approved BG.
DEMO_LOCATION = "山道"
LOCATION_CUT = "c008"
LOCATION_FIRST = "c001"
LOCATION_SEED = 1
LOCATION_NOTES = "the mountain road again (舞台 山道): painted from c001's approved BG"

DEMO_USERS = (("director", "director", "Haruka Aoki"), ("artist", "artist", "Kenji Mori"))
LAYOUT_ARTIST = "haikei demo layouts (drawn by code)"
DEMO_FRAME = FrameSize(1920, 1080)  # frozen, so safe as a default argument


@dataclass
class DemoReport:
    root: Path
    engine: str
    seconds: dict[str, float] = field(default_factory=dict)
    versions: int = 0
    users: list[tuple[str, str, str]] = field(default_factory=list)  # (name, role, password)
    delivery: Path | None = None
    delivered: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "root": str(self.root),
            "engine": self.engine,
            "seconds": {k: round(v, 2) for k, v in self.seconds.items()},
            "versions": self.versions,
            "users": [{"name": n, "role": r, "password": p} for n, r, p in self.users],
            "delivery": str(self.delivery) if self.delivery else None,
            "delivered": self.delivered,
            "notes": self.notes,
        }


def best_engine(ctx: ServiceContext) -> str:
    """The built-in painter when it loads here, else the baseline."""
    from haikei.errors import HaikeiError

    try:
        ctx.engine("exemplar")
        return "exemplar"
    except (HaikeiError, ImportError):
        return "baseline"


def _prepare_folder(root: Path, force: bool) -> None:
    if root.exists():
        if (root / CONFIG_NAME).exists() and force:
            shutil.rmtree(root)
        elif any(root.iterdir()):
            what = "a production" if (root / CONFIG_NAME).exists() else "a folder with files"
            raise ProductionError(
                f"{root}: is already {what}; pass --force to rebuild a demo there or choose another path"
            )


def build_demo(
    path: str | Path,
    *,
    frame: FrameSize = DEMO_FRAME,
    engine: str | None = None,
    candidates: int = 2,
    force: bool = False,
    step: Callable[[str], None] | None = None,
    on_progress: Callable[[str, int, float, str], None] | None = None,
) -> DemoReport:
    from haikei.app import create_production
    from haikei.demo.scenes import demo_cuts, write_demo_layouts
    from haikei.services.backgrounds import set_direction
    from haikei.services.intake import import_folder

    say = step or (lambda _m: None)
    root = Path(path).resolve()
    _prepare_folder(root, force)
    t0 = time.perf_counter()
    ctx = create_production(root, "haikei demo: 田舎の背景 (countryside BGs)", frame, episode="ep01")
    try:
        report = DemoReport(root=root, engine="")
        # 1. art boards, with their painters, licences and consent
        say("art boards")
        add_bundled_boards(ctx)
        # 2. layouts drawn by code, imported like a studio's files
        say("layouts")
        layouts = root / "layouts"
        layouts.mkdir()
        write_demo_layouts(layouts, frame.width, frame.height)
        write_location_layout(layouts, frame.width, frame.height)
        import_folder(ctx, layouts, artist=LAYOUT_ARTIST)
        # 3. art direction per BG
        for cut in demo_cuts():
            if cut.cut == cut.bg.split("-")[0]:
                set_direction(ctx, cut.bg, DEMO_DIRECTIONS.get(cut.scene, ""))
        set_direction(ctx, LOCATION_CUT, DEMO_DIRECTIONS["mountain_road"])
        report.seconds["setup"] = time.perf_counter() - t0
        # 4. paint every BG but the location's second cut
        report.engine = engine or best_engine(ctx)
        say(f"painting with {report.engine}")
        t1 = time.perf_counter()
        first = sorted({c.bg for c in demo_cuts()})
        version_ids = _render_through_queue(ctx, first, report.engine, candidates, on_progress)
        report.versions = len(version_ids)
        report.seconds["render"] = time.perf_counter() - t1
        # 5. people: a director and an artist for the review page; the director approves the
        #    first four BGs so the delivery and credits show an approval (the rest wait for you)
        report.users = _demo_users(ctx, report)
        if report.users:
            _approve_some(ctx, report)
        # 6. the location's second cut, painted from c001's approved BG (its location board)
        say(f"painting {LOCATION_CUT} from {LOCATION_FIRST}'s approved BG ({DEMO_LOCATION})")
        t3 = time.perf_counter()
        more = _render_through_queue(ctx, [LOCATION_CUT], report.engine, candidates, on_progress)
        report.versions += len(more)
        report.seconds["render_location"] = time.perf_counter() - t3
        report.seconds["render"] += report.seconds["render_location"]  # all painting, that part included
        report.notes.append(_location_note(ctx))
        # 7. delivery: signed PNG + PSD per BG, credits
        say("delivery")
        t2 = time.perf_counter()
        _deliver(ctx, report)
        report.seconds["delivery"] = time.perf_counter() - t2
        report.seconds["total"] = time.perf_counter() - t0
        return report
    finally:
        ctx.close()


def add_bundled_boards(ctx: ServiceContext) -> None:
    """Register the bundled art boards with their painters, licences and recorded consent."""
    from haikei.demo.boards import board_files
    from haikei.services.artboards import add_artboard

    for bf in board_files():
        add_artboard(
            ctx,
            bf.image_path,
            bf.labels_path,
            name=bf.name,
            tags=sorted(bf.tags),
            artist=bf.artist,
            licence=f"{bf.licence}, {bf.title} from Debian plasma-workspace-wallpapers",
            consent=bf.consent,
            allows_derived_use=bf.allows_derived_use,
        )


def write_location_layout(folder: Path, width: int, height: int) -> None:
    """c008: the mountain road drawn again (another seed), imported with the demo's layouts; the
    cut sheet gains a ``location`` column putting c001 and c008 at one place (山道)."""
    import csv
    import io

    import numpy as np

    from haikei.demo.scenes import make_scene
    from haikei.domain.vocabulary import Vocabulary
    from haikei.imaging.io import atomic_write_bytes, encode_region_map, save_png

    scene = make_scene("mountain_road", width, height, seed=LOCATION_SEED)
    meta = {"haikei:demo_scene": "mountain_road"}
    save_png(folder / f"{LOCATION_CUT}_lo.png", scene.lines, meta)
    save_png(folder / f"{LOCATION_CUT}_regions.png", encode_region_map(scene.regions, Vocabulary()), meta)
    if scene.book.any():
        save_png(folder / f"{LOCATION_CUT}_book.png", np.where(scene.book, 255, 0).astype(np.uint8), meta)
    sheet = folder / "cutsheet.csv"
    rows = list(csv.reader(io.StringIO(sheet.read_text(encoding="utf-8"))))
    head, body = rows[0], rows[1:]
    body.append([LOCATION_CUT, str(width), str(height), "", "", LOCATION_NOTES])
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow([*head, "location"])
    for r in body:
        w.writerow([*r, DEMO_LOCATION if r[0] in (LOCATION_FIRST, LOCATION_CUT) else ""])
    atomic_write_bytes(sheet, out.getvalue().encode("utf-8"))


def _location_note(ctx: ServiceContext) -> str:
    """What the location's second cut was painted from, read from its recipe."""
    from haikei.services.review import bg_detail

    d = bg_detail(ctx, LOCATION_CUT)
    v = next((x for x in d.versions if x.id == d.bg.current_version_id), None)
    loc = ((v.recipe or {}).get("inputs") or {}).get("location") if v is not None else None
    if not loc or not loc.get("boards"):
        return f"{LOCATION_CUT} was painted from the production's boards only ({LOCATION_FIRST} has no location board)"
    names = ", ".join(str(b.get("name")) for b in loc["boards"])
    return f"{LOCATION_CUT} ({DEMO_LOCATION}) was painted from {LOCATION_FIRST}'s approved BG: location board {names}"


def _render_through_queue(
    ctx: ServiceContext,
    refs: list[str],
    engine: str,
    candidates: int,
    on_progress: Callable[[str, int, float, str], None] | None,
) -> list[int]:
    """Queue one job per (BG, candidate) and run them with two local workers (threads: the
    engines' numba kernels release the GIL). Refuses loudly if any job failed."""
    from haikei.errors import EngineError
    from haikei.jobs.batch import submit_batch, summarise
    from haikei.jobs.local import LocalExecutor

    jobs = submit_batch(ctx, refs, engine=engine, candidates=candidates, seed=0, actor="demo")

    def update(states: list[Any]) -> None:
        if on_progress is None:
            return
        for j in states:
            frac = 1.0 if j.state.is_final else j.progress
            on_progress(str(j.params.get("bg")), int(j.params.get("candidate") or 0), frac, j.message)

    final = LocalExecutor(ctx, workers=2, mode="thread").run_until_empty(
        [j.id for j in jobs], on_update=update
    )
    summary = summarise(final)
    if summary.failed or summary.canceled:
        first = (summary.failed or summary.canceled)[0]
        raise EngineError(
            f"demo render of {first.params.get('bg')} failed: {first.error or first.state.value}"
        )
    return list(summary.version_ids)


def _demo_users(ctx: ServiceContext, report: DemoReport) -> list[tuple[str, str, str]]:
    try:
        from haikei.services.users import add_user
    except ImportError:
        report.notes.append("review app not installed in this build: no users made")
        return []
    out = []
    for name, role, display in DEMO_USERS:
        password = f"{name}-demo"
        add_user(ctx, name, role, password=password, display_name=display)
        out.append((name, role, password))
    return out


APPROVED_IN_DEMO = ("c001", "c002", "c003", "c004")


def _approve_some(ctx: ServiceContext, report: DemoReport) -> None:
    from haikei.services.review import approve, bg_detail
    from haikei.services.users import get_user

    director = get_user(ctx, "director")
    for bg in APPROVED_IN_DEMO:
        detail = bg_detail(ctx, bg)
        if detail.bg.current_version_id is not None:
            approve(
                ctx,
                director,
                bg,
                detail.bg.current_version_id,
                detail.bg.lock_version,
                "demo: approved as painted",
            )
    report.notes.append(f"the director approved {', '.join(APPROVED_IN_DEMO)}; the others wait for review")


def _deliver(ctx: ServiceContext, report: DemoReport) -> None:
    try:
        from haikei.services.delivery import export
    except ImportError:
        report.notes.append("delivery not available in this build")
        return
    from haikei.provenance.keys import init_keys

    init_keys(ctx.root / "keys", org="haikei demo studio")
    out = ctx.root / "delivery"
    result = export(ctx, out)
    report.delivery = out
    report.delivered = [str(p.relative_to(ctx.root)) for p in result.files]
