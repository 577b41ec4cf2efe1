"""The fuzz targets: one function per parser of untrusted input, each checking its contract.

The contract is the same everywhere: any input yields a result (events, findings, issues, a
plan) or one of our structured errors (an :class:`~edigate.errors.EdigateError`), never
another exception; and what it yields can be stored (findings and issues serialise to JSON).
A target returns normally when the contract holds and lets anything else escape.

Shared by the bounded hypothesis tests (``tests/security/test_fuzz_*.py``), the longer
atheris harnesses (``tests/fuzz/``) and the replay of kept crash inputs
(``tests/regressions/``), so all three check exactly the same thing.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from edigate.channels.as2.certs import make_certificate
from edigate.channels.as2.errors import As2Error
from edigate.channels.as2.message import build_message, unpack
from edigate.channels.as2.mime import parse_entity, split_multipart
from edigate.channels.as2.partner import As2Partner
from edigate.errors import ConfigError, EdigateError
from edigate.formats import FormatIssue, read_partner_orders
from edigate.partners import PartnerMap, Registry, check_config, load_registry, parse_yaml
from edigate.pipeline.detect import Format
from edigate.pipeline.partner_files import plan_partner_file
from edigate.translate import translate_850
from edigate.x12 import Finding, ReaderLimits, TransactionSet, X12Reader, validate_transaction
from edigate.x12.acks import acknowledge, parse_acks

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
REGRESSIONS = ROOT / "tests" / "regressions"
TODAY = dt.date(2026, 11, 23)

#: Seeds: real documents of each kind, mutated by the fuzzers.
X12_SEEDS = sorted(
    [
        *(SAMPLES / "x12").glob("*.edi"),
        *(SAMPLES / "demo").glob("*.edi"),
        *(SAMPLES / "expected").glob("*.edi"),
    ]
)
CSV_SEEDS = sorted((SAMPLES / "csv").glob("*.csv"))
XML_SEEDS = sorted((SAMPLES / "xml").glob("*.xml"))
YAML_SEEDS = {
    "profile": ROOT / "partners" / "initech-csv.yaml",
    "map": ROOT / "maps" / "initech-csv.yaml",
}


#: The regular run replays the same examples every time (no flaky CI); a longer run with
#: ``EDIGATE_FUZZ_SCALE=N`` explores new ones.
DERANDOMIZE = "EDIGATE_FUZZ_SCALE" not in os.environ


def examples(count: int) -> int:
    """``count`` hypothesis examples, times ``EDIGATE_FUZZ_SCALE`` (default 1) for longer runs."""
    return count * int(os.environ.get("EDIGATE_FUZZ_SCALE", "1"))


class TooSlow(AssertionError):
    """One input took longer than its bound."""


def bounded(seconds: float, fn: Callable[..., Any], *args: Any) -> Any:
    """Run ``fn(*args)`` in a worker thread; fail when it is not done within ``seconds``.

    The thread cannot be killed, so a hang leaves it running (daemon) and the test fails at
    once with the input, instead of the whole run hanging until pytest's timeout.
    """
    result: list[Any] = []
    error: list[BaseException] = []

    def run() -> None:
        try:
            result.append(fn(*args))
        except BaseException as exc:  # handed to the caller as is
            error.append(exc)

    thread = threading.Thread(target=run, daemon=True, name="fuzz-input")
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise TooSlow(f"{getattr(fn, '__name__', fn)} took more than {seconds} s on this input")
    if error:
        raise error[0]
    return result[0] if result else None


# --------------------------------------------------------------------------- shape checks


def check_finding(finding: Finding) -> None:
    """A finding the store and the acks can take: JSON-able, with a sane position."""
    json.dumps(finding.to_dict())
    assert finding.code.label and finding.message, finding
    segment = finding.location.segment
    assert segment is None or segment >= 0, finding
    str(finding)


def check_issue(issue: FormatIssue) -> None:
    json.dumps(issue.to_dict())
    assert issue.line is None or issue.line >= 1, issue
    str(issue)


# --------------------------------------------------------------------------- X12


#: Small limits make the fuzzers reach the limit paths with small inputs.
SMALL_LIMITS = ReaderLimits(max_segment_chars=200, max_transaction_segments=40)


def x12(data: bytes, *, limits: ReaderLimits | None = None) -> list[Any]:
    """Reader, validator and 850 translation over ``data``: they never raise on bad input."""
    events = list(X12Reader(data, limits=limits).events())
    for event in events:
        if isinstance(event, Finding):
            check_finding(event)
        elif isinstance(event, TransactionSet):
            for finding in event.findings:
                check_finding(finding)
            validate(event)
        else:
            for finding in getattr(event, "findings", ()):
                check_finding(finding)
    for _position, segment in X12Reader(data, limits=limits).segments():
        assert isinstance(segment, list)
    acks(data, limits)
    return events


def acks(data: bytes, limits: ReaderLimits | None = None) -> None:
    """The 997, 999 and TA1 we would send back, and the parse of ``data`` as a partner's acks.

    What we send must be clean X12 whatever we received: every 997/999 transaction we write
    validates against our own spec. (The envelope around it is the partner's, rewritten by
    the pipeline from the profile, so its IDs are not checked here.)
    """
    for kind in ("997", "999"):
        answer = acknowledge(data, kind, validate=validate_transaction, limits=limits)
        for output in answer.outputs:
            if output.functional is not None:
                check_clean(output.functional)
    received = parse_acks(data, limits=limits)
    for finding in received.findings:
        check_finding(finding)


def check_clean(written: bytes) -> None:
    """Each transaction of ``written`` (an interchange we produced) validates without error."""
    problems: list[Finding] = []
    for event in X12Reader(written).events():
        if isinstance(event, TransactionSet):
            problems += event.findings + validate_transaction(event)
    errors = [f for f in problems if f.is_error]
    assert errors == [], (errors, written)


def validate(tx: TransactionSet) -> list[Finding]:
    """Validate one transaction (and translate it when it is an 850), as the pipeline does.

    An 850 without errors becomes the order JSON the ERP gets: that must always serialise.
    """
    findings = validate_transaction(tx)
    for finding in findings:
        check_finding(finding)
    if tx.set_id == "850":
        result = translate_850(tx)
        for finding in result.findings:
            check_finding(finding)
        found = [*tx.findings, *findings, *result.findings]
        if result.document is not None and not any(f.is_error for f in found):
            result.document.model_dump_json(exclude_none=True)
    return findings


def summary(events: list[Any]) -> list[tuple[Any, ...]]:
    """What must not depend on how the input was chunked: each event's kind, place, codes."""
    out: list[tuple[Any, ...]] = []
    for event in events:
        if isinstance(event, Finding):
            out.append(("finding", event.code, event.location.segment))
        elif isinstance(event, TransactionSet):
            codes = tuple((f.code, f.location.segment) for f in event.findings)
            out.append(("tx", event.position, event.segment_count, event.segments, codes))
        else:
            findings = tuple((f.code, f.location.segment) for f in getattr(event, "findings", ()))
            out.append((type(event).__name__, getattr(event, "position", None), findings))
    return out


# --------------------------------------------------------------------------- CSV and XML


@functools.lru_cache(maxsize=1)
def registry() -> Registry:
    """The example partners (initech-csv reads CSV, contoso-cxml reads cXML)."""
    return load_registry(ROOT)


def partner_map(partner_id: str) -> PartnerMap:
    partner = registry().get(partner_id)
    assert partner is not None, partner_id
    return partner.map


def partner_file(data: bytes, partner_id: str, fmt: Format) -> Any:
    """A partner's CSV/XML file through the pipeline's plan: read, map, answer (no DB)."""
    plan = plan_partner_file(registry(), partner_id, "fuzz", data, fmt, TODAY)
    json.dumps(plan.errors, default=str)
    for order in plan.orders:
        json.dumps(order.errors, default=str)
        # Stored in a text column: PostgreSQL cannot hold NUL.
        assert "\x00" not in (order.po_number or ""), order.po_number
        if order.order_json is not None:
            assert b"\\u0000" not in order.order_json
            json.loads(order.order_json)
    return plan


def csv_orders(data: bytes) -> Any:
    """The CSV reader with initech-csv's layout, then its map and its CSV answer."""
    result = read_partner_orders(data, partner_map("initech-csv"))
    for issue in result.issues:
        check_issue(issue)
    return partner_file(data, "initech-csv", Format.CSV)


def xml_orders(data: bytes) -> Any:
    """The XML reader with contoso-cxml's layout, then its map and its cXML answer."""
    result = read_partner_orders(data, partner_map("contoso-cxml"))
    for issue in result.issues:
        check_issue(issue)
    return partner_file(data, "contoso-cxml", Format.XML)


# --------------------------------------------------------------------------- partner YAML


class ConfigDir:
    """A scratch config directory holding initech-csv's profile and map (one can be swapped).

    One partner keeps each check fast; initech's profile and map between them exercise
    profiles, password hashes, SKU tables, CSV layouts and templates.
    """

    def __init__(self) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="edigate-fuzz-config-"))
        for kind, seed in YAML_SEEDS.items():
            folder = self.path / ("partners" if kind == "profile" else "maps")
            folder.mkdir()
            shutil.copy(seed, folder / seed.name)

    def write(self, kind: str, text: str) -> None:
        for other, seed in YAML_SEEDS.items():
            folder = self.path / ("partners" if other == "profile" else "maps")
            body = text if other == kind else seed.read_text(encoding="utf-8")
            (folder / seed.name).write_text(body, encoding="utf-8", errors="surrogateescape")

    def close(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def partner_yaml(text: str, kind: str, config: ConfigDir) -> Any:
    """Mutated profile or map text: parsed, or ConfigError(s) naming file and line."""
    try:
        parse_yaml(text, f"{kind}.yaml")
    except ConfigError as exc:
        assert str(exc)
    config.write(kind, text)
    result = check_config(config.path)
    for problem in result.problems:
        assert isinstance(problem, ConfigError)
        assert problem.path, problem
        str(problem)
    return result


# --------------------------------------------------------------------------- AS2


@dataclass(frozen=True)
class As2Fixture:
    """Two identities and the relationship as the receiver sees it, plus seed messages."""

    partner: As2Partner  # the receiver's view: verifies the sender, decrypts with its key
    sender: As2Partner  # the sender's view, to build seeds
    seeds: tuple[bytes, ...]


def _identity(name: str) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key, make_certificate(key, name, days=365)


@functools.lru_cache(maxsize=1)
def as2_fixture() -> As2Fixture:
    alice_key, alice_cert = _identity("alice")
    bob_key, bob_cert = _identity("bob")
    receiver = As2Partner(
        partner_id="alice",
        our_as2_id="BOB",
        their_as2_id="ALICE",
        our_key=bob_key,
        our_cert=bob_cert,
        their_certs=(alice_cert,),
        require_signed=False,
    )
    sender = As2Partner(
        partner_id="bob",
        our_as2_id="ALICE",
        their_as2_id="BOB",
        our_key=alice_key,
        our_cert=alice_cert,
        their_certs=(bob_cert,),
    )
    payload = (SAMPLES / "x12" / "850-004010-retailer.edi").read_bytes()
    seeds = []
    for sign, encrypt, compress, before in [
        (False, False, False, True),
        (True, False, False, True),
        (False, True, False, True),
        (False, False, True, True),
        (True, True, False, True),
        (True, True, True, True),
        (True, False, True, False),
    ]:
        options = replace(
            sender, sign=sign, encrypt=encrypt, compress=compress, compress_before_sign=before
        )
        message = build_message(payload, options, filename="po.edi")
        seeds.append(http_message(message.headers, message.body))
    return As2Fixture(receiver, sender, tuple(seeds))


def http_message(headers: list[tuple[str, str]], body: bytes) -> bytes:
    """Headers and body as one byte string, the way the fuzzers mutate an HTTP request."""
    block = b"".join(f"{k}: {v}\r\n".encode("latin-1") for k, v in headers)
    return block + b"\r\n" + body


#: A small inflation limit: the fuzzers must not allocate 100 MB per input.
AS2_MAX_DECOMPRESSED = 1 << 20


def as2_message(data: bytes) -> Any:
    """An incoming AS2 request (headers + body): unpacked, or an As2Error with its modifier."""
    entity = parse_entity(data)
    assert entity.raw == data
    assert entity.header_block + entity.body == data or entity.header_block == b""
    if entity.content_type.startswith("multipart/"):
        try:
            for part in split_multipart(entity):
                assert part.raw in entity.body
        except As2Error:
            pass
    try:
        unpacked = unpack(
            entity,
            as2_fixture().partner,
            requested_micalgs=("sha256",),
            max_decompressed=AS2_MAX_DECOMPRESSED,
        )
    except As2Error as exc:
        assert isinstance(exc, EdigateError)
        assert str(exc)
        return exc
    assert len(unpacked.payload) <= max(len(data), AS2_MAX_DECOMPRESSED) * 2
    return unpacked


TARGETS: dict[str, Callable[[bytes], Any]] = {
    "x12": x12,
    "csv": csv_orders,
    "xml": xml_orders,
    "as2": as2_message,
}
