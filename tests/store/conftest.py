"""A Store on SQLite and on PostgreSQL: store tests run against both."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from edigate.store import Store

from ..postgres import empty_tables


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        st = Store.open(tmp_path / "data")
    else:
        url = request.getfixturevalue("postgres_url")
        st = Store.open(tmp_path / "data", url)
        empty_tables(st.engine)  # each test starts empty
    yield st
    st.close()
