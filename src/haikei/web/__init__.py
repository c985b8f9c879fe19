"""The review web app (FastAPI + Jinja2 pages + JSON API under /api)."""

from haikei.web.app import create_app

__all__ = ["create_app"]
