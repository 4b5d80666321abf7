"""The Core table behind a table model, typed, for statements that run past the ORM (bulk inserts,
RETURNING, table-level columns). SQLModel sets `__table__` when the class is made, where a type checker
cannot see it; SQLAlchemy's mapper gives the same table through its public API."""
from __future__ import annotations

from typing import cast

from sqlalchemy import Table, inspect
from sqlmodel import SQLModel


def table_of(model: type[SQLModel]) -> Table:
    """`model.__table__`, typed."""
    return cast(Table, inspect(model).local_table)
