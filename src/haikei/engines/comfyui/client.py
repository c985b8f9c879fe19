"""One ComfyUI server as haikei talks to it: HTTP (httpx) and the websocket (websockets).

The routes and shapes follow ComfyUI's server: ``POST /upload/image`` (multipart ``image``,
``type``, ``subfolder``, ``overwrite``) answers ``{"name", "subfolder", "type"}``; ``POST /prompt``
takes ``{"prompt", "client_id", "prompt_id", "extra_data"}`` and answers ``{"prompt_id", "number",
"node_errors"}`` or 400 ``{"error": {...}, "node_errors": {...}}``; ``GET /history/{id}`` answers
``{id: {"prompt", "outputs", "status"}}`` or ``{}``; ``GET /queue`` answers ``{"queue_running",
"queue_pending"}`` whose items are ``[number, prompt_id, prompt, extra_data, outputs]``;
``POST /queue {"delete": [id]}``, ``POST /interrupt``, ``GET /view?filename&subfolder&type``,
``GET /object_info``; ``/ws?clientId=`` sends JSON ``{"type", "data"}`` messages (binary frames are
previews, ignored).
"""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx

from haikei.errors import EngineError, RenderRefused

__all__ = ["ComfyClient", "PromptRejected", "ServerDown", "describe_rejection"]


class ServerDown(EngineError):
    """The server did not answer (refused, timed out, or answered with a server error)."""


class PromptRejected(RenderRefused):
    """POST /prompt answered 400: the graph failed validation on the server."""


def describe_rejection(url: str, body: Any, graph: dict[str, Any]) -> str:
    """One line from a 400 body: the first node error (node, class, input, message)."""
    if not isinstance(body, dict):
        return f"ComfyUI at {url} refused the graph: {str(body)[:200]}"
    node_errors = body.get("node_errors") or {}
    if isinstance(node_errors, dict):
        for nid, ne in sorted(node_errors.items()):
            cls = (ne or {}).get("class_type") or graph.get(nid, {}).get("class_type", "?")
            for err in (ne or {}).get("errors") or []:
                inp = (err.get("extra_info") or {}).get("input_name")
                what = err.get("details") or err.get("message") or err.get("type") or "invalid"
                where = f"node {nid} ({cls})" + (f" input {inp!r}" if inp else "")
                return f"ComfyUI at {url} refused the graph: {where}: {what}"
    err = body.get("error")
    if isinstance(err, dict):
        text = err.get("message") or err.get("type") or "invalid prompt"
        details = err.get("details")
        return f"ComfyUI at {url} refused the graph: {text}" + (f" ({details})" if details else "")
    return f"ComfyUI at {url} refused the graph: {err or 'no reason given'}"


class ComfyClient:
    """HTTP calls to one server; thread-safe (httpx.Client is), one per server URL and thread."""

    def __init__(self, url: str, timeout_s: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s
        self._http = httpx.Client(base_url=self.url, timeout=timeout_s, trust_env=False)
        self._object_info: dict[str, Any] | None = None
        self._lock = threading.Lock()

    def close(self) -> None:
        self._http.close()

    # -- plumbing -------------------------------------------------------------------------
    def _call(self, method: str, path: str, **kw: Any) -> httpx.Response:
        try:
            resp = self._http.request(method, path, **kw)
        except httpx.TimeoutException:
            raise ServerDown(
                f"ComfyUI at {self.url} did not answer {method} {path} within {self.timeout_s:g} s"
            ) from None
        except httpx.HTTPError as exc:
            raise ServerDown(
                f"ComfyUI at {self.url} is not reachable ({type(exc).__name__}: {exc}); start it or "
                "take it out of [engines.comfyui] servers"
            ) from None
        if resp.status_code >= 500:
            raise ServerDown(f"ComfyUI at {self.url} answered {resp.status_code} to {method} {path}")
        return resp

    def _json(self, method: str, path: str, **kw: Any) -> Any:
        resp = self._call(method, path, **kw)
        if resp.status_code != 200:
            raise EngineError(f"ComfyUI at {self.url} answered {resp.status_code} to {method} {path}")
        try:
            return resp.json()
        except ValueError:
            raise EngineError(
                f"ComfyUI at {self.url} answered {method} {path} with something not JSON"
            ) from None

    @property
    def ws_url(self) -> str:
        base = "ws" + self.url[4:] if self.url.startswith("http") else self.url
        return f"{base}/ws"

    # -- the API --------------------------------------------------------------------------
    def object_info(self) -> dict[str, Any]:
        with self._lock:
            if self._object_info is None:
                info = self._json("GET", "/object_info")
                if not isinstance(info, dict):
                    raise EngineError(f"ComfyUI at {self.url}: /object_info is not a JSON object")
                self._object_info = info
            return self._object_info

    def forget_object_info(self) -> None:
        with self._lock:
            self._object_info = None

    def upload(self, name: str, data: bytes, subfolder: str = "haikei") -> str:
        """Upload an input image; returns the name to put in the graph (subfolder/name)."""
        resp = self._call(
            "POST",
            "/upload/image",
            files={"image": (name, data, "image/png")},
            data={"type": "input", "subfolder": subfolder, "overwrite": "true"},
        )
        if resp.status_code != 200:
            raise EngineError(f"ComfyUI at {self.url} refused the upload of {name} ({resp.status_code})")
        body = resp.json()
        got, sub = str(body.get("name", name)), str(body.get("subfolder", ""))
        return f"{sub}/{got}" if sub else got

    def post_prompt(self, body: bytes, graph: dict[str, Any]) -> dict[str, Any]:
        resp = self._call("POST", "/prompt", content=body, headers={"Content-Type": "application/json"})
        try:
            answer = resp.json()
        except ValueError:
            answer = resp.text
        if resp.status_code == 400:
            raise PromptRejected(describe_rejection(self.url, answer, graph))
        if resp.status_code != 200 or not isinstance(answer, dict):
            raise EngineError(f"ComfyUI at {self.url} answered {resp.status_code} to POST /prompt")
        return answer

    def history(self, prompt_id: str) -> dict[str, Any] | None:
        body = self._json("GET", f"/history/{prompt_id}")
        entry = body.get(prompt_id) if isinstance(body, dict) else None
        return entry if isinstance(entry, dict) else None

    def queue(self) -> tuple[list[str], list[str]]:
        """(running prompt ids, pending prompt ids)."""
        body = self._json("GET", "/queue")

        def ids(items: Any) -> list[str]:
            return [str(it[1]) for it in items or [] if isinstance(it, list) and len(it) > 1]

        return ids(body.get("queue_running")), ids(body.get("queue_pending"))

    def view(self, filename: str, subfolder: str, kind: str) -> bytes:
        resp = self._call("GET", "/view", params={"filename": filename, "subfolder": subfolder, "type": kind})
        if resp.status_code != 200:
            raise EngineError(
                f"ComfyUI at {self.url} has no result image {subfolder}/{filename} ({resp.status_code})"
            )
        return resp.content

    def interrupt(self, prompt_id: str) -> None:
        self._call("POST", "/interrupt", json={"prompt_id": prompt_id})

    def delete_queued(self, prompt_id: str) -> None:
        self._call("POST", "/queue", json={"delete": [prompt_id]})


def parse_message(raw: str | bytes) -> tuple[str, dict[str, Any]] | None:
    """A websocket text frame -> (type, data); None for previews (binary) and anything unreadable."""
    if isinstance(raw, bytes):
        return None
    try:
        msg = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
        return None
    data = msg.get("data")
    return msg["type"], data if isinstance(data, dict) else {}
