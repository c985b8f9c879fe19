"""The connection to a Kitsu server: gazu's client with haikei's rules around it.

- Credentials only from the environment (``HAIKEI_KITSU_EMAIL`` + ``HAIKEI_KITSU_PASSWORD``, or a
  bot token ``HAIKEI_KITSU_TOKEN``); the host from ``[kitsu] host`` or ``HAIKEI_KITSU_HOST``.
- Every request has a timeout. A refused connection, a timeout or a 5xx answer is retried with
  exponential backoff; when the retries are spent it is :class:`KitsuUnavailable`, one line that
  says so (haikei itself keeps working: nothing of haikei's depends on the answer).
- List calls go to Kitsu's list routes with filters (one request per list, never one per item).
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from haikei.errors import ConfigError, HaikeiError, MissingExtraError

__all__ = ["Kitsu", "KitsuError", "KitsuUnavailable", "credentials_from_env"]

T = TypeVar("T")


class KitsuError(HaikeiError):
    """Kitsu answered, but not with what haikei needs (missing project, no rights ...)."""

    exit_code = 1


class KitsuUnavailable(KitsuError):
    """Kitsu cannot be reached or answers 5xx, after the retries."""

    exit_code = 5


class _ServerDown(Exception):
    def __init__(self, status: int, path: str) -> None:
        super().__init__(f"HTTP {status} on {path}")
        self.status = status


def _gazu() -> Any:
    try:
        import gazu
    except ModuleNotFoundError:
        raise MissingExtraError("kitsu", "the Kitsu sync (gazu)") from None
    return gazu


def credentials_from_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """{"token": ...} or {"email": ..., "password": ...} from the environment, or ConfigError."""
    env = os.environ if env is None else env
    token = env.get("HAIKEI_KITSU_TOKEN", "").strip()
    if token:
        return {"token": token}
    email, password = env.get("HAIKEI_KITSU_EMAIL", "").strip(), env.get("HAIKEI_KITSU_PASSWORD", "")
    if email and password:
        return {"email": email, "password": password}
    raise ConfigError(
        "Kitsu credentials: set HAIKEI_KITSU_EMAIL and HAIKEI_KITSU_PASSWORD (or a bot token in "
        "HAIKEI_KITSU_TOKEN) in the environment; haikei never reads them from a file"
    )


class Kitsu:
    """A logged-in connection to one Kitsu server."""

    def __init__(
        self,
        host: str,
        *,
        email: str = "",
        password: str = "",
        token: str = "",
        retries: int = 4,
        backoff_s: float = 0.5,
        timeout_s: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        on_retry: Callable[[str], None] | None = None,
    ) -> None:
        host = host.strip().rstrip("/")
        if host.endswith("/api"):
            host = host[: -len("/api")]
        if not host.startswith(("http://", "https://")):
            raise ConfigError(
                f"haikei.toml [kitsu] host = {host!r}: give the server's URL, e.g. https://kitsu.studio.lan"
            )
        self.host = host
        self.retries = retries
        self.backoff_s = backoff_s
        self.sleep = sleep
        self.on_retry = on_retry
        self.requests = 0  # requests sent (for the scale figures)
        self._lock = threading.Lock()
        gazu = _gazu()
        self._gazu = gazu
        self.client = gazu.client.create_client(host)
        session = self.client.session
        session.request = functools.partial(session.request, timeout=timeout_s)  # type: ignore[method-assign]
        session.hooks["response"].append(self._count_and_check)
        self.person: dict[str, Any] = {}
        if token:
            self.client.tokens = {"access_token": token, "refresh_token": None}
        elif not (email and password):
            raise ConfigError("Kitsu: no credentials given")
        try:
            if not token:
                self._call(lambda: gazu.log_in(email, password, client=self.client), "log in")
            self.person = self._call(lambda: gazu.client.get_current_user(client=self.client), "who am I")
        except KitsuUnavailable:
            raise
        except (KitsuError, gazu.exception.AuthFailedException, gazu.exception.ParameterException) as exc:
            raise KitsuError(
                f"Kitsu at {host} refused the credentials ({_why(exc)}); check HAIKEI_KITSU_EMAIL / "
                "HAIKEI_KITSU_PASSWORD or HAIKEI_KITSU_TOKEN"
            ) from None

    @classmethod
    def from_settings(cls, settings: Any, env: Mapping[str, str] | None = None, **kwargs: Any) -> Kitsu:
        env = os.environ if env is None else env
        host = settings.kitsu.host or env.get("HAIKEI_KITSU_HOST", "")
        if not host:
            raise ConfigError(
                'haikei.toml [kitsu] host is not set: add host = "https://kitsu.studio.lan" '
                "(or set HAIKEI_KITSU_HOST)"
            )
        conf = settings.kitsu
        kwargs.setdefault("retries", conf.retries)
        kwargs.setdefault("backoff_s", conf.backoff_seconds)
        kwargs.setdefault("timeout_s", conf.timeout_seconds)
        cred = credentials_from_env(env)
        return cls(
            host,
            email=cred.get("email", ""),
            password=cred.get("password", ""),
            token=cred.get("token", ""),
            **kwargs,
        )

    # -- the rules around every request --------------------------------------------------------
    def _count_and_check(self, response: Any, *args: Any, **kwargs: Any) -> Any:
        with self._lock:  # pushes upload from a few threads
            self.requests += 1
        if response.status_code >= 500:
            raise _ServerDown(response.status_code, response.request.path_url)
        return response

    def _call(self, fn: Callable[[], T], what: str) -> T:
        import requests

        gazu = self._gazu
        transient = (
            requests.ConnectionError,
            requests.Timeout,
            _ServerDown,
            gazu.exception.ServerErrorException,
        )
        for attempt in range(self.retries + 1):
            try:
                return fn()
            except transient as exc:
                reason = _why(exc)
                if attempt >= self.retries:
                    raise KitsuUnavailable(
                        f"Kitsu at {self.host} is unavailable ({what}: {reason}) after "
                        f"{self.retries + 1} tries; haikei keeps working, sync again later"
                    ) from None
                wait = self.backoff_s * (2**attempt)
                if self.on_retry is not None:
                    self.on_retry(f"Kitsu {what}: {reason}; retrying in {wait:.1f} s")
                self.sleep(wait)
            except gazu.exception.NotAuthenticatedException:
                raise KitsuError(
                    f"Kitsu at {self.host}: not logged in ({what}); check HAIKEI_KITSU_* credentials"
                ) from None
            except (gazu.exception.NotAllowedException, gazu.exception.MethodNotAllowedException):
                raise KitsuError(f"Kitsu at {self.host} does not allow {what} for this account") from None
        raise AssertionError("unreachable")

    # -- requests --------------------------------------------------------------------------------
    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self._call(lambda: self._gazu.client.get(path, params=params, client=self.client), path)

    def get_or_none(self, path: str) -> Any:
        try:
            return self.get(path)
        except self._gazu.exception.RouteNotFoundException:
            return None

    def fetch_all(self, model: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        p = dict(params or {})
        return list(self._call(lambda: self._gazu.client.fetch_all(model, p, client=self.client), model))

    def fetch_first(self, model: str, params: dict[str, Any]) -> dict[str, Any] | None:
        rows = self.fetch_all(model, params)
        return rows[0] if rows else None

    def post(self, path: str, data: dict[str, Any] | list[Any]) -> Any:
        def send() -> Any:
            try:
                return self._gazu.client.post(path, data, client=self.client)
            except self._gazu.exception.ParameterException as exc:
                raise KitsuError(f"Kitsu refused {path}: {_why(exc)}") from None

        return self._call(send, path)

    def put(self, path: str, data: dict[str, Any]) -> Any:
        return self._call(lambda: self._gazu.client.put(path, data, client=self.client), path)

    def upload(self, path: str, file_path: str) -> Any:
        return self._call(lambda: self._gazu.client.upload(path, file_path, client=self.client), path)

    def download(self, path: str) -> bytes:
        gazu = self._gazu

        def fetch() -> bytes:
            r = self.client.session.get(
                gazu.client.get_full_url(path, client=self.client),
                headers=gazu.client.make_auth_header(client=self.client),
            )
            if r.status_code == 404:
                raise KitsuError(f"Kitsu has no file at {path}")
            if r.status_code >= 400:
                raise KitsuError(f"Kitsu refused {path} (HTTP {r.status_code})")
            return bytes(r.content)

        return self._call(fetch, path)


def _why(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "Connection refused" in text or "Max retries exceeded" in text:
        return "connection refused"
    return text[:200]
