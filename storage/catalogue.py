"""The value catalogue: what the numeric ids in a ScanMyTesla upload mean.

The data lives in catalogue.csv next to this file, one row per id (or per id
range such as `101-208`, whose `{n}` in key and name counts from 1). Row order
is display order: by group, the most telling values first. Columns:

- key: a stable snake_case identifier (export columns, MQTT object ids)
- name: the label TeslaLogger's Grafana dashboards use, or ScanMyTesla's own
  label as TeslaCANPi lists it
- unit: as the app sends the value, spelled as Home Assistant spells it
- teslalogger: TeslaLogger's own name (ScanMyTesla.cs) for the few it keeps
- ha_device_class, ha_state_class: for Home Assistant MQTT discovery
- source: where name and unit come from: teslalogger (ScanMyTesla.cs),
  grafana (TeslaLogger/Grafana/*.json), teslacanpi (mgerczuk/TeslaCANPi
  DbId.cs and Model3CAN.json), protocol (only the id list in PROTOCOL.md);
  "(unit inferred)" in a description means no source states the unit

An id not in the catalogue is still shown and exported, under its number.
"""

import csv
import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).with_name("catalogue.csv")

GROUP_TITLES = {
    "battery": "Battery",
    "energy": "Energy and range",
    "drive": "Drive",
    "power": "Power",
    "climate": "Climate",
    "thermal": "Thermal",
    "cells": "Cells",
    "other": "Not in the catalogue",
}
HA_STATE_CLASSES = frozenset({"", "measurement", "total", "total_increasing"})
SOURCES = frozenset({"teslalogger", "grafana", "teslacanpi", "protocol"})

_ID_RE = re.compile(r"([0-9]{1,9})(?:-([0-9]{1,9}))?")
_KEY_RE = re.compile(r"[a-z][a-z0-9_]*")
_COLUMNS = (
    "id",
    "key",
    "name",
    "unit",
    "group",
    "teslalogger",
    "ha_device_class",
    "ha_state_class",
    "description",
    "source",
)


@dataclass(frozen=True, slots=True)
class ValueInfo:
    id: int
    key: str
    name: str
    unit: str = ""
    group: str = "other"
    teslalogger: str = ""
    ha_device_class: str = ""
    ha_state_class: str = ""
    description: str = ""
    source: str = ""
    rank: int = 1 << 30  # position in the catalogue: the display order

    @property
    def known(self) -> bool:
        return self.group != "other"

    @property
    def label(self) -> str:
        """Name and unit, e.g. `Battery power [kW]`."""
        return f"{self.name} [{self.unit}]" if self.unit else self.name


def unknown(value_id: int) -> ValueInfo:
    return ValueInfo(value_id, f"id_{value_id}", f"id {value_id}")


class Catalogue(Mapping[int, ValueInfo]):
    def __init__(self, entries: Mapping[int, ValueInfo]) -> None:
        self._entries = dict(entries)

    def __getitem__(self, value_id: int) -> ValueInfo:
        return self._entries[value_id]

    def __iter__(self) -> Iterator[int]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def info(self, value_id: int) -> ValueInfo:
        """The entry for `value_id`, or a stand-in that names it by number."""
        return self._entries.get(value_id) or unknown(value_id)

    def order(self, value_id: int) -> tuple[int, int]:
        """Sort key: catalogue order, ids not in the catalogue last, by number."""
        return (self.info(value_id).rank, value_id)


def parse(text: str) -> Catalogue:
    """Read catalogue CSV; raises ValueError naming the line of any mistake."""
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != _COLUMNS:
        raise ValueError(f"catalogue columns must be {', '.join(_COLUMNS)}")
    entries: dict[int, ValueInfo] = {}
    keys: set[str] = set()
    for row in reader:
        where = f"catalogue line {reader.line_num}"
        for info in _expand(row, where, rank=len(entries)):
            if info.id in entries:
                raise ValueError(f"{where}: id {info.id} is listed twice")
            if info.key in keys:
                raise ValueError(f"{where}: key {info.key} is used twice")
            entries[info.id] = info
            keys.add(info.key)
    return Catalogue(entries)


def _expand(row: dict[str, str], where: str, rank: int) -> Iterator[ValueInfo]:
    match = _ID_RE.fullmatch(row["id"])
    if not match:
        raise ValueError(f"{where}: id {row['id']!r} is not a number or a range a-b")
    first = int(match[1])
    last = int(match[2] or first)
    if last < first:
        raise ValueError(f"{where}: range {row['id']} runs backwards")
    if row["group"] not in GROUP_TITLES or row["group"] == "other":
        raise ValueError(f"{where}: unknown group {row['group']!r}")
    if row["ha_state_class"] not in HA_STATE_CLASSES:
        raise ValueError(f"{where}: unknown ha_state_class {row['ha_state_class']!r}")
    if row["source"] not in SOURCES:
        raise ValueError(f"{where}: unknown source {row['source']!r}")
    templated = "{n}" in row["key"]
    if (first != last) != templated or templated != ("{n}" in row["name"]):
        raise ValueError(f"{where}: a range needs {{n}} in key and name, a single id none")
    for offset, value_id in enumerate(range(first, last + 1)):
        n = str(offset + 1)
        key = row["key"].replace("{n}", n)
        if not _KEY_RE.fullmatch(key):
            raise ValueError(f"{where}: key {key!r} is not snake_case")
        yield ValueInfo(
            id=value_id,
            key=key,
            name=row["name"].replace("{n}", n),
            unit=row["unit"],
            group=row["group"],
            teslalogger=row["teslalogger"],
            ha_device_class=row["ha_device_class"],
            ha_state_class=row["ha_state_class"],
            description=row["description"],
            source=row["source"],
            rank=rank + offset,
        )


@cache
def catalogue() -> Catalogue:
    """The catalogue shipped with teslahome, read once."""
    return parse(DATA.read_text(encoding="utf-8"))
