"""AS2 failures, each carrying the RFC 4130 disposition modifier the MDN will report.

::

    EdigateError
    └── As2Error                      an AS2 message, MDN or certificate cannot be used
        ├── ProcessingError           an inbound message failed a step; ``modifier`` names it
        │                             (decryption-failed, authentication-failed, ...)
        └── MdnError                  an MDN is malformed, unsigned when it must be, or does
                                      not match what we sent
"""

from __future__ import annotations

from ...errors import EdigateError

# RFC 4130 §7.4.3 (and RFC 5402 for decompression) disposition modifiers.
DECRYPTION_FAILED = "decryption-failed"
AUTHENTICATION_FAILED = "authentication-failed"
INTEGRITY_CHECK_FAILED = "integrity-check-failed"
INSUFFICIENT_SECURITY = "insufficient-message-security"
DECOMPRESSION_FAILED = "decompression-failed"
UNEXPECTED_ERROR = "unexpected-processing-error"


class As2Error(EdigateError):
    """Base of the AS2 errors."""


class ProcessingError(As2Error):
    """One unpacking step failed; ``modifier`` goes into ``processed/error: <modifier>``."""

    def __init__(self, modifier: str, reason: str) -> None:
        super().__init__(f"{modifier}: {reason}")
        self.modifier = modifier
        self.reason = reason


class MdnError(As2Error):
    """An MDN cannot be trusted or does not settle the message it names."""


class TransportError(As2Error):
    """The HTTP exchange itself failed (connection, TLS, timeout, malformed response)."""
