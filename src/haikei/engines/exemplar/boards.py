"""Which art boards paint which class: tag scoring, fallbacks, derived palettes, refusals.

Every class of the layout gets one of four plans (``ClassPlan.kind``):

- ``board``: a board shows the class itself, with enough paint for the area to fill;
- ``fallback``: a natural class painted from the first class of its fallback chain that a board
  shows as a real surface (at least ``fallback_min_share`` of a board, enough paint for the area);
  a class with a role (path, sand, ground) only falls back to natural classes with a role;
- ``derived``: a class with a role (road, wall, roof, window, ground, sand ...) that no board shows
  usably is painted in a palette derived from the whole board (see :mod:`.palettes`), provided a
  board shows some lit solid surface (a board of sky alone says nothing about them). Man-made
  classes are never painted from another class's paint: a road from red rock, a wall from a rocket
  are wrong;
- ``cloud``: clouds the boards do not label are painted from the sky's lightest tones.

A natural class no board shows, not even along its fallbacks (a tree on boards of a village
street), is ``derived`` too, from the boards' colours for that kind of surface (their greens for
foliage, their blues for water; :data:`.palettes.KINDS`) and flagged ``unseen``: the render goes on,
its recipe says "tree: no board shows it; painted from a derived palette", and the artist fixes it
in a paint-over. Only what cannot be painted at all is refused (``RenderRefused`` naming the class):
a class on boards that show no lit surface at all (sky alone).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from haikei.domain.direction import Direction
from haikei.domain.vocabulary import UNLABELLED, Vocabulary
from haikei.engines.base import BoardInput
from haikei.engines.exemplar.palettes import ROLES, kind_of, role_of
from haikei.errors import RenderRefused

__all__ = ["ClassPlan", "board_scores", "plan_classes"]

# the main board paints a class it shows unless its paint would be re-used more than this
MAIN_BOARD_MAX_REUSE = 2.0


@dataclass(frozen=True)
class ClassPlan:
    """How one class of the layout is painted."""

    target: int  # class id in the layout
    source: int  # class id on the boards it is painted from (itself, a fallback, or sky for clouds)
    boards: tuple[int, ...]  # indices into request.boards
    kind: str = "board"  # board | fallback | derived | cloud
    role: str = ""  # derived: the role (or kind of surface) whose lightness / hue it takes
    unseen: bool = False  # no board shows the class, not even along its fallbacks
    too_small: bool = False  # the boards' paint of it vanished at the search's coarse levels
    # left to the location boards, whose paint of it vanished at the coarse levels: from the
    # production's boards after all
    released: bool = False

    @property
    def flag(self) -> str | None:
        """What the recipe and ``haikei status`` say about a class painted without its boards' paint
        (None when it is painted as planned from what a board shows)."""
        if self.unseen:
            return "no board shows it; painted from a derived palette"
        if self.too_small:
            return "too little of it on the boards to copy; painted from a derived palette"
        return None

    @property
    def is_fallback(self) -> bool:
        return self.kind != "board"

    @property
    def patch(self) -> bool:
        """Painted by patch synthesis from board pixels (else by a palette painter)."""
        return self.kind in ("board", "fallback")

    def describe(self, vocabulary: Vocabulary) -> str:
        if self.kind == "derived" and (self.unseen or self.too_small):
            return f"palette derived from the boards' colours ({self.role})"
        if self.kind == "derived":
            return f"palette derived from the whole board ({self.role} role)"
        if self.kind == "cloud":
            return "the sky's lightest tones"
        return vocabulary.name_of(self.source)


def board_scores(boards: tuple[BoardInput, ...], direction: Direction) -> list[int]:
    """How many of the direction's tags each board carries (season, time of day, weather ...)."""
    wanted = direction.tags()
    return [len(wanted & set(b.tags)) for b in boards]


def plan_classes(
    needed: list[int],
    target_pixels: np.ndarray,
    boards: tuple[BoardInput, ...],
    scales: list[float],
    direction: Direction,
    vocabulary: Vocabulary,
    min_pixels: int,
    max_reuse: float,
    fallback_min_share: float,
    derive: frozenset[int] = frozenset(),
    released: frozenset[int] = frozenset(),
) -> tuple[dict[int, ClassPlan], list[str]]:
    """Resolve every needed class to a plan or refuse naming the class.

    ``derive``: natural classes whose planned board paint turned out too little to copy at the
    search's coarse levels (:func:`.synthesis.classes_without_paint`): derived from the boards'
    colours for their kind instead.

    A production board does not paint the classes it leaves to location boards
    (``BoardInput.withheld``). ``released``: classes the location boards' paint of turned out too
    little to copy at the coarse levels: planned without the location boards, from the production's
    boards (withheld or not).

    ``target_pixels`` (256 counts) is the full layout's area per class and ``scales`` each board's
    scale at the render size: a board class whose paint would have to be re-used more than
    ``max_reuse`` times over to fill its layout area is too small to paint it (it is an object on
    that board, not a surface). Among usable boards the best direction-tag match wins (all on a tie).
    """
    scores = board_scores(boards, direction)
    raw = [np.bincount(b.labels.ravel(), minlength=256).astype(np.float64) for b in boards]
    counts = [c.copy() for c in raw]
    for b, c in zip(boards, counts, strict=True):
        # as if unlabelled there: a production board leaves these to the location boards, a
        # location board paints only the classes it was given
        held = [k for k in b.withheld if k not in released]
        if b.paints is not None:
            held += [k for k in range(UNLABELLED) if k not in b.paints]
        c[held] = 0.0
    shares = [c / max(1.0, float(c[:UNLABELLED].sum())) for c in counts]
    # a palette can be derived only from a board that shows lit solid surfaces, not sky alone
    airy = [vocabulary.id_of(n) for n in ("sky", "cloud") if n in vocabulary]
    scenic = [
        i for i, sh in enumerate(shares) if 1.0 - float(sh[airy].sum()) >= max(fallback_min_share, 1e-3)
    ]
    top_all = max((scores[i] for i in scenic), default=0)
    best_boards = tuple(i for i in scenic if scores[i] == top_all)
    plans: dict[int, ClassPlan] = {}
    warnings: list[str] = []

    def usable_all(sid: int, cid: int, share: float, among: dict[int, np.ndarray] | None = None) -> list[int]:
        need = float(target_pixels[cid]) / max_reuse
        ok = [
            i
            for i, c in (among or dict(enumerate(counts))).items()
            if c[sid] >= min_pixels
            and shares[i][sid] >= share
            and c[sid] * scales[i] ** 2 >= need
            and not (cid in released and boards[i].location)
        ]
        if not ok:
            return []
        # a location board that can paint the class paints it first (same place, same hand)
        ok = [i for i in ok if boards[i].location] or ok
        top = max(scores[i] for i in ok)
        return [i for i in ok if scores[i] == top]

    # one board paints each class: two boards' paint mixed inside one sky or one cliff reads as
    # patchwork (a cream sky in blotches over a blue one), never as one painting. The cut's main
    # board is the best-tagged board that can paint the most of the layout's area itself; a class
    # it lacks, or shows too little of (a pond for a whole lake), is painted from the board with
    # the most paint of that class
    # (with location boards the main board is chosen among the production's boards, by all they
    # show, as without a location: the classes the location boards paint are settled, the rest is
    # planned as before)
    own = [i for i, b in enumerate(boards) if not b.location] or list(range(len(boards)))
    cover = np.zeros(len(boards))
    for cid in needed:
        for i in usable_all(cid, cid, 0.0, {i: raw[i] for i in own}):
            cover[i] += float(target_pixels[cid])
    main = max(own, key=lambda i: (scores[i], cover[i], -i)) if boards else -1

    def usable(sid: int, cid: int, share: float) -> tuple[int, ...]:
        ok = usable_all(sid, cid, share)
        if not ok:
            return ()
        if boards[ok[0]].location:  # location boards: the one with the most paint of it
            return (max(ok, key=lambda i: (counts[i][sid] * scales[i] ** 2, -i)),)
        paint = {i: counts[i][sid] * scales[i] ** 2 for i in ok}
        if main in ok and paint[main] * MAIN_BOARD_MAX_REUSE >= float(target_pixels[cid]):
            return (main,)
        return (max(ok, key=lambda i: (paint[i], -i)),)

    for cid in needed:
        name = vocabulary.name_of(cid)
        cls = vocabulary.classes[cid]
        role = role_of(name, vocabulary)
        chosen: ClassPlan | None = None
        showing = usable(cid, cid, 0.0)
        if cid in derive and best_boards:
            chosen = ClassPlan(
                cid, cid, best_boards, "derived", kind_of(name, vocabulary).name, too_small=True
            )
        elif showing:
            chosen = ClassPlan(cid, cid, showing)
        elif name == "cloud" and "sky" in vocabulary and usable(vocabulary.id_of("sky"), cid, 0.0):
            sky = vocabulary.id_of("sky")
            chosen = ClassPlan(cid, sky, usable(sky, cid, 0.0), "cloud")
        elif not cls.man_made:
            for cand in vocabulary.fallback_chain(name):
                if role is not None and (cand not in ROLES or vocabulary.get(cand).man_made):
                    continue  # a surface with a role (path, sand ...) is not painted from grass or rock
                sid = vocabulary.id_of(cand)
                ok = usable(sid, cid, fallback_min_share)
                if ok:
                    chosen = ClassPlan(cid, sid, ok, "fallback")
                    break
        if chosen is None and role is not None and best_boards:
            chosen = ClassPlan(cid, cid, best_boards, "derived", role.name)
        if chosen is None:
            # last resort for a natural class without a role: its own or a fallback's paint, however little
            for cand in [name, *vocabulary.fallback_chain(name)]:
                sid = vocabulary.id_of(cand)
                ok = tuple(i for i, c in enumerate(counts) if c[sid] >= min_pixels)
                if ok and not cls.man_made:
                    top = max(scores[i] for i in ok)
                    kind = "board" if sid == cid else "fallback"
                    chosen = ClassPlan(cid, sid, tuple(i for i in ok if scores[i] == top), kind)
                    break
        if chosen is None and best_boards:
            # nothing on the boards, not even along the fallbacks: the boards' colours for this kind
            # of surface (a man-made class without a role: a generic face in the boards' colours)
            chosen = ClassPlan(cid, cid, best_boards, "derived", kind_of(name, vocabulary).name)
        if chosen is None:
            tried = ", ".join([name, *vocabulary.fallback_chain(name)])
            raise RenderRefused(
                f"no art board shows class '{name}' or any of its fallbacks ({tried}), and no board shows "
                f"a lit surface to derive its colours from; add a board with '{name}' labelled, or relabel "
                "that area of the layout"
            )
        if chosen.kind == "derived":
            shown = [vocabulary.id_of(n) for n in [name, *vocabulary.fallback_chain(name)] if n in vocabulary]
            if not any(c[sid] >= min_pixels for c in counts for sid in shown):
                chosen = replace(chosen, unseen=True)
        if cid in released and chosen.kind != "derived":
            chosen = replace(chosen, released=True)
            warnings.append(
                f"{name}: too little of it on the location boards to copy; painted from the production's boards"
            )
        if chosen.flag is not None:
            warnings.append(f"{name}: {chosen.flag}")
        elif chosen.kind != "board":
            warnings.append(
                f"class '{name}' is not usable on the art boards; painted from {chosen.describe(vocabulary)}"
            )
        plans[cid] = chosen
    return plans, warnings
