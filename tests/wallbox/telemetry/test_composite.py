"""Several push sources (and TeslaMate's feed) as one, driving the controller on fake time,
fed by the simulated car as each source would publish it (no broker here:
tests/e2e/test_push_feeds.py runs the sources through Mosquitto and mitmdump)."""

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from support.fake_push_feeds import fleet_topics, tb2m_topics
from support.fake_teslamate import prefix, teslamate_topics
from support.fake_teslemetry import events
from support.fake_tessie import message
from wallbox.clock import FakeClock
from wallbox.control.controller import Controller
from wallbox.control.settings import Settings
from wallbox.telemetry import fleet, tb2m, teslemetry, tessie
from wallbox.telemetry.composite import CompositeFeed, Named
from wallbox.telemetry.source import Dialect, PushSource
from wallbox.telemetry.teslamate_feed import TeslaMateFeed
from wallbox.vehicle.simulator.backend import SimulatedBackend
from wallbox.vehicle.simulator.fleet import Fleet

RHYTHM = 120.0


def dialect(wire, base: str) -> Dialect:
    return Dialect(
        source=wire.SOURCE,
        label=wire.LABEL,
        topics=wire.subscriptions(base),
        heard=lambda topic, payload: wire.heard(topic, payload, base),
        snapshot=wire.snapshot,
    )


class Publisher:
    """Publishes the simulated car into one source every few seconds, what changed only."""

    def __init__(self, clock, sim: Fleet, on_message, topics: Callable[[dict], dict], every=5.0):
        self.clock, self.sim, self.on_message, self.topics = clock, sim, on_message, topics
        self.every, self.silent, self._last = every, False, {}
        self._task = asyncio.create_task(self._run())

    def publish(self) -> None:
        self.sim.advance()
        for name, payload in self.topics(self.sim.cars[0].vehicle_data(self.clock.wall())).items():
            if self._last.get(name) != payload:
                self._last[name] = payload
                self.on_message(name, payload.encode(), True)

    async def _run(self) -> None:
        while True:
            if not self.silent:
                self.publish()
            await self.clock.sleep(self.every)

    def stop(self) -> None:
        self._task.cancel()


@dataclass
class Rig:
    clock: FakeClock
    sim: Fleet
    controller: Controller
    feed: CompositeFeed
    publishers: dict[str, Publisher]

    @property
    def car(self):
        return self.controller.car("1")

    def reads(self) -> int:
        return self.sim.calls["vehicle_data"] + self.sim.calls["summary"]

    def telemetry(self) -> dict:
        return self.car.status()["telemetry"]


async def make_rig(*, with_teslamate: bool = True) -> Rig:
    clock = FakeClock()
    sim = Fleet.with_cars(1, clock, soc=40)
    vin = sim.cars[0].vin
    stream = PushSource(clock, dialect(fleet, "telemetry"), rhythm_s=RHYTHM)
    bridge = PushSource(clock, dialect(tb2m, "tb2m"), rhythm_s=RHYTHM)
    sources = [Named("fleet_telemetry", stream)]
    publishers = {
        "fleet_telemetry": Publisher(
            clock,
            sim,
            lambda n, p, r: stream.on_message(f"telemetry/{vin}/{n}", p, r),
            fleet_topics,
        ),
        "tb2m": Publisher(
            clock, sim, lambda n, p, r: bridge.on_message(f"tb2m/{vin}/{n}", p, r), tb2m_topics
        ),
    }
    if with_teslamate:
        teslamate = TeslaMateFeed(clock, namespace="t", silence_s=RHYTHM)
        teslamate.on_connection(True, "connected")
        sources.append(Named("teslamate", teslamate))
        publishers["teslamate"] = Publisher(
            clock,
            sim,
            lambda n, p, r: teslamate.on_message(prefix("t", 1) + n, p, r),
            teslamate_topics,
        )
    sources.append(Named("tb2m", bridge))
    for source in (stream, bridge):
        source.on_connection(True, "connected")
    feed = CompositeFeed(clock, sources)
    controller = Controller(SimulatedBackend(sim), clock=clock, settings=Settings(), feed=feed)
    controller.start()
    feed.bind(controller)
    await clock.advance(1)
    return Rig(clock, sim, controller, feed, publishers)


def single(key: str, clock, sim: Fleet) -> tuple[PushSource, Publisher]:
    """One source alone, and the simulated car published into it as that source would."""
    vin = sim.cars[0].vin
    if key in ("teslemetry", "tessie"):  # a relay: Teslemetry's events, or in Tessie's shape
        wire = teslemetry if key == "teslemetry" else tessie
        shaped = (lambda event: event) if wire is teslemetry else message
        source = PushSource(
            clock,
            Dialect(
                wire.SOURCE,
                wire.LABEL,
                (),
                lambda topic, payload: wire.heard(topic, payload.decode()),
                wire.snapshot,
            ),
            rhythm_s=RHYTHM,
        )
        last: dict = {}

        def said(data: dict) -> dict:
            told = events(data, vin, last)
            return {f"e{i}": json.dumps(shaped(e)) for i, e in enumerate(told)}

        source.on_heard(teslemetry.stream_state(vin, True))
        publisher = Publisher(clock, sim, lambda n, p, r: source.on_message(vin, p, r), said)
    else:
        wire, topics = (fleet, fleet_topics) if key == "fleet_telemetry" else (tb2m, tb2m_topics)
        base = "telemetry" if wire is fleet else "tb2m"
        source = PushSource(clock, dialect(wire, base), rhythm_s=RHYTHM)
        publisher = Publisher(
            clock, sim, lambda n, p, r: source.on_message(f"{base}/{vin}/{n}", p, r), topics
        )
    source.on_connection(True, "connected")
    return source, publisher


@pytest.mark.parametrize("key", ["fleet_telemetry", "teslemetry", "tessie", "tb2m"])
async def test_a_pv_hour_on_each_source_alone_reads_nothing(key):
    clock = FakeClock()
    sim = Fleet.with_cars(1, clock, soc=40)
    source, publisher = single(key, clock, sim)
    feed = CompositeFeed(clock, [Named(source.source, source)])
    controller = Controller(SimulatedBackend(sim), clock=clock, settings=Settings(), feed=feed)
    controller.start()
    feed.bind(controller)
    try:
        await clock.advance(1)
        car = controller.car("1")
        await car.set_intent(charging=True, amps=10)
        await clock.run_until(lambda: not car.goals, 120)
        for minute in range(60):  # evcc's loop: a new current now and then
            await car.set_intent(amps=6 + minute % 10)
            await clock.advance(60)
        assert sim.calls["vehicle_data"] + sim.calls["summary"] == 0, dict(sim.calls)
        status = car.status()
        assert status["status"] == 3 and status["telemetry"]["source"] == key
        assert status["telemetry"]["report_age"] <= 60
        validate(status)  # the schema names every source
    finally:
        publisher.stop()
        feed.stop()
        controller.stop()


@pytest.fixture
async def rig():
    rig = await make_rig()
    yield rig
    for publisher in rig.publishers.values():
        publisher.stop()
    rig.feed.stop()
    rig.controller.stop()


async def test_a_pv_hour_on_the_feeds_reads_nothing(rig):
    await rig.car.set_intent(charging=True, amps=10)
    await rig.clock.run_until(lambda: not rig.car.goals, 120)
    for minute in range(60):  # evcc's loop: a new current now and then
        await rig.car.set_intent(amps=6 + minute % 10)
        await rig.clock.advance(60)
    assert rig.reads() == 0
    status = rig.car.status()
    assert status["status"] == 3 and status["soc"] == int(rig.sim.cars[0].soc)
    assert status["telemetry"]["source"] == "fleet_telemetry"


async def test_the_car_hears_only_the_preferred_source(rig):
    await rig.car.set_intent(charging=True)
    await rig.clock.run_until(lambda: not rig.car.goals, 120)
    taken = []
    original = rig.car.take
    rig.car.take = lambda snapshot, **kw: (taken.append(snapshot.source), original(snapshot, **kw))
    await rig.clock.advance(300)
    assert taken and set(taken) == {"fleet_telemetry"}


async def test_each_silence_hands_over_to_the_next_source_then_to_one_read(rig, caplog):
    caplog.set_level(logging.INFO, logger="wallbox.telemetry.composite")
    await rig.car.set_intent(charging=True)
    await rig.clock.run_until(lambda: not rig.car.goals, 120)
    described = rig.telemetry()
    assert described["source"] == "fleet_telemetry" and described["report_age"] <= 5
    assert set(described["sources"]) == {"fleet_telemetry", "teslamate", "tb2m"}
    assert described["teslamate_report_age"] is not None
    for silent, next_one in (("fleet_telemetry", "teslamate"), ("teslamate", "tb2m")):
        rig.publishers[silent].silent = True
        await rig.clock.advance(RHYTHM + 15)
        described = rig.telemetry()
        assert described["source"] == next_one, described
        assert "silent for" in described["sources"][silent]["reason"]
        assert rig.reads() == 0
        assert rig.car.car.source == next_one
    rig.publishers["tb2m"].silent = True
    await rig.clock.advance(RHYTHM + 15)
    assert rig.reads() >= 1  # the API, at once
    described = rig.telemetry()
    assert described["source"] == "tesla_api" and described["report_age"] is None
    assert (
        "fleet-telemetry silent" in described["reason"] and "TeslaBle2Mqtt" in described["reason"]
    )
    assert "falling back to Tesla API reads" in caplog.text
    rig.publishers["fleet_telemetry"].silent = False
    await rig.clock.advance(10)
    assert rig.telemetry()["source"] == "fleet_telemetry"


async def test_asleep_by_the_streams_word_is_known_through_hours_of_silence(rig):
    rig.publishers["teslamate"].silent = rig.publishers["tb2m"].silent = True
    rig.sim.patch(rig.sim.cars[0].vin, {"state": "asleep"})
    await rig.clock.advance(10)
    reads = rig.reads()
    await rig.clock.advance(4 * 3600)
    described = rig.telemetry()
    assert described["source"] == "fleet_telemetry", described
    assert "asleep: known, not silent" in described["reason"]
    assert rig.car.status()["car_state"] == "asleep" and rig.reads() == reads


async def test_a_command_unanswered_past_the_rhythm_is_not_trusted():
    rig = await make_rig(with_teslamate=False)
    try:
        for publisher in rig.publishers.values():
            publisher.silent = True
        await rig.car.set_intent(charging=True)  # parked: quiet is fine, until a command
        await rig.clock.advance(RHYTHM + 20)
        described = rig.telemetry()
        assert described["source"] == "tesla_api"
        assert "after a command" in described["sources"]["fleet_telemetry"]["reason"]
        assert rig.reads() >= 1
    finally:
        for publisher in rig.publishers.values():
            publisher.stop()
        rig.feed.stop()
        rig.controller.stop()


def validate(status: dict) -> None:
    import jsonschema

    from wallbox.api.openapi import openapi_document

    document = openapi_document()
    schema = {**document["components"]["schemas"]["Status"], "components": document["components"]}
    jsonschema.validate(status, schema, cls=jsonschema.Draft202012Validator)


async def test_the_status_with_push_feeds_matches_the_openapi_schema(rig):
    for silent in ("fleet_telemetry", "teslamate", "tb2m"):
        validate(rig.car.status())
        rig.publishers[silent].silent = True
        await rig.car.set_intent(charging=True)
        await rig.clock.advance(RHYTHM + 15)
    validate(rig.car.status())
    assert rig.telemetry()["source"] == "tesla_api"
