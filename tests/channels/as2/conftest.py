"""AS2 test identities (RSA 2048, made once per session) and loopback servers."""

from __future__ import annotations

import hashlib
import http.client
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from edigate.channels.as2 import (
    As2Channel,
    As2Partner,
    As2Server,
    MdnOutcome,
    MemoryPendingMdns,
    StaticPartners,
)
from edigate.channels.as2.certs import make_certificate
from edigate.channels.as2.mime import MimeEntity, entity_from_http
from edigate.channels.base import Inbound
from edigate.store import Receipt

# Bytes a text-mangling transport would break: NUL, bare LF, CRLF, bare CR, high bytes, and
# no final newline.
PAYLOAD = (
    b"ISA*00*          *00*          *ZZ*ALICE          *ZZ*BOB            *250101*1200*U*00401"
    b"*000000001*0*P*>~\nGS*PO*ALICE*BOB*20250101*1200*1*X*004010~\r\nST*850*0001~\r"
    + bytes(range(256))
    + b"\r\n\r\n--not-a-boundary\n.\r\nSE*3*0001~"
)


@dataclass(frozen=True)
class Ident:
    name: str
    key: rsa.RSAPrivateKey
    cert: x509.Certificate
    key_path: Path
    cert_path: Path


def _ident(directory: Path, name: str, *, expired: bool = False) -> Ident:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if expired:
        start = datetime.now(UTC) - timedelta(days=400)
        cert = make_certificate(key, name, days=30, not_before=start)
    else:
        cert = make_certificate(key, name, days=365)
    key_path, cert_path = directory / f"{name}.key", directory / f"{name}.crt"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return Ident(name, key, cert, key_path, cert_path)


@dataclass(frozen=True)
class Idents:
    alice: Ident
    bob: Ident
    mallory: Ident
    old: Ident  # a certificate that expired long ago
    alice_next: Ident  # alice's next certificate (rollover)
    directory: Path


@pytest.fixture(scope="session")
def idents(tmp_path_factory: pytest.TempPathFactory) -> Idents:
    directory = tmp_path_factory.mktemp("as2-keys")
    return Idents(
        alice=_ident(directory, "alice"),
        bob=_ident(directory, "bob"),
        mallory=_ident(directory, "mallory"),
        old=_ident(directory, "old", expired=True),
        alice_next=_ident(directory, "alice-next"),
        directory=directory,
    )


def pair(me: Ident, them: Ident, *, url: str | None = None, **options: Any) -> As2Partner:
    """The relationship as ``me`` sees it (``me`` signs and decrypts; ``them`` is verified)."""
    their_certs = options.pop("their_certs", (them.cert,))
    return As2Partner(
        partner_id=options.pop("partner_id", them.name),
        our_as2_id=options.pop("our_as2_id", me.name.upper()),
        their_as2_id=options.pop("their_as2_id", them.name.upper()),
        our_key=me.key,
        our_cert=me.cert,
        their_certs=tuple(their_certs),
        url=url,
        **options,
    )


@dataclass
class Recorder:
    """A handler that keeps what it is given and answers like the store would."""

    inbound: list[Inbound] = field(default_factory=list)
    fail: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, inbound: Inbound) -> Receipt:
        if self.fail:
            raise OSError("disk full")
        with self.lock:
            self.inbound.append(inbound)
            return Receipt(
                len(self.inbound),
                hashlib.sha256(inbound.data).hexdigest(),
                len(inbound.data),
                uuid.uuid4().hex,
            )

    @property
    def stored(self) -> list[Inbound]:
        return [i for i in self.inbound if "failed" not in i.meta]

    @property
    def failed(self) -> list[Inbound]:
        return [i for i in self.inbound if "failed" in i.meta]


@dataclass
class Outcomes:
    """Async MDN outcomes collected by a sender's endpoint."""

    items: list[MdnOutcome] = field(default_factory=list)
    event: threading.Event = field(default_factory=threading.Event)

    def __call__(self, outcome: MdnOutcome) -> None:
        self.items.append(outcome)
        self.event.set()

    def wait(self, timeout: float = 10.0) -> MdnOutcome:
        assert self.event.wait(timeout), "no async MDN arrived"
        return self.items[-1]


@dataclass
class Loop:
    """Bob receives on his server; Alice sends with a channel and gets async MDNs on hers."""

    idents: Idents
    bob_recorder: Recorder
    bob_server: As2Server
    alice_server: As2Server
    alice_outcomes: Outcomes
    alice_pending: MemoryPendingMdns
    bob_partners: dict[str, As2Partner]

    def bob_sees_alice(self, **options: Any) -> None:
        """Configure how Bob's server treats Alice (replaces the relationship)."""
        self.bob_partners["alice"] = pair(self.idents.bob, self.idents.alice, **options)

    def alice_channel(self, **options: Any) -> As2Channel:
        mode = options.get("mdn_mode", "sync")
        if mode == "async":
            options.setdefault("async_mdn_url", self.alice_server.url)
        partner = pair(self.idents.alice, self.idents.bob, url=self.bob_server.url, **options)
        return As2Channel(partner, pending=self.alice_pending, timeout=10)


class _MutablePartners:
    def __init__(self, partners: dict[str, As2Partner]) -> None:
        self.partners = partners

    def partner_for(self, as2_from: str, as2_to: str) -> As2Partner | None:
        return StaticPartners(self.partners.values()).partner_for(as2_from, as2_to)


@pytest.fixture
def loop(idents: Idents) -> Iterator[Loop]:
    bob_partners = {"alice": pair(idents.bob, idents.alice)}
    recorder = Recorder()
    bob_server = As2Server(
        _MutablePartners(bob_partners),
        recorder,
        async_mdn_attempts=4,
        async_mdn_backoff=0.05,
        async_mdn_timeout=5,
        max_decompressed=1024 * 1024,
        poll_interval=0.02,
    ).start()
    outcomes = Outcomes()
    pending = MemoryPendingMdns()
    alice_partners = {"bob": pair(idents.alice, idents.bob)}
    alice_server = As2Server(
        _MutablePartners(alice_partners),
        Recorder(),
        pending_mdns=pending,
        on_mdn=outcomes,
        poll_interval=0.02,
    ).start()
    try:
        yield Loop(idents, recorder, bob_server, alice_server, outcomes, pending, bob_partners)
    finally:
        bob_server.close()
        alice_server.close()


def http_post(
    url: str, headers: list[tuple[str, str]], body: bytes
) -> tuple[int, list[tuple[str, str]], bytes]:
    """A plain http.client POST (not edigate's transport), for hand-made requests."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.putrequest("POST", parts.path)
        for name, value in headers:
            conn.putheader(name, value)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        conn.close()


def response_entity(headers: list[tuple[str, str]], body: bytes) -> MimeEntity:
    return entity_from_http(headers, body)
