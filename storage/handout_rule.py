"""What one TeslaLogger poll is handed, and the second it is filed under: pure.

TeslaLogger stores a hand-out with one multi-row INSERT into its table
`can(datum, id, val)`, keyed by (datum, id), where datum is the hand-out's `d`
truncated to the second. A single row it cannot store fails the whole INSERT,
and it then drops the whole hand-out, which we have already marked as given.
So a hand-out holds only what TeslaLogger can store:

- ids up to MAX_VALUE_ID (`can.id` is a signed MySQL mediumint); larger ones
  stay in the history and the export, but never reach TeslaLogger;
- finite values (it skips NaN/Infinity, and JSON cannot carry them);
- a second no earlier hand-out of the token took (records.stamp_second), and
  a key no earlier hand-out took: TeslaLogger's `datum` is its own local wall
  clock (it converts a `d` with an offset to its local time; a `Z` stays UTC),
  so when the clocks go back, 02:30 summer time and 02:30 winter time an hour
  later are one key. `teslalogger_key` says what TeslaLogger files a second
  under; a stamp whose key an earlier hand-out took moves to the next free one.
  Whose wall clock: TeslaLogger's, taken to be this host's time zone (`zone`
  None; it normally runs on the same LAN). The phone's offset in `d` cannot
  tell: it names the instant, not the zone rules, and earlier hand-outs are
  remembered as instants.

A hand-out with nothing left after filtering is not built: the poll is
answered `not found`, and those values are marked as given all the same.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from storage.records import (
    FiledSeconds,
    Handout,
    device_second,
    handout_stamp,
    spell_for_teslalogger,
)

MAX_VALUE_ID = 8_388_607  # TeslaLogger's can.id: MySQL mediumint, signed
# The widest step back of a wall clock: one hour nearly everywhere (Lord Howe
# Island: 30 min); two, for the rare zone that also changes its standard time.
MAX_FOLD_S = 2 * 3600
_WALL_EPOCH = datetime(1970, 1, 1)


def teslalogger_can_store(value_id: int) -> bool:
    return 0 <= value_id <= MAX_VALUE_ID


@dataclass(frozen=True, slots=True)
class Plan:
    """One poll's answer, decided."""

    handout: Handout | None  # None: nothing TeslaLogger could store, answer `not found`
    second: int | None  # the epoch second it is filed under
    moved_s: int  # how far that is after the newest upload's own second
    left_out: tuple[int, ...]  # ids TeslaLogger cannot store, left out


def teslalogger_key(second: int, device_time: str, zone: tzinfo | None = None) -> int:
    """TeslaLogger's `datum` for a hand-out filed at epoch `second` with a `d`
    spelled like `device_time`, as seconds since 1970-01-01 00:00 on its wall
    clock: UTC for a `Z`, else local time in `zone` (None: this host's)."""
    if device_time.endswith(("Z", "z")):
        return second
    if zone is None:
        wall = datetime.fromtimestamp(second)
    else:
        wall = datetime.fromtimestamp(second, zone).replace(tzinfo=None)
    return (wall - _WALL_EPOCH) // timedelta(seconds=1)


def fold_start(own: int, zone: tzinfo | None = None) -> int | None:
    """When the wall clock went back within MAX_FOLD_S before epoch second
    `own`: the earliest second whose TeslaLogger key a hand-out at `own` or
    later can share, so the caller knows which earlier seconds to look at.
    None otherwise (the normal case: nothing more to look at)."""
    before = own - MAX_FOLD_S
    if teslalogger_key(own, "", zone) - teslalogger_key(before, "", zone) < MAX_FOLD_S:
        return before
    return None


def plan_handout(
    sample_id: int,
    device_time: str,
    waiting: Mapping[int, float],
    filed: FiledSeconds,
    zone: tzinfo | None = None,
) -> Plan:
    """The hand-out of `waiting` (value id -> newest value), whose newest upload
    is `sample_id` from `device_time`, given the seconds earlier hand-outs took
    (`filed.used` must hold those since fold_start, when that is not None)."""
    values = {}
    left_out = []
    for value_id, value in sorted(waiting.items()):
        if not teslalogger_can_store(value_id):
            left_out.append(value_id)
        elif math.isfinite(value):
            values[value_id] = value
    if not values:
        return Plan(None, None, 0, tuple(left_out))
    stamp, second = handout_stamp(device_time, filed)
    free = _free_key(second, device_time, filed, zone)
    if free != second:
        stamp, second = spell_for_teslalogger(device_time, free), free
    moved = second - device_second(device_time)
    return Plan(Handout(sample_id, stamp, values), second, moved, tuple(left_out))


def _free_key(second: int, device_time: str, filed: FiledSeconds, zone: tzinfo | None) -> int:
    """The first second from `second` on whose TeslaLogger key no earlier
    hand-out has. A key k is the second k - offset for each UTC offset in
    force nearby: away from a fold there is one, and the epoch rule already
    kept `second` free; across one there are two, so two lookups a second."""
    if device_time.endswith(("Z", "z")):
        return second
    near = (second - MAX_FOLD_S, second, second + MAX_FOLD_S)
    offsets = {teslalogger_key(t, device_time, zone) - t for t in near}
    if len(offsets) == 1:
        return second
    earlier = filed.used if filed.last is None else filed.used | {filed.last}

    def taken(s: int) -> bool:
        key = teslalogger_key(s, device_time, zone)
        return any(
            key - offset in earlier and teslalogger_key(key - offset, device_time, zone) == key
            for offset in offsets
        )

    while taken(second):
        second += 1
    return second
