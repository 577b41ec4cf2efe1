"""A whole gateway (store, partners copied from the examples, ERP folder) on SQLite and on
PostgreSQL: pipeline flows run against both."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from edigate.app import Gateway
from edigate.config import load_config

from ..postgres import empty_tables

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
        empty_tables(gw.store.engine)
    yield gw
    gw.close()
