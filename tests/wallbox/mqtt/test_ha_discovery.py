"""Home Assistant discovery and the topics it reads (issue 26): payloads HA accepts,
entity ids that outlive `object_id`, the entities users expect, no TeslaMate duplicates."""

import json
import re

import jinja2  # HA's template engine, for the value templates
import pytest

from storage.catalogue import catalogue
from wallbox.mqtt.ha_discovery import (
    Discovery,
    announced_amps_max,
    device_name,
    stale_configs,
)
from wallbox.mqtt.ha_entities import TESLAMATE
from wallbox.mqtt.topics import (
    Command,
    charging_switch,
    counted_energy,
    home_energy,
    parse_car_names,
    parse_command,
    wallbox_messages,
)

STATUS = {
    "car": 1,
    "vin": "5YJ3E7EA1KF000001",
    "name": None,
    "status": 1,
    "status_text": "plugged in",
    "soc": 61,
    "targetsoc": 80,
    "targetamp": 16,
    "amps": 0,
    "volts": 0,
    "power": 0,
    "phases": 0,
    "energy": None,
    "limitsoc": 80,
    "carmaxamp": 16,
    "plugged_in": True,
    "connected": True,
    "charging_state": "Stopped",
    "car_state": "online",
    "at_charge_point": True,
    "enabled": False,
    "intent": {"charging": None, "amps": None, "soc": None},
    "pending": [],
    "last_error": None,
    "updated": "2026-12-07T20:00:00+00:00",
}
NUMERIC = {"battery", "current", "voltage", "power", "energy"}


def configs(status=STATUS, amps_max=16, **kwargs) -> dict[str, dict]:
    raw = Discovery("th", "ha").wallbox_configs(status, amps_max, **kwargs)
    parsed = [json.loads(c) for c in raw.values()]
    return {c["unique_id"].removeprefix("th_car1_wallbox_"): c for c in parsed}


def messages(status) -> dict[str, str]:
    return {t.removeprefix("th/1/wallbox/"): p for t, p in wallbox_messages("th", status).items()}


def test_entity_ids_come_from_default_entity_id_as_object_id_made_them():
    for topic, payload in Discovery("th", "ha").wallbox_configs(STATUS, 16).items():
        component, config = topic.split("/")[1], json.loads(payload)
        assert "object_id" not in config  # deprecated, gone in HA 2026.4
        assert config["default_entity_id"] == f"{component}.{config['unique_id']}"
    smt = Discovery("th", "ha").smt_configs(1, [43], catalogue())
    [power] = [json.loads(c) for c in smt.values()]
    assert (
        power["default_entity_id"]
        == "sensor.th_car1_battery_power"
        == f"sensor.{power['unique_id']}"
    )


@pytest.mark.parametrize(
    "prefix, entity_id",
    [
        ("th", "sensor.th_car1_battery_power"),
        ("th-1a2b", "sensor.th_1a2b_car1_battery_power"),  # `-` is no entity id character
        ("Tesla-Home", "sensor.tesla_home_car1_battery_power"),  # nor are capitals
        ("home/tesla", "sensor.home_tesla_car1_battery_power"),
        ("a_-b", "sensor.a_b_car1_battery_power"),  # one `_` per run, as HA's slugify
    ],
)
def test_a_default_entity_id_is_a_valid_entity_id_whatever_the_prefix(prefix, entity_id):
    smt = Discovery(prefix, "ha").smt_configs(1, [43], catalogue())
    [power] = [json.loads(c) for c in smt.values()]
    assert power["default_entity_id"] == entity_id
    assert re.fullmatch(r"sensor\.(?!_)(?!.*__)[a-z0-9_]+(?<!_)", entity_id)


def test_the_entities_users_expect_with_their_classes():
    by_key = configs()
    assert set(by_key) == {
        "charging", "amps", "soc", "wake", "status", "power", "energy", "soc_api", "amps_actual",
        "volts", "phases", "limitsoc", "car_state", "last_error", "plugged_in", "charging_now",
    }  # fmt: skip
    assert by_key["charging"]["state_topic"] == "th/1/wallbox/charging_switch"
    assert by_key["charging_now"]["device_class"] == "battery_charging"
    assert by_key["wake"]["command_topic"] == "th/1/wallbox/set/wake"
    assert by_key["energy"]["state_topic"] == "th/1/wallbox/energy_here"
    assert by_key["energy"]["state_class"] == "total_increasing"
    assert by_key["car_state"]["options"] == ["online", "asleep", "offline"]
    assert (by_key["volts"]["unit_of_measurement"], by_key["amps_actual"]["device_class"]) == (
        "V",
        "current",
    )
    assert by_key["last_error"]["entity_category"] == "diagnostic"
    for config in by_key.values():
        assert config["availability_topic"] == "th/status"
        if config.get("device_class") in NUMERIC:
            assert config.get("unit_of_measurement")


def test_the_charge_current_waits_for_its_range_and_teslamate_duplicates_can_go():
    assert "amps" not in configs(amps_max=None)  # never 32 first and 16 later
    assert configs(amps_max=13)["amps"]["max"] == 13
    assert not TESLAMATE & set(configs(skip=TESLAMATE))
    assert {"charging", "amps", "plugged_in", "energy"} <= set(configs(skip=TESLAMATE))


@pytest.mark.parametrize(
    "car, name, vin, expected",
    [(1, "Blue", "5YJ3", "Blue"), (1, None, "5YJ3", "Tesla 5YJ3"), (2, None, None, "Tesla 2")],
)
def test_device_names(car, name, vin, expected):
    assert device_name(car, name, vin) == expected


def test_the_device_is_named_after_the_car_or_the_option_and_carries_the_vin():
    device = configs()["status"]["device"]
    assert device["name"] == "Tesla 5YJ3E7EA1KF000001"
    assert device["serial_number"] == "5YJ3E7EA1KF000001"
    assert configs(name="Red")["status"]["device"]["name"] == "Red"
    assert parse_car_names(["1=Red", " 2 = My car "]) == {1: "Red", 2: "My car"}
    for bad in ("Red", "0=Red", "1=", "x=Red"):
        with pytest.raises(ValueError, match="car number=name"):
            parse_car_names([bad])


def test_nothing_unknown_is_a_word_home_assistant_refuses():
    sent = messages(STATUS | {"car_state": "unknown", "targetamp": None})
    assert sent["car_state"] == "None" and sent["targetamp"] == "None"
    assert sent["energy"] == "None"
    assert "unknown" not in sent.values()


def test_before_the_first_read_the_broker_keeps_the_last_known_values():
    blank = STATUS | {"updated": None, "soc": None, "status": 0, "car_state": "unknown"}
    assert set(messages(blank)) == {"last_error", "api_usage", "state"}
    asleep = messages(blank | {"car_state": "asleep"})
    assert set(asleep) == {"last_error", "api_usage", "state", "car_state"}
    assert asleep["car_state"] == "asleep"


@pytest.mark.parametrize(
    "status, pending, wish, shown",
    [
        (3, [], None, True),  # charging here
        (4, [], True, False),  # stopped from the Tesla app: no longer on
        (1, [{"goal": "charging"}], True, True),  # asked, on its way
        (3, [{"goal": "charging"}], False, False),  # a stop on its way
        (1, [{"goal": "amps"}], True, False),  # only the current is pending
        (0, [], None, False),
    ],
)
def test_the_charging_switch_shows_the_car_or_a_request_on_its_way(status, pending, wish, shown):
    state = STATUS | {"status": status, "pending": pending, "intent": {"charging": wish}}
    assert charging_switch(state) is shown
    assert messages(state)["charging_switch"] == ("true" if shown else "false")


@pytest.mark.parametrize(
    "energy, here, foreign, result",
    [
        (2.0, True, None, (2.0, None)),
        (2.0, None, None, (2.0, None)),  # position unknown: counted here
        (30.0, False, None, (None, 30.0)),  # a Supercharger: kept out
        (30.0, True, 30.0, (None, 30.0)),  # home, the car still shows that session
        (0.5, True, 30.0, (0.5, None)),  # a new session at home
        (None, True, 30.0, (None, 30.0)),
        (float("nan"), True, None, (None, None)),
    ],
)
def test_energy_added_here_counts_only_this_charge_point(energy, here, foreign, result):
    assert home_energy(energy, here, foreign) == result


@pytest.mark.parametrize(
    "energy, predicted, counted",
    [
        (2.5, [], 2.5),
        (2.5, None, 2.5),
        (2.5, ["soc"], 2.5),
        (2.8, ["soc", "energy"], None),  # ahead of the car's counter: not for the sum
        (None, [], None),
    ],
)
def test_energy_added_here_is_what_the_car_counted(energy, predicted, counted):
    assert counted_energy({"energy": energy, "predicted": predicted}) == counted


@pytest.mark.parametrize(
    "power, here, shown",
    [(7000, True, "7000"), (7000, None, "7000"), (11000, False, "0"), (None, True, "None")],
)
def test_charge_power_is_this_charge_point_s(power, here, shown):
    # a destination charger's 11 kW is not this charge point's (nor home consumption)
    assert configs()["power"]["state_topic"] == "th/1/wallbox/power_here"
    assert messages(STATUS | {"power": power, "at_charge_point": here})["power_here"] == shown


@pytest.mark.parametrize(
    "payload, shown", [("None", "None"), ("1", "1"), ("16", "16"), ("32", "None"), ("0", "None")]
)
def test_a_charge_current_outside_the_range_is_unknown_not_refused(payload, shown):
    # 32 A at a destination charger, 16 A here: HA logs "Invalid value" and keeps a stale one
    number = configs(amps_max=16)["amps"]
    assert number.get("payload_reset", "None") == "None"
    template = jinja2.Environment().from_string(number.get("value_template", "{{ value }}"))
    assert template.render(value=payload) == shown


def test_the_wake_command():
    assert parse_command("th", "th/1/wallbox/set/wake", b"PRESS") == Command("1", "wake", "PRESS")


def test_a_retained_charge_current_range_is_read_back():
    discovery = Discovery("th", "ha")
    topic = discovery.topic("number", 2, "wallbox_amps")
    assert discovery.car_of_amps_config(topic) == 2
    assert discovery.car_of_amps_config(discovery.topic("sensor", 2, "wallbox_amps")) is None
    assert discovery.car_of_amps_config("ha/number/other/car2_wallbox_amps/config") is None
    assert announced_amps_max(json.dumps(configs()["amps"]).encode()) == 16
    for bad in (b"", b"[]", b'{"max": "16"}', b'{"max": true}', b"{"):
        assert announced_amps_max(bad) is None


def test_the_birth_topic_and_stale_wallbox_configs():
    assert Discovery("th", "ha").birth_topic == "ha/status"
    retained = ["ha/number/th/car1_wallbox_amps/config"]
    assert stale_configs(retained, [], keep_wallbox=True) == []


def test_what_the_tesla_api_cost_when_the_status_has_it():
    assert not {"api_usd_today", "api_calls_today"} & set(configs())
    usage = {"billed": True, "today": {"data": 3, "command": 2, "wake": 1, "usd": 0.03}}
    by_key = configs(STATUS | {"api_usage": usage})
    for key in ("api_usd_today", "api_usd_month", "api_calls_today"):
        assert by_key[key]["state_topic"] == "th/1/wallbox/api_usage"
        assert "value_json is defined" in by_key[key]["value_template"]  # None: unknown
    assert by_key["api_usd_month"]["device_class"] == "monetary"
    blank = messages(STATUS | {"updated": None, "api_usage": usage})
    assert json.loads(blank["api_usage"])["today"]["usd"] == 0.03  # ours, not the car's
