"""Email in ``edigate serve`` (aiosmtpd on 127.0.0.1) and email out (smtplib to a relay),
with real SMTP clients and servers."""

from __future__ import annotations

import shutil
import smtplib
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from sqlalchemy import select

from edigate.app import Gateway
from edigate.channels.base import DeliveryError, Outbound
from edigate.channels.email import EmailOutbound, SmtpController, find_documents
from edigate.config import SmtpOutConfig, load_config
from edigate.server import GatewayServer
from edigate.store import AuditEvent, Document
from edigate.x12.acks import parse_acks

from ..postgres import empty_tables
from ..waiting import wait_until
from .conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
RETAILER = ROOT / "samples/x12/850-004010-retailer.edi"
ACME = "edi@acme-retail.example"
US = "edi@edigate.example"


def mail(sender: str, attachments: list[tuple[str, bytes, str]], *, body: str = "") -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"ACME EDI <{sender}>"
    message["To"] = US
    message["Subject"] = "purchase order"
    message["Message-ID"] = "<po-4500012345@acme-retail.example>"
    message.set_content(body or "Our order is attached.\n")
    for name, data, ctype in attachments:
        maintype, subtype = ctype.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return message


def wire(message: EmailMessage) -> bytes:
    """The message as SMTP carries it (CRLF line ends: smtplib sends bytes as given)."""
    return message.as_bytes(policy=policy.SMTP)


def _config_dir(tmp_path: Path) -> Path:
    config = tmp_path / "config"
    for name in ("partners", "maps"):
        shutil.copytree(ROOT / name, config / name)
    return config


@dataclass
class Running:
    gateway: Gateway
    server: GatewayServer

    @property
    def address(self) -> tuple[str, int]:
        assert self.server.smtp is not None
        return self.server.smtp.address

    def documents(self) -> list[Document]:
        with self.gateway.store.session() as session:
            return list(session.scalars(select(Document).order_by(Document.id)))

    def events(self, kind: str) -> list[dict[str, Any]]:
        with self.gateway.store.session() as session:
            rows = session.scalars(select(AuditEvent).where(AuditEvent.event == kind))
            return [dict(row.detail or {}) for row in rows]


def _start(
    tmp_path: Path, extra: str = "", *, outbound_email: bool = False, database_url: str = ""
) -> Running:
    config = _config_dir(tmp_path)
    if outbound_email:  # ACME gets its documents by email instead of SFTP pickup
        acme = config / "partners/acme-retail.yaml"
        old = "  type: sftp_pickup        # we leave files in their SFTP root under out/\n"
        assert old in acme.read_text()
        acme.write_text(
            acme.read_text().replace(old + "  folder: out\n", f"  type: email\n  to: {ACME}\n")
        )
    toml = tmp_path / "edigate.toml"
    database = f'database_url = "{database_url}"\n' if database_url else ""
    toml.write_text(
        'data_dir = "data"\nconfig_dir = "config"\n' + database + "\n"
        "[worker]\npoll_seconds = 0.05\n\n"
        "[sftp]\nenabled = false\n\n" + extra
    )
    gateway = Gateway(load_config(toml, environ={}))
    if database_url:  # the session's database: start from empty tables
        empty_tables(gateway.store.engine)
    server = GatewayServer(gateway)
    server.start()
    return Running(gateway, server)


@pytest.fixture
def smtp_gateway(tmp_path: Path) -> Iterator[Running]:
    running = _start(
        tmp_path,
        f'[smtp]\nenabled = true\nport = 0\naddresses = ["{US}"]\nmax_message_mb = 0.05\n',
    )
    yield running
    running.server.stop()
    running.gateway.close()


def test_an_850_attachment_is_stored_before_the_250_and_processed(smtp_gateway: Running) -> None:
    message = mail(ACME, [("po-4500012345.edi", RETAILER.read_bytes(), "application/edi-x12")])
    with smtplib.SMTP(*smtp_gateway.address, timeout=10) as client:
        client.ehlo()
        assert client.mail(ACME)[0] == 250
        assert client.rcpt(US)[0] == 250
        code, reply = client.data(wire(message))
        # The answer comes after the store: the document is there when the client hears 250.
        stored = [d for d in smtp_gateway.documents() if d.parent_id is None]

    assert code == 250 and b"stored as document(s) 1" in reply, reply
    (doc,) = stored
    assert (doc.channel, doc.partner_id, doc.filename) == (
        "email",
        "acme-retail",
        "po-4500012345.edi",
    )
    assert doc.meta is not None
    assert doc.meta["message_id"] == "<po-4500012345@acme-retail.example>"
    assert doc.meta["mail_from"] == ACME and "ACME EDI" in doc.meta["from"]
    assert smtp_gateway.gateway.store.content(doc) == RETAILER.read_bytes()
    orders = smtp_gateway.gateway.erp.outbox / "orders"
    assert wait_until(
        lambda: len(list(orders.glob("order-acme-retail-4500012345-*.json"))) == 1, 30
    )
    assert smtp_gateway.events("email_received")[0]["partner"] == "acme-retail"


def test_an_unknown_sender_is_refused_with_550(smtp_gateway: Running) -> None:
    message = mail("mallory@evil.example", [("po.edi", RETAILER.read_bytes(), "text/plain")])
    with (
        smtplib.SMTP(*smtp_gateway.address, timeout=10) as client,
        pytest.raises(smtplib.SMTPSenderRefused) as info,
    ):
        client.send_message(message)
    assert info.value.smtp_code == 550
    assert b"unknown email sender 'mallory@evil.example'" in info.value.smtp_error
    assert smtp_gateway.documents() == []
    assert smtp_gateway.events("email_refused")[0]["sender"] == "mallory@evil.example"


def test_a_recipient_that_is_not_ours_is_refused(smtp_gateway: Running) -> None:
    message = mail(ACME, [("po.edi", RETAILER.read_bytes(), "text/plain")])
    with (
        smtplib.SMTP(*smtp_gateway.address, timeout=10) as client,
        pytest.raises(smtplib.SMTPRecipientsRefused) as info,
    ):
        client.send_message(message, to_addrs=["postmaster@elsewhere.example"])
    (code, _reply) = info.value.recipients["postmaster@elsewhere.example"]
    assert code == 550
    assert smtp_gateway.documents() == []


def test_an_oversized_message_gets_552_and_nothing_is_stored(smtp_gateway: Running) -> None:
    big = RETAILER.read_bytes() * 200  # about 200 kB, the limit is 50 kB
    message = wire(mail(ACME, [("po.edi", big, "application/edi-x12")]))
    with smtplib.SMTP(*smtp_gateway.address, timeout=10) as client:
        # A client that announces the size is stopped at MAIL FROM ...
        with pytest.raises(smtplib.SMTPSenderRefused) as info:
            client.sendmail(ACME, [US], message)
        assert info.value.smtp_code == 552
        client.rset()
        # ... one that does not, at the end of DATA.
        assert client.mail(ACME)[0] == 250
        assert client.rcpt(US)[0] == 250
        code, _ = client.data(message)
    assert code == 552
    assert smtp_gateway.documents() == []
    assert len(smtp_gateway.events("email_refused")) == 2


def test_a_message_without_a_document_gets_550_saying_what_it_held(smtp_gateway: Running) -> None:
    message = mail(ACME, [("scan.pdf", b"%PDF-1.4\n%\xe2\xe3\n1 0 obj\n", "application/pdf")])
    with (
        smtplib.SMTP(*smtp_gateway.address, timeout=10) as client,
        pytest.raises(smtplib.SMTPDataError) as info,
    ):
        client.send_message(message)
    assert info.value.smtp_code == 550
    assert b"no EDI, CSV or XML attachment found (scan.pdf (unknown))" in info.value.smtp_error
    assert smtp_gateway.documents() == []


def test_each_document_of_a_message_is_stored(smtp_gateway: Running) -> None:
    csv = (ROOT / "samples/csv/initech-orders.csv").read_bytes()
    message = mail(
        ACME,
        [
            ("po.edi", RETAILER.read_bytes(), "application/octet-stream"),
            ("orders.csv", csv, "text/csv"),
            ("logo.png", b"\x89PNG\r\n", "image/png"),
        ],
        body="ISA is mentioned here but this body is no interchange.\n",
    )
    with smtplib.SMTP(*smtp_gateway.address, timeout=10) as client:
        assert client.send_message(message) == {}
    parents = [d for d in smtp_gateway.documents() if d.parent_id is None]
    assert [(d.filename, d.channel) for d in parents] == [
        ("po.edi", "email"),
        ("orders.csv", "email"),
    ]


# ---------------------------------------------------------------- email out


@dataclass
class Relay:
    """A relay that keeps what it is given and who logged in."""

    messages: list[Envelope] = field(default_factory=list)
    logins: list[tuple[bytes, bytes]] = field(default_factory=list)
    refuse_rcpt: bool = False

    async def handle_RCPT(
        self, server: Any, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.refuse_rcpt:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        self.messages.append(envelope)
        return "250 OK queued"

    def authenticate(
        self, server: Any, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.logins.append((data.login, data.password))
        return AuthResult(success=data.password == b"s3cret")


@pytest.fixture
def relay() -> Iterator[tuple[Relay, int]]:
    keeper = Relay()
    controller = SmtpController(
        keeper,
        hostname="127.0.0.1",
        port=0,
        authenticator=keeper.authenticate,
        auth_require_tls=False,
        server_hostname="relay.test",
    )
    controller.start()
    yield keeper, controller.address[1]
    controller.stop()


def test_our_997_and_855_reach_an_email_partner_as_attachments(
    tmp_path: Path, relay: tuple[Relay, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    keeper, port = relay
    monkeypatch.setenv("TEST_SMTP_USER", "edigate")
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "s3cret")
    running = _start(
        tmp_path,
        f'[smtp_out]\nhost = "127.0.0.1"\nport = {port}\nfrom_address = "{US}"\n'
        'username_env = "TEST_SMTP_USER"\npassword_env = "TEST_SMTP_PASSWORD"\n',
        outbound_email=True,
    )
    try:
        running.gateway.store.receive(
            RETAILER.read_bytes(), channel="cli", partner_id="acme-retail", filename="po.edi"
        )
        assert wait_until(lambda: len(keeper.messages) == 3, 30), keeper.messages

        def sent() -> list[Document]:
            return [d for d in running.documents() if d.channel == "email" and d.status == "sent"]

        assert wait_until(lambda: len(sent()) == 3, 10)
        assert {d.meta["delivery"]["to"] for d in sent() if d.meta} == {ACME}
    finally:
        running.server.stop()
        running.gateway.close()
    assert keeper.logins == [(b"edigate", b"s3cret")] * 3
    attachments: dict[str, bytes] = {}
    for envelope in keeper.messages:
        assert envelope.mail_from == US and envelope.rcpt_tos == [ACME]
        assert isinstance(envelope.content, bytes)
        message = BytesParser(policy=policy.default).parsebytes(envelope.content)
        assert isinstance(message, EmailMessage)
        (part,) = list(message.iter_attachments())
        name = part.get_filename()
        assert name is not None and part.get_content_type() == "application/edi-x12"
        attachments[name.split("-")[0]] = part.get_payload(decode=True)
    assert sorted(attachments) == ["855", "997", "ta1"]
    (group,) = parse_acks(attachments["997"]).groups
    assert (group.control_number, group.status) == ("4211", "A")


def _outbound() -> Outbound:
    return Outbound(7, "acme-retail", "997-000000001-7.edi", b"ISA*...~", "997")


def test_a_relay_that_cannot_be_reached_is_a_retryable_failure() -> None:
    channel = EmailOutbound(SmtpOutConfig(host="127.0.0.1", port=free_port(), timeout=5), ACME)
    with pytest.raises(DeliveryError) as info:
        channel.send(_outbound())
    assert info.value.retryable and "failed" in str(info.value)


def test_a_refused_recipient_is_a_definitive_failure(relay: tuple[Relay, int]) -> None:
    keeper, port = relay
    keeper.refuse_rcpt = True
    channel = EmailOutbound(SmtpOutConfig(host="127.0.0.1", port=port), ACME)
    with pytest.raises(DeliveryError) as info:
        channel.send(_outbound())
    assert not info.value.retryable and "550" in str(info.value)


def test_credentials_named_but_missing_from_the_environment_are_a_config_error() -> None:
    config = SmtpOutConfig(host="127.0.0.1", username_env="NO_SUCH_USER", password_env="NO_PW")
    with pytest.raises(DeliveryError) as info:
        EmailOutbound(config, ACME, environ={}).send(_outbound())
    assert not info.value.retryable and "NO_SUCH_USER" in str(info.value)


#: Every kind of character a sender may hide in an attachment's name (RFC 2231 encoded):
#: NUL, CR, LF, BEL, ESC, DEL, the C1 CSI (a terminal escape) and a right-to-left override.
HOSTILE_NAME = "po%00-%0D%0A%07%1B%5B31m%7F%C2%9B%E2%80%AE4500012345.edi"


@pytest.fixture
def smtp_gateway_on_postgres(tmp_path: Path, postgres_url: str) -> Iterator[Running]:
    running = _start(
        tmp_path,
        f'[smtp]\nenabled = true\nport = 0\naddresses = ["{US}"]\n',
        database_url=postgres_url,
    )
    yield running
    running.server.stop()
    running.gateway.close()


@pytest.mark.postgres
def test_control_characters_in_attachment_names_never_reach_postgresql(
    smtp_gateway_on_postgres: Running,
) -> None:
    running = smtp_gateway_on_postgres
    isa = RETAILER.read_bytes()
    raw = (
        (
            f"From: ACME EDI <{ACME}>\r\nTo: {US}\r\n"
            "Subject: =?utf-8?q?order=00with=0Da=0Anul?=\r\n"
            "Message-ID: <hostile@acme-retail.example>\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/mixed; boundary="BB"\r\n\r\n'
            "--BB\r\nContent-Type: application/edi-x12\r\n"
            f"Content-Disposition: attachment; filename*=utf-8''{HOSTILE_NAME}\r\n\r\n"
        ).encode()
        + isa.replace(b"\n", b"\r\n")
        + b"\r\n--BB--\r\n"
    )
    with smtplib.SMTP(*running.address, timeout=10) as client:
        client.ehlo()
        assert client.mail(ACME)[0] == 250
        assert client.rcpt(US)[0] == 250
        code, reply = client.data(raw)
    # Stored (PostgreSQL would refuse a NUL in a text column: 451 and a retry loop before).
    assert code == 250, reply
    (doc,) = [d for d in running.documents() if d.parent_id is None]
    assert doc.filename == "po-[31m4500012345.edi"
    assert all(ch.isprintable() for ch in doc.filename)
    orders = running.gateway.erp.outbox / "orders"
    assert wait_until(
        lambda: len(list(orders.glob("order-acme-retail-4500012345-*.json"))) == 1, 30
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("po\x00.edi", "po.edi"),
        ("po\r\nX-Forged: 1.edi", "poX-Forged: 1.edi"),
        ("\x1b]0;title\x07po.edi", "]0;titlepo.edi"),
        ("po\x85\x9b.edi", "po.edi"),
        ("invoice\u202egpj.exe", "invoicegpj.exe"),
        ("\x00..", None),
        ("../../etc/\x00passwd", "passwd"),
    ],
)
def test_attachment_names_lose_every_control_and_format_character(
    name: str, expected: str | None
) -> None:
    encoded = urllib.parse.quote(name, safe="")  # RFC 2231: any byte can be sent
    raw = (
        "Content-Type: application/edi-x12\r\n"
        f"Content-Disposition: attachment; filename*=utf-8''{encoded}\r\n\r\n"
    ).encode() + RETAILER.read_bytes()
    message = BytesParser(policy=policy.default).parsebytes(raw)
    (found,), _ = find_documents(message)
    assert found.filename == expected
