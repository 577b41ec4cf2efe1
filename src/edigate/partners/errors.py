"""Exceptions of the partner layer, grafted onto :mod:`edigate.errors`.

::

    EdigateError
    ├── ConfigError
    │   └── ConfigErrors          every problem of a profile, map or config directory at once
    └── PartnerError              a partner-level problem met while processing a document
        ├── UnknownPartnerError   no partner (or no single partner) owns the sender we saw
        └── UomError              a unit conversion that cannot be done exactly or at all

Problems *in a document* that a map finds (an unknown SKU, an unmapped code) are data
(:class:`edigate.partners.rules.MapIssue`); these exceptions are for what stops the caller.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..errors import ConfigError, EdigateError


class ConfigErrors(ConfigError):
    """Several :class:`ConfigError` s: a file is reported whole, not one error at a time."""

    def __init__(self, errors: Iterable[ConfigError]):
        self.errors = list(errors)
        first = self.errors[0] if self.errors else None
        super().__init__(
            "\n".join(str(e) for e in self.errors) or "invalid configuration",
            path=first.path if first else None,
        )
        # ConfigError prefixes ``path:`` to the message; each line already carries its own.
        self.args = ("\n".join(str(e) for e in self.errors),)

    def __str__(self) -> str:
        return str(self.args[0])


class PartnerError(EdigateError):
    """Base of what the partner layer raises while handling a document."""


class UnknownPartnerError(PartnerError):
    """The sender of a document is no known partner; ``seen`` names what we saw.

    ``seen`` is e.g. ``"ISA ZZ:NOBODY (production)"`` or ``"sftp user 'mallory'"``.
    """

    def __init__(self, message: str, *, seen: str):
        self.seen = seen
        super().__init__(message)


class UomError(PartnerError):
    """A quantity or price cannot be converted between the partner's unit and ours.

    ``reason`` is one of ``unknown_unit``, ``fractional``, ``inexact_price``, ``wrong_unit``.
    """

    def __init__(self, message: str, *, reason: str, unit: str):
        self.reason = reason
        self.unit = unit
        super().__init__(message)
