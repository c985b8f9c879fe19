"""Which art boards paint which class: tag scoring, fallbacks, and the refusal when none fits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from haikei.domain.direction import Direction
from haikei.domain.vocabulary import UNLABELLED, Vocabulary
from haikei.engines.base import BoardInput
from haikei.errors import RenderRefused

__all__ = ["ClassPlan", "board_scores", "plan_classes"]


@dataclass(frozen=True)
class ClassPlan:
    """How one class of the layout is painted."""

    target: int  # class id in the layout
    source: int  # class id on the boards it is painted from (itself or a fallback)
    boards: tuple[int, ...]  # indices into request.boards

    @property
    def is_fallback(self) -> bool:
        return self.source != self.target


def board_scores(boards: tuple[BoardInput, ...], direction: Direction) -> list[int]:
    """How many of the direction's tags each board carries (season, time of day, weather ...)."""
    wanted = direction.tags()
    return [len(wanted & set(b.tags)) for b in boards]


def plan_classes(
    needed: list[int],
    boards: tuple[BoardInput, ...],
    direction: Direction,
    vocabulary: Vocabulary,
    min_pixels: int,
) -> tuple[dict[int, ClassPlan], list[str]]:
    """Resolve every needed class to (source class, boards) or refuse naming the class.

    A class is painted from itself when any board shows it (at least ``min_pixels`` pixels), else
    from the first class of its fallback chain that some board shows. Among the boards that show
    the chosen source class, those whose tags best match the direction are used (all of them on a
    tie), so an autumn evening cut takes autumn / evening boards where they exist.
    """
    scores = board_scores(boards, direction)
    counts = [np.bincount(b.labels.ravel(), minlength=256) for b in boards]
    plans: dict[int, ClassPlan] = {}
    warnings: list[str] = []
    for cid in needed:
        name = vocabulary.name_of(cid)
        chain = [name, *vocabulary.fallback_chain(name)]
        chosen: ClassPlan | None = None
        for cand in chain:
            sid = vocabulary.id_of(cand)
            showing = [i for i, c in enumerate(counts) if sid != UNLABELLED and c[sid] >= min_pixels]
            if showing:
                top = max(scores[i] for i in showing)
                chosen = ClassPlan(cid, sid, tuple(i for i in showing if scores[i] == top))
                break
        if chosen is None:
            tried = ", ".join(chain)
            raise RenderRefused(
                f"no art board shows class '{name}' or any of its fallbacks ({tried}); "
                f"add a board with '{name}' labelled, or relabel that area of the layout"
            )
        if chosen.is_fallback:
            warnings.append(
                f"class '{name}' is not on the art boards; painted from fallback "
                f"'{vocabulary.name_of(chosen.source)}'"
            )
        plans[cid] = chosen
    return plans, warnings
