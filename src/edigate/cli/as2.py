"""``edigate as2 ...``: keys and certificates for AS2 partners.

``edigate as2 keygen --cn EDIGATE --out config/as2`` writes ``EDIGATE.key`` (mode 0600) and
the self-signed ``EDIGATE.crt`` to send to the partner; the fingerprint printed lets both
sides confirm the certificate over the phone.
"""

from __future__ import annotations

from pathlib import Path

import click
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from ..channels.as2.certs import keygen as make_identity
from ..channels.as2.certs import load_certificates
from ..errors import EdigateError


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the DER certificate, as colon-separated hex (what most AS2 tools show)."""
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()


@click.group()
def as2() -> None:
    """AS2 keys and certificates."""


@as2.command()
@click.option("--cn", required=True, help="Common name, usually our AS2 id (e.g. EDIGATE).")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for NAME.key and NAME.crt (created if missing).",
)
@click.option("--days", type=click.IntRange(1, 36500), default=730, show_default=True)
@click.option("--key-size", type=click.Choice(["2048", "3072", "4096"]), default="2048")
@click.option("--org", help="Organization name in the certificate.")
@click.option("--force", is_flag=True, help="Replace existing files (the old key is lost).")
def keygen(cn: str, out_dir: Path, days: int, key_size: str, org: str | None, force: bool) -> None:
    """Make a new RSA key and self-signed certificate for AS2 signing and encryption."""
    try:
        identity = make_identity(
            cn, out_dir, days=days, key_size=int(key_size), organization=org, overwrite=force
        )
    except EdigateError as exc:
        raise click.ClickException(str(exc)) from exc
    cert = identity.certificate
    click.echo(f"private key:  {identity.key_path}  (keep it secret; mode 0600)")
    click.echo(f"certificate:  {identity.cert_path}  (send this one to the partner)")
    click.echo(f"subject:      {cert.subject.rfc4514_string()}")
    click.echo(f"valid until:  {cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC")
    click.echo(f"SHA-256:      {fingerprint(cert)}")
    click.echo(
        "In the partner's profile (a path relative to the config dir, or absolute):\n"
        f"  inbound.as2.our_private_key: {identity.key_path}\n"
        f"  inbound.as2.our_certificate: {identity.cert_path}"
    )


@as2.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def show(path: Path) -> None:
    """Print subject, validity and fingerprint of each certificate in PATH."""
    try:
        certs = load_certificates(path)
    except EdigateError as exc:
        raise click.ClickException(str(exc)) from exc
    for cert in certs:
        click.echo(f"subject:      {cert.subject.rfc4514_string()}")
        click.echo(f"issuer:       {cert.issuer.rfc4514_string()}")
        click.echo(f"valid from:   {cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC")
        click.echo(f"valid until:  {cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC")
        click.echo(f"SHA-256:      {fingerprint(cert)}")
