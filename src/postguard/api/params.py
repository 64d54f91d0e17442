"""Bounded integer parameters: a path or query number the database cannot hold (a 64-bit signed
integer; SQLite raises ``OverflowError`` binding more) is refused with 422 before any query runs."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

INT64_MAX = 2**63 - 1
INT32_MAX = 2**31 - 1

RowId = Annotated[int, Path(ge=1, le=INT64_MAX, description="A row id")]
"""A path parameter naming a row by its id."""
