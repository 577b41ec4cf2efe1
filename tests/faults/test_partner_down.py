"""A partner's SFTP server is down for a while: ``edigate serve`` retries the delivery with
backoff and delivers once the server is back, through the real worker and dispatcher."""

from __future__ import annotations

import io
from pathlib import Path

from sqlalchemy import select

from edigate.store import Document, Store

from .harness import (
    PartnerSftp,
    free_port,
    make_site,
    purchase_orders,
    push_to_partner,
    serving,
    sftp_session,
    wait_until,
)
from .test_kill9 import settled


def attempts_of_undelivered(store: Store) -> list[int]:
    with store.session() as session:
        rows = session.scalars(
            select(Document.attempts).where(
                Document.direction == "out",
                Document.format == "x12",
                Document.status == "delivery_failed",
            )
        )
        return list(rows)


def test_a_partner_sftp_server_down_for_a_while_gets_everything_when_back(
    tmp_path: Path,
) -> None:
    site = make_site(tmp_path / "gw")
    partner = PartnerSftp(
        tmp_path / "acme-sftp",
        Store.open(tmp_path / "acme-store"),
        site.root / "partner-keys/acme-retail.key",
        free_port(),
    )
    push_to_partner(site, "acme-retail", partner)  # ... whose server is not started yet
    try:
        with serving(site) as serve:
            with sftp_session(serve.sftp_port(), site.acme_key) as sftp:
                sftp.putfo(io.BytesIO(purchase_orders(1, 2)), "/in/po-1.edi")
            store = site.open_store()
            try:
                # 997, TA1 and two 855s: each tried, failed, and waiting for its next try.
                wait_until(
                    lambda: (
                        len(attempts_of_undelivered(store)) == 4
                        and min(attempts_of_undelivered(store)) >= 2
                    ),
                    60,
                    "failed delivery attempts",
                )
                assert partner.received() == []
                assert "cannot connect" in serve.log()
                partner.start()  # the partner is back
                wait_until(lambda: settled(store), 60, "delivery after the partner came back")
                with store.session() as session:
                    out = list(
                        session.scalars(
                            select(Document).where(
                                Document.direction == "out", Document.format == "x12"
                            )
                        )
                    )
                    sent = sorted(store.content(d) for d in out)
                assert {d.status for d in out} == {"sent"}
                assert all(d.attempts >= 2 for d in out)  # retried, not given up
                # Sent: the outage's error is in the audit trail, no longer the document's.
                assert [d.last_error for d in out] == [None] * len(out)
                assert sorted(data for _name, data in partner.received()) == sent
            finally:
                store.close()
            assert serve.stop() == 0
    finally:
        partner.stop()
        partner.store.close()
