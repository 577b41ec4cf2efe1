"""Certificates and keys for AS2: load them (PEM, DER, PKCS#7, PKCS#12), check their dates,
and make a self-signed identity for a new setup.

    certs = load_certificates("partners/acme.pem")      # one or several (rollover)
    findings = check_validity(certs[0])                 # expired -> error, < 30 days -> warning
    identity = keygen("EDIGATE-PROD", "keys/")          # keys/EDIGATE-PROD.key (0600) + .crt
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12
from cryptography.x509.oid import NameOID

from ...errors import ConfigError

WARN_DAYS = 30


def _read(path: str | Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {exc.strerror or exc}", path=str(path)) from exc


def load_certificates(path: str | Path) -> list[x509.Certificate]:
    """Every certificate in a PEM file (one or more), a DER file or a PKCS#7 bundle."""
    data = _read(path)
    try:
        if b"-----BEGIN PKCS7-----" in data:
            certs = pkcs7.load_pem_pkcs7_certificates(data)
        elif b"-----BEGIN" in data:
            certs = x509.load_pem_x509_certificates(data)
        else:
            try:
                certs = [x509.load_der_x509_certificate(data)]
            except ValueError:
                certs = pkcs7.load_der_pkcs7_certificates(data)
    except ValueError as exc:
        raise ConfigError(
            f"not a certificate (expected PEM, DER or PKCS#7): {exc}", path=str(path)
        ) from exc
    if not certs:
        raise ConfigError("no certificate in the file", path=str(path))
    return list(certs)


def load_private_key(path: str | Path, password: str | None = None) -> rsa.RSAPrivateKey:
    """An RSA private key from a PEM or DER file (PKCS#1 or PKCS#8, optionally encrypted)."""
    data = _read(path)
    secret = password.encode() if password is not None else None
    try:
        if b"-----BEGIN" in data:
            key = serialization.load_pem_private_key(data, secret)
        else:
            key = serialization.load_der_private_key(data, secret)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"not a usable private key: {exc}", path=str(path)) from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError("AS2 needs an RSA private key", path=str(path))
    return key


def load_pkcs12(
    path: str | Path, password: str | None = None
) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """Our key and certificate from a .p12/.pfx file."""
    data = _read(path)
    secret = password.encode() if password is not None else None
    try:
        key, cert, _ = pkcs12.load_key_and_certificates(data, secret)
    except ValueError as exc:
        raise ConfigError(f"not a readable PKCS#12 file: {exc}", path=str(path)) from exc
    if not isinstance(key, rsa.RSAPrivateKey) or cert is None:
        raise ConfigError("the PKCS#12 file holds no RSA key with its certificate", path=str(path))
    return key, cert


def check_key_matches(key: rsa.RSAPrivateKey, cert: x509.Certificate) -> bool:
    """Does ``cert`` carry the public half of ``key``?"""
    public = cert.public_key()
    return (
        isinstance(public, rsa.RSAPublicKey)
        and public.public_numbers() == key.public_key().public_numbers()
    )


@dataclass(frozen=True, slots=True)
class CertFinding:
    """A problem with a certificate's dates: ``error`` (unusable now) or ``warning`` (soon)."""

    severity: str  # error | warning
    message: str
    subject: str
    not_after: datetime


def check_validity(
    cert: x509.Certificate,
    *,
    now: datetime | None = None,
    warn_days: int = WARN_DAYS,
    label: str | None = None,
) -> list[CertFinding]:
    """Date findings for ``cert``: expired or not yet valid (error), expiring soon (warning)."""
    now = now or datetime.now(UTC)
    subject = cert.subject.rfc4514_string()
    who = f"{label}: " if label else ""
    after, before = cert.not_valid_after_utc, cert.not_valid_before_utc
    if now > after:
        message = f"{who}certificate {subject} expired on {after:%Y-%m-%d}"
        return [CertFinding("error", message, subject, after)]
    if now < before:
        message = f"{who}certificate {subject} is not valid before {before:%Y-%m-%d}"
        return [CertFinding("error", message, subject, after)]
    if after - now <= timedelta(days=warn_days):
        days = (after - now).days
        message = f"{who}certificate {subject} expires on {after:%Y-%m-%d} (in {days} days)"
        return [CertFinding("warning", message, subject, after)]
    return []


@dataclass(frozen=True, slots=True)
class Identity:
    """What :func:`keygen` wrote."""

    key_path: Path
    cert_path: Path
    certificate: x509.Certificate


def make_certificate(
    key: rsa.RSAPrivateKey,
    common_name: str,
    *,
    days: int = 730,
    not_before: datetime | None = None,
    organization: str | None = None,
) -> x509.Certificate:
    """A self-signed certificate for AS2 signing and encryption (also used by the tests)."""
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    name = x509.Name(attrs)
    start = not_before or (datetime.now(UTC) - timedelta(minutes=5))
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=True,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )


def keygen(
    common_name: str,
    out_dir: str | Path,
    *,
    days: int = 730,
    key_size: int = 2048,
    organization: str | None = None,
    overwrite: bool = False,
) -> Identity:
    """Write a new RSA key (mode 0600) and its self-signed certificate into ``out_dir``.

    Files are ``<name>.key`` and ``<name>.crt`` (PEM), ``<name>`` being the common name made
    file-safe. Existing files are never replaced unless ``overwrite``.
    """
    if key_size not in (2048, 3072, 4096):
        raise ConfigError(f"key size must be 2048, 3072 or 4096, not {key_size}")
    if days < 1:
        raise ConfigError(f"days must be positive, not {days}")
    directory = Path(out_dir)
    directory.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", common_name).strip("._") or "as2"
    key_path, cert_path = directory / f"{stem}.key", directory / f"{stem}.crt"
    if not overwrite:
        for path in (key_path, cert_path):
            if path.exists():
                raise ConfigError("already exists; refusing to overwrite a key", path=str(path))
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    cert = make_certificate(key, common_name, days=days, organization=organization)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | (0 if overwrite else os.O_EXCL)
    fd = os.open(key_path, flags, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key_pem)
    os.chmod(key_path, 0o600)  # also when an existing file was overwritten
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return Identity(key_path, cert_path, cert)
