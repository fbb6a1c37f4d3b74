"""The rule for what one hand-out holds and the second TeslaLogger files it under."""

import json
import math
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage.handout_rule import (
    MAX_FOLD_S,
    MAX_VALUE_ID,
    fold_start,
    plan_handout,
    teslalogger_can_store,
    teslalogger_key,
)
from storage.records import FiledSeconds, device_second
from support.teslalogger import TeslaLogger

D = "2025-02-09T19:33:19.697553+01:00"
S = device_second(D)  # its epoch second
NOTHING = FiledSeconds()
MIDNIGHT = device_second("2025-02-10T00:00:00Z")


@pytest.mark.parametrize(
    "waiting, kept, left_out",
    [
        ({43: 1.5, 442: 80.0}, {43: 1.5, 442: 80.0}, ()),
        ({0: 1.0, MAX_VALUE_ID: 2.0}, {0: 1.0, MAX_VALUE_ID: 2.0}, ()),  # the column's edges
        ({43: 1.5, MAX_VALUE_ID + 1: 2.0}, {43: 1.5}, (MAX_VALUE_ID + 1,)),
        ({9_000_000: 1.0, 43: 1.5, 999_999_999: 3.0}, {43: 1.5}, (9_000_000, 999_999_999)),
        ({43: math.nan, 442: 80.0}, {442: 80.0}, ()),
        ({43: math.inf, 44: -math.inf, 442: 80.0}, {442: 80.0}, ()),
    ],
)
def test_a_handout_holds_only_what_teslalogger_can_store(waiting, kept, left_out):
    plan = plan_handout(7, D, waiting, NOTHING)
    assert plan.handout is not None
    assert plan.handout.values == kept
    assert plan.left_out == left_out
    assert (plan.handout.sample_id, plan.handout.device_time, plan.second) == (7, D, S)


@pytest.mark.parametrize(
    "waiting",
    [
        {},
        {9_000_000: 1.0},
        {43: math.nan},
        {43: math.inf, 8_388_608: 1.0},
    ],
)
def test_nothing_storable_left_builds_no_handout(waiting):
    plan = plan_handout(7, D, waiting, FiledSeconds(S - 10))
    assert (plan.handout, plan.second, plan.moved_s) == (None, None, 0)
    assert plan.left_out == tuple(sorted(k for k in waiting if k > MAX_VALUE_ID))


def test_the_id_range_is_teslaloggers_mediumint():
    assert teslalogger_can_store(0) and teslalogger_can_store(8_388_607)
    assert not teslalogger_can_store(8_388_608) and not teslalogger_can_store(-1)


# (the newest upload's d, the seconds earlier hand-outs took) -> (d handed out, moved by)
STAMPS = [
    # a new second keeps the app's d exactly
    ("2025-02-09T18:33:19.697553Z", FiledSeconds(), "2025-02-09T18:33:19.697553Z", 0),
    ("2025-02-09T18:33:19.697553Z", FiledSeconds(S - 1), "2025-02-09T18:33:19.697553Z", 0),
    # the same second as the last hand-out: the next one, in the app's spelling
    ("2025-02-09T18:33:19.697553Z", FiledSeconds(S), "2025-02-09T18:33:20.000000Z", 1),
    ("2025-02-09T18:33:19.5Z", FiledSeconds(S), "2025-02-09T18:33:20.0Z", 1),
    ("2025-02-09T18:33:19Z", FiledSeconds(S), "2025-02-09T18:33:20Z", 1),
    ("2025-02-09T19:33:19.697553+01:00", FiledSeconds(S), "2025-02-09T19:33:20.000000+01:00", 1),
    ("2025-02-09T19:33:19.697+01:00", FiledSeconds(S), "2025-02-09T19:33:20.000+01:00", 1),
    ("2025-02-09T19:33:19+0100", FiledSeconds(S), "2025-02-09T19:33:20+01:00", 1),
    # spellings the app does not use become its own, at the same second too
    ("2025-02-09T19:33:19+0100", FiledSeconds(), "2025-02-09T19:33:19+01:00", 0),
    ("2025-02-09T18:33:19.697553123Z", FiledSeconds(), "2025-02-09T18:33:19.6975530Z", 0),
    ("2025-02-09T18:33:19.6975531Z", FiledSeconds(), "2025-02-09T18:33:19.6975531Z", 0),
    ("2025-02-09T18:33:19.6975531Z", FiledSeconds(S), "2025-02-09T18:33:20.0000000Z", 1),
    ("2025-02-09T13:33:19.5-05:00", FiledSeconds(S), "2025-02-09T13:33:20.0-05:00", 1),
    ("2025-02-10T00:03:19.25+05:30", FiledSeconds(S), "2025-02-10T00:03:20.00+05:30", 1),
    ("2025-02-09 18:33:19.697553+00:00", FiledSeconds(S), "2025-02-09 18:33:20.000000+00:00", 1),
    # across midnight, and into the next day's date
    ("2025-02-09T23:59:59.9Z", FiledSeconds(MIDNIGHT - 1), "2025-02-10T00:00:00.0Z", 1),
    ("2025-02-10T00:59:59.9+01:00", FiledSeconds(MIDNIGHT - 1), "2025-02-10T01:00:00.0+01:00", 1),
    # the clock stepped back 60 s: its own second is free, so it keeps its own time
    ("2025-02-09T18:32:19.5Z", FiledSeconds(S, frozenset({S - 65, S}), -math.inf),
     "2025-02-09T18:32:19.5Z", 0),
    # ... its own second was taken: the next free one
    ("2025-02-09T18:32:19.5Z", FiledSeconds(S, frozenset({S - 60, S}), -math.inf),
     "2025-02-09T18:32:20.0Z", 1),
    ("2025-02-09T18:32:19.5Z", FiledSeconds(S, frozenset({S - 60, S - 59, S - 58, S}), -math.inf),
     "2025-02-09T18:32:22.0Z", 3),
    # ... every second up to the newest hand-out taken: right after it
    ("2025-02-09T18:33:17.5Z", FiledSeconds(S, frozenset({S - 2, S - 1, S}), -math.inf),
     "2025-02-09T18:33:20.0Z", 3),
    # ... further back than the seconds remembered: after the newest hand-out
    ("2025-02-09T18:32:19.5Z", FiledSeconds(S, frozenset({S}), S - 30),
     "2025-02-09T18:33:20.0Z", 61),
    ("2025-02-09T18:32:19.5Z", FiledSeconds(S), "2025-02-09T18:33:20.0Z", 61),
]  # fmt: skip


@pytest.mark.parametrize("d, filed, stamp, moved", STAMPS)
def test_the_second_a_handout_is_filed_under(d, filed, stamp, moved):
    plan = plan_handout(1, d, {43: 1.0}, filed)
    assert plan.handout is not None and plan.handout.device_time == stamp
    assert plan.second == device_second(stamp)
    assert plan.moved_s == moved
    assert not filed.taken(plan.second)  # never a (second, id) TeslaLogger already has


def test_a_naive_time_stays_naive():
    d = "2025-02-09T19:33:19.697553"
    plan = plan_handout(1, d, {43: 1.0}, FiledSeconds(device_second(d)))
    assert plan.handout.device_time == "2025-02-09T19:33:20.000000"


def test_a_spelling_the_app_does_not_use_is_respelled_in_iso_8601():
    d = "2025-02-09T19:33:19+01:00:00"  # an offset with seconds
    plan = plan_handout(1, d, {43: 1.0}, FiledSeconds(device_second(d)))
    assert plan.handout.device_time == "2025-02-09T19:33:20+01:00"


@settings(max_examples=300)
@given(st.lists(st.integers(min_value=-90, max_value=8), min_size=1, max_size=40))
def test_a_clock_that_wanders_never_files_a_second_twice(steps):
    """The phone's clock moves by `steps` seconds between polls, back as well as
    forth; every second a hand-out is filed under is remembered, as the store does."""
    own, used, last = S, set(), None
    for step in steps:
        own += step
        d = datetime.fromtimestamp(own, UTC).isoformat(timespec="microseconds")
        plan = plan_handout(1, d, {43: 1.0}, FiledSeconds(last, frozenset(used), -math.inf))
        assert plan.second not in used and plan.second >= own
        assert plan.moved_s == 0 or plan.second <= max(used) + 1  # bounded by what was filed
        used.add(plan.second)
        last = max(used)


# TeslaLogger files a hand-out under its own wall clock: across the autumn fold
# (Berlin, 2025-10-26 01:00 UTC: 03:00 CEST becomes 02:00 CET) two instants an
# hour apart share one key.
BERLIN = ZoneInfo("Europe/Berlin")


def filed_at(*stamps: str) -> FiledSeconds:
    seconds = frozenset(device_second(d) for d in stamps)
    return FiledSeconds(max(seconds), seconds, -math.inf) if seconds else FiledSeconds()


FOLDS = [
    # 02:30 CET is 02:30 CEST's key: the next free second
    ("2025-10-26T02:30:00.4+01:00", ["2025-10-26T02:30:00.9+02:00"], BERLIN,
     "2025-10-26T02:30:01.0+01:00", 1),
    ("2025-10-26T02:30:00.4+01:00", ["2025-10-26T02:30:00+02:00", "2025-10-26T02:30:01+02:00"],
     BERLIN, "2025-10-26T02:30:02.0+01:00", 2),
    ("2025-10-26T02:30:00.4+01:00", ["2025-10-26T02:29:59+02:00"], BERLIN,
     "2025-10-26T02:30:00.4+01:00", 0),
    # a phone still on summer time after the change: the same key, the same rule
    ("2025-10-26T03:30:00.2+02:00", ["2025-10-26T02:30:00+02:00"], BERLIN,
     "2025-10-26T03:30:01.0+02:00", 1),
    # `Z` is filed in UTC, and a TeslaLogger on UTC has no fold
    ("2025-10-26T01:30:00.4Z", ["2025-10-26T00:30:00Z"], BERLIN, "2025-10-26T01:30:00.4Z", 0),
    ("2025-10-26T02:30:00.4+01:00", ["2025-10-26T02:30:00+02:00"], UTC,
     "2025-10-26T02:30:00.4+01:00", 0),
    # spring's gap (2025-03-30 01:00 UTC: 02:00 CET becomes 03:00 CEST) takes no key twice
    ("2025-03-30T03:00:00.2+02:00", ["2025-03-30T01:59:59+01:00"], BERLIN,
     "2025-03-30T03:00:00.2+02:00", 0),
    # a phone still on winter time inside the gap: the instant is taken, the next second
    ("2025-03-30T02:30:00.2+01:00", ["2025-03-30T03:30:00+02:00"], BERLIN,
     "2025-03-30T02:30:01.0+01:00", 1),
]  # fmt: skip


@pytest.mark.parametrize("d, earlier, zone, stamp, moved", FOLDS)
def test_no_two_handouts_share_teslaloggers_local_key(d, earlier, zone, stamp, moved):
    filed = filed_at(*earlier)
    plan = plan_handout(1, d, {43: 1.0}, filed, zone)
    assert (plan.handout.device_time, plan.moved_s) == (stamp, moved)
    assert plan.second == device_second(stamp)
    keys = {teslalogger_key(s, d, zone) for s in filed.used}
    assert teslalogger_key(plan.second, d, zone) not in keys


@pytest.mark.parametrize(
    "own, fold",
    [
        ("2025-10-26T01:30:00Z", True),  # half an hour after the clocks went back
        ("2025-10-26T02:59:59Z", True),  # the last second MAX_FOLD_S still reaches back
        ("2025-10-26T03:00:01Z", False),
        ("2025-10-26T00:59:59Z", False),  # just before
        ("2025-07-01T12:00:00Z", False),
        ("2025-03-30T01:30:00Z", False),  # spring: the clock went forward
    ],
)
def test_fold_start_says_when_earlier_seconds_need_a_look(own, fold):
    second = device_second(own)
    assert fold_start(second, BERLIN) == (second - MAX_FOLD_S if fold else None)


@pytest.mark.parametrize("step_s", [2, 3, 5])  # TeslaLogger polls every 5 s at most
def test_teslalogger_stores_every_handout_across_the_fold(step_s):
    """TeslaLogger's own keying (support/teslalogger.py, Berlin time): a poll
    every `step_s` from 01:30 CEST to 03:30 CET, each stamped with the phone's
    local time, never meets a duplicate key."""
    teslalogger = TeslaLogger(BERLIN)
    start = datetime(2025, 10, 25, 23, 30, tzinfo=UTC)
    filed = FiledSeconds()
    for n in range(0, 3 * 3600 // step_s):
        d = (start + timedelta(seconds=n * step_s, milliseconds=400)).astimezone(BERLIN)
        plan = plan_handout(n, d.isoformat(), {43: float(n)}, filed, BERLIN)
        body = json.dumps({"d": plan.handout.device_time, "dict": {"43": float(n)}})
        assert teslalogger.take(f"{n}\r\n{plan.handout.device_time}\r\n{body}".encode()) == 1
        filed = FiledSeconds(
            max(filed.last or 0, plan.second), filed.used | {plan.second}, -math.inf
        )
    assert len(teslalogger.values(43)) == 3 * 3600 // step_s
