"""CSV orders -> canonical Orders, as the map's ``csv:`` layout describes them.

One row per order line, the order's own fields repeated on each row; rows with the same
key (the PO number, or ``group_by``) are one order, wherever they are in the file. Blank
lines are skipped. Each problem is a :class:`FormatIssue` at its file line and column; an
order with any error is rejected whole, and the file's other orders go on. A file that is
not valid CSV at all (an unclosed quote), or in another encoding, is refused whole: rows
lost to it could belong to any order.

Usage::

    result = read_csv_orders(path.read_bytes(), partner.map.csv)
    result.orders, result.issues      # [Order], [FormatIssue]
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

from ..partners.layouts import CsvLayout
from .build import OrderBuilder, control_character
from .issues import FormatIssue, ReadResult
from .values import Target, target


@dataclass(frozen=True, slots=True)
class _Column:
    target: Target
    index: int
    name: str


def decode(data: bytes | str, encoding: str) -> tuple[str | None, FormatIssue | None]:
    """The text of ``data`` (a leading BOM dropped), or why it cannot be read."""
    if isinstance(data, str):
        return data.removeprefix("\ufeff"), None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        bad = data[exc.start : exc.start + 1].hex()
        return None, FormatIssue(
            line,
            None,
            f"byte 0x{bad} at offset {exc.start} is not {encoding}: set csv.encoding "
            "(utf-8, utf-8-sig, cp1252, latin-1)",
        )
    return text.removeprefix("\ufeff"), None


class _Records:
    """(first file line, cells) of each record; ``csv.Error`` on broken quoting.

    ``line`` is the file line the reader has reached, ``record_start`` the first line of the
    record it is in: a quote left open is found only lines later, at the end of the file.
    """

    def __init__(self, text: str, layout: CsvLayout):
        # Records end at CR and LF only: str.splitlines would also end one at a form feed,
        # U+2028 or NEL (the C1 control that byte 0x85 is in latin-1), cutting a row in two.
        self._reader = csv.reader(
            io.StringIO(text, newline=""),
            delimiter=layout.delimiter,
            quotechar=layout.quote,
            strict=True,
        )
        self._previous = 0

    @property
    def line(self) -> int:
        return self._reader.line_num

    @property
    def record_start(self) -> int:
        """The first line of the record being read (where an unclosed quote opened)."""
        return self._previous + 1

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        for row in self._reader:
            yield self._previous + 1, row
            self._previous = self._reader.line_num


def read_csv_orders(data: bytes | str, layout: CsvLayout) -> ReadResult:
    """Read every order of a CSV file (bytes in the layout's encoding, or text)."""
    text, problem = decode(data, layout.encoding)
    if text is None:
        assert problem is not None
        return ReadResult(issues=[problem])
    result = ReadResult()
    builders: dict[str, OrderBuilder] = {}
    columns: list[_Column] | None = None
    key_index = -1
    key_name = ""
    header: list[str] = []
    used: set[int] = set()
    filled: dict[int, int] = {}  # unmapped column -> first line with a value
    records = _Records(text, layout)
    try:
        for line, row in records:
            cells = [c.strip() for c in row]
            if not any(cells):
                continue
            if columns is None:
                if layout.header:
                    header = cells
                    found = _by_name(cells, layout, line)
                else:
                    found = _by_number(layout)
                if isinstance(found, FormatIssue):
                    return ReadResult(issues=[found])
                columns, (key_index, key_name) = found
                used = {c.index for c in columns} | {key_index}
                if layout.header:
                    continue
            # Without a header a short row is read as far as it goes: exporters drop empty
            # trailing cells, and a line missing what it needs (its quantity) is refused.
            ragged = bool(header) and len(cells) != len(header)
            if layout.unmapped == "warn" and not ragged:
                for index, cell in enumerate(cells):
                    if cell and index not in used:
                        filled.setdefault(index, line)
            key = cells[key_index] if key_index < len(cells) else ""
            if not key:
                result.issues.append(
                    FormatIssue(line, key_name, "empty, but every row needs the order key")
                )
                continue
            bad = control_character(key)
            if bad is not None:  # the key names the order everywhere: refuse the row
                result.issues.append(
                    FormatIssue(line, key_name, f"the order key holds a control character ({bad})")
                )
                continue
            builder = builders.get(key)
            if builder is None:
                builder = builders[key] = OrderBuilder(key, line, len(builders))
            if ragged:
                # A cut-off or run-on row: its cells would land in the wrong fields. Its
                # order is refused; the file's other orders go on.
                builder.issue(line, f"{len(cells)} field(s), but the header has {len(header)}")
                continue
            _read_row(builder, columns, cells, line)
    except csv.Error as exc:
        return ReadResult(
            issues=[
                FormatIssue(
                    records.record_start,
                    None,
                    f"not valid CSV in the row starting here (read up to line {records.line}): "
                    f"{exc}; the file is refused",
                )
            ],
            rejected=list(builders),
            rejected_indexes=list(range(len(builders))),
        )
    if columns is None:
        result.issues.append(FormatIssue(None, None, "no rows: the file is empty"))
        return result
    for index, line in sorted(filled.items(), key=lambda item: item[1]):
        name = header[index] if index < len(header) and header[index] else str(index + 1)
        result.issues.append(
            FormatIssue(
                line,
                name,
                "has values but no field in the map takes this column",
                severity="warning",
            )
        )
    number_lines = "line.line_number" not in layout.columns
    for index, (key, builder) in enumerate(builders.items()):
        order = builder.finish(number_lines=number_lines)
        result.issues.extend(builder.issues)
        if order is None:
            result.rejected.append(key)
            result.rejected_indexes.append(index)
        else:
            result.orders.append(order)
            result.order_indexes.append(index)
            result.line_positions.append(list(builder.line_positions))
    return result


def _read_row(builder: OrderBuilder, columns: list[_Column], cells: list[str], line: int) -> None:
    line_cells = [
        (c, cells[c.index])
        for c in columns
        if c.target.path.scope == "line" and c.index < len(cells) and cells[c.index]
    ]
    for column in columns:
        if column.target.path.scope == "order" and column.index < len(cells):
            raw = cells[column.index]
            if raw:
                builder.put(column.target, raw, line=line, column=column.name)
    if not line_cells:
        return  # a row with the order's fields only
    data = builder.add_line(line)
    for column, raw in line_cells:
        builder.put(column.target, raw, line=line, column=column.name, data=data)


def _targets(layout: CsvLayout) -> list[tuple[Target, str]]:
    out: list[tuple[Target, str]] = []
    for path, spec in layout.columns.items():
        formats = (spec.date_format,) if spec.date_format else tuple(layout.date_formats)
        out.append(
            (
                target(
                    path,
                    spec.column,
                    date_formats=formats,
                    decimal=spec.decimal or layout.decimal,
                    thousands=layout.thousands,
                    values=dict(spec.values),
                ),
                spec.column,
            )
        )
    return out


def _by_name(
    header: list[str], layout: CsvLayout, line: int
) -> tuple[list[_Column], tuple[int, str]] | FormatIssue:
    positions: dict[str, list[int]] = {}
    for index, name in enumerate(header):
        positions.setdefault(name, []).append(index)
    wanted = [spec.column for spec in layout.columns.values()] + [layout.group_column()]
    missing = sorted({name for name in wanted if name not in positions})
    if missing:
        shown = ", ".join(f'"{m}"' for m in missing)
        have = ", ".join(f'"{h}"' for h in header)
        return FormatIssue(line, None, f"column(s) {shown} not in the header ({have})")
    for name in sorted(set(wanted)):
        if len(positions[name]) > 1:
            numbers = " and ".join(str(i + 1) for i in positions[name])
            return FormatIssue(line, name, f"appears twice in the header (columns {numbers})")
    columns = [_Column(t, positions[name][0], name) for t, name in _targets(layout)]
    key = layout.group_column()
    return columns, (positions[key][0], key)


def _by_number(layout: CsvLayout) -> tuple[list[_Column], tuple[int, str]]:
    columns = [_Column(t, int(name) - 1, name) for t, name in _targets(layout)]
    key = layout.group_column()
    return columns, (int(key) - 1, key)
