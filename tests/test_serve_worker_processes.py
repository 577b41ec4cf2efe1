"""``edigate serve --workers N`` as a real process: the worker runs as N supervised
processes, a dead one is started again, and none outlives serve."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import paramiko
import pytest

from edigate.demo import prepare, project_root

from .test_demo_and_serve import _listening, _listening_port, _serve, _stop_serve
from .waiting import wait_until

SAMPLE = project_root() / "samples/x12/850-004010-retailer.edi"


def _worker_pids(proc: subprocess.Popen[str], count: int) -> list[int]:
    return [
        int(_listening(proc, rf"worker process {n} started \(pid (\d+)\)")[0])
        for n in range(1, count + 1)
    ]


def _runs(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by serve) does not run.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _upload_and_wait_for_acks(tmp_path: Path, port: int, name: str) -> list[str]:
    """Upload the sample PO as ``name`` over SFTP; the pickup folder once its 997 and 855
    are there (or after a minute)."""
    transport = paramiko.Transport(("127.0.0.1", port))
    try:
        key = paramiko.Ed25519Key(filename=str(tmp_path / "gw/partner-keys/acme-retail.key"))
        transport.connect(username="acme", pkey=key)
        sftp = paramiko.SFTPClient.from_transport(transport)
        assert sftp is not None
        before = set(sftp.listdir("/out"))
        sftp.put(str(SAMPLE), f"/in/{name}")
        names: list[str] = []

        def answered() -> bool:
            nonlocal names
            names = [n for n in sftp.listdir("/out") if n not in before]
            return any(n.startswith("997") for n in names) and any(
                n.startswith("855") for n in names
            )

        wait_until(answered, 60, 0.1)
        sftp.close()
        return names
    finally:
        transport.close()


def test_serve_with_worker_processes_processes_uploads_and_stops_them_on_sigterm(
    tmp_path: Path,
) -> None:
    toml = prepare(tmp_path / "gw", project_root())
    toml.write_text(toml.read_text().replace("[worker]\n", "[worker]\nprocesses = 2\n", 1))
    proc = _serve(toml)  # the count comes from [worker] processes
    try:
        port = _listening_port(proc)
        pids = _worker_pids(proc, 2)
        assert all(_runs(pid) for pid in pids) and os.getpid() not in pids
        # Both running (a spawned worker still importing when SIGTERM comes just exits).
        _listening(proc, r"worker \S+ running")
        _listening(proc, r"worker \S+ running")
        names = _upload_and_wait_for_acks(tmp_path, port, "po.edi")
        assert any(n.startswith("997") for n in names), names
        assert any(n.startswith("855") for n in names), names
    finally:
        err = _stop_serve(proc, 90)
    assert proc.returncode == 0, err
    assert err.count("stopped: ") == 2, err  # each worker finished and said so
    assert not any(_runs(pid) for pid in pids)
    orders = list((tmp_path / "gw/data/erp/outbox/orders").glob("*.json"))
    assert len(orders) == 1


def test_a_worker_process_that_dies_is_started_again(tmp_path: Path) -> None:
    toml = prepare(tmp_path / "gw", project_root())
    proc = _serve(toml, "--workers", "1")
    try:
        port = _listening_port(proc)
        (first,) = _worker_pids(proc, 1)
        os.kill(first, signal.SIGKILL)
        (again,) = _listening(proc, r"worker process 1 \(pid (\d+)\) exited with -9: restarting")
        assert int(again) == first
        (second,) = _worker_pids(proc, 1)
        assert second != first and _runs(second)
        names = _upload_and_wait_for_acks(tmp_path, port, "after-restart.edi")
        assert any(n.startswith("997") for n in names), names
    finally:
        err = _stop_serve(proc, 90)
    assert proc.returncode == 0, err


def test_worker_processes_stop_when_serve_is_killed(tmp_path: Path) -> None:
    toml = prepare(tmp_path / "gw", project_root())
    proc = _serve(toml, "--workers", "2")
    try:
        _listening_port(proc)
        pids = _worker_pids(proc, 2)
        proc.kill()
        proc.wait(timeout=30)
        # Orphans see their serve gone within a second and stop after the document in hand.
        assert wait_until(lambda: not any(_runs(pid) for pid in pids), 30)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=30)


def test_ctrl_c_stops_serve_and_its_workers_without_restarting_them(tmp_path: Path) -> None:
    """Ctrl-C reaches every process of the terminal's group: the workers stop on their own
    while serve stops its channels, and serve must not start them again."""
    toml = prepare(tmp_path / "gw", project_root())
    proc = _serve(toml, "--workers", "2", session=True)
    try:
        _listening_port(proc)
        pids = _worker_pids(proc, 2)
        _listening(proc, r"worker \S+ running")
        _listening(proc, r"worker \S+ running")
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "restarting" not in err and "started (pid" not in err, err
    assert not any(_runs(pid) for pid in pids)


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--workers", "2"], "--no-worker and --workers exclude each other"),
        (["--name", "gw"], "--name names serve's worker: it has none with --no-worker"),
    ],
)
def test_no_worker_refuses_worker_options(tmp_path: Path, option: list[str], message: str) -> None:
    toml = prepare(tmp_path / "gw", project_root())
    command = [sys.executable, "-m", "edigate", "--config", str(toml), "serve"]
    done = subprocess.run(
        [*command, "--no-worker", *option],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert message in done.stderr


@pytest.mark.parametrize("value", ["-1", "two"])
def test_workers_must_be_a_count(tmp_path: Path, value: str) -> None:
    toml = prepare(tmp_path / "gw", project_root())
    done = subprocess.run(
        [sys.executable, "-m", "edigate", "--config", str(toml), "serve", "--workers", value],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "--workers" in done.stderr


def test_a_worker_that_exits_once_serve_is_stopping_stays_down(tmp_path: Path) -> None:
    from edigate.config import load_config
    from edigate.wakeups import WorkerWakers
    from edigate.worker_processes import CHECK_SECONDS, FIRST_RESTART_SECONDS, WorkerProcesses

    config = load_config(None, environ={}, data_dir=tmp_path / "data", config_dir=project_root())
    workers = WorkerProcesses(config, 1, WorkerWakers(), log_level="WARNING")
    workers.start()
    try:
        (pid,) = workers.pids
        assert pid is not None
        workers.stop_restarting()
        os.kill(pid, signal.SIGKILL)
        time.sleep(2 * CHECK_SECONDS + FIRST_RESTART_SECONDS + 0.5)
        assert workers.pids == [None] and workers.restarts == 0
    finally:
        workers.stop(timeout=30)


def test_a_server_stopped_before_it_starts_its_workers_starts_none(tmp_path: Path) -> None:
    """A SIGTERM while serve starts: stop() may come first; no worker may start after it
    (one would be left running, and serve could not exit)."""
    from edigate.app import Gateway
    from edigate.config import load_config
    from edigate.server import GatewayServer

    config = load_config(None, environ={}, data_dir=tmp_path / "data", config_dir=project_root())
    gateway = Gateway(config)
    try:
        server = GatewayServer(gateway, run_channels=False, worker_processes=2)
        server.stop()
        server.start()
        server.wait()  # returns at once: stop() was asked for
        assert server.processes is not None
        assert server.processes.pids == [None, None]
        server.stop()
    finally:
        gateway.close()


@pytest.mark.parametrize(
    ("workers", "predecessor"),
    [("0", "gw"), ("2", "gw/2"), ("2", "gw/3"), ("0", "gw/1")],
    ids=["thread", "process", "more-processes-before", "processes-before"],
)
def test_a_named_serve_takes_back_its_predecessors_claims_at_once(
    tmp_path: Path, workers: str, predecessor: str
) -> None:
    """serve --name gw: its worker is gw (its processes gw/1, gw/2). Restarted, even in a new
    container or with another worker count, it frees what its dead predecessor held instead
    of waiting 5 minutes for the lease; another gateway's claim stays that gateway's, even
    one whose name starts the same."""
    from edigate.app import Gateway
    from edigate.config import load_config
    from edigate.store import Status

    from .pipeline.test_claims import _claim_as, _holders

    toml = prepare(tmp_path / "gw", project_root())
    gateway = Gateway(load_config(toml, environ={}))
    try:
        ours, theirs, alike = _claim_as(gateway, [predecessor, "other-gateway/1", "gw2/1"])
    finally:
        gateway.close()
    proc = _serve(toml, "--workers", workers, "--name", "gw")
    try:
        _listening_port(proc)
        named = {_listening(proc, r"worker (\S+) running")[0] for _ in range(max(int(workers), 1))}
        assert named == ({"gw"} if workers == "0" else {"gw/1", "gw/2"})
        gateway = Gateway(load_config(toml, environ={}))
        try:

            def status(doc_id: int) -> str:
                with gateway.store.session() as session:
                    return gateway.store.get(session, doc_id).status

            # Well inside the 300 s lease: only the freed claim can explain it.
            assert wait_until(lambda: status(ours) == Status.TRANSLATED.value, 60)
            assert [status(theirs), status(alike)] == [Status.RECEIVED.value] * 2
            assert _holders(gateway, [theirs, alike]) == ["other-gateway/1", "gw2/1"]
        finally:
            gateway.close()
    finally:
        err = _stop_serve(proc, 90)
    assert proc.returncode == 0, err


@pytest.mark.parametrize("name", ["host:1:2:3", "-gw", "a b", "gw/1", "x" * 91])
def test_a_worker_name_is_checked(tmp_path: Path, name: str) -> None:
    toml = prepare(tmp_path / "gw", project_root())
    for command in (["serve", "--name", name], ["worker", "--until-idle", "--name", name]):
        done = subprocess.run(
            [sys.executable, "-m", "edigate", "--config", str(toml), *command],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2, (command, done.stderr)
        assert "expected 1 to 90 letters, digits and . _ @ -" in done.stderr


@pytest.mark.parametrize(("workers", "held_name"), [(None, "gw"), ("1", "gw/1")])
def test_a_serve_whose_name_is_in_use_waits_for_it_and_still_stops_on_sigterm(
    tmp_path: Path, workers: str | None, held_name: str
) -> None:
    """Another live process holds the name (a second gateway given the same --name): the
    worker, a thread or a process, does not take its claims, says why, does not say it
    runs, and serve still stops when asked."""
    from edigate.app import Gateway
    from edigate.config import load_config
    from edigate.pipeline.name_locks import name_lock

    toml = prepare(tmp_path / "gw", project_root())
    gateway = Gateway(load_config(toml, environ={}))
    try:
        held = name_lock(gateway.store, held_name)
        assert held.try_acquire()
        proc = _serve(toml, "--name", "gw", *(("--workers", workers) if workers else ()))
        seen: list[str] = []
        try:
            _listening(proc, r"sftp listening", seen)
            _listening(proc, rf"worker name {held_name} is held by a live process", seen)
            proc.send_signal(signal.SIGTERM)
            _, rest = proc.communicate(timeout=60)
            err = "".join(seen) + rest
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert f"worker {held_name} running" not in err
    finally:
        held.release()
        gateway.close()
