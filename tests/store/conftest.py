"""A Store on SQLite and on PostgreSQL: store tests run against both."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from edigate.store import Store


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        st = Store.open(tmp_path / "data")
    else:
        url = request.getfixturevalue("postgres_url")
        st = Store.open(tmp_path / "data", url)
        with st.engine.begin() as conn:  # each test starts empty
            conn.execute(text("TRUNCATE documents, audit_events, control_sequences CASCADE"))
    yield st
    st.close()
