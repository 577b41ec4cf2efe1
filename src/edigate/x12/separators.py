"""The four X12 delimiters, and what is written after each segment terminator."""

from __future__ import annotations

from dataclasses import dataclass

#: Characters that may separate segments for readability; never data in X12.
LINE_BREAKS = "\r\n"


@dataclass(frozen=True, slots=True)
class Separators:
    """Delimiters of one interchange, as declared by its ISA.

    ``suffix`` is what follows the segment terminator (``"\\n"``, ``"\\r\\n"`` or ``""``):
    the reader records what it saw, the writer emits it.
    """

    element: str = "*"
    component: str = ":"
    segment: str = "~"
    repetition: str | None = None
    suffix: str = "\n"

    def delimiters(self) -> tuple[str, ...]:
        delims = (self.element, self.component, self.segment)
        return delims + ((self.repetition,) if self.repetition else ())

    def check(self) -> None:
        """Raise ``ValueError`` unless the delimiters are distinct single non-alphanumerics."""
        delims = self.delimiters()
        for d in delims:
            if len(d) != 1 or d.isalnum() or d == " ":
                raise ValueError(f"invalid X12 delimiter {d!r}: one non-alphanumeric character")
        if len(set(delims)) != len(delims):
            raise ValueError(f"X12 delimiters must be distinct, got {delims!r}")
        if any(c not in LINE_BREAKS or c in delims for c in self.suffix):
            raise ValueError(
                f"segment suffix may hold only CR and LF that are not delimiters, got "
                f"{self.suffix!r}"
            )

    def to_dict(self) -> dict[str, str | None]:
        return {
            "element": self.element,
            "component": self.component,
            "segment": self.segment,
            "repetition": self.repetition,
        }
