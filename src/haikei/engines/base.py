"""The engine contract: request, result, context, and the Engine protocol.

Arrays, not files: services load and validate images (``haikei.imaging``) and hand engines
plain numpy arrays, so an engine never touches the production's storage.

Conventions
- ``lines``: ``uint8`` HxW, 0 = ink, 255 = paper (the layout's line drawing).
- ``regions``: ``uint8`` HxW class ids of the request's ``vocabulary``; ``UNLABELLED`` (255) where
  nobody has labelled an area (engines refuse those unless they say otherwise).
- images: ``uint8`` HxWx3 RGB.
- ``mask``: ``bool`` HxW, True where the engine may change pixels (a retake); outside it the
  result equals ``init`` exactly.
- ``source_map``: ``int32`` HxWx3 (board index, y, x) of the art-board pixel each output pixel
  was painted from; -1 where the pixel has no single source (structured or generated pixels).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, TypeVar, runtime_checkable

import numpy as np
from pydantic import BaseModel, ValidationError
from scipy import ndimage

from haikei.domain.direction import Direction
from haikei.domain.vocabulary import UNLABELLED, Vocabulary
from haikei.errors import ConfigError, RenderCanceled, RenderRefused

__all__ = [
    "BoardInput",
    "Engine",
    "EngineContext",
    "RenderRequest",
    "RenderResult",
    "check_board_coverage",
    "check_common_inputs",
    "composite_retake",
    "parse_config",
    "parse_options",
]

# IPTC digital source types (https://cv.iptc.org/newscodes/digitalsourcetype/)
ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/algorithmicMedia"
TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"


@dataclass(frozen=True)
class BoardInput:
    """One art board as an engine sees it. Only boards with recorded consent ever get here."""

    key: str  # content hash of the board image (stable id for recipes and caches)
    image: np.ndarray  # HxWx3 uint8
    labels: np.ndarray  # HxW uint8 class ids (UNLABELLED where unlabelled)
    tags: frozenset[str] = frozenset()
    artist: str = ""
    name: str = ""
    # aligned variants of the same painting (same composition, other light/season), by tag
    variants: Mapping[str, np.ndarray] = field(default_factory=dict)
    # the location this board is an approved BG of ("" for a production board): an engine paints
    # the classes it shows from it first and in its tones (specs/locations.md)
    location: str = ""
    # a production board handed over beside location boards: the class ids it leaves to them. It
    # paints one of them only where the location boards' paint of it is too little to copy (a
    # thin far forest on the approved BG), so that class is still painted from real paint
    withheld: frozenset[int] = frozenset()
    # a location board: the class ids it paints (those it shows enough of for the cut; the rest of
    # the cut is painted from the production's boards as without a location); None: all it shows
    paints: frozenset[int] | None = None


@dataclass(frozen=True)
class RenderRequest:
    lines: np.ndarray
    regions: np.ndarray
    boards: tuple[BoardInput, ...]
    direction: Direction = field(default_factory=Direction)
    vocabulary: Vocabulary = field(default_factory=Vocabulary)
    seed: int = 0
    mask: np.ndarray | None = None
    init: np.ndarray | None = None
    # correspondences of the parent render (for variant re-vote); see module doc
    init_source_map: np.ndarray | None = None
    # render the parent's structure in this board variant (e.g. "evening", "winter")
    variant: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def height(self) -> int:
        return int(self.lines.shape[0])

    @property
    def width(self) -> int:
        return int(self.lines.shape[1])


@dataclass
class RenderResult:
    image: np.ndarray
    source_map: np.ndarray | None = None
    recipe: dict[str, Any] = field(default_factory=dict)  # engine-specific resolved parameters
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


class EngineContext:
    """The narrow door between an engine and the rest of haikei: progress, cancel, log."""

    def __init__(
        self,
        progress: Callable[[float, str], None] | None = None,
        cancel: threading.Event | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        self._progress = progress
        self.cancel_event = cancel or threading.Event()
        self.logger = logger or logging.getLogger("haikei.engine")

    def progress(self, fraction: float, message: str = "") -> None:
        if self._progress is not None:
            self._progress(max(0.0, min(1.0, float(fraction))), message)

    @property
    def canceled(self) -> bool:
        return self.cancel_event.is_set()

    def check_cancel(self) -> None:
        """Raise RenderCanceled if cancel was asked for. Engines call this often (< 1 s apart)."""
        if self.cancel_event.is_set():
            raise RenderCanceled("render canceled")


@runtime_checkable
class Engine(Protocol):
    name: ClassVar[str]
    version: ClassVar[str]
    digital_source_type: ClassVar[str]
    options_model: ClassVar[type[BaseModel]]

    def render(self, request: RenderRequest, context: EngineContext) -> RenderResult: ...


MAX_SIDE = 16384


def check_common_inputs(request: RenderRequest, *, allow_unlabelled: bool = False) -> None:
    """Refuse malformed requests with a clear message. Every engine calls this first."""
    lines, regions = request.lines, request.regions
    if lines.ndim != 2 or lines.dtype != np.uint8:
        raise RenderRefused(f"layout lines must be a 2-D uint8 array, got {lines.dtype} {lines.shape}")
    h, w = lines.shape
    if not (16 <= h <= MAX_SIDE and 16 <= w <= MAX_SIDE):
        raise RenderRefused(f"size {w}x{h} is outside 16..{MAX_SIDE} pixels per side")
    if regions.shape != (h, w) or regions.dtype != np.uint8:
        raise RenderRefused(
            f"region map must be uint8 {w}x{h} like the lines, got {regions.dtype} {regions.shape[::-1]}"
        )
    if not request.boards:
        raise RenderRefused("no art board given; add one with consent (haikei artboard add)")
    for i, b in enumerate(request.boards):
        if b.image.ndim != 3 or b.image.shape[2] != 3 or b.image.dtype != np.uint8:
            raise RenderRefused(f"art board {i} ({b.name or b.key[:12]}) must be uint8 HxWx3")
        if b.labels.shape != b.image.shape[:2]:
            raise RenderRefused(f"art board {i} ({b.name or b.key[:12]}): label map size differs from image")
    n = len(request.vocabulary)
    bad = (regions >= n) & (regions != UNLABELLED)
    if bad.any():
        raise RenderRefused(f"region map has class ids outside the vocabulary ({int(regions[bad][0])})")
    if not allow_unlabelled and (regions == UNLABELLED).any():
        count = int((regions == UNLABELLED).sum())
        ys, xs = np.nonzero(regions == UNLABELLED)
        raise RenderRefused(
            f"{count} pixels are unlabelled (first at x={int(xs[0])}, y={int(ys[0])}); "
            "label them with 'haikei regions label'"
        )
    if request.mask is not None and (request.mask.shape != (h, w) or request.mask.dtype != np.bool_):
        raise RenderRefused(f"mask must be a bool {w}x{h} array")
    if request.mask is not None and request.init is None:
        raise RenderRefused("a retake mask needs the parent image as init")
    if request.init is not None and request.init.shape != (h, w, 3):
        raise RenderRefused(f"init image must be {w}x{h} RGB, got {request.init.shape[1::-1]}")
    if request.variant is not None and request.init_source_map is None and request.init is None:
        raise RenderRefused("a variant needs the approved parent (init and/or its source map)")


M = TypeVar("M", bound=BaseModel)


def check_board_coverage(request: RenderRequest, engine: str) -> None:
    """Refuse a layout with a class that no art board shows, even along its fallbacks (engines
    that cannot derive a missing class; the studio turns it off with require_board_coverage)."""
    voc = request.vocabulary
    shown = {voc.name_of(int(c)) for b in request.boards for c in np.unique(b.labels)} - {"unlabelled"}
    for cid in np.unique(request.regions):
        name = voc.name_of(int(cid))
        if voc.resolve(name, shown) is None:
            raise RenderRefused(
                f"no art board shows {name!r} or its fallbacks ({', '.join(voc.fallback_chain(name)) or 'none'}); "
                f"add a board that does, or set require_board_coverage = false in [engines.{engine}]"
            )


def _first_problem(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "options"
    return f"{where}: {first['msg']}"


def parse_options(
    model: type[M], engine: str, given: Mapping[str, Any], defaults: Mapping[str, Any] | None = None
) -> M:
    """A render's options for ``engine``: ``given`` over the engine's ``defaults`` (its
    ``[engines.NAME]`` table), validated by ``model``. Every engine refuses bad options the same
    way: :class:`RenderRefused` naming the option and what is wrong with it (nothing is rendered)."""
    try:
        return model(**{**dict(defaults or {}), **dict(given)})
    except ValidationError as exc:
        raise RenderRefused(f"{engine} option {_first_problem(exc)}; fix the render's options") from None


def parse_config(model: type[M], engine: str, config: Mapping[str, Any]) -> M:
    """An engine's ``[engines.NAME]`` table checked at start-up against its options ``model``:
    :class:`ConfigError` naming the table and the field (a bad table never reaches a render)."""
    try:
        return model(**dict(config))
    except ValidationError as exc:
        raise ConfigError(f"[engines.{engine}] in haikei.toml: {_first_problem(exc)}") from None


def composite_retake(
    parent: np.ndarray,
    painted: np.ndarray,
    mask: np.ndarray,
    feather: float,
    window: tuple[slice, slice] | None = None,
) -> np.ndarray:
    """A retake put into its parent: the frame is ``parent`` byte for byte outside ``mask``; inside it
    ``painted`` fades in over ``feather`` pixels from the mask's edge (0: a hard edge).

    ``painted`` and ``mask`` cover ``window`` of the frame (the whole frame when None); the window
    must reach the frame's edge or leave unmasked pixels round the mask, so the distance to the
    mask's edge is the same as in the frame. Values are rounded half up.
    """
    image = parent.copy()
    sub = image[window] if window is not None else image  # a view: writing it writes the frame
    init = parent[window] if window is not None else parent
    if feather > 0:
        alpha = np.clip(ndimage.distance_transform_edt(mask) / feather, 0.0, 1.0)[..., None]
    else:
        alpha = mask[..., None].astype(np.float64)
    blend = np.clip(alpha * painted + (1 - alpha) * init + 0.5, 0, 255).astype(np.uint8)
    sub[mask] = blend[mask]
    return image
