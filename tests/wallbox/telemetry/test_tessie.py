"""Tessie's WebSocket messages (Tesla's own typed shape), read as the controller's charge
state."""

import json

import pytest

from wallbox.telemetry import tessie
from wallbox.telemetry.model import Heard, Report
from wallbox.vehicle.charge_state import ASLEEP, ONLINE, UNKNOWN

VIN = "5YJ3E7EA1KF000001"


@pytest.mark.parametrize(
    "value, read",
    [
        ({"stringValue": "0.000"}, "0.000"),
        ({"intValue": 16}, 16),
        ({"doubleValue": 11.04}, 11.04),
        ({"booleanValue": False}, False),
        ({"locationValue": {"latitude": 1.5, "longitude": 2.5}}, {"latitude": 1.5,
                                                                  "longitude": 2.5}),
        ({"detailedChargeStateValue": "DetailedChargeStateCharging"},
         "DetailedChargeStateCharging"),
        ({"invalid": True}, None),
        ({}, None),
        ({"stringValue": "1", "intValue": 1}, None),  # not one member: not Tesla's shape
        ("12.3", None),
    ],
)  # fmt: skip
def test_typed_values(value, read):
    assert tessie.value_of(value) == read


@pytest.mark.parametrize(
    "message, expected",
    [
        (
            {"data": [{"key": "Soc", "value": {"stringValue": "61.5"}},
                      {"key": "ModuleTempMax", "value": {"stringValue": "41.500"}},
                      {"key": "Location", "value": {"locationValue": {"latitude": 1,
                                                                      "longitude": 2}}},
                      {"key": "ChargeAmps", "value": {"invalid": True}}],
             "createdAt": "2026-12-07T20:00:00Z", "vin": VIN},
            Heard(VIN, {"Soc": "61.5", "Location": {"latitude": 1, "longitude": 2},
                        "ChargeAmps": None}),
        ),
        ({"vin": VIN, "status": "CONNECTED"}, Heard(VIN, car_state=ONLINE)),
        ({"vin": VIN, "status": "DISCONNECTED"}, Heard(VIN, car_state=ASLEEP)),
        ({"vin": VIN, "status": "UNKNOWN"}, Heard(VIN, car_state=UNKNOWN)),
        ({"vin": VIN, "alerts": [{"name": "x"}]}, Heard(VIN)),  # alive, nothing to take
        ({"data": "nonsense"}, Heard(VIN)),
        ({"vin": "5YJ3E7EA1KF000002", "status": "CONNECTED"}, None),  # another car's
        ([1, 2], None),
    ],
)  # fmt: skip
def test_messages(message, expected):
    assert tessie.heard(VIN.lower(), json.dumps(message)) == expected


def test_not_json_is_nothing():
    assert tessie.heard(VIN, "{not json") is None


def test_a_charging_car_in_teslas_typed_shape():
    items = {
        "DetailedChargeState": {"detailedChargeStateValue": "DetailedChargeStateCharging"},
        "BatteryLevel": {"stringValue": "61.8"},
        "ChargeAmps": {"doubleValue": 16.0},
        "ACChargingPower": {"stringValue": "11.040"},
        "FastChargerPresent": {"booleanValue": False},
        "Location": {"locationValue": {"latitude": 48.1, "longitude": 11.5}},
    }
    message = {"data": [{"key": k, "value": v} for k, v in items.items()], "vin": VIN}
    report = Report()
    report.take(tessie.heard(VIN, json.dumps(message)), 10.0)
    snap = tessie.snapshot(report, 12.0)
    assert (snap.charging_state, snap.battery_level, snap.charger_actual_current) == (
        "Charging", 62, 16)  # fmt: skip
    assert (snap.charger_power, snap.latitude, snap.longitude) == (11.04, 48.1, 11.5)
    assert snap.source == "tessie" and snap.car_state == ONLINE and snap.plugged_in
    assert snap.fast_charger_present is False
