"""A retake note's colour words ("darker", "less grey", "乾いた土" ...) applied to the masked area
within the boards' own hand.

Reading: :func:`read_colour_words` finds colour words in a note (English or Japanese, with "a
little" / "much" / 少し / もっと as amount) and gives a :class:`ColourReading`: a list of
``(want, amount)`` that travels in the retake's options (``palette_adjust``) and so in its recipe.

Painting: :func:`adjust_retake` moves the retake's masked pixels, class by class, toward the part
of that class's board paint that answers the request, never through a generic filter:

- an axis want (darker, lighter, warmer, cooler, less grey, greyer, greener, redder, bluer,
  yellower) ranks the board paint of the class along that axis (L*, chroma, or a direction in
  a*b*); a pixel at rank ``r`` moves to rank ``r + amount * (1 - r)`` and takes the colour
  change the board's paint makes between those ranks (the mean Lab colour of the paint at each
  rank, in 16 bins). "Darker" is therefore the darker part of the board's paint of that class,
  with whatever hue the painter gave its shadows; the result never leaves the range of the
  board's paint on that axis, and a pixel already at the extreme stays;
- ``dry_earth`` (乾いた土, dry earth, ochre) moves the pixels' mean ``amount`` of the way to the
  mean of the boards' ochre / dry-earth tones (Lab hue 50..100 degrees, chroma 8..50) of that
  class, else of any class on the boards; where the boards have none, nothing changes and the
  recipe says so.

Pixels outside the mask are never touched (the engine composites the window into the parent).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import numpy as np

from haikei.engines.base import RenderRequest, RenderResult
from haikei.quality.colour import rgb_to_lab

__all__ = [
    "WANTS",
    "ColourReading",
    "adjust_retake",
    "keep_paint_over",
    "lab_to_rgb",
    "read_colour_words",
]

# want -> what it asks for, in words (the recipe and the review page say it this way)
WANTS: dict[str, str] = {
    "darker": "the darker part of the boards' paint",
    "lighter": "the lighter part of the boards' paint",
    "warmer": "the warmer part of the boards' paint",
    "cooler": "the cooler part of the boards' paint",
    "more_saturated": "the more saturated part of the boards' paint",
    "greyer": "the greyer part of the boards' paint",
    "greener": "the greener part of the boards' paint",
    "redder": "the redder part of the boards' paint",
    "bluer": "the bluer part of the boards' paint",
    "yellower": "the yellower part of the boards' paint",
    "dry_earth": "the boards' dry earth / ochre tones",
}

_EN: dict[str, str] = {
    "darker": "darker",
    "dark": "darker",
    "deeper": "darker",
    "darken": "darker",
    "lighter": "lighter",
    "brighter": "lighter",
    "paler": "lighter",
    "lighten": "lighter",
    "brighten": "lighter",
    "warmer": "warmer",
    "warm": "warmer",
    "cooler": "cooler",
    "cool": "cooler",
    "colder": "cooler",
    "less grey": "more_saturated",
    "less gray": "more_saturated",
    "less greyish": "more_saturated",
    "less dull": "more_saturated",
    "more saturated": "more_saturated",
    "more vivid": "more_saturated",
    "more colourful": "more_saturated",
    "more colorful": "more_saturated",
    "vivid": "more_saturated",
    "saturated": "more_saturated",
    "richer": "more_saturated",
    "more grey": "greyer",
    "more gray": "greyer",
    "greyer": "greyer",
    "grayer": "greyer",
    "less saturated": "greyer",
    "less vivid": "greyer",
    "muted": "greyer",
    "duller": "greyer",
    "greener": "greener",
    "redder": "redder",
    "bluer": "bluer",
    "yellower": "yellower",
    "dry earth": "dry_earth",
    "dry soil": "dry_earth",
    "dry ground": "dry_earth",
    "dusty earth": "dry_earth",
    "ochre": "dry_earth",
    "ocher": "dry_earth",
}
_JA: dict[str, str] = {
    "乾いた土": "dry_earth",
    "乾いた地面": "dry_earth",
    "乾いた土色": "dry_earth",
    "土色": "dry_earth",
    "黄土色": "dry_earth",
    "黄土": "dry_earth",
    "暗く": "darker",
    "暗め": "darker",
    "暗い": "darker",
    "濃く": "darker",
    "明るく": "lighter",
    "明るめ": "lighter",
    "明るい": "lighter",
    "淡く": "lighter",
    "暖かく": "warmer",
    "温かく": "warmer",
    "暖かい": "warmer",
    "暖色": "warmer",
    "冷たく": "cooler",
    "寒色": "cooler",
    "涼しく": "cooler",
    "鮮やかに": "more_saturated",
    "鮮やか": "more_saturated",
    "彩度を上げ": "more_saturated",
    "彩度高め": "more_saturated",
    "くすませ": "greyer",
    "くすんだ": "greyer",
    "彩度を下げ": "greyer",
    "彩度低め": "greyer",
    "緑っぽく": "greener",
    "緑寄り": "greener",
    "赤っぽく": "redder",
    "赤み": "redder",
    "青っぽく": "bluer",
    "青み": "bluer",
    "黄色っぽく": "yellower",
    "黄み": "yellower",
}
_EN_LITTLE = ("a little", "a bit", "slightly", "a touch", "somewhat")
_EN_MUCH = ("much", "a lot", "far", "very", "way", "lot")
_JA_LITTLE = ("少し", "ちょっと", "やや", "若干", "心持ち")
_JA_MUCH = ("もっと", "かなり", "ずっと", "とても", "うんと")
_FILLER = frozenset(
    {"a", "an", "the", "it", "this", "that", "more", "less", "bit", "little", "make", "makes", "made"}
    | {"please", "and", "with", "slightly", "somewhat", "much", "lot", "far", "very", "way", "touch"}
    | {"of", "in", "on", "to", "be", "is"}
)

AMOUNT_LITTLE, AMOUNT, AMOUNT_MUCH = 0.35, 0.7, 0.9
_SPLIT = re.compile(r"[、。・,.;:!?()\[\]{}<>「」『』【】/|\n]+")


@dataclass(frozen=True)
class ColourReading:
    """What a note asks of the colours: ``wants`` ((want, amount) in the order written, each
    want once) and ``words`` (the note's words that said so, as written after NFKC)."""

    wants: tuple[tuple[str, float], ...] = ()
    words: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.wants)

    def as_options(self) -> list[list[Any]]:
        """The retake's ``palette_adjust`` option (JSON)."""
        return [[w, a] for w, a in self.wants]

    def covers(self, text: str) -> bool:
        """Whether ``text`` (a stretch of the note) says nothing beyond its colour words."""
        return bool(_find(_norm(text))[0]) and not _leftover(_norm(text))


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower().strip()


def _find(clause: str) -> tuple[list[tuple[int, int, str]], list[tuple[int, int]]]:
    """(start, end, want) of every colour word in ``clause``, longest first, not overlapping; and
    the spans of Japanese words (so the leftover can be told)."""
    hits: list[tuple[int, int, str]] = []
    taken = np.zeros(len(clause) + 1, bool)
    for phrase in sorted(_EN, key=len, reverse=True):
        for m in re.finditer(rf"(?<![a-z]){re.escape(phrase)}(?![a-z])", clause):
            if not taken[m.start() : m.end()].any():
                taken[m.start() : m.end()] = True
                hits.append((m.start(), m.end(), _EN[phrase]))
    for phrase in sorted(_JA, key=len, reverse=True):
        start = clause.find(phrase)
        while start >= 0:
            end = start + len(phrase)
            if not taken[start:end].any():
                taken[start:end] = True
                hits.append((start, end, _JA[phrase]))
            start = clause.find(phrase, end)
    hits.sort()
    return hits, [(s, e) for s, e, _ in hits]


def _leftover(clause: str) -> str:
    hits, _ = _find(clause)
    rest = clause
    for s, e, _w in sorted(hits, reverse=True):
        rest = rest[:s] + " " + rest[e:]
    words = [w for w in re.split(r"\s+", rest) if w and w not in _FILLER]
    left = " ".join(words)
    for piece in sorted(_JA_FILLER_WORDS, key=len, reverse=True):
        left = left.replace(piece, "")
    return left.strip()


_JA_FILLER_WORDS = (
    "してください",
    "してほしい",
    "にしてください",
    "にして",
    "にする",
    "して",
    "する",
    "もっと",
    "かなり",
    "少し",
    "ちょっと",
    "やや",
    "若干",
    "ずっと",
    "とても",
    "うんと",
    "心持ち",
    "に",
    "の",
    "を",
    "で",
    "は",
)


def _amount(clause: str, start: int) -> float:
    """The amount a colour word at ``start`` asks for: the modifier just before it in its clause
    ("a little darker", "much warmer", 少し暗く, もっと鮮やかに), else the default."""
    before = clause[max(0, start - 14) : start]
    if any(before.rstrip().endswith(m) for m in _EN_LITTLE) or any(m in before[-5:] for m in _JA_LITTLE):
        return AMOUNT_LITTLE
    if any(re.search(rf"(?<![a-z]){m}\s*$", before) for m in _EN_MUCH) or any(
        m in before[-5:] for m in _JA_MUCH
    ):
        return AMOUNT_MUCH
    return AMOUNT


def read_colour_words(text: str) -> ColourReading:
    """The colour words of a retake note (see the module doc); an empty reading when none."""
    wants: dict[str, float] = {}
    words: list[str] = []
    for clause in _SPLIT.split(_norm(text)):
        hits, _ = _find(clause)
        for s, e, want in hits:
            if want not in wants:
                wants[want] = _amount(clause, s)
            words.append(clause[s:e])
    return ColourReading(tuple(wants.items()), tuple(dict.fromkeys(words)))


# -- Lab ----------------------------------------------------------------------------------------

_XYZ_TO_RGB = np.linalg.inv(
    np.array(
        [
            [0.4124564, 0.3575761, 0.1804375],
            [0.2126729, 0.7151522, 0.0721750],
            [0.0193339, 0.1191920, 0.9503041],
        ]
    )
)
_WHITE = np.array([0.95047, 1.0, 1.08883])


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """CIE Lab (...x3, as :func:`haikei.quality.colour.rgb_to_lab`) -> ``uint8`` sRGB, clipped."""
    lab = lab.astype(np.float64)
    fy = (lab[..., 0] + 16.0) / 116.0
    f = np.stack([fy + lab[..., 1] / 500.0, fy, fy - lab[..., 2] / 200.0], axis=-1)
    eps, kappa = 216.0 / 24389.0, 24389.0 / 27.0
    xyz = np.where(f**3 > eps, f**3, (116.0 * f - 16.0) / kappa) * _WHITE
    lin = np.clip(xyz @ _XYZ_TO_RGB.T, 0.0, 1.0)
    c = np.where(lin <= 0.0031308, lin * 12.92, 1.055 * lin ** (1 / 2.4) - 0.055)
    return np.clip(c * 255.0 + 0.5, 0, 255).astype(np.uint8)


# -- painting -----------------------------------------------------------------------------------

_AB_DIRECTIONS = {
    "warmer": (0.45, 0.89),  # toward orange
    "cooler": (-0.45, -0.89),
    "greener": (-1.0, 0.0),
    "redder": (1.0, 0.0),
    "bluer": (0.0, -1.0),
    "yellower": (0.0, 1.0),
}
_BINS = 16
_MAX_POOL = 40000
_MIN_POOL = 32


def _axis(lab: np.ndarray, want: str) -> np.ndarray:
    if want in ("darker", "lighter"):
        return lab[..., 0] * (-1.0 if want == "darker" else 1.0)
    if want in ("more_saturated", "greyer"):
        chroma = np.hypot(lab[..., 1], lab[..., 2])
        return chroma if want == "more_saturated" else -chroma
    da, db = _AB_DIRECTIONS[want]
    return lab[..., 1] * da + lab[..., 2] * db


def _move_along(x: np.ndarray, pool: np.ndarray, want: str, amount: float) -> np.ndarray:
    """``x`` (Nx3 Lab) moved toward the ``want`` end of ``pool`` (Mx3 Lab, the board's paint)."""
    key = _axis(pool, want)
    order = np.argsort(key, kind="stable")
    keys, sorted_pool = key[order], pool[order]
    edges = np.linspace(0, len(keys), _BINS + 1).astype(int)
    means = np.stack([sorted_pool[a:b].mean(axis=0) for a, b in itertools.pairwise(edges)])
    centres = (edges[:-1] + edges[1:]) / 2.0 / len(keys)
    rank = np.searchsorted(keys, _axis(x, want)) / len(keys)
    rank = np.clip(rank, 0.0, 1.0)
    to = rank + amount * (1.0 - rank)
    out = x.astype(np.float64).copy()
    for ch in range(3):
        out[:, ch] += np.interp(to, centres, means[:, ch]) - np.interp(rank, centres, means[:, ch])
    return out


def _dry_earth(lab: np.ndarray) -> np.ndarray:
    hue = np.degrees(np.arctan2(lab[..., 2], lab[..., 1]))
    chroma = np.hypot(lab[..., 1], lab[..., 2])
    return (
        (hue >= 50)
        & (hue <= 100)
        & (chroma >= 8)
        & (chroma <= 50)
        & (lab[..., 0] >= 30)
        & (lab[..., 0] <= 85)
    )


def _sample(lab: np.ndarray, seed: int) -> np.ndarray:
    if len(lab) <= _MAX_POOL:
        return lab
    rng = np.random.default_rng(seed)
    return lab[rng.choice(len(lab), _MAX_POOL, replace=False)]


def _board_paint(request: RenderRequest, boards: tuple[int, ...], source: int | None) -> np.ndarray:
    """Lab of the given boards' pixels of class ``source`` (every labelled pixel when None)."""
    parts = []
    for b in boards:
        board = request.boards[b]
        sel = board.labels == source if source is not None else board.labels < 255
        if sel.any():
            parts.append(rgb_to_lab(board.image[sel]))
    return np.concatenate(parts) if parts else np.zeros((0, 3), np.float32)


def adjust_retake(
    request: RenderRequest,
    wants: tuple[tuple[str, float], ...],
    classes: dict[int, tuple[int, tuple[int, ...]]],
    box: tuple[slice, slice],
    painted: np.ndarray,
) -> tuple[np.ndarray, dict[str, Any] | None]:
    """``painted`` (the retake's window, uint8) with its masked pixels moved as ``wants`` asks,
    class by class from the boards' paint; and what was done, for the recipe (None: nothing asked).

    ``classes``: layout class -> (the board class it is painted from, the boards it is painted
    from), as the engine's plan says; ``box``: the window's slices in the frame."""
    if not wants or request.mask is None:
        return painted, None
    mask = request.mask[box]
    regions = request.regions[box]
    out = painted.copy()
    done: dict[str, Any] = {"asked": [[w, a] for w, a in wants], "classes": {}}
    all_boards = tuple(range(len(request.boards)))
    for c in (int(v) for v in np.unique(regions[mask])):
        sel = mask & (regions == c)
        source, boards = classes.get(c, (c, all_boards))
        pool = _sample(_board_paint(request, boards or all_boards, source), request.seed + c)
        own = "board"
        if len(pool) < _MIN_POOL:  # a class no board shows: the retake's own paint (from the boards)
            pool, own = rgb_to_lab(painted[regions == c]), "retake"
        x = rgb_to_lab(out[sel]).astype(np.float64)
        before = x.copy()
        name = request.vocabulary.name_of(c)
        said: list[str] = []
        for want, amount in wants:
            amount = float(min(max(amount, 0.0), 1.0))
            if want == "dry_earth":
                earth = pool[_dry_earth(pool)]
                where = "this class"
                if len(earth) < _MIN_POOL:
                    every = _sample(_board_paint(request, all_boards, None), request.seed)
                    earth, where = every[_dry_earth(every)], "the boards"
                if len(earth) < _MIN_POOL:
                    said.append("dry earth: the boards have no dry earth / ochre tones; unchanged")
                    continue
                x = x + amount * (earth.mean(axis=0) - x.mean(axis=0))
                said.append(f"dry earth: toward the ochre tones of {where}")
            elif want in WANTS:
                x = _move_along(x, pool, want, amount)
                said.append(f"{want.replace('_', ' ')}: toward {WANTS[want]} ({own})")
        out[sel] = lab_to_rgb(x)
        delta = x.mean(axis=0) - before.mean(axis=0)
        done["classes"][name] = {
            "pixels": int(sel.sum()),
            "paint": own,
            "did": said,
            "mean_shift_lab": [round(float(v), 2) for v in delta],
        }
    return out, done


# -- a variant of a painted-over version ----------------------------------------------------------

PAINT_OVER_SIGMA = 6.0  # the neighbourhood the board change is fitted in, in pixels


def _linear(rgb: np.ndarray) -> np.ndarray:
    c = rgb.astype(np.float64) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _srgb(lin: np.ndarray) -> np.ndarray:
    lin = np.clip(lin, 0.0, 1.0)
    c = np.where(lin <= 0.0031308, lin * 12.92, 1.055 * lin ** (1 / 2.4) - 0.055)
    return np.clip(c * 255.0 + 0.5, 0, 255).astype(np.uint8)


def keep_paint_over(request: RenderRequest, result: RenderResult) -> RenderResult:
    """A variant of a painted-over version (``request.init``, with ``request.mask`` True on the
    artist's paint): the re-vote gave every pixel the change the board's repaint made at its
    source; the paint is instead re-coloured by the change fitted around it, per channel in linear
    light, between the approved image's rendered pixels and their re-voted variant (a Gaussian
    neighbourhood of :data:`PAINT_OVER_SIGMA` px): a warm stroke over a sky that turns to dusk
    darkens and cools as the paint around it does, keeping its shape and its own hue. Pixels that
    are not paint are the re-vote's, untouched. ``result``: the variant's RenderResult."""
    from scipy import ndimage

    paint, init = request.mask, request.init
    if paint is None or init is None or not paint.any():
        return result
    w = (~paint).astype(np.float64)
    before, after = _linear(init), _linear(result.image)
    weight = ndimage.gaussian_filter(w, PAINT_OVER_SIGMA)
    gain = np.empty_like(before)
    for ch in range(3):
        num = ndimage.gaussian_filter(after[..., ch] * w, PAINT_OVER_SIGMA)
        den = ndimage.gaussian_filter(before[..., ch] * w, PAINT_OVER_SIGMA)
        gain[..., ch] = (num + 1e-4 * weight) / (den + 1e-4 * weight + 1e-12)
    gain = np.clip(gain, 0.05, 4.0)
    fitted = weight[paint] > 1e-3  # paint with rendered pixels near enough to fit the change
    image = result.image.copy()
    ys, xs = np.nonzero(paint)
    ys, xs = ys[fitted], xs[fitted]
    image[ys, xs] = _srgb(before[ys, xs] * gain[ys, xs])
    result.image = image
    result.recipe["paint_over"] = {
        "pixels": int(paint.sum()),
        "recoloured": int(fitted.sum()),
        "how": "the artist's paint re-coloured by the board change fitted around it "
        f"(per channel, linear light, Gaussian {PAINT_OVER_SIGMA:g} px); the rest re-voted",
    }
    return result
