"""What ``edigate.toml`` sets for watched folders (pattern, archive or delete), for the
partners' pickup folders (retention) and for the SFTP server's connection limits, as
``edigate serve`` runs them."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from edigate.app import Gateway
from edigate.config import SftpConfig, load_config
from edigate.errors import ConfigError
from edigate.server import GatewayServer
from edigate.store import Document

from .waiting import wait_until

ROOT = Path(__file__).resolve().parents[1]
RETAILER = ROOT / "samples/x12/850-004010-retailer.edi"


def _serve(tmp_path: Path, toml: str) -> tuple[Gateway, GatewayServer]:
    config_dir = tmp_path / "config"
    if not config_dir.exists():
        for name in ("partners", "maps"):
            shutil.copytree(ROOT / name, config_dir / name)
    path = tmp_path / "edigate.toml"
    path.write_text(
        'data_dir = "data"\nconfig_dir = "config"\n\n[worker]\npoll_seconds = 0.05\n\n' + toml
    )
    gateway = Gateway(load_config(path, environ={}))
    server = GatewayServer(gateway, run_worker=False)
    server.start()
    return gateway, server


@pytest.fixture
def stop_after() -> Iterator[list[tuple[Gateway, GatewayServer]]]:
    started: list[tuple[Gateway, GatewayServer]] = []
    yield started
    for gateway, server in started:
        server.stop()
        gateway.close()


def _received(gateway: Gateway) -> list[str | None]:
    with gateway.store.reading() as session:
        return list(session.scalars(select(Document.filename).where(Document.parent_id.is_(None))))


@pytest.mark.parametrize("keep", ["archive", "delete"])
def test_a_watched_folder_takes_only_its_pattern_then_archives_or_deletes(
    tmp_path: Path, keep: str, stop_after: list[tuple[Gateway, GatewayServer]]
) -> None:
    drop = tmp_path / "drop"
    how = 'archive = "done"' if keep == "archive" else "delete = true"
    toml = (
        "[sftp]\nenabled = false\n\n[[folders]]\n"
        f'path = "drop"\npartner = "acme-retail"\npattern = "*.edi"\nsettle_seconds = 0\n'
        f"interval = 0.1\n{how}\n"
    )
    gateway, server = _serve(tmp_path, toml)
    stop_after.append((gateway, server))
    (drop / "po.edi").write_bytes(RETAILER.read_bytes())
    (drop / "readme.txt").write_text("not an order")
    assert wait_until(lambda: not (drop / "po.edi").exists())
    assert _received(gateway) == ["po.edi"]
    assert (drop / "readme.txt").exists()  # not the pattern: left alone
    archived = tmp_path / "done" / "po.edi"
    assert archived.exists() == (keep == "archive")
    assert not (drop / "archive").exists()


def test_archive_and_delete_together_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "edigate.toml"
    path.write_text('[[folders]]\npath = "drop"\narchive = "done"\ndelete = true\n')
    with pytest.raises(ConfigError, match=r"folders\.0: .*archive and delete = true exclude"):
        load_config(path, environ={})


def test_files_left_in_a_partners_out_folder_past_the_retention_are_deleted(
    tmp_path: Path, stop_after: list[tuple[Gateway, GatewayServer]]
) -> None:
    out = tmp_path / "data" / "sftp" / "acme-retail" / "out"
    out.mkdir(parents=True)
    old, fresh = out / "997_0001.edi", out / "855_0002.edi"
    old.write_text("ISA")
    fresh.write_text("ISA")
    three_days_ago = time.time() - 3 * 86400
    os.utime(old, (three_days_ago, three_days_ago))
    gateway, server = _serve(tmp_path, "[sftp]\nport = 0\nretention_days = 2\n")
    stop_after.append((gateway, server))
    assert gateway.config.sftp_root == tmp_path / "data" / "sftp"
    assert wait_until(lambda: not old.exists())
    assert fresh.exists()


def test_without_a_retention_files_stay_in_out_until_the_partner_deletes_them(
    tmp_path: Path, stop_after: list[tuple[Gateway, GatewayServer]]
) -> None:
    out = tmp_path / "data" / "sftp" / "acme-retail" / "out"
    out.mkdir(parents=True)
    old = out / "997_0001.edi"
    old.write_text("ISA")
    a_year_ago = time.time() - 365 * 86400
    os.utime(old, (a_year_ago, a_year_ago))
    gateway, server = _serve(tmp_path, "[sftp]\nport = 0\n")
    stop_after.append((gateway, server))
    assert server.retention is None
    time.sleep(0.3)
    assert old.exists()


@pytest.mark.parametrize("archive", ["drop", "./drop/", "other"])
def test_an_archive_that_is_a_watched_folder_is_refused(tmp_path: Path, archive: str) -> None:
    """Its files would be taken again each round, a new document every time."""
    path = tmp_path / "edigate.toml"
    path.write_text(
        f'[[folders]]\npath = "drop"\narchive = "{archive}"\n\n[[folders]]\npath = "other"\n'
    )
    with pytest.raises(ConfigError, match=r"folders\.0\.archive: .* is a watched folder"):
        load_config(path, environ={})


def test_the_sftp_connection_limits_reach_the_server(
    tmp_path: Path, stop_after: list[tuple[Gateway, GatewayServer]]
) -> None:
    toml = "[sftp]\nport = 0\nmax_connections = 50\nmax_connections_per_address = 3\n"
    gateway, server = _serve(tmp_path, toml + "idle_timeout_seconds = 90\n")
    stop_after.append((gateway, server))
    assert server.sftp is not None
    assert (
        server.sftp.max_connections,
        server.sftp.max_connections_per_address,
        server.sftp.idle_timeout_seconds,
    ) == (50, 3, 90)
    defaults = SftpConfig()
    assert (defaults.max_connections_per_address, defaults.idle_timeout_seconds) == (10, 600)
