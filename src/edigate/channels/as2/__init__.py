"""AS2 (RFC 4130): receive over HTTP(S) with MDNs, send with MDN verification.

    server = As2Server(partners, store_handler(store), port=4080).start()
    channel = As2Channel(partner, pending=server.pending_mdns)
    delivery = channel.send(outbound)

Modules: ``mime`` (byte-exact MIME), ``crypto`` (CMS), ``certs`` (keys, dates, keygen),
``message`` (build/unpack, MIC rules), ``mdn``, ``receiver`` (the endpoint's logic),
``server`` (HTTP), ``client`` (the ``as2`` channel), ``asyncmdn`` (pending MDNs),
``mdnpost`` (posting the async MDNs we owe).
"""

from .asyncmdn import AsyncMdnReceiver, MdnOutcome, MemoryPendingMdns, PendingMdn, PendingMdnLog
from .certs import (
    CertFinding,
    Identity,
    check_validity,
    keygen,
    load_certificates,
    load_pkcs12,
    load_private_key,
)
from .client import As2Channel, MdnRejected
from .errors import As2Error, MdnError, ProcessingError, TransportError
from .mdnpost import MdnDelivery, MdnPoster, MdnTarget
from .message import OutgoingMessage, Unpacked, build_message, unpack
from .partner import As2Partner, PartnerLookup, StaticPartners
from .receiver import As2Receiver, Earlier, MemoryMessageIdLog, MessageIdLog
from .server import As2Server

__all__ = [
    "As2Channel",
    "As2Error",
    "As2Partner",
    "As2Receiver",
    "As2Server",
    "AsyncMdnReceiver",
    "CertFinding",
    "Earlier",
    "Identity",
    "MdnDelivery",
    "MdnError",
    "MdnOutcome",
    "MdnPoster",
    "MdnRejected",
    "MdnTarget",
    "MemoryMessageIdLog",
    "MemoryPendingMdns",
    "MessageIdLog",
    "OutgoingMessage",
    "PartnerLookup",
    "PendingMdn",
    "PendingMdnLog",
    "ProcessingError",
    "StaticPartners",
    "TransportError",
    "Unpacked",
    "build_message",
    "check_validity",
    "keygen",
    "load_certificates",
    "load_pkcs12",
    "load_private_key",
    "unpack",
]
