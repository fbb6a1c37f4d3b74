"""What a PV day costs in API calls, on fake time against the in-process simulator:
no read after a command, amps coalesced, SoC and energy predicted between reads,
every call counted as Tesla bills it, and a car over Bluetooth left to sleep."""

from dataclasses import replace

import pytest

from support.controller_rig import Rig, make_rig
from wallbox.clock import FakeClock
from wallbox.control.controller import Controller
from wallbox.control.planner import Goal
from wallbox.control.settings import Settings
from wallbox.vehicle.simulator.backend import SimulatedBackend
from wallbox.vehicle.simulator.fleet import Fleet


@pytest.fixture
async def rig():
    rig = await make_rig(soc=40)
    await rig.car.set_intent(charging=True, amps=10)
    await rig.settle()
    rig.fleet.calls.clear()
    yield rig
    rig.controller.stop()


def reads(rig) -> int:
    return rig.calls("vehicle_data") + rig.calls("summary")


async def test_amps_go_as_the_coalescing_rule_says_and_no_read_follows(rig):
    await rig.car.set_intent(amps=6)  # a fall of 4 A: at once
    await rig.clock.advance(1)
    assert rig.sim.amps_request == 6 and rig.calls("command/set_charging_amps") == 1
    assert rig.car.status()["targetamp"] == 6 and not rig.car.goals  # the answer said so
    await rig.car.set_intent(amps=7)  # a small rise: waits five minutes
    await rig.clock.advance(200)
    assert rig.sim.amps_request == 6
    assert "7 A goes to the car once wanted for 300 s" in rig.car.held[Goal.AMPS]
    await rig.car.set_intent(amps=8)  # still above: the same drift, the newest value
    await rig.clock.advance(101)
    assert rig.sim.amps_request == 8 and rig.calls("command/set_charging_amps") == 2
    assert reads(rig) == 0


async def test_a_refusal_tells_the_state_without_a_read(rig):
    await rig.car.set_intent(charging=False)
    await rig.settle()
    rig.fleet.patch(rig.sim.vin, {"plugged_in": False})  # unplugged since
    result = await rig.car.set_intent(charging=True, wait=10)
    assert "not plugged in" in result.outcomes[Goal.CHARGING].message  # "disconnected"
    status = result.status
    assert (status["plugged_in"], status["status"]) == (False, 0)
    assert reads(rig) == 0


async def test_soc_and_energy_are_predicted_between_reads_and_marked(rig):
    status = rig.car.status()
    assert status["predicted"] == [] and status["soc"] == 40
    await rig.clock.advance(600)  # 10 minutes at 10 A on 3 phases, no read since
    status = rig.car.status()
    rig.fleet.advance()  # the simulated car, to now (it moves on calls)
    assert status["predicted"] == ["soc", "energy"]  # at the car's pace to its limit
    assert status["energy"] == pytest.approx(rig.sim.energy_added, abs=0.05)
    assert int(rig.sim.soc) - 1 <= status["soc"] <= int(rig.sim.soc)
    assert reads(rig) == 0
    await rig.clock.advance(300)  # the 15-minute read
    assert reads(rig) == 1 and rig.car.status()["predicted"] == []


async def test_a_stop_keeps_what_the_charge_most_likely_reached_until_the_next_read(rig):
    await rig.clock.advance(600)  # 10 minutes at 10 A on 3 phases, no read since
    charged = rig.car.status()
    assert "soc" in charged["predicted"] and charged["soc"] > 40
    await rig.car.set_intent(charging=False)
    await rig.settle()
    stopped = rig.car.status()
    assert stopped["status"] == 4 and reads(rig) == 0
    # not back to the last read's 40 %: a PV controller would take the car for not full
    assert stopped["soc"] == charged["soc"] and stopped["predicted"] == ["soc", "energy"]
    await rig.clock.advance(900)  # the next look reads the car
    assert reads(rig) >= 1 and rig.car.status()["predicted"] == []


async def test_every_call_is_in_api_usage(rig):
    await rig.car.set_intent(amps=6)
    await rig.clock.advance(900)
    usage = rig.car.status()["api_usage"]
    assert usage["today"]["command"] == 3  # the start, its amps, and 6 A
    assert usage["today"]["data"] >= 2  # the first read, the start's check, the poll
    assert usage["billed"] and usage["today"]["usd"] > 0 and usage["credit_usd"] == 10.0


class Bluetooth(SimulatedBackend):
    """TeslaBleHttpProxy's readings say the car is nearby."""

    async def charge_state(self, car, read_at):
        return replace(await super().charge_state(car, read_at), nearby=True)


async def test_over_bluetooth_the_car_falls_asleep_after_the_session():
    clock = FakeClock()
    fleet = Fleet.with_cars(1, clock, soc=40, sleep_after=1000.0)  # past the next look
    controller = Controller(Bluetooth(fleet), clock=clock, settings=Settings())
    controller.start()
    await clock.advance(1)
    rig = Rig(clock, fleet, controller, None)
    try:
        await rig.car.set_intent(charging=True)
        await rig.settle()
        await clock.advance(1800)  # charging, read every 15 minutes
        await rig.car.set_intent(charging=False)
        await rig.settle()
        fleet.calls.clear()

        def asleep() -> bool:
            fleet.advance()  # the simulated car, to now (it moves on calls)
            return rig.sim.state == "asleep"

        took = await clock.run_until(asleep, 3600, step=10)
        assert took <= 1000 + 10  # as soon as its own timer allows: nothing kept it awake
        assert rig.calls("vehicle_data") == 0  # only asked whether it sleeps: reads keep it up
        await clock.advance(3600)
        assert rig.calls("wake_up") == 0 and rig.sim.state == "asleep"
    finally:
        controller.stop()
