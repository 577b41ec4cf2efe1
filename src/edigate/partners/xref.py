"""SKU cross-reference: the partner's item IDs to our SKU and back.

Partners order by their own IDs (vendor part ``VN``, UPC ``UP``, buyer part ``BP`` ...);
the ERP knows our SKU. Inbound, a line's IDs resolve to one SKU (or to a policy decision
when none is known); outbound, a SKU gives back the partner's own IDs so 855/856/810 lines
carry what the partner sent. The table is inline in the map or a CSV file beside it; a
duplicate in either direction is a load error with its file and line, because a lookup that
could answer two ways must not answer at all.

Usage::

    xref.to_internal("VN", "WID-100")        # Resolution(status="found", sku="WID-100-BLU", ...)
    xref.resolve([("UP", "012345678905"), ("VN", "WID-100")])
    xref.to_partner("WID-100-BLU")           # [ItemId("VN", "WID-100"), ItemId("UP", ...)]
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..errors import ConfigError
from .errors import ConfigErrors
from .loader import YamlSource, read_utf8
from .mapfile import SkuSection

Policy = Literal["reject_line", "reject_order", "pass_through"]
Action = Literal["accept", "reject_line", "reject_order", "pass_through"]


@dataclass(frozen=True, slots=True)
class ItemId:
    qualifier: str
    value: str

    def __str__(self) -> str:
        return f"{self.qualifier} {self.value}"


@dataclass(frozen=True, slots=True)
class SkuEntry:
    """One row: our SKU, the partner's IDs for it, and where the row is (``file:line``)."""

    sku: str
    ids: tuple[ItemId, ...]
    origin: str


@dataclass(frozen=True, slots=True)
class Resolution:
    """The answer for one line: ``found`` (``sku`` set), ``unknown`` or ``conflict``.

    ``action`` is what the caller must do: ``accept``, or the map's policy for unknown items
    (``reject_line`` / ``reject_order`` / ``pass_through`` = keep the line, warn). A conflict
    (two of the line's IDs name different SKUs) is never passed through.
    """

    status: Literal["found", "unknown", "conflict"]
    sku: str | None
    matched: ItemId | None
    action: Action
    message: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "found"


class SkuXref:
    """The table, indexed both ways."""

    def __init__(
        self,
        entries: Iterable[SkuEntry],
        *,
        unknown: Policy = "reject_line",
        qualifiers: Sequence[str] | None = None,
        source: str = "SKU table",
        loaded: bool = True,
    ):
        self.unknown: Policy = unknown
        self.source = source
        #: False when the table's file could not be read (the table is then empty).
        self.loaded = loaded
        self._by_id: dict[ItemId, SkuEntry] = {}
        self._by_sku: dict[str, SkuEntry] = {}
        order: list[str] = list(qualifiers or [])
        for entry in entries:
            self._by_sku.setdefault(entry.sku, entry)
            for item in entry.ids:
                self._by_id.setdefault(item, entry)
                if item.qualifier not in order:
                    order.append(item.qualifier)
        self.qualifiers: tuple[str, ...] = tuple(order)
        self._rank = {q: i for i, q in enumerate(self.qualifiers)}
        #: (qualifier, value) -> its qualifier's rank and the answer for it: built once,
        #: looked up once per line.
        self._found = {
            (item.qualifier, item.value): (
                self._rank[item.qualifier],
                Resolution("found", entry.sku, item, "accept"),
            )
            for item, entry in self._by_id.items()
        }

    def __len__(self) -> int:
        return len(self._by_sku)

    def to_internal(self, qualifier: str, partner_item_id: str) -> Resolution:
        """Our SKU for one of the partner's IDs."""
        item = ItemId(qualifier, partner_item_id.strip())
        entry = self._by_id.get(item)
        if entry is not None:
            return Resolution("found", entry.sku, item, "accept")
        return self._unknown([item])

    def resolve(self, ids: Iterable[tuple[str, str]]) -> Resolution:
        """Our SKU for a line carrying several IDs; all that are known must agree.

        The answer is the known ID of the best-ranked qualifier (the first such on the line).
        """
        pairs = [(q, v.strip()) for q, v in ids if v and v.strip()]
        found = self._found
        hits = [hit for pair in pairs if (hit := found.get(pair)) is not None]
        if not hits:
            return self._unknown([ItemId(q, v) for q, v in pairs])
        best = min(hits, key=_rank_of)[1]
        if any(hit.sku != best.sku for _, hit in hits):
            ordered = sorted(hits, key=_rank_of)
            named = ", ".join(f"{hit.matched} -> {hit.sku}" for _, hit in ordered)
            action: Action = "reject_order" if self.unknown == "reject_order" else "reject_line"
            return Resolution(
                "conflict", None, None, action, f"item IDs name different SKUs: {named}"
            )
        return best

    def to_partner(self, sku: str) -> list[ItemId]:
        """The partner's IDs for our SKU, preferred qualifier first; empty when unknown."""
        entry = self._by_sku.get(sku)
        if entry is None:
            return []
        rank = self._rank
        return sorted(entry.ids, key=lambda i: rank.get(i.qualifier, len(rank)))

    def _unknown(self, items: Sequence[ItemId]) -> Resolution:
        shown = ", ".join(str(i) for i in items) or "no item ID"
        return Resolution(
            "unknown",
            None,
            None,
            self.unknown,
            f"unknown item ({shown}): not in {self.source}",
        )


def _rank_of(hit: tuple[int, Resolution]) -> int:
    return hit[0]


def build_xref(
    section: SkuSection, source: YamlSource, map_dir: Path
) -> tuple[SkuXref, list[ConfigError]]:
    """Build the table from an inline ``items`` list or the CSV ``file`` beside the map.

    Returns the table and every problem found (duplicates, missing columns, a missing file),
    each with its own file and line.
    """
    errors: list[ConfigError] = []
    entries: list[SkuEntry] = []
    shown_source = source.path
    if section.items is not None:
        for index, item in enumerate(section.items):
            line = source.line_of(("sku", "items", index))
            ids = tuple(ItemId(q, v.strip()) for q, v in item.ids.items())
            entries.append(SkuEntry(item.sku.strip(), ids, f"{source.path}:{line}"))
    else:
        assert section.file is not None and section.columns is not None
        shown_dir = str(Path(source.path).parent)
        shown_source = f"{shown_dir}/{section.file}" if shown_dir != "." else section.file
        csv_path = map_dir / section.file
        if not csv_path.is_file():
            errors.append(source.error(f"SKU file {shown_source} not found", ("sku", "file")))
            empty = SkuXref([], unknown=section.unknown, source=shown_source, loaded=False)
            return empty, errors
        entries, csv_errors, loaded = read_sku_csv(csv_path, shown_source, section)
        errors.extend(csv_errors)
        if not loaded:
            empty = SkuXref([], unknown=section.unknown, source=shown_source, loaded=False)
            return empty, errors
    errors.extend(_duplicates(entries))
    xref = SkuXref(
        entries, unknown=section.unknown, qualifiers=section.qualifiers, source=shown_source
    )
    return xref, errors


def read_sku_csv(
    path: Path, shown: str, section: SkuSection
) -> tuple[list[SkuEntry], list[ConfigError], bool]:
    """Rows of a SKU CSV as entries; a bad header or row is an error at its CSV line.

    The flag is False when the file as a whole could not be read (no usable header).
    """
    assert section.columns is not None
    columns = section.columns
    errors: list[ConfigError] = []
    entries: list[SkuEntry] = []
    try:
        text = read_utf8(path, shown, bom=True)
    except ConfigErrors as exc:
        return [], exc.errors, False
    start = 1
    try:
        with io.StringIO(text, newline="") as handle:
            # strict: a stray quote is an error, not the next rows read into one field.
            # Not DictReader: it skips blank lines unseen, and a row's first line is wanted.
            reader = csv.reader(handle, strict=True)
            header = next(reader, [])
            wanted = [columns.sku, *columns.ids.values()]
            missing = [c for c in wanted if c not in header]
            if missing:
                have = ", ".join(header) or "none"
                errors.append(
                    ConfigError(
                        f"column(s) {', '.join(missing)} not found (columns: {have})",
                        path=shown,
                        line=1,
                    )
                )
                return [], errors, False
            twice = [c for c in dict.fromkeys(wanted) if header.count(c) > 1]
            if twice:  # DictReader would read the last of them, silently
                errors.append(
                    ConfigError(
                        f"column(s) {', '.join(twice)} appear more than once in the header: "
                        "rename the one the map should not read",
                        path=shown,
                        line=1,
                    )
                )
                return [], errors, False
            start = reader.line_num + 1
            for fields in reader:
                line, start = start, reader.line_num + 1
                row = dict(zip(header, fields, strict=False))
                if reader.line_num > line and _swallows_rows(row, len(header)):
                    errors.append(
                        ConfigError(
                            f"a quoted field runs on to line {reader.line_num} and holds what "
                            "reads as rows of their own (a stray quote?)",
                            path=shown,
                            line=line,
                        )
                    )
                    continue
                sku = (row.get(columns.sku) or "").strip()
                ids = tuple(
                    ItemId(q, (row.get(col) or "").strip())
                    for q, col in columns.ids.items()
                    if (row.get(col) or "").strip()
                )
                if not sku and not ids:
                    continue  # a blank line
                if not sku:
                    errors.append(
                        ConfigError(f"empty SKU in column {columns.sku!r}", path=shown, line=line)
                    )
                    continue
                if not ids:
                    errors.append(
                        ConfigError(f"SKU {sku} has no partner item ID", path=shown, line=line)
                    )
                    continue
                entries.append(SkuEntry(sku, ids, f"{shown}:{line}"))
    except csv.Error as exc:
        errors.append(
            ConfigError(
                f"not valid CSV from the row starting here: {exc} (a stray quote?)",
                path=shown,
                line=start,
            )
        )
        return [], errors, False
    return entries, errors, True


def _swallows_rows(row: dict[str, str], columns: int) -> bool:
    """A line inside a quoted field with a field separator for every column: rows a stray
    quote has read into one field, not a description written over two lines."""
    return any(
        piece.count(",") >= columns - 1
        for value in row.values()
        if "\n" in value
        for piece in value.split("\n")[1:]
    )


def _duplicates(entries: Iterable[SkuEntry]) -> list[ConfigError]:
    errors: list[ConfigError] = []
    ids: dict[ItemId, SkuEntry] = {}
    skus: dict[str, SkuEntry] = {}
    for entry in entries:
        path, _, text = entry.origin.rpartition(":")
        line = int(text) if text.isdigit() else None
        first = skus.get(entry.sku)
        if first is not None:
            errors.append(
                ConfigError(
                    f"duplicate SKU {entry.sku} (first on line {_line(first)})",
                    path=path,
                    line=line,
                )
            )
        else:
            skus[entry.sku] = entry
        for item in entry.ids:
            other = ids.get(item)
            if other is not None:
                errors.append(
                    ConfigError(
                        f"duplicate partner item {item} (first on line {_line(other)}, "
                        f"SKU {other.sku})",
                        path=path,
                        line=line,
                    )
                )
            else:
                ids[item] = entry
    return errors


def _line(entry: SkuEntry) -> str:
    return entry.origin.rpartition(":")[2]
