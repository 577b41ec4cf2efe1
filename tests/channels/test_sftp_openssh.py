"""Interop: the OpenSSH ``sftp`` client (what partners run) against our server."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from edigate.channels.base import Inbound
from edigate.channels.host_key import public_key_line
from edigate.channels.sftp_server import SftpServer
from edigate.errors import StoreUnavailableError
from edigate.store import Document, Store

from .conftest import KeyPair, ServerFactory

SFTP = shutil.which("sftp")
pytestmark = pytest.mark.skipif(SFTP is None, reason="the OpenSSH sftp client is not installed")


def run_sftp(server: SftpServer, key: KeyPair, tmp_path: Path, batch: str) -> Any:
    assert server.host_key is not None and SFTP is not None
    host, port = server.address
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(f"[{host}]:{port} {public_key_line(server.host_key)}\n")
    script = tmp_path / "batch"
    script.write_text(batch)
    return subprocess.run(
        [
            SFTP,
            "-F",
            "/dev/null",
            "-b",
            str(script),
            "-P",
            str(port),
            "-i",
            str(key.path),
            "-o",
            f"UserKnownHostsFile={known_hosts}",
            "-o",
            "GlobalKnownHostsFile=/dev/null",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "IdentityAgent=none",
            "-o",
            "BatchMode=yes",
            "-o",
            "ConnectTimeout=5",
            f"acme@{host}",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_openssh_put_is_stored_and_pickup_works(
    server: SftpServer, client_key: KeyPair, store: Store, tmp_path: Path
) -> None:
    local = tmp_path / "po.edi"
    local.write_bytes(b"ISA*00*openssh~" * 1000)
    pickup = server.root / "acme" / "out"
    pickup.mkdir(parents=True, exist_ok=True)
    (pickup / "997.edi").write_bytes(b"ISA*997~")
    got = tmp_path / "997.edi"
    result = run_sftp(
        server,
        client_key,
        tmp_path,
        f"cd /in\nput {local} po.edi\nls /out\nget /out/997.edi {got}\nrm /out/997.edi\n",
    )
    assert result.returncode == 0, result.stderr
    assert "997.edi" in result.stdout
    with store.session() as session:
        (doc,) = session.query(Document).all()
        assert (doc.filename, doc.partner_id) == ("po.edi", "acme")
        assert store.content(doc) == local.read_bytes()
    assert got.read_bytes() == b"ISA*997~"
    assert not (pickup / "997.edi").exists()
    escape = run_sftp(server, client_key, tmp_path, "cd /..\n")
    assert escape.returncode != 0


def test_openssh_put_fails_when_the_store_fails(
    start_server: ServerFactory, client_key: KeyPair, tmp_path: Path
) -> None:
    def down(inbound: Inbound) -> Any:
        raise StoreUnavailableError("database is down")

    server = start_server(handler=down)
    local = tmp_path / "po.edi"
    local.write_bytes(b"ISA*00*")
    result = run_sftp(server, client_key, tmp_path, f"put {local} /in/po.edi\n")
    assert result.returncode != 0, result.stdout + result.stderr
    assert "close remote: Failure" in result.stderr


def test_openssh_reput_is_refused_and_stores_only_the_first_put(
    server: SftpServer, client_key: KeyPair, store: Store, tmp_path: Path
) -> None:
    whole = tmp_path / "po.edi"
    whole.write_bytes(b"ISA*00*resume~" * 100)
    head = tmp_path / "head.edi"
    head.write_bytes(whole.read_bytes()[:500])
    result = run_sftp(
        server, client_key, tmp_path, f"put {head} /in/po.edi\nreput {whole} /in/po.edi\n"
    )
    assert result.returncode != 0, result.stdout + result.stderr
    with store.session() as session:
        (doc,) = session.query(Document).all()  # the first put; no NUL-padded second one
        assert store.content(doc) == head.read_bytes()
