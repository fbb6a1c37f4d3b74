"""What the store keeps and hands out, and the rules for the phone's time: pure.

A `Sample` is one upload of the app (the values that changed, at the phone's
time `d`); a `Handout` is what one TeslaLogger poll receives. Times stay as
the app spelled them; `parse_device_time` and friends convert for storage.
"""

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Sample:
    """One upload of the app: the values that changed, at the phone's time."""

    token: str
    device_time: str  # `d` exactly as the app sent it
    values: Mapping[int, float]
    version: str = ""
    skipped: tuple[int, ...] = ()  # ids sent as NaN or Infinity, dropped as TeslaLogger does


@dataclass(frozen=True, slots=True)
class Handout:
    """What one TeslaLogger poll receives: the waiting values, newest per id."""

    sample_id: int  # newest sample merged in
    device_time: str  # its `d`, or a later stamp (see handout_stamp)
    values: dict[int, float]


@dataclass(frozen=True, slots=True)
class StoredSample:
    id: int
    token: str
    received_ms: int
    device_time: datetime
    version: str
    values: dict[int, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LatestValue:
    value: float
    sample_id: int
    device_time: datetime | None = None  # of that sample; None once it left the history


def parse_device_time(text: str) -> datetime:
    """The app's `d`: ISO-8601, normally with microseconds and a UTC offset.

    A time without offset is the proxy's local time, as TeslaLogger's
    DateTime.Parse would read it. Raises ValueError.
    """
    if not 10 <= len(text) <= 40:
        raise ValueError("not an ISO-8601 time")
    return datetime.fromisoformat(text)


def epoch_us(moment: datetime) -> int:
    return (moment.astimezone(UTC) - _EPOCH) // _MICROSECOND


def from_epoch_us(us: int, offset_min: int | None) -> datetime:
    """Undo epoch_us: the device time in the offset the app sent (naive if none)."""
    moment = _EPOCH + us * _MICROSECOND
    if offset_min is None:
        return moment.astimezone().replace(tzinfo=None)
    return moment.astimezone(timezone(timedelta(minutes=offset_min)))


@dataclass(frozen=True, slots=True)
class FiledSeconds:
    """The seconds one token's earlier hand-outs were filed under in TeslaLogger.

    `used` must hold every one of them from `known_from` up to `last`; below
    `known_from` nothing is known, so every second up to `last` counts as taken.
    """

    last: int | None = None  # the newest; None: nothing handed out yet
    used: frozenset[int] = frozenset()
    known_from: float = math.inf

    def taken(self, second: int) -> bool:
        if self.last is None or second > self.last:
            return False
        return second < self.known_from or second in self.used


def device_second(device_time: str) -> int:
    """The epoch second TeslaLogger files `d` under (it truncates to the second)."""
    return epoch_us(parse_device_time(device_time)) // 1_000_000


def stamp_second(own: int, filed: FiledSeconds) -> int:
    """The second a hand-out whose newest upload is from second `own` is filed
    under: its own, unless an earlier hand-out took it; then the first free one
    after it. Two hand-outs never share a second, so TeslaLogger never meets a
    duplicate (second, id), which would fail its whole insert.

    A clock that went back lands on its own time again wherever that second is
    free; only where nothing is known (before `known_from`) does the hand-out go
    after the newest, one second after `last`.
    """
    if filed.last is not None and own <= filed.last and own < filed.known_from:
        return filed.last + 1
    second = own
    while filed.taken(second):  # ends at filed.last + 1 at the latest
        second += 1
    return second


# The app's own spelling, e.g. 2025-02-09T19:33:19.697553+01:00 (a space for the T,
# up to 7 fraction digits, Z or no offset also do): what TeslaLogger is known to read.
_APP_SPELLING_RE = re.compile(
    r"\d{4}-\d{2}-\d{2}(?P<sep>[T ])\d{2}:\d{2}:\d{2}(?P<fraction>\.\d{1,7})?"
    r"(?P<offset>Z|[+-]\d{2}:\d{2})?"
)
_FRACTION_RE = re.compile(r"[.,](\d+)")


def spell_for_teslalogger(device_time: str, second: int) -> str:
    """`d` for a hand-out filed under epoch `second`.

    The app's own text when it names that second and is spelled as the app
    spells it. Otherwise the start of `second` (or, for the same second, the
    moment itself) in the app's offset and spelling: `Z` stays `Z` (TeslaLogger's
    parser reads `Z` as UTC but `+00:00` as local time), as many fraction digits
    as the app sent, a space for the T if it used one; other spellings that
    Python reads become the app's (`+0100` becomes `+01:00`).
    """
    moment = parse_device_time(device_time)
    own = epoch_us(moment) // 1_000_000
    spelling = _APP_SPELLING_RE.fullmatch(device_time)
    if second == own and spelling is not None:
        return device_time
    if second != own:
        moment = datetime.fromtimestamp(second, moment.tzinfo)  # naive: this host's time
    text = moment.strftime("%Y-%m-%d" + (spelling["sep"] if spelling else "T") + "%H:%M:%S")
    if fraction := _FRACTION_RE.search(device_time[19:]):
        digits = min(len(fraction[1]), 7)
        text += "." + f"{moment.microsecond:06d}0"[:digits]
    if moment.tzinfo is not None:
        text += "Z" if device_time.endswith("Z") else moment.strftime("%:z")
    return text


def handout_stamp(device_time: str, filed: FiledSeconds | int | None) -> tuple[str, int]:
    """The `d` a hand-out carries, and its epoch second (see stamp_second).

    `filed` says which seconds earlier hand-outs took; given only the newest
    (an int), every second up to it counts as taken. A stamp that had to move
    is the start of its new second, in the app's own spelling (spell_for_teslalogger).
    """
    if not isinstance(filed, FiledSeconds):
        filed = FiledSeconds(filed)
    own = device_second(device_time)
    second = stamp_second(own, filed)
    return (spell_for_teslalogger(device_time, second)), second
