"""Startup checks of the private keys a gateway process will need.

``serve`` and ``worker`` run them before anything listens or delivers: a missing,
unreadable, encrypted or non-key file stops the process at once, naming the partner or
setting and the file, instead of failing the first delivery or TLS handshake hours later.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import paramiko
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from .channels.as2_binding import config_dir_of, load_our_private_key
from .channels.sftp_binding import sftp_key_file
from .config import As2Config, GatewayConfig
from .errors import ConfigError
from .partners import Partner, Registry
from .partners.profile import As2Out, SftpPush, SftpRemote
from .secret_files import check_private_file, check_readable_file

log = logging.getLogger("edigate.serve")


@dataclass(frozen=True, slots=True)
class KeyCheck:
    """A private key this process will need: ``error`` stops it, ``warning`` is logged."""

    severity: Literal["error", "warning"]
    problem: ConfigError


def key_checks(
    config: GatewayConfig, registry: Registry, *, deliveries: bool = True, listeners: bool = True
) -> list[KeyCheck]:
    """The private keys this process will need, checked now rather than at the first
    delivery, poll or handshake: each ``sftp_push`` partner's client key (``deliveries``:
    this process runs a worker), each ``sftp_poll`` partner's and the AS2 endpoint's TLS
    key (``listeners``: this process runs the channels), and our AS2 private key toward
    each AS2 partner (either: it decrypts what they send and signs what we send).

    An error stops ``serve`` (see :func:`require_keys`); a warning is logged.
    """
    checks: list[KeyCheck] = []
    as2_keys: set[Path] = set()  # one AS2 key often serves every AS2 partner: checked once
    for partner in registry:
        out, poll = partner.profile.outbound, partner.profile.inbound.sftp_poll
        if deliveries and isinstance(out, SftpPush):
            checks += _sftp_key_checks(partner, out, "outbound", config.sftp.client_key)
        if listeners and poll is not None:
            checks += _sftp_key_checks(partner, poll, "inbound.sftp_poll", config.sftp.client_key)
        if (listeners and config.as2.enabled) or (deliveries and isinstance(out, As2Out)):
            checks += _as2_key_checks(partner, as2_keys)
    if listeners and config.as2.enabled:
        checks += _tls_key_checks(config.as2)
    return checks


def profile_key_checks(registry: Registry) -> list[KeyCheck]:
    """The SSH keys the profiles name themselves (``key_path`` of an sftp_push or
    sftp_poll), for ``partners check``: what it can say without edigate.toml (a profile
    without ``key_path`` uses ``[sftp] client_key``, which serve checks at startup)."""
    checks: list[KeyCheck] = []
    for partner in registry:
        out, poll = partner.profile.outbound, partner.profile.inbound.sftp_poll
        if isinstance(out, SftpPush) and out.key_path:
            checks += _sftp_key_checks(partner, out, "outbound", None)
        if poll is not None and poll.key_path:
            checks += _sftp_key_checks(partner, poll, "inbound.sftp_poll", None)
    return checks


def require_keys(checks: list[KeyCheck]) -> None:
    """Log the warnings; raise one ConfigError listing every error."""
    for check in checks:
        if check.severity != "error":
            log.warning("key: %s", check.problem)
    errors = [str(c.problem) for c in checks if c.severity == "error"]
    if len(errors) == 1:
        raise ConfigError(f"cannot start: {errors[0]}")
    if errors:
        raise ConfigError("cannot start:\n  " + "\n  ".join(errors))


def _sftp_key_checks(
    partner: Partner, settings: SftpRemote, where: str, client_key: Path | None
) -> list[KeyCheck]:
    """The key we log in to ``partner``'s server with, for ``where``: ``outbound`` (an
    sftp_push delivery) or ``inbound.sftp_poll`` (fetching their files)."""
    source = partner.profile_source
    path = sftp_key_file(partner, settings, client_key)
    at = tuple(where.split("."))
    push = where == "outbound"
    channel = "sftp_push" if push else "sftp_poll"
    if path is None:
        # For a push, a warning: the shipped example profile relies on [sftp] client_key,
        # which a gateway that never delivers to this partner need not set. A poll would
        # start now and never log in: an error.
        towards, failing = ("to", "every delivery to it") if push else ("of", "it")
        message = (
            f"partner {partner.id}: {channel} {towards} {settings.username}@{settings.host} "
            f"names no key_path and edigate.toml sets no [sftp] client_key: {failing} will fail"
        )
        return [KeyCheck("warning" if push else "error", source.error(message, at))]
    loc: tuple[str, ...]
    if settings.key_path:
        what, loc = f"partner {partner.id}: {channel} client key", (*at, "key_path")
    else:
        what, loc = f"[sftp] client_key (for partner {partner.id})", at
    try:
        check_readable_file(path, "the file")
        check_private_file(path, "the file")
    except ConfigError as exc:
        message = f"{what} {path}: {exc.detail}"
        return [KeyCheck("error", source.error(message, loc))]
    try:
        paramiko.PKey.from_path(path)
    except (paramiko.PasswordRequiredException, TypeError):  # TypeError: OpenSSH format
        message = f"{what} {path} is protected by a passphrase, which edigate cannot give"
        return [KeyCheck("error", source.error(message, loc))]
    except (paramiko.SSHException, OSError, ValueError) as exc:
        message = f"{what} {path} is not a private key that can be loaded: {exc}"
        return [KeyCheck("error", source.error(message, loc))]
    return []


def _as2_key_checks(partner: Partner, checked: set[Path]) -> list[KeyCheck]:
    """Our AS2 private key toward ``partner`` (it decrypts their messages and signs our
    MDNs and messages): unreadable, not a key, or readable by others stops the process,
    as one shared by every AS2 partner would fail them all. A key in ``checked`` was
    checked (and reported) for an earlier partner already."""
    ids = partner.profile.inbound.as2
    if ids is None or not ids.our_private_key:
        return []
    path = config_dir_of(partner) / ids.our_private_key
    if path.resolve() in checked:
        return []
    checked.add(path.resolve())
    try:
        load_our_private_key(path)
    except ConfigError as exc:
        message = f"partner {partner.id}: our AS2 private key {path}: {exc.detail}"
        loc = ("inbound", "as2", "our_private_key")
        return [KeyCheck("error", partner.profile_source.error(message, loc))]
    return []


def _tls_key_checks(as2: As2Config) -> list[KeyCheck]:
    if as2.tls_certificate is None or as2.tls_private_key is None:
        return []
    checks: list[KeyCheck] = []
    for setting, path in (
        ("tls_certificate", as2.tls_certificate),
        ("tls_private_key", as2.tls_private_key),
    ):
        try:
            check_readable_file(path, "the file")
        except ConfigError as exc:
            message = f"[as2] {setting} {path}: {exc.detail}"
            checks.append(KeyCheck("error", ConfigError(message)))
    if checks:
        return checks
    key = as2.tls_private_key
    what = f"[as2] tls_private_key {key}"
    try:
        # ssl would prompt on the terminal for the passphrase of an encrypted key.
        load_pem_private_key(key.read_bytes(), password=None)
    except TypeError:
        message = f"{what}: protected by a passphrase, which the gateway cannot give"
        checks.append(KeyCheck("error", ConfigError(message)))
    except (ValueError, OSError) as exc:
        message = f"{what}: not a PEM private key that can be loaded: {exc}"
        checks.append(KeyCheck("error", ConfigError(message)))
    try:
        check_private_file(key, "the file")
    except ConfigError as exc:  # refused like every other private key (secret_files.py)
        checks.append(KeyCheck("error", ConfigError(f"{what}: {exc.detail}")))
    return checks
