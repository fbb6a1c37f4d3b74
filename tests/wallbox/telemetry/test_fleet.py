"""fleet-telemetry's MQTT topics and payloads, read as the controller's charge state."""

import json

import pytest

from support.fake_push_feeds import fleet_topics
from wallbox.telemetry import fleet
from wallbox.telemetry.model import Heard, Report
from wallbox.vehicle.charge_state import ASLEEP, ONLINE, UNKNOWN

VIN = "5YJ3E7EA1KF000001"


def read(topic: str, payload, base: str = "telemetry") -> Heard | None:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return fleet.heard(topic, raw, base)


def report_of(values: dict, car_state: str = ONLINE) -> Report:
    report = Report()
    for name, value in values.items():
        heard = read(f"telemetry/{VIN}/v/{name}", value)
        assert heard is not None, name
        report.take(heard, 100.0)
    report.car_state = car_state
    return report


@pytest.mark.parametrize(
    "topic, payload, expected",
    [
        (f"telemetry/{VIN}/v/Soc", 75.5, Heard(VIN, {"Soc": 75.5})),
        (f"telemetry/{VIN}/v/Soc", "75.5", Heard(VIN, {"Soc": "75.5"})),
        (f"telemetry/{VIN}/v/Soc", None, Heard(VIN, {"Soc": None})),
        (f"telemetry/{VIN.lower()}/v/Soc", 1, Heard(VIN, {"Soc": 1})),
        (f"telemetry/{VIN}/v/Soc", b"not json", Heard(VIN, {"Soc": "not json"})),
        (f"telemetry/{VIN}/v/VehicleName", "x", None),  # a field we do not read
        (f"telemetry/{VIN}/alerts/x/current", {}, None),
        (f"telemetry/{VIN}/errors/x", {}, None),
        (f"other/{VIN}/v/Soc", 1, None),
        ("telemetry/SHORT/v/Soc", 1, None),
        (f"telemetry/{VIN}/v", 1, None),
        (f"telemetry/{VIN}/connectivity", {"Status": "CONNECTED"}, Heard(VIN, car_state=ONLINE)),
        (f"telemetry/{VIN}/connectivity", {"Status": "DISCONNECTED"}, Heard(VIN, car_state=ASLEEP)),
        (f"telemetry/{VIN}/connectivity", {"Status": "UNKNOWN"}, Heard(VIN, car_state=UNKNOWN)),
        (f"telemetry/{VIN}/connectivity", b"garbage", Heard(VIN, car_state=UNKNOWN)),
    ],
)
def test_topics(topic, payload, expected):
    assert read(topic, payload) == expected


def test_a_topic_base_of_ones_own():
    assert read(f"home/tesla/{VIN}/v/Soc", 5, "/home/tesla/") == Heard(VIN, {"Soc": 5})
    assert fleet.subscriptions("")[-1] == "telemetry/+/connectivity"
    assert "home/+/v/DetailedChargeState" in fleet.subscriptions("home")


@pytest.mark.parametrize(
    "values, expected",
    [
        ({"DetailedChargeState": "DetailedChargeStateCharging"}, "Charging"),
        ({"DetailedChargeState": "Stopped"}, "Stopped"),  # without its prefix
        ({"DetailedChargeState": "DetailedChargeStateDisconnected"}, "Disconnected"),
        # DetailedChargeState over the deprecated ChargeState, which says other words
        ({"ChargeState": "Idle", "DetailedChargeState": "DetailedChargeStateComplete"}, "Complete"),
        ({"ChargeState": "Enable"}, None),
        ({"ChargeState": "ChargeStateCharging"}, "Charging"),
        ({"DetailedChargeState": 8}, None),  # undocumented value 8 (fleet-telemetry #410)
        ({"DetailedChargeState": "DetailedChargeStateUnknown"}, None),
        ({"DetailedChargeState": None}, None),
        ({"DetailedChargeState": "invalid"}, None),
    ],
)
def test_charging_state(values, expected):
    snap = fleet.snapshot(report_of(values), 100.0)
    assert snap.charging_state == expected
    assert snap.plugged_in == (None if expected is None else expected != "Disconnected")


def test_a_charging_car_whichever_way_its_firmware_types_the_values():
    values = {
        "BatteryLevel": "61.8", "Soc": 60.1, "ChargeLimitSoc": 80, "ChargeAmps": "15.9",
        "ChargeCurrentRequest": 16, "ChargeCurrentRequestMax": "32", "ChargerVoltage": 229.6,
        "ACChargingPower": "11.0", "DCChargingPower": 0, "ACChargingEnergyIn": 3.25,
        "DetailedChargeState": "DetailedChargeStateCharging", "FastChargerPresent": False,
        "FastChargerType": "FastChargerUnknown", "TimeToFullCharge": "1.5",
        "Location": {"latitude": 48.1374, "longitude": 11.5755},
    }  # fmt: skip
    snap = fleet.snapshot(report_of(values), 120.0)
    assert (snap.battery_level, snap.charge_limit_soc, snap.charger_actual_current) == (62, 80, 16)
    assert (snap.charge_current_request, snap.charge_current_request_max) == (16, 32)
    assert (snap.charger_voltage, snap.charger_power, snap.charge_energy_added) == (230, 11.0, 3.25)
    assert snap.charging and snap.plugged_in and snap.time_to_full_charge == 1.5
    assert (snap.latitude, snap.longitude) == (48.1374, 11.5755)
    assert snap.fast_charger_present is False and snap.fast_charger_type is None
    assert (snap.source, snap.reported_at, snap.read_at) == ("fleet_telemetry", 100.0, 120.0)


def test_a_dc_fast_charger_is_told_with_its_type_and_power():
    values = {"FastChargerPresent": True, "FastChargerType": "FastChargerSupercharger",
              "DCChargingPower": 120.5, "ACChargingPower": 0,
              "DetailedChargeState": "DetailedChargeStateCharging"}  # fmt: skip
    snap = fleet.snapshot(report_of(values), 100.0)
    assert snap.fast_charger_present and snap.fast_charger_type == "Supercharger"
    assert snap.charger_power == 120.5


def test_null_and_invalid_values_are_unknown_not_zero():
    snap = fleet.snapshot(report_of({"Soc": None, "ChargeAmps": "invalid", "Location": None}), 1)
    assert snap.battery_level is None and snap.charger_actual_current is None
    assert snap.latitude is None


def test_soc_when_battery_level_is_not_streamed():
    assert fleet.snapshot(report_of({"Soc": 55.2}), 1).battery_level == 55


def test_the_simulated_car_round_trips_through_the_fake_dispatcher():
    data = {
        "state": "online",
        "charge_state": {
            "battery_level": 50, "usable_battery_level": 49, "charge_limit_soc": 80,
            "charger_actual_current": 16, "charge_current_request": 16,
            "charge_current_request_max": 16, "charger_voltage": 230, "charger_power": 11,
            "charge_energy_added": 1.5, "charging_state": "Charging",
            "fast_charger_present": False, "fast_charger_type": "<invalid>",
            "time_to_full_charge": 2.5,
        },
        "drive_state": {"latitude": 48.1, "longitude": 11.5},
    }  # fmt: skip
    for strings in (False, True):
        report = Report()
        for name, payload in fleet_topics(data, strings=strings).items():
            report.take(read(f"telemetry/{VIN}/{name}", payload.encode()), 5.0)
        snap = fleet.snapshot(report, 5.0)
        assert (snap.car_state, snap.charging_state, snap.battery_level) == (ONLINE, "Charging", 50)
        assert (snap.charger_actual_current, snap.charger_power, snap.latitude) == (16, 11.0, 48.1)


def test_a_streaming_car_is_awake_before_its_connectivity_is_heard():
    assert fleet.snapshot(report_of({"Soc": 50}, car_state=UNKNOWN), 1).car_state == ONLINE
    assert fleet.snapshot(report_of({}, car_state=UNKNOWN), 1).car_state == UNKNOWN
    assert fleet.snapshot(report_of({"Soc": 50}, car_state=ASLEEP), 1).car_state == ASLEEP
    snap = fleet.snapshot(report_of({"Soc": 50}), 7.0)
    assert snap.state_at is None and snap.state_age(9.0) == 2.0  # as of the read: a live link
