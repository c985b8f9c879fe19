"""/api/docs: the JSON API described for people, rendered by haikei from its own OpenAPI
document (/api/openapi.json), with no script and nothing from a CDN, so it works on a studio's
closed network. Neither needs a login: the API's shape is the open project's, the same for
every studio, and holds no production data (see specs/review.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from haikei.web.templating import render

__all__ = ["Operation", "operations", "router"]

router = APIRouter(include_in_schema=False)
METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Param:
    name: str
    where: str
    type: str
    required: bool
    description: str


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    description: str
    tag: str
    params: list[Param] = field(default_factory=list)
    body: str = ""  # the request body's schema, as a short type
    body_media: str = ""
    responses: list[tuple[str, str]] = field(default_factory=list)
    anchor: str = ""


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def type_of(schema: dict[str, Any] | None) -> str:
    """A short readable type: ``integer ≥ 1``, ``string (≤ 4000)``, ``PickBody``, ``list of string``."""
    if not schema:
        return "any"
    if "$ref" in schema:
        return _ref_name(schema["$ref"])
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            parts = [type_of(s) for s in schema[key]]
            return " or ".join("null" if p == "null" else p for p in parts)
    t = schema.get("type", "any")
    if t == "array":
        return f"list of {type_of(schema.get('items'))}"
    bounds = []
    if "minimum" in schema:
        bounds.append(f"≥ {schema['minimum']}")
    if "maximum" in schema:
        bounds.append(f"≤ {schema['maximum']}")
    if "minLength" in schema or "maxLength" in schema:
        bounds.append(f"length {schema.get('minLength', 0)}–{schema.get('maxLength', '∞')}")
    if "minItems" in schema or "maxItems" in schema:
        bounds.append(f"{schema.get('minItems', 0)}–{schema.get('maxItems', '∞')} items")
    if schema.get("format") == "binary":
        t = "file"
    return f"{t} ({', '.join(bounds)})" if bounds else str(t)


def operations(spec: dict[str, Any]) -> list[Operation]:
    out: list[Operation] = []
    for path, item in spec.get("paths", {}).items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            params = [
                Param(
                    p["name"],
                    p.get("in", ""),
                    type_of(p.get("schema")),
                    bool(p.get("required")),
                    p.get("description", "") or p.get("schema", {}).get("description", ""),
                )
                for p in op.get("parameters", [])
            ]
            body = media = ""
            content = op.get("requestBody", {}).get("content", {})
            for media_type, c in content.items():
                body, media = type_of(c.get("schema")), media_type
                break
            out.append(
                Operation(
                    method=method.upper(),
                    path=path,
                    summary=op.get("summary", ""),
                    description=op.get("description", ""),
                    tag=(op.get("tags") or ["other"])[0],
                    params=params,
                    body=body,
                    body_media=media,
                    responses=[
                        (code, r.get("description", "")) for code, r in op.get("responses", {}).items()
                    ],
                    anchor=f"{method}-{path}".replace("/", "-").replace("{", "").replace("}", ""),
                )
            )
    return out


def schemas(spec: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for name, s in sorted(spec.get("components", {}).get("schemas", {}).items()):
        required = set(s.get("required", []))
        fields = [
            {
                "name": fname,
                "type": type_of(f),
                "required": fname in required,
                "description": f.get("description", ""),
                "default": json.dumps(f["default"]) if "default" in f else "",
            }
            for fname, f in s.get("properties", {}).items()
        ]
        out.append({"name": name, "description": s.get("description", ""), "fields": fields})
    return out


@router.get("/api/docs")
def api_docs(request: Request) -> Response:
    spec = request.app.openapi()
    return render(
        request,
        "api_docs.html",
        {
            "info": spec.get("info", {}),
            "ops": operations(spec),
            "schemas": schemas(spec),
            "openapi_url": request.app.openapi_url,
        },
    )
