"""Fixtures for the hostile-input tests: the reviewed tiny production and its web app come from
tests/web (cheap argon2 parameters included, autouse). Add shared fixtures here surgically."""

from __future__ import annotations

from tests.web.conftest import app, quick_argon2, reviewed

__all__ = ["app", "quick_argon2", "reviewed"]
