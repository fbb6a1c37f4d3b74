"""TeslaLogger's side of get_scanmytesla.php, for end-to-end tests.

Parses an answer as PROTOCOL.md section 2 (and TeslaLogger's ScanMyTesla.cs)
describes, and stores it as TeslaLogger does: one multi-row INSERT into
`can(datum, id, val)`, primary key (datum, id), `id` a signed MySQL mediumint,
`datum` the JSON's `d` truncated to the second in the time TeslaLogger's
parser reads it in (`Z`: UTC; an offset: converted to TeslaLogger's local
time). One row MySQL would refuse fails the whole INSERT, and TeslaLogger then
drops the hand-out: `take` raises, and stores nothing of it.
"""

import json
import re
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

MEDIUMINT = range(-8_388_608, 8_388_608)
_SQL_INTEGER = re.compile(r"-?[0-9]+")
BERLIN = ZoneInfo("Europe/Berlin")  # TeslaLogger's own time zone, for its local times


class Lost(Exception):
    """TeslaLogger could not store a hand-out: it logs this and drops all of it."""


class TeslaLogger:
    def __init__(self, local_zone: tzinfo = BERLIN) -> None:
        self.local_zone = local_zone
        self.can: dict[tuple[str, int], float] = {}  # (datum, id) -> val
        self.datums: list[str] = []  # of each stored hand-out, in order

    def take(self, body: bytes) -> int:
        """Handle one poll's answer; the number of rows stored (0 for `not found`)."""
        text = body.decode("utf-8")
        if text == "not found":
            return 0
        try:
            _, _, payload = _two_lines_and_rest(text)
            doc = json.loads(payload, parse_constant=_no_constants)
            datum = self._datum(doc["d"])
            rows = [(datum, *row) for row in _rows(doc["dict"])]
        except (ValueError, KeyError, TypeError) as e:
            raise Lost(f"unparseable answer: {e}") from e
        new = {}
        for datum, value_id, value in rows:
            if (datum, value_id) in self.can or (datum, value_id) in new:
                raise Lost(f"Duplicate entry '{datum}-{value_id}' for key 'PRIMARY'")
            new[(datum, value_id)] = value
        self.can.update(new)
        self.datums.append(datum)
        return len(new)

    def _datum(self, d: str) -> str:
        moment = datetime.fromisoformat(d)
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC if d.endswith("Z") else self.local_zone)
        return moment.strftime("%Y-%m-%d %H:%M:%S")

    def values(self, value_id: int) -> list[float]:
        return [v for (_, i), v in sorted(self.can.items()) if i == value_id]


def _two_lines_and_rest(text: str) -> tuple[str, str, str]:
    first, sep, rest = text.partition("\r\n")
    second, sep2, payload = rest.partition("\r\n")
    if not sep or not sep2:
        raise ValueError("fewer than two CRLF-terminated lines")
    return first, second, payload


def _rows(values: dict) -> list[tuple[int, float]]:
    rows = []
    for key, value in values.items():
        if "Infinity" in str(value) or "NaN" in str(value):
            continue  # skipped, as TeslaLogger skips them
        if not _SQL_INTEGER.fullmatch(key):
            raise ValueError(f"id {key!r} breaks the SQL it is spliced into")
        if int(key) not in MEDIUMINT:
            raise Lost(f"Out of range value for column 'id' ({key})")
        rows.append((int(key), float(value)))
    return rows


def _no_constants(name: str) -> float:
    raise ValueError(f"{name} is not JSON")
