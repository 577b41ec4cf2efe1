"""Email both ways: an SMTP server that takes partners' documents as attachments, and an
outbound channel that mails our documents through a relay.

Inbound (aiosmtpd), answered at each step of the SMTP dialogue:

- ``MAIL FROM`` must be a sender of some partner (``inbound.email.senders``), else 550.
  The envelope sender is what identifies the partner, as an SFTP username does; it is not
  authenticated by SMTP itself, so open the port only to relays that check SPF/DKIM.
- ``RCPT TO`` must be one of our addresses (``[smtp] addresses``), else 550.
- A message larger than ``max_message_size`` is refused with 552 and never stored.
- Each attachment that is an X12, EDIFACT, XML or CSV document (judged by its content, not
  its name) is stored *before* the 250 answer, all of a message's in one transaction
  (``store_many``): a failing store gets 451 and stores none, so the sender's retry stores
  each once. Any other file attached beside them is stored with them (and rejected as
  unknown), so the 250 never covers a file nobody will see. A message with no document gets
  550 saying what it held; one that cannot be read at all, 554. Malformed headers (on
  which the standard library's parser raises) are read as plain text, never answered with
  aiosmtpd's generic 500.

Outbound: ``EmailOutbound.send`` mails the document as an attachment with ``smtplib``
(STARTTLS and login optional; credentials from environment variables whose names the
configuration gives). Connection problems and 4xx answers are retryable, 5xx are not.

    server = SmtpInbound(
        store_handler(store),
        gateway.registry,
        addresses=["edi@us.example"],
        store_many=store_many_handler(store),
    )
    server.start(); ...; server.stop()
"""

from __future__ import annotations

import asyncio
import email.policy
import email.utils
import logging
import os
import smtplib
import socket
import ssl
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage, Message
from email.parser import BytesParser
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any, AnyStr

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from ..config import SmtpOutConfig
from ..errors import ConfigError
from ..events import Events, EventSink
from ..partners import Registry
from ..pipeline.detect import Format, detect_format
from ..store import Receipt, Store
from .base import Delivery, DeliveryError, Handler, Inbound, Outbound

log = logging.getLogger("edigate.email")
_AIOSMTPD_LOG = logging.getLogger("mail.log")

EMAIL_CHANNEL = "email"
DEFAULT_MAX_MESSAGE = 25 * 1024 * 1024
#: Formats taken from an attachment; a part without a file name (a message body) only when
#: it holds a whole ISA segment.
DOCUMENT_FORMATS = (Format.X12, Format.EDIFACT, Format.XML, Format.CSV)
_SKIPPED_TYPES = ("image", "audio", "video")
#: Parts that sign the message (S/MIME, PGP): not files the partner sent us.
_SIGNATURE_TYPES = (
    "application/pkcs7-signature",
    "application/x-pkcs7-signature",
    "application/pgp-signature",
)
#: The headers kept in each document's meta, by meta key.
_HEADERS = {"message_id": "Message-ID", "from": "From", "subject": "Subject"}

#: Stores all the documents of one message, or (it raises) none of them.
ManyHandler = Callable[[Sequence[Inbound]], list[Receipt]]


def store_many_handler(store: Store) -> ManyHandler:
    """The production ``store_many``: a message's documents in one transaction
    (``Store.receive_many``), so a 451 after a failure leaves nothing for the retry to
    store twice."""

    def handle(documents: Sequence[Inbound]) -> list[Receipt]:
        return store.receive_many(
            [
                (
                    d.data,
                    {
                        "channel": d.channel,
                        "partner_id": d.partner_id,
                        "filename": d.filename,
                        "meta": d.meta,
                    },
                )
                for d in documents
            ]
        )

    return handle


def one_by_one(handler: Handler) -> ManyHandler:
    """``store_many`` from a handler of single documents. Not atomic: a failure at the
    second leaves the first stored, and the sender's retry stores it again."""

    def handle(documents: Sequence[Inbound]) -> list[Receipt]:
        return [handler(document) for document in documents]

    return handle


@dataclass(frozen=True, slots=True)
class Attachment:
    """One document found in a message."""

    index: int
    filename: str | None
    data: bytes
    format: Format


def _safe_name(name: str | None) -> str | None:
    """The attachment's base name without folders or any control or format character.

    A sender chooses the name: NUL (which PostgreSQL text refuses, so the store would fail
    and the sender retry forever), CR/LF (forged log lines), ESC and C1 controls (terminal
    escapes in ``docs list``), bidi overrides (``po\u202eide.exe``), and the surrogates that
    undecodable bytes become are all dropped (Unicode categories Cc, Cf, Cs, Co, Cn).
    """
    if not name:
        return None
    base = PureWindowsPath(PurePosixPath(name).name).name
    base = "".join(ch for ch in base if not unicodedata.category(ch).startswith("C"))
    base = base.strip().strip(".")
    return base[:200] or None


def find_documents(message: Message) -> tuple[list[Attachment], list[Attachment], list[str]]:
    """The documents in ``message``, the other files attached beside them, and a note on
    each part that is neither.

    An attached file that is no document edigate reads (``more-orders.zip``, ``po.pdf``) is
    returned apart: beside a document it is stored too, and rejected as unknown, so that
    the 250 the sender gets never covers a file nobody will look at (review finding). Media
    (a logo in a signature) and signature parts are only noted. A part without a name is a
    message body, only taken when it holds an X12 interchange; it is noted by type and size
    (``text/plain body, 31 bytes``), never by a format guess: two lines of prose with a comma
    each look like CSV to ``detect_format``.
    """
    found: list[Attachment] = []
    others: list[Attachment] = []
    skipped: list[str] = []
    for index, part in enumerate(message.walk()):
        if part.is_multipart():
            continue
        name = _safe_name(part.get_filename())
        label = name or part.get_content_type()
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes) or not payload.strip():
            if name:
                skipped.append(f"{label} (empty)")
            continue
        if part.get_content_maintype() in _SKIPPED_TYPES or (
            part.get_content_type() in _SIGNATURE_TYPES
        ):
            skipped.append(f"{label} ({part.get_content_type()})")
            continue
        fmt = detect_format(payload[:4096])
        if fmt is Format.UNKNOWN and name:
            fmt = _declared_format(part.get_content_type(), name)
        if fmt in DOCUMENT_FORMATS and (name or _isa_inside(payload)):
            found.append(Attachment(index, name, payload, fmt))
        elif name:
            others.append(Attachment(index, name, payload, fmt))
            skipped.append(f"{label} ({fmt.value})")
        else:
            skipped.append(f"{part.get_content_type()} body, {len(payload)} bytes")
    return found, others, skipped


def _declared_format(content_type: str, name: str) -> Format:
    """What a named attachment says it is, by its type or extension, when its bytes do not
    tell (a CSV order of one row and no header is one line: ``detect_format`` needs two)."""
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if content_type == "text/csv" or suffix == "csv":
        return Format.CSV
    if content_type in ("application/xml", "text/xml") or suffix == "xml":
        return Format.XML
    return Format.UNKNOWN


def read_message(raw: bytes) -> tuple[Message, list[Attachment], list[Attachment], list[str]]:
    """The message and its documents (see :func:`find_documents`).

    Read with ``policy.default`` (which decodes encoded-word file names); when that raises,
    as its header parser does on some malformed headers (``Content-Type: ;.'.a=?;a*`` or
    ``filename=/>*</?@\\] ; .*`` give IndexError), again with ``compat32``, which takes
    headers as plain strings: a garbled header must not bounce a valid attachment."""
    message: Message
    try:
        message = BytesParser(policy=email.policy.default).parsebytes(raw)
        return message, *find_documents(message)
    except Exception:  # bugs of email.headerregistry on hostile input, of any type
        message = BytesParser(policy=email.policy.compat32).parsebytes(raw)
        return message, *find_documents(message)


def _header(message: Message, name: str) -> str | None:
    """A header's text, or its raw value when the standard library cannot parse it
    (``Message-ID: <[>`` and ``<>`` raise IndexError, ``From: a:b;c <d@e>`` AttributeError).
    Control characters and undecodable bytes become spaces: the value goes to logs and meta."""
    try:
        value = str(message.get(name, ""))
    except Exception:  # the same parser bugs as in read_message
        raw = (v for k, v in message.raw_items() if k.lower() == name.lower())
        value = str(next(raw, ""))
    return " ".join(_visible(value).split()) or None


def _visible(text: str) -> str:
    return "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in text)


def _isa_inside(data: bytes) -> bool:
    """A body that starts with a real ISA: 16 element separators in its 106 characters."""
    text = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    return text.startswith(b"ISA") and len(text) > 3 and text[:110].count(text[3:4]) >= 16


def _address(value: str) -> str:
    return email.utils.parseaddr(value)[1].strip().lower() or value.strip().lower()


class _Mailbox:
    """The aiosmtpd handler: identify at MAIL, check at RCPT, store at DATA."""

    def __init__(
        self,
        handler: Handler,
        registry: Callable[[], Registry],
        addresses: Iterable[str],
        events: Events,
        store_many: ManyHandler | None = None,
    ) -> None:
        self.store_many = store_many or one_by_one(handler)
        self.registry = registry
        self.addresses = {_address(a) for a in addresses}
        self.events = events

    def _partner(self, sender: str) -> tuple[str | None, str]:
        found = self.registry().identify_account("email", sender)
        if found.partner is None:
            return None, found.reason or f"unknown email sender {sender!r}"
        return found.partner.id, found.seen

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        loop = asyncio.get_running_loop()
        partner, reason = await loop.run_in_executor(None, self._partner, address)
        if partner is None:
            self.events.emit(
                "email_refused",
                logging.WARNING,
                sender=address,
                remote=_peer(session),
                reason=reason,
            )
            return f"550 5.7.1 {reason}: not a partner's address"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if _address(address) not in self.addresses:
            self.events.emit(
                "email_refused",
                logging.WARNING,
                sender=envelope.mail_from,
                recipient=address,
                remote=_peer(session),
                reason="not our address",
            )
            return f"550 5.1.1 <{address}>: no such mailbox here"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self._store, session, envelope)

    def _store(self, session: Session, envelope: Envelope) -> str:
        """DATA's answer. Any error of ours is a 451, logged: escaping, it would reach the
        sender as aiosmtpd's "500 Error: (IndexError) ...", a permanent bounce of what may
        be a valid order."""
        try:
            return self._take(session, envelope)
        except Exception as exc:
            log.exception("email from %s could not be taken", envelope.mail_from)
            self.events.emit(
                "email_store_failed", logging.ERROR, sender=envelope.mail_from, error=exc
            )
            return "451 4.3.0 cannot take the message now (internal error); try again later"

    def _take(self, session: Session, envelope: Envelope) -> str:
        sender = envelope.mail_from or ""
        partner, reason = self._partner(sender)
        if partner is None:  # the profiles changed during the dialogue
            return f"550 5.7.1 {reason}: not a partner's address"
        try:
            message, documents, others, skipped = read_message(envelope.original_content or b"")
        except Exception as exc:  # unreadable even as compat32: retrying cannot help
            what = f"its MIME structure cannot be read ({type(exc).__name__})"
            self._refused(partner, sender, None, what)
            return f"554 5.6.0 {what}"
        headers = {name: _header(message, field) for name, field in _HEADERS.items()}
        if not documents:
            held = "; ".join(skipped) or "no attachment"
            self._refused(partner, sender, headers["message_id"], f"no document ({held})")
            return f"550 5.6.0 no EDI, CSV or XML attachment found ({held})"[:500]
        meta: dict[str, Any] = {
            **headers,
            "mail_from": sender,
            "rcpt_to": list(envelope.rcpt_tos),
            "remote": _peer(session),
        }
        # The other files go in beside the documents (rejected as unknown, in docs list):
        # the 250 covers every file of the message, so none is dropped unseen.
        inbounds = [
            Inbound(doc.data, EMAIL_CHANNEL, partner, doc.filename, {**meta, "part": doc.index})
            for doc in sorted([*documents, *others], key=lambda a: a.index)
        ]
        try:
            receipts = self.store_many(inbounds)
        except Exception as exc:
            log.exception("email from %s could not be stored", sender)
            self.events.emit(
                "email_store_failed",
                logging.ERROR,
                partner=partner,
                message_id=headers["message_id"],
                error=exc,
            )
            return "451 4.3.0 cannot store the message now; try again later"
        ids = [str(r.document_id) for r in receipts]
        self.events.emit(
            "email_received",
            logging.INFO,
            partner=partner,
            sender=sender,
            message_id=headers["message_id"],
            documents=",".join(ids),
            **({"not_documents": ", ".join(a.filename or "" for a in others)} if others else {}),
        )
        return f"250 OK stored as document(s) {', '.join(ids)}"

    def _refused(self, partner: str, sender: str, message_id: str | None, reason: str) -> None:
        self.events.emit(
            "email_refused",
            logging.WARNING,
            partner=partner,
            sender=sender,
            message_id=message_id,
            reason=reason,
        )


def _peer(session: Session) -> str:
    peer: Any = session.peer
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"{peer[0]}:{peer[1]}"
    return str(peer)


class _Smtp(SMTP):
    """aiosmtpd's SMTP, reporting the size refusals it makes on its own as events."""

    def __init__(self, handler: Any, *, events: Events, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._events = events

    async def push(self, status: AnyStr) -> None:
        text = status.decode("ascii", "replace") if isinstance(status, bytes) else str(status)
        if text.startswith("552"):
            self._events.emit(
                "email_refused",
                logging.WARNING,
                sender=self.envelope.mail_from if self.envelope else None,
                remote=_peer(self.session) if self.session else None,
                reason="message too large",
            )
        await super().push(status)


class SmtpController(Controller):
    """aiosmtpd's threaded controller, able to listen on port 0 (a free port)."""

    def __init__(
        self,
        handler: Any,
        *,
        hostname: str = "127.0.0.1",
        port: int = 0,
        smtp_factory: Callable[[], SMTP] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(handler, hostname=hostname, port=port, **kwargs)
        self._smtp_factory = smtp_factory

    def factory(self) -> SMTP:
        if self._smtp_factory is not None:
            return self._smtp_factory()
        return SMTP(self.handler, **self.SMTP_kwargs)

    def _trigger_server(self) -> None:
        """Learn the port when it was 0, then make aiosmtpd build its SMTP object."""
        server: Any = self.server
        if self.port == 0 and server is not None:
            self.port = int(server.sockets[0].getsockname()[1])
        with socket.create_connection((self.hostname, self.port), 1.0) as conn:
            conn.recv(1024)

    @property
    def address(self) -> tuple[str, int]:
        return str(self.hostname), int(self.port)


class SmtpInbound:
    """The SMTP listener of ``edigate serve``."""

    def __init__(
        self,
        handler: Handler,
        registry: Callable[[], Registry],
        *,
        addresses: Iterable[str],
        host: str = "127.0.0.1",
        port: int = 2525,
        hostname: str = "edigate",
        max_message_size: int = DEFAULT_MAX_MESSAGE,
        on_event: EventSink | None = None,
        store_many: ManyHandler | None = None,
    ) -> None:
        """``store_many`` stores a message's documents all at once (``store_many_handler``);
        without it they go through ``handler`` one by one, and a failure half way leaves
        the first ones stored."""
        self.events = Events(log, on_event)
        self.mailbox = _Mailbox(handler, registry, addresses, self.events, store_many)
        if not self.mailbox.addresses:
            raise ConfigError("[smtp] addresses: the SMTP server needs at least one of ours")

        def make() -> SMTP:
            return _Smtp(
                self.mailbox,
                events=self.events,
                data_size_limit=max_message_size,
                hostname=hostname,
                enable_SMTPUTF8=True,
                timeout=300,
            )

        self.controller = SmtpController(self.mailbox, hostname=host, port=port, smtp_factory=make)

    @property
    def address(self) -> tuple[str, int]:
        return self.controller.address

    def start(self) -> SmtpInbound:
        # aiosmtpd logs each connection's open and close at INFO on "mail.log", its own
        # readiness probe at start included ("EOF received", "Connection lost"), which reads
        # like a fault; our events say what matters (README walkthrough).
        _AIOSMTPD_LOG.setLevel(max(logging.WARNING, _AIOSMTPD_LOG.level))
        self.controller.start()
        host, port = self.address
        log.info("smtp listening on %s:%s", host, port)
        return self

    def stop(self) -> None:
        self.controller.stop()


# ---------------------------------------------------------------- outbound

_MIME_TYPES = {
    ".edi": ("application", "edi-x12"),
    ".x12": ("application", "edi-x12"),
    ".csv": ("text", "csv"),
    ".xml": ("application", "xml"),
    ".json": ("application", "json"),
}


class EmailOutbound:
    """Mail a document to one partner address through the configured relay."""

    def __init__(
        self,
        config: SmtpOutConfig,
        to: str,
        *,
        subject: str | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.config = config
        self.to = to
        self.subject = subject
        self.environ = environ

    def _credentials(self) -> tuple[str, str] | None:
        env = os.environ if self.environ is None else self.environ
        names = (self.config.username_env, self.config.password_env)
        if names == (None, None):
            return None
        values = []
        for name in names:
            if not name or not env.get(name):
                raise DeliveryError(
                    "smtp_out: set both username_env and password_env, and the variables "
                    f"they name ({name or 'unset'} is empty)",
                    retryable=False,
                )
            values.append(env[name])
        return values[0], values[1]

    def build(self, document: Outbound) -> EmailMessage:
        config = self.config
        message = EmailMessage()
        message["From"] = config.from_address
        message["To"] = self.to
        kind = document.doc_type or "document"
        message["Subject"] = self.subject or f"{kind} {document.filename}"
        message["Date"] = email.utils.formatdate(localtime=False, usegmt=True)
        domain = config.from_address.rpartition("@")[2] or "edigate"
        message["Message-ID"] = email.utils.make_msgid(f"edigate.{document.document_id}", domain)
        message.set_content(
            f"{kind} {document.filename} (edigate document {document.document_id}) is attached.\n"
        )
        suffix = PurePosixPath(document.filename).suffix.lower()
        maintype, subtype = _MIME_TYPES.get(suffix, ("application", "octet-stream"))
        message.add_attachment(
            document.data, maintype=maintype, subtype=subtype, filename=document.filename
        )
        return message

    def send(self, document: Outbound) -> Delivery:
        config = self.config
        if not config.host:
            raise DeliveryError(
                "email out needs a relay: set [smtp_out] host in edigate.toml", retryable=False
            )
        credentials = self._credentials()
        message = self.build(document)
        relay = f"{config.host}:{config.port}"
        try:
            with smtplib.SMTP(config.host, config.port, timeout=config.timeout) as smtp:
                smtp.ehlo()
                if config.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                if credentials is not None:
                    smtp.login(*credentials)
                smtp.send_message(message, config.from_address, [self.to])
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            raise DeliveryError(
                f"{relay} refused {self.to}: {code} {_text(reply)}", retryable=400 <= code < 500
            ) from exc
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(
                f"{relay} refused our login: {exc.smtp_code} {_text(exc.smtp_error)}",
                retryable=False,
            ) from exc
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(
                f"{relay} answered {exc.smtp_code} {_text(exc.smtp_error)}",
                retryable=400 <= exc.smtp_code < 500,
            ) from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise DeliveryError(f"{relay}: {exc}", retryable=False) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"mail to {self.to} via {relay} failed: {exc!r}") from exc
        message_id = str(message["Message-ID"])
        return Delivery(
            f"mailed to {self.to} via {relay}",
            meta={"message_id": message_id, "to": self.to, "relay": relay},
        )

    def close(self) -> None:
        """Nothing to release: every send opens and closes its own connection."""


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
