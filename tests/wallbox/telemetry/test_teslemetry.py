"""Teslemetry's SSE events, read as the controller's charge state."""

import json

import pytest

from wallbox.telemetry import teslemetry
from wallbox.telemetry.model import Heard, Report
from wallbox.vehicle.charge_state import ASLEEP, OFFLINE, ONLINE, UNKNOWN

VIN = "5YJ3E7EA1KF000001"


@pytest.mark.parametrize(
    "line, data",
    [
        ('data: {"a": 1}', '{"a": 1}'),
        ('data:{"a": 1}', '{"a": 1}'),
        ("data: ", ""),
        (": keep-alive", None),
        ("event: message", None),
        ("id: 7", None),
    ],
)
def test_data_lines(line, data):
    assert teslemetry.data_of(line) == data


@pytest.mark.parametrize(
    "event, expected",
    [
        (
            {"data": {"Soc": "61.5", "VehicleSpeed": "34.797", "Location": {"latitude": 1,
             "longitude": 2}}, "createdAt": "2026-12-07T20:00:00Z", "vin": VIN},
            Heard(VIN, {"Soc": "61.5", "Location": {"latitude": 1, "longitude": 2}}),
        ),
        ({"vin": VIN, "state": "online"}, Heard(VIN, car_state=ONLINE)),
        ({"vin": VIN, "state": "asleep"}, Heard(VIN, car_state=ASLEEP)),
        ({"vin": VIN, "state": "offline"}, Heard(VIN, car_state=OFFLINE)),
        ({"vin": VIN, "state": "updating"}, Heard(VIN, car_state=UNKNOWN)),
        ({"vin": VIN, "errors": [{"name": "x"}]}, Heard(VIN)),  # alive, nothing to take
        ({"vin": "5YJ3E7EA1KF000002", "state": "online"}, None),  # another car's event
        ([1, 2], None),
    ],
)  # fmt: skip
def test_events(event, expected):
    assert teslemetry.heard(VIN.lower(), json.dumps(event)) == expected


def test_not_json_is_nothing():
    assert teslemetry.heard(VIN, "{not json") is None


def test_a_charging_car_with_prefixed_enums_and_string_numbers():
    report = Report()
    fields = {
        "DetailedChargeState": "DetailedChargeStateCharging",
        "BatteryLevel": "61.8",
        "ChargeAmps": "16",
        "ACChargingPower": "11.04",
        "FastChargerPresent": False,
    }
    event = {"data": fields}
    report.take(teslemetry.heard(VIN, json.dumps(event)), 10.0)
    snap = teslemetry.snapshot(report, 12.0)
    assert (snap.charging_state, snap.battery_level, snap.charger_actual_current) == (
        "Charging", 62, 16)  # fmt: skip
    assert snap.charger_power == 11.04 and snap.source == "teslemetry" and snap.car_state == ONLINE


def test_a_stream_opening_is_not_news_of_the_car():
    report = Report()
    report.take(teslemetry.stream_state(VIN, True), 5.0)
    assert report.bridge_online is True and report.last_report_at is None
