"""TeslaMate's topics and values, as pure rules."""

import pytest

from wallbox.telemetry.teslamate import (
    heard,
    parse_car_map,
    parse_topic,
    snapshot,
    subscriptions,
)
from wallbox.vehicle.charge_state import ASLEEP, OFFLINE, ONLINE, UNKNOWN


@pytest.mark.parametrize(
    "topic, namespace, expected",
    [
        ("teslamate/cars/1/battery_level", "", (1, "battery_level")),
        ("teslamate/home/cars/12/state", "home", (12, "state")),
        ("teslamate/home/cars/12/state", "/home/", (12, "state")),
        ("teslamate/cars/1/battery_level", "home", None),  # another namespace
        ("teslamate/home/cars/1/state", "", None),
        ("teslamate/cars/x/state", "", None),
        ("teslamate/cars/1/odometer", "", None),  # not read
        ("teslamate/cars/1/state/extra", "", None),
        ("teslamate/cars/1", "", None),
    ],
)
def test_parse_topic(topic, namespace, expected):
    assert parse_topic(topic, namespace) == expected


def test_subscriptions_cover_charging_location_geofence_state_and_health():
    topics = subscriptions("ns")
    for name in ("charging_state", "plugged_in", "geofence", "location", "state", "healthy"):
        assert f"teslamate/ns/cars/+/{name}" in topics
    assert subscriptions("")[0].startswith("teslamate/cars/+/")


@pytest.mark.parametrize(
    "entries, expected",
    [
        ([], {}),
        (["1=2"], {1: "2"}),
        ([" 3 = 5yj3e7ea1kf000001 "], {3: "5YJ3E7EA1KF000001"}),
        (["1=2", "2=1"], {1: "2", 2: "1"}),
        (["1=02"], {1: "2"}),
    ],
)
def test_parse_car_map(entries, expected):
    assert parse_car_map(entries) == expected


@pytest.mark.parametrize(
    "entries, words",
    [
        (["1"], "is not <TeslaMate car id>=<car number or VIN>"),
        (["a=1"], "is not"),
        (["1="], "is not"),
        (["1=XYZ"], "neither a car number nor a 17-character VIN"),
        (["1=2", "1=3"], "mapped twice"),
    ],
)
def test_bad_car_maps_say_what_is_wrong(entries, words):
    with pytest.raises(ValueError, match=words.replace("<", ".").replace(">", ".")):
        parse_car_map(entries)


CHARGING = {
    "state": "charging",
    "healthy": "true",
    "battery_level": "55",
    "plugged_in": "true",
    "charging_state": "Charging",
    "charge_limit_soc": "80",
    "charge_current_request": "16",
    "charge_current_request_max": "16",
    "charger_actual_current": "16",
    "charger_voltage": "229",
    "charger_power": "11",
    "charger_phases": "3",
    "charge_energy_added": "3.51",
    "time_to_full_charge": "1.5",
    "geofence": "Home",
    "location": '{"latitude": 48.1374, "longitude": 11.5755}',
}


def test_snapshot_of_a_charging_car():
    car = snapshot(CHARGING, 100.0, 90.0)
    assert (car.read_at, car.reported_at, car.source) == (100.0, 90.0, "teslamate")
    assert car.car_state == ONLINE and car.charging and car.plugged_in
    assert (car.battery_level, car.charge_limit_soc) == (55, 80)
    assert (car.charger_actual_current, car.charger_voltage, car.charger_power) == (16, 229, 11.0)
    assert (car.charge_energy_added, car.time_to_full_charge) == (3.51, 1.5)
    assert (car.latitude, car.longitude, car.geofence) == (48.1374, 11.5755, "Home")
    assert car.charger_pilot_current is None  # TeslaMate has no such topic


def test_empty_strings_and_nonsense_are_unknown():
    values = {**CHARGING, "charger_power": "", "charge_energy_added": "nan", "geofence": "",
              "battery_level": "abc", "location": "{not json", "latitude": "48.2",
              "longitude": "11.6", "time_to_full_charge": " "}  # fmt: skip
    car = snapshot(values, 0.0, 0.0)
    assert car.charger_power is None and car.charge_energy_added is None
    assert car.battery_level is None and car.geofence is None and car.time_to_full_charge is None
    assert (car.latitude, car.longitude) == (48.2, 11.6)  # the deprecated topics as a fallback


@pytest.mark.parametrize(
    "values, plugged_in",
    [
        ({"charging_state": "Disconnected", "plugged_in": "true"}, False),  # as for API reads
        ({"charging_state": "Stopped"}, True),
        ({"charging_state": "", "plugged_in": "false"}, False),
        ({"plugged_in": "true"}, True),
        ({}, None),
        ({"plugged_in": "maybe"}, None),
    ],
)
def test_plugged_in(values, plugged_in):
    assert snapshot(values, 0.0, None).plugged_in is plugged_in


@pytest.mark.parametrize(
    "state, car_state",
    [
        ("online", ONLINE), ("charging", ONLINE), ("driving", ONLINE), ("updating", ONLINE),
        ("asleep", ASLEEP), ("offline", OFFLINE), ("unavailable", OFFLINE),
        ("suspended", UNKNOWN), ("", UNKNOWN), ("start", UNKNOWN),
    ],
)  # fmt: skip
def test_car_states(state, car_state):
    assert snapshot({"state": state}, 0.0, None).car_state == car_state


@pytest.mark.parametrize(
    "changes, dc",
    [
        ({}, False),  # AC: the car names its phases
        ({"charger_phases": "", "charger_power": "120"}, True),  # DC: power, but no phases
        ({"charger_phases": "", "charger_power": ""}, False),  # no power drawn: not DC
        ({"charger_phases": "", "charging_state": "Stopped", "state": "online"}, None),
        ({"charger_phases": None}, None),  # TeslaMate never published it: unknown
    ],
)
def test_dc_fast_charging_is_told_by_the_missing_phases(changes, dc):
    values = {**CHARGING, **changes}
    values = {k: v for k, v in values.items() if v is not None}
    assert snapshot(values, 0.0, 0.0).fast_charger_present is dc


def test_heard_names_the_car_by_teslamates_id_and_healthy_is_the_bridges_word():
    said = heard("teslamate/cars/02/healthy", b"false", "")
    assert (said.vin, said.values, said.bridge_online) == ("2", {"healthy": "false"}, False)
    said = heard("teslamate/cars/2/battery_level", b"55", "")
    assert (said.values, said.bridge_online) == ({"battery_level": "55"}, None)
    assert heard("teslamate/cars/x/state", b"online", "") is None


def test_teslamates_own_charging_state_stands_in_for_an_unknown_charging_state():
    car = snapshot({"state": "charging", "charging_state": ""}, 0.0, None)
    assert car.charging and car.plugged_in
