"""C2PA Content Credentials for delivered backgrounds: build, sign, verify.

What a delivered background's manifest says (see specs/provenance.md):

- ingredients: the layout (drawn by a named person, ``digitalCreation``) and every art board used
  (its painter and licence), relationship ``inputTo``; their sha256 is recorded with them.
- ``c2pa.actions.v2``: one action per step that made pixels, in order. The first step is
  ``c2pa.created``, later ones ``c2pa.edited``. An engine step carries the engine's own IPTC digital
  source type (exemplar: algorithmicMedia, sd: trainedAlgorithmicMedia) and a ``softwareAgent``; a
  person's step carries ``digitalCreation`` (painted from scratch) or ``humanEdits`` (paint-over)
  and the person's name and role.
- ``cawg.training-mining``: every use ``notAllowed`` unless the production says otherwise.
- ``org.haikei.delivery``: the delivered image's digital source type derived from what contributed
  (:func:`derive_source_type`), who approved it, and production facts (cut, BG, revision, render key).

PNGs get the manifest embedded. PSD is a format the C2PA library cannot embed into, so a PSD gets a
detached manifest store next to it (``c012.psd`` -> ``c012.c2pa``) whose data hash covers the PSD's
bytes; :func:`verify` finds and checks it.

The ``c2pa`` library is imported lazily, inside the functions that use it.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from haikei.domain.text import printable
from haikei.engines.base import ALGORITHMIC_MEDIA, TRAINED_ALGORITHMIC_MEDIA
from haikei.errors import ConfigError, InputError
from haikei.imaging.io import atomic_write_bytes
from haikei.provenance.keys import SigningCredentials

__all__ = [
    "ALGORITHMIC_MEDIA",
    "COMPOSITE_SYNTHETIC",
    "COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA",
    "DIGITAL_CREATION",
    "HUMAN_EDITS",
    "TRAINED_ALGORITHMIC_MEDIA",
    "ActionInfo",
    "EngineStep",
    "HumanStep",
    "IngredientInfo",
    "IngredientSpec",
    "ManifestSpec",
    "VerifyReport",
    "build_manifest",
    "derive_source_type",
    "sidecar_path_for",
    "sign_png",
    "sign_sidecar",
    "verify",
]

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
DIGITAL_CREATION = IPTC + "digitalCreation"
HUMAN_EDITS = IPTC + "humanEdits"
COMPOSITE_SYNTHETIC = IPTC + "compositeSynthetic"
COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA = IPTC + "compositeWithTrainedAlgorithmicMedia"
_HUMAN = frozenset({DIGITAL_CREATION, HUMAN_EDITS})
_KNOWN_SOURCE_TYPES = frozenset(
    {
        DIGITAL_CREATION,
        HUMAN_EDITS,
        ALGORITHMIC_MEDIA,
        TRAINED_ALGORITHMIC_MEDIA,
        COMPOSITE_SYNTHETIC,
        COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA,
    }
)
TRAINING_MINING_LABEL = "cawg.training-mining"
TRAINING_MINING_USES = (
    "cawg.data_mining",
    "cawg.ai_inference",
    "cawg.ai_generative_training",
    "cawg.ai_training",
)
DELIVERY_LABEL = "org.haikei.delivery"
PSD_MIME = "image/vnd.adobe.photoshop"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PSD_MAGIC = b"8BPS"


def derive_source_type(contributions: Iterable[str]) -> str:
    """The delivered image's IPTC digital source type from the types of the steps that made it.

    ``contributions``: one IPTC URI per step that made pixels (an engine's ``digital_source_type``,
    ``digitalCreation`` for a person painting from scratch, ``humanEdits`` for a paint-over). The
    layout and art boards guide but are not pixels of the result, so they are not contributions.

    - only a trained model (sd) -> trainedAlgorithmicMedia
    - a trained model and anything else (people, other engines) -> compositeWithTrainedAlgorithmicMedia
    - only untrained algorithms (exemplar) -> algorithmicMedia
    - untrained algorithms and people -> compositeSynthetic
    - only people -> digitalCreation
    """
    kinds = set(contributions)
    if not kinds:
        raise InputError("no step made this image (no engine pass, no painter); nothing to sign")
    unknown = kinds - _KNOWN_SOURCE_TYPES
    if unknown:
        raise InputError(
            f"unknown digital source type {sorted(unknown)[0]!r}; use one of "
            + ", ".join(sorted(k.removeprefix(IPTC) for k in _KNOWN_SOURCE_TYPES))
        )
    if kinds & {TRAINED_ALGORITHMIC_MEDIA, COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA}:
        return (
            TRAINED_ALGORITHMIC_MEDIA
            if kinds == {TRAINED_ALGORITHMIC_MEDIA}
            else COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA
        )
    if kinds & {ALGORITHMIC_MEDIA, COMPOSITE_SYNTHETIC}:
        return ALGORITHMIC_MEDIA if kinds == {ALGORITHMIC_MEDIA} else COMPOSITE_SYNTHETIC
    return DIGITAL_CREATION


# ---------------------------------------------------------------- what the export service fills in


@dataclass(frozen=True)
class IngredientSpec:
    """An input named in the manifest: the layout or an art board, as the file the studio stores."""

    title: str  # e.g. "c012_LO.png", "autumn river (board 3)"
    source: Path | bytes  # the file itself; its bytes are hashed and parsed for existing credentials
    artist: str  # the person who drew / painted it
    role: Literal["layout", "art_board"]
    licence: str = ""  # art boards: the licence / consent under which the studio uses it
    format: str = "image/png"
    # a location board (specs/locations.md): its own provenance, signed into its bytes when the
    # delivery is signed, so the ingredient carries its own ingredients (the boards it was painted
    # from) and steps; ``made_by`` names everyone whose paint is in it (also in its metadata)
    manifest: ManifestSpec | None = None
    made_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class EngineStep:
    """One engine pass (a render, a retake of a region, a variant)."""

    engine: str
    version: str
    digital_source_type: str  # the engine's own: engine_class.digital_source_type
    seed: int | None = None
    render_key: str = ""
    requested_by: str = ""  # the person who asked for it
    description: str = ""  # e.g. "retake: sky region"


@dataclass(frozen=True)
class HumanStep:
    """A person's work on the pixels: a paint-over (or, as the first step, painting from scratch)."""

    artist: str
    role: str = "bg_artist"
    changed_fraction: float | None = None  # share of pixels this step changed, 0..1
    description: str = ""


@dataclass(frozen=True)
class ManifestSpec:
    title: str  # the delivered file's title, e.g. "c012 BG rev 3"
    steps: tuple[EngineStep | HumanStep, ...]
    layout: IngredientSpec | None = None
    art_boards: tuple[IngredientSpec, ...] = ()
    approved_by: str = ""  # the art director who approved this version
    training_mining: Mapping[str, str] = field(
        default_factory=lambda: dict.fromkeys(TRAINING_MINING_USES, "notAllowed")
    )
    facts: Mapping[str, str | int | float | bool] = field(default_factory=dict)  # production, cut, bg ...


def _haikei_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("haikei")
    except PackageNotFoundError:  # pragma: no cover - source checkout without install
        return "0+unknown"


def _check_spec(spec: ManifestSpec) -> None:
    if not spec.title.strip():
        raise InputError("the manifest needs a title (e.g. 'c012 BG rev 3')")
    if not spec.steps:
        raise InputError("the manifest needs at least one step (engine pass or painter) that made the image")
    if spec.layout is not None and spec.layout.role != "layout":
        raise InputError(
            f"ingredient {spec.layout.title!r} is given as the layout but has role {spec.layout.role!r}"
        )
    for b in spec.art_boards:
        if b.role != "art_board":
            raise InputError(f"ingredient {b.title!r} is given as an art board but has role {b.role!r}")
    for ing in ([spec.layout] if spec.layout else []) + list(spec.art_boards):
        if not ing.artist.strip():
            raise InputError(
                f"{ing.role} {ing.title!r} has no artist; record who drew/painted it before delivery"
            )
    for i, s in enumerate(spec.steps):
        if isinstance(s, HumanStep):
            if not s.artist.strip():
                raise InputError(f"step {i + 1} (paint-over) has no artist name; credits must name people")
            if s.changed_fraction is not None and not 0.0 <= s.changed_fraction <= 1.0:
                raise InputError(f"step {i + 1}: changed_fraction {s.changed_fraction} is outside 0..1")
        elif s.digital_source_type not in (ALGORITHMIC_MEDIA, TRAINED_ALGORITHMIC_MEDIA):
            raise InputError(
                f"step {i + 1} ({s.engine}): engine source type {s.digital_source_type!r} is not "
                "algorithmicMedia or trainedAlgorithmicMedia"
            )
    for use, value in spec.training_mining.items():
        if value not in ("allowed", "notAllowed", "constrained"):
            raise InputError(
                f"training/mining use {use!r}: {value!r} must be allowed, notAllowed or constrained"
            )


def _read_source(src: Path | bytes, what: str) -> bytes:
    if isinstance(src, bytes):
        return src
    p = Path(src)
    if not p.is_file():
        raise InputError(f"{p}: {what} file not found; check the blob store")
    return p.read_bytes()


def build_manifest(spec: ManifestSpec) -> tuple[dict[str, Any], list[tuple[dict[str, Any], str, bytes]]]:
    """The manifest definition and its ingredients ``(json, format, bytes)``, without signing."""
    import hashlib

    # 1. check the spec
    _check_spec(spec)
    # 2. ingredients, each with the person who made it and its hash
    ingredients: list[tuple[dict[str, Any], str, bytes]] = []
    ids: list[str] = []
    named = [("layout", spec.layout)] if spec.layout else []
    named += [(f"art_board_{i}", b) for i, b in enumerate(spec.art_boards)]
    for label, ing in named:
        data = _read_source(ing.source, ing.role)
        meta: dict[str, Any] = {
            "org.haikei.role": ing.role,
            "org.haikei.artist": ing.artist,
            "org.haikei.sha256": hashlib.sha256(data).hexdigest(),
        }
        if ing.role == "layout":
            meta["org.haikei.digitalSourceType"] = DIGITAL_CREATION
            desc = f"layout drawn by {ing.artist}"
        else:
            meta["org.haikei.licence"] = ing.licence
            desc = f"art board painted by {ing.artist}" + (
                f" (licence: {ing.licence})" if ing.licence else ""
            )
            if ing.manifest is not None:  # a location board: name its chain here too
                meta["org.haikei.location_board"] = True
                meta["org.haikei.painters"] = list(ing.made_by)
                meta["org.haikei.madeFrom"] = [
                    {"title": b.title, "artist": b.artist, "licence": b.licence}
                    for b in ing.manifest.art_boards
                ]
                desc = (
                    f"location board painted by {', '.join(ing.made_by) or ing.artist}; made from "
                    + ", ".join(f"{b.title} by {b.artist}" for b in ing.manifest.art_boards)
                )
        ingredients.append(
            (
                {
                    "title": ing.title,
                    "relationship": "inputTo",
                    "label": label,
                    "description": desc,
                    "metadata": meta,
                },
                ing.format,
                data,
            )
        )
        ids.append(label)
    # 3. one action per step that made pixels
    version = _haikei_version()
    actions: list[dict[str, Any]] = []
    contributions: list[str] = []
    for i, step in enumerate(spec.steps):
        first = i == 0
        act: dict[str, Any] = {"action": "c2pa.created" if first else "c2pa.edited"}
        params: dict[str, Any] = {"ingredientIds": list(ids)} if first and ids else {}
        if isinstance(step, EngineStep):
            dst = step.digital_source_type
            act["softwareAgent"] = {"name": f"haikei {step.engine}", "version": step.version}
            act["description"] = step.description or (
                f"painted by the {step.engine} engine" if first else f"repainted by the {step.engine} engine"
            )
            params["org.haikei.engine"] = step.engine
            if step.seed is not None:
                params["org.haikei.seed"] = step.seed
            if step.render_key:
                params["org.haikei.render_key"] = step.render_key
            if step.requested_by:
                params["org.haikei.requested_by"] = step.requested_by
        else:
            dst = DIGITAL_CREATION if first else HUMAN_EDITS
            verb = "painted" if first else "painted over"
            act["description"] = step.description or f"{verb} by {step.artist} ({step.role})"
            params["org.haikei.artist"] = step.artist
            params["org.haikei.role"] = step.role
            if step.changed_fraction is not None:
                params["org.haikei.changed_fraction"] = round(float(step.changed_fraction), 6)
        act["digitalSourceType"] = dst
        if params:
            act["parameters"] = params
        actions.append(act)
        contributions.append(dst)
    # 4. the delivered image's own source type, approval and facts
    delivery: dict[str, Any] = {
        "digitalSourceType": derive_source_type(contributions),
        "approvedBy": spec.approved_by,
        "generator": f"haikei/{version}",
    }
    delivery.update({str(k): v for k, v in spec.facts.items()})
    definition = {
        "claim_generator_info": [{"name": "haikei", "version": version}],
        "title": spec.title,
        "assertions": [
            {"label": "c2pa.actions.v2", "data": {"actions": actions}},
            {
                "label": TRAINING_MINING_LABEL,
                "data": {"entries": {k: {"use": v} for k, v in spec.training_mining.items()}},
            },
            {"label": DELIVERY_LABEL, "data": delivery},
        ],
    }
    return definition, ingredients


# ---------------------------------------------------------------- signing


def _c2pa():
    try:
        import c2pa
    except ImportError:  # pragma: no cover - c2pa-python is a core dependency
        from haikei.errors import MissingExtraError

        raise MissingExtraError("c2pa", "C2PA signing") from None
    return c2pa


def _builder(spec: ManifestSpec, signer: SigningCredentials | None = None):
    c2pa = _c2pa()
    definition, ingredients = build_manifest(spec)
    if signer is not None:  # an ingredient with its own provenance carries it, signed (locations)
        specs = ([spec.layout] if spec.layout else []) + list(spec.art_boards)
        ingredients = [
            (j, fmt, _sign_bytes(ing.manifest, signer, data, fmt, embed=True)[0] if ing.manifest else data)
            for (j, fmt, data), ing in zip(ingredients, specs, strict=True)
        ]
    ctx = c2pa.Context.from_dict(
        {
            "builder": {"thumbnail": {"enabled": False}},
            "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False, "verify_after_sign": False},
        }
    )
    builder = c2pa.Builder(definition, context=ctx)
    for ing_json, fmt, data in ingredients:
        builder.add_ingredient(ing_json, fmt, io.BytesIO(data))
    return builder


def _signer(creds: SigningCredentials):
    c2pa = _c2pa()
    info = c2pa.C2paSignerInfo(creds.alg.encode(), creds.chain_pem, creds.key_pem, creds.tsa_url)
    try:
        return c2pa.Signer.from_info(info)
    except c2pa.C2paError as exc:
        raise ConfigError(f"the C2PA library refused the signing key/chain ({exc})") from None


def _sign_bytes(
    spec: ManifestSpec, signer: SigningCredentials, data: bytes, mime: str, *, embed: bool
) -> tuple[bytes, bytes]:
    c2pa = _c2pa()
    builder = _builder(spec, signer)
    if not embed:
        builder.set_no_embed()
    out = io.BytesIO()
    with _signer(signer) as s:
        try:
            manifest = builder.sign(s, mime, io.BytesIO(data), out)
        except c2pa.C2paError as exc:
            if "certificate" in str(exc).lower():
                raise ConfigError(f"the C2PA library refused the signing certificate: {exc}") from None
            raise InputError(f"C2PA signing failed: {exc}") from None
    return out.getvalue(), manifest


def sign_png(
    src_png: str | os.PathLike[str],
    dst_png: str | os.PathLike[str],
    manifest_spec: ManifestSpec,
    signer: SigningCredentials,
) -> None:
    """Embed a signed manifest into a PNG; ``dst_png`` is written atomically (may equal ``src_png``)."""
    data = _read_source(Path(src_png), "PNG")
    if not data.startswith(PNG_MAGIC):
        raise InputError(f"{src_png}: not a PNG file; export the flattened background as PNG first")
    signed, _ = _sign_bytes(manifest_spec, signer, data, "image/png", embed=True)
    atomic_write_bytes(dst_png, signed)


def sidecar_path_for(path: str | os.PathLike[str]) -> Path:
    """Where a PSD's detached manifest lives: ``c012.psd`` -> ``c012.c2pa``."""
    return Path(path).with_suffix(".c2pa")


def sign_sidecar(
    psd_path: str | os.PathLike[str],
    sidecar_path: str | os.PathLike[str] | None,
    manifest_spec: ManifestSpec,
    signer: SigningCredentials,
) -> Path:
    """Write a detached C2PA manifest store for a PSD (bound to the PSD's exact bytes)."""
    data = _read_source(Path(psd_path), "PSD")
    if not data.startswith(PSD_MAGIC):
        raise InputError(f"{psd_path}: not a PSD file (no 8BPS header)")
    unchanged, manifest = _sign_bytes(manifest_spec, signer, data, PSD_MIME, embed=False)
    if unchanged != data or not manifest:
        raise InputError(f"{psd_path}: the C2PA library changed the PSD instead of writing a sidecar")
    out = Path(sidecar_path) if sidecar_path is not None else sidecar_path_for(psd_path)
    atomic_write_bytes(out, manifest)
    return out


# ---------------------------------------------------------------- verification


@dataclass(frozen=True)
class IngredientInfo:
    title: str
    relationship: str
    role: str
    artist: str
    licence: str
    sha256: str


@dataclass(frozen=True)
class ActionInfo:
    action: str
    source_type: str
    agent: str  # software agent ("haikei exemplar 0.3") or person ("佐藤 花子 (bg_artist)")
    description: str


NO_ANCHORS_NOTE = "no trust anchors given: pass the studio's root-ca.pem (haikei verify --trust)"
# the failures that only say "this signer is not one we trust" (the signature itself checks out)
_TRUST_ONLY = ("signingCredential.untrusted", NO_ANCHORS_NOTE)


@dataclass(frozen=True)
class VerifyReport:
    path: str
    valid: bool  # signature, hashes and trust all good
    trusted: bool  # signer chains to a given trust anchor
    state: str  # the library's validation state: Invalid | Valid | Trusted | Missing
    manifest_store: str  # "embedded", "sidecar <path>" or "" when none was found
    signer: str = ""
    issuer: str = ""
    claim_generator: str = ""
    title: str = ""
    source_type: str = ""
    approved_by: str = ""
    ingredients: tuple[IngredientInfo, ...] = ()
    actions: tuple[ActionInfo, ...] = ()
    training_mining: Mapping[str, str] = field(default_factory=dict)
    facts: Mapping[str, Any] = field(default_factory=dict)
    errors: tuple[str, ...] = ()

    @property
    def verdict(self) -> str:
        """``trusted`` (valid, signed by a trusted chain), ``untrusted`` (signature and content check
        out, but the signer chains to no root this production trusts), ``missing`` (no Content
        Credentials) or ``invalid`` (a broken signature, changed pixels, an unreadable manifest)."""
        if self.valid:
            return "trusted"
        if self.state == "Missing":
            return "missing"
        if self.state == "Valid" and self.errors and all(e.startswith(_TRUST_ONLY) for e in self.errors):
            return "untrusted"
        return "invalid"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["training_mining"] = dict(self.training_mining)
        d["facts"] = dict(self.facts)
        d["verdict"] = self.verdict
        return d

    def format_text(self) -> str:
        short = lambda u: u.removeprefix(IPTC)  # noqa: E731
        headline = {
            "trusted": "VALID (signed by a signer this production trusts)",
            "untrusted": "signature valid, signer not trusted by this production",
            "missing": "INVALID (no Content Credentials)",
            "invalid": f"INVALID ({self.state or 'unreadable'})",
        }[self.verdict]
        lines = [f"{self.path}: {headline}"]
        if self.manifest_store:
            lines.append(f"  manifest: {self.manifest_store}")
        if self.signer:
            lines.append(f"  signed by: {self.signer}" + (f" (issuer {self.issuer})" if self.issuer else ""))
        if self.claim_generator:
            lines.append(f"  made with: {self.claim_generator}")
        if self.source_type:
            lines.append(f"  source type: {short(self.source_type)}")
        if self.approved_by:
            lines.append(f"  approved by: {self.approved_by}")
        for ing in self.ingredients:
            extra = f", licence {ing.licence}" if ing.licence else ""
            lines.append(f"  input {ing.role or ing.relationship}: {ing.title} by {ing.artist or '?'}{extra}")
        for i, a in enumerate(self.actions, 1):
            lines.append(
                f"  step {i}: {a.action} by {a.agent or '?'} [{short(a.source_type)}] {a.description}"
            )
        if self.training_mining:
            uses = sorted({v for v in self.training_mining.values()})
            lines.append(f"  AI training / data mining: {', '.join(uses)}")
        lines.extend(f"  error: {e}" for e in self.errors)
        # everything above came out of a file someone handed us: its control characters (terminal
        # escape sequences, bidi overrides) are shown as \x1b / \u202e, never sent to the terminal
        return "\n".join(printable(line) for line in lines)


def _report_fields(manifest: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    sig = manifest.get("signature_info") or {}
    out["signer"] = str(sig.get("common_name") or "")
    out["issuer"] = str(sig.get("issuer") or "")
    gens = manifest.get("claim_generator_info") or []
    if gens:
        g = gens[0]
        out["claim_generator"] = f"{g.get('name', '')}/{g.get('version', '')}".strip("/")
    out["title"] = str(manifest.get("title") or "")
    ings = []
    for ing in manifest.get("ingredients") or []:
        meta = ing.get("metadata") or {}
        ings.append(
            IngredientInfo(
                title=str(ing.get("title", "")),
                relationship=str(ing.get("relationship", "")),
                role=str(meta.get("org.haikei.role", "")),
                artist=str(meta.get("org.haikei.artist", "")),
                licence=str(meta.get("org.haikei.licence", "")),
                sha256=str(meta.get("org.haikei.sha256", "")),
            )
        )
    out["ingredients"] = tuple(ings)
    acts: list[ActionInfo] = []
    for a in manifest.get("assertions") or []:
        label, data = a.get("label", ""), a.get("data") or {}
        if label.startswith("c2pa.actions"):
            for act in data.get("actions") or []:
                p = act.get("parameters") or {}
                agent = act.get("softwareAgent") or {}
                if isinstance(agent, Mapping) and agent.get("name"):
                    who = f"{agent['name']} {agent.get('version', '')}".strip()
                elif p.get("org.haikei.artist"):
                    who = f"{p['org.haikei.artist']} ({p.get('org.haikei.role', '')})"
                else:
                    who = str(agent) if isinstance(agent, str) else ""
                acts.append(
                    ActionInfo(
                        str(act.get("action", "")),
                        str(act.get("digitalSourceType", "")),
                        who,
                        str(act.get("description", "")),
                    )
                )
        elif label in (TRAINING_MINING_LABEL, "c2pa.training-mining"):
            out["training_mining"] = {
                k: str((v or {}).get("use", "")) for k, v in (data.get("entries") or {}).items()
            }
        elif label == DELIVERY_LABEL:
            out["source_type"] = str(data.get("digitalSourceType", ""))
            out["approved_by"] = str(data.get("approvedBy", ""))
            out["facts"] = {
                k: v for k, v in data.items() if k not in ("digitalSourceType", "approvedBy", "generator")
            }
    out["actions"] = tuple(acts)
    known = [a.source_type for a in acts if a.source_type in _KNOWN_SOURCE_TYPES]
    if not out.get("source_type") and known:  # signed by another tool: derive it from the actions
        out["source_type"] = derive_source_type(known)
    return out


def verify(
    path: str | os.PathLike[str],
    *,
    trust_anchors: bytes | str | None = None,
    sidecar: str | os.PathLike[str] | None = None,
) -> VerifyReport:
    """Check a delivered file's Content Credentials (embedded, or the PSD's ``.c2pa`` sidecar).

    ``trust_anchors``: PEM root certificate(s) the studio trusts (its ``keys/root-ca.pem``). Without
    them a correctly signed file is reported ``state=Valid`` but ``valid=False`` (untrusted signer)."""
    c2pa = _c2pa()
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: file not found")
    data = p.read_bytes()
    manifest_data: bytes | None = None
    store = "embedded"
    side = Path(sidecar) if sidecar is not None else sidecar_path_for(p)
    if sidecar is not None and not side.is_file():
        raise InputError(f"{side}: sidecar manifest not found")
    if data.startswith(PSD_MAGIC) or sidecar is not None:
        if not side.is_file():
            return VerifyReport(
                str(p),
                False,
                False,
                "Missing",
                "",
                errors=(f"no C2PA sidecar {side.name} next to the PSD; deliver it with the PSD",),
            )
        manifest_data = side.read_bytes()
        store = f"sidecar {side}"
    mime = PSD_MIME if data.startswith(PSD_MAGIC) else None
    settings: dict[str, Any] = {
        "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False, "verify_trust": True}
    }
    if trust_anchors:
        pem = trust_anchors.decode() if isinstance(trust_anchors, bytes) else trust_anchors
        settings["trust"] = {"trust_anchors": pem}
    ctx = c2pa.Context.from_dict(settings)
    try:
        reader = c2pa.Reader(mime, io.BytesIO(data), manifest_data, context=ctx)
    except c2pa.C2paError as exc:
        msg = str(exc)
        if "ManifestNotFound" in type(exc).__name__ or "no JUMBF" in msg or "not found" in msg.lower():
            return VerifyReport(
                str(p),
                False,
                False,
                "Missing",
                "",
                errors=("no C2PA manifest (not signed, or its credentials were stripped)",),
            )
        return VerifyReport(
            str(p), False, False, "Invalid", store, errors=(f"unreadable C2PA manifest: {msg}",)
        )
    with reader:
        state = reader.get_validation_state() or ""
        results = reader.get_validation_results() or {}
        manifest = reader.get_active_manifest() or {}
    active = results.get("activeManifest") or {}
    failures = [f"{f.get('code')}: {f.get('explanation', '')}" for f in active.get("failure") or []]
    trusted = any(s.get("code") == "signingCredential.trusted" for s in active.get("success") or [])
    if not trust_anchors and not trusted:
        failures.append(NO_ANCHORS_NOTE)
    valid = state == "Trusted" and trusted and not failures
    fields = _report_fields(manifest)
    return VerifyReport(str(p), valid, trusted, state, store, errors=tuple(failures), **fields)


def report_json(report: VerifyReport) -> str:
    return json.dumps(report.to_dict(), ensure_ascii=False, indent=2, sort_keys=True)
