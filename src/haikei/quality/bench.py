"""The benchmark runner: render each case with each engine (always with the baseline), time it, score it.

Cases are plain data (:class:`BenchCase`), so tests pass their own tiny ones; :func:`demo_cases`
builds the bundled ones from ``haikei.demo``. Rendering is timed alone (median of ``repeat``
runs, peak resident memory sampled while it runs); the metrics are computed on the first run's
image. An engine that refuses a case is recorded with its message; the run goes on.
"""

from __future__ import annotations

import os
import platform
import resource
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from haikei.domain.direction import Direction
from haikei.domain.models import FrameSize
from haikei.domain.vocabulary import Vocabulary
from haikei.engines.base import BoardInput, Engine, EngineContext, RenderRequest
from haikei.engines.registry import load_engine
from haikei.errors import HaikeiError, InputError
from haikei.quality.metrics import Reference, prepare_reference, score_painting

__all__ = ["BASELINE", "BenchCase", "BenchReport", "EngineRun", "demo_cases", "parse_sizes", "run_bench"]

BASELINE = "baseline"


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

    def as_dict(self) -> dict[str, Any]:
        return {
            "case": self.case,
            "size": self.size,
            "engine": self.engine,
            "engine_version": self.engine_version,
            "seconds_median": self.seconds,
            "seconds_all": [round(s, 4) for s in self.seconds_all],
            "mpx_per_s": self.mpx_per_s,
            "peak_rss_mb": self.peak_rss_mb,
            "deterministic": self.deterministic,
            "metrics": self.metrics,
            "warnings": self.warnings,
            "error": self.error,
        }


@dataclass
class BenchReport:
    runs: list[EngineRun]
    cases: list[BenchCase]
    engines: list[str]
    repeat: int
    seed: int
    score_fallbacks: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "machine": {
                "platform": platform.platform(),
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
            },
            "engines": self.engines,
            "repeat": self.repeat,
            "seed": self.seed,
            "statistic": "median",
            "class_scoring": "fallbacks" if self.score_fallbacks else "exact",
            "runs": [r.as_dict() for r in self.runs],
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


def demo_cases(names: Sequence[str] | None, sizes: Sequence[tuple[int, int]]) -> list[BenchCase]:
    """The bundled cases: each demo scene at each size, painted from the demo art boards."""
    try:
        from haikei.demo import boards as demo_boards
        from haikei.demo import scenes
    except ImportError as exc:
        raise InputError(f"the bundled bench cases (haikei.demo) are not available here ({exc})") from None
    known = list(scenes.SCENES)
    chosen = list(names) if names else known
    unknown = [n for n in chosen if n not in known]
    if unknown:
        raise InputError(f"unknown case(s) {', '.join(unknown)}; bundled cases: {', '.join(known)}")
    boards = tuple(demo_boards.load_boards())
    cases = []
    for name in chosen:
        for w, h in sizes:
            scene = scenes.make_scene(name, w, h)
            cases.append(BenchCase(f"{name}", scene.lines, scene.regions, boards))
    return cases


class _PeakRss:
    """Samples this process's resident memory in a thread while a render runs (Linux /proc)."""

    def __init__(self, interval_s: float = 0.005) -> None:
        self.interval_s = interval_s
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
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
        self.peak = self._read()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
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
) -> EngineRun:
    run = EngineRun(case=case.name, size=case.size, engine=engine.name, engine_version=engine.version)
    request = RenderRequest(
        lines=case.lines,
        regions=case.regions,
        boards=case.boards,
        direction=case.direction,
        vocabulary=vocabulary,
        seed=seed,
    )
    first: np.ndarray | None = None
    identical = True
    try:
        for _ in range(repeat):
            with _PeakRss() as rss:
                t0 = time.perf_counter()
                result = engine.render(request, EngineContext())
                run.seconds_all.append(time.perf_counter() - t0)
            run.peak_rss_mb = max(run.peak_rss_mb or 0.0, rss.peak / 2**20)
            if first is None:
                first = result.image
                run.warnings = list(result.warnings)
            else:
                identical &= bool(np.array_equal(first, result.image))
    except HaikeiError as exc:
        run.error = f"{type(exc).__name__}: {exc}"
        return run
    assert first is not None
    run.image = first
    run.deterministic = identical if repeat > 1 else None
    run.seconds = statistics.median(run.seconds_all)
    h, w = case.lines.shape
    run.mpx_per_s = (w * h / 1e6) / run.seconds if run.seconds > 0 else None
    run.metrics = score_painting(
        first, case.lines, case.regions, reference, score_fallbacks=score_fallbacks
    ).as_dict()
    return run


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
) -> BenchReport:
    """Render and score every case with ``engine`` and with the baseline, in the same run.

    Every engine is scored the same way; ``score_fallbacks`` is passed to :func:`score_painting`.
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
    references: dict[tuple[str, ...], Reference] = {}
    runs: list[EngineRun] = []
    for case in cases:
        key = tuple(b.key for b in case.boards)
        if key not in references:
            references[key] = prepare_reference(case.boards, vocab)
        for eng in engines:
            if progress is not None:
                progress(f"{case.name} {case.size}: {eng.name}")
            runs.append(_bench_one(eng, case, references[key], vocab, repeat, seed, score_fallbacks))
    return BenchReport(
        runs=runs,
        cases=list(cases),
        engines=[e.name for e in engines],
        repeat=repeat,
        seed=seed,
        score_fallbacks=score_fallbacks,
    )
