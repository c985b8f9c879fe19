"""Row ids as the web takes them: the one place their range is checked.

Ids are INTEGER columns (int4 on PostgreSQL; SQLite raises OverflowError for 2^63 and more), so
an id from a path, query, form or JSON body must be 1 .. 2^31-1. Anything else cannot name a
row: out of range in a path answers 404 (app.py's validation handler), in a body or query 422.
Use these types for every id a route takes; tests/hostile walks every route to check.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Path, Query
from pydantic import Field

__all__ = ["MAX_ID", "FormId", "PathId", "QueryId", "RowId"]

MAX_ID = 2**31 - 1

RowId = Annotated[int, Field(ge=1, le=MAX_ID)]
"""An id field of a JSON body model (add ``Field(description=...)`` as usual)."""
PathId = Annotated[int, Path(ge=1, le=MAX_ID, description="row id")]
QueryId = Annotated[int, Query(ge=1, le=MAX_ID, description="row id")]
FormId = Annotated[int, Form(ge=1, le=MAX_ID, description="row id")]
