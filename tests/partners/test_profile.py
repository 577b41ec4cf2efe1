"""Profile sections: envelope separators, SSH keys, channels, and checks across sections."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import ValidationError

from edigate.partners.loader import parse_yaml, validate
from edigate.partners.profile import Envelope, PartnerProfile, SftpAccount, profile_problems
from edigate.partners.sshkeys import fingerprint, parse_authorized_key
from edigate.x12 import ErrorCode, ReaderLimits, TransactionSet, X12Reader
from edigate.x12.separators import Separators

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def test_envelope_to_separators() -> None:
    env = Envelope.model_validate(
        {"version": "005010", "separators": {"component": ":"}, "newline": "crlf"}
    )
    assert env.to_separators() == Separators("*", ":", "~", "^", "\r\n")
    assert Envelope().to_separators() == Separators("*", ">", "~", None, "\n")


def test_004010_has_no_repetition_separator() -> None:
    with pytest.raises(ValidationError, match="004010 has no repetition separator"):
        Envelope.model_validate({"separators": {"repetition": "^"}})


def test_separators_must_be_distinct() -> None:
    with pytest.raises(ValidationError, match="distinct"):
        Envelope.model_validate({"separators": {"element": "~"}})


def test_bare_tilde_is_null_in_yaml_and_says_so() -> None:
    source = parse_yaml("separators:\n  segment: ~\n", "partners/p.yaml")
    _, errors = validate(Envelope, source)
    assert [str(e) for e in errors] == [
        'partners/p.yaml:2: separators.segment: empty; quote the character, e.g. "~" '
        "(a bare ~ is null in YAML)"
    ]


def test_generated_ed25519_key_is_accepted(ed25519_public: str) -> None:
    key = parse_authorized_key(ed25519_public)
    assert key.key_type == "ssh-ed25519"
    assert key.comment == "test-key"
    assert key.fingerprint == fingerprint(base64.b64decode(ed25519_public.split()[1]))
    assert key.line() == ed25519_public
    SftpAccount.model_validate({"username": "acme", "public_keys": [ed25519_public]})


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("ssh-ed25519", "a public key is 'type base64"),
        ("ssh-dss AAAAB3NzaC1kc3M= x", "unsupported key type 'ssh-dss'"),
        ('from="10.0.0.1" ssh-ed25519 AAAA', "options before the key are not allowed"),
        ("ssh-ed25519 not*base64", "not valid base64"),
        ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA==", "does not decode"),
    ],
)
def test_bad_public_keys(line: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_authorized_key(line)


def test_truncated_key_in_profile_names_line(ed25519_public: str) -> None:
    broken = ed25519_public[:40]
    text = f"username: acme\npublic_keys:\n  - {ed25519_public}\n  - {broken}\n"
    _, errors = validate(SftpAccount, parse_yaml(text, "partners/acme.yaml"))
    assert len(errors) == 1
    assert str(errors[0]).startswith("partners/acme.yaml:4: public_keys[1]: ssh-ed25519 key")


def test_short_rsa_key_is_refused() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
    line = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    with pytest.raises(ValueError, match="RSA key has 1024 bits"):
        parse_authorized_key(line.decode())


def test_sftp_account_needs_a_credential() -> None:
    with pytest.raises(ValidationError, match="needs public_keys or a password_hash"):
        SftpAccount.model_validate({"username": "acme"})


def _profile(**changes: object) -> PartnerProfile:
    data: dict[str, object] = {
        "id": "p",
        "name": "P",
        "identity": {"production": {"qualifier": "ZZ", "id": "P", "gs": "P"}},
        "us": {"production": {"qualifier": "ZZ", "id": "US", "gs": "US"}},
        "outbound": {"type": "folder", "path": "out"},
        "map": "p",
    }
    data.update(changes)
    return PartnerProfile.model_validate(data)


def test_cross_section_problems() -> None:
    assert profile_problems(_profile()) == []
    assert profile_problems(_profile(ack={"functional": "999"})) == [
        (("ack", "functional"), "a 999 needs envelope version 005010")
    ]
    assert profile_problems(_profile(outbound=None)) == [
        (("ack",), "acknowledgements need an 'outbound' channel")
    ]
    assert profile_problems(_profile(outbound={"type": "sftp_pickup"})) == [
        (("outbound", "type"), "sftp_pickup needs an inbound.sftp account")
    ]
    as2_out = {"type": "as2", "url": "https://as2.example/in"}
    assert profile_problems(_profile(outbound=as2_out)) == [
        (("outbound", "type"), "as2 needs inbound.as2 (the AS2 IDs)")
    ]
    as2_in = {"inbound": {"as2": {"partner_id": "THEM", "our_id": "US"}}}
    assert profile_problems(_profile(outbound=as2_out, **as2_in)) == [
        (("inbound", "as2"), "encrypting needs partner_certificate"),
        (("inbound", "as2"), "signing needs our_certificate and our_private_key"),
    ]
    assert profile_problems(_profile(us=None)) == [
        (("identity",), "'identity' (theirs) and 'us' (ours) go together")
    ]


def test_outbound_variants() -> None:
    push = _profile(
        outbound={
            "type": "sftp_push",
            "host": "h",
            "username": "u",
            "host_key_fingerprint": "SHA256:" + "A" * 43,
        }
    )
    assert push.outbound is not None and push.outbound.type == "sftp_push"
    with pytest.raises(ValidationError, match="host_key_fingerprint"):
        _profile(outbound={"type": "sftp_push", "host": "h", "username": "u"})
    with pytest.raises(ValidationError, match="OpenSSH SHA256 fingerprint"):
        _profile(
            outbound={
                "type": "sftp_push",
                "host": "h",
                "username": "u",
                "host_key_fingerprint": "MD5:aa:bb",
            }
        )
    with pytest.raises(ValidationError, match="async MDN needs mdn_url"):
        _profile(outbound={"type": "as2", "url": "https://x", "mdn": "async"})
    with pytest.raises(ValidationError, match="relative path inside"):
        _profile(outbound={"type": "sftp_pickup", "folder": "../etc"})
    email = _profile(outbound={"type": "email", "to": "edi@example.com"})
    assert email.outbound is not None and email.outbound.type == "email"


def test_test_identity_defaults_to_production() -> None:
    p = _profile()
    assert p.identity is not None
    assert p.identity.for_usage("test") == p.identity.for_usage("production")


def test_isa_id_limits() -> None:
    with pytest.raises(ValidationError, match="1-15 printable"):
        _profile(identity={"production": {"qualifier": "ZZ", "id": "X" * 16, "gs": "X"}})
    with pytest.raises(ValidationError, match="qualifier"):
        _profile(identity={"production": {"qualifier": "zz", "id": "X", "gs": "X"}})


def test_limits_default_to_the_readers_and_become_reader_limits() -> None:
    assert _profile().reader_limits == ReaderLimits()
    profile = _profile(limits={"max_segment_chars": 4096, "max_transaction_segments": 200})
    assert profile.reader_limits == ReaderLimits(
        max_segment_chars=4096, max_transaction_segments=200
    )


def test_limits_errors_name_the_line() -> None:
    text = (
        "id: p\nname: P\nack: {functional: none}\nmap: p\nlimits:\n"
        "  max_segment_chars: 10\n  max_transaction_segments: lots\n  max_segments: 5\n"
    )
    _, errors = validate(PartnerProfile, parse_yaml(text, "partners/p.yaml"))
    assert [str(e) for e in errors] == [
        "partners/p.yaml:6: limits.max_segment_chars: input should be greater than or equal "
        "to 1024 (got '10')",
        "partners/p.yaml:7: limits.max_transaction_segments: input should be a valid integer, "
        "unable to parse string as an integer (got 'lots')",
        "partners/p.yaml:8: limits.max_segments: unknown key 'max_segments' "
        "(did you mean 'max_segment_chars'?)",
    ]


def test_a_partners_transaction_limit_bounds_what_the_reader_keeps() -> None:
    sample = (SAMPLES / "x12/850-004010-retailer.edi").read_bytes()  # 32 segments in its ST
    strict = _profile(limits={"max_transaction_segments": 100})
    lenient = _profile()
    body = sample[sample.index(b"PO1*") : sample.index(b"CTT*")]
    big = sample.replace(b"CTT*", body * 20 + b"CTT*", 1)  # about 200 segments
    (kept,) = [
        e
        for e in X12Reader(big, limits=strict.reader_limits).events()
        if isinstance(e, TransactionSet)
    ]
    assert ErrorCode.TRANSACTION_TOO_LARGE in [f.code for f in kept.findings]
    assert len(kept.segments) == 101 and not kept.complete
    (whole,) = [
        e
        for e in X12Reader(big, limits=lenient.reader_limits).events()
        if isinstance(e, TransactionSet)
    ]
    assert ErrorCode.TRANSACTION_TOO_LARGE not in [f.code for f in whole.findings]
    assert len(whole.segments) > 200


def test_inbound_sftp_poll_pins_the_host_key_and_keeps_its_timings_sane() -> None:
    poll = {"host": "sftp.acme.example", "username": "vendor981"}
    fingerprint = "SHA256:" + "A" * 43
    p = _profile(inbound={"sftp_poll": {**poll, "host_key_fingerprint": fingerprint}})
    assert p.inbound.sftp_poll is not None
    assert (p.inbound.sftp_poll.folder, p.inbound.sftp_poll.interval_seconds) == (".", 60)
    with pytest.raises(ValidationError, match="host_key_fingerprint"):
        _profile(inbound={"sftp_poll": poll})  # never learned on first contact
    for bad in ({"interval_seconds": 0}, {"settle_seconds": -1}, {"port": 0}):
        with pytest.raises(ValidationError, match=next(iter(bad))):
            _profile(inbound={"sftp_poll": {**poll, "host_key_fingerprint": fingerprint, **bad}})


def test_accept_versions_become_the_ack_options_and_name_a_bad_one() -> None:
    assert _profile().ack.ack_options().versions is None
    strict = _profile(ack={"accept_versions": ["004010", "005010"]})
    assert strict.ack.ack_options().versions == frozenset({"004010", "005010"})
    assert strict.ack.ack_options().ta1 == "on_request"
    text = "id: p\nname: P\nack:\n  accept_versions: [004010, 4010]\nmap: p\n"
    _, errors = validate(PartnerProfile, parse_yaml(text, "partners/p.yaml"))
    assert [str(e) for e in errors] == [
        "partners/p.yaml:4: ack.accept_versions[1]: '4010': a GS08 version and release is "
        '6 digits, e.g. "004010"'
    ]
    assert profile_problems(_profile(ack={"functional": "none", "accept_versions": ["004010"]}))
    assert profile_problems(
        _profile(ack={"functional": "none", "accept_versions": ["004010"]}, outbound=None)
    ) == [
        (
            ("ack", "accept_versions"),
            "a group under another version is rejected in the 997/999 (AK905 2): "
            "accept_versions needs ack.functional 997 or 999",
        )
    ]
