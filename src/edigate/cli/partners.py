"""``edigate partners ...``: check and list partner profiles and maps.

Onboarding works test-first: ``edigate partners check`` after each edit prints every problem
as ``file:line: message`` and exits 1 while there is any.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..channels.as2_binding import CertCheck, certificate_checks
from ..errors import EdigateError
from ..key_checks import KeyCheck, profile_key_checks
from ..partners.passwords import hash_password
from ..partners.profile import Identities
from ..partners.registry import CheckResult, Partner, check_config
from ..partners.sshkeys import parse_authorized_key
from .context import CliState, resolve_config_dir, within_cwd

_DIR = click.Path(file_okay=False, path_type=Path)


@click.group()
def partners() -> None:
    """Check and list partner profiles (partners/) and maps (maps/)."""


@partners.command()
@click.argument("directory", required=False, type=_DIR)
@click.option("--config-dir", type=_DIR, help="Directory holding partners/ and maps/.")
@click.pass_context
def check(ctx: click.Context, directory: Path | None, config_dir: Path | None) -> None:
    """Validate every profile and map in DIR (default: the config directory, as for
    every command: edigate --config-dir, $EDIGATE_CONFIG_DIR, edigate.toml, else here).

    Prints each problem as file:line: message. Exit status 1 when there is any. AS2
    certificates that have expired are problems; those expiring within 30 days, warnings.
    The private keys the profiles name (AS2 keys, an sftp_push or sftp_poll key_path) are
    loaded as serve would: unreadable, not a key, or readable by others is a problem.
    """
    result = check_config(resolve_config_dir(ctx, directory, config_dir))
    checks: list[CertCheck | KeyCheck] = [
        *certificate_checks(result.registry),
        *profile_key_checks(result.registry),
    ]
    errors = [*result.problems, *(c.problem for c in checks if c.severity == "error")]
    errors.sort(key=lambda e: (e.path or "", e.line or 0))
    for problem in errors:
        click.echo(str(problem))
    warnings = [c.problem for c in checks if c.severity == "warning"]
    for warning in warnings:
        click.echo(warning.as_warning())
    if errors:
        files = len({p.path for p in errors})
        click.echo(f"{len(errors)} problem(s) in {files} file(s)")
        raise SystemExit(1)
    summary = f"ok: {len(result.registry)} partner(s), {len(result.files)} file(s) checked"
    click.echo(summary + (f", {len(warnings)} warning(s)" if warnings else ""))


@partners.command("list")
@click.argument("directory", required=False, type=_DIR)
@click.option("--config-dir", type=_DIR, help="Directory holding partners/ and maps/.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def list_partners(
    ctx: click.Context, directory: Path | None, config_dir: Path | None, as_json: bool
) -> None:
    """Show each partner: identities, channels in and out, acks and map.

    Partners whose profile or map has problems are left out; exit status 1 then.
    """
    folder = resolve_config_dir(ctx, directory, config_dir)
    result = check_config(folder)
    watched = _watched_folders(ctx, folder)
    rows = [describe(p, watched.get(p.id, [])) for p in result.registry]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    else:
        click.echo(render(rows))
    _warn(result)


@partners.command("hash-password")
@click.password_option("--password", help="The password (prompted for when not given).")
def hash_password_command(password: str) -> None:
    """Print the scrypt hash to put in a profile's inbound.sftp.password_hash."""
    click.echo(hash_password(password))


def _warn(result: CheckResult) -> None:
    if result.problems:
        click.echo(
            f"{len(result.problems)} problem(s) in the config; see 'edigate partners check'",
            err=True,
        )
        raise SystemExit(1)


def _watched_folders(ctx: click.Context, config_dir: Path) -> dict[str, list[str]]:
    """The ``[[folders]]`` of edigate.toml that name a partner, by partner: a folder-fed
    partner's profile says nothing of how its files come in. Only when that file's
    ``config_dir`` is the folder listed: another gateway's folders are not this one's."""
    state = ctx.find_object(CliState)
    if state is None:
        return {}
    try:
        config = state.config()
    except EdigateError:
        return {}  # no usable edigate.toml: the profiles are listed all the same
    if config.config_dir.resolve() != config_dir.resolve():
        return {}
    by_partner: dict[str, list[str]] = {}
    for watched in config.folders:
        if watched.partner is not None:
            by_partner.setdefault(watched.partner, []).append(str(within_cwd(watched.path)))
    return by_partner


def describe(partner: Partner, folders: list[str] | None = None) -> dict[str, Any]:
    """One partner as plain data (the JSON of ``partners list``); ``folders`` are the watched
    folders of edigate.toml that take its files."""
    profile = partner.profile
    inbound = profile.inbound
    sftp = inbound.sftp
    out = profile.outbound
    return {
        "id": profile.id,
        "name": profile.name,
        "identity": _identities(profile.identity),
        "us": _identities(profile.us),
        "inbound": {
            "sftp": None
            if sftp is None
            else {
                "username": sftp.username,
                "keys": [parse_authorized_key(k).fingerprint for k in sftp.public_keys],
                "password": sftp.password_hash is not None,
            },
            "sftp_poll": None if inbound.sftp_poll is None else inbound.sftp_poll.model_dump(),
            "as2": None if inbound.as2 is None else inbound.as2.model_dump(),
            "email": [] if inbound.email is None else list(inbound.email.senders),
            "folders": list(folders or []),
        },
        "outbound": None if out is None else out.model_dump(),
        "ack": profile.ack.model_dump(by_alias=True),
        "envelope": {
            "version": profile.envelope.version,
            "newline": profile.envelope.newline,
            "usage": profile.envelope.usage,
        },
        "map": {
            "name": profile.map,
            "format": partner.map.format,
            "skus": len(partner.xref) if partner.xref is not None else 0,
        },
    }


def _identities(ids: Identities | None) -> dict[str, Any] | None:
    if ids is None:
        return None
    return {
        "production": ids.production.model_dump(),
        "test": ids.for_usage("test").model_dump(),
        "test_same_as_production": ids.test is None,
    }


def render(rows: list[dict[str, Any]]) -> str:
    """The ``partners list`` table."""
    columns = ["ID", "PRODUCTION", "TEST", "IN", "OUT", "ACKS", "MAP"]
    cells = [
        [
            row["id"],
            _isa(row["identity"], "production"),
            _isa(row["identity"], "test"),
            _inbound(row["inbound"]),
            _outbound(row["outbound"]),
            _acks(row["ack"]),
            f"{row['map']['name']} ({row['map']['format']})",
        ]
        for row in rows
    ]
    if not cells:
        return "no partners"
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = [columns, *cells]
    return "\n".join(
        "  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip() for line in lines
    )


def _isa(identity: dict[str, Any] | None, usage: str) -> str:
    if identity is None:
        return "-"
    if usage == "test" and identity["test_same_as_production"]:
        return "(same, ISA15=T)"
    ident = identity[usage]
    return f"{ident['qualifier']}:{ident['id']}"


def _inbound(inbound: dict[str, Any]) -> str:
    parts = []
    sftp = inbound["sftp"]
    if sftp is not None:
        how = [f"{len(sftp['keys'])} key(s)"] if sftp["keys"] else []
        how += ["password"] if sftp["password"] else []
        parts.append(f"sftp {sftp['username']} ({', '.join(how)})")
    poll = inbound["sftp_poll"]
    if poll is not None:
        where = f"{poll['username']}@{poll['host']}:{poll['port']}/{poll['folder']}"
        parts.append(f"sftp_poll {where} every {poll['interval_seconds']:g} s")
    if inbound["as2"] is not None:
        parts.append(f"as2 {inbound['as2']['partner_id']}")
    if inbound["email"]:
        parts.append(f"email ({len(inbound['email'])})")
    parts += [f"folder {path}" for path in inbound["folders"]]
    return ", ".join(parts) or "-"


def _outbound(out: dict[str, Any] | None) -> str:
    if out is None:
        return "-"
    kind = out["type"]
    if kind == "sftp_pickup":
        return f"sftp_pickup {out['folder']}/"
    if kind == "sftp_push":
        return f"sftp_push {out['username']}@{out['host']}:{out['port']}"
    if kind == "as2":
        return f"as2 {out['url']}"
    if kind == "email":
        return f"email {out['to']}"
    return f"folder {out['path']}"


def _acks(ack: dict[str, Any]) -> str:
    versions = ack.get("accept_versions")
    only = f", GS08 {'/'.join(versions)} only" if versions else ""
    return f"{ack['functional']}, TA1 {ack['ta1']}, 855 {ack['855']}{only}"
