"""Entry point of the ``edigate`` command.

Commands parse options, call one service and print. Any :class:`EdigateError` becomes a
clean message and exit status 1; click's usage errors exit 2.
"""

from __future__ import annotations

import sys

import click

from .. import __version__
from .x12 import x12


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="edigate")
def cli() -> None:
    """edigate: EDI and B2B document translation gateway."""


cli.add_command(x12)


def main() -> None:
    """Console-script entry point."""
    sys.exit(cli.main(standalone_mode=True))
