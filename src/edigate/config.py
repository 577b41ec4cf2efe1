"""Gateway configuration: one ``edigate.toml``, environment overrides, command-line overrides.

Precedence, lowest first: built-in defaults, the config file, ``EDIGATE_*`` environment
variables, command-line options. Relative paths in the file are relative to the file's folder,
so a config directory can be moved as a whole.

A minimal ``edigate.toml``::

    data_dir = "var"                 # SQLite database, blobs, ERP folders
    config_dir = "."                 # holds partners/ and maps/
    # database_url = "postgresql://edigate@db/edigate"   # scale-out

    [worker]
    lease_seconds = 300
    max_attempts = 5

    [sftp]                           # partners' SFTP server (edigate serve)
    host = "127.0.0.1"
    port = 2222

    [[folders]]                      # watched folders
    path = "drop/acme"
    partner = "acme-retail"

    [as2]                            # AS2 endpoint (edigate serve); ids and keys in profiles
    enabled = true
    port = 4080

    [smtp]                           # email in (edigate serve)
    enabled = true
    port = 2525
    addresses = ["edi@edigate.example"]

    [smtp_out]                       # email out: the relay we hand mail to
    host = "smtp.example.com"
    port = 587
    starttls = true
    from_address = "edi@edigate.example"
    username_env = "EDIGATE_SMTP_USER"      # names of environment variables, not secrets
    password_env = "EDIGATE_SMTP_PASSWORD"
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import ConfigError
from .toml_lines import line_of
from .unknown_keys import unknown_key

ENV_PREFIX = "EDIGATE_"
_PATH_KEYS = ("data_dir", "config_dir")
_AS2_PATHS = ("tls_certificate", "tls_private_key")


class WorkerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lease_seconds: float = Field(300.0, gt=0, description="A claim older than this is retaken.")
    max_attempts: int = Field(5, ge=1, description="Failed attempts before a document is dead.")
    backoff_seconds: float = Field(2.0, gt=0, description="First retry delay; doubles each time.")
    #: A partner endpoint down for an hour or a night is normal; its deliveries must outlast
    #: that. 30 s doubling (capped at an hour between tries) over 12 attempts is about 5 h.
    delivery_max_attempts: int = Field(
        12, ge=1, description="Failed delivery attempts (to a partner or the ERP) before dead."
    )
    delivery_backoff_seconds: float = Field(
        30.0, gt=0, description="First delivery retry delay; doubles each time, at most 1 h."
    )
    poll_seconds: float = Field(0.5, gt=0, description="Idle wait between claims.")
    #: 50: a batch's claim, duplicate check, commit and delivery record are paid once for
    #: all its documents (about 15 % less worker CPU per small file than 20); a busy
    #: worker's commit then holds SQLite's write lock for some tens of milliseconds.
    batch: int = Field(50, ge=1, description="Documents claimed and committed together.")
    processes: int = Field(
        0,
        ge=0,
        description="edigate serve: run the worker as this many processes beside the channels "
        "(0: a thread of serve, about one core in all).",
    )


class ErpConfig(BaseModel):
    """The folder connector: canonical JSON out to the ERP, acks/shipments/invoices in."""

    model_config = ConfigDict(extra="forbid")

    root: Path | None = Field(None, description="Defaults to <data_dir>/erp.")


class SftpConfig(BaseModel):
    """edigate's own SFTP server for partners (one confined account each)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    host: str = Field("127.0.0.1", description="Listen address; localhost unless you open it.")
    port: int = Field(2222, ge=0, le=65535, description="0 picks a free port.")
    host_key: Path | None = Field(None, description="Defaults to <data_dir>/sftp_host_key.")
    client_key: Path | None = Field(
        None,
        description="The gateway's own SSH client key, for sftp_push and sftp_poll partners "
        "whose profile names no key_path.",
    )
    retention_days: float | None = Field(
        None,
        gt=0,
        description="Delete files a partner left in its out/ folder for longer than this "
        "(checked hourly by serve); unset: they stay until the partner deletes them.",
    )
    max_connections: int = Field(
        100, ge=1, description="Connections at once, in all; more are refused when they connect."
    )
    max_connections_per_address: int = Field(
        10,
        ge=1,
        description="Connections at once from one client IP address, so one client (or a "
        "flood of bare TCP connects) cannot hold every slot; more are refused.",
    )
    idle_timeout_seconds: float = Field(
        600.0,
        gt=0,
        description="A logged-in connection that makes no SFTP request for this long is closed.",
    )


class FolderConfig(BaseModel):
    """A watched folder: files dropped here are received (partner given or identified)."""

    model_config = ConfigDict(extra="forbid")

    path: Path
    partner: str | None = None
    settle_seconds: float = Field(2.0, ge=0)
    interval: float = Field(2.0, gt=0)
    pattern: str = Field("*", description="Only names matching this are taken (case-sensitive).")
    archive: Path | None = Field(None, description="Where taken files go; <path>/archive.")
    delete: bool = Field(False, description="Delete taken files (once stored) instead.")

    @model_validator(mode="after")
    def _archive_or_delete(self) -> FolderConfig:
        if self.delete and self.archive is not None:
            raise ValueError("archive and delete = true exclude each other")
        return self


class As2Config(BaseModel):
    """The AS2 endpoint of ``edigate serve``.

    Each relationship (AS2 ids, our key and certificate, theirs) is in the partner's profile
    (``inbound.as2``), so one file says everything about a partner.
    """

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(False, description="Listen for AS2 messages (off until configured).")
    host: str = Field("127.0.0.1", description="Listen address; localhost unless you open it.")
    port: int = Field(4080, ge=0, le=65535, description="0 picks a free port.")
    path: str = Field("/as2", pattern=r"^/[\x21-\x7e]*$", description="Partners POST here.")
    tls_certificate: Path | None = Field(None, description="HTTPS: certificate chain (PEM).")
    tls_private_key: Path | None = Field(None, description="HTTPS: its private key (PEM).")
    max_body_mb: float = Field(256.0, gt=0, description="Largest request accepted.")
    max_connections: int = Field(
        32, ge=1, description="Connections served at once; more are closed (senders retry)."
    )
    duplicate_window_days: int = Field(90, ge=1, description="Message-IDs remembered this long.")
    async_mdn_attempts: int = Field(
        5, ge=1, description="Tries at posting an async MDN we owe a partner (in all)."
    )
    async_mdn_backoff_seconds: float = Field(
        5.0, gt=0, description="First wait between them; doubles, at most 300 s."
    )

    @model_validator(mode="after")
    def _tls_pair(self) -> As2Config:
        if (self.tls_certificate is None) != (self.tls_private_key is None):
            raise ValueError("tls_certificate and tls_private_key go together")
        return self


class SmtpConfig(BaseModel):
    """Email in: an SMTP server that takes partners' documents as attachments."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(False, description="Listen for email (off until configured).")
    host: str = Field("127.0.0.1", description="Listen address; localhost unless you open it.")
    port: int = Field(2525, ge=0, le=65535, description="0 picks a free port.")
    hostname: str = Field("edigate", description="The name the server greets with.")
    addresses: list[str] = Field(
        default_factory=list, description="Our addresses: RCPT TO must be one of them."
    )
    max_message_mb: float = Field(25.0, gt=0, description="Larger messages are refused (552).")

    @model_validator(mode="after")
    def _addresses(self) -> SmtpConfig:
        if self.enabled and not self.addresses:
            raise ValueError("an enabled SMTP server needs our addresses (RCPT TO)")
        return self


class SmtpOutConfig(BaseModel):
    """Email out: the relay our documents are handed to. Credentials come from the
    environment variables named here, never from the file."""

    model_config = ConfigDict(extra="forbid")

    host: str | None = Field(None, description="Relay host; email out is off without it.")
    port: int = Field(25, ge=1, le=65535)
    starttls: bool = False
    from_address: str = "edigate@localhost"
    username_env: str | None = Field(None, description="Environment variable with the user.")
    password_env: str | None = Field(None, description="Environment variable with the password.")
    timeout: float = Field(30.0, gt=0)


class GatewayConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    data_dir: Path = Path("var")
    config_dir: Path = Path(".")
    database_url: str | None = None
    worker: WorkerConfig = Field(default_factory=WorkerConfig)
    erp: ErpConfig = Field(default_factory=ErpConfig)
    sftp: SftpConfig = Field(default_factory=SftpConfig)
    folders: list[FolderConfig] = Field(default_factory=list)
    as2: As2Config = Field(default_factory=As2Config)
    smtp: SmtpConfig = Field(default_factory=SmtpConfig)
    smtp_out: SmtpOutConfig = Field(default_factory=SmtpOutConfig)

    @property
    def erp_root(self) -> Path:
        return self.erp.root or self.data_dir / "erp"

    @property
    def sftp_host_key(self) -> Path:
        return self.sftp.host_key or self.data_dir / "sftp_host_key"

    @property
    def sftp_root(self) -> Path:
        """Partners' SFTP folders (``<partner>/in``, ``<partner>/out``)."""
        return self.data_dir / "sftp"

    @property
    def partners_dir(self) -> Path:
        return self.config_dir / "partners"

    @property
    def maps_dir(self) -> Path:
        return self.config_dir / "maps"


def _config_error(exc: ValidationError, file: Path | None) -> ConfigError:
    """Every problem of the file on a line of its own, ``edigate.toml:14: worker.x: ...``,
    an unknown key with the key it may have meant."""
    text = file.read_text(encoding="utf-8") if file is not None else ""
    problems: list[tuple[int | None, str]] = []
    for err in exc.errors():
        loc = err["loc"]
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = unknown_key(GatewayConfig, loc)
        label = ".".join(str(p) for p in loc)
        problems.append((line_of(text, loc), f"{label}: {message}" if label else message))
    where = str(file) if file is not None else None
    if len(problems) == 1:
        line, message = problems[0]
        return ConfigError(message, path=where, line=line)
    lines = [str(ConfigError(message, path=where, line=line)) for line, message in problems]
    return ConfigError(f"{len(problems)} problems:\n" + "\n".join(lines))


def load_config(
    path: Path | str | None = None,
    *,
    environ: dict[str, str] | None = None,
    **overrides: Any,
) -> GatewayConfig:
    """Build the configuration from the file (if any), the environment and overrides.

    ``path`` falls back to ``$EDIGATE_CONFIG``, then ``./edigate.toml`` if it exists.
    Overrides whose value is None are ignored, so click options can be passed straight in.
    """
    env = os.environ if environ is None else environ
    raw: dict[str, Any] = {}
    file = Path(path) if path else _default_file(env)
    base = Path(".")
    if file is not None:
        try:
            raw = tomllib.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError("config file not found", path=str(file)) from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"not valid TOML: {exc}", path=str(file)) from exc
        base = file.parent
    # Paths from the environment or the command line are relative to the working directory.
    for key in ("data_dir", "config_dir", "database_url"):
        value = env.get(ENV_PREFIX + key.upper())
        if value:
            raw[key] = value if key == "database_url" else str(Path(value).resolve())
    for key, value in overrides.items():
        if value is not None:
            raw[key] = str(Path(value).resolve()) if key in _PATH_KEYS else value
    try:
        config = GatewayConfig.model_validate(raw)
    except ValidationError as exc:
        raise _config_error(exc, file) from exc
    resolved = config.model_copy(
        update={
            "data_dir": _resolve(base, config.data_dir),
            "config_dir": _resolve(base, config.config_dir),
            "erp": config.erp.model_copy(
                update={"root": _resolve(base, config.erp.root) if config.erp.root else None}
            ),
            "sftp": config.sftp.model_copy(
                update={
                    key: _resolve(base, value)
                    for key in ("host_key", "client_key")
                    if (value := getattr(config.sftp, key)) is not None
                }
            ),
            "folders": [
                f.model_copy(
                    update={
                        "path": _resolve(base, f.path),
                        "archive": _resolve(base, f.archive) if f.archive else None,
                    }
                )
                for f in config.folders
            ],
            "as2": config.as2.model_copy(
                update={
                    key: _resolve(base, value)
                    for key in _AS2_PATHS
                    if (value := getattr(config.as2, key)) is not None
                }
            ),
        }
    )
    _refuse_archives_that_are_watched(resolved.folders, file)
    return resolved


def _refuse_archives_that_are_watched(folders: list[FolderConfig], file: Path | None) -> None:
    """A folder whose taken files go into a watched folder would take them again, round
    after round, each a new document."""
    watched = {folder.path.resolve() for folder in folders}
    for index, folder in enumerate(folders):
        if folder.archive is not None and folder.archive.resolve() in watched:
            raise ConfigError(
                f"folders.{index}.archive: {folder.archive} is a watched folder, so the files "
                "taken would be taken again; archive them elsewhere (or delete = true)",
                path=str(file) if file else None,
            )


def _default_file(env: Any) -> Path | None:
    if env.get(ENV_PREFIX + "CONFIG"):
        return Path(env[ENV_PREFIX + "CONFIG"])
    local = Path("edigate.toml")
    return local if local.is_file() else None


def _resolve(base: Path, path: Path) -> Path:
    return path if path.is_absolute() else (base / path).resolve()
