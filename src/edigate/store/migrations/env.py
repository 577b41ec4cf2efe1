"""Alembic environment: runs on the connection that ``store.database.migrate`` passes in."""

from __future__ import annotations

from alembic import context

from edigate.store.schema import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - edigate always passes one
    raise RuntimeError("run migrations through edigate.store.database.migrate()")
context.configure(connection=connection, target_metadata=Base.metadata)
with context.begin_transaction():
    context.run_migrations()
