"""The benchmark runner: render each case with each engine (always with the baseline), time it, score it.

Cases are plain data (:class:`BenchCase`), so tests pass their own tiny ones; :func:`demo_cases`
builds the bundled ones from ``haikei.demo``. Rendering is timed alone (median of ``repeat``
runs, peak resident memory of the render measured around it); the metrics are computed on the
first run's image. An engine that refuses a case is recorded with its message; the run goes on.

With ``variants=True`` the engine under test also renders a *variant* of each case (re-voting its
own render's correspondences, ``RenderResult.source_map``, over an aligned variant of each art
board), timed the same way. The bundled boards have no painted variants, so the bench gives each
board a colour-graded stand-in (:func:`graded_stand_in`): good for timing, never a painted variant.

With ``retakes=True`` the engine under test also re-paints centred rectangles of each case's first
render (the frame's shape, :data:`RETAKE_SHARES` of its area: 1:4:16), timed the same way, and
checks that every pixel outside the mask is the parent's. A least-squares line through (masked
megapixels, median seconds) says what a retake costs: a fixed part plus seconds per masked
megapixel (:func:`retake_fit`), the issue's "proportional to the mask's area".

With ``peers`` the bench also scores *outside paintings* of its cases (:class:`Peer`: a folder of
``CASE.png``, e.g. EbSynth's, beside ``CASE_region_ids.png``, the region map the outside tool was
given) in the same table and contact sheet, exactly as the engines' paintings are scored. A peer is
not run and not timed. A case the folder has no painting for is ``missing``; a painting of another
size, or made from a region map that is no longer the case's (the scene was redrawn since), is
``wrong size`` / ``stale`` and not scored: its figures would judge a painting of another layout.

With ``calibrate=True`` each art board is also scored as a painting of its own label map (a blank
layout; :func:`calibrate`), beside the engine's and the baseline's paintings of that map, all against
that board alone: what the metrics give the artist's own painting, so a figure can be read against it
(the board's own style distance and repetition are 0 by construction; its region_miou is the
classifier's ceiling on that board). For ``ink`` the calibration also draws each board's label
borders as a layout's lines: the board's own ink along them (what the artist's painting gives: its
zero in practice) beside each engine's painting of that lined layout.
"""

from __future__ import annotations

import os
import platform
import re
import resource
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from haikei.domain.direction import Direction
from haikei.domain.models import FrameSize
from haikei.domain.vocabulary import Vocabulary
from haikei.engines.base import BoardInput, Engine, EngineContext, RenderRequest, RenderResult
from haikei.engines.registry import load_engine
from haikei.errors import HaikeiError, InputError
from haikei.imaging.io import load_gray, load_rgb
from haikei.quality.metrics import Reference, prepare_reference, score_painting

__all__ = [
    "BASELINE",
    "ONE_BOARD_CASES",
    "RETAKE_SHARES",
    "STAND_IN_VARIANT",
    "BenchCase",
    "BenchReport",
    "Calibration",
    "EngineRun",
    "Peer",
    "RetakeRun",
    "VariantRun",
    "calibrate",
    "demo_cases",
    "graded_stand_in",
    "label_border_lines",
    "parse_peer",
    "parse_sizes",
    "retake_box",
    "retake_fit",
    "run_bench",
    "score_peer",
]

BASELINE = "baseline"
STAND_IN_VARIANT = "evening-grade"  # the variant name the bench's graded stand-ins are registered under
VARIANT_INPUT = "colour-graded stand-in, timing only"
RETAKE_SHARES = (1 / 64, 1 / 16, 1 / 4)  # retake masks: centred rectangles of these shares of the frame


@dataclass(frozen=True)
class BenchCase:
    """One layout to paint with the art boards it should be painted from."""

    name: str
    lines: np.ndarray
    regions: np.ndarray
    boards: tuple[BoardInput, ...]
    direction: Direction = field(default_factory=Direction)

    @property
    def size(self) -> str:
        return f"{self.lines.shape[1]}x{self.lines.shape[0]}"


@dataclass
class VariantRun:
    """A variant re-vote of one case's first render, timed like the render itself."""

    name: str
    seconds: float | None = None  # median render time
    seconds_all: list[float] = field(default_factory=list)
    mpx_per_s: float | None = None
    peak_rss_mb: float | None = None
    deterministic: bool | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "seconds_median": self.seconds,
            "seconds_all": [round(s, 4) for s in self.seconds_all],
            "mpx_per_s": self.mpx_per_s,
            "peak_rss_mb": self.peak_rss_mb,
            "deterministic": self.deterministic,
            "error": self.error,
        }


@dataclass
class RetakeRun:
    """A regional retake of one case's first render: a centred rectangle of ``share`` of the frame."""

    share: float
    box: tuple[int, int, int, int]  # x, y, width, height of the mask
    seconds: float | None = None  # median render time
    seconds_all: list[float] = field(default_factory=list)
    peak_rss_mb: float | None = None
    deterministic: bool | None = None
    outside_identical: bool | None = None  # every pixel outside the mask is the parent's
    error: str | None = None

    @property
    def mpx(self) -> float:
        return self.box[2] * self.box[3] / 1e6

    def as_dict(self) -> dict[str, Any]:
        return {
            "share": self.share,
            "box": list(self.box),
            "masked_mpx": self.mpx,
            "seconds_median": self.seconds,
            "seconds_all": [round(s, 4) for s in self.seconds_all],
            "peak_rss_mb": self.peak_rss_mb,
            "deterministic": self.deterministic,
            "outside_identical": self.outside_identical,
            "error": self.error,
        }


def retake_fit(retakes: Sequence[RetakeRun]) -> dict[str, float] | None:
    """Least-squares ``seconds = fixed + per_mpx * masked_mpx`` over the timed retakes (None with fewer
    than two), with the largest / smallest ratios of time and of area, to read proportionality off."""
    pts = [(r.mpx, r.seconds) for r in retakes if r.seconds is not None and r.mpx > 0]
    if len(pts) < 2:
        return None
    x = np.array([p[0] for p in pts])
    y = np.array([p[1] for p in pts])
    per_mpx, fixed = np.polyfit(x, y, 1)
    lo, hi = int(np.argmin(x)), int(np.argmax(x))
    return {
        "fixed_s": float(fixed),
        "s_per_masked_mpx": float(per_mpx),
        "area_ratio": float(x[hi] / x[lo]),
        "time_ratio": float(y[hi] / y[lo]) if y[lo] > 0 else float("inf"),
    }


@dataclass
class EngineRun:
    case: str
    size: str
    engine: str
    engine_version: str = ""
    seconds: float | None = None  # median render time
    seconds_all: list[float] = field(default_factory=list)
    mpx_per_s: float | None = None
    peak_rss_mb: float | None = None
    deterministic: bool | None = None  # repeats with the same seed gave identical pixels
    metrics: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    image: np.ndarray | None = field(default=None, repr=False)
    variant: VariantRun | None = None  # when asked for and the engine gives a source map
    retakes: list[RetakeRun] = field(default_factory=list)  # when asked for
    # "ok", or why there are no figures: "refused" (the engine refused the case, ``error`` says why);
    # for a peer "missing" (no painting for the case), "wrong size", "stale" (painted from another
    # region map than the case's), "unreadable"
    status: str = "ok"
    peer: str | None = None  # a peer's painting file (peers are scored, not run)

    def as_dict(self) -> dict[str, Any]:
        return {
            "case": self.case,
            "size": self.size,
            "engine": self.engine,
            "engine_version": self.engine_version,
            "status": self.status,
            "peer": self.peer,
            "seconds_median": self.seconds,
            "seconds_all": [round(s, 4) for s in self.seconds_all],
            "mpx_per_s": self.mpx_per_s,
            "peak_rss_mb": self.peak_rss_mb,
            "deterministic": self.deterministic,
            "metrics": self.metrics,
            "warnings": self.warnings,
            "error": self.error,
            "variant": self.variant.as_dict() if self.variant is not None else None,
            "retakes": [r.as_dict() for r in self.retakes],
            "retake_fit": retake_fit(self.retakes),
        }


CALIBRATION_METRICS = ("region_miou", "line_f1", "style_distance", "repetition")


@dataclass
class Calibration:
    """One art board as a painting of its own label map, and each engine's painting of that map."""

    board: str
    size: str
    # "board" (the art board itself) and each engine's name -> its metrics (``repetition_painting``:
    # the raw rate), or {"error": message} where the engine refused
    scores: dict[str, dict[str, Any]]
    # the same with the board's label borders drawn as the layout's lines: "board" and each engine ->
    # {"ink", "ink_dark_share", "line_f1"} or {"error": message}
    lined: dict[str, dict[str, Any]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"board": self.board, "size": self.size, "scores": self.scores, "lined": self.lined}


def label_border_lines(labels: np.ndarray) -> np.ndarray:
    """A layout's line drawing of a label map: a 2 px pencil stroke (0 = ink) on every label border."""
    border = np.zeros(labels.shape, bool)
    border[:, :-1] |= labels[:, :-1] != labels[:, 1:]
    border[:-1] |= labels[:-1] != labels[1:]
    stroke = border.copy()
    stroke[:, 1:] |= border[:, :-1]
    stroke[1:] |= border[:-1]
    return np.where(stroke, 0, 255).astype(np.uint8)


def _lined_scores(img: np.ndarray, lines: np.ndarray, regions: np.ndarray, ref: Reference) -> dict[str, Any]:
    q = score_painting(img, lines, regions, ref)
    return {"ink": q.ink, "ink_dark_share": q.details["ink"].get("dark_share"), "line_f1": q.line_f1}


def _calibration_scores(
    img: np.ndarray, lines: np.ndarray, regions: np.ndarray, ref: Reference
) -> dict[str, Any]:
    q = score_painting(img, lines, regions, ref)
    out: dict[str, Any] = {k: getattr(q, k) for k in CALIBRATION_METRICS}
    out["repetition_painting"] = q.details.get("repetition_painting")
    return out


def calibrate(
    boards: Sequence[BoardInput], engines: Sequence[Engine], vocabulary: Vocabulary, seed: int = 0
) -> list[Calibration]:
    """Score each board as a painting of its own label map (blank layout), and each engine's painting
    of the same map, against that board alone."""
    out = []
    for b in boards:
        ref = prepare_reference([b], vocabulary)
        regions = np.ascontiguousarray(b.labels)
        lines = np.full(regions.shape, 255, np.uint8)
        scores = {"board": _calibration_scores(b.image, lines, regions, ref)}
        drawn = label_border_lines(regions)
        lined = {"board": _lined_scores(b.image, drawn, regions, ref)}
        for eng in engines:
            for layout, into, score in ((lines, scores, _calibration_scores), (drawn, lined, _lined_scores)):
                request = RenderRequest(
                    lines=layout, regions=regions, boards=(b,), vocabulary=vocabulary, seed=seed
                )
                try:
                    img = eng.render(request, EngineContext()).image
                except HaikeiError as exc:
                    into[eng.name] = {"error": f"{type(exc).__name__}: {exc}"}
                    continue
                into[eng.name] = score(img, layout, regions, ref)
        h, w = regions.shape
        out.append(Calibration(b.name or b.key[:12], f"{w}x{h}", scores, lined))
    return out


@dataclass(frozen=True)
class Peer:
    """Outside paintings of the bench cases: ``folder/CASE.png``, optionally beside
    ``folder/CASE_region_ids.png`` (the region map, class ids as grey levels, the painting was made from)."""

    name: str
    folder: Path

    def painting(self, case: str) -> Path:
        return self.folder / f"{case}.png"

    def region_ids(self, case: str) -> Path:
        return self.folder / f"{case}_region_ids.png"


_PEER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")


def parse_peer(text: str, taken: Sequence[str] = ()) -> Peer:
    """'ebsynth=../shared/peers/ebsynth_960x540' -> Peer; refuses a bad name or a missing folder."""
    name, sep, folder = text.partition("=")
    name, folder = name.strip(), folder.strip()
    if not sep or not name or not folder:
        raise InputError(
            f"--peer {text!r}: write NAME=FOLDER, e.g. --peer ebsynth=../shared/peers/ebsynth_960x540"
        )
    if not _PEER_NAME.fullmatch(name):
        raise InputError(
            f"--peer {text!r}: the name {name!r} must be letters, digits, '_', '.' or '-' (40 at most)"
        )
    if name in taken:
        raise InputError(
            f"--peer {text!r}: {name!r} is already an engine or peer of this run; give it another name"
        )
    path = Path(folder).expanduser()
    if not path.is_dir():
        raise InputError(
            f"--peer {name}: {path} is not a folder; give the folder that holds CASE.png paintings"
        )
    return Peer(name, path)


def score_peer(peer: Peer, case: BenchCase, reference: Reference, score_fallbacks: bool = False) -> EngineRun:
    """Score the peer's painting of ``case`` like an engine's; say why when it cannot be scored."""
    run = EngineRun(case=case.name, size=case.size, engine=peer.name, engine_version="peer")
    path = peer.painting(case.name)
    run.peer = str(path)
    if not path.is_file():
        run.status = "missing"
        run.error = f"no painting of {case.name}: {path.name} is not in {peer.folder}"
        return run
    try:
        image = load_rgb(path)
    except HaikeiError as exc:
        run.status, run.error = "unreadable", f"{path}: {exc}"
        return run
    h, w = case.regions.shape
    if image.shape[:2] != (h, w):
        run.status = "wrong size"
        run.error = (
            f"{path} is {image.shape[1]}x{image.shape[0]} but the case is {w}x{h}; "
            "a peer folder holds one size: pass the folder painted at this size"
        )
        run.image = image
        return run
    ids_path = peer.region_ids(case.name)
    if ids_path.is_file():
        try:
            ids = load_gray(ids_path)
        except HaikeiError as exc:
            run.status, run.error = "unreadable", f"{ids_path}: {exc}"
            return run
        differ = float(np.mean(ids != case.regions)) if ids.shape == (h, w) else 1.0
        if differ > 0:
            run.status = "stale"
            run.error = (
                f"{peer.name}'s {case.name} was painted from another region map than the case's "
                f"({differ:.1%} of pixels differ, {ids_path}): the scene changed since; repaint the peer"
            )
            run.image = image
            return run
    else:
        run.warnings.append(
            f"{ids_path} is missing: cannot check that {path.name} was painted from this case's layout"
        )
    run.image = image
    run.metrics = score_painting(
        image, case.lines, case.regions, reference, score_fallbacks=score_fallbacks
    ).as_dict()
    return run


@dataclass
class BenchReport:
    runs: list[EngineRun]
    cases: list[BenchCase]
    engines: list[str]
    repeat: int
    seed: int
    score_fallbacks: bool = False
    variants: bool = False
    retakes: bool = False
    calibration: list[Calibration] | None = None
    peers: list[Peer] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        """The engines' names, then the peers': one column each in the table and the contact sheet."""
        return [*self.engines, *(p.name for p in self.peers)]

    def as_dict(self) -> dict[str, Any]:
        return {
            "machine": {
                "platform": platform.platform(),
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "peak_rss": "VmHWM reset per render" if _hwm_resettable() else "RSS sampled every 5 ms",
            },
            "engines": self.engines,
            "peers": [{"name": p.name, "folder": str(p.folder)} for p in self.peers],
            "repeat": self.repeat,
            "seed": self.seed,
            "statistic": "median",
            "class_scoring": "fallbacks" if self.score_fallbacks else "exact",
            "variant_input": VARIANT_INPUT if self.variants else None,
            "retake_shares": list(RETAKE_SHARES) if self.retakes else None,
            "runs": [r.as_dict() for r in self.runs],
            "calibration": None if self.calibration is None else [c.as_dict() for c in self.calibration],
        }


def parse_sizes(text: str) -> list[tuple[int, int]]:
    """'960x540,1920x1080' -> [(960, 540), (1920, 1080)]."""
    out: list[tuple[int, int]] = []
    for part in text.split(","):
        try:
            fs = FrameSize.parse(part)
        except ValueError as exc:
            raise InputError(f"--sizes: {exc}") from None
        out.append((fs.width, fs.height))
    return out


# case -> (layout, the one bundled board it is painted from): a board that lacks classes the layout
# needs (Altai shows no grass, tree, roof or wall), as a studio's boards often do
ONE_BOARD_CASES: dict[str, tuple[str, str]] = {"village_trees_altai": ("village_trees", "altai")}


def demo_cases(names: Sequence[str] | None, sizes: Sequence[tuple[int, int]]) -> list[BenchCase]:
    """The bundled cases, each at each size: the six demo scenes (``haikei.demo.scenes``), then three
    places that need classes the boards lack (``haikei.demo.more_scenes``: a village with trees, rice
    terraces with a farmhouse, a beach), painted from both demo art boards; then
    :data:`ONE_BOARD_CASES`, a layout painted from one board alone."""
    try:
        from haikei.demo import boards as demo_boards
        from haikei.demo import more_scenes, scenes
    except ImportError as exc:
        raise InputError(f"the bundled bench cases (haikei.demo) are not available here ({exc})") from None
    known = [*scenes.SCENES, *more_scenes.MORE_SCENES, *ONE_BOARD_CASES]
    chosen = list(names) if names else known
    unknown = [n for n in chosen if n not in known]
    if unknown:
        raise InputError(f"unknown case(s) {', '.join(unknown)}; bundled cases: {', '.join(known)}")
    boards = tuple(demo_boards.load_boards())
    cases = []
    for name in chosen:
        layout, board_name = ONE_BOARD_CASES.get(name, (name, ""))
        draw = scenes.make_scene if layout in scenes.SCENES else more_scenes.make_more_scene
        painted_from = tuple(b for b in boards if b.name == board_name) if board_name else boards
        for w, h in sizes:
            scene = draw(layout, w, h)
            cases.append(BenchCase(f"{name}", scene.lines, scene.regions, painted_from))
    return cases


def graded_stand_in(image: np.ndarray) -> np.ndarray:
    """An "evening" colour grade of a board (warmer, darker, shadows lifted a little).

    A stand-in that gives the bench an aligned board variant to time a re-vote with; a grade is not
    a painted variant and is never registered or delivered as one.
    """
    out = image.astype(np.float32) * np.array([0.95, 0.72, 0.58], np.float32) + np.float32(12.0)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _hwm_resettable() -> bool:
    """Whether this process may reset its resident-memory high-water mark (Linux, clear_refs "5")."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return _read_hwm() is not None
    except OSError:
        return False


def _read_hwm() -> int | None:
    """VmHWM of this process in bytes (None where /proc does not say)."""
    try:
        with open("/proc/self/status", "rb") as f:
            for line in f:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


class _PeakRss:
    """Peak resident memory of this process while a block runs (``peak``, bytes).

    Where the kernel allows it, the high-water mark is reset before the block (writing "5" to
    ``/proc/self/clear_refs``) and read after it (``VmHWM``), so nothing runs beside the block.
    Otherwise a thread samples the resident size every ``interval_s`` (taking some GIL time from the
    block and missing peaks shorter than that); off Linux the lifetime peak is the best there is.
    """

    def __init__(self, interval_s: float = 0.005) -> None:
        self.interval_s = interval_s
        self.peak = 0
        self.method = ""  # "hwm" or "sampled", set on entry
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._page = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096

    def _read(self) -> int:
        try:
            with open("/proc/self/statm", "rb") as f:
                return int(f.read().split()[1]) * self._page
        except OSError:  # not Linux: lifetime peak is the best we have
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._read())
            self._stop.wait(self.interval_s)

    def __enter__(self) -> _PeakRss:
        if _hwm_resettable():
            self.method = "hwm"
            return self
        self.method = "sampled"
        self.peak = self._read()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._thread is None:
            self.peak = _read_hwm() or self._read()
            return
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._read())


def _bench_one(
    engine: Engine,
    case: BenchCase,
    reference: Reference,
    vocabulary: Vocabulary,
    repeat: int,
    seed: int,
    score_fallbacks: bool = False,
    variant_boards: tuple[BoardInput, ...] | None = None,
    retakes: bool = False,
) -> EngineRun:
    """Render ``case`` ``repeat`` times and score the first image; with ``variant_boards`` (the
    case's boards carrying the stand-in variant) also time a variant re-vote of that first render,
    with ``retakes`` regional retakes of it (:data:`RETAKE_SHARES`)."""
    run = EngineRun(case=case.name, size=case.size, engine=engine.name, engine_version=engine.version)
    request = RenderRequest(
        lines=case.lines,
        regions=case.regions,
        boards=case.boards,
        direction=case.direction,
        vocabulary=vocabulary,
        seed=seed,
    )
    result = _time_into(run, engine, request, repeat)
    if result is None:
        return run
    first, first_map = result.image, result.source_map
    run.warnings = list(result.warnings)
    run.image = first
    if variant_boards is not None:
        run.variant = _bench_variant(engine, request, variant_boards, first, first_map, repeat)
    if retakes:
        run.retakes = [_bench_retake(engine, request, first, share, repeat) for share in RETAKE_SHARES]
    run.metrics = score_painting(
        first, case.lines, case.regions, reference, score_fallbacks=score_fallbacks
    ).as_dict()
    return run


@dataclass
class _Timed:
    first: RenderResult  # the first render's result
    seconds_all: list[float]
    peak_rss_mb: float
    deterministic: bool | None  # None with a single render


def _time_into(
    out: EngineRun | VariantRun | RetakeRun, engine: Engine, request: RenderRequest, repeat: int
) -> RenderResult | None:
    """Render ``repeat`` times and write the timings into ``out``; the first result, or None with
    ``out.error`` set when the engine refused."""
    try:
        timed = _timed_renders(engine, request, repeat)
    except HaikeiError as exc:
        out.error = f"{type(exc).__name__}: {exc}"
        if isinstance(out, EngineRun):
            out.status = "refused"
        return None
    out.seconds_all, out.peak_rss_mb, out.deterministic = (
        timed.seconds_all,
        timed.peak_rss_mb,
        timed.deterministic,
    )
    out.seconds = statistics.median(out.seconds_all)
    if not isinstance(out, RetakeRun):
        out.mpx_per_s = (request.width * request.height / 1e6) / out.seconds if out.seconds > 0 else None
    return timed.first


def _timed_renders(engine: Engine, request: RenderRequest, repeat: int) -> _Timed:
    """Render ``repeat`` times: each render's wall time, the peak memory, and whether the bytes repeat."""
    first: RenderResult | None = None
    seconds: list[float] = []
    peak = 0.0
    identical = True
    for _ in range(repeat):
        with _PeakRss() as rss:
            t0 = time.perf_counter()
            result = engine.render(request, EngineContext())
            seconds.append(time.perf_counter() - t0)
        peak = max(peak, rss.peak / 2**20)
        if first is None:
            first = result
        else:
            identical &= bool(np.array_equal(first.image, result.image))
    assert first is not None
    return _Timed(first, seconds, peak, identical if repeat > 1 else None)


def _bench_variant(
    engine: Engine,
    request: RenderRequest,
    boards: tuple[BoardInput, ...],
    parent: np.ndarray,
    source_map: np.ndarray | None,
    repeat: int,
) -> VariantRun:
    """Time a variant of the parent render: the same request re-voted over the boards' stand-in."""
    out = VariantRun(STAND_IN_VARIANT)
    if source_map is None:
        out.error = f"{engine.name} gives no source map, so it has no correspondences to re-vote"
        return out
    vreq = replace(request, boards=boards, variant=STAND_IN_VARIANT, init=parent, init_source_map=source_map)
    _time_into(out, engine, vreq, repeat)
    return out


def retake_box(width: int, height: int, share: float) -> tuple[int, int, int, int]:
    """A centred rectangle of the frame's shape covering ``share`` of it: (x, y, width, height)."""
    f = share**0.5
    w, h = max(1, round(width * f)), max(1, round(height * f))
    return (width - w) // 2, (height - h) // 2, w, h


def _bench_retake(
    engine: Engine, request: RenderRequest, parent: np.ndarray, share: float, repeat: int
) -> RetakeRun:
    """Time a regional retake of the parent render (another seed inside a centred rectangle)."""
    x, y, w, h = retake_box(request.width, request.height, share)
    out = RetakeRun(share, (x, y, w, h))
    mask = np.zeros((request.height, request.width), np.bool_)
    mask[y : y + h, x : x + w] = True
    rreq = replace(request, mask=mask, init=parent, seed=request.seed + 1)
    result = _time_into(out, engine, rreq, repeat)
    if result is not None:
        out.outside_identical = bool(np.array_equal(result.image[~mask], parent[~mask]))
    return out


def _with_stand_in(boards: tuple[BoardInput, ...], graded: dict[str, np.ndarray]) -> tuple[BoardInput, ...]:
    """The boards, each also carrying its graded stand-in under :data:`STAND_IN_VARIANT`."""
    out = []
    for b in boards:
        if b.key not in graded:
            graded[b.key] = graded_stand_in(b.image)
        out.append(replace(b, variants={**b.variants, STAND_IN_VARIANT: graded[b.key]}))
    return tuple(out)


def run_bench(
    cases: Sequence[BenchCase],
    engine: str | Engine = BASELINE,
    *,
    repeat: int = 3,
    seed: int = 0,
    vocabulary: Vocabulary | None = None,
    engine_config: dict[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
    score_fallbacks: bool = False,
    variants: bool = False,
    retakes: bool = False,
    calibrate_boards: bool = False,
    peers: Sequence[Peer] = (),
) -> BenchReport:
    """Render and score every case with ``engine`` and with the baseline, in the same run.

    Every engine is scored the same way; ``score_fallbacks`` is passed to :func:`score_painting`.
    ``variants``: also time a variant re-vote of each case with ``engine`` (not the baseline),
    over colour-graded stand-ins of the boards (timing only; see :func:`graded_stand_in`).
    ``retakes``: also time regional retakes of each case's render with ``engine`` (not the baseline),
    one per share of :data:`RETAKE_SHARES`. ``calibrate_boards``: also score every board of the cases as
    a painting of its own label map beside both engines' paintings of it (:func:`calibrate`).
    ``peers``: also score each peer's painting of each case (:func:`score_peer`), after the engines.
    """
    if repeat < 1:
        raise InputError("repeat must be at least 1")
    if not cases:
        raise InputError("no bench cases given")
    vocab = vocabulary or Vocabulary()
    chosen = engine if not isinstance(engine, str) else load_engine(engine, engine_config)
    engines: list[Engine] = [chosen]
    if chosen.name != BASELINE:
        engines.append(load_engine(BASELINE))
    names = [e.name for e in engines]
    for p in peers:
        if p.name in names:
            raise InputError(f"peer {p.name!r} has the name of an engine or another peer; rename it")
        names.append(p.name)
    references: dict[tuple[str, ...], Reference] = {}
    runs: list[EngineRun] = []
    graded: dict[str, np.ndarray] = {}
    for case in cases:
        key = tuple(b.key for b in case.boards)
        if key not in references:
            references[key] = prepare_reference(case.boards, vocab)
        for eng in engines:
            if progress is not None:
                progress(f"{case.name} {case.size}: {eng.name}")
            stand_in = _with_stand_in(case.boards, graded) if variants and eng is chosen else None
            runs.append(
                _bench_one(
                    eng,
                    case,
                    references[key],
                    vocab,
                    repeat,
                    seed,
                    score_fallbacks,
                    stand_in,
                    retakes=retakes and eng is chosen,
                )
            )
        for peer in peers:
            if progress is not None:
                progress(f"{case.name} {case.size}: {peer.name} (peer)")
            runs.append(score_peer(peer, case, references[key], score_fallbacks))
    calibration = None
    if calibrate_boards:
        seen: dict[str, BoardInput] = {}
        for case in cases:
            for b in case.boards:
                seen.setdefault(b.key, b)
        if progress is not None:
            progress("calibration: the boards as paintings of their own label maps")
        calibration = calibrate(list(seen.values()), engines, vocab, seed)
    return BenchReport(
        runs=runs,
        cases=list(cases),
        engines=[e.name for e in engines],
        repeat=repeat,
        seed=seed,
        score_fallbacks=score_fallbacks,
        variants=variants,
        retakes=retakes,
        calibration=calibration,
        peers=list(peers),
    )
