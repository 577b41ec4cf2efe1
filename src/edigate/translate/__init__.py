"""Translations between X12 and the canonical documents, one module per set and direction.

Public face::

    from edigate.translate import translate_850, auto_ack, build_855, write_855

* ``translate_850(tx) -> Translation[Order]``: an 850 TransactionSet in; the Order (or
  None) and every finding out.
* ``auto_ack(order) -> OrderAck``: accept every line as ordered (BAK02 AD, ACK*IA).
* ``build_855/856/810(document, version=...) -> segments`` between ST and SE, and
  ``write_855/856/810(documents, ...) -> bytes``: a whole interchange, envelope from the
  caller or the "no partner" default.
"""

from .auto_ack import auto_ack
from .convert import Outbound, documents_from_json, orders_from_x12, to_x12
from .x12_810 import build_810, write_810
from .x12_850 import iter_orders, translate_850
from .x12_855 import build_855, write_855
from .x12_856 import build_856, write_856
from .x12_common import (
    Translation,
    default_envelopes,
    default_separators,
    parse_party_id,
    write_interchange,
)

__all__ = [
    "Outbound",
    "Translation",
    "auto_ack",
    "build_810",
    "build_855",
    "build_856",
    "default_envelopes",
    "default_separators",
    "documents_from_json",
    "iter_orders",
    "orders_from_x12",
    "parse_party_id",
    "to_x12",
    "translate_850",
    "write_810",
    "write_855",
    "write_856",
    "write_interchange",
]
