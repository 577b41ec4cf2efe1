"""A whole gateway (store, partners copied from the examples, ERP folder) on SQLite and on
PostgreSQL: pipeline flows run against both."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from edigate.app import Gateway
from edigate.config import load_config

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", "postgres"])
def gateway(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Gateway]:
    config_dir = tmp_path / "config"
    for name in ("partners", "maps"):
        shutil.copytree(ROOT / name, config_dir / name)
    url = None
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
    config = load_config(
        None, environ={}, data_dir=tmp_path / "data", config_dir=config_dir, database_url=url
    )
    gw = Gateway(config)
    if url:
        with gw.store.engine.begin() as conn:
            conn.execute(text("TRUNCATE documents, audit_events, control_sequences CASCADE"))
    yield gw
    gw.close()
