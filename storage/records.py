"""What the store keeps and hands out, and the rules for the phone's time: pure.

A `Sample` is one upload of the app (the values that changed, at the phone's
time `d`); a `Handout` is what one TeslaLogger poll receives. Times stay as
the app spelled them; `parse_device_time` and friends convert for storage.
"""

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


def handout_stamp(device_time: str, last_second: int | None) -> tuple[str, int]:
    """The `d` a hand-out carries, and its epoch second.

    TeslaLogger stores each value under (time truncated to the second, id), and
    one duplicate key fails its whole insert. A hand-out falling into the same
    second as the previous one (two uploads of one second, polled in between)
    is therefore stamped at the start of the next second: at most one second
    later than the truth, instead of lost.
    """
    moment = parse_device_time(device_time)
    second = epoch_us(moment) // 1_000_000
    if last_second is None or second > last_second:
        return device_time, second
    later = moment.replace(microsecond=0) + timedelta(seconds=last_second + 1 - second)
    return later.isoformat(), last_second + 1
