"""TeslaBle2Mqtt's topics and plain-text values, read as the controller's charge state."""

import pytest

from support.fake_push_feeds import tb2m_topics
from wallbox.telemetry import tb2m
from wallbox.telemetry.model import Heard, Report
from wallbox.vehicle.charge_state import ASLEEP, ONLINE, UNKNOWN

VIN = "5YJ3E7EA1KF000001"
SLEEP = f"tb2m/{VIN}/sleep_status/state"


def read(topic: str, payload: str, prefix: str = "tb2m") -> Heard | None:
    return tb2m.heard(topic, payload.encode(), prefix)


def report_of(messages: dict[str, str]) -> Report:
    report = Report()
    for name, payload in messages.items():
        heard = read(f"tb2m/{VIN}/{name}", payload)
        assert heard is not None, name
        report.take(heard, 50.0)
    return report


@pytest.mark.parametrize(
    "topic, payload, expected",
    [
        (f"tb2m/{VIN}/battery_level/state", "61", Heard(VIN, {"battery_level": "61"})),
        (f"tb2m/{VIN}/battery_level/state", "None", Heard(VIN, {"battery_level": None})),
        (f"tb2m/{VIN}/battery_level/state", "null", Heard(VIN, {"battery_level": None})),
        (SLEEP, "VEHICLE_SLEEP_STATUS_ASLEEP", Heard(VIN, car_state=ASLEEP)),
        (SLEEP, "VEHICLE_SLEEP_STATUS_AWAKE", Heard(VIN, car_state=ONLINE)),
        (SLEEP, "AWAKE", Heard(VIN, car_state=ONLINE)),  # no prefix
        (SLEEP, "VEHICLE_SLEEP_STATUS_UNKNOWN", Heard(VIN, car_state=UNKNOWN)),
        (f"tb2m/{VIN}/status", "online", Heard(VIN, bridge_online=True)),
        (f"tb2m/{VIN}/status", "offline", Heard(VIN, bridge_online=False)),
        (f"tb2m/{VIN}/status", "maybe", None),
        (f"tb2m/{VIN}/charge_enable/set", "ON", None),  # a command, not a state
        (f"tb2m/{VIN}/battery_range/state", "200", None),  # not read
        (f"other/{VIN}/battery_level/state", "1", None),
        ("tb2m/SHORT/battery_level/state", "1", None),
    ],
)  # fmt: skip
def test_topics(topic, payload, expected):
    assert read(topic, payload) == expected


def test_a_prefix_of_ones_own():
    assert read(f"ble/car/{VIN}/status", "online", "ble/car/") == Heard(VIN, bridge_online=True)
    assert "tb2m/+/sleep_status/state" in tb2m.subscriptions("")


AWAKE = {
    "status": "online", "sleep_status/state": "VEHICLE_SLEEP_STATUS_AWAKE",
    "battery_level/state": "61", "charging_limit/state": "80", "charging_amps/state": "16",
    "charging_state/state": "Charging", "charger_actual_current/state": "15",
    "charge_power/state": "11", "charge_energy_added/state": "3.5",
    "time_to_charge_limit/state": "90", "charge_cable_connected/state": "true",
}  # fmt: skip


def test_an_awake_charging_car():
    snap = tb2m.snapshot(report_of(AWAKE), 60.0)
    assert (snap.car_state, snap.charging_state, snap.plugged_in) == (ONLINE, "Charging", True)
    assert (snap.battery_level, snap.charge_limit_soc, snap.charge_current_request) == (61, 80, 16)
    assert (snap.charger_actual_current, snap.charger_power, snap.charge_energy_added) == (
        15,
        11,
        3.5,
    )
    assert snap.time_to_full_charge == 1.5 and snap.nearby and snap.source == "tb2m"


def test_asleep_the_last_real_values_stand_and_the_car_is_nearby():
    asleep = {name: "None" for name in AWAKE if name.endswith("/state")}
    asleep |= {"sleep_status/state": "VEHICLE_SLEEP_STATUS_ASLEEP", "charging_state/state": "None"}
    report = report_of(AWAKE | {"charging_state/state": "Stopped"})
    for name, payload in asleep.items():
        report.take(read(f"tb2m/{VIN}/{name}", payload), 70.0)
    snap = tb2m.snapshot(report, 80.0)
    assert (snap.car_state, snap.charging_state, snap.plugged_in) == (ASLEEP, "Stopped", True)
    assert snap.battery_level == 61 and snap.nearby


def test_none_while_awake_or_out_of_range_is_unknown():
    report = report_of(AWAKE | {"sleep_status/state": "VEHICLE_SLEEP_STATUS_UNKNOWN"})
    for name in ("charging_state/state", "charge_cable_connected/state", "battery_level/state"):
        report.take(read(f"tb2m/{VIN}/{name}", "None"), 70.0)
    snap = tb2m.snapshot(report, 80.0)
    assert snap.plugged_in is None and snap.battery_level is None and not snap.nearby


def test_the_cable_tells_plugged_in_when_the_charging_state_does_not():
    snap = tb2m.snapshot(report_of({"charge_cable_connected/state": "false"}), 1.0)
    assert snap.plugged_in is False and snap.charging_state is None


def test_the_simulated_car_round_trips_through_the_fake_bridge():
    charge = {
        "battery_level": 50, "usable_battery_level": 49, "charge_limit_soc": 80,
        "charger_actual_current": 0, "charge_current_request": 16, "charger_power": 0,
        "charge_energy_added": 0.0, "charging_state": "Stopped", "time_to_full_charge": None,
    }  # fmt: skip
    awake = report_of(tb2m_topics({"state": "online", "charge_state": charge}))
    assert tb2m.snapshot(awake, 1.0).charging_state == "Stopped"
    for name, payload in tb2m_topics({"state": "asleep", "charge_state": charge}).items():
        awake.take(read(f"tb2m/{VIN}/{name}", payload), 2.0)
    snap = tb2m.snapshot(awake, 3.0)
    assert (snap.car_state, snap.charging_state, snap.battery_level) == (ASLEEP, "Stopped", 49)
