"""One exception tree for haikei.

Every error a user can cause is a :class:`HaikeiError` whose message says what was wrong
and what to do. The CLI turns them into one line and an exit code; the web layer turns them
into HTTP statuses. Nothing else in the code base catches them to guess a repair.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "ConflictError",
    "ConsentError",
    "EngineError",
    "HaikeiError",
    "ImageError",
    "InputError",
    "MissingExtraError",
    "NotFoundError",
    "PermissionDenied",
    "ProductionError",
    "RegionMapError",
    "RenderCanceled",
    "RenderRefused",
]


class HaikeiError(Exception):
    """Base of every error haikei raises on purpose. ``exit_code`` is used by the CLI."""

    exit_code = 1


class InputError(HaikeiError):
    """The user gave something haikei cannot use (a bad argument, file or request)."""

    exit_code = 2


class ImageError(InputError):
    """An image file is unreadable, too large, or of a kind haikei refuses."""

    def __init__(self, path: object, problem: str, fix: str = "") -> None:
        self.path = str(path)
        self.problem = problem
        self.fix = fix
        msg = f"{self.path}: {problem}"
        if fix:
            msg += f"; {fix}"
        super().__init__(msg)


class RegionMapError(ImageError):
    """A region or label map has colours that are not in the production's class vocabulary."""


class ConfigError(HaikeiError):
    """haikei.toml or settings are wrong."""

    exit_code = 2


class ProductionError(HaikeiError):
    """The production folder is missing, not a production, or in a state that forbids the action."""

    exit_code = 2


class NotFoundError(HaikeiError):
    """A cut, BG, version, art board, job or user does not exist."""

    exit_code = 3


class ConflictError(HaikeiError):
    """A change was made against a stale state (someone else acted first)."""

    exit_code = 4


class PermissionDenied(HaikeiError):
    """The acting user's role does not allow the action."""

    exit_code = 5


class ConsentError(HaikeiError):
    """An art board without recorded consent, or a model off the allow-list, was asked for."""

    exit_code = 6


class EngineError(HaikeiError):
    """An engine failed while rendering."""


class RenderRefused(EngineError):
    """An engine refused a request before rendering (bad size, missing class, no boards ...)."""

    exit_code = 2


class RenderCanceled(EngineError):
    """A render was canceled through its context."""

    exit_code = 130


class MissingExtraError(HaikeiError):
    """An optional dependency group is not installed."""

    exit_code = 2

    def __init__(self, extra: str, what: str) -> None:
        super().__init__(f"{what} needs the optional extra: pip install 'haikei[{extra}]'")
        self.extra = extra
