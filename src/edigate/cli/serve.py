"""``edigate serve`` and ``edigate demo``."""

from __future__ import annotations

import logging
import signal
from pathlib import Path
from types import FrameType

import click

from ..app import Gateway
from ..demo import run_demo
from ..heap import prepare_long_running_heap
from ..server import GatewayServer
from ..worker_processes import LOG_FORMAT
from .context import LOG_LEVEL, pass_gateway
from .process import WORKER_NAME


@click.command()
@click.option("--no-worker", is_flag=True, help="Channels only; run 'edigate worker' elsewhere.")
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    default=None,
    help="Run the worker as N processes beside the channels (default: [worker] processes, "
    "0: a thread of serve).",
)
@click.option(
    "--name",
    type=WORKER_NAME,
    help="A stable name for this gateway's worker (its processes: NAME/1 ... NAME/N), one per "
    "gateway: after a restart, even in a new container, with another worker count or on "
    "PostgreSQL, it takes back at once what NAME and NAME/* held instead of waiting out their "
    "lease (default host:pidns:pid:tag).",
)
@click.option("--log-level", type=LOG_LEVEL, default="INFO", show_default=True)
@pass_gateway
def serve(
    gateway: Gateway, no_worker: bool, workers: int | None, name: str | None, log_level: str
) -> None:
    """Run the channels (SFTP, watched folders), the worker and the dispatcher until SIGTERM.

    The worker is a thread of this process (about one core in all) or, with --workers N,
    N processes that serve supervises (restarted if one dies). Before anything listens it
    checks the partner configuration and the private keys it will need: each sftp_push
    client key (unless --no-worker), each sftp_poll client key, our AS2 private keys and
    the [as2] TLS key. A missing, unreadable, encrypted or group-readable one stops it with
    the partner or setting and the file.
    """
    if no_worker and workers:
        raise click.UsageError("--no-worker and --workers exclude each other")
    if no_worker and name:
        raise click.UsageError("--name names serve's worker: it has none with --no-worker")
    logging.basicConfig(level=log_level.upper(), format=LOG_FORMAT)
    server = GatewayServer(
        gateway,
        run_worker=not no_worker,
        worker_processes=workers,
        worker_name=name,
        log_level=log_level.upper(),
    )

    def stop(signum: int, _frame: FrameType | None) -> None:
        logging.getLogger("edigate.serve").info("signal %s: stopping", signum)
        server.request_stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.start()
    frozen = prepare_long_running_heap()
    logging.getLogger("edigate.serve").debug("%d startup objects frozen", frozen)
    server.wait()
    server.stop()


@click.command()
@click.option(
    "--dir",
    "target",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("edigate-demo"),
    show_default=True,
    help="Demo folder (recreated): config copy, data, partner keys.",
)
@click.option("--keep-running", is_flag=True, help="Leave the gateway up for exploring.")
@click.option("--timeout", type=float, default=120.0, show_default=True)
def demo(target: Path, keep_running: bool, timeout: float) -> None:
    """Receive the sample partner files over SFTP and show the orders and acknowledgements."""
    logging.basicConfig(level="WARNING", format=LOG_FORMAT)
    logging.getLogger("paramiko").setLevel(logging.CRITICAL)  # a client hanging up is normal
    run_demo(target, echo=click.echo, keep_running=keep_running, timeout=timeout)
