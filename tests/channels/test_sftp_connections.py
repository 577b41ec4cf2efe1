"""Connections to the SFTP server: what is logged for ones that never speak SSH."""

from __future__ import annotations

import logging
import socket
import threading

import paramiko
import pytest

from edigate.channels.sftp_server import SftpServer

from ..waiting import wait_until
from .conftest import Events


def transports_ended() -> bool:
    return not any(isinstance(t, paramiko.Transport) for t in threading.enumerate())


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
    assert wait_until(transports_ended)
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    (warning,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.name == "edigate.sftp"
    assert warning.getMessage().startswith(f"connection_not_ssh remote={local} reason=")
