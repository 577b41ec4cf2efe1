"""Connections to the SFTP server: limits in all and per address, the idle timeout, and
what is logged for connects that never speak SSH."""

from __future__ import annotations

import io
import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import paramiko
import pytest

from edigate.channels.base import Inbound, store_handler
from edigate.channels.sftp_server import SftpServer
from edigate.store import Store

from ..waiting import wait_until
from .conftest import PASSWORD, Events, KeyPair, ServerFactory


def server_transports_ended() -> bool:
    """No server-side transport thread is left (servers of earlier tests are stopped)."""
    return not any(
        isinstance(t, paramiko.Transport) and t.server_mode for t in threading.enumerate()
    )


@pytest.mark.parametrize("sent", [b"", b"GET / HTTP/1.0\r\n\r\n"], ids=["nothing", "http"])
def test_a_connect_without_ssh_is_one_warning_not_a_traceback(
    server: SftpServer, events: Events, caplog: pytest.LogCaptureFixture, sent: bytes
) -> None:
    caplog.set_level(logging.DEBUG)
    with socket.create_connection(server.address) as sock:  # a port scan, a health check
        sock.sendall(sent)
        host, port = sock.getsockname()[:2]
    local = f"{host}:{port}"
    (event,) = events.wait_for("connection_not_ssh")
    assert event["remote"] == local
    assert wait_until(server_transports_ended)
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    (warning,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.name == "edigate.sftp"
    assert warning.getMessage().startswith(f"connection_not_ssh remote={local} reason=")


def from_address(server: SftpServer, host: str) -> socket.socket:
    """A TCP connection to the server from another loopback address (127.0.0.0/8)."""
    sock = socket.socket()
    sock.bind((host, 0))
    sock.connect(server.address)
    return sock


def login(server: SftpServer, sock: socket.socket | None = None) -> paramiko.Transport:
    transport = paramiko.Transport(sock or server.address)
    transport.connect(hostkey=server.host_key, username="initech", password=PASSWORD)
    return transport


def test_one_address_cannot_take_every_connection(
    start_server: ServerFactory, events: Events
) -> None:
    server = start_server(max_connections_per_address=2)
    flood = [from_address(server, "127.0.0.2") for _ in range(2)]  # bare connects, no SSH
    with pytest.raises((paramiko.SSHException, EOFError, ConnectionError)):
        login(server, from_address(server, "127.0.0.2"))
    (refused,) = events.wait_for("connection_refused")
    assert refused["remote"].startswith("127.0.0.2:")
    assert refused["reason"] == "too many connections from 127.0.0.2 (limit 2)"
    partner = login(server)  # from 127.0.0.1: still served
    assert partner.is_authenticated()
    partner.close()
    for sock in flood:
        sock.close()
    events.wait_for("connection_not_ssh", 2)

    def logs_in_again() -> bool:
        try:
            login(server, from_address(server, "127.0.0.2")).close()
        except (paramiko.SSHException, EOFError, ConnectionError):
            return False
        return True

    assert wait_until(logs_in_again, 5, 0.2)  # their slots are free once they are gone


def test_the_total_limit_still_holds(start_server: ServerFactory, events: Events) -> None:
    server = start_server(max_connections=2)
    held = [from_address(server, f"127.0.0.{n}") for n in (2, 3)]
    with pytest.raises((paramiko.SSHException, EOFError, ConnectionError)):
        login(server)
    assert events.wait_for("connection_refused")[0]["reason"] == "too many connections (limit 2)"
    for sock in held:
        sock.close()


def test_idle_logged_in_connections_are_closed_busy_ones_are_not(
    start_server: ServerFactory,
    client_key: KeyPair,
    connect: Callable[..., paramiko.SFTPClient],
    events: Events,
) -> None:
    server = start_server(idle_timeout_seconds=1)
    idle = connect(server, "acme", pkey=client_key.key)
    no_sftp = login(server)  # logged in, never opens an SFTP session
    active = connect(server, "initech", password=PASSWORD)
    deadline = time.monotonic() + 2.5
    while time.monotonic() < deadline:
        assert active.listdir("/out") == []  # a request every 0.2 s: never idle for 1 s
        time.sleep(0.2)
    assert not idle.get_channel().get_transport().is_active()
    assert not no_sftp.is_active()
    closed = events.wait_for("connection_closed", 2)
    assert sorted((c["partner"], c["username"]) for c in closed) == [
        ("acme", "acme"),
        ("initech", "initech"),
    ]
    assert all(c["reason"].startswith("idle for ") for c in closed)
    assert all(c["reason"].endswith("(limit 1 s)") for c in closed)
    with pytest.raises((OSError, EOFError)):
        idle.listdir("/out")
    assert active.listdir("/out") == []


def test_a_request_that_takes_longer_than_the_idle_timeout_is_not_cut_off(
    start_server: ServerFactory,
    store: Store,
    client_key: KeyPair,
    connect: Callable[..., paramiko.SFTPClient],
    events: Events,
) -> None:
    inner = store_handler(store)

    def slow_store(inbound: Inbound) -> Any:
        time.sleep(2)
        return inner(inbound)

    server = start_server(handler=slow_store, idle_timeout_seconds=1)
    sftp = connect(server, "acme", pkey=client_key.key)
    sftp.putfo(io.BytesIO(b"ISA*slow"), "/in/slow.edi")  # the close takes 2 s
    assert events.of("upload_received")[0]["filename"] == "slow.edi"
    assert events.of("connection_closed") == []
