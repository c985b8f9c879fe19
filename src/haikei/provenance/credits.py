"""Credits for a delivery: the people, by role, and the engines, by cut.

The export service fills :class:`CreditsInput` from the database with one plain row per fact
("this person drew the layout of c012", "this board by this painter was used for c014", ...), and
:func:`build_credits` groups them into roles with real names:

=============  ======================================  ==========================================
role key       who                                     detail
=============  ======================================  ==========================================
art_director   approved the cuts' backgrounds          the cuts they approved
layout         drew the layouts (レイアウト)            the cuts
art_board      painted the art boards (美術ボード)      which boards (and licence), for which cuts
paint_over     painted over renders (背景仕上げ)        share of pixels they changed, per cut
=============  ======================================  ==========================================

and lists the engines used (name, version, IPTC digital source type, cuts). Nobody is credited as
"AI": engines are listed separately from people. :func:`format_credits` writes text, CSV or JSON.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Literal

from haikei.domain.spreadsheet import csv_text
from haikei.domain.text import printable
from haikei.errors import InputError

__all__ = [
    "Approval",
    "BoardUse",
    "Credits",
    "CreditsInput",
    "EngineCredit",
    "EngineUse",
    "LayoutWork",
    "PaintOverWork",
    "PersonCredit",
    "RoleCredit",
    "build_credits",
    "format_credits",
]

# ---------------------------------------------------------------- input rows (one fact each)


@dataclass(frozen=True)
class LayoutWork:
    """``artist`` drew the layout of ``cut``."""

    cut: str
    artist: str


@dataclass(frozen=True)
class BoardUse:
    """Art board ``board`` painted by ``artist`` (used under ``licence``) was used for ``cut``."""

    board: str
    artist: str
    cut: str
    licence: str = ""


@dataclass(frozen=True)
class PaintOverWork:
    """``artist`` painted over ``cut``'s background, changing ``changed_pixels`` of ``total_pixels``.

    One row per paint-over revision; several rows for one artist and cut are summed (capped at 100%).
    """

    cut: str
    artist: str
    changed_pixels: int
    total_pixels: int


@dataclass(frozen=True)
class Approval:
    """``director`` approved the delivered background of ``cut``."""

    cut: str
    director: str


@dataclass(frozen=True)
class EngineUse:
    """Engine ``engine`` ``version`` painted (part of) ``cut``; ``digital_source_type`` is its IPTC URI."""

    cut: str
    engine: str
    version: str
    digital_source_type: str


@dataclass(frozen=True)
class CreditsInput:
    production: str
    layouts: Sequence[LayoutWork] = ()
    boards: Sequence[BoardUse] = ()
    paint_overs: Sequence[PaintOverWork] = ()
    approvals: Sequence[Approval] = ()
    engines: Sequence[EngineUse] = ()


# ---------------------------------------------------------------- output


@dataclass(frozen=True)
class PersonCredit:
    name: str
    cuts: tuple[str, ...]
    detail: str = ""  # human-readable: the boards, or the paint-over share
    share: float | None = None  # paint-over: changed / total pixels over the cuts they painted over
    per_cut: tuple[tuple[str, float], ...] = ()  # paint-over: (cut, share of that cut's pixels)
    boards: tuple[str, ...] = ()  # art board painters: their boards used in this delivery


@dataclass(frozen=True)
class RoleCredit:
    role: Literal["art_director", "layout", "art_board", "paint_over"]
    title: str
    people: tuple[PersonCredit, ...]


@dataclass(frozen=True)
class EngineCredit:
    engine: str
    version: str
    digital_source_type: str
    cuts: tuple[str, ...]


@dataclass(frozen=True)
class Credits:
    production: str
    roles: tuple[RoleCredit, ...]
    engines: tuple[EngineCredit, ...]

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


ROLE_TITLES = {
    "art_director": "美術監督 Art director",
    "layout": "レイアウト Layout",
    "art_board": "美術ボード Art boards",
    "paint_over": "背景仕上げ Background paint-over",
}
IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"


def _cut_key(cut: str) -> tuple[object, ...]:
    """Natural order: c2 < c10 < c10a."""
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", cut.lower()))


def _sorted_cuts(cuts: set[str]) -> tuple[str, ...]:
    return tuple(sorted(cuts, key=_cut_key))


def _clean(value: str, what: str, row: int) -> str:
    v = value.strip()
    if not v:
        raise InputError(f"credits: {what} is empty in row {row + 1}; credits must name real people and cuts")
    return v


def _people_order(p: PersonCredit) -> tuple[object, ...]:
    return (-len(p.cuts), _cut_key(p.cuts[0]) if p.cuts else (), p.name)


def build_credits(data: CreditsInput) -> Credits:
    """Group the fact rows into credits per role (see the module doc). Refuses unnamed people."""
    production = data.production.strip()
    if not production:
        raise InputError("credits: the production name is empty")

    # 1. art directors and layout artists: name -> cuts
    def by_person(rows: Sequence[tuple[str, str]], who: str) -> tuple[PersonCredit, ...]:
        cuts: dict[str, set[str]] = defaultdict(set)
        for i, (cut, person) in enumerate(rows):
            cuts[_clean(person, who, i)].add(_clean(cut, "cut", i))
        people = [PersonCredit(name, _sorted_cuts(c)) for name, c in cuts.items()]
        return tuple(sorted(people, key=_people_order))

    directors = by_person([(a.cut, a.director) for a in data.approvals], "art director")
    layouts = by_person([(w.cut, w.artist) for w in data.layouts], "layout artist")

    # 2. art-board painters: whose boards painted which cuts
    board_cuts: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    board_licence: dict[tuple[str, str], str] = {}
    for i, b in enumerate(data.boards):
        artist, board = _clean(b.artist, "art-board painter", i), _clean(b.board, "art board", i)
        board_cuts[artist][board].add(_clean(b.cut, "cut", i))
        if b.licence.strip():
            board_licence[(artist, board)] = b.licence.strip()
    painters = []
    for artist, boards in board_cuts.items():
        names = tuple(sorted(boards))
        parts = []
        for name in names:
            lic = board_licence.get((artist, name))
            used_in = ", ".join(_sorted_cuts(boards[name]))
            parts.append(f"{name} ({used_in}" + (f"; licence: {lic})" if lic else ")"))
        all_cuts = set().union(*boards.values())
        painters.append(PersonCredit(artist, _sorted_cuts(all_cuts), "; ".join(parts), boards=names))

    # 3. paint-over artists with their share of changed pixels
    changed: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    totals: dict[str, int] = {}
    for i, w in enumerate(data.paint_overs):
        artist, cut = _clean(w.artist, "paint-over artist", i), _clean(w.cut, "cut", i)
        if w.total_pixels <= 0 or not 0 <= w.changed_pixels <= w.total_pixels:
            raise InputError(
                f"credits: paint-over row {i + 1} ({artist}, {cut}) has changed_pixels={w.changed_pixels} "
                f"of total_pixels={w.total_pixels}; need 0 <= changed <= total and total > 0"
            )
        if totals.setdefault(cut, w.total_pixels) != w.total_pixels:
            raise InputError(
                f"credits: cut {cut} is given as {totals[cut]} and as {w.total_pixels} pixels in paint-over rows; "
                "use the delivered image's size for every row of a cut"
            )
        changed[artist][cut] += w.changed_pixels
    overs = []
    for artist, per in changed.items():
        cuts = _sorted_cuts(set(per))
        per_cut = tuple((c, min(1.0, per[c] / totals[c])) for c in cuts)
        share = sum(min(per[c], totals[c]) for c in cuts) / sum(totals[c] for c in cuts)
        detail = ", ".join(f"{c} {s:.1%}" for c, s in per_cut)
        overs.append(PersonCredit(artist, cuts, detail, share=share, per_cut=per_cut))

    roles = [
        RoleCredit("art_director", ROLE_TITLES["art_director"], directors),
        RoleCredit("layout", ROLE_TITLES["layout"], layouts),
        RoleCredit("art_board", ROLE_TITLES["art_board"], tuple(sorted(painters, key=_people_order))),
        RoleCredit("paint_over", ROLE_TITLES["paint_over"], tuple(sorted(overs, key=_people_order))),
    ]

    # 4. engines: name + version + source type -> cuts
    eng: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for i, e in enumerate(data.engines):
        key = (
            _clean(e.engine, "engine", i),
            _clean(e.version, "engine version", i),
            _clean(e.digital_source_type, "engine source type", i),
        )
        eng[key].add(_clean(e.cut, "cut", i))
    engines = tuple(EngineCredit(n, v, t, _sorted_cuts(c)) for (n, v, t), c in sorted(eng.items()))
    return Credits(production, tuple(r for r in roles if r.people), engines)


def format_credits(credits: Credits, fmt: str = "text") -> str:
    """``text`` (for people), ``csv`` (role,name,cuts,detail,share) or ``json``."""
    if fmt == "json":
        return json.dumps(credits.to_dict(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    if fmt == "csv":  # names are typed by people: cells are made formula-safe (haikei.domain.spreadsheet)
        rows: list[list[str]] = []
        for role in credits.roles:
            for p in role.people:
                share = "" if p.share is None else f"{p.share:.4f}"
                rows.append([role.role, p.name, " ".join(p.cuts), p.detail, share])
        for e in credits.engines:
            rows.append(
                [
                    "engine",
                    f"{e.engine} {e.version}",
                    " ".join(e.cuts),
                    e.digital_source_type.removeprefix(IPTC),
                    "",
                ]
            )
        return csv_text(["role", "name", "cuts", "detail", "share"], rows)
    if fmt == "text":
        out = [credits.production, ""]
        for role in credits.roles:
            out.append(role.title)
            for p in role.people:
                extra = f" — {p.detail}" if p.detail else ""
                share = (
                    f" (overall {p.share:.1%} of pixels)" if p.share is not None and len(p.cuts) > 1 else ""
                )
                out.append(f"  {p.name}: {', '.join(p.cuts)}{extra}{share}")
            out.append("")
        if credits.engines:
            out.append("Engines (software, not people)")
            for e in credits.engines:
                out.append(
                    f"  {e.engine} {e.version} [{e.digital_source_type.removeprefix(IPTC)}]: {', '.join(e.cuts)}"
                )
            out.append("")
        return "\n".join(printable(line) for line in out)  # names typed by people: shown, not obeyed
    raise InputError(f"credits format {fmt!r} is not one of text, csv, json")
