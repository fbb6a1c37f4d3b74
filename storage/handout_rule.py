"""What one TeslaLogger poll is handed, and the second it is filed under: pure.

TeslaLogger stores a hand-out with one multi-row INSERT into its table
`can(datum, id, val)`, keyed by (datum, id), where datum is the hand-out's `d`
truncated to the second. A single row it cannot store fails the whole INSERT,
and it then drops the whole hand-out, which we have already marked as given.
So a hand-out holds only what TeslaLogger can store:

- ids up to MAX_VALUE_ID (`can.id` is a signed MySQL mediumint); larger ones
  stay in the history and the export, but never reach TeslaLogger;
- finite values (it skips NaN/Infinity, and JSON cannot carry them);
- a second no earlier hand-out of the token took (records.stamp_second).

A hand-out with nothing left after filtering is not built: the poll is
answered `not found`, and those values are marked as given all the same.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass

from storage.records import FiledSeconds, Handout, device_second, handout_stamp

MAX_VALUE_ID = 8_388_607  # TeslaLogger's can.id: MySQL mediumint, signed


def teslalogger_can_store(value_id: int) -> bool:
    return 0 <= value_id <= MAX_VALUE_ID


@dataclass(frozen=True, slots=True)
class Plan:
    """One poll's answer, decided."""

    handout: Handout | None  # None: nothing TeslaLogger could store, answer `not found`
    second: int | None  # the epoch second it is filed under
    moved_s: int  # how far that is after the newest upload's own second
    left_out: tuple[int, ...]  # ids TeslaLogger cannot store, left out


def plan_handout(
    sample_id: int, device_time: str, waiting: Mapping[int, float], filed: FiledSeconds
) -> Plan:
    """The hand-out of `waiting` (value id -> newest value), whose newest upload
    is `sample_id` from `device_time`, given the seconds earlier hand-outs took."""
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
    moved = second - device_second(device_time)
    return Plan(Handout(sample_id, stamp, values), second, moved, tuple(left_out))
