"""Fixtures of the security tests: a whole gateway on SQLite (the example partners), a
recording HTTP server on 127.0.0.1, and what to search for leaks."""

from __future__ import annotations

import http.server
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import select

from edigate.app import Gateway
from edigate.config import load_config
from edigate.store import AuditEvent, Document

# The real SFTP server of tests/channels and its fixtures (127.0.0.1, real keys, a store),
# for tests/security/test_sftp_names.py.
from tests.channels.conftest import (  # noqa: F401
    accounts,
    acme,
    client_key,
    connect,
    events,
    password_hash,
    server,
    start_server,
    store,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    config_dir = tmp_path / "config"
    for name in ("partners", "maps"):
        shutil.copytree(ROOT / name, config_dir / name)
    config = load_config(None, environ={}, data_dir=tmp_path / "data", config_dir=config_dir)
    gw = Gateway(config)
    yield gw
    gw.close()


def receive(gw: Gateway, data: bytes, **kwargs: object) -> int:
    """Store ``data`` as a channel would, then let the worker process everything."""
    channel = str(kwargs.pop("channel", "sftp"))
    receipt = gw.store.receive(data, channel=channel, **kwargs)  # type: ignore[arg-type]
    gw.worker("security").run(until_idle=True)
    return receipt.document_id


def everything_stored(gw: Gateway) -> bytes:
    """Every byte the gateway keeps: blobs, files under the data dir, rows and audit events."""
    parts: list[bytes] = []
    for path in sorted(gw.config.data_dir.rglob("*")):
        if path.is_file() and not path.name.startswith("edigate.db"):
            parts.append(path.read_bytes())
    with gw.store.session() as session:
        for doc in session.scalars(select(Document)):
            parts.append(repr([getattr(doc, c.key) for c in Document.__table__.columns]).encode())
        for event in session.scalars(select(AuditEvent)):
            parts.append(
                repr([getattr(event, c.key) for c in AuditEvent.__table__.columns]).encode()
            )
    return b"\n".join(parts)


@dataclass
class Recorder:
    """What a loopback HTTP server was asked for."""

    url: str
    hits: list[str] = field(default_factory=list)


@pytest.fixture
def http_recorder() -> Iterator[Recorder]:
    """A real HTTP server on 127.0.0.1 that records every request and serves a DTD."""
    recorder = Recorder("")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            recorder.hits.append(self.path)
            body = b'<!ENTITY leak "FETCHED-FROM-THE-NETWORK">'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    recorder.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield recorder
    finally:
        httpd.shutdown()
        httpd.server_close()
