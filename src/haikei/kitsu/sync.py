"""haikei <-> Kitsu: pull shots as cuts, push BG versions as previews, bring the review back.

The rules are in specs/kitsu.md. In short:

- **pull**: Kitsu shots -> haikei cuts (name kept, frame size, frame count); shots whose data
  field ``[kitsu] shared_bg_field`` holds the same value share one BG (兼用), and a cut haikei
  already had keeps its BG; the Background task's assignee -> the BG's assignee (by e-mail);
  the Layout task's latest picture preview -> a layout revision (lines only).
- **review**: comments on the Background tasks since the task's cursor -> haikei comments, a
  retake status with text -> a retake on the version it was written on (its drawing on the
  preview -> the mask), an approval by a haikei director -> approve; a status written on an
  older version than haikei's current one -> kept as a comment only.
- **push**: the current version of each BG that Kitsu has not seen -> a preview on the Background
  task of every shot the BG serves, status "waiting", a comment saying how it was made; haikei's
  own approvals / retakes / deliveries -> the mapped Kitsu status.

Every remote step is recorded first as *pending* in haikei's database and marked *done* after;
a pass killed at any point finds its pending rows next time and finishes them by looking at
what exists (on Kitsu: the comment that carries the version's mark; in haikei: the note the
service wrote), so nothing is done twice and nothing is lost. State changes in haikei go
through haikei's services (review, comments, users), as a person's would.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Select, func, select

from haikei.domain.models import Role, User
from haikei.errors import ConflictError, HaikeiError
from haikei.kitsu.annotations import annotation_mask, drawing_objects
from haikei.kitsu.client import Kitsu, KitsuError
from haikei.services.context import ServiceContext
from haikei.store.tables import (
    BackgroundRow,
    CommentRow,
    CutRow,
    KitsuCommentRow,
    KitsuPushRow,
    KitsuShotRow,
    KitsuTaskCursorRow,
    LayoutRow,
    LocationRow,
    NoteRow,
    ReviewStatusRow,
    UserRow,
    VersionRow,
    utcnow,
)

__all__ = [
    "BOT_USER",
    "KitsuProject",
    "PullReport",
    "PushReport",
    "ReviewReport",
    "SyncReport",
    "check",
    "pull",
    "push",
    "review",
    "sync_once",
]

BOT_USER = "kitsu"  # the haikei user that acts for Kitsu people who have no haikei account
MARK = "[haikei #{vid}]"  # ends every comment a push writes: found again after a kill
LAYOUT_ASPECT_TOLERANCE = 0.01


# -- reports --------------------------------------------------------------------------------------


@dataclass
class PullReport:
    shots: int = 0
    added_cuts: list[str] = field(default_factory=list)
    added_backgrounds: list[str] = field(default_factory=list)
    linked_cuts: list[str] = field(default_factory=list)  # haikei cuts that now follow a shot
    new_layouts: list[tuple[str, int]] = field(default_factory=list)
    assigned: list[tuple[str, str]] = field(default_factory=list)
    located: list[tuple[str, str]] = field(default_factory=list)  # (BG, location) from the cast
    created_tasks: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def changed(self) -> bool:
        return bool(
            self.added_cuts
            or self.added_backgrounds
            or self.linked_cuts
            or self.new_layouts
            or self.assigned
            or self.located
        )


@dataclass
class ReviewReport:
    comments: int = 0
    retakes: int = 0
    rejects: int = 0
    approvals: int = 0
    kept: int = 0
    tasks_read: int = 0
    lines: list[str] = field(default_factory=list)


@dataclass
class PushReport:
    published: list[tuple[str, int, str]] = field(default_factory=list)  # (BG, revision, shot)
    statuses: list[tuple[str, str]] = field(default_factory=list)  # (shot, Kitsu status)
    resumed: int = 0


@dataclass
class SyncReport:
    pull: PullReport
    review: ReviewReport
    push: PushReport
    requests: int = 0
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "pull": {
                "shots": self.pull.shots,
                "added_cuts": self.pull.added_cuts,
                "added_backgrounds": self.pull.added_backgrounds,
                "linked_cuts": self.pull.linked_cuts,
                "new_layouts": [{"bg": b, "revision": r} for b, r in self.pull.new_layouts],
                "assigned": [{"bg": b, "user": u} for b, u in self.pull.assigned],
                "located": [{"bg": b, "location": loc} for b, loc in self.pull.located],
                "created_tasks": self.pull.created_tasks,
                "skipped": [{"shot": s, "reason": r} for s, r in self.pull.skipped],
            },
            "review": {
                "comments": self.review.comments,
                "retakes": self.review.retakes,
                "rejects": self.review.rejects,
                "approvals": self.review.approvals,
                "kept": self.review.kept,
                "tasks_read": self.review.tasks_read,
                "lines": self.review.lines,
            },
            "push": {
                "published": [{"bg": b, "revision": r, "shot": s} for b, r, s in self.push.published],
                "statuses": [{"shot": s, "status": st} for s, st in self.push.statuses],
                "resumed": self.push.resumed,
            },
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
        }


# -- the Kitsu side, read once per pass -----------------------------------------------------------


@dataclass
class KitsuProject:
    """The project, its task types and statuses, and its people: a handful of list calls."""

    kitsu: Kitsu
    project: dict[str, Any]
    bg_type: dict[str, Any]
    layout_type: dict[str, Any] | None
    statuses: dict[str, dict[str, Any]]  # short name -> status
    status_by_id: dict[str, dict[str, Any]]
    persons: dict[str, dict[str, Any]]  # id -> person
    created_bg_type: bool = False

    @classmethod
    def load(cls, ctx: ServiceContext, k: Kitsu, *, create: bool = True) -> KitsuProject:
        conf = ctx.settings.kitsu
        if not conf.project:
            raise KitsuError(
                'haikei.toml [kitsu] project is not set: add project = "NAME" (the Kitsu production)'
            )
        project = k.fetch_first("projects", {"name": conf.project})
        if project is None:
            names = ", ".join(sorted(p["name"] for p in k.fetch_all("projects"))) or "none"
            raise KitsuError(
                f"haikei.toml [kitsu] project = {conf.project!r}: Kitsu has no such project "
                f"(it has: {names}); fix the name"
            )
        types = k.fetch_all("task-types")
        bg_type = next((t for t in types if t["name"] == conf.bg_task_type), None)
        created = False
        if bg_type is None:
            if not create:
                raise KitsuError(
                    f"Kitsu has no task type {conf.bg_task_type!r} yet ('haikei kitsu pull' makes it)"
                )
            bg_type = k.post("data/task-types", {"name": conf.bg_task_type, "for_entity": "Shot"})
            created = True
        layout_type = next((t for t in types if t["name"] == conf.layout_task_type), None)
        if create and bg_type["id"] not in (project.get("task_types") or []):
            k.post(f"data/projects/{project['id']}/settings/task-types", {"task_type_id": bg_type["id"]})
        statuses = {s["short_name"]: s for s in k.fetch_all("task-status")}
        for setting in ("status_waiting", "status_retake", "status_approved", "status_delivered"):
            short = getattr(conf, setting)
            if short not in statuses:
                raise KitsuError(
                    f"haikei.toml [kitsu] {setting} = {short!r}: Kitsu has no such status "
                    f"(it has: {', '.join(sorted(statuses))}); use one of those"
                )
        persons = {p["id"]: p for p in k.fetch_all("persons")}
        return cls(
            kitsu=k,
            project=project,
            bg_type=bg_type,
            layout_type=layout_type,
            statuses=statuses,
            status_by_id={s["id"]: s for s in statuses.values()},
            persons=persons,
            created_bg_type=created,
        )

    @property
    def id(self) -> str:
        return str(self.project["id"])

    def tasks(self, task_type: dict[str, Any] | None) -> list[dict[str, Any]]:
        if task_type is None:
            return []
        return self.kitsu.fetch_all(
            "tasks", {"project_id": self.id, "task_type_id": task_type["id"], "relations": "true"}
        )

    def frame(self, shot: dict[str, Any], default: tuple[int, int]) -> tuple[int, int]:
        for text in ((shot.get("data") or {}).get("resolution"), self.project.get("resolution")):
            if isinstance(text, str) and "x" in text:
                try:
                    w, h = (int(v) for v in text.lower().split("x", 1))
                except ValueError:
                    continue
                if 16 <= w <= 16384 and 16 <= h <= 16384:
                    return w, h
        return default


def _person_name(p: dict[str, Any] | None) -> str:
    if not p:
        return "someone"
    return str(
        p.get("full_name") or f"{p.get('first_name', '')} {p.get('last_name', '')}".strip() or "someone"
    )


# -- people ------------------------------------------------------------------------------------------


class People:
    """Kitsu people -> haikei users, by e-mail: ``[kitsu] users`` first, then a user whose login
    name is the e-mail's local part (``aki@studio`` -> ``aki``)."""

    def __init__(self, ctx: ServiceContext, proj: KitsuProject) -> None:
        with ctx.db.session() as s:
            rows = s.scalars(select(UserRow).where(UserRow.active)).all()
            self.users = {
                r.name: User(id=r.id, name=r.name, role=Role(r.role), display_name=r.display_name)
                for r in rows
            }
        self.ctx = ctx
        self.proj = proj
        self.explicit = {k.lower(): v for k, v in ctx.settings.kitsu.users.items()}

    def user_of(self, person_id: str | None) -> User | None:
        p = self.proj.persons.get(person_id or "")
        email = str((p or {}).get("email") or "").lower()
        if not email:
            return None
        name = self.explicit.get(email) or email.split("@", 1)[0]
        return self.users.get(name)

    def bot(self) -> User:
        u = self.users.get(BOT_USER)
        if u is None:
            from haikei.services.users import add_user

            try:
                u = add_user(self.ctx, BOT_USER, "director", display_name="Kitsu sync")
            except ConflictError:  # made meanwhile by another pass
                from haikei.services.users import get_user

                u = get_user(self.ctx, BOT_USER)
            self.users[BOT_USER] = u
        return u


# -- check -----------------------------------------------------------------------------------------


def check(ctx: ServiceContext, k: Kitsu) -> dict[str, Any]:
    """What haikei reaches: the server, who it is there, the project and what it holds."""
    api = k.get_or_none("") or {}
    out: dict[str, Any] = {
        "host": k.host,
        "server": f"{api.get('api', 'Kitsu')} {api.get('version', '')}".strip(),
        "as": f"{_person_name(k.person)} <{k.person.get('email', '')}> ({k.person.get('role', '?')})",
    }
    conf = ctx.settings.kitsu
    if not conf.project:
        out["project"] = None
        out["projects"] = sorted(p["name"] for p in k.fetch_all("projects"))
        return out
    proj = KitsuProject.load(ctx, k, create=False) if _has_type(k, conf.bg_task_type) else None
    if proj is None:
        project = k.fetch_first("projects", {"name": conf.project})
        if project is None:
            raise KitsuError(f"haikei.toml [kitsu] project = {conf.project!r}: Kitsu has no such project")
        out["project"] = project["name"]
        out["bg_task_type"] = f"{conf.bg_task_type} (missing: 'haikei kitsu pull' creates it)"
        out["shots"] = len(k.fetch_all(f"projects/{project['id']}/shots"))
        return out
    out["project"] = proj.project["name"]
    out["resolution"] = proj.project.get("resolution")
    out["episodes"] = [e["name"] for e in k.fetch_all(f"projects/{proj.id}/episodes")]
    out["shots"] = len(k.fetch_all(f"projects/{proj.id}/shots"))
    out["bg_tasks"] = len(proj.tasks(proj.bg_type))
    out["layout_task_type"] = proj.layout_type["name"] if proj.layout_type else None
    return out


def _has_type(k: Kitsu, name: str) -> bool:
    return any(t["name"] == name for t in k.fetch_all("task-types"))


# -- pull ----------------------------------------------------------------------------------------------


def _shots(proj: KitsuProject, episodes: list[str]) -> list[dict[str, Any]]:
    k = proj.kitsu
    shots = k.fetch_all(f"projects/{proj.id}/shots")
    eps = {e["id"]: e["name"] for e in k.fetch_all(f"projects/{proj.id}/episodes")}
    seqs = {s["id"]: s for s in k.fetch_all(f"projects/{proj.id}/sequences")}
    for sh in shots:
        seq = seqs.get(sh.get("parent_id") or sh.get("sequence_id") or "")
        sh["_episode"] = eps.get((seq or {}).get("parent_id") or sh.get("episode_id") or "", "")
    if episodes:
        unknown = sorted(set(episodes) - set(eps.values()))
        if unknown:
            raise KitsuError(
                f"haikei.toml [kitsu] episodes: {', '.join(unknown)} not in Kitsu "
                f"(it has: {', '.join(sorted(eps.values())) or 'none'})"
            )
        shots = [s for s in shots if s["_episode"] in episodes]
    return sorted((s for s in shots if not s.get("canceled")), key=lambda s: (s["_episode"], s["name"]))


def pull(ctx: ServiceContext, proj: KitsuProject, report: PullReport | None = None) -> PullReport:
    """Shots -> cuts and BGs, assignees, layout previews. A second pull changes nothing."""
    report = report or PullReport()
    conf = ctx.settings.kitsu
    k = proj.kitsu
    shots = _shots(proj, conf.episodes)
    report.shots = len(shots)
    bg_tasks = {t["entity_id"]: t for t in proj.tasks(proj.bg_type)}
    missing = [s["id"] for s in shots if s["id"] not in bg_tasks]
    if missing:
        made = k.post(
            f"actions/projects/{proj.id}/task-types/{proj.bg_type['id']}/shots/create-tasks", missing
        )  # type: ignore[arg-type]
        report.created_tasks = len(made or [])
        bg_tasks = {t["entity_id"]: t for t in proj.tasks(proj.bg_type)}
    layout_tasks = {t["entity_id"]: t for t in proj.tasks(proj.layout_type)}
    default = (ctx.settings.production.width, ctx.settings.production.height)
    key_field = conf.shared_bg_field
    groups: dict[str, list[dict[str, Any]]] = {}
    for sh in shots:
        key = str((sh.get("data") or {}).get(key_field) or "").strip() if key_field else ""
        groups.setdefault(key or f"\0{sh['id']}", []).append(sh)
    # 1. cuts, BGs and links: one transaction
    with ctx.db.immediate() as s:
        links = {r.kitsu_id: r for r in s.scalars(select(KitsuShotRow))}
        todo_status = s.scalars(select(ReviewStatusRow).where(ReviewStatusRow.short_name == "todo")).one()
        for members in groups.values():
            bg: BackgroundRow | None = None
            rows: list[tuple[dict[str, Any], CutRow | None]] = []
            for sh in members:
                link = links.get(sh["id"])
                cut = s.get(CutRow, link.cut_id) if link else None
                if cut is None:
                    cut = s.scalars(select(CutRow).where(CutRow.number == sh["name"])).first()
                rows.append((sh, cut))
                if bg is None and cut is not None and cut.background is not None:
                    bg = cut.background  # haikei's own grouping (cut sheet, shared layout) wins
            for sh, cut in rows:
                name = str(sh["name"])
                if len(name) > 20:
                    report.skipped.append((name, "shot name longer than 20 characters (haikei cut numbers)"))
                    continue
                w, h = proj.frame(sh, default)
                if bg is None:
                    names = [str(m["name"]) for m in members]
                    bg_name = names[0] if len(names) == 1 else f"{names[0]}-{names[-1]}"
                    bg = (
                        s.scalars(select(BackgroundRow).where(BackgroundRow.name == bg_name)).unique().first()
                    )
                    if bg is None:
                        bg = BackgroundRow(name=bg_name, width=w, height=h, status_id=todo_status.id)
                        bg.direction_text = str(sh.get("description") or "")[:2000]
                        s.add(bg)
                        s.flush()
                        report.added_backgrounds.append(bg_name)
                if cut is None:
                    cut = CutRow(number=name, episode=sh["_episode"], width=w, height=h, background_id=bg.id)
                    s.add(cut)
                    s.flush()
                    report.added_cuts.append(name)
                elif cut.background_id is None:
                    cut.background_id = bg.id
                link = links.get(sh["id"])
                task = bg_tasks.get(sh["id"])
                lay = layout_tasks.get(sh["id"])
                if link is None:
                    link = KitsuShotRow(kitsu_id=sh["id"], cut_id=cut.id, name=name)
                    s.add(link)
                    links[sh["id"]] = link
                    if name not in report.added_cuts:
                        report.linked_cuts.append(name)
                link.cut_id = cut.id
                link.name = name
                link.nb_frames = int(sh["nb_frames"]) if sh.get("nb_frames") else None
                link.bg_task_id = task["id"] if task else None
                link.layout_task_id = lay["id"] if lay else None
    # 2. assignees (through review.assign, as a director would) and layout previews
    people = People(ctx, proj)
    _assign(ctx, proj, people, shots, bg_tasks, report)
    _layouts(ctx, proj, shots, layout_tasks, report)
    _locations(ctx, proj, shots, report)
    return report


def _bg_of_shot(s: Any, shot_id: str) -> BackgroundRow | None:
    link = s.get(KitsuShotRow, shot_id)
    cut = s.get(CutRow, link.cut_id) if link else None
    return cut.background if cut is not None else None


def _assign(
    ctx: ServiceContext,
    proj: KitsuProject,
    people: People,
    shots: list[dict[str, Any]],
    bg_tasks: dict[str, dict[str, Any]],
    report: PullReport,
) -> None:
    from haikei.services.review import assign

    wanted: dict[str, str] = {}  # BG name -> haikei user
    with ctx.db.session() as s:
        current: dict[str, tuple[int | None, int]] = {}
        for sh in shots:
            task = bg_tasks.get(sh["id"])
            bg = _bg_of_shot(s, sh["id"])
            if task is None or bg is None:
                continue
            current[bg.name] = (bg.assignee_id, bg.lock_version)
            for pid in task.get("assignees") or []:
                u = people.user_of(pid)
                if u is not None and u.role in (Role.artist, Role.director) and bg.name not in wanted:
                    wanted[bg.name] = u.name
    for bg_name, login in wanted.items():
        assignee_id, lock = current[bg_name]
        if assignee_id == people.users[login].id:
            continue
        try:
            assign(ctx, people.bot(), bg_name, login, lock)
            report.assigned.append((bg_name, login))
        except ConflictError:
            report.skipped.append((bg_name, "changed in haikei meanwhile; assigned next pull"))


def _locations(
    ctx: ServiceContext, proj: KitsuProject, shots: list[dict[str, Any]], report: PullReport
) -> None:
    """A shot cast with an asset of type ``[kitsu] location_asset_type`` puts its BG at the
    location of that asset's name, through ``services.locations.set_location`` (as the bot user).
    Like the cut sheet, Kitsu does not move a BG a person placed (or took off its location) in
    haikei: it sets a BG with no location, and moves one only while the BG is where Kitsu put it
    (its latest location note is the bot's). One request: the project's whole casting."""
    from haikei.services.locations import set_location

    type_name = ctx.settings.kitsu.location_asset_type.strip()
    if not type_name or not shots:
        return
    casting = proj.kitsu.get_or_none(f"data/projects/{proj.id}/sequences/all/casting")
    if casting is None:  # a Kitsu without the project-wide casting route
        report.skipped.append(("casting", "this Kitsu does not list a project's casting; locations not read"))
        return
    wanted: dict[str, set[str]] = {}  # BG name -> cast location names
    with ctx.db.session() as s:
        for sh in shots:
            names = {
                str(a.get("asset_name") or a.get("name") or "").strip()
                for a in casting.get(sh["id"]) or []
                if a.get("asset_type_name") == type_name
            } - {""}
            bg = _bg_of_shot(s, sh["id"])
            if bg is not None and names:
                wanted.setdefault(bg.name, set()).update(names)
        current: dict[str, tuple[str | None, NoteRow | None]] = {}
        for bg_name in wanted:
            bg = s.scalars(select(BackgroundRow).where(BackgroundRow.name == bg_name)).unique().one()
            loc = s.get(LocationRow, bg.location_id) if bg.location_id else None
            last = s.scalars(
                select(NoteRow)
                .where(NoteRow.background_id == bg.id, NoteRow.text.like("location %"))
                .order_by(NoteRow.id.desc())
            ).first()
            if last is not None:
                s.expunge(last)
            current[bg_name] = (loc.name if loc else None, last)
    for bg_name, names in sorted(wanted.items()):
        if len(names) > 1:
            report.skipped.append(
                (
                    bg_name,
                    f"its shots are cast with different {type_name} assets ({', '.join(sorted(names))}); "
                    "location not set from Kitsu (set it with 'haikei location set')",
                )
            )
            continue
        (name,) = names
        at, last = current[bg_name]
        if at is not None and at.casefold() == name.casefold():
            continue
        by_kitsu = last is not None and last.author == BOT_USER
        if at is not None and not (by_kitsu and last is not None and _note_says_at(last.text, at)):
            report.skipped.append(
                (
                    bg_name,
                    f"placed at {at} in haikei; Kitsu casts {name}: kept (move it with "
                    f"'haikei location set {bg_name} \"{name}\"')",
                )
            )
            continue
        if at is None and last is not None and not by_kitsu and last.text.endswith(" cleared"):
            report.skipped.append(
                (
                    bg_name,
                    f"taken off its location in haikei by {last.author}; Kitsu's cast {name} not applied",
                )
            )
            continue
        try:
            placed = set_location(ctx, bg_name, name, actor=BOT_USER)
        except HaikeiError as exc:
            report.skipped.append((bg_name, f"Kitsu {type_name} asset {name!r}: {exc}"))
            continue
        if placed is not None:
            report.located.append((bg_name, placed))


def _note_says_at(text: str, location: str) -> bool:
    """Is this location note (services.locations.set_location's words) the one that put it there?"""
    return text == f"location {location}" or text.startswith(f"location {location} (was ")


def _layouts(
    ctx: ServiceContext,
    proj: KitsuProject,
    shots: list[dict[str, Any]],
    layout_tasks: dict[str, dict[str, Any]],
    report: PullReport,
) -> None:
    from haikei.domain.vocabulary import UNLABELLED
    from haikei.imaging.io import encode_region_map, load_gray, png_bytes, resize

    k = proj.kitsu
    for sh in shots:
        task = layout_tasks.get(sh["id"])
        pf_id = (task or {}).get("last_preview_file_id")
        if not pf_id:
            continue
        with ctx.db.session() as s:
            link = s.get(KitsuShotRow, sh["id"])
            if link is None or link.layout_preview_id == pf_id:
                continue
            bg = _bg_of_shot(s, sh["id"])
            if bg is None:
                continue
            bg_id, bg_name, w, h = bg.id, bg.name, bg.width, bg.height
            last = s.scalars(
                select(LayoutRow).where(LayoutRow.background_id == bg_id).order_by(LayoutRow.revision.desc())
            ).first()
            last_hash = last.source_hash if last else ""
            last_regions = last.regions_blob if last else None
            last_labelled = last.labelled if last else False
        pf = k.get(f"data/preview-files/{pf_id}")
        ext = str(pf.get("extension") or "").lower()
        if ext not in ("png", "jpg", "jpeg"):
            report.skipped.append((sh["name"], f"layout preview is .{ext}, not a picture; not imported"))
            _mark_layout(ctx, sh["id"], pf_id)
            continue
        data = k.download(f"pictures/originals/preview-files/{pf_id}.{ext}")
        digest = hashlib.sha256(data).hexdigest()
        if digest == last_hash:  # the same drawing (a shared BG's other shot, or re-published)
            _mark_layout(ctx, sh["id"], pf_id)
            continue
        try:
            lines = load_gray(data, name=f"Kitsu layout preview of {sh['name']}")
        except HaikeiError as exc:
            report.skipped.append((sh["name"], f"layout preview unreadable: {exc}"))
            _mark_layout(ctx, sh["id"], pf_id)
            continue
        lh, lw = lines.shape
        if abs(lw / lh - w / h) > LAYOUT_ASPECT_TOLERANCE * (w / h):
            report.skipped.append(
                (
                    sh["name"],
                    f"layout preview is {lw}x{lh}, the BG is {w}x{h} (another aspect ratio); not imported",
                )
            )
            _mark_layout(ctx, sh["id"], pf_id)
            continue
        cleanup: dict[str, Any] = {"source": "kitsu", "preview_file_id": pf_id}
        if (lw, lh) != (w, h):
            lines = resize(lines, w, h, labels=False)
            cleanup["resampled"] = [{"what": "the line drawing", "from": [lw, lh], "to": [w, h]}]
        lines_key = ctx.blobs.put(png_bytes(lines))
        regions_key = last_regions
        labelled = last_labelled
        if regions_key is None:
            regions_key = ctx.blobs.put(
                png_bytes(encode_region_map(np.full((h, w), UNLABELLED, np.uint8), ctx.vocabulary))
            )
            labelled = False
            cleanup["regions"] = "none given: label closed areas with 'haikei regions label'"
        with ctx.db.immediate() as s:
            link = s.get(KitsuShotRow, sh["id"])
            if link is None or link.layout_preview_id == pf_id:
                continue
            rev = (
                s.scalar(select(func.max(LayoutRow.revision)).where(LayoutRow.background_id == bg_id)) or 0
            ) + 1
            s.add(
                LayoutRow(
                    background_id=bg_id,
                    revision=rev,
                    lines_blob=lines_key,
                    regions_blob=regions_key,
                    source_name=f"Kitsu {sh['name']} Layout preview r{pf.get('revision', '?')}",
                    source_hash=digest,
                    labelled=labelled,
                    artist=_person_name(proj.persons.get(pf.get("person_id") or "")),
                    cleanup=cleanup,
                )
            )
            link.layout_preview_id = pf_id  # same transaction: the revision and the mark together
        report.new_layouts.append((bg_name, rev))


def _mark_layout(ctx: ServiceContext, shot_id: str, pf_id: str) -> None:
    with ctx.db.immediate() as s:
        link = s.get(KitsuShotRow, shot_id)
        if link is not None:
            link.layout_preview_id = pf_id


# -- review comes back -------------------------------------------------------------------------------


@dataclass
class _Decision:
    action: str  # comment | retake | reject | approve | kept | skip
    user: User
    text: str
    version_id: int | None
    mask: np.ndarray | None = None
    objects: list[str] = field(default_factory=list)


def review(
    ctx: ServiceContext,
    proj: KitsuProject,
    report: ReviewReport | None = None,
    *,
    bg_tasks: list[dict[str, Any]] | None = None,
    step: Callable[[str], None] | None = None,
) -> ReviewReport:
    """Comments and statuses written in Kitsu since each task's cursor -> haikei."""
    report = report or ReviewReport()
    tasks = bg_tasks if bg_tasks is not None else proj.tasks(proj.bg_type)
    with ctx.db.session() as s:
        linked = {r.bg_task_id: r.kitsu_id for r in s.scalars(select(KitsuShotRow)) if r.bg_task_id}
        cursors = {c.task_id: c.last_comment_at for c in s.scalars(select(KitsuTaskCursorRow))}
        pending = {
            c.kitsu_id for c in s.scalars(select(KitsuCommentRow).where(KitsuCommentRow.state == "pending"))
        }
        pending_tasks = set(
            s.scalars(select(KitsuCommentRow.task_id).where(KitsuCommentRow.state == "pending"))
        )
    people = People(ctx, proj)
    for task in tasks:
        tid = task["id"]
        if tid not in linked:
            continue
        last = str(task.get("last_comment_date") or "")
        if not last or (last <= cursors.get(tid, "") and tid not in pending_tasks):
            continue  # nothing written since the cursor
        report.tasks_read += 1
        # Kitsu lists them newest first (its order is finer than the whole seconds it shows):
        # reversed, then a stable sort by time, is the order they were written in
        comments = sorted(
            reversed(proj.kitsu.get(f"data/tasks/{tid}/comments")), key=lambda c: c["created_at"]
        )
        since = cursors.get(tid, "")
        with ctx.db.session() as s:
            seen = set(
                s.scalars(
                    select(KitsuCommentRow.kitsu_id).where(
                        KitsuCommentRow.task_id == tid, KitsuCommentRow.state == "done"
                    )
                )
            )
        prev_status: str | None = None
        for c in comments:
            status = proj.status_by_id.get(c.get("task_status_id") or "", {}).get("short_name", "")
            changed = prev_status is not None and status != prev_status
            first = prev_status is None
            prev_status = status
            if c["id"] in seen or (c["created_at"] < since and c["id"] not in pending):
                continue
            if c.get("person_id") == proj.kitsu.person.get("id"):
                continue  # haikei's own comment (a push or a status haikei set)
            _apply_comment(ctx, proj, people, linked[tid], task, c, status, changed or first, report)
            if step is not None:
                step(c["id"])
        with ctx.db.immediate() as s:
            cur = _cursor(s, tid)
            cur.last_comment_at = max(_settled(last), cur.last_comment_at)
            cur.updated_at = utcnow()
    return report


def _cursor(s: Any, task_id: str) -> KitsuTaskCursorRow:
    """The task's cursor row (added, empty, when the task has none yet)."""
    cur = s.get(KitsuTaskCursorRow, task_id)
    if cur is None:
        cur = KitsuTaskCursorRow(task_id=task_id, last_comment_at="", pushed_status="")
        s.add(cur)
    return cur


def _settled(last: str) -> str:
    """The cursor to keep for a task whose last comment is ``last``: Kitsu's times have whole
    seconds, so a comment written in the same second as this read could be missed; while ``last``
    is that fresh, the cursor stays a second before it (the task is read again next pass; the
    comments already applied are known by id)."""
    from datetime import datetime, timedelta

    try:
        t = datetime.fromisoformat(last)
    except ValueError:
        return last
    if (utcnow() - t).total_seconds() < 2.0:
        return (t - timedelta(seconds=1)).isoformat()
    return last


def _version_written_on(s: Any, task_id: str, at: str) -> tuple[int | None, str | None]:
    """The version whose preview was the task's latest when the comment was written."""
    row = s.scalars(
        select(KitsuPushRow)
        .where(KitsuPushRow.task_id == task_id, KitsuPushRow.state == "done", KitsuPushRow.preview_at <= at)
        .order_by(KitsuPushRow.preview_at.desc(), KitsuPushRow.id.desc())
    ).first()
    return (row.version_id, row.preview_file_id) if row else (None, None)


def _decide(
    ctx: ServiceContext,
    proj: KitsuProject,
    people: People,
    shot_id: str,
    task: dict[str, Any],
    c: dict[str, Any],
    status: str,
    status_changed: bool,
) -> tuple[_Decision, str, int]:
    conf = ctx.settings.kitsu
    who = _person_name(proj.persons.get(c.get("person_id") or "") or c.get("person"))
    mapped = people.user_of(c.get("person_id"))
    text = str(c.get("text") or "").strip()
    with ctx.db.session() as s:
        bg = _bg_of_shot(s, shot_id)
        if bg is None:
            raise KitsuError(
                f"Kitsu task {task['id']}: its shot is no longer a haikei cut; run 'haikei kitsu pull'"
            )
        bg_name, lock, current, w, h = bg.name, bg.lock_version, bg.current_version_id, bg.width, bg.height
        vid, pf_id = _version_written_on(s, task["id"], str(c["created_at"]))
        revs = dict(
            s.execute(
                select(VersionRow.id, VersionRow.revision).where(VersionRow.background_id == bg.id)
            ).all()
        )
        used = {
            o
            for r in s.scalars(select(KitsuCommentRow).where(KitsuCommentRow.task_id == task["id"]))
            for o in (r.objects or [])
        }
    bot = people.bot()
    actor = mapped if mapped is not None else bot
    said = text if mapped is not None else f"{who} (Kitsu): {text}"

    def kept(why: str) -> _Decision:
        note = f"{who} set {status!r} in Kitsu {why}" + (f": {text}" if text else "")
        return _Decision("kept", bot, note, vid)

    older: _Decision | None = None  # a status written on an older version: kept as a comment only
    if vid is None or vid != current:
        on = f"on r{revs.get(vid, '?')}" if vid else "before any haikei version"
        older = kept(
            f"{on}, an older version than haikei's r{revs.get(current or 0, '?')}; kept as a comment"
        )

    if status_changed and status == conf.status_retake:
        if older is not None:
            return older, bg_name, lock
        if not text:
            return (
                kept("without saying what to change; kept as a comment (write the retake as text)"),
                bg_name,
                lock,
            )
        if not actor.role.can("retake"):
            return (
                kept(f"but {actor.name} may not ask for retakes in haikei; kept as a comment"),
                bg_name,
                lock,
            )
        objects: list[dict[str, Any]] = []
        pw = ph = 0
        if pf_id:
            pf = proj.kitsu.get(f"data/preview-files/{pf_id}")
            pw, ph = int(pf.get("width") or 0), int(pf.get("height") or 0)
            objects = [
                o for o in drawing_objects(pf.get("annotations")) if str(o.get("id") or "") not in used
            ]
        mask = annotation_mask(objects, w, h, pw, ph) if objects else None
        ids = [str(o.get("id") or "") for o in objects]
        if mask is not None and mask.any() and not mask.all():
            return _Decision("retake", actor, said, vid, mask, ids), bg_name, lock
        return _Decision("reject", actor, said, vid, None, ids), bg_name, lock
    if status_changed and status == conf.status_approved:
        if mapped is None or mapped.role != Role.director:
            return kept("but is not a haikei director; kept as a comment"), bg_name, lock
        if older is not None:
            return older, bg_name, lock
        return _Decision("approve", mapped, text or f"approved in Kitsu by {who}", vid), bg_name, lock
    if text:
        if not actor.role.can("comment"):
            actor, said = bot, f"{who} (Kitsu): {text}"
        return _Decision("comment", actor, said, vid), bg_name, lock
    return _Decision("skip", bot, "", vid), bg_name, lock


def _act(ctx: ServiceContext, d: _Decision, bg_name: str, lock: int, report: ReviewReport) -> None:
    """The decision, through haikei's services (as the mapped person, or the Kitsu bot user)."""
    from haikei.imaging.io import png_bytes
    from haikei.services import review as rv
    from haikei.services.comments import add_comment

    if d.action == "retake":
        assert d.mask is not None and d.version_id is not None
        mask_png = png_bytes(np.where(d.mask, 255, 0).astype(np.uint8))
        rv.request_retake(ctx, d.user, bg_name, d.version_id, lock, mask_png, d.text)
        report.retakes += 1
    elif d.action == "reject":
        rv.reject(ctx, d.user, bg_name, lock, d.text, version_id=d.version_id)
        report.rejects += 1
    elif d.action == "approve":
        assert d.version_id is not None
        rv.approve(ctx, d.user, bg_name, d.version_id, lock, d.text)
        report.approvals += 1
    elif d.action in ("comment", "kept"):
        add_comment(ctx, d.user, bg_name, d.text, version_id=d.version_id)
        if d.action == "kept":
            report.kept += 1
        else:
            report.comments += 1


def _effect_exists(ctx: ServiceContext, row: KitsuCommentRow) -> bool:
    """After a kill: did the service already write what this pending comment asked for?"""
    t: type[CommentRow] | type[NoteRow] = CommentRow if row.action in ("comment", "kept") else NoteRow
    with ctx.db.session() as s:
        q = select(t.id).where(
            t.background_id == row.background_id,
            t.author == row.author,
            t.text == row.text.strip(),
            t.created_at >= row.created_at,
        )
        return s.scalars(q).first() is not None


def _apply_comment(
    ctx: ServiceContext,
    proj: KitsuProject,
    people: People,
    shot_id: str,
    task: dict[str, Any],
    c: dict[str, Any],
    status: str,
    status_changed: bool,
    report: ReviewReport,
) -> None:
    with ctx.db.session() as s:
        row = s.get(KitsuCommentRow, c["id"])
    if row is not None and row.state == "done":
        return
    if row is not None and _effect_exists(ctx, row):  # the service acted before a kill
        with ctx.db.immediate() as s:
            row = s.get(KitsuCommentRow, c["id"])
            assert row is not None
            row.state = "done"
            report.lines.append(f"finished after an interruption: Kitsu comment {c['id'][:8]} ({row.action})")
        return
    d, bg_name, lock = _decide(ctx, proj, people, shot_id, task, c, status, status_changed)
    with ctx.db.immediate() as s:
        bg_id = s.scalars(select(BackgroundRow.id).where(BackgroundRow.name == bg_name)).one()
        row = s.get(KitsuCommentRow, c["id"])
        if row is None:
            row = KitsuCommentRow(kitsu_id=c["id"], task_id=task["id"], background_id=bg_id)
            s.add(row)
        row.state, row.action, row.author, row.text = "pending", d.action, d.user.name, d.text
        row.version_id, row.objects, row.created_at = d.version_id, d.objects, utcnow()
    try:
        _act(ctx, d, bg_name, lock, report)
    except ConflictError:
        report.lines.append(
            f"{bg_name}: changed in haikei meanwhile; Kitsu comment {c['id'][:8]} waits for the next pass"
        )
        return  # stays pending: the next pass decides again on the new state
    except HaikeiError as exc:  # haikei refuses it (engine, mask ...): the words are kept, with why
        d = _Decision(
            "kept",
            people.bot(),
            f"{d.text} (from Kitsu; could not be applied in haikei: {exc})",
            d.version_id,
        )
        with ctx.db.immediate() as s:
            row3 = s.get(KitsuCommentRow, c["id"])
            assert row3 is not None
            row3.action, row3.author, row3.text, row3.created_at = d.action, d.user.name, d.text, utcnow()
        _act(ctx, d, bg_name, lock, report)
    with ctx.db.immediate() as s:
        row2 = s.get(KitsuCommentRow, c["id"])
        assert row2 is not None
        row2.state = "done"
    if d.action != "skip":
        report.lines.append(f"{bg_name}: {d.action} from Kitsu ({d.user.name}): {d.text[:80]}")


# -- push -------------------------------------------------------------------------------------------


class _Previews:
    """The picture each version is published as, made once per version (a shared BG's shots get
    the same bytes; pushes run in threads). A BG wider than ``[kitsu] preview_width`` is sent at
    that width (Kitsu's player shows its own 1200-px "previews" size of whatever it receives, and
    makes it, and its thumbnails, by decoding the upload: a smaller upload is less work for Kitsu
    per version); the full-size BG stays in haikei. Narrower BGs (and ``preview_width = 0``) are
    sent as they are."""

    def __init__(self, ctx: ServiceContext, width: int) -> None:
        import threading

        self.ctx = ctx
        self.width = width
        self._lock = threading.Lock()
        self._locks: dict[int, Any] = {}
        self._made: dict[int, tuple[bytes, tuple[int, int], tuple[int, int]]] = {}

    def get(self, v: VersionRow) -> tuple[bytes, tuple[int, int], tuple[int, int]]:
        """(PNG bytes, their size, the BG's full size)."""
        import threading

        with self._lock:
            lock = self._locks.setdefault(v.id, threading.Lock())
        with lock:
            made = self._made.get(v.id)
            if made is None:
                made = self._make(v)
                self._made[v.id] = made
            return made

    def _make(self, v: VersionRow) -> tuple[bytes, tuple[int, int], tuple[int, int]]:
        from haikei.imaging.io import load_rgb, png_bytes, resize

        data = self.ctx.blobs.get(v.image_blob)
        if not self.width:
            return data, (0, 0), (0, 0)  # sent as it is: nothing to say about its size
        img = load_rgb(data, name=f"version {v.id}")
        h, w = img.shape[:2]
        if w <= self.width:
            return data, (w, h), (w, h)
        pw, ph = self.width, max(1, round(h * self.width / w))
        return png_bytes(resize(img, pw, ph, labels=False), compress_level=3), (pw, ph), (w, h)


def _push_text(
    ctx: ServiceContext,
    bg_name: str,
    v: VersionRow,
    shots: list[str],
    sizes: tuple[tuple[int, int], tuple[int, int]] | None = None,
) -> str:
    recipe = v.recipe or {}
    inputs = recipe.get("inputs") or {}
    lines = [f"haikei {bg_name} r{v.revision} ({v.kind}) for {', '.join(shots)}"]
    if v.kind == "human":
        lines.append(f"paint-over by {recipe.get('actor') or v.created_by or 'someone'}")
    else:
        eng = " ".join(
            x
            for x in (recipe.get("engine") or v.engine, recipe.get("engine_version") or v.engine_version)
            if x
        )
        lines.append(f"engine: {eng or 'unknown'}; seed {recipe.get('seed', '?')}")
    boards = [
        f"{b.get('name', '?')} by {b.get('artist') or 'unknown painter'}"
        for b in inputs.get("artboards") or []
        if isinstance(b, dict)
    ]
    if boards:
        lines.append("art boards: " + ", ".join(boards))
    d = inputs.get("direction") or {}
    if d.get("text"):
        understood = ", ".join(
            f"{k.replace('_', ' ')} {x if not isinstance(x, list) else ' '.join(map(str, x))}"
            for k, x in d.items()
            if k not in ("text", "source") and x not in (None, "", [], {}, False)
        )
        lines.append(f"direction: {d['text']}" + (f" (understood: {understood})" if understood else ""))
    if sizes is not None and sizes[0] != sizes[1]:
        (pw, ph), (w, h) = sizes
        lines.append(f"preview {pw}x{ph}; the full-size {w}x{h} BG is in haikei")
    url = str(getattr(ctx.settings.web, "public_url", "") or "").rstrip("/")
    if url:
        lines.append(f"{url}/bg/{bg_name}")
    lines.append(MARK.format(vid=v.id))
    return "\n".join(lines)


def _shots_with_versions() -> Select[str | None, str, int]:
    """(Background task id, shot name, BG id) of every linked shot whose BG has a current version."""
    return (
        select(KitsuShotRow.bg_task_id, KitsuShotRow.name, BackgroundRow.id)
        .join(CutRow, CutRow.id == KitsuShotRow.cut_id)
        .join(BackgroundRow, BackgroundRow.id == CutRow.background_id)
        .where(KitsuShotRow.bg_task_id.is_not(None), BackgroundRow.current_version_id.is_not(None))
    )


def push(
    ctx: ServiceContext,
    proj: KitsuProject,
    report: PushReport | None = None,
    *,
    bg_tasks: list[dict[str, Any]] | None = None,
    step: Callable[[str], None] | None = None,
) -> PushReport:
    """Each BG's current version that Kitsu has not seen -> a preview on every shot's task."""
    report = report or PushReport()
    conf = ctx.settings.kitsu
    wfa = proj.statuses[conf.status_waiting]
    with ctx.db.session() as s:
        rows = s.execute(_shots_with_versions().order_by(BackgroundRow.name, KitsuShotRow.name)).all()
        done = {(p.version_id, p.task_id): p for p in s.scalars(select(KitsuPushRow))}
        bgs = {
            b.id: b
            for b in s.scalars(
                select(BackgroundRow).where(BackgroundRow.id.in_({r[2] for r in rows}))
            ).unique()
        }
        shots_of: dict[int, list[str]] = {}
        for _t, name, bid in rows:
            shots_of.setdefault(bid, []).append(name)
        todo: list[tuple[str, str, BackgroundRow, VersionRow]] = []
        for task_id, shot, bid in rows:
            bg = bgs[bid]
            v = s.get(VersionRow, bg.current_version_id)
            p = done.get((int(bg.current_version_id or 0), str(task_id)))
            if v is not None and (p is None or p.state != "done"):
                todo.append((str(task_id), shot, bg, v))
    tmp = Path(tempfile.mkdtemp(prefix="haikei-kitsu-"))
    try:
        # Kitsu makes its thumbnails while it receives a picture: a few uploads at once keep
        # its workers busy (each (version, task) is its own ledger row, so order does not matter)
        from concurrent.futures import ThreadPoolExecutor

        pictures = _Previews(ctx, conf.preview_width)
        with ThreadPoolExecutor(max_workers=max(1, conf.push_workers)) as pool:
            futures = [
                pool.submit(
                    _push_one,
                    ctx,
                    proj,
                    task_id,
                    shot,
                    bg.name,
                    v,
                    shots_of[bg.id],
                    wfa,
                    tmp,
                    report,
                    step,
                    pictures,
                )
                for task_id, shot, bg, v in todo
            ]
            for f in futures:
                f.result()  # the first failure (Kitsu down ...) is raised; the others stay pending
    finally:
        for leftover in tmp.iterdir():
            leftover.unlink()
        tmp.rmdir()
    # a task just published shows "waiting" (the push comment set it)
    fresh = {task_id: conf.status_waiting for task_id, _shot, _bg, _v in todo}
    _push_statuses(ctx, proj, report, bg_tasks, fresh)
    return report


def _push_one(
    ctx: ServiceContext,
    proj: KitsuProject,
    task_id: str,
    shot: str,
    bg_name: str,
    v: VersionRow,
    shots: list[str],
    wfa: dict[str, Any],
    tmp: Path,
    report: PushReport,
    step: Callable[[str], None] | None,
    pictures: _Previews | None = None,
) -> None:
    k = proj.kitsu
    pictures = pictures or _Previews(ctx, ctx.settings.kitsu.preview_width)
    mark = MARK.format(vid=v.id)
    with ctx.db.immediate() as s:
        row = s.scalars(
            select(KitsuPushRow).where(KitsuPushRow.version_id == v.id, KitsuPushRow.task_id == task_id)
        ).first()
        if row is None:
            row = KitsuPushRow(version_id=v.id, task_id=task_id, state="pending")
            s.add(row)
            s.flush()
            resumed = False
        else:
            report.resumed += 1
            resumed = True
        comment_id, pf_id = row.comment_id, row.preview_file_id
    comment: dict[str, Any] | None = None
    if comment_id is None and resumed:
        # after a kill the comment may exist without its id recorded: find it by its mark
        for c in k.get(f"data/tasks/{task_id}/comments"):
            if c.get("person_id") == k.person.get("id") and str(c.get("text") or "").rstrip().endswith(mark):
                comment = c
                break
    if comment_id is None:
        if comment is None:
            comment = k.post(
                f"actions/tasks/{task_id}/comment",
                {
                    "task_status_id": wfa["id"],
                    "comment": _push_text(ctx, bg_name, v, shots, pictures.get(v)[1:]),
                },
            )
        comment_id = str(comment["id"])
        _set_push(ctx, v.id, task_id, comment_id=comment_id)
        if step is not None:
            step("comment")
    if pf_id is None:
        if comment is None:
            comment = k.get(f"data/comments/{comment_id}")
        previews = (comment or {}).get("previews") or []
        if previews:
            pf_id = str(previews[0]["id"] if isinstance(previews[0], dict) else previews[0])
        else:
            pf_id = str(k.post(f"actions/tasks/{task_id}/comments/{comment_id}/add-preview", {})["id"])
        _set_push(ctx, v.id, task_id, preview_file_id=pf_id)
        if step is not None:
            step("preview")
    pf = k.get(f"data/preview-files/{pf_id}") if resumed else {}
    if pf.get("status") != "ready" or not pf.get("file_size"):
        path = tmp / f"{bg_name}_r{v.revision:03d}_{task_id}.png"  # one file per upload (threads)
        path.write_bytes(pictures.get(v)[0])
        pf = k.upload(f"pictures/preview-files/{pf_id}", str(path))
        path.unlink()
    _set_push(ctx, v.id, task_id, state="done", preview_at=str(pf.get("created_at") or ""))
    report.published.append((bg_name, v.revision, shot))
    if step is not None:
        step("done")


def _set_push(ctx: ServiceContext, version_id: int, task_id: str, **values: Any) -> None:
    with ctx.db.immediate() as s:  # pushes run in a few threads: take the write lock up front
        row = s.scalars(
            select(KitsuPushRow).where(KitsuPushRow.version_id == version_id, KitsuPushRow.task_id == task_id)
        ).one()
        for key, val in values.items():
            setattr(row, key, val)


def _push_statuses(
    ctx: ServiceContext,
    proj: KitsuProject,
    report: PushReport,
    bg_tasks: list[dict[str, Any]] | None,
    fresh: dict[str, str],
) -> None:
    """haikei's approvals, retakes and deliveries -> the mapped Kitsu status (once per change)."""
    conf = ctx.settings.kitsu
    want_of = {
        "wfa": conf.status_waiting,
        "retake": conf.status_retake,
        "approved": conf.status_approved,
        # haikei's delivered state is the status [review] delivered names (default "done", Delivered)
        str(getattr(ctx.settings.review, "delivered", "done")): conf.status_delivered,
    }
    tasks = {t["id"]: t for t in (bg_tasks if bg_tasks is not None else proj.tasks(proj.bg_type))}
    with ctx.db.session() as s:
        rows = s.execute(_shots_with_versions()).all()
        cursors = {c.task_id: c for c in s.scalars(select(KitsuTaskCursorRow))}
        todo = []
        for task_id, shot, bid in rows:
            bg = s.get(BackgroundRow, bid)
            assert bg is not None
            want = want_of.get(bg.status.short_name)
            tid = str(task_id)
            task = tasks.get(tid)
            if want is None or task is None:
                continue
            now = fresh.get(tid) or proj.status_by_id.get(task.get("task_status_id") or "", {}).get(
                "short_name"
            )
            cur = cursors.get(tid)
            if now == want or (cur is not None and cur.pushed_status == want):
                continue
            if not (
                s.scalars(
                    select(KitsuPushRow.id).where(
                        KitsuPushRow.task_id == task_id,
                        KitsuPushRow.version_id == bg.current_version_id,
                        KitsuPushRow.state == "done",
                    )
                ).first()
            ):
                continue  # the preview goes first (it sets "waiting" itself)
            last = s.scalars(
                select(NoteRow)
                .where(NoteRow.background_id == bid, NoteRow.status_change.is_not(None))
                .order_by(NoteRow.id.desc())
            ).first()
            said = (
                f"{last.status_change} in haikei by {last.author}"
                + (f": {last.text}" if last and last.text else "")
                if last
                else ""
            )
            todo.append((tid, shot, want, said))
    for task_id, shot, want, said in todo:
        proj.kitsu.post(
            f"actions/tasks/{task_id}/comment",
            {"task_status_id": proj.statuses[want]["id"], "comment": said or f"{want} in haikei"},
        )
        with ctx.db.immediate() as s:
            _cursor(s, task_id).pushed_status = want
        report.statuses.append((shot, want))


# -- a haikei-first production: its cuts become Kitsu shots --------------------------------------------


def create_shots(ctx: ServiceContext, k: Kitsu) -> tuple[str, list[str]]:
    """Make the Kitsu project (``[kitsu] project``, else the production's name) when it is missing,
    and a shot for every haikei cut Kitsu does not have (one sequence per episode, frame size in
    the shot's ``resolution`` data, the BG's name in the shared-BG field for 兼用 cuts). Returns
    (project name, shots made). The cuts are then linked by an ordinary pull."""
    conf = ctx.settings.kitsu
    name = conf.project or ctx.settings.production.name
    conf.project = name
    project = k.fetch_first("projects", {"name": name})
    if project is None:
        project = k.post("data/projects", {"name": name, "production_type": "short"})
    have = {sh["name"] for sh in k.fetch_all(f"projects/{project['id']}/shots")}
    seqs = {sq["name"]: sq for sq in k.fetch_all(f"projects/{project['id']}/sequences")}
    with ctx.db.session() as s:
        cuts = [
            (
                c.number,
                c.episode,
                c.width,
                c.height,
                c.background.name if c.background else "",
                len(c.background.cuts) if c.background else 1,
            )
            for c in s.scalars(select(CutRow).order_by(CutRow.number))
        ]
    made: list[str] = []
    for number, episode, w, h, bg_name, shared in cuts:
        if number in have:
            continue
        seq_name = episode or "SQ01"
        if seq_name not in seqs:
            seqs[seq_name] = k.post(f"data/projects/{project['id']}/sequences", {"name": seq_name})
        data: dict[str, Any] = {"resolution": f"{w}x{h}"}
        if shared > 1 and conf.shared_bg_field:
            data[conf.shared_bg_field] = bg_name
        k.post(
            f"data/projects/{project['id']}/shots",
            {"name": number, "sequence_id": seqs[seq_name]["id"], "data": data},
        )
        made.append(number)
    return name, made


# -- one pass ---------------------------------------------------------------------------------------


def sync_once(ctx: ServiceContext, k: Kitsu) -> SyncReport:
    """pull, review, push: one pass."""
    t0 = time.perf_counter()
    n0 = k.requests
    proj = KitsuProject.load(ctx, k)
    p = pull(ctx, proj)
    tasks = proj.tasks(proj.bg_type)
    r = review(ctx, proj, bg_tasks=tasks)
    if r.retakes or r.rejects or r.approvals:
        tasks = proj.tasks(proj.bg_type)  # statuses moved
    u = push(ctx, proj, bg_tasks=tasks)
    return SyncReport(p, r, u, requests=k.requests - n0, seconds=time.perf_counter() - t0)
