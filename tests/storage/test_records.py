"""The records' pure rules: the phone's time and the stamp a hand-out carries."""

from datetime import datetime, timedelta, timezone

from storage.records import handout_stamp, parse_device_time


def test_stamp_is_untouched_when_the_second_is_new():
    d = "2025-02-09T19:33:19.5+01:00"
    stamp, second = handout_stamp(d, None)
    assert (stamp, second) == (d, int(parse_device_time(d).timestamp()))
    assert handout_stamp(d, second - 1) == (d, second)


def test_stamp_moves_past_every_second_already_used():
    d = "2025-02-09T19:33:19.5+01:00"
    used = int(parse_device_time(d).timestamp()) + 3  # a clock that went backwards
    stamp, second = handout_stamp(d, used)
    assert second == used + 1
    assert parse_device_time(stamp) == datetime(
        2025, 2, 9, 19, 33, 23, tzinfo=timezone(timedelta(hours=1))
    )
