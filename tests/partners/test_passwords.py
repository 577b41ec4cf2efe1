"""scrypt password hashes for SFTP accounts; plaintext is refused."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from edigate.partners.loader import parse_yaml, validate
from edigate.partners.passwords import hash_password, parse_hash, verify_password
from edigate.partners.profile import SftpAccount


def test_hash_verifies_the_right_password_only(demo_hash: str) -> None:
    assert verify_password("s3cret-demo", demo_hash)
    assert not verify_password("s3cret-demO", demo_hash)
    assert not verify_password("", demo_hash)


def test_encoding_is_documented_and_matches_hashlib() -> None:
    salt = bytes(range(16))
    encoded = hash_password("pw", n=2**14, r=8, p=1, salt=salt)
    scheme, n, r, p, salt_b64, hash_b64 = encoded.split("$")
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1")
    assert base64.b64decode(salt_b64 + "==") == salt
    expected = hashlib.scrypt(b"pw", salt=salt, n=2**14, r=8, p=1, dklen=32)
    assert base64.b64decode(hash_b64 + "=") == expected


def test_fresh_salt_each_time() -> None:
    assert hash_password("same", n=2**14) != hash_password("same", n=2**14)


def test_example_demo_credential_is_the_documented_password() -> None:
    text = (Path(__file__).resolve().parents[2] / "partners/initech-csv.yaml").read_text()
    line = next(t for t in text.splitlines() if "password_hash:" in t)
    assert verify_password("demo-initech", line.split("password_hash:")[1].strip())


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("hunter2", "plaintext passwords are refused"),
        ("scrypt$16384$8$1$c2FsdA", "plaintext passwords are refused"),
        ("scrypt$1000$8$1$AAAAAAAAAAAAAAAAAAAAAA$" + "A" * 43, "power of two"),
        ("scrypt$16384$8$1$c2FsdA$" + "A" * 43, "salt must be at least 16 bytes"),
        ("scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAA", "hash must be at least 32 bytes"),
        ("scrypt$16384$x$1$AAAAAAAAAAAAAAAAAAAAAA$" + "A" * 43, "must be integers"),
        ("scrypt$16384$8$1$!!$" + "A" * 43, "base64"),
    ],
)
def test_bad_hashes_are_refused(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_hash(value)


def test_profile_refuses_plaintext_with_file_and_line() -> None:
    source = parse_yaml("username: acme\npassword_hash: hunter2\n", "partners/acme.yaml")
    account, errors = validate(SftpAccount, source)
    assert account is None
    assert [str(e) for e in errors] == [
        "partners/acme.yaml:2: password_hash: password_hash must be a scrypt hash "
        "'scrypt$n$r$p$salt$hash' (make one with 'edigate partners hash-password'); "
        "plaintext passwords are refused"
    ]


def test_hash_password_refuses_weak_parameters_and_empty_passwords() -> None:
    with pytest.raises(ValueError):
        hash_password("x", n=1024)
    with pytest.raises(ValueError):
        hash_password("")
    with pytest.raises(ValueError):
        hash_password("x", n=2**14, salt=b"short")
