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
from edigate.channels.email import (
    EmailOutbound,
    SmtpController,
    SmtpInbound,
    find_documents,
)
from edigate.config import SmtpOutConfig, load_config
from edigate.errors import StoreError
from edigate.pipeline.detect import Format
from edigate.server import GatewayServer
from edigate.store import AuditEvent, BlobRef, Document, Store
from edigate.store.inline_blobs import INLINE_MAX
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
    gateway = _gateway(tmp_path, extra, outbound_email=outbound_email, database_url=database_url)
    server = GatewayServer(gateway)
    server.start()
    return Running(gateway, server)


def _gateway(
    tmp_path: Path, extra: str = "", *, outbound_email: bool = False, database_url: str = ""
) -> Gateway:
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
    return gateway


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
    assert info.value.smtp_error.endswith(
        b"no EDI, CSV or XML attachment found (text/plain body, 24 bytes; scan.pdf (unknown))"
    )
    assert smtp_gateway.documents() == []


def test_a_plain_text_body_is_described_without_a_format_guess(smtp_gateway: Running) -> None:
    """A note with a comma is no CSV: the reply says it was a text body, and its size."""
    message = mail(ACME, [], body="hello, order follows next week")
    with (
        smtplib.SMTP(*smtp_gateway.address, timeout=10) as client,
        pytest.raises(smtplib.SMTPDataError) as info,
    ):
        client.send_message(message)
    assert info.value.smtp_code == 550
    assert info.value.smtp_error == (
        b"5.6.0 no EDI, CSV or XML attachment found (text/plain body, 32 bytes)"
    )
    assert smtp_gateway.documents() == []
    [refused] = smtp_gateway.events("email_refused")
    assert "csv" not in str(refused).lower()


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


def test_a_file_beside_a_document_is_stored_too_never_dropped_unseen(
    smtp_gateway: Running,
) -> None:
    """An order in a zip beside an 850 was dropped after the 250 that covered it, with no
    trace in the log or the store (review finding). It is stored beside the 850, and
    rejected as no document edigate reads, where operations look (docs list); a logo and a
    signature part are only noted."""
    message = mail(
        ACME,
        [
            ("po.edi", RETAILER.read_bytes(), "application/octet-stream"),
            ("more-orders.zip", b"PK\x03\x04 an order inside", "application/zip"),
            ("logo.png", b"\x89PNG\r\n", "image/png"),
            ("smime.p7s", b"0\x82\x01 signature", "application/pkcs7-signature"),
        ],
    )
    with smtplib.SMTP(*smtp_gateway.address, timeout=10) as client:
        assert client.send_message(message) == {}
    parents = [d for d in smtp_gateway.documents() if d.parent_id is None]
    assert [d.filename for d in parents] == ["po.edi", "more-orders.zip"]
    zipped = parents[1]
    assert (zipped.channel, zipped.partner_id) == ("email", "acme-retail")
    assert wait_until(lambda: _status(smtp_gateway, zipped.id) == "rejected", 20)
    assert wait_until(lambda: _status(smtp_gateway, parents[0].id) == "translated", 20)


def _status(running: Running, document_id: int) -> str:
    return next(d.status for d in running.documents() if d.id == document_id)


def _send(address: tuple[str, int], raw: bytes, sender: str = ACME) -> tuple[int, bytes]:
    """One message over SMTP; DATA's answer (smtplib's ``data`` does not raise on 4xx/5xx)."""
    with smtplib.SMTP(*address, timeout=10) as client:
        client.ehlo()
        assert client.mail(sender)[0] == 250
        assert client.rcpt(US)[0] == 250
        return client.data(raw)


def _received(store: Store) -> list[Document]:
    with store.session() as session:
        top = select(Document).where(Document.parent_id.is_(None)).order_by(Document.id)
        return list(session.scalars(top))


@dataclass
class Mailbox:
    """``edigate serve``'s SMTP server, without a worker: what it stores stays as is."""

    store: Store
    server: SmtpInbound


@pytest.fixture
def mailbox(tmp_path: Path) -> Iterator[Mailbox]:
    gateway = _gateway(tmp_path, f'[smtp]\nenabled = true\nport = 0\naddresses = ["{US}"]\n')
    server = GatewayServer(gateway, run_worker=False)  # as serve wires it (store_many)
    server.start()
    assert server.smtp is not None
    yield Mailbox(gateway.store, server.smtp)
    server.stop()
    gateway.close()


def _retry_stores_each_once(box: Mailbox, raw: bytes, names: list[str]) -> None:
    """The sender's server sends the message again after the 451: each document once."""
    code, reply = _send(box.server.address, raw)
    docs = _received(box.store)
    ids = ", ".join(str(d.id) for d in docs)
    assert (code, reply) == (250, f"OK stored as document(s) {ids}".encode())
    assert [d.filename for d in docs] == names


def test_a_database_failure_at_the_second_document_stores_none_and_the_retry_each_once(
    mailbox: Mailbox,
) -> None:
    """The rows of a message are one transaction: the second failing rolls back the first
    (stored alone, a retry would store it twice and the partner get a second TA1)."""
    csv = (ROOT / "samples/csv/initech-orders.csv").read_bytes()
    raw = wire(
        mail(
            ACME,
            [
                ("po.edi", RETAILER.read_bytes(), "application/edi-x12"),
                ("orders.csv", csv, "text/csv"),
            ],
        )
    )
    refuse = (
        "CREATE TRIGGER refuse_csv BEFORE INSERT ON documents WHEN NEW.filename = 'orders.csv' "
        "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
    )
    with mailbox.store.engine.begin() as conn:
        conn.exec_driver_sql(refuse)
    assert _send(mailbox.server.address, raw) == (
        451,
        b"4.3.0 cannot store the message now; try again later",
    )
    assert _received(mailbox.store) == []
    with mailbox.store.engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER refuse_csv")
    _retry_stores_each_once(mailbox, raw, ["po.edi", "orders.csv"])
    (po, orders) = _received(mailbox.store)
    assert mailbox.store.content(orders) == csv
    assert (po.meta or {})["part"] < (orders.meta or {})["part"]


def test_a_full_blob_volume_at_the_second_document_stores_none_and_the_retry_each_once(
    mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Large attachments go to the blob store before the transaction: the second failing
    there, the first's row is never written and its unsettled file is deleted."""
    big = RETAILER.read_bytes() * (INLINE_MAX // len(RETAILER.read_bytes()) + 1)
    attachments = [(f"po{i}.edi", big + b"\n" * i, "application/edi-x12") for i in (1, 2)]
    raw = wire(mail(ACME, attachments))
    real_put = mailbox.store.blobs.put
    puts: list[int] = []

    def put(data: Any, *, head: bytes = b"") -> BlobRef:
        puts.append(len(puts))
        if len(puts) == 2:
            raise StoreError(f"cannot store blob under {mailbox.store.blobs.root}: disk full")
        return real_put(data, head=head)

    monkeypatch.setattr(mailbox.store.blobs, "put", put)
    code, reply = _send(mailbox.server.address, raw)
    assert (code, reply) == (451, b"4.3.0 cannot store the message now; try again later")
    assert _received(mailbox.store) == []
    assert list((mailbox.store.blobs.root / "tmp").iterdir()) == []
    _retry_stores_each_once(mailbox, raw, ["po1.edi", "po2.edi"])
    assert [mailbox.store.content(d) for d in _received(mailbox.store)] == [
        big + b"\n",
        big + b"\n\n",
    ]


def _with_headers(top: str, part: str) -> bytes:
    return (
        (
            f"{top}To: {US}\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/mixed; boundary="B"\r\n\r\n'
            f"--B\r\n{part}\r\n\r\n"
        ).encode()
        + RETAILER.read_bytes().replace(b"\n", b"\r\n")
        + b"\r\n--B--\r\n"
    )


ATTACHMENT = (
    'Content-Type: application/edi-x12\r\nContent-Disposition: attachment; filename="po.edi"'
)


@pytest.mark.parametrize(
    ("top", "part", "meta"),
    [  # each raised inside the standard library's policy.default header parser
        ("Message-ID: <[>\r\n", ATTACHMENT, {"message_id": "<[>"}),
        ("Message-ID: <>\r\n", ATTACHMENT, {"message_id": "<>"}),
        ("Message-ID: <@x>\r\n", ATTACHMENT, {"message_id": "<@x>"}),
        ("From: a:b;c <d@e>\r\n", ATTACHMENT, {"from": "a:b;c <d@e>"}),
        (  # IndexError while the message is parsed
            "",
            "Content-Type: application/edi-x12; name=);[;b*\r\n"
            'Content-Disposition: attachment; filename="po.edi"',
            {"message_id": None},
        ),
        (  # IndexError reading the file name
            "",
            "Content-Type: application/edi-x12\r\n"
            'Content-Disposition: attachment; filename="po.edi"; x=/>*</?@\\] ; .*',
            {"message_id": None},
        ),
    ],
    ids=["msgid-bracket", "msgid-empty", "msgid-at", "from-group", "part-type", "part-name"],
)
def test_a_malformed_header_does_not_bounce_a_valid_attachment(
    smtp_gateway: Running, top: str, part: str, meta: dict[str, str | None]
) -> None:
    """Before, these were answered "500 Error: (IndexError) list index out of range": the
    sender's server bounced a valid order for good."""
    code, reply = _send(smtp_gateway.address, _with_headers(top, part))
    assert (code, reply) == (250, b"OK stored as document(s) 1")
    (doc,) = [d for d in smtp_gateway.documents() if d.parent_id is None]
    assert doc.filename == "po.edi"
    assert doc.meta is not None and meta.items() <= doc.meta.items()
    assert smtp_gateway.gateway.store.content(doc) == RETAILER.read_bytes().replace(b"\n", b"\r\n")


def test_an_unexpected_error_is_a_451_not_aiosmtpds_500(mailbox: Mailbox) -> None:
    """A fault of ours (here the partners cannot be read when DATA ends) must not reach the
    sender as "500 Error: (OSError) ...", a permanent bounce: 451, and it tries again."""
    registry = mailbox.server.mailbox.registry
    calls: list[None] = []

    def flaky() -> Any:
        calls.append(None)
        if len(calls) > 1:  # MAIL FROM passes, DATA does not
            raise OSError(5, "Input/output error", "config/partners")
        return registry()

    mailbox.server.mailbox.registry = flaky
    raw = wire(mail(ACME, [("po.edi", RETAILER.read_bytes(), "application/edi-x12")]))
    code, reply = _send(mailbox.server.address, raw)
    assert (code, reply) == (
        451,
        b"4.3.0 cannot take the message now (internal error); try again later",
    )
    assert _received(mailbox.store) == []


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
    (found,), _, _ = find_documents(message)
    assert found.filename == expected


def test_a_one_row_csv_attachment_is_taken_as_the_csv_it_says_it_is() -> None:
    """One row, no header: one line, which the byte sniffing cannot call CSV (prose with a
    comma is one line too), but a part named *.csv or typed text/csv says so (review: a
    CSV partner's one-order mail was skipped as 'unknown'); prose in a .txt stays out."""
    row = b"IN-26-1003,03/03/2026,,Initech Dallas,1 Penny Ln,Dallas,TX,75201,INI-1001,Widget,6\r\n"
    message = EmailMessage()
    message.set_content("see attached")
    message.add_attachment(row, maintype="text", subtype="csv", filename="po-1003.csv")
    message.add_attachment(row, maintype="application", subtype="octet-stream", filename="po.csv")
    message.add_attachment(
        b"Hello, see you soon, Bob\r\n", maintype="text", subtype="plain", filename="note.txt"
    )
    found, others, skipped = find_documents(message)
    assert [a.filename for a in others] == ["note.txt"]
    assert [(a.filename, a.format, a.data) for a in found] == [
        ("po-1003.csv", Format.CSV, row),
        ("po.csv", Format.CSV, row),
    ]
    assert "note.txt (unknown)" in skipped
