"""What every gateway command shares: global options -> one Gateway, errors -> exit 1."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from ..app import Gateway
from ..config import GatewayConfig, load_config
from ..errors import EdigateError
from ..store.database import DATABASE_FILE, make_engine, normalize_url

F = TypeVar("F", bound=Callable[..., Any])


class CliState:
    """Holds the global options until a command asks for the gateway."""

    def __init__(
        self,
        config: Path | None,
        data_dir: Path | None,
        config_dir: Path | None,
        database_url: str | None,
    ) -> None:
        self.options: dict[str, Any] = {
            "data_dir": data_dir,
            "config_dir": config_dir,
            "database_url": database_url,
        }
        self.config_path = config
        self._config: GatewayConfig | None = None
        self._gateway: Gateway | None = None

    def config(self) -> GatewayConfig:
        """The configuration (file, environment, options), read once."""
        if self._config is None:
            self._config = load_config(self.config_path, **self.options)
        return self._config

    def gateway(self, *, existing: bool = False) -> Gateway:
        """The Gateway; ``existing``: refuse to create a new embedded database, for commands
        that only look at (or act on) documents a gateway already stored."""
        if self._gateway is None:
            config = self.config()
            if existing and config.database_url is None:
                database = Path(config.data_dir) / DATABASE_FILE
                if not database.exists():
                    raise EdigateError(
                        f"no edigate database at {database}: run this in the gateway's folder "
                        "(beside its edigate.toml), or give --config, --data-dir or "
                        "--database-url"
                    )
            if existing and config.database_url is not None:
                _require_schema(config.database_url)
            self._gateway = Gateway(config)
        return self._gateway

    def close(self) -> None:
        if self._gateway is not None:
            self._gateway.close()


def _require_schema(url: str) -> None:
    """A PostgreSQL database that exists but holds no edigate tables (another database
    named by mistake, or one no gateway has started on): an error, not a schema created by
    a command that only looks. One that cannot be reached is left to the store to report."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            created = inspect(connection).has_table("alembic_version")
    except SQLAlchemyError:
        return
    finally:
        engine.dispose()
    if not created:
        shown = make_url(normalize_url(url)).render_as_string(hide_password=True)
        raise EdigateError(
            f"no edigate tables in {shown}: 'edigate serve' or 'edigate worker' creates them "
            "when it first starts; check --database-url"
        )


def resolve_config_dir(ctx: click.Context, *given: Path | None) -> Path:
    """The folder holding partners/ and maps/, for commands that read only the config.

    A folder given to the command itself (``given``) or to ``edigate --config-dir`` is used as
    spelled; given twice, the two must be the same folder. Otherwise the gateway's own
    resolution applies ($EDIGATE_CONFIG_DIR, edigate.toml's ``config_dir``, the working
    directory), shown relative to the working directory when inside it so that messages
    read ``partners/x.yaml:3``. No database is opened.
    """
    state = ctx.find_object(CliState) or CliState(None, None, None, None)
    explicit = [p for p in (*given, state.options.get("config_dir")) if p is not None]
    for other in explicit[1:]:
        if other.resolve() != explicit[0].resolve():
            raise click.UsageError(
                f"two different config directories given ({explicit[0]} and {other}): "
                "give it once, as DIR, --config-dir or edigate --config-dir"
            )
    if explicit:
        return explicit[0]
    try:
        directory = state.config().config_dir
    except EdigateError as exc:
        raise click.ClickException(str(exc)) from exc
    return within_cwd(directory)


def within_cwd(path: Path) -> Path:
    """``path`` relative to the working directory when inside it (``.`` for itself)."""
    cwd = Path.cwd().resolve()
    return path.relative_to(cwd) if path.is_relative_to(cwd) else path


def global_options(func: F) -> F:
    """The options of the top-level group (config file, data dir, database)."""
    for option in reversed(
        [
            click.option(
                "--config",
                type=click.Path(dir_okay=False, path_type=Path),
                help="edigate.toml to use (default: $EDIGATE_CONFIG or ./edigate.toml).",
            ),
            click.option(
                "--data-dir",
                type=click.Path(file_okay=False, path_type=Path),
                help="Data directory: SQLite database, blobs, ERP folders ($EDIGATE_DATA_DIR).",
            ),
            click.option(
                "--config-dir",
                type=click.Path(file_okay=False, path_type=Path),
                help="Folder holding partners/ and maps/ ($EDIGATE_CONFIG_DIR).",
            ),
            click.option(
                "--database-url",
                help="SQLAlchemy URL, e.g. postgresql://user@host/db ($EDIGATE_DATABASE_URL).",
            ),
        ]
    ):
        func = option(func)
    return func


def pass_gateway(func: F) -> F:
    """Give the command the Gateway as first argument; turn EdigateError into exit 1."""
    return _passing(func, existing=False)


def pass_existing_gateway(func: F) -> F:
    """:func:`pass_gateway` for commands about stored documents (docs, stats, reprocess,
    resend): run in the wrong folder, they would create an empty database and report
    nothing found, so a missing embedded database is an error instead."""
    return _passing(func, existing=True)


def _passing(func: F, *, existing: bool) -> F:
    @wraps(func)
    @click.pass_context
    def wrapper(ctx: click.Context, *args: Any, **kwargs: Any) -> Any:
        state = ctx.find_object(CliState)
        if state is None:  # command invoked outside the edigate group (tests)
            state = CliState(None, None, None, None)
            ctx.call_on_close(state.close)
        try:
            return ctx.invoke(func, state.gateway(existing=existing), *args, **kwargs)
        except EdigateError as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper  # type: ignore[return-value]


#: ``--log-level``: a level's name, any case; a typo is a usage error, not a traceback.
LOG_LEVEL = click.Choice(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], case_sensitive=False)
