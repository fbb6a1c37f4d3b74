"""A sick Tesla API is backed off, never hammered: an hour of persistent 429,
408, 5xx and time-outs costs a handful of calls, not one per loop round."""

import socket
import time

import pytest

from support.controller_rig import make_rig
from wallbox.control.settings import Settings
from wallbox.vehicle.backend import Unavailable, Vehicle
from wallbox.vehicle.simulator.fleet import Fault
from wallbox.vehicle.teslapy_backend import TeslapyBackend
from wallbox.vehicle.tokens import TokenFile

pytestmark = pytest.mark.fault

HOUR = 3600.0
LOOP = 30.0  # how often a PV controller asks


async def hour_of_asking(rig, **intent) -> None:
    """A caller repeating the same wish every 30 s for an hour, as evcc would."""
    for _ in range(int(HOUR / LOOP)):
        await rig.car.set_intent(**intent)
        await rig.clock.advance(LOOP)


async def test_persistent_429_is_waited_out_not_hammered():
    rig = await make_rig(soc=40)
    try:
        rig.fleet.faults.append(Fault(429, count=10_000, retry_after=600, match="command"))
        await hour_of_asking(rig, charging=True)
        attempts = rig.calls("command/charge_start")
        assert 1 <= attempts <= HOUR / 600 + 1  # once per Retry-After, not once per ask
        assert "rate limited" in rig.car.status()["last_error"]
    finally:
        rig.controller.stop()


async def test_a_car_that_will_not_wake_is_not_woken_in_a_loop():
    rig = await make_rig(soc=40, state="asleep")
    try:
        rig.fleet.faults.append(Fault(408, count=10_000, match="wake_up"))
        await hour_of_asking(rig, charging=True)
        wakes = rig.calls("wake_up")
        assert 1 <= wakes <= 3 * Settings().max_attempts  # wake-ups are the priciest call
        assert rig.calls("command/charge_start") == 0  # never commanded blind
    finally:
        rig.controller.stop()


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_a_failing_api_is_backed_off(status):
    rig = await make_rig(soc=40)
    try:
        rig.fleet.faults.append(Fault(status, count=10_000))
        await hour_of_asking(rig, charging=True, amps=10)
        total = rig.calls()
        assert total <= 40, f"{total} calls in an hour of HTTP {status}"
        assert rig.car.status()["last_error"]
    finally:
        rig.controller.stop()


async def test_failing_reads_of_a_charging_car_are_backed_off():
    rig = await make_rig(soc=40)
    try:
        await rig.car.set_intent(charging=True)
        await rig.settle()
        before = rig.calls("vehicle_data")
        rig.fleet.faults.append(Fault(503, count=10_000, match="vehicle_data"))
        await rig.clock.advance(HOUR)
        reads = rig.calls("vehicle_data") - before
        # failed reads are retried sooner than the 15-minute poll, backing off to
        # backoff_max_s (60, 120, 240, then 300 s): a 503 is not billed
        assert reads <= 3 + HOUR / Settings().backoff_max_s, reads
    finally:
        rig.controller.stop()


async def test_a_vehicle_api_that_never_answers_times_out(tmp_path):
    """Real HTTP: a server that accepts and then says nothing."""
    silent = socket.create_server(("127.0.0.1", 0))
    port = silent.getsockname()[1]
    backend = TeslapyBackend(
        f"http://127.0.0.1:{port}", TokenFile(tmp_path / "t.json"), timeout=0.5
    )
    car = Vehicle("5YJ3SIM0000000001", 1, "Sim 1", "online")
    try:
        started = time.monotonic()
        with pytest.raises(Unavailable, match="timed out"):
            await backend.charge_state(car, time.time())
        assert time.monotonic() - started < 5
    finally:
        backend.close()
        silent.close()
