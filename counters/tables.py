"""Typed views of what SQLModel leaves untyped, for statements that run past the ORM (bulk inserts,
RETURNING, conditional updates): a table model's Core table, and the rows an UPDATE matched."""
from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, Result, Table, inspect
from sqlmodel import SQLModel


def table_of(model: type[SQLModel]) -> Table:
    """`model.__table__`, typed: SQLModel sets it when the class is made, where a type checker cannot see
    it; SQLAlchemy's mapper gives the same table through its public API."""
    return cast(Table, inspect(model).local_table)


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE matched: SQLModel types `Session.execute` as returning a plain Result, which for an
    UPDATE is a CursorResult."""
    return cast(CursorResult[Any], result).rowcount
