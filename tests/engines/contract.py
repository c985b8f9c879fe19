"""The contract every engine passes. Subclass ``EngineContract`` in a test module and define
``make_engine(self)``; override ``make_request`` if the engine needs something special
(keep requests tiny: these run on CPU in seconds).

It checks: same seed -> identical pixels; a different seed may differ; mask respected (pixels
outside identical to init); cancel stops within a second; progress reported and monotone;
bad requests refused with a clear RenderRefused; recipe/metadata complete.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from haikei.domain.direction import Direction
from haikei.domain.vocabulary import UNLABELLED, Vocabulary
from haikei.engines.base import BoardInput, Engine, EngineContext, RenderRequest, RenderResult
from haikei.errors import RenderCanceled, RenderRefused

VOCAB = Vocabulary()


def tiny_board(seed: int = 1, h: int = 48, w: int = 80) -> BoardInput:
    """A small painted-looking board: sky band, mountain band, grass band, with texture."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    labels = np.full((h, w), VOCAB.id_of("grass"), np.uint8)
    horizon = (h * 0.35 + 4 * np.sin(xx / 7.0)).astype(int)
    labels[yy < horizon] = VOCAB.id_of("sky")
    ridge = (h * 0.6 + 3 * np.cos(xx / 5.0)).astype(int)
    labels[(yy >= horizon) & (yy < ridge)] = VOCAB.id_of("mountain")
    base = np.array(VOCAB.colour_table(), np.float64)[labels]
    tex = rng.normal(0, 18, (h, w, 1)) + 10 * np.sin(xx / 3.0 + yy / 4.0)[..., None]
    img = np.clip(base * 0.8 + tex, 0, 255).astype(np.uint8)
    return BoardInput(
        key=f"tiny{seed}",
        image=img,
        labels=labels,
        tags=frozenset({"summer"}),
        artist="Test Artist",
        name="tiny",
    )


def tiny_layout(h: int = 40, w: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Lines (0=ink) and region ids for a sky / mountain / grass layout with a stroke on each border."""
    yy, xx = np.mgrid[0:h, 0:w]
    regions = np.full((h, w), VOCAB.id_of("grass"), np.uint8)
    top = (h * 0.4 + 3 * np.sin(xx / 6.0)).astype(int)
    regions[yy < top] = VOCAB.id_of("sky")
    mid = (h * 0.65).__int__()
    regions[(yy >= top) & (yy < mid)] = VOCAB.id_of("mountain")
    lines = np.full((h, w), 255, np.uint8)
    border = np.zeros((h, w), bool)
    border[:-1] |= regions[:-1] != regions[1:]
    border[:, :-1] |= regions[:, :-1] != regions[:, 1:]
    lines[border] = 0
    return lines, regions


class EngineContract:
    """Mix into a ``class TestMyEngine(EngineContract)`` and define make_engine()."""

    # how long after cancel() a render must stop (seconds)
    cancel_deadline_s = 1.0

    def make_engine(self) -> Engine:  # pragma: no cover - overridden
        raise NotImplementedError

    def make_request(self, **changes: object) -> RenderRequest:
        lines, regions = tiny_layout()
        base = dict(
            lines=lines,
            regions=regions,
            boards=(tiny_board(),),
            direction=Direction(season="summer"),
            vocabulary=VOCAB,
            seed=7,
        )
        base.update(changes)
        return RenderRequest(**base)  # type: ignore[arg-type]

    def big_request(self) -> RenderRequest:
        """A request large enough that rendering takes a while (for the cancel test)."""
        lines, regions = tiny_layout(540, 960)
        return self.make_request(lines=lines, regions=regions, boards=(tiny_board(h=270, w=480),))

    def _render(self, engine: Engine, req: RenderRequest, **ctx: object) -> RenderResult:
        return engine.render(req, EngineContext(**ctx))  # type: ignore[arg-type]

    # -- the contract ---------------------------------------------------------------------
    def test_attributes(self) -> None:
        engine = self.make_engine()
        assert isinstance(engine, Engine)
        assert engine.name and engine.version
        assert engine.digital_source_type.startswith("http://cv.iptc.org/newscodes/digitalsourcetype/")

    def test_result_shape_and_recipe(self) -> None:
        engine = self.make_engine()
        req = self.make_request()
        res = self._render(engine, req)
        assert res.image.dtype == np.uint8
        assert res.image.shape == (req.height, req.width, 3)
        assert isinstance(res.recipe, dict) and res.recipe, "recipe must describe the resolved parameters"
        assert res.timings and all(v >= 0 for v in res.timings.values())
        assert isinstance(res.warnings, list)
        if res.source_map is not None:
            assert res.source_map.shape == (req.height, req.width, 3)

    def test_same_seed_identical(self) -> None:
        engine = self.make_engine()
        a = self._render(engine, self.make_request(seed=11)).image
        b = self._render(self.make_engine(), self.make_request(seed=11)).image
        assert a.tobytes() == b.tobytes()

    def test_image_is_not_flat(self) -> None:
        img = self._render(self.make_engine(), self.make_request()).image
        assert img.reshape(-1, 3).std(axis=0).max() > 2.0

    def test_mask_respected(self) -> None:
        engine = self.make_engine()
        req = self.make_request()
        init = np.random.default_rng(3).integers(0, 256, (req.height, req.width, 3), dtype=np.uint8)
        mask = np.zeros((req.height, req.width), bool)
        mask[8:24, 10:40] = True
        res = self._render(engine, self.make_request(mask=mask, init=init))
        assert np.array_equal(res.image[~mask], init[~mask]), "pixels outside the mask changed"
        assert not np.array_equal(res.image[mask], init[mask]), "nothing was repainted inside the mask"

    def test_progress_reported(self) -> None:
        seen: list[float] = []
        self._render(self.make_engine(), self.make_request(), progress=lambda f, m: seen.append(f))
        assert seen, "no progress reported"
        assert seen == sorted(seen), "progress went backwards"
        assert seen[-1] == pytest.approx(1.0)

    def test_cancel_before_start(self) -> None:
        ev = threading.Event()
        ev.set()
        with pytest.raises(RenderCanceled):
            self._render(self.make_engine(), self.make_request(), cancel=ev)

    def test_cancel_midway_stops_quickly(self) -> None:
        engine = self.make_engine()
        self._render(engine, self.make_request())  # warm up compilers / caches
        ev = threading.Event()
        started = threading.Event()
        canceled_at: list[float] = []

        def progress(f: float, m: str) -> None:
            started.set()

        def cancel_soon() -> None:
            started.wait(30)
            canceled_at.append(time.perf_counter())
            ev.set()

        t = threading.Thread(target=cancel_soon)
        t.start()
        try:
            with pytest.raises(RenderCanceled):
                self._render(engine, self.big_request(), progress=progress, cancel=ev)
            stopped = time.perf_counter()
        finally:
            ev.set()
            started.set()
            t.join()
        assert stopped - canceled_at[0] < self.cancel_deadline_s

    def test_refuses_no_boards(self) -> None:
        with pytest.raises(RenderRefused, match="art board"):
            self._render(self.make_engine(), self.make_request(boards=()))

    def test_refuses_unlabelled(self) -> None:
        _lines, regions = tiny_layout()
        regions = regions.copy()
        regions[:5, :5] = UNLABELLED
        with pytest.raises(RenderRefused, match="unlabelled"):
            self._render(self.make_engine(), self.make_request(regions=regions))

    def test_refuses_size_mismatch(self) -> None:
        _lines, regions = tiny_layout()
        with pytest.raises(RenderRefused):
            self._render(self.make_engine(), self.make_request(regions=regions[:-2]))

    def test_refuses_class_without_fallback(self) -> None:
        # a board that shows only sky; 'building' falls back to wall/roof, none of which it has
        b = tiny_board()
        sky_only = BoardInput(key="skyonly", image=b.image, labels=np.full_like(b.labels, VOCAB.id_of("sky")))
        lines, _ = tiny_layout()
        regions = np.full(lines.shape, VOCAB.id_of("sky"), np.uint8)
        regions[-10:, :] = VOCAB.id_of("building")
        with pytest.raises(RenderRefused, match="building"):
            self._render(self.make_engine(), self.make_request(regions=regions, boards=(sky_only,)))
