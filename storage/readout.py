"""Values as aligned text lines with names and units, for people: the mitmweb
content view and the command line's current state."""

import textwrap
from collections.abc import Callable, Mapping

from storage.catalogue import GROUP_TITLES, Catalogue, ValueInfo


def format_value(value: float) -> str:
    """Readable, not exact: 4 decimals at most, small numbers in 3 significant
    digits. The exact doubles stay in storage and in exports."""
    if value != 0 and abs(value) < 0.001:
        return f"{value:.3g}"
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def catalogue_notes(info: ValueInfo) -> str:
    return "; ".join(n for n in (info.teslalogger, info.description) if n)


def value_lines(
    values: Mapping[int, float],
    names: Catalogue,
    notes: Callable[[ValueInfo], str] = catalogue_notes,
    *,
    width: int | None = None,
    rule: str | None = None,
) -> list[str]:
    """One line per value under its group's title: id, name, value, unit, notes;
    in catalogue order, ids the catalogue does not know last.

    `width`: notes that would run past it wrap onto lines of their own, aligned
    under the notes column. `rule`: a line put above every group's title, so the
    groups stand apart where blank lines do not show (mitmweb drops them).
    """
    ids = sorted(values, key=names.order)
    infos = [names.info(i) for i in ids]
    shown = [format_value(values[i]) for i in ids]
    id_w = max((len(str(i)) for i in ids), default=0)
    name_w = max((len(info.name) for info in infos), default=0)
    # Aligned on the decimal point: integer parts right-aligned, fractions left.
    int_w = max((len(s.partition(".")[0]) for s in shown), default=0)
    frac_w = max((len(s.partition(".")[2]) + ("." in s) for s in shown), default=0)
    unit_w = max((len(info.unit) for info in infos), default=0)
    lines: list[str] = []
    group = None
    for info, text in zip(infos, shown, strict=True):
        if info.group != group:
            group = info.group
            if rule is not None:
                lines.append(rule)
            lines.append(GROUP_TITLES[group])
        whole, dot, fraction = text.partition(".")
        number = whole.rjust(int_w) + (dot + fraction).ljust(frac_w)
        start = f"  {str(info.id).rjust(id_w)}  {info.name.ljust(name_w)}  {number}"
        start += f"  {info.unit.ljust(unit_w)}  "
        lines.extend(_with_notes(start, notes(info), width))
    return lines


def _with_notes(start: str, text: str, width: int | None) -> list[str]:
    room = None if width is None else width - len(start)
    if not text or room is None or len(text) <= room:
        return [(start + text).rstrip()]
    parts = textwrap.wrap(text, max(room, 20), break_on_hyphens=False)
    indent = " " * len(start)
    return [start + parts[0], *(indent + part for part in parts[1:])]
