"""The charge controller against the in-process simulator, on fake time."""

import asyncio
from dataclasses import replace

import pytest

from storage.intents import StoredIntent
from support.controller_rig import MemoryIntents, make_rig
from wallbox.clock import FakeClock
from wallbox.control.coalescing import EVERY_CHANGE
from wallbox.control.controller import Controller
from wallbox.control.geo import PvLocation
from wallbox.control.outcomes import NotReady, UnknownCar
from wallbox.control.planner import Goal
from wallbox.control.settings import Settings
from wallbox.vehicle.charge_state import ChargeState
from wallbox.vehicle.simulator.backend import SimulatedBackend
from wallbox.vehicle.simulator.car import HOME
from wallbox.vehicle.simulator.fleet import Fault, Fleet


@pytest.fixture
async def rig():
    rig = await make_rig(soc=40)
    yield rig
    rig.controller.stop()


@pytest.fixture
async def asleep():
    rig = await make_rig(soc=40, state="asleep")
    yield rig
    rig.controller.stop()


async def test_a_sleeping_car_is_woken_and_starts_charging(asleep):
    result = await asleep.car.set_intent(charging=True)
    assert result.still_open  # the caller did not wait for the wake-up
    assert result.status["pending"][0]["action"] == "charge_start"
    took = await asleep.clock.run_until(lambda: asleep.sim.charging, 120)
    assert took < 60
    await asleep.settle()
    assert asleep.car.status()["status"] == 3
    assert asleep.calls("wake_up") == 1
    assert asleep.commands() == [("charge_start", {})]


async def test_wait_returns_once_the_car_confirmed(asleep):
    task = asyncio.create_task(asleep.car.set_intent(charging=True, wait=100))
    await asleep.clock.run_until(task.done, 120)
    result = task.result()
    assert not result.still_open and result.outcomes[Goal.CHARGING].ok
    assert result.status["status"] == 3 and result.status["enabled"] is True


async def test_wait_ends_with_the_action_still_open_after_its_bound(asleep):
    asleep.sim.wake_delay = 500
    task = asyncio.create_task(asleep.car.set_intent(charging=True, wait=10))
    await asleep.clock.run_until(task.done, 30)
    assert task.result().still_open


async def test_newest_intent_wins_and_repeats_cost_nothing(rig):
    rig.controller.settings = rig.car.settings = replace(Settings(), coalescing=EVERY_CHANGE)
    await rig.car.set_intent(charging=True)
    await rig.settle()
    for amps in (10, 12, 14):  # faster than the worker: only the last is sent
        await rig.car.set_intent(amps=amps)
    await rig.settle()
    assert rig.commands() == [("charge_start", {}), ("set_charging_amps", {"charging_amps": 14})]
    before, reads = rig.calls(), rig.calls("vehicle_data")
    for _ in range(5):
        await rig.car.set_intent(charging=True, amps=14)
        await rig.clock.advance(30)
    # already in force: no command and no read (the car's answers told it all)
    assert len(rig.commands()) == 2
    assert rig.calls() - before == rig.calls("vehicle_data") - reads == 0
    assert rig.car.status()["targetamp"] == 14


async def test_start_then_stop_before_the_worker_acts_sends_only_what_is_needed(rig):
    await rig.car.set_intent(charging=True)
    await rig.car.set_intent(charging=False)
    await rig.settle()
    assert rig.commands() == []  # it was not charging: nothing to stop either
    assert rig.car.status()["enabled"] is False


async def test_a_target_below_50_stops_charging_there_and_leaves_the_car_at_50():
    rig = await make_rig(soc=30)
    await rig.car.set_intent(charging=True, target_soc=40)
    await rig.settle()
    assert rig.sim.limit == 50 and rig.sim.charging
    await rig.clock.run_until(lambda: not rig.sim.charging, 4 * 3600, step=10)
    assert 40 <= rig.sim.soc < 41.5
    await rig.clock.advance(30)
    status = rig.car.status()
    assert (status["status"], status["targetsoc"], status["limitsoc"]) == (4, 40, 50)
    assert status["enabled"] is True  # evcc's wish stays "on": the target ended it
    assert rig.storage.rows[rig.sim.vin].target_soc == 40
    rig.controller.stop()


async def test_the_target_below_50_survives_a_restart():
    rig = await make_rig(soc=30)
    await rig.car.set_intent(target_soc=35)
    await rig.settle()
    rig.controller.stop()
    rig.fleet.patch(rig.sim.vin, {"charging": True})  # someone starts it while we are down
    restarted = Controller(
        SimulatedBackend(rig.fleet), clock=rig.clock, storage=rig.storage, settings=Settings()
    )
    restarted.start()
    try:
        await rig.clock.advance(1)
        assert restarted.car("1").intent.target_soc == 35
        await rig.clock.run_until(lambda: not rig.sim.charging, 3 * 3600, step=10)
        assert 35 <= rig.sim.soc < 36.5
    finally:
        restarted.stop()


async def test_stored_open_goals_resume_only_when_recent():
    storage = MemoryIntents()
    vin = "5YJ3SIM0000000001"
    now_ms = int(FakeClock().wall() * 1000)
    storage.rows[vin] = StoredIntent(True, None, None, ("charging",), now_ms - 60_000)
    rig = await make_rig(storage=storage, soc=40)
    try:
        await rig.settle()
        assert rig.sim.charging
    finally:
        rig.controller.stop()
    storage.rows[vin] = StoredIntent(True, None, None, ("charging",), now_ms - 3_600_000)
    rig = await make_rig(storage=storage, soc=40)
    try:
        await rig.clock.advance(60)
        assert not rig.sim.charging and rig.car.intent.charging is True
    finally:
        rig.controller.stop()


async def test_429_retry_after_is_honoured(rig):
    rig.fleet.faults.append(Fault(429, count=1, retry_after=300, match="command"))
    await rig.car.set_intent(charging=True)
    await rig.clock.advance(60)
    assert not rig.sim.charging
    assert "rate limited" in rig.car.status()["last_error"]
    assert 200 < rig.car.status()["next_try_in"] <= 300
    await rig.clock.advance(200)
    assert not rig.sim.charging  # still waiting
    await rig.clock.advance(60)
    assert rig.sim.charging
    assert rig.calls("command/charge_start") == 2


async def test_backoff_then_give_up_with_advice(rig):
    rig.fleet.faults.append(Fault(503, count=1000, match="command"))
    await rig.car.set_intent(charging=True)
    took = await rig.clock.run_until(lambda: not rig.car.goals, 3600)
    assert rig.calls("command/charge_start") == Settings().max_attempts
    assert 150 <= took <= 170  # the gaps grew: 5 + 10 + 20 + 40 + 80 s
    outcome = rig.car.outcomes[Goal.CHARGING]
    assert not outcome.ok and outcome.status == 503
    assert (
        "gave up after 6 tries" in outcome.message and "send the request again" in outcome.message
    )
    assert "HTTP 503" in rig.car.status()["last_error"]


async def test_a_refusal_that_needs_the_user_fails_at_once(rig):
    await rig.clock.advance(10)  # read once: plugged in
    rig.fleet.patch(rig.sim.vin, {"plugged_in": False})
    # two minutes old: current enough to act on, too old to refuse on: the car is asked
    rig.car.car = replace(rig.car.car, read_at=rig.clock.now() - 120)
    task = asyncio.create_task(rig.car.set_intent(charging=True, wait=60))
    await rig.clock.run_until(task.done, 60)
    outcome = task.result().outcomes[Goal.CHARGING]
    assert outcome.status == 409 and "not plugged in" in outcome.message
    assert rig.calls("command/charge_start") == 1


async def test_not_plugged_in_recently_seen_is_refused_without_a_call(rig):
    rig.fleet.patch(rig.sim.vin, {"plugged_in": False})
    await rig.clock.advance(901)  # the next look sees it
    before = rig.calls()
    result = await rig.car.set_intent(charging=True, wait=5)
    assert result.outcomes[Goal.CHARGING].status == 409
    assert rig.calls() == before


async def test_amps_under_5_go_twice_and_only_while_charging(rig):
    await rig.car.set_intent(amps=3)
    await rig.clock.advance(60)
    assert rig.commands() == []
    assert rig.car.status()["pending"][0]["waiting_for"].startswith("3 A is sent once charging")
    await rig.car.set_intent(charging=True)
    await rig.settle()
    assert rig.commands() == [
        ("charge_start", {}),
        ("set_charging_amps", {"charging_amps": 3}),
        ("set_charging_amps", {"charging_amps": 3}),
    ]
    assert rig.sim.amps_request == 3


async def test_amps_do_not_wake_a_sleeping_car(asleep):
    await asleep.car.set_intent(amps=10)
    await asleep.clock.advance(600)
    assert asleep.calls("wake_up") == 0 and asleep.commands() == []
    assert asleep.car.goals  # still open, applied once the car is awake


async def test_accepted_but_not_acting_is_reported_after_a_few_sends(rig):
    rig.sim.no_power = True  # the charger gives nothing: the car accepts, draws nothing
    rig.sim.charging = False
    task = asyncio.create_task(rig.car.set_intent(charging=True, wait=120))
    await rig.clock.run_until(task.done, 200)
    outcome = task.result().outcomes[Goal.CHARGING]
    assert outcome.status == 502 and "accepted charge_start" in outcome.message


async def test_statuses_follow_the_car(rig):
    # control everywhere: 1 km from home the car is "plugged in" (1) and commands reach it;
    # without that option it is no car at this charge point (test_charge_point_guard.py)
    settings = replace(Settings(), pv_locations=(PvLocation(*HOME, 100),), control_everywhere=True)
    rig.controller.settings = rig.car.settings = settings
    clock, car, fleet, vin = rig.clock, rig.car, rig.fleet, rig.sim.vin

    async def status_after(**changes):
        if changes:
            fleet.patch(vin, changes)
        await clock.advance(901)  # the next look at an idle car
        return car.status()["status"]

    assert await status_after(plugged_in=False) == 0
    assert await status_after(plugged_in=True) == 2  # at home
    assert await status_after(latitude=HOME[0] + 0.01) == 1  # 1.1 km away
    await car.set_intent(charging=True)
    await rig.settle()
    assert car.status()["status"] == 3
    await car.set_intent(charging=False)
    await rig.settle()
    assert car.status()["status"] == 4  # stopped on request
    await car.set_intent(charging=True)
    await rig.settle()
    assert await status_after(charging=False) == 5  # stopped by someone else
    assert await status_after(soc=80, limit=80) == 4  # limit reached
    await clock.advance(1)


async def test_a_sleeping_car_is_only_asked_whether_it_sleeps(asleep):
    await asleep.clock.advance(3600)
    assert asleep.calls("wake_up") == 0 and asleep.calls("vehicle_data") == 0
    assert asleep.calls("summary") <= 5


async def test_a_car_asleep_while_plugged_in_is_asked_only_hourly():
    rig = await make_rig(soc=40, sleep_after=600.0)  # read once awake, then it sleeps
    try:
        await rig.clock.run_until(lambda: rig.car.status()["car_state"] == "asleep", 3600, 10)
        assert rig.car.status()["plugged_in"] is True
        rig.fleet.calls.clear()
        await rig.clock.advance(3 * 3600)
        assert rig.calls() == rig.calls("summary") == 3  # not 12: each one is billed
    finally:
        rig.controller.stop()


async def test_a_charging_car_is_read_every_poll_interval(rig):
    await rig.car.set_intent(charging=True)
    await rig.settle()
    rig.fleet.calls.clear()
    await rig.clock.advance(3600)
    assert 4 <= rig.calls("vehicle_data") <= 5  # every 15 minutes
    assert rig.calls() == rig.calls("vehicle_data")


async def test_listeners_hear_status_changes(rig):
    heard = []
    unsubscribe = rig.controller.subscribe(lambda status: heard.append(status["status"]))
    await rig.car.set_intent(charging=True)
    await rig.settle()
    assert heard and heard[-1] == 3
    unsubscribe()
    await rig.car.set_intent(charging=False)
    await rig.settle()
    assert heard[-1] == 3


async def test_fresh_telemetry_replaces_api_reads(rig):
    class Feed:
        def fresh(self, vin, now):
            return ChargeState(
                read_at=now, car_state="online", plugged_in=True, charging_state="Charging",
                battery_level=55, charge_limit_soc=80, charge_current_request=16,
            )  # fmt: skip

        def commanded(self, vin, now):
            pass

        def describe(self, vin, now):
            return {"source": "teslamate", "reason": "test", "since": None,
                    "teslamate_report_age": None}  # fmt: skip

    rig.car.feed = Feed()
    rig.fleet.calls.clear()
    await rig.clock.advance(3600)
    assert rig.calls("vehicle_data") == 0
    assert rig.car.status()["soc"] == 55


async def test_unknown_car_and_not_ready():
    rig = await make_rig(cars=2)
    try:
        assert rig.controller.car("2").vehicle.vin.endswith("2")
        assert rig.controller.car(rig.fleet.cars[1].vin.lower()).number == 2
        for bad in ("3", "0", "X" * 17, "abc"):
            with pytest.raises(UnknownCar, match="use a car number or VIN"):
                rig.controller.car(bad)
    finally:
        rig.controller.stop()
    clock = FakeClock()
    fleet = Fleet.with_cars(1, clock)
    fleet.faults.append(Fault(503, count=1000))
    controller = Controller(SimulatedBackend(fleet), clock=clock)
    controller.start()
    try:
        await clock.advance(1)
        with pytest.raises(NotReady, match=r"not loaded yet.*HTTP 503") as e:
            controller.car("1")
        assert e.value.retry_after >= 1
    finally:
        controller.stop()
