"""Tests that share the session's PostgreSQL database start each from empty tables."""

from __future__ import annotations

from sqlalchemy import Engine, text

from edigate.store.schema import Base


def empty_tables(engine: Engine) -> None:
    """Empty every table of the schema (a table added later is emptied too)."""
    names = ", ".join(table.name for table in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} CASCADE"))
