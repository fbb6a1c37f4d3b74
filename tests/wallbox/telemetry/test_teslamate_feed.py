"""The TeslaMate feed driving the controller on fake time, fed by the simulated car as
TeslaMate would publish it (no broker here: tests/e2e/test_teslamate.py runs the same
through Mosquitto and mitmdump). As in the product, the feed sits in the composite
(composite.py), which logs the switches."""

import asyncio
import json
import logging
from dataclasses import dataclass

import pytest

from support.fake_teslamate import prefix, teslamate_topics
from wallbox.clock import FakeClock
from wallbox.control.controller import Controller
from wallbox.control.settings import Settings
from wallbox.telemetry.composite import CompositeFeed, Named
from wallbox.telemetry.teslamate_feed import TeslaMateFeed
from wallbox.vehicle.simulator.backend import SimulatedBackend
from wallbox.vehicle.simulator.fleet import Fleet

NS = "test"
SILENCE = 120.0


@dataclass
class Rig:
    clock: FakeClock
    fleet: Fleet
    controller: Controller
    feed: TeslaMateFeed
    teslamate: "FakeTeslaMate"

    @property
    def car(self):
        return self.controller.car("1")

    @property
    def sim(self):
        return self.fleet.cars[0]

    def reads(self) -> int:
        """Tesla API state reads: what TeslaMate is there to save."""
        return self.fleet.calls["vehicle_data"] + self.fleet.calls["summary"]

    def telemetry(self) -> dict:
        return self.car.status()["telemetry"]


class FakeTeslaMate:
    """Publishes the simulated car into the feed as TeslaMate would, every few seconds."""

    def __init__(self, clock, fleet, feed, car_id=1, every=5.0, geofence=None) -> None:
        self.clock, self.fleet, self.feed = clock, fleet, feed
        self.car_id, self.every, self.geofence = car_id, every, geofence
        self.silent = False
        self.healthy = True
        self._last: dict = {}
        self._task = asyncio.create_task(self._run())

    def publish(self) -> None:
        car = self.fleet.cars[0]
        self.fleet.advance()
        values = teslamate_topics(car.vehicle_data(self.clock.wall()), self.geofence, self.healthy)
        if values != self._last:
            self._last = values
            for name, payload in values.items():
                self.feed.on_message(prefix(NS, self.car_id) + name, payload.encode(), True)

    async def _run(self) -> None:
        while True:
            if not self.silent:
                self.publish()
            await self.clock.sleep(self.every)

    def stop(self) -> None:
        self._task.cancel()


def composed(feed: TeslaMateFeed) -> CompositeFeed:
    """TeslaMate's feed as the product sets it up (addons/telemetry.py)."""
    return CompositeFeed(feed.clock, [Named("teslamate", feed, "TeslaMate")])


async def make_rig(car_map=None, geofence=None, settings=None, **sim) -> Rig:
    clock = FakeClock()
    fleet = Fleet.with_cars(1, clock, **sim)
    feed = TeslaMateFeed(clock, namespace=NS, cars=car_map, silence_s=SILENCE)
    controller = Controller(
        SimulatedBackend(fleet), clock=clock, settings=settings or Settings(), feed=composed(feed)
    )
    feed.on_connection(True, "connected")
    teslamate = FakeTeslaMate(clock, fleet, feed, geofence=geofence)
    controller.start()
    controller.feed.bind(controller)
    await clock.advance(1)
    return Rig(clock, fleet, controller, feed, teslamate)


@pytest.fixture
async def rig():
    rig = await make_rig(soc=40)
    yield rig
    rig.teslamate.stop()
    rig.feed.stop()
    rig.controller.stop()


async def test_a_charging_session_needs_no_api_reads(rig):
    assert rig.telemetry()["source"] == "teslamate"
    await rig.car.set_intent(charging=True, amps=10)
    await rig.clock.run_until(lambda: not rig.car.goals, 120)
    await rig.car.set_intent(amps=12)  # a PV loop's change: a rise waits 5 minutes
    await rig.clock.run_until(lambda: not rig.car.goals, 400)
    await rig.clock.advance(3600)
    assert rig.reads() == 0  # the list of cars at the start was the only call besides commands
    commands = [name for _, name, _ in rig.sim.commands]
    assert commands == ["set_charging_amps", "charge_start", "set_charging_amps"]
    status = rig.car.status()
    assert status["status"] == 3 and status["soc"] == int(rig.sim.soc)
    assert status["telemetry"]["source"] == "teslamate"


async def test_the_status_follows_what_teslamate_publishes(rig):
    rig.fleet.patch(rig.sim.vin, {"soc": 62})
    await rig.clock.advance(6)
    assert rig.car.status()["soc"] == 62
    rig.fleet.patch(rig.sim.vin, {"plugged_in": False})
    await rig.clock.advance(6)
    status = rig.car.status()
    assert status["status"] == 0 and status["plugged_in"] is False
    assert rig.reads() == 0


async def test_healthy_false_falls_back_and_recovers(rig, caplog):
    caplog.set_level(logging.INFO, logger="wallbox.telemetry.composite")
    await rig.car.set_intent(charging=True)
    await rig.clock.run_until(lambda: not rig.car.goals, 120)
    rig.teslamate.healthy = False
    rig.fleet.patch(rig.sim.vin, {"soc": 45})  # a change, so TeslaMate publishes
    await rig.clock.advance(6)
    telemetry = rig.telemetry()
    assert telemetry["source"] == "tesla_api" and "healthy=false" in telemetry["reason"]
    await rig.clock.advance(600)
    assert rig.reads() >= 1  # read at once, then every 15 minutes as without TeslaMate
    rig.teslamate.healthy = True
    await rig.clock.advance(6)
    assert rig.telemetry()["source"] == "teslamate"
    before = rig.reads()
    await rig.clock.advance(600)
    assert rig.reads() == before
    fell_back = "falling back to Tesla API reads: TeslaMate reports healthy=false"
    assert caplog.text.count(fell_back) == 1
    assert caplog.text.count("charge state from TeslaMate now") == 1  # back (the start: setup)


async def test_silence_while_charging_falls_back_and_recovers(rig, caplog):
    await rig.car.set_intent(charging=True)
    await rig.clock.run_until(lambda: not rig.car.goals, 120)
    rig.teslamate.silent = True
    took = await rig.clock.run_until(lambda: rig.telemetry()["source"] == "tesla_api", 600)
    assert SILENCE - 10 <= took <= SILENCE + 30
    assert "silent for" in rig.telemetry()["reason"] and "while charging" in caplog.text
    await rig.clock.advance(300)
    assert rig.fleet.calls["vehicle_data"] >= 1  # read at once on falling back
    rig.teslamate.silent = False
    await rig.clock.advance(6)
    assert rig.telemetry()["source"] == "teslamate"


async def test_a_sleeping_car_may_be_silent_for_hours():
    rig = await make_rig(soc=40, state="asleep")
    try:
        rig.teslamate.silent = True  # nothing changes on a sleeping car anyway
        await rig.clock.advance(6 * 3600)
        assert rig.telemetry()["source"] == "teslamate"
        assert rig.reads() == 0
        assert rig.car.status()["car_state"] == "asleep"
    finally:
        rig.teslamate.stop()
        rig.feed.stop()
        rig.controller.stop()


async def test_no_report_after_a_command_falls_back(rig):
    rig.teslamate.silent = True
    await rig.car.set_intent(charging=True)
    took = await rig.clock.run_until(lambda: rig.telemetry()["source"] == "tesla_api", 600)
    assert took <= SILENCE + 30
    assert "after a command" in rig.telemetry()["reason"]
    await rig.clock.run_until(lambda: not rig.car.goals, 120)  # the API confirmed it
    assert rig.sim.charging and rig.fleet.calls["vehicle_data"] >= 1
    assert [name for _, name, _ in rig.sim.commands] == ["charge_start"]  # sent once


async def test_a_lost_broker_connection_falls_back_at_once(rig):
    rig.feed.on_connection(False, "connection lost")
    assert rig.telemetry()["source"] == "tesla_api"
    assert "not connected" in rig.telemetry()["reason"]
    rig.feed.on_connection(True, "connected")
    rig.teslamate._last = {}  # the broker sends the retained values again
    await rig.clock.advance(6)
    assert rig.telemetry()["source"] == "teslamate"


async def test_healthy_false_is_forgotten_with_the_broker_connection(rig):
    rig.teslamate.stop()  # TeslaMate need not retain healthy: after a reconnect it is unsaid
    rig.feed.on_message(prefix(NS, 1) + "healthy", b"false", False)
    assert "healthy=false" in rig.telemetry()["reason"]
    rig.feed.on_connection(False, "connection lost")
    rig.feed.on_connection(True, "connected")
    rig.feed.on_message(prefix(NS, 1) + "battery_level", b"41", True)  # retained, no healthy
    await rig.clock.advance(1)
    assert rig.telemetry()["source"] == "teslamate"


async def test_a_teslamate_geofence_counts_as_the_pv_location():
    settings = Settings(pv_geofences=frozenset({"Home"}))
    rig = await make_rig(soc=40, geofence="Home", settings=settings, latitude=0.0, longitude=0.0)
    try:
        await rig.clock.advance(10)
        status = rig.car.status()
        assert status["at_pv_location"] and status["status"] == 2
    finally:
        rig.teslamate.stop()
        rig.feed.stop()
        rig.controller.stop()


async def test_teslamate_car_ids_map_to_our_cars():
    rig = await make_rig(car_map={1: "5YJ3SIM0000000099"}, soc=40)  # no such car here
    try:
        await rig.clock.advance(10)
        assert rig.telemetry()["source"] == "tesla_api"
        assert "set teslamate_cars" in rig.telemetry()["reason"]
    finally:
        rig.teslamate.stop()
        rig.feed.stop()
        rig.controller.stop()


async def test_unrelated_and_malformed_messages_are_ignored(rig):
    rig.feed.on_message("teslamate/other/cars/1/battery_level", b"1", False)
    rig.feed.on_message(prefix(NS, 1) + "battery_level", b"\xff\xfe", False)
    await rig.clock.advance(1)
    assert rig.car.status()["soc"] is None  # unreadable: unknown, not a crash
    rig.feed.on_message(prefix(NS, 1) + "location", json.dumps({"lat": 1}).encode(), False)
    await rig.clock.advance(1)
    assert rig.car.status()["car"] == 1


async def test_a_start_waits_briefly_for_retained_telemetry_and_reads_nothing():
    clock = FakeClock()
    fleet = Fleet.with_cars(1, clock, soc=40)
    feed = TeslaMateFeed(clock, namespace=NS, silence_s=SILENCE)
    controller = Controller(SimulatedBackend(fleet), clock=clock, feed=composed(feed))
    controller.start()
    controller.feed.bind(controller)
    await clock.advance(2)  # the car list is in; the broker is not yet
    feed.on_connection(True, "connected")
    teslamate = FakeTeslaMate(clock, fleet, feed)  # the retained values arrive
    try:
        await clock.advance(600)
        assert fleet.calls["vehicle_data"] == 0 and fleet.calls["summary"] == 0
        assert controller.car("1").status()["telemetry"]["source"] == "teslamate"
    finally:
        teslamate.stop()
        feed.stop()
        controller.stop()


async def test_without_telemetry_the_start_reads_after_a_few_seconds():
    clock = FakeClock()
    fleet = Fleet.with_cars(1, clock, soc=40)
    feed = TeslaMateFeed(clock, namespace=NS, silence_s=SILENCE)
    controller = Controller(SimulatedBackend(fleet), clock=clock, feed=composed(feed))
    controller.start()
    controller.feed.bind(controller)
    try:
        await clock.advance(Settings().feed_start_wait_s + 1)
        assert fleet.calls["vehicle_data"] == 1
    finally:
        feed.stop()
        controller.stop()


async def read_at_once_after(rig, lose_teslamate) -> float:
    """How long the status shows TeslaMate's values under the API's name."""
    await rig.car.set_intent(charging=True)
    await rig.clock.run_until(lambda: not rig.car.goals, 120)
    rig.teslamate.silent = True
    rig.fleet.patch(rig.sim.vin, {"soc": 47})  # what only the API will tell now
    reads = rig.reads()
    lose_teslamate()
    fell_back = await rig.clock.run_until(lambda: rig.telemetry()["source"] == "tesla_api", 600)
    took = await rig.clock.run_until(lambda: rig.car.status()["soc"] == 47, 600)
    assert rig.reads() == reads + 1, rig.fleet.calls  # one read, at once
    return fell_back, took


async def test_healthy_false_brings_the_apis_values_at_once(rig):
    def unhealthy():
        topic = prefix(NS, 1) + "healthy"
        rig.feed.on_message(topic, b"false", False)

    _, took = await read_at_once_after(rig, unhealthy)
    assert took <= 5


async def test_silence_brings_the_apis_values_at_once(rig):
    fell_back, took = await read_at_once_after(rig, lambda: None)
    assert SILENCE <= fell_back <= SILENCE + 15 and took <= 5


def crashes(caplog, name: str) -> list[logging.LogRecord]:
    return [
        r for r in caplog.records if r.levelno >= logging.ERROR and r.getMessage().startswith(name)
    ]


async def test_a_silence_watch_that_fails_unexpectedly_shows_it_and_goes_on(rig, caplog):
    reviews: list[float] = []
    review = rig.feed._review

    def buggy() -> None:
        reviews.append(rig.clock.now())
        if len(reviews) <= 2:
            raise RuntimeError("a bug in judging")
        review()

    rig.feed._review = buggy
    await rig.clock.run_until(lambda: len(reviews) >= 2, 120)
    assert rig.car.status()["last_error"] == (
        "TeslaMate silence watch failed unexpectedly (RuntimeError: a bug in judging); "
        "restarting in 2 s"
    )
    [logged] = crashes(caplog, "TeslaMate silence watch failed unexpectedly")  # once, not twice
    assert logged.exc_info is not None and "a bug in judging" in str(logged.exc_info[1])
    await rig.clock.advance(120)
    assert len(reviews) > 5  # restarted, and judging every few seconds again
    rig.teslamate.silent = True
    await rig.car.set_intent(charging=True)
    took = await rig.clock.run_until(lambda: rig.telemetry()["source"] == "tesla_api", 600)
    assert took <= SILENCE + 30  # the watch noticed the silence after the command


async def test_a_telemetry_handler_that_fails_unexpectedly_is_logged_once(rig, caplog):
    observe, failing = rig.car.observe, [3]

    def buggy(snapshot) -> None:
        if failing[0]:
            failing[0] -= 1
            raise ValueError("a bug in taking a snapshot")
        observe(snapshot)

    rig.car.observe = buggy
    for soc in (50, 51, 52, 53):  # three fail, each a burst of TeslaMate's topics
        rig.fleet.patch(rig.sim.vin, {"soc": soc})
        await rig.clock.advance(6)
    assert rig.car.status()["soc"] == 53  # the feed went on
    assert len(crashes(caplog, "TeslaMate telemetry failed unexpectedly")) == 1
