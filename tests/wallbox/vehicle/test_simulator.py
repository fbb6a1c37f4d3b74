"""The simulator's own rules, where tests and the benchmark rely on them."""

import pytest

from wallbox.clock import FakeClock
from wallbox.vehicle.simulator.fleet import Fault, Fleet, SimError


@pytest.fixture
def fleet():
    return Fleet.with_cars(1, FakeClock(), soc=40.0, limit=80)


def test_charging_raises_the_soc_and_stops_at_the_limit(fleet):
    car = fleet.cars[0]
    assert fleet.command(car.vin, "charge_start", {})["result"]
    fleet.clock._now += 3600  # 11.04 kW for an hour on 75 kWh: +14.7 %
    fleet.advance()
    assert car.soc == pytest.approx(54.72, abs=0.01)
    fleet.clock._now += 4 * 3600
    fleet.advance()
    assert car.soc == 80 and car.charging_state() == "Complete"
    assert fleet.command(car.vin, "charge_start", {}) == {"result": False, "reason": "complete"}


def test_refusals_and_the_low_amps_quirk(fleet):
    vin = fleet.cars[0].vin
    assert fleet.command(vin, "charge_stop", {})["reason"] == "not_charging"
    assert fleet.command(vin, "set_charge_limit", {"percent": 80})["reason"] == "already_set"
    assert fleet.command(vin, "set_charge_limit", {"percent": 40})["reason"].startswith("invalid")
    fleet.command(vin, "set_charging_amps", {"charging_amps": 3})
    assert fleet.cars[0].amps_request == 16  # not charging: ignored
    fleet.command(vin, "charge_start", {})
    fleet.command(vin, "set_charging_amps", {"charging_amps": "3"})
    assert fleet.cars[0].amps_request == 5  # once: not yet
    fleet.command(vin, "set_charging_amps", {"charging_amps": 3})
    assert fleet.cars[0].amps_request == 3
    fleet.patch(vin, {"plugged_in": False})
    assert fleet.command(vin, "charge_start", {})["reason"] == "disconnected"


def test_sleep_wake_and_faults(fleet):
    car = fleet.cars[0]
    fleet.patch(car.vin, {"state": "asleep", "wake_delay": 10})
    with pytest.raises(SimError) as e:
        fleet.vehicle_data(car.vin)
    assert e.value.status == 408
    assert fleet.wake_up(str(car.id))["state"] == "asleep"
    fleet.clock._now += 10
    assert fleet.summary(car.vin)["state"] == "online"
    fleet.faults.append(Fault(429, count=2, retry_after=7, match="vehicle_data"))
    for _ in range(2):
        with pytest.raises(SimError) as e:
            fleet.vehicle_data(car.vin)
        assert (e.value.status, e.value.retry_after) == (429, 7)
    assert fleet.vehicle_data(car.vin)["charge_state"]["battery_level"] == 40
    report = fleet.calls_report()
    assert report["by_endpoint"]["vehicle_data"] == 4 and report["by_kind"]["wake"] == 1
    with pytest.raises(SimError, match="unknown fields"):
        fleet.patch(car.vin, {"colour": "red"})


def test_a_car_falls_asleep_when_left_alone(fleet):
    car = fleet.cars[0]
    car.sleep_after = 600
    fleet.clock._now += 601
    fleet.advance()
    assert car.state == "asleep"
