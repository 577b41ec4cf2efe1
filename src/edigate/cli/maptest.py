"""``edigate map test PARTNER SAMPLE... [--expect DIR] [--update]``: a map on sample files.

Prints each sample's result (the mapped orders and every issue, as JSON) and, with
``--expect``, a unified diff against ``DIR/<sample>.order.json``. Exit status 1 on any
difference or missing expected file; without ``--expect``, on any error in a sample.
"""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import EdigateError
from ..partners.errors import UnknownPartnerError
from ..partners.maptest import MapTestReport, run_map_test
from ..partners.registry import load_registry
from .context import resolve_config_dir

_DIR = click.Path(file_okay=False, path_type=Path)
_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.group("map")
def map_group() -> None:
    """Try partner maps on sample files (onboarding, test-first)."""


@map_group.command("test")
@click.argument("partner")
@click.argument("samples", nargs=-1, required=True, type=_FILE)
@click.option("--expect", type=_DIR, help="Compare with DIR/<sample>.order.json.")
@click.option("--update", is_flag=True, help="Write the results into --expect DIR instead.")
@click.option("--config-dir", type=_DIR, help="Directory holding partners/ and maps/.")
@click.option("-q", "--quiet", is_flag=True, help="Print only the summary and any diff.")
@click.pass_context
def test_command(
    ctx: click.Context,
    partner: str,
    samples: tuple[Path, ...],
    expect: Path | None,
    update: bool,
    config_dir: Path | None,
    quiet: bool,
) -> None:
    """Run PARTNER's map on each SAMPLE: identify, validate, translate, map.

    Prints the canonical result and every issue with its position.
    """
    if update and expect is None:
        raise click.UsageError("--update needs --expect DIR (where to write)")
    directory = resolve_config_dir(ctx, config_dir)
    try:
        report = run_map_test(
            load_registry(directory), partner, list(samples), expect=expect, update=update
        )
    except UnknownPartnerError as exc:  # a usage error (2), as receive --partner says it
        raise click.BadParameter(str(exc), param_hint="'PARTNER'") from exc
    except EdigateError as exc:
        raise click.ClickException(str(exc)) from exc
    _print(report, quiet=quiet, compared=expect is not None)
    failed = not report.ok if expect is not None else any(s.has_errors for s in report.samples)
    if failed:
        raise SystemExit(1)


def _print(report: MapTestReport, *, quiet: bool, compared: bool) -> None:
    for sample in report.samples:
        if not quiet:
            click.echo(sample.text, nl=False)
        orders = len(sample.result["orders"])
        issues = len(sample.issues)
        summary = f"{sample.sample}: {orders} order(s), {issues} issue(s)"
        if sample.updated:
            summary += f"; wrote {sample.expected_path}"
        elif sample.missing:
            summary += f"; no {sample.expected_path} (create it with --update)"
        elif sample.diff is not None:
            summary += f"; differs from {sample.expected_path}"
        elif compared:
            summary += f"; matches {sample.expected_path}"
        if quiet:
            for issue in sample.issues:
                click.echo(f"  {issue}")
        click.echo(summary)
        if sample.diff is not None:
            click.echo(sample.diff, nl=False)
