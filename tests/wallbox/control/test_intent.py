import pytest

from wallbox.control.intent import (
    Intent,
    IntentError,
    parse_amps,
    parse_change,
    parse_soc,
    parse_switch,
)


@pytest.mark.parametrize(
    "text, expected",
    [("1", True), ("0", False), ("true", True), ("False", False), (" on ", True), ("off", False)],
)
def test_switch(text, expected):
    assert parse_switch(text) is expected


@pytest.mark.parametrize("text", ["", "2", "yes please", "-1", "1.0"])
def test_switch_refuses_anything_else(text):
    with pytest.raises(IntentError, match=r"1 \(start charging\) or 0"):
        parse_switch(text)


@pytest.mark.parametrize(
    "text, car_max, expected", [("16", None, 16), ("1", 16, 1), ("48", None, 48), (" 6 ", 32, 6)]
)
def test_amps(text, car_max, expected):
    assert parse_amps(text, car_max) == expected


@pytest.mark.parametrize(
    "text, car_max, message",
    [
        ("abc", None, "whole number"),
        ("16.5", None, "whole number"),
        ("", None, "whole number"),
        ("²", None, "whole number"),
        ("1e3", None, "whole number"),
        ("0", None, r"1\.\.48"),
        ("-5", None, r"1\.\.48"),
        ("49", None, r"1\.\.48 \(the highest"),
        ("17", 16, r"1\.\.16 \(the car's maximum"),
        ("99999999", None, "whole number"),
    ],
)
def test_amps_out_of_range_say_the_range(text, car_max, message):
    with pytest.raises(IntentError, match=message):
        parse_amps(text, car_max)


@pytest.mark.parametrize("text, expected", [("1", 1), ("49", 49), ("50", 50), ("100", 100)])
def test_soc(text, expected):
    assert parse_soc(text) == expected


@pytest.mark.parametrize("text", ["0", "101", "150", "-1", "55%", "x"])
def test_soc_refused(text):
    with pytest.raises(IntentError, match="soc must be"):
        parse_soc(text)


@pytest.mark.parametrize(
    "target, guard, car_limit",
    [(None, None, None), (1, 1, 50), (49, 49, 50), (50, None, 50), (80, None, 80)],
)
def test_a_target_below_50_is_guarded_and_the_car_keeps_50(target, guard, car_limit):
    intent = Intent(target_soc=target)
    assert (intent.guard_soc, intent.car_limit) == (guard, car_limit)


def test_merging_keeps_what_a_request_does_not_name():
    intent = Intent(charging=True, amps=16, target_soc=80)
    assert intent.merged(amps=8) == Intent(True, 8, 80)
    assert intent.merged(charging=False) == Intent(False, 16, 80)
    assert Intent().merged() == Intent()


@pytest.mark.parametrize(
    "part, text, change",
    [("control", "ON", {"charging": True}), ("control", "0", {"charging": False}),
     ("amps", "10", {"amps": 10}), ("soc", "40", {"target_soc": 40})],
)  # fmt: skip
def test_parse_change_names_what_set_intent_takes(part, text, change):
    assert parse_change(part, text, car_max=16) == change


def test_parse_change_refuses_as_the_parts_do():
    with pytest.raises(IntentError, match=r"amps must be 1\.\.16"):
        parse_change("amps", "17", car_max=16)
    with pytest.raises(ValueError, match="no intent part"):
        parse_change("limit", "80", car_max=16)
