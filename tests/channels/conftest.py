"""Real SFTP servers on 127.0.0.1 (port 0), real stores, real keys: fixtures for the channels."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paramiko
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID

from edigate.channels.base import Handler, store_handler
from edigate.channels.sftp_auth import Account, AuthThrottle, StaticAccounts
from edigate.channels.sftp_server import SftpServer
from edigate.partners.passwords import MIN_N, hash_password
from edigate.store import Store

PASSWORD = "correct horse battery"


@dataclass
class Events:
    """Records on_event calls; ``wait_for`` blocks until a kind shows up (server threads)."""

    seen: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def __call__(self, kind: str, /, **fields: Any) -> None:
        with self._cond:
            self.seen.append((kind, fields))
            self._cond.notify_all()

    def of(self, kind: str) -> list[dict[str, Any]]:
        with self._cond:
            return [f for k, f in self.seen if k == kind]

    def wait_for(self, kind: str, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        with self._cond:
            self._cond.wait_for(
                lambda: len([k for k, _ in self.seen if k == kind]) >= count, timeout
            )
        found = self.of(kind)
        assert len(found) >= count, f"no {kind} event within {timeout}s; saw {self.seen}"
        return found


@dataclass
class KeyPair:
    path: Path
    key: paramiko.PKey
    line: str


def make_ed25519(path: Path) -> KeyPair:
    """An ed25519 key in an OpenSSH private key file (readable by paramiko and ssh)."""
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    path.write_bytes(pem)
    path.chmod(0o600)
    key = paramiko.PKey.from_path(path)
    return KeyPair(path, key, f"{key.get_name()} {key.get_base64()} test@edigate")


def make_tls_identity(
    directory: Path, name: str = "tls", *, key_mode: int = 0o600
) -> tuple[Path, Path]:
    """A self-signed TLS server certificate for 127.0.0.1 and its key, as PEM files
    ``<name>.crt`` and ``<name>.key`` (the key with mode ``key_mode``)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / f"{name}.crt", directory / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(key_mode)
    return cert_path, key_path


@pytest.fixture(scope="session")
def password_hash() -> str:
    return hash_password(PASSWORD, n=MIN_N)


@pytest.fixture
def client_key(tmp_path: Path) -> KeyPair:
    return make_ed25519(tmp_path / "acme_ed25519")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    st = Store.open(tmp_path / "data")
    yield st
    st.close()


@pytest.fixture
def events() -> Events:
    return Events()


@pytest.fixture
def accounts(client_key: KeyPair, password_hash: str) -> StaticAccounts:
    return StaticAccounts(
        [
            Account("acme", "acme", authorized_keys=(client_key.line,)),
            Account("initech", "initech", password_hash=password_hash),
        ]
    )


ServerFactory = Callable[..., SftpServer]


@pytest.fixture
def start_server(
    tmp_path: Path, store: Store, accounts: StaticAccounts, events: Events
) -> Iterator[ServerFactory]:
    """Start an SftpServer (stopped at teardown); keyword arguments override the defaults."""
    started: list[SftpServer] = []

    def start(**overrides: Any) -> SftpServer:
        options: dict[str, Any] = {
            "root": tmp_path / "sftp",
            "host_key_path": tmp_path / "host_key",
            "accounts": accounts,
            "handler": store_handler(store),
            "host": "127.0.0.1",
            "port": 0,
            "on_event": events,
            "throttle": AuthThrottle(max_failures=3, window_seconds=60),
        }
        options.update(overrides)
        server = SftpServer(**options)
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def server(start_server: ServerFactory) -> SftpServer:
    return start_server()


class Client:
    """A paramiko client session that verifies the server's host key."""

    def __init__(self, server: SftpServer, username: str, **auth: Any) -> None:
        self.transport = paramiko.Transport(server.address)
        self.transport.connect(hostkey=server.host_key, username=username, **auth)
        sftp = paramiko.SFTPClient.from_transport(self.transport)
        assert sftp is not None
        self.sftp = sftp

    def close(self) -> None:
        self.sftp.close()
        self.transport.close()


@pytest.fixture
def connect() -> Iterator[Callable[..., paramiko.SFTPClient]]:
    clients: list[Client] = []

    def open_client(server: SftpServer, username: str, **auth: Any) -> paramiko.SFTPClient:
        client = Client(server, username, **auth)
        clients.append(client)
        return client.sftp

    yield open_client
    for client in clients:
        client.close()


@pytest.fixture
def acme(
    server: SftpServer, client_key: KeyPair, connect: Callable[..., paramiko.SFTPClient]
) -> paramiko.SFTPClient:
    """The partner acme, logged in with its ed25519 key."""
    return connect(server, "acme", pkey=client_key.key)


def free_port() -> int:
    """A port nothing listens on (connecting to it is refused at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def recording(handler: Handler, log: list[Any]) -> Handler:
    def handle(inbound: Any) -> Any:
        receipt = handler(inbound)
        log.append((inbound, receipt))
        return receipt

    return handle
