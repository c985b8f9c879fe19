"""Which layout classes the class-wise metrics (region_miou, style_distance) judge, and against what."""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass

import numpy as np

from haikei.domain.vocabulary import UNLABELLED, Vocabulary
from haikei.errors import InputError

__all__ = ["ClassTargets", "class_targets"]


@dataclass(frozen=True)
class ClassTargets:
    """Which layout classes are judged, and by which board class."""

    by: dict[int, int]  # layout class id -> board class id that judges it
    not_on_boards: list[str]  # layout classes no board shows itself (exact scoring: left out)
    unscored: list[str]  # fallback scoring: layout classes with no board class along the chain
    score_fallbacks: bool


def class_targets(
    regions: np.ndarray, vocabulary: Vocabulary, board_classes: Set[int], score_fallbacks: bool = False
) -> ClassTargets:
    """Layout class id -> the board class that judges it, given the class ids the boards show.

    By default only layout classes that some art board shows itself are judged: a class the boards
    lack has no reference for "does this area look like the board's class", so it is listed in
    ``not_on_boards`` and left out (not a failure). With ``score_fallbacks`` such a class is judged
    by the first class along its vocabulary fallback chain that a board shows (the older, harsher
    behaviour: a grey road judged against red rocks labelled 'ground').
    """
    vocab = vocabulary
    avail = [vocab.name_of(c) for c in sorted(board_classes)]
    targets: dict[int, int] = {}
    not_on_boards: list[str] = []
    unscored: list[str] = []
    for c in np.unique(regions).tolist():
        if c == UNLABELLED:
            continue
        if c >= len(vocab):
            raise InputError(f"region map has class id {c}, outside the vocabulary")
        name = vocab.name_of(c)
        if c in board_classes:
            targets[c] = c
            continue
        not_on_boards.append(name)
        if score_fallbacks:
            got = vocab.resolve(name, avail)
            if got is None:
                unscored.append(name)
            else:
                targets[c] = vocab.id_of(got)
    return ClassTargets(targets, not_on_boards, unscored, score_fallbacks)
