"""Logging in to the SFTP server: keys, passwords, refusals, throttling, the host key."""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

import paramiko
import pytest

from edigate.channels.host_key import key_fingerprint, load_or_create_host_key
from edigate.channels.sftp_auth import Account, AuthThrottle, StaticAccounts, parse_public_key
from edigate.channels.sftp_server import SftpServer
from edigate.errors import ConfigError

from .conftest import PASSWORD, Events, KeyPair, ServerFactory, make_ed25519

Connect = Callable[..., paramiko.SFTPClient]


def test_public_key_login_sees_its_own_tree(acme: paramiko.SFTPClient, events: Events) -> None:
    assert sorted(acme.listdir("/")) == ["in", "out"]
    (ok,) = events.wait_for("auth_succeeded")
    assert ok["partner"] == "acme" and ok["method"] == "publickey"
    assert ok["remote"].startswith("127.0.0.1:")


def test_password_login(server: SftpServer, connect: Connect, events: Events) -> None:
    sftp = connect(server, "initech", password=PASSWORD)
    assert sftp.listdir("/out") == []
    (ok,) = events.wait_for("auth_succeeded")
    assert ok["partner"] == "initech" and ok["method"] == "password"


@pytest.mark.parametrize("kind", ["ecdsa", "rsa"])
def test_ecdsa_and_rsa_keys_from_authorized_keys_lines(
    kind: str, start_server: ServerFactory, connect: Connect, password_hash: str
) -> None:
    key: paramiko.PKey = (
        paramiko.ECDSAKey.generate() if kind == "ecdsa" else paramiko.RSAKey.generate(2048)
    )
    line = f"{key.get_name()} {key.get_base64()} {kind}@partner"
    server = start_server(
        accounts=StaticAccounts([Account("globex", "globex", authorized_keys=(line,))])
    )
    assert connect(server, "globex", pkey=key).listdir("/") == ["in", "out"]


def test_wrong_password_wrong_key_and_unknown_user_are_refused(
    server: SftpServer, connect: Connect, events: Events, tmp_path: Path
) -> None:
    stranger = make_ed25519(tmp_path / "stranger")
    with pytest.raises(paramiko.AuthenticationException):
        connect(server, "initech", password="guess")
    with pytest.raises(paramiko.AuthenticationException):
        connect(server, "acme", pkey=stranger.key)
    with pytest.raises(paramiko.AuthenticationException):
        connect(server, "nobody", password=PASSWORD)
    failed = events.wait_for("auth_failed", 3)
    reasons = [(f["username"], f["method"], f["reason"]) for f in failed]
    assert reasons == [
        ("initech", "password", "wrong password"),
        ("acme", "publickey", "wrong publickey"),
        ("nobody", "password", "unknown user"),
    ]
    assert all(f["remote"].startswith("127.0.0.1:") for f in failed)
    assert events.of("auth_succeeded") == []


def test_a_password_account_does_not_accept_keys_and_vice_versa(
    server: SftpServer, connect: Connect, client_key: KeyPair
) -> None:
    with pytest.raises(paramiko.AuthenticationException):
        connect(server, "initech", pkey=client_key.key)
    with pytest.raises(paramiko.AuthenticationException):
        connect(server, "acme", password=PASSWORD)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_repeated_failures_are_throttled_even_for_the_right_password(
    start_server: ServerFactory, connect: Connect, events: Events, client_key: KeyPair
) -> None:
    clock = FakeClock()
    server = start_server(throttle=AuthThrottle(max_failures=3, window_seconds=600, clock=clock))
    for _ in range(3):
        with pytest.raises(paramiko.AuthenticationException):
            connect(server, "initech", password="guess")
    assert [f["failures"] for f in events.of("auth_failed")] == [1, 2, 3]
    # Blocked now: the right password is not even checked.
    with pytest.raises(paramiko.AuthenticationException):
        connect(server, "initech", password=PASSWORD)
    (throttled,) = events.wait_for("auth_throttled")
    assert throttled["username"] == "initech"
    assert throttled["remote"].startswith("127.0.0.1:")
    assert 0 < throttled["retry_after"] <= 600
    assert len(events.of("auth_failed")) == 3  # a blocked attempt is not a new failure
    # Another account from the same address is not blocked by initech's failures.
    assert connect(server, "acme", pkey=client_key.key).listdir("/") == ["in", "out"]
    clock.now += 601  # the window has passed
    assert connect(server, "initech", password=PASSWORD).listdir("/") == ["in", "out"]


def test_throttle_window_slides_and_success_resets() -> None:
    clock = FakeClock()
    throttle = AuthThrottle(
        max_failures=2, window_seconds=10, clock=clock, max_failures_per_address=4
    )
    throttle.failed("u", "1.2.3.4")
    clock.now += 5
    throttle.failed("u", "1.2.3.4")
    assert throttle.retry_after("u", "1.2.3.4") == pytest.approx(5)
    assert throttle.retry_after("u", "5.6.7.8") is None  # another address is not blocked
    clock.now += 5.5  # the first failure left the window
    assert throttle.retry_after("u", "1.2.3.4") is None
    throttle.succeeded("u", "1.2.3.4")
    throttle.failed("u", "1.2.3.4")
    assert throttle.retry_after("u", "1.2.3.4") is None
    # Spraying usernames from one address: the per-address limit stops it.
    for name in ("a", "b", "c"):
        throttle.failed(name, "1.2.3.4")
    assert throttle.retry_after("fresh", "1.2.3.4") is not None


def test_host_key_is_created_private_and_reused(
    start_server: ServerFactory, tmp_path: Path
) -> None:
    path = tmp_path / "keys" / "host_key"
    first = start_server(host_key_path=path)
    fingerprint = first.fingerprint
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN OPENSSH PRIVATE KEY-----")
    first.stop()
    second = start_server(host_key_path=path)
    assert second.fingerprint == fingerprint
    # What a client sees is that same key.
    transport = paramiko.Transport(second.address)
    try:
        transport.start_client(timeout=5)
        assert key_fingerprint(transport.get_remote_server_key()) == fingerprint
        assert transport.get_remote_server_key().get_name() == "ssh-ed25519"
    finally:
        transport.close()


def test_a_host_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "host_key"
    load_or_create_host_key(path)
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_or_create_host_key(path)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("ssh-ed25519", "not an OpenSSH public key line"),
        ('from="10.0.0.1" ssh-ed25519 AAAA', "not an OpenSSH public key line"),
        ("ssh-ed25519 not-base64!", "does not decode"),
        ("ssh-dss AAAAB3NzaC1kc3M=", "not an OpenSSH public key line"),
    ],
)
def test_bad_authorized_key_lines_are_refused_when_loading(line: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_public_key(line)


def test_short_rsa_keys_are_refused() -> None:
    key = paramiko.RSAKey.generate(1024)
    with pytest.raises(ValueError, match="1024 bits"):
        parse_public_key(f"ssh-rsa {key.get_base64()}")


def test_plaintext_password_in_an_account_is_refused() -> None:
    with pytest.raises(ValueError, match="plaintext"):
        StaticAccounts([Account("acme", "acme", password_hash="hunter2")])
