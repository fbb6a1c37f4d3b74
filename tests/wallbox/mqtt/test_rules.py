"""The pure rules of MQTT publishing: topics, payloads, commands, discovery, openWB."""

import json

import pytest

from storage.catalogue import catalogue
from wallbox.control.intent import IntentError
from wallbox.mqtt.ha_discovery import Discovery, node_id, stale_configs
from wallbox.mqtt.openwb import (
    ImportedMeter,
    chargepoint_messages,
    current_changes,
    parse_chargepoints,
    point_of_topic,
)
from wallbox.mqtt.topics import (
    Command,
    car_of_token,
    check_prefix,
    parse_command,
    parse_token_cars,
    smt_messages,
    text,
    wallbox_messages,
)

STATUS = {
    "car": 1,
    "name": "Blue",
    "status": 3,
    "status_text": "charging",
    "soc": 61,
    "targetsoc": 80,
    "targetamp": 16,
    "maxamp": 16,
    "amps": 16,
    "volts": 230,
    "power": 11040,
    "phases": 3,
    "energy": 4.5,
    "plugged_in": True,
    "charging_state": "Charging",
    "carmaxamp": 16,
    "enabled": True,
    "last_error": None,
    "age": 3.2,
    "updated": "2026-12-07T20:00:00+00:00",
}


def test_smt_values_get_catalogue_names_and_unknown_ids_their_number():
    messages = smt_messages(
        "th", 2, {43: 1.1858120000000085, 442: -1.76, 9999: 3.0}, "T", catalogue()
    )
    assert messages == {
        "th/2/smt/battery_power": "1.185812",
        "th/2/smt/speed": "-1.76",
        "th/2/smt/id_9999": "3",
        "th/2/smt/time": "T",
    }


@pytest.mark.parametrize(
    "value, payload",
    [(None, "None"), (True, "true"), (False, "false"), (16, "16"), (4.5, "4.5"),
     (float("nan"), "None"), ("Charging", "Charging"), ([1, 2], "[1,2]")],
)  # fmt: skip
def test_payload_text(value, payload):
    assert text(value) == payload


def test_wallbox_fields_one_by_one_and_the_whole_state():
    messages = wallbox_messages("th", STATUS)
    assert messages["th/1/wallbox/status"] == "3"
    assert messages["th/1/wallbox/enabled"] == "true"
    assert messages["th/1/wallbox/last_error"] == "None"  # Home Assistant's "unknown"
    assert "th/1/wallbox/age" not in messages  # changes every second: only in state
    assert json.loads(messages["th/1/wallbox/state"])["age"] == 3.2


@pytest.mark.parametrize(
    "topic, payload, command",
    [
        ("th/1/wallbox/set/control", b"ON", Command("1", "control", "ON")),
        ("th/1/wallbox/set/amps", b" 16\n", Command("1", "amps", "16")),
        ("th/5YJ3E7EA1KF000001/wallbox/set/soc", b"40", Command("5YJ3E7EA1KF000001", "soc", "40")),
        ("th/1/wallbox/set/nope", b"1", None),
        ("th/1/wallbox/status", b"1", None),
        ("other/1/wallbox/set/amps", b"1", None),
        ("th/1/x/wallbox/set/amps", b"1", None),
    ],
)
def test_parse_command(topic, payload, command):
    assert parse_command("th", topic, payload) == command


def test_token_cars():
    assert parse_token_cars(["abc=1", "x=y=2"]) == {"abc": 1, "x=y": 2}
    assert car_of_token("anything", {}) == 1
    assert car_of_token("abc", {"abc": 2}) == 2
    assert car_of_token("other", {"abc": 2}) is None
    for bad in ("abc", "abc=0", "=1", "abc=car"):
        with pytest.raises(ValueError, match="token=car"):
            parse_token_cars([bad])
    with pytest.raises(ValueError) as error:
        parse_token_cars(["secrettoken=x"])
    assert "secrettoken" not in str(error.value)  # tokens are not logged


@pytest.mark.parametrize("prefix", ["", "a/#", "a/+/b", "a//b", "/a"])
def test_bad_prefixes(prefix):
    with pytest.raises(ValueError):
        check_prefix(prefix)


def test_discovery_configs_carry_what_home_assistant_requires():
    discovery = Discovery("home/tesla", "ha")
    assert discovery.node == node_id("home/tesla") == "home_tesla"
    smt = discovery.smt_configs(1, [43, 23, 1234567, 200], catalogue(), "Blue")
    # battery power and SoC are main values; unknown and cell/climate values are not
    assert sorted(smt) == [
        "ha/sensor/home_tesla/car1_battery_power/config",
        "ha/sensor/home_tesla/car1_soc/config",
    ]
    power = json.loads(smt["ha/sensor/home_tesla/car1_battery_power/config"])
    assert power["unique_id"] == "home_tesla_car1_battery_power"
    assert power["state_topic"] == "home/tesla/1/smt/battery_power"
    assert power["unit_of_measurement"] == "kW"
    assert power["device_class"] == "power" and power["state_class"] == "measurement"
    assert power["device"]["identifiers"] == ["home_tesla_car1"]
    assert power["availability_topic"] == "home/tesla/status"

    wallbox = {t: json.loads(c) for t, c in discovery.wallbox_configs(STATUS, 16).items()}
    by_key = {c["unique_id"].removeprefix("home_tesla_car1_"): c for c in wallbox.values()}
    assert {"wallbox_charging", "wallbox_amps", "wallbox_soc", "wallbox_status"} <= set(by_key)
    switch = by_key["wallbox_charging"]
    assert switch["command_topic"] == "home/tesla/1/wallbox/set/control"
    assert (switch["state_on"], switch["payload_on"]) == ("true", "1")
    assert by_key["wallbox_amps"]["max"] == 16
    assert by_key["wallbox_soc"]["command_topic"] == "home/tesla/1/wallbox/set/soc"
    assert "ha/switch/home_tesla/car1_wallbox_charging/config" in wallbox
    for config in wallbox.values():
        assert config["device"] == power["device"] | {"name": "Blue"}
        topics = [v for k, v in config.items() if k in ("state_topic", "command_topic")]
        assert topics and all(t.startswith("home/tesla/1/wallbox/") for t in topics)


def test_only_configs_under_our_node_are_ours():
    discovery = Discovery("th", "homeassistant")
    assert discovery.owns("homeassistant/sensor/th/car1_soc/config")
    assert not discovery.owns("homeassistant/sensor/other/car1_soc/config")
    assert not discovery.owns("homeassistant/sensor/th/car1_soc/state")
    assert not discovery.owns("homeassistant2/sensor/th/car1_soc/config")
    assert not discovery.owns("homeassistant/sensor/th/x/car1_soc/config")


def test_stale_configs():
    retained = [
        "ha/sensor/th/car1_soc/config",
        "ha/sensor/th/car2_soc/config",
        "ha/switch/th/car2_wallbox_charging/config",
    ]
    wanted = ["ha/sensor/th/car1_soc/config"]
    assert stale_configs(retained, wanted) == retained[1:]
    assert stale_configs(retained, wanted, keep_wallbox=True) == [retained[1]]
    assert stale_configs(retained, []) == retained


def test_openwb_chargepoints_and_topics():
    assert parse_chargepoints(["3=1", "4=2"]) == {3: 1, 4: 2}
    with pytest.raises(ValueError, match="charge point id"):
        parse_chargepoints(["a=1"])
    assert point_of_topic("openWB/mqtt/chargepoint/3/set/current") == 3
    assert point_of_topic("openWB/mqtt/chargepoint/3/set/phases_to_use") is None
    assert point_of_topic("x/openWB/mqtt/chargepoint/3/set/current") is None


@pytest.mark.parametrize(
    "payload, car_max, changes",
    [
        (b"0", 16, {"charging": False}),
        (b"0.2", 16, {"charging": False}),
        (b"6", 16, {"charging": True, "amps": 6}),
        (b"10.6", 16, {"charging": True, "amps": 11}),
        (b"32", 16, {"charging": True, "amps": 16}),  # a ceiling, held to the car's maximum
        (b"32", None, {"charging": True, "amps": 32}),
    ],
)
def test_openwb_set_current(payload, car_max, changes):
    assert current_changes(payload, car_max) == changes


@pytest.mark.parametrize("payload", [b"", b"abc", b"-1", b"NaN", b"[1]", b"1e999"])
def test_openwb_set_current_refuses_nonsense(payload):
    with pytest.raises(IntentError):
        current_changes(payload, 16)


def test_openwb_state():
    messages = chargepoint_messages(3, STATUS, 12345.0)
    get = {
        t.removeprefix("openWB/mqtt/chargepoint/3/get/"): json.loads(p) for t, p in messages.items()
    }
    assert get["power"] == 11040.0 and get["imported"] == 12345.0
    assert get["currents"] == [16.0, 16.0, 16.0] and get["voltages"] == [230.0] * 3
    assert get["plug_state"] is True and get["charge_state"] is True
    assert get["soc"] == 61 and get["phases_in_use"] == 3
    idle = chargepoint_messages(3, STATUS | {"charging_state": "Stopped", "phases": 1}, 0)
    assert json.loads(idle["openWB/mqtt/chargepoint/3/get/power"]) == 0.0
    assert json.loads(idle["openWB/mqtt/chargepoint/3/get/currents"]) == [0.0, 0.0, 0.0]


def test_a_plug_state_not_read_yet_is_not_published():
    """Before the first read: openWB keeps what it had, rather than "no car"."""
    unread = chargepoint_messages(3, STATUS | {"plugged_in": None}, 0)
    assert "openWB/mqtt/chargepoint/3/get/plug_state" not in unread
    away = chargepoint_messages(3, STATUS | {"plugged_in": None, "at_charge_point": False}, 0)
    assert json.loads(away["openWB/mqtt/chargepoint/3/get/plug_state"]) is False


def test_the_imported_counter_never_runs_backwards():
    meter = ImportedMeter()
    readings = [meter.update(e) for e in (0.0, 1.5, 3.0, None, 0.0, 0.5, 0.5)]
    assert readings == [0, 1500, 3000, 3000, 3000, 3500, 3500]
    again = ImportedMeter.from_json(json.loads(json.dumps(meter.to_json())))
    assert again.update(0.2) == 3700  # after a restart, a new session adds on top
    assert ImportedMeter.from_json({"bad": 1}).reading == 0


def test_a_car_elsewhere_is_not_plugged_in_at_the_openwb_charge_point():
    away = STATUS | {"at_charge_point": False, "status": 0, "power": 120000}
    get = {
        t.removeprefix("openWB/mqtt/chargepoint/3/get/"): json.loads(p)
        for t, p in chargepoint_messages(3, away, 500.0).items()
    }
    assert get["plug_state"] is False and get["charge_state"] is False
    assert get["power"] == 0.0 and get["currents"] == [0.0, 0.0, 0.0]


def test_energy_added_elsewhere_does_not_count_at_this_charge_point():
    meter = ImportedMeter()
    assert meter.update(2.0) == 2000  # at home
    assert meter.update(30.0, here=False) == 2000  # a Supercharger session
    assert meter.update(30.0) == 2000  # home again, the car still shows that session
    assert meter.update(0.5) == 2500  # a new session at home
    old = ImportedMeter.from_json({"total_wh": 3000.0, "session_kwh": 0.5})  # an older file
    assert old.reading == 3500 and old.update(0.7) == 3700


def test_the_api_usage_has_a_topic_of_its_own():
    usage = {
        "billed": True,
        "today": {"data": 2, "command": 40, "wake": 0, "usd": 0.044},
        "month": {"data": 20, "command": 400, "wake": 1, "usd": 0.46},
        "month_projected_usd": 1.38,
        "credit_usd": 10.0,
    }
    messages = wallbox_messages("th", STATUS | {"api_usage": usage})
    assert json.loads(messages["th/1/wallbox/api_usage"]) == usage
    assert json.loads(messages["th/1/wallbox/state"])["api_usage"] == usage
