"""The Alembic migrations build the schema the code declares, on SQLite and PostgreSQL:
a column or index added to ``schema.py`` without a revision fails here."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from edigate.store import Store
from edigate.store.schema import Base


def test_the_migrated_database_has_every_table_column_and_index_of_the_schema(
    store: Store,
) -> None:
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_the_duplicate_checks_lookups_are_indexed(store: Store) -> None:
    """The outbound duplicate check finds a partner's invoice number or shipment ID among
    all its documents: without these, every ERP invoice would scan the table."""
    found = inspect(store.engine).get_indexes("documents")
    indexes = {ix["name"]: ix["column_names"] for ix in found}
    assert indexes["ix_documents_invoice"] == ["partner_id", "invoice_number"]
    assert indexes["ix_documents_shipment"] == ["partner_id", "shipment_id"]
