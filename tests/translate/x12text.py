"""Build small X12 interchanges for tests: write the segments that matter, get the rest."""

from __future__ import annotations

from edigate.x12 import TransactionSet, X12Reader


def interchange(body: list[str], *, version: str = "004010", set_id: str = "850") -> bytes:
    """ISA/GS/ST + ``body`` (``*`` elements, ``>`` components) + SE/GE/IEA, counts right."""
    isa_version = "00501" if version >= "005010" else "00401"
    repetition = "^" if version >= "005010" else "U"
    isa = (
        f"ISA*00*          *00*          *ZZ*BUYER          *ZZ*SELLER         *261120*1200*"
        f"{repetition}*{isa_version}*000000001*0*P*>"
    )
    functional = {"850": "PO", "855": "PR", "856": "SH", "810": "IN"}[set_id]
    segments = [isa, f"GS*{functional}*BUYER*SELLER*20261120*1200*1*X*{version}"]
    segments += [f"ST*{set_id}*0001", *body, f"SE*{len(body) + 2}*0001"]
    segments += ["GE*1*1", "IEA*1*000000001"]
    return ("~\n".join(segments) + "~\n").encode()


def transactions(data: bytes) -> list[TransactionSet]:
    return [e for e in X12Reader(data).events() if isinstance(e, TransactionSet)]


def transaction(body: list[str], **kwargs: str) -> TransactionSet:
    (tx,) = transactions(interchange(body, **kwargs))
    return tx
