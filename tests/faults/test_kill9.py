"""kill -9 of ``edigate serve`` (a real process) during an SFTP upload, during processing and
during outbound delivery; after a restart nothing is lost, nothing is done twice.

After each restart: every upload the client was told succeeded is processed exactly once,
an interrupted upload is not processed, no canonical order reaches the ERP outbox twice, and
no ISA13 is used twice toward a partner.
"""

from __future__ import annotations

import io
import random
import threading
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from edigate.store import Document, Store

from .harness import (
    PartnerSftp,
    Site,
    controls_by_partner,
    free_port,
    make_site,
    po_number,
    purchase_orders,
    push_to_partner,
    serving,
    sftp_session,
    wait_until,
)

BUSY = {"received", "processing", "failed", "created", "delivery_failed"}


def settled(store: Store, *, outbound: bool = True) -> bool:
    """Nothing left to do: no document waits for processing (or delivery, if ``outbound``)."""
    busy = BUSY if outbound else BUSY - {"created", "delivery_failed"}
    return not busy & set(store.count_by_status())


def received_names(store: Store) -> list[str]:
    """File names of the documents partners sent (top level, repeats kept)."""
    with store.session() as session:
        rows = session.scalars(
            select(Document.filename).where(
                Document.direction == "in", Document.parent_id.is_(None)
            )
        )
        return [name or "" for name in rows]


def assert_each_once(site: Site, store: Store, expected_pos: set[str]) -> None:
    pos = site.po_numbers()
    assert not [po for po, n in Counter(pos).items() if n > 1], "an order reached the ERP twice"
    assert set(pos) == expected_pos
    counts = store.count_by_status()
    assert "dead" not in counts, counts
    for partner, controls in controls_by_partner(store).items():
        assert len(controls) == len(set(controls)), f"ISA13 reused toward {partner}"


def test_kill_9_during_sftp_uploads_keeps_completed_uploads_once_and_drops_the_cut_one(
    tmp_path: Path,
) -> None:
    site = make_site(tmp_path / "gw")
    told_ok: list[int] = []  # put() returned: the client was told the file is stored
    uncertain: list[int] = []  # put() failed when the server died: either outcome is fine
    with serving(site) as serve:
        port = serve.sftp_port()

        def keep_uploading() -> None:
            try:
                with sftp_session(port, site.acme_key) as sftp:
                    for n in range(10, 400):
                        try:
                            sftp.putfo(io.BytesIO(purchase_orders(n, 2)), f"/in/po-{n}.edi")
                        except Exception:
                            uncertain.append(n)
                            return
                        told_ok.append(n)
            except Exception:
                return

        with sftp_session(port, site.acme_key) as sftp:
            for n in range(1, 4):
                sftp.putfo(io.BytesIO(purchase_orders(n, 2)), f"/in/po-{n}.edi")
                told_ok.append(n)
            uploader = threading.Thread(target=keep_uploading)
            uploader.start()
            cut = purchase_orders(999, 2)
            partial = sftp.open("/in/po-cut.edi", "wb")
            partial.write(cut[: len(cut) // 2])
            partial.flush()
            sftp.stat("/in")  # a round trip after the write: the server has those bytes
            wait_until(lambda: len(told_ok) >= 6, 30, "uploads racing the kill")
            serve.kill9()  # mid-upload: po-cut.edi is open, the uploader is mid-put
            uploader.join(timeout=30)
    assert len(told_ok) >= 6

    with serving(site, "restart") as serve:
        serve.sftp_port()
        store = site.open_store()
        try:
            wait_until(lambda: settled(store) and bool(site.po_numbers()), 60, "processing")
            names = received_names(store)
            assert "po-cut.edi" not in names  # the client never heard "stored"
            assert len(names) == len(set(names))  # each upload stored once
            assert {f"po-{n}.edi" for n in told_ok} <= set(names)
            assert set(names) <= {f"po-{n}.edi" for n in told_ok + uncertain}
            stored = [int(name[3:-4]) for name in names]
            expected = {po_number(n, i) for n in stored for i in (1, 2)}
            assert_each_once(site, store, expected)
            assert po_number(999, 1) not in site.po_numbers()
        finally:
            store.close()
        assert serve.stop() == 0, serve.log()[-2000:]


def test_kill_9_during_processing_then_restart_gives_each_order_once(tmp_path: Path) -> None:
    site = make_site(tmp_path / "gw")
    files = range(1, 5)
    with serving(site) as serve:
        with sftp_session(serve.sftp_port(), site.acme_key) as sftp:
            for n in files:
                sftp.putfo(io.BytesIO(purchase_orders(n, 15)), f"/in/po-{n}.edi")
        wait_until(lambda: len(site.po_numbers()) >= 1, 60, "processing to start")
        serve.kill9()
    assert len(site.po_numbers()) < 60  # it was killed mid-way through the work
    rng = random.Random(10)
    with serving(site, "restart-1") as serve:
        serve.sftp_port()
        wait_until(lambda: len(site.po_numbers()) > 0, 30, "the restart to work")
        threading.Event().wait(rng.uniform(0.2, 1.0))
        serve.kill9()  # once more, at a random moment
    with serving(site, "restart-2") as serve:
        serve.sftp_port()
        store = site.open_store()
        try:
            wait_until(lambda: settled(store) and len(site.po_numbers()) >= 60, 90, "all orders")
            assert_each_once(site, store, {po_number(n, i) for n in files for i in range(1, 16)})
            assert sorted(received_names(store)) == sorted(f"po-{n}.edi" for n in files)
        finally:
            store.close()
        assert serve.stop() == 0


def test_kill_9_during_outbound_delivery_then_restart_delivers_everything(
    tmp_path: Path,
) -> None:
    site = make_site(tmp_path / "gw")
    partner = PartnerSftp(
        tmp_path / "acme-sftp",
        Store.open(tmp_path / "acme-store"),
        site.root / "partner-keys/acme-retail.key",  # any 0600 key will do for our login
        free_port(),
    )
    push_to_partner(site, "acme-retail", partner)
    partner.start()
    try:
        with serving(site) as serve:
            with sftp_session(serve.sftp_port(), site.acme_key) as sftp:
                for n in (1, 2, 3):
                    sftp.putfo(io.BytesIO(purchase_orders(n, 12)), f"/in/po-{n}.edi")
            wait_until(lambda: len(partner.received()) >= 3, 60, "deliveries to start")
            serve.kill9()  # mid-delivery
        with serving(site, "restart") as serve:
            serve.sftp_port()
            store = site.open_store()
            try:
                wait_until(lambda: settled(store) and len(site.po_numbers()) >= 36, 90, "all")
                assert_each_once(
                    site, store, {po_number(n, i) for n in (1, 2, 3) for i in range(1, 13)}
                )
                with store.session() as session:
                    outbound = list(  # what goes to the partner (the ERP gets JSON)
                        session.scalars(
                            select(Document).where(
                                Document.direction == "out", Document.format == "x12"
                            )
                        )
                    )
                    sent = {store.content(d) for d in outbound}
                assert {d.status for d in outbound} == {"sent"}
                kinds = Counter(d.doc_type for d in outbound)  # a 997 and a TA1 per file (ISA14=1)
                assert kinds == {"997": 3, "TA1": 3, "855": 36}, kinds
                delivered = [data for _name, data in partner.received()]
                # At least once: everything arrived. The dispatcher records a batch of
                # deliveries in one transaction, so a kill may send up to one batch (worker
                # batch, 20) again, only ever as the same bytes: same name, same ISA13.
                assert set(delivered) == sent
                assert len(delivered) - len(sent) <= 20
            finally:
                store.close()
            assert serve.stop() == 0
    finally:
        partner.stop()
        partner.store.close()
