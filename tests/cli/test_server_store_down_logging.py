"""``edigate serve`` with the database down: an SFTP or AS2 auth event that cannot be
recorded is one warning line naming the event and why, not a traceback per login; any
other failure of the audit write keeps its traceback."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, cast

import pytest

from edigate.app import Gateway
from edigate.events import Events
from edigate.server import GatewayServer
from edigate.store import Store
from edigate.store.blobs import BlobStore
from edigate.store.database import make_engine


class _Down:
    """Just what ``GatewayServer._event`` uses of a gateway: a store whose database is down
    (nothing listens on port 1: the driver's connection error, several lines long)."""

    def __init__(self, tmp_path: Path) -> None:
        engine = make_engine("postgresql://edigate@127.0.0.1:1/edigate")
        self.store = Store(engine, BlobStore(tmp_path / "blobs"))


def _server(tmp_path: Path) -> tuple[GatewayServer, Store]:
    down = _Down(tmp_path)
    return GatewayServer(cast(Gateway, down), run_worker=False), down.store


def _emit(server: GatewayServer, kind: str, **fields: Any) -> None:
    """As the SFTP server and the AS2 binding do: log the event, then hand it to serve."""
    Events(logging.getLogger("edigate.sftp"), server._event).emit(kind, logging.WARNING, **fields)


def test_an_auth_event_with_the_database_down_is_one_warning_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server, store = _server(tmp_path)
    caplog.set_level(logging.INFO)
    try:
        _emit(server, "auth_failed", username="acme", remote="10.0.0.7:51000", reason="x")
        _emit(server, "as2_refused", as2_from="GLOBEXDIST", as2_to="NOBODY", reason="y")
    finally:
        store.close()

    assert all(r.exc_info is None for r in caplog.records), "a traceback was logged"
    serve = [r for r in caplog.records if r.name == "edigate.serve"]
    assert [r.levelno for r in serve] == [logging.WARNING, logging.WARNING]
    first, second = (r.getMessage() for r in serve)
    assert "\n" not in first and "\n" not in second
    assert first.startswith("could not record the auth_failed event")
    assert "username=acme" in first and "remote=10.0.0.7:51000" in first
    assert "cannot use the database" in first  # why: the store says what it could not do
    assert second.startswith("could not record the as2_refused event")
    assert "as2_from=GLOBEXDIST" in second


def test_any_other_failure_to_record_keeps_its_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, store = _server(tmp_path)

    def broken(event: str, detail: dict[str, Any]) -> None:
        raise RuntimeError("a bug in the audit write")

    monkeypatch.setattr(store, "record_event", broken)
    caplog.set_level(logging.INFO)
    _emit(server, "auth_succeeded", username="acme", partner="acme-retail")
    store.close()

    (record,) = [r for r in caplog.records if r.name == "edigate.serve"]
    assert record.levelno == logging.ERROR and record.exc_info is not None
    assert record.exc_info[0] is RuntimeError
