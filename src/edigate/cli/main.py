"""Entry point of the ``edigate`` command.

Commands parse options, call one service and print. Any :class:`EdigateError` becomes a
clean message and exit status 1; click's usage errors exit 2.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .. import __version__
from .as2 import as2
from .bench import bench
from .context import CliState, global_options
from .docs import docs, receive, stats_command
from .health import health
from .maptest import map_group
from .partners import partners
from .process import reprocess_command, resend_command, worker
from .schema import schema
from .serve import demo, serve
from .translate import translate
from .x12 import x12


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="edigate")
@global_options
@click.pass_context
def cli(
    ctx: click.Context,
    config: Path | None,
    data_dir: Path | None,
    config_dir: Path | None,
    database_url: str | None,
) -> None:
    """edigate: EDI and B2B document translation gateway."""
    state = CliState(config, data_dir, config_dir, database_url)
    ctx.obj = state
    ctx.call_on_close(state.close)


for command in (
    x12,
    receive,
    docs,
    stats_command,
    partners,
    schema,
    translate,
    worker,
    reprocess_command,
    resend_command,
    serve,
    demo,
    map_group,
    health,
    as2,
    bench,
):
    cli.add_command(command)


def main() -> None:
    """Console-script entry point."""
    sys.exit(cli.main(standalone_mode=True))


if __name__ == "__main__":
    main()
