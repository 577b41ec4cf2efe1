"""``edigate receive``, ``docs list``, ``docs show`` and ``stats`` against a real store."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from edigate.cli.docs import render_outcome
from edigate.cli.main import cli

SAMPLE = Path(__file__).resolve().parents[2] / "samples/x12/850-004010-retailer.edi"


def run(tmp_path: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "data"), *args])
    return result.exit_code, result.output


def test_receive_then_find_and_show(tmp_path: Path) -> None:
    code, out = run(tmp_path, "receive", "--no-process", str(SAMPLE), "--partner", "acme-retail")
    assert code == 0, out
    assert "as document 1" in out

    code, out = run(tmp_path, "docs", "list", "--json", "--partner", "acme-retail")
    rows = json.loads(out)
    assert [(r["id"], r["status"], r["filename"]) for r in rows] == [(1, "received", SAMPLE.name)]
    result = CliRunner().invoke(
        cli, ["--data-dir", str(tmp_path / "data"), "docs", "list", "--partner", "nobody", "--json"]
    )
    assert json.loads(result.stdout) == []
    assert "no partner 'nobody' in the config (known: " in result.stderr
    assert "acme-retail" in result.stderr
    code, out = run(tmp_path, "docs", "list", "--partner", "acme-retail", "--status", "dead")
    assert (code, out.strip()) == (0, "(no rows)")  # a known partner: nothing to hint

    code, out = run(tmp_path, "docs", "show", "1", "--json")
    detail = json.loads(out)
    assert detail["audit"][0]["event"] == "received"
    assert detail["size"] == SAMPLE.stat().st_size

    code, out = run(tmp_path, "docs", "show", "1", "--raw")
    assert out.encode() == SAMPLE.read_bytes()

    code, out = run(tmp_path, "stats", "--json")
    assert json.loads(out) == [
        {
            "partner": "acme-retail",
            "direction": "in",
            "type": None,
            "status": "received",
            "count": 1,
        }
    ]


def test_commands_about_stored_documents_need_a_database_and_do_not_create_one(
    tmp_path: Path,
) -> None:
    """Run in the wrong folder, 'docs list' would create an empty database and find nothing:
    it says where it looked instead, as do docs show, stats, reprocess and resend."""
    for args in (
        ("docs", "list"),
        ("docs", "show", "1"),
        ("stats",),
        ("reprocess", "--status", "rejected"),
        ("resend", "1"),
    ):
        code, out = run(tmp_path, *args)
        assert code == 1, (args, out)
        assert f"no edigate database at {tmp_path / 'data' / 'edigate.db'}" in out, (args, out)
        assert "--config, --data-dir or --database-url" in out
    assert not (tmp_path / "data" / "edigate.db").exists()
    code, out = run(tmp_path, "receive", "--no-process", str(SAMPLE), "--partner", "acme-retail")
    assert code == 0, out
    code, out = run(tmp_path, "docs", "list", "--json")
    assert code == 0 and len(json.loads(out)) == 1


def test_errors_are_clean_messages_with_exit_1(tmp_path: Path) -> None:
    code, out = run(tmp_path, "receive", "--no-process", str(SAMPLE), "--partner", "acme-retail")
    assert code == 0, out
    code, out = run(tmp_path, "docs", "show", "42")
    assert code == 1 and "no document 42" in out
    # A value --since cannot take is a usage error (exit 2), as a bad --status is.
    code, out = run(tmp_path, "docs", "list", "--since", "soon")
    assert code == 2 and "Invalid value for '--since'" in out and "expected a duration" in out


# --- receive: refuse a broken config, unknown partners; exit 1 when a document fails ----------

ROOT = SAMPLE.parents[2]
ERRORS = ROOT / "samples/demo/acme-retail-850-errors.edi"


def config_copy(tmp_path: Path) -> Path:
    config = tmp_path / "config"
    for name in ("partners", "maps"):
        shutil.copytree(ROOT / name, config / name)
    return config


def receive(tmp_path: Path, config: Path, *args: str) -> tuple[int, str]:
    return run(tmp_path, "--config-dir", str(config), "receive", *args)


def nothing_stored(tmp_path: Path, config: Path) -> bool:
    """No database was made, or it holds no document."""
    return not (tmp_path / "data/edigate.db").exists() or stored(tmp_path, config) == []


def stored(tmp_path: Path, config: Path) -> list[dict[str, Any]]:
    code, out = run(tmp_path, "--config-dir", str(config), "docs", "list", "--json")
    assert code == 0, out
    rows: list[dict[str, Any]] = json.loads(out)
    return rows


def test_receive_refuses_a_broken_partner_config_before_storing(tmp_path: Path) -> None:
    config = config_copy(tmp_path)
    profile = config / "partners/acme-retail.yaml"
    text = profile.read_text()
    assert 'functional: "997"' in text
    profile.write_text(text.replace('functional: "997"', 'functional: "998"'))
    line = text[: text.index('functional: "997"')].count("\n") + 1

    code, out = receive(tmp_path, config, str(SAMPLE), "--partner", "acme-retail")
    assert code == 2, out
    assert "nothing received" in out
    assert f"{profile}:{line}: ack.functional: input should be '997', '999' or 'none'" in out
    assert "Traceback" not in out and "document 1" not in out
    assert nothing_stored(tmp_path, config)


def test_reprocess_and_resend_refuse_a_broken_partner_config_before_changing_anything(
    tmp_path: Path,
) -> None:
    """As receive does: a broken profile would otherwise make every attempt fail, and a
    resend's delivery be dead at once (review finding: 'resend 5' of ACME's 997 went
    dead because another partner's push key was missing)."""
    config = config_copy(tmp_path)
    code, out = receive(tmp_path, config, str(ERRORS))
    assert code == 1, out
    before = stored(tmp_path, config)
    ack = next(r for r in before if r["direction"] == "out")
    profile = config / "partners/globex-dist.yaml"
    profile.write_text(profile.read_text().replace("globex-dist", "globex dist", 1))

    for args, nothing in (
        (("reprocess", "1"), "nothing reprocessed"),
        (("resend", str(ack["id"])), "nothing resent"),
    ):
        code, out = run(tmp_path, "--config-dir", str(config), *args)
        assert code == 2, out
        assert out.startswith(f"Error: {nothing}: the partner configuration is broken:")
        assert str(profile) in out and "Traceback" not in out
    assert stored(tmp_path, config) == before  # no attempt, no status changed
    code, out = run(tmp_path, "--config-dir", str(config), "reprocess", "1", "--dry-run")
    assert code == 0 and "would reprocess 1 document(s): 1\n" in out  # a dry run only reads
    order = next(r for r in before if r["type"] == "850")
    code, out = run(
        tmp_path, "--config-dir", str(config), "reprocess", str(order["id"]), "--dry-run"
    )
    assert f"would reprocess 1 document(s): {order['id']} (file 1)\n" in out  # runs as its file


def test_receive_reports_a_line_of_prose_as_no_edi_not_as_csv(tmp_path: Path) -> None:
    """One line with a comma in it was taken for a CSV file without a sender."""
    config = config_copy(tmp_path)
    prose = tmp_path / "f.txt"
    prose.write_text("Hello, this is not an EDI file at all. Regards, Bob\n")
    code, out = receive(tmp_path, config, str(prose))
    assert code == 1, out
    assert "f.txt: unknown documents are not translated; expected an X12 interchange" in out
    assert "csv" not in out


def test_a_dry_run_whose_every_document_is_refused_lists_no_plan(tmp_path: Path) -> None:
    """It printed 'would reprocess 0 document(s): ' before the refusal."""
    config = config_copy(tmp_path)
    code, out = receive(tmp_path, config, "--no-process", str(SAMPLE), "--partner", "acme-retail")
    assert code == 0, out
    for dry in (["--dry-run"], []):
        code, out = run(
            tmp_path, "--config-dir", str(config), "reprocess", "--status", "received", *dry
        )
        assert code == 1, out
        assert out.startswith("document 1: refused: document 1 is received"), out
        assert "would reprocess" not in out


def test_reprocess_from_start_says_which_orders_it_sends_the_erp_again(tmp_path: Path) -> None:
    """A --from-start dry run said only 'would reprocess 1 document(s): 1' while the run
    put a second order file for the PO in the ERP outbox."""
    config = config_copy(tmp_path)
    code, out = receive(tmp_path, config, str(SAMPLE), "--partner", "acme-retail")
    assert code == 0, out
    again = "1 order(s) already in the ERP outbox (PO 4500012345)"
    args = ("--config-dir", str(config), "reprocess", "1", "--from-start")
    code, out = run(tmp_path, *args, "--dry-run")
    assert (code, out) == (
        0,
        f"would reprocess 1 document(s): 1\ndocument 1: from the start, would send again: "
        f"{again}\n",
    )
    code, out = run(tmp_path, *args)
    assert code == 0, out
    assert out.splitlines()[1:] == [f"  from the start, sending again: {again}"]
    orders = sorted((tmp_path / "data/erp/outbox/orders").iterdir())
    assert len(orders) == 2  # what it said


def test_docs_list_type_in_any_case_file_and_a_note_for_an_unknown_one(tmp_path: Path) -> None:
    """'--type ta1' found nothing (stored as TA1), the help's '--type interchange' matched
    no row (a file's own row has no type) and '--type bogus' said nothing."""
    config = config_copy(tmp_path)
    code, out = receive(tmp_path, config, str(SAMPLE), "--partner", "acme-retail")
    assert code == 0, out
    args = ["--data-dir", str(tmp_path / "data"), "--config-dir", str(config), "docs", "list"]

    def types(given: str) -> list[Any]:
        result = CliRunner().invoke(cli, [*args, "--type", given, "--json"])
        assert result.exit_code == 0 and result.stderr == "", result.output
        return [(row["id"], row["type"]) for row in json.loads(result.stdout)]

    assert types("ta1") == types("TA1") == [(6, "TA1")]
    assert types("ORDER") == [(3, "order")]
    assert types("file") == types("File") == [(1, None)]  # the received file itself
    for unknown in ("interchange", "bogus"):
        result = CliRunner().invoke(cli, [*args, "--type", unknown])
        assert (result.exit_code, result.stdout) == (0, "(no rows)\n")
        assert result.stderr == (
            f"note: no document of type {unknown!r} (types stored: 850, 855, 997, TA1, "
            "order, file)\n"
        )
    result = CliRunner().invoke(cli, [*args, "--type", "855", "--status", "dead"])
    assert result.stderr == ""  # a type there is: nothing to hint


def test_docs_list_names_the_attempt_that_superseded_a_row_and_open_leaves_it_out(
    tmp_path: Path,
) -> None:
    """A rejected file and its rejected 850, reprocessed since, stayed listed as rejected
    with nothing saying so: the work queue ('--status rejected') never emptied."""
    config = config_copy(tmp_path)
    code, out = receive(tmp_path, config, str(ERRORS))
    assert code == 1, out
    at = ("--config-dir", str(config))

    def rejected(*more: str) -> dict[int, list[int]]:
        code, out = run(tmp_path, *at, "docs", "list", "--status", "rejected", "--json", *more)
        assert code == 0, out
        return {row["id"]: row["reprocessed_as"] for row in json.loads(out)}

    assert rejected() == rejected("--open") == {2: [], 1: []}
    for attempt in (1, 5):  # rejected again each time (the map is unchanged)
        code, out = run(tmp_path, *at, "reprocess", str(attempt))
        assert f"document {attempt}: attempt" in out, out
    # The file, its attempt (5) and its attempt's attempt (9), with their 850s (2, 6, 10).
    assert rejected() == {10: [], 9: [], 6: [9], 5: [9], 2: [5, 9], 1: [5, 9]}
    assert rejected("--open") == {10: [], 9: []}
    code, out = run(tmp_path, *at, "docs", "list", "--status", "rejected", "--type", "850")
    header, *rows = out.splitlines()
    assert header.split()[5:7] == ["STATUS", "REPROCESSED_AS"]
    assert [row.split()[:1] + row.split()[5:7] for row in rows] == [
        ["10", "rejected", "-"],
        ["6", "rejected", "9"],  # the latest attempt of its file
        ["2", "rejected", "9"],
    ]
    code, out = run(tmp_path, *at, "docs", "show", "2", "--json")  # one meaning of the key
    assert json.loads(out)["reprocessed_as"] == [5, 9]

    def counted(*more: str) -> int:
        code, out = run(tmp_path, *at, "stats", "--json", *more)
        assert code == 0, out
        return sum(r["count"] for r in json.loads(out) if r["status"] == "rejected")

    assert (counted(), counted("--open")) == (6, 2)


def test_docs_list_says_when_its_limit_may_have_cut_the_list(tmp_path: Path) -> None:
    config = config_copy(tmp_path)
    receive(tmp_path, config, str(ERRORS))
    args = ["--data-dir", str(tmp_path / "data"), "--config-dir", str(config), "docs", "list"]
    cut = CliRunner().invoke(cli, [*args, "--limit", "2", "--json"])
    assert len(json.loads(cut.stdout)) == 2
    assert cut.stderr == "note: the newest 2 shown; --limit for more\n"
    whole = CliRunner().invoke(cli, [*args, "--limit", "1000", "--json"])
    assert len(json.loads(whole.stdout)) > 2 and whole.stderr == ""


def test_receive_refuses_an_unknown_partner(tmp_path: Path) -> None:
    config = config_copy(tmp_path)
    code, out = receive(tmp_path, config, str(SAMPLE), "--partner", "nobody")
    assert code == 2, out
    assert "no partner 'nobody' in the config" in out
    assert "known: acme-retail, contoso-cxml, globex-dist, initech-csv" in out
    assert nothing_stored(tmp_path, config)


def test_receive_exits_1_unless_every_document_went_through(tmp_path: Path) -> None:
    config = config_copy(tmp_path)
    code, out = receive(tmp_path, config, str(SAMPLE))
    assert code == 0, out
    assert "document 1: translated" in out

    code, out = receive(tmp_path, config, str(SAMPLE))  # the same interchange again
    assert code == 1, out
    assert ": duplicate" in out and "was already processed" in out

    code, out = receive(tmp_path, config, str(ERRORS), str(SAMPLE.with_name("nothing.edi")))
    assert code == 2  # a missing file is a usage error: nothing stored
    code, out = receive(tmp_path, config, str(ERRORS))
    assert code == 1, out
    assert ": rejected" in out
    # Every reason, not only the first one the file's summary line carries.
    assert "REF with REF01=DP is required in the header by the partner overlay" in out
    assert "DTM02 (Date) '20261304' is not a valid date (CCYYMMDD)" in out

    code, out = run(tmp_path, "receive", "--help")
    assert code == 0 and "Exit status: 0" in out and "1 when any was" in out


def test_a_partner_files_errors_name_line_and_column_once(tmp_path: Path) -> None:
    """A CSV error says where once: 'line 3, column "Qty": ...' (it said 'line 3: line 3,
    column "Qty": ...'), and an XML one its line."""
    config = config_copy(tmp_path)
    rows = (ROOT / "samples/csv/initech-orders.csv").read_text(encoding="utf-8-sig").splitlines()
    bad = tmp_path / "bad.csv"
    bad.write_text(f"{rows[0]}\n{rows[1]}\nIN-1,03/02/2026,,,,,,,INI-1001,W,lots,EA,1\n")
    code, out = receive(tmp_path, config, str(bad), "--partner", "initech-csv")
    assert code == 1, out
    assert 'error: line 3, column "Qty": "lots" is not a number' in out, out
    assert 'error: order IN-1: line 3, column "Qty": "lots" is not a number' in out, out
    xml = tmp_path / "x.xml"
    xml.write_text('<?xml version="1.0"?>\n<a>\n<b/>\n</a>\n')
    code, out = receive(tmp_path, config, str(xml), "--partner", "contoso-cxml")
    assert code == 1 and "error: line 2: not a cXML document (root element <a>)" in out, out
    assert "line 2: line 2" not in out and "line 3: line 3" not in out


def test_receive_shows_what_each_order_became_and_why_an_answer_did_not_go(
    tmp_path: Path,
) -> None:
    """The summary listed the file's acks only: the ERP order and the 855 were one level
    down, and a dead 999 said nothing of why (new-user walkthrough)."""
    config = config_copy(tmp_path)
    code, out = receive(tmp_path, config, str(SAMPLE), "--partner", "acme-retail")
    assert code == 0, out
    lines = out.splitlines()
    order = next(i for i, line in enumerate(lines) if line.startswith("  in  850    delivered"))
    assert lines[order + 1].startswith("    out order  delivered    4500012345 (document ")
    assert lines[order + 2].startswith("    out 855    sent         4500012345 (document ")
    globex = ROOT / "samples/x12/850-005010-globex.edi"
    code, out = receive(tmp_path, config, str(globex), "--partner", "globex-dist")
    assert code == 0, out  # the order went through; its ack is the operator's to fix
    lines = out.splitlines()
    dead = next(i for i, line in enumerate(lines) if line.startswith("  out 999    dead"))
    assert lines[dead + 1] == (
        "    error: email out needs a relay: set [smtp_out] host in edigate.toml"
    )


def test_a_resend_over_a_channel_the_profile_now_names_shows_that_channel(
    tmp_path: Path,
) -> None:
    """Globex's 999 died for want of an SMTP relay; the operator switches Globex to a
    folder and resends: 'docs show' then names the folder and no longer the dead relay's
    error (operations walkthrough: it still said channel email, error 'needs a relay')."""
    config = config_copy(tmp_path)
    code, out = receive(tmp_path, config, str(ROOT / "samples/x12/850-005010-globex.edi"))
    assert code == 0, out
    (ack,) = [r for r in stored(tmp_path, config) if r["type"] == "999"]
    assert (ack["status"], ack["channel"]) == ("dead", "email")
    profile = config / "partners/globex-dist.yaml"
    text = profile.read_text()
    email = "  type: email\n  to: edi@globex.example\n"
    assert email in text
    profile.write_text(text.replace(email, "  type: folder\n  path: out-globex\n"))

    code, out = run(tmp_path, "--config-dir", str(config), "resend", str(ack["id"]))
    assert code == 0 and "sent" in out, out
    assert [f.name.startswith("999-") for f in (config / "out-globex").iterdir()] == [True]
    code, out = run(tmp_path, "--config-dir", str(config), "docs", "show", str(ack["id"]), "--json")
    shown = json.loads(out)
    assert (shown["status"], shown["channel"], shown["last_error"]) == ("sent", "folder", None)


def test_resend_dead_sends_every_dead_answer_again_once_the_partner_is_reachable(
    tmp_path: Path,
) -> None:
    """After an outage longer than the delivery retries, everything for the partner is
    dead: one command sends it all again, not one ID at a time (scale-out review)."""
    config = config_copy(tmp_path)
    sample = str(ROOT / "samples/x12/850-005010-globex.edi")
    code, out = receive(tmp_path, config, sample)
    assert code == 0, out
    receive(tmp_path, config, sample)  # a duplicate: its TA1 025 has no way out either
    dead = [r["id"] for r in stored(tmp_path, config) if r["status"] == "dead"]
    assert [r["type"] for r in stored(tmp_path, config) if r["id"] in dead] == ["TA1", "999"]
    code, out = run(tmp_path, "--config-dir", str(config), "resend", "--partner", "globex-dist")
    assert code == 2 and "--partner and --since select with --dead" in out, out
    profile = config / "partners/globex-dist.yaml"
    email = "  type: email\n  to: edi@globex.example\n"
    profile.write_text(profile.read_text().replace(email, "  type: folder\n  path: out\n"))

    args = ("--config-dir", str(config), "resend", "--dead", "--partner", "globex-dist")
    code, out = run(tmp_path, *args)
    assert code == 0, out
    assert out.splitlines() == [f"document {i}: sent" for i in sorted(dead)]
    assert len(list((config / "out").iterdir())) == len(dead)
    code, out = run(tmp_path, *args)
    assert (code, out) == (0, "no dead outbound document matches\n")


def test_resend_dead_leaves_out_what_a_reprocessed_files_attempt_made_anew(
    tmp_path: Path,
) -> None:
    """Its attempt made its own 999 (or order): sending the old one too would answer, or
    give the ERP, the same thing twice (review); named by ID it still goes."""
    config = config_copy(tmp_path)
    code, out = receive(tmp_path, config, str(ROOT / "samples/x12/850-005010-globex.edi"))
    assert code == 0, out
    (old,) = [r["id"] for r in stored(tmp_path, config) if r["type"] == "999"]
    rows = stored(tmp_path, config)
    (file_id,) = [r["id"] for r in rows if r["parent_id"] is None and r["direction"] == "in"]
    code, out = run(
        tmp_path, "--config-dir", str(config), "reprocess", str(file_id), "--from-start"
    )
    assert "attempt" in out, out
    (new,) = [r["id"] for r in stored(tmp_path, config) if r["type"] == "999" and r["id"] != old]
    profile = config / "partners/globex-dist.yaml"
    email = "  type: email\n  to: edi@globex.example\n"
    profile.write_text(profile.read_text().replace(email, "  type: folder\n  path: out\n"))

    code, out = run(tmp_path, "--config-dir", str(config), "resend", "--dead")
    assert code == 0, out
    assert "left out 1 made for a file reprocessed since" in out and f": {old}\n" in out, out
    assert f"document {new}: sent" in out and f"document {old}:" not in out, out
    code, out = run(tmp_path, "--config-dir", str(config), "resend", str(old))
    assert (code, out) == (0, f"document {old}: sent\n"), out
    code, out = run(tmp_path, "--config-dir", str(config), "resend", "--dead", "--partner", "")
    assert code == 2 and "--partner" in out, out


def test_receive_shows_the_first_errors_then_how_many_more() -> None:
    errors = [
        {"code": "AK4-8", "message": f"bad date {n}", "segment": n, "severity": "error"}
        for n in range(1, 14)
    ]
    warning = {"code": "map.unknown_item", "message": "unknown item", "severity": "warning"}
    child = {"id": 2, "direction": "in", "type": "850", "status": "rejected", "po_number": None}
    detail = {"id": 1, "status": "rejected", "errors": [], "children": [child]}
    text = render_outcome(detail, {2: [*errors, warning]})
    assert "    error: segment 10: bad date 10" in text
    assert "bad date 11" not in text and "unknown item" not in text
    assert text.endswith("    ... and 3 more (edigate docs show)")


# --- docs list / show: a typo in an enum option; errors apart from warnings ----------------------


def test_docs_list_refuses_an_unknown_status(tmp_path: Path) -> None:
    code, out = run(tmp_path, "docs", "list", "--status", "rejectd")
    assert code == 2, out
    assert "'rejectd' is not one of" in out and "'rejected'" in out and "'dead'" in out
    code, out = run(tmp_path, "docs", "list", "--direction", "inbound")
    assert code == 2 and "'in'" in out


def test_docs_count_warnings_apart_from_errors(tmp_path: Path) -> None:
    config = config_copy(tmp_path)
    code, out = receive(tmp_path, config, str(ROOT / "samples/demo/globex-dist-850.edi"))
    assert code == 0, out
    (order,) = [r for r in stored(tmp_path, config) if r["type"] == "850"]
    assert order["status"] == "delivered"
    # five unknown items, and a box the PO4 says holds 50 EA where the map converts 10
    assert (order["errors"], order["warnings"]) == (0, 6)

    code, out = run(tmp_path, "docs", "list", "--type", "850")
    header, row = out.splitlines()
    assert header.split()[-3:] == ["ERRORS", "WARNINGS", "FILENAME"]
    assert row.split()[-3:] == ["0", "6", "globex-dist-850.edi"]

    code, out = run(tmp_path, "docs", "show", str(order["id"]))
    assert code == 0, out
    assert "errors (0):\nwarnings (6):\n" in out
    assert "[map.unknown_item] unknown item (VP HX-1420-BX" in out
    # --json: the same two keys as a docs list row, as lists of the entries.
    code, out = run(tmp_path, "docs", "show", str(order["id"]), "--json")
    shown = json.loads(out)
    assert shown["errors"] == []
    assert (
        sorted(w["code"] for w in shown["warnings"])
        == ["map.pack_mismatch"] + ["map.unknown_item"] * 5
    )


def test_docs_list_by_correlation_id_finds_everything_one_file_became(tmp_path: Path) -> None:
    """The ID an operator greps from the log lines: the file, its 850, the order for the
    ERP, the 997 and 855 it was answered with, and nothing of another file."""
    (tmp_path / "first.edi").write_bytes(SAMPLE.read_bytes())
    second = SAMPLE.read_bytes().replace(b"4211", b"4212").replace(b"4500012345", b"4500012399")
    (tmp_path / "second.edi").write_bytes(second)  # another interchange, another PO
    files: dict[str, set[int]] = {}
    for name in ("first.edi", "second.edi"):
        code, out = run(tmp_path, "receive", str(tmp_path / name), "--partner", "acme-retail")
        assert code == 0, out
        doc_id = int(out.split(" as document ")[1].split()[0])
        code, out = run(tmp_path, "docs", "show", str(doc_id), "--json")
        correlation = json.loads(out)["correlation_id"]
        code, out = run(tmp_path, "docs", "list", "--correlation", correlation, "--json")
        assert code == 0, out
        rows = json.loads(out)
        assert {"850", "order", "997", "855"} <= {r["type"] for r in rows}, rows
        assert doc_id in {r["id"] for r in rows}
        files[name] = {r["id"] for r in rows}
        # As the README's log lines show it, cut short: its first digits find the same.
        code, out = run(tmp_path, "docs", "list", "--correlation", correlation[:8], "--json")
        assert {r["id"] for r in json.loads(out)} == files[name]
        # Too short to name one file, or not an ID at all: said so, not an empty list.
        for wrong in (correlation[:5], correlation[:7] + "z", correlation + "0"):
            code, out = run(tmp_path, "docs", "list", "--correlation", wrong, "--json")
            assert code == 2, out
            assert (
                f"Invalid value for '--correlation': '{wrong}' is not a correlation ID: "
                "expected its 32 hex digits, or the first 6 or more, as in a log line's "
                "correlation=..."
            ) in out
        code, out = run(tmp_path, "docs", "list", "--correlation", correlation.upper(), "--json")
        assert {r["id"] for r in json.loads(out)} == files[name]  # as it was pasted
    code, out = run(tmp_path, "docs", "list", "--json")
    everything = {r["id"] for r in json.loads(out)}
    assert files["first.edi"].isdisjoint(files["second.edi"])
    assert files["first.edi"] | files["second.edi"] == everything


def test_receiving_an_empty_or_blank_file_says_so(tmp_path: Path) -> None:
    config = config_copy(tmp_path)
    for name, data in (("empty.edi", b""), ("blank.edi", b"  \r\n\n")):
        (tmp_path / name).write_bytes(data)
        code, out = receive(tmp_path, config, str(tmp_path / name))
        assert code == 1, out
        assert f"error: {name}: the file is empty or blank; expected an X12 interchange" in out
