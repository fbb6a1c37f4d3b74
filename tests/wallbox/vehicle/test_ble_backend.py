"""The TeslaBleHttpProxy back-end against the simulator in its shape, over real HTTP."""

import pytest
from aiohttp import web

from wallbox.clock import FakeClock
from wallbox.vehicle.backend import (
    Asleep,
    Command,
    CommandRefused,
    NotConfigured,
    Unavailable,
    Vehicle,
)
from wallbox.vehicle.ble_backend import BleBackend
from wallbox.vehicle.ble_wire import failure, sleep_state, unwrap
from wallbox.vehicle.simulator.fleet import Fault, Fleet
from wallbox.vehicle.simulator.server import make_app


@pytest.fixture
async def ble():
    clock = FakeClock()
    fleet = Fleet.with_cars(1, clock, state="asleep", wake_delay=5)
    runner = web.AppRunner(make_app(fleet, "ble"))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    backend = BleBackend(f"http://127.0.0.1:{runner.addresses[0][1]}", timeout=5)
    yield fleet, backend, Vehicle(fleet.cars[0].vin, None)
    backend.close()
    await runner.cleanup()


async def test_a_sleeping_car_is_told_apart_without_waking_it(ble):
    fleet, backend, car = ble
    assert await backend.vehicles() == []  # no list: wallbox_cars names the cars
    assert await backend.summary(car) == "asleep"
    with pytest.raises(Asleep, match="asleep"):
        await backend.charge_state(car, read_at=1.0)
    assert fleet.cars[0].state == "asleep"
    assert fleet.calls == {"body_controller_state": 1, "vehicle_data": 1}


async def test_wake_up_over_bluetooth_then_read_and_command(ble):
    fleet, backend, car = ble
    assert await backend.wake_up(car) == "unknown"
    assert dict(fleet.via) == {("ble", "wake_up"): 1}
    fleet.clock._now += 5
    assert await backend.summary(car) == "online"
    state = await backend.charge_state(car, read_at=2.0)
    assert (state.battery_level, state.plugged_in, state.nearby) == (40, True, True)
    assert state.latitude is None  # the proxy reports no position
    await backend.command(car, Command.SET_CHARGING_AMPS, 10)
    await backend.command(car, Command.CHARGE_START)
    await backend.command(car, Command.CHARGE_START)  # is_charging: the proxy says done
    assert fleet.cars[0].charging and fleet.cars[0].amps_request == 10
    fleet.patch(car.vin, {"plugged_in": False})
    with pytest.raises(CommandRefused) as refused:
        await backend.command(car, Command.CHARGE_START)
    assert refused.value.reason == "disconnected"
    assert fleet.calls["auto_wake"] == 0


async def test_a_command_to_a_sleeping_car_wakes_it_as_the_proxy_does(ble):
    fleet, backend, car = ble
    await backend.command(car, Command.CHARGE_START)
    assert fleet.cars[0].charging and fleet.calls["auto_wake"] == 1


async def test_failures_are_typed(ble):
    fleet, backend, _ = ble
    with pytest.raises(Unavailable, match="not within Bluetooth range"):
        await backend.summary(Vehicle("5YJ3E7EA1KF000009", None))
    fleet.faults.append(Fault(503, match="body_controller_state"))
    with pytest.raises(Unavailable, match="simulated fault"):
        await backend.summary(Vehicle(fleet.cars[0].vin, None))


@pytest.mark.parametrize(
    "status, answer",
    [
        ({"vehicle_sleep_status": "VEHICLE_SLEEP_STATUS_ASLEEP"}, "asleep"),
        ({"vehicle_sleep_status": "VEHICLE_SLEEP_STATUS_AWAKE"}, "online"),
        ({"vehicle_sleep_status": "VEHICLE_SLEEP_STATUS_UNKNOWN"}, "unknown"),
        ({"vehicleSleepStatus": "VEHICLE_SLEEP_STATUS_ASLEEP"}, "asleep"),  # before June 2025
        ({}, "unknown"),
        (None, "unknown"),
    ],
)
def test_the_sleep_status_of_body_controller_state(status, answer):
    assert sleep_state(status) == answer


def test_the_answer_is_nested_one_level_deeper():
    inner = {"charge_state": {"battery_level": 50}}
    body = {
        "response": {"result": True, "reason": "ok", "vin": "V", "command": "x", "response": inner}
    }
    assert unwrap(body) == (True, "ok", inner)
    with pytest.raises(Unavailable):
        unwrap({"response": None, "error": "x"})


@pytest.mark.parametrize(
    "reason, command, kind, says",
    [
        ("vehicle is sleeping", None, Asleep, "asleep"),
        ("Vehicle is not in range: context deadline exceeded", None, Unavailable,
         "Bluetooth range"),
        ("BleControl is not initialized. Maybe private.pem is missing.", None, NotConfigured,
         "dashboard"),
        ("failed to start charge: car could not execute command: disconnected", "charge_start",
         CommandRefused, "disconnected"),
        ("vehicle sleep status unknown and wakeup not requested", None, Unavailable, "retrying"),
    ],
)  # fmt: skip
def test_the_proxys_words_make_typed_errors(reason, command, kind, says):
    error = failure(503, reason, None, 0.0, "read", command)
    assert type(error) is kind and says in str(error)
