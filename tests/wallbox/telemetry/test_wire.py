"""The coercions every push source shares: the types feeds send, the words for unknown."""

import pytest

from wallbox.telemetry.wire import boolean, enum_name, integer, number, position, text


@pytest.mark.parametrize(
    "value, expected",
    [
        (12.3, 12.3),
        ("12.3", 12.3),  # the same field, typed differently by another firmware
        (" 7 ", 7.0),
        (7, 7.0),
        (None, None),
        ("null", None),
        ("invalid", None),
        ("<invalid>", None),
        ("None", None),  # TeslaBle2Mqtt while the car sleeps
        ("", None),
        ("NaN", None),
        (float("inf"), None),
        ("1e12", None),
        (True, None),
        ("twelve", None),
        ({"a": 1}, None),
    ],
)
def test_number(value, expected):
    assert number(value) == expected


@pytest.mark.parametrize(
    "value, expected", [(15.6, 16), ("15.4", 15), ("None", None), (None, None)]
)
def test_integer(value, expected):
    assert integer(value) == expected


@pytest.mark.parametrize(
    "value, expected",
    [
        (True, True),
        (False, False),
        ("true", True),
        ("False", False),
        ("ON", True),
        ("off", False),
        ("None", None),
        ("yes please", None),
        (1, None),
    ],
)
def test_boolean(value, expected):
    assert boolean(value) == expected


@pytest.mark.parametrize(
    "value, prefix, expected",
    [
        ("DetailedChargeStateCharging", "DetailedChargeState", "Charging"),
        ("Charging", "DetailedChargeState", "Charging"),  # without its prefix
        ("DetailedChargeStateUnknown", "DetailedChargeState", None),
        ("DetailedChargeState", "DetailedChargeState", "DetailedChargeState"),
        ("FastChargerSupercharger", "FastCharger", "Supercharger"),
        ("VEHICLE_SLEEP_STATUS_ASLEEP", "VEHICLE_SLEEP_STATUS_", "ASLEEP"),
        (None, "X", None),
        ("invalid", "X", None),
    ],
)
def test_enum_name(value, prefix, expected):
    assert enum_name(value, prefix) == expected


@pytest.mark.parametrize(
    "value, expected",
    [
        ({"latitude": 48.1, "longitude": 11.5}, (48.1, 11.5)),
        ({"latitude": "48.1", "longitude": "11.5"}, (48.1, 11.5)),
        ({"latitude": 91, "longitude": 11.5}, (None, None)),
        ({"latitude": None, "longitude": 11.5}, (None, None)),
        ("48.1,11.5", (None, None)),
        (None, (None, None)),
    ],
)
def test_position(value, expected):
    assert position(value) == expected


def test_text_keeps_words_and_drops_the_unknown():
    assert text(" Charging ") == "Charging"
    assert text(3) == "3"
    assert text("null") is None and text(False) is None and text([1]) is None
