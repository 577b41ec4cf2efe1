"""What a document carries that its template never mentions.

A CSV invoice template written with line rows and a total only sends the partner a total
that its rows do not add up to: the freight charge and the tax that make the difference are
nowhere. Rendering cannot see what a template leaves out, but its source can: a template
(with everything it includes, imports or extends) whose expressions never name
``allowances_charges``, ``taxes`` or ``totals`` (a comment does not count) cannot have
written them, so the document gets a warning.

Usage::

    for message in unmentioned(invoice, "csv/invoice", map_dir):
        warn(message)
    unmentioned_for(invoice, partner)       # the template the partner's map names
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from jinja2 import meta, nodes

from .templates import Outbound, document_kind, template_file

if TYPE_CHECKING:
    from ..partners.registry import Partner

#: The document's parts checked, each with the names a template may write them by.
_PARTS = {
    "allowances_charges": ("allowance(s)/charge(s)", {"allowances_charges", "totals"}),
    "taxes": ("tax(es)", {"taxes", "totals"}),
}


def unmentioned_for(document: Outbound, partner: Partner) -> list[str]:
    """:func:`unmentioned` for the template ``partner``'s map names for ``document``."""
    section = partner.map.templates
    ref = section.for_kind(document_kind(document)) if section is not None else None
    if ref is None:
        return []
    return unmentioned(document, ref, Path(partner.map_source.path).parent)


def unmentioned(document: Outbound, ref: str, map_dir: Path | None) -> list[str]:
    """One message per part of ``document`` (allowances and charges, taxes, on the document
    or its lines) that template ``ref`` never names; [] when it names them all."""
    found = {name: _carried(document, name) for name in _PARTS}
    if not any(found.values()):
        return []
    named = _names(ref, map_dir)
    messages = []
    for name, (what, words) in _PARTS.items():
        carried = found[name]
        if carried and not words & named:
            kind = document_kind(document).replace("_", " ")
            messages.append(
                f"the {kind} has {len(carried)} {what} ({', '.join(carried)}) but template "
                f"{ref} never mentions {name} (or totals): the partner does not see them"
            )
    return messages


def _carried(document: Outbound, name: str) -> list[str]:
    """``name`` entries of the document and its lines, each shown as code and amount."""
    holders: list[Any] = [document, *getattr(document, "lines", [])]
    shown = []
    for holder in holders:
        for item in getattr(holder, name, None) or []:
            code = getattr(item, "code", None) or getattr(item, "type_code", None) or "?"
            amount = getattr(item, "amount", None)
            shown.append(code if amount is None else f"{code} {amount}")
    return shown


#: (directory, template) -> (the files read, with their change times; the names they use).
_NAMES: dict[tuple[Path, str], tuple[tuple[tuple[Path, int], ...], frozenset[str]]] = {}


def _names(ref: str, map_dir: Path | None) -> frozenset[str]:
    """Every variable, attribute and constant key that template ``ref`` and the templates
    it pulls in (by a constant name) read. Parsed once and kept while none of those files
    changes: every invoice of a templated partner asks, and a stat costs less than a parse."""
    directory, name = template_file(ref, map_dir)
    cached = _NAMES.get((directory, name))
    if cached is not None and all(_stamp(path) == stamp for path, stamp in cached[0]):
        return cached[1]
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(directory)))
    names: set[str] = set()
    files: list[tuple[Path, int]] = []
    pending, seen, complete = [name], set(), True
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        try:
            source, filename, _ = env.loader.get_source(env, current)  # type: ignore[union-attr]
            parsed = env.parse(source)
        except (jinja2.TemplateError, OSError, UnicodeDecodeError):
            complete = False  # asked again next time: the file may be fixed meanwhile
            continue  # rendering reported it already
        if filename is not None:
            files.append((Path(filename), _stamp(Path(filename))))
        for node in parsed.find_all((nodes.Name, nodes.Getattr, nodes.Getitem)):
            if isinstance(node, nodes.Name):
                names.add(node.name)
            elif isinstance(node, nodes.Getattr):
                names.add(node.attr)
            elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
                names.add(str(node.arg.value))
        pending += [n for n in meta.find_referenced_templates(parsed) if n is not None]
    found = frozenset(names)
    if complete:
        _NAMES[(directory, name)] = (tuple(files), found)
    return found


def _stamp(path: Path) -> int:
    """The file's change time (ns), or -1 when it is gone: a cached parse is stale then."""
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return -1
