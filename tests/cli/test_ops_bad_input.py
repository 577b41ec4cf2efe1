"""Operators' mistakes on the document commands: --since with a UTC offset, values out of
range, bad IDs among good ones (nothing is done then), a resend that does not deliver, an
unknown --status for reprocess, and no progress bar for a script."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from edigate.app import Gateway
from edigate.cli.main import cli
from edigate.cli.process import _progress
from edigate.config import load_config
from edigate.store import Direction, Status
from edigate.store.queries import DocumentFilter, list_documents, parse_since

ROOT = Path(__file__).resolve().parents[2]
#: Received as document 1 (a rejected file; 2 its rejected 850; 3 the 997, 4 the TA1 out).
REJECTED = ROOT / "samples/demo/acme-retail-850-errors.edi"
IST = dt.timezone(dt.timedelta(hours=5, minutes=30))


def run(tmp_path: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli,
        ["--data-dir", str(tmp_path / "data"), "--config-dir", str(tmp_path / "config"), *args],
    )
    return result.exit_code, result.output


@pytest.fixture
def stored(tmp_path: Path) -> Path:
    """A gateway folder holding the rejected file, processed (documents 1 to 4)."""
    for name in ("partners", "maps"):
        shutil.copytree(ROOT / name, tmp_path / "config" / name)
    code, out = run(tmp_path, "receive", str(REJECTED), "--partner", "acme-retail")
    assert code == 1 and "document 1: rejected" in out and "(document 4)" in out, out
    return tmp_path


def detail(tmp_path: Path, doc_id: int) -> dict[str, Any]:
    code, out = run(tmp_path, "docs", "show", str(doc_id), "--json")
    assert code == 0, out
    shown: dict[str, Any] = json.loads(out)
    return shown


def listed(tmp_path: Path, *args: str) -> list[int]:
    code, out = run(tmp_path, "docs", "list", "--json", *args)
    assert code == 0, out
    return [row["id"] for row in json.loads(out)]


# --- 1. --since with a UTC offset means that instant --------------------------------------


def test_since_with_an_offset_is_the_instant_it_names(stored: Path) -> None:
    now = dt.datetime.now(dt.UTC)
    hour_ago = (now - dt.timedelta(hours=1)).astimezone(IST).isoformat()
    in_an_hour = (now + dt.timedelta(hours=1)).astimezone(dt.timezone(-dt.timedelta(hours=5)))
    assert listed(stored, "--since", hour_ago) == [4, 3, 2, 1]
    assert listed(stored, "--since", in_an_hour.isoformat()) == []
    # Without an offset, an ISO time is UTC, as docs list shows created_at.
    naive = (now - dt.timedelta(hours=1)).replace(tzinfo=None).isoformat()
    assert listed(stored, "--since", naive) == [4, 3, 2, 1]


def test_since_is_converted_to_utc() -> None:
    since = parse_since("2026-11-24T15:30:00+05:30")
    assert since.tzinfo == dt.UTC and since.isoformat() == "2026-11-24T10:00:00+00:00"
    assert parse_since("2026-11-24T10:00:00").isoformat() == "2026-11-24T10:00:00+00:00"


def test_a_non_utc_datetime_is_compared_as_an_instant_in_the_store(stored: Path) -> None:
    config = load_config(None, environ={}, data_dir=stored / "data", config_dir=stored / "config")
    gateway = Gateway(config)
    try:
        hour_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).astimezone(IST)
        with gateway.store.reading() as session:
            rows = list_documents(session, DocumentFilter(since=hour_ago))
    finally:
        gateway.close()
    assert [r["id"] for r in rows] == [4, 3, 2, 1]


# --- 2. values out of range are usage errors, not tracebacks ------------------------------

HUGE = "99999999999999999999"


@pytest.mark.parametrize(
    ("args", "option", "expected"),
    [
        (("docs", "list", "--since", "1000000d"), "'--since'", "up to 36500d"),
        (("docs", "list", "--since", "99999999999d"), "'--since'", "up to 36500d"),
        (("docs", "list", "--since", "1" + "0" * 400 + "s"), "'--since'", "up to 36500d"),
        (("docs", "list", "--since", "0001-01-01T00:00+05:30"), "'--since'", "0001-01-01"),
        (("stats", "--since", "1000000d"), "'--since'", "up to 36500d"),
        (("reprocess", "--since", "1000000d"), "'--since'", "up to 36500d"),
        (("docs", "list", "--limit", HUGE), "'--limit'", "1<=x<=9223372036854775807"),
        (("reprocess", "--status", "rejected", "--limit", HUGE), "'--limit'", "1<=x<="),
        (("docs", "show", HUGE), "'DOC_ID'", "1<=x<=9223372036854775807"),
        (("reprocess", "1", HUGE), "'[DOC_IDS]...'", "1<=x<=9223372036854775807"),
        (("resend", HUGE), "'[DOC_IDS]...'", "1<=x<=9223372036854775807"),
        # An empty filter would filter nothing: every document would be listed.
        (("docs", "list", "--po", ""), "'--po'", "must not be empty"),
        (("docs", "list", "--partner", " "), "'--partner'", "must not be empty"),
        (("docs", "list", "--type", ""), "'--type'", "must not be empty"),
        (("worker", "--log-level", "bogus"), "'--log-level'", "'bogus' is not one of 'debug'"),
        (("serve", "--log-level", "verbose"), "'--log-level'", "'verbose' is not one of"),
    ],
)
def test_values_out_of_range_are_usage_errors(
    stored: Path, args: tuple[str, ...], option: str, expected: str
) -> None:
    result = CliRunner().invoke(
        cli, ["--data-dir", str(stored / "data"), "--config-dir", str(stored / "config"), *args]
    )
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert f"Invalid value for {option}" in result.output and expected in result.output
    assert detail(stored, 1)["reprocessed_as"] == []


# --- 3. bad IDs among good ones: nothing is done, every bad one is named -------------------


def test_reprocess_checks_every_id_before_running_any(stored: Path) -> None:
    code, out = run(stored, "reprocess", "1", "3", "999")
    assert code == 1
    assert "no document 999" in out and "document 3 is outbound" in out, out
    assert "2 document(s) not reprocessed" in out and "nothing was reprocessed" in out
    assert "is rejected" not in out  # no attempt ran
    assert detail(stored, 1)["reprocessed_as"] == []


def test_a_selection_runs_what_it_can_and_lists_what_it_cannot(
    stored: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """IDs a --status selection found are not the operator's typing: one that is refused
    (here: made so) is listed with exit status 1, and the rest of the selection runs."""
    from edigate.cli import process
    from edigate.pipeline.operations import ReprocessRefused

    second = stored / "second.edi"
    second.write_bytes(REJECTED.read_bytes().replace(b"000004219", b"000004220"))
    code, out = run(stored, "receive", str(second), "--partner", "acme-retail")
    assert code == 1 and "document 5: rejected" in out, out
    real = process.plan_reprocess

    def refuse_5(store: Any, doc_id: int, *, from_start: bool = False) -> Any:
        if doc_id == 5:
            raise ReprocessRefused("document 5 is in the worker's hands")
        return real(store, doc_id, from_start=from_start)

    monkeypatch.setattr(process, "plan_reprocess", refuse_5)
    code, out = run(stored, "reprocess", "--status", "rejected")
    assert code == 1
    assert "document 1: attempt" in out and "document 5: refused" in out, out
    assert "1 document(s) not reprocessed" in out
    assert len(detail(stored, 1)["reprocessed_as"]) == 1
    assert detail(stored, 5)["reprocessed_as"] == []


def test_reprocess_dry_run_names_every_bad_id(stored: Path) -> None:
    code, out = run(stored, "reprocess", "--dry-run", "1", "3", "999")
    assert code == 1
    assert "no document 999" in out and "document 3 is outbound" in out, out
    assert "would reprocess" not in out
    assert detail(stored, 1)["reprocessed_as"] == []


def test_reprocess_runs_a_file_named_twice_once(stored: Path) -> None:
    """The file itself and its transaction, and an ID named twice, are one file to run."""
    code, out = run(stored, "reprocess", "1", "2", "1")
    assert code == 1, out  # the file is rejected again: it did not go through
    assert "1 attempt(s) did not go through" in out
    assert out.count("document 1: attempt") == 1
    # What did not go through: the file's transactions, counted by how they ended.
    assert ", its transactions: 1 rejected\n" in out, out
    assert len(detail(stored, 1)["reprocessed_as"]) == 1


def test_a_file_and_its_attempt_in_one_command_run_once(stored: Path) -> None:
    """Document 1 and its attempt are one received file: named together with --from-start
    they made two attempts, each sending the file's orders again."""
    run(stored, "reprocess", "1")
    attempt = detail(stored, 1)["reprocessed_as"][0]
    code, out = run(stored, "reprocess", "--from-start", "1", str(attempt))
    assert code == 1 and out.count(": attempt ") == 1, out  # rejected again, once
    assert len(detail(stored, 1)["reprocessed_as"]) == 2  # the first attempt, and this one


def test_resend_checks_every_id_before_sending_any(stored: Path) -> None:
    code, out = run(stored, "resend", "3", "1", "999")
    assert code == 1
    assert "no document 999" in out and "document 1 is inbound" in out, out
    assert "2 document(s) not resent, so none was: leave them out to resend the rest" in out
    assert [e["event"] for e in detail(stored, 3)["audit"]] == ["created", "delivered"]


def test_one_refused_id_names_no_rest_to_leave_out(stored: Path) -> None:
    for args, refusal in (
        (("resend", "1"), "document 1 is inbound: use 'edigate reprocess 1'"),
        (("reprocess", "3"), "document 3 is outbound: use 'edigate resend 3'"),
        (("reprocess", "3", "--dry-run"), "document 3 is outbound: use 'edigate resend 3'"),
    ):
        code, out = run(stored, *args)
        assert code == 1, out
        assert out.splitlines()[0] == refusal
        assert "leave them out" not in out and "Error: 1 document(s) " in out


def test_resend_refuses_a_document_queued_or_being_delivered(stored: Path) -> None:
    """Queued (created) or claimed by a worker that is delivering it: a resend would send it
    twice and let the worker's outcome land on the resent row. Refused, naming why."""
    code, out = run(stored, "resend", "--no-process", "3")
    assert code == 0 and "document 3: created" in out, out
    code, out = run(stored, "resend", "3")
    assert code == 1, out
    assert out.splitlines()[0] == (
        "document 3 is queued for delivery already (created): a worker sends it "
        "('edigate worker --until-idle' does now)"
    )
    assert [e["event"] for e in detail(stored, 3)["audit"]] == ["created", "delivered", "resend"]

    config = load_config(None, environ={}, data_dir=stored / "data", config_dir=stored / "config")
    gateway = Gateway(config)
    try:  # a worker takes it for delivery
        claimed = gateway.store.claim(
            "ops-test", (Status.CREATED,), direction=Direction.OUTBOUND, limit=1
        )
    finally:
        gateway.close()
    assert claimed == [3]
    code, out = run(stored, "resend", "3")
    assert code == 1, out
    assert out.splitlines()[0] == (
        "document 3 is being delivered now (by worker ops-test): resend it once that "
        "delivery has ended"
    )
    assert detail(stored, 3)["status"] == "created"

    # A claim past its lease is a dead worker's: the resend takes the document from it.
    gateway = Gateway(config)
    try:
        with gateway.store.session() as session:
            doc = gateway.store.get(session, 3)
            doc.status = Status.DELIVERY_FAILED.value
            doc.claimed_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=301)
    finally:
        gateway.close()
    code, out = run(stored, "resend", "--no-process", "3")
    assert code == 0 and "document 3: created" in out, out
    shown = detail(stored, 3)
    assert shown["audit"][-1]["event"] == "resend"


# --- 4. a resend that does not deliver fails -----------------------------------------------


def test_resend_exits_1_when_the_delivery_fails(stored: Path) -> None:
    out_folder = stored / "data/sftp/acme-retail/out"
    shutil.rmtree(out_folder)
    out_folder.write_text("a file where the pickup folder should be")
    code, out = run(stored, "resend", "3")
    assert code == 1, out
    assert "document 3: delivery_failed" in out and "cannot write" in out
    assert "1 document(s) not delivered" in out


def test_resend_without_processing_only_queues(stored: Path) -> None:
    code, out = run(stored, "resend", "--no-process", "3")
    assert code == 0, out
    assert "document 3: created" in out


# --- 5. reprocess --status takes the statuses docs list takes ------------------------------


def test_reprocess_refuses_an_unknown_status(stored: Path) -> None:
    code, out = run(stored, "reprocess", "--status", "bogus")
    assert code == 2
    assert "Invalid value for '--status'" in out and "'rejected'" in out, out


# --- 6. no progress bar for a script --------------------------------------------------------


def test_reprocess_prints_no_progress_for_a_script(stored: Path) -> None:
    code, out = run(stored, "reprocess", "1")
    assert code == 1, out  # rejected again, as the file is unchanged
    assert "queueing" not in out
    assert out.startswith("document 1: attempt"), out


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_is_for_more_than_20_ids_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for count, terminal, shown in ((21, True, True), (20, True, False), (21, False, False)):
        stderr = Terminal() if terminal else io.StringIO()
        monkeypatch.setattr("sys.stderr", stderr)
        assert list(_progress(list(range(count)))) == list(range(count))
        assert ("queueing" in stderr.getvalue()) is shown, (count, terminal)
