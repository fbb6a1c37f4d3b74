"""Waking a car that a trusted feed watches: the feed's word is free, a sleep check is
billed (about $0.002 on the Fleet API). The feed here mirrors the simulated car
without counting calls, as TeslaMate does."""

from dataclasses import replace

from support.controller_rig import MemoryIntents, Rig
from wallbox.clock import FakeClock
from wallbox.control.controller import Controller
from wallbox.control.settings import Settings
from wallbox.control.waking import FEED_GRACE_S
from wallbox.vehicle.charge_state import ChargeState, from_vehicle_data
from wallbox.vehicle.simulator.backend import SimulatedBackend
from wallbox.vehicle.simulator.fleet import Fleet


class MirrorFeed:
    """A feed that sees the simulated car as it is (`trusted`), or knows nothing; a `slow_s`
    feed goes on saying "asleep" that long after the car woke (TeslaMate's own poll)."""

    def __init__(self, fleet: Fleet, clock: FakeClock, trusted: bool, slow_s: float) -> None:
        self.fleet, self.clock, self.trusted, self.slow_s = fleet, clock, trusted, slow_s
        self.online_since: float | None = None

    def fresh(self, vin: str, now: float) -> ChargeState | None:
        if not self.trusted:
            return None
        self.fleet.advance()  # the simulated car, to now (it moves on calls)
        car = self.fleet.cars[0]
        if car.state != "online":
            self.online_since = None
        elif self.online_since is None:
            self.online_since = now
        noticed = self.online_since is not None and now >= self.online_since + self.slow_s
        snapshot = from_vehicle_data(car.vehicle_data(self.clock.wall()), now)
        return replace(snapshot, car_state="online" if noticed else "asleep", reported_at=now)

    def commanded(self, vin: str, now: float) -> None:
        pass

    def describe(self, vin: str, now: float) -> dict:
        return {"source": "mirror", "reason": "test", "since": None, "teslamate_report_age": 0}


async def rig_with(feed_trusted: bool, slow_s: float = 0.0) -> Rig:
    clock = FakeClock()
    fleet = Fleet.with_cars(1, clock, state="asleep")
    feed = MirrorFeed(fleet, clock, feed_trusted, slow_s)
    controller = Controller(SimulatedBackend(fleet), clock=clock, settings=Settings(), feed=feed)
    controller.start()
    await clock.advance(1)
    return Rig(clock, fleet, controller, MemoryIntents())


async def test_a_trusted_feed_sees_the_car_wake_and_no_sleep_check_is_paid():
    rig = await rig_with(feed_trusted=True)
    try:
        await rig.car.set_intent(charging=True)
        await rig.settle()
        assert rig.sim.charging and rig.calls("wake_up") == 1
        assert rig.calls("summary") == 0 and rig.calls("vehicle_data") == 0
    finally:
        rig.controller.stop()


async def test_without_a_feed_the_waking_car_is_asked_whether_it_woke():
    rig = await rig_with(feed_trusted=False)
    try:
        await rig.car.set_intent(charging=True)
        await rig.settle()
        assert rig.sim.charging and rig.calls("wake_up") == 1 and rig.calls("summary") >= 1
    finally:
        rig.controller.stop()


async def test_a_feed_slow_to_see_the_waking_is_overruled_by_a_sleep_check():
    rig = await rig_with(feed_trusted=True, slow_s=FEED_GRACE_S + 30)
    try:
        await rig.car.set_intent(charging=True)
        await rig.settle()
        assert rig.sim.charging and rig.calls("wake_up") == 1
        assert rig.calls("summary") == 1  # once the feed had FEED_GRACE_S to tell
        assert FEED_GRACE_S < Settings().wake_timeout_s
    finally:
        rig.controller.stop()


class LaggingFeed(MirrorFeed):
    """A feed whose last word, long ago, was "online": it has not noticed the sleep."""

    def fresh(self, vin: str, now: float) -> ChargeState | None:
        snapshot = super().fresh(vin, now)
        return replace(snapshot, car_state="online", reported_at=0.0) if snapshot else None


async def test_a_feed_lagging_behind_a_sleep_brings_one_wake_and_no_command_loop():
    clock = FakeClock()
    fleet = Fleet.with_cars(1, clock, state="asleep")
    feed = LaggingFeed(fleet, clock, trusted=True, slow_s=0.0)
    controller = Controller(SimulatedBackend(fleet), clock=clock, settings=Settings(), feed=feed)
    controller.start()
    await clock.advance(1)
    rig = Rig(clock, fleet, controller, MemoryIntents())
    try:
        await rig.car.set_intent(charging=True)
        await clock.run_until(lambda: rig.sim.charging, 300)
        await clock.advance(300)
        assert rig.calls("wake_up") == 1  # woken once the API said asleep (a 408)...
        assert rig.calls("command/charge_start") <= 2  # ... not a command loop on "online"
    finally:
        rig.controller.stop()
