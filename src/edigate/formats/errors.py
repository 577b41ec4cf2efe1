"""Exceptions of the formats layer, grafted onto :mod:`edigate.errors`.

::

    EdigateError
    └── FormatError               an outbound document cannot be written in the partner's format
        └── TemplateError         a template is missing, does not compile, fails while
                                  rendering, or renders XML that is not well-formed

Problems *in a partner's file* (a bad quantity on line 7) are data
(:class:`edigate.formats.issues.FormatIssue`); these exceptions stop the caller.
"""

from __future__ import annotations

from ..errors import EdigateError


class FormatError(EdigateError):
    """Base of what the formats layer raises."""


class TemplateError(FormatError):
    """A template problem; ``template`` and ``line`` point at the template source.

    The message reads ``template:line: what``, e.g.
    ``maps/templates/ack.csv.j2:4: 'doc' has no attribute 'po_numbr'``.
    """

    def __init__(self, message: str, *, template: str, line: int | None = None):
        self.template = template
        self.line = line
        self.detail = message
        where = f"{template}:{line}" if line else template
        super().__init__(f"{where}: {message}")
