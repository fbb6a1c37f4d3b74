"""TeslaMate telemetry: topics and values (pure), and the feed driving the controller on
fake time, fed by the simulated car as TeslaMate would publish it (no broker here:
tests/test_e2e_teslamate.py runs the same through Mosquitto and mitmdump)."""

import asyncio
import json
import logging
from dataclasses import dataclass

import pytest

from support.fake_teslamate import prefix, teslamate_topics
from wallbox.clock import FakeClock
from wallbox.control.controller import Controller, Settings
from wallbox.teslamate.feed import (
    TeslaMateFeed,
    parse_car_map,
    parse_topic,
    snapshot,
    subscriptions,
)
from wallbox.vehicle.charge_state import ASLEEP, OFFLINE, ONLINE, UNKNOWN
from wallbox.vehicle.simulator.fleet import Fleet, SimulatedBackend

# --- topics and values ------------------------------------------------------------


@pytest.mark.parametrize(
    "topic, namespace, expected",
    [
        ("teslamate/cars/1/battery_level", "", (1, "battery_level")),
        ("teslamate/home/cars/12/state", "home", (12, "state")),
        ("teslamate/home/cars/12/state", "/home/", (12, "state")),
        ("teslamate/cars/1/battery_level", "home", None),  # another namespace
        ("teslamate/home/cars/1/state", "", None),
        ("teslamate/cars/x/state", "", None),
        ("teslamate/cars/1/odometer", "", None),  # not read
        ("teslamate/cars/1/state/extra", "", None),
        ("teslamate/cars/1", "", None),
    ],
)
def test_parse_topic(topic, namespace, expected):
    assert parse_topic(topic, namespace) == expected


def test_subscriptions_cover_charging_location_geofence_state_and_health():
    topics = subscriptions("ns")
    for name in ("charging_state", "plugged_in", "geofence", "location", "state", "healthy"):
        assert f"teslamate/ns/cars/+/{name}" in topics
    assert subscriptions("")[0].startswith("teslamate/cars/+/")


@pytest.mark.parametrize(
    "entries, expected",
    [
        ([], {}),
        (["1=2"], {1: "2"}),
        ([" 3 = 5yj3e7ea1kf000001 "], {3: "5YJ3E7EA1KF000001"}),
        (["1=2", "2=1"], {1: "2", 2: "1"}),
        (["1=02"], {1: "2"}),
    ],
)
def test_parse_car_map(entries, expected):
    assert parse_car_map(entries) == expected


@pytest.mark.parametrize(
    "entries, words",
    [
        (["1"], "is not <TeslaMate car id>=<car number or VIN>"),
        (["a=1"], "is not"),
        (["1="], "is not"),
        (["1=XYZ"], "neither a car number nor a 17-character VIN"),
        (["1=2", "1=3"], "mapped twice"),
    ],
)
def test_bad_car_maps_say_what_is_wrong(entries, words):
    with pytest.raises(ValueError, match=words.replace("<", ".").replace(">", ".")):
        parse_car_map(entries)


CHARGING = {
    "state": "charging",
    "healthy": "true",
    "battery_level": "55",
    "plugged_in": "true",
    "charging_state": "Charging",
    "charge_limit_soc": "80",
    "charge_current_request": "16",
    "charge_current_request_max": "16",
    "charger_actual_current": "16",
    "charger_voltage": "229",
    "charger_power": "11",
    "charger_phases": "3",
    "charge_energy_added": "3.51",
    "time_to_full_charge": "1.5",
    "geofence": "Home",
    "location": '{"latitude": 48.1374, "longitude": 11.5755}',
}


def test_snapshot_of_a_charging_car():
    car = snapshot(CHARGING, 100.0, 90.0)
    assert (car.read_at, car.reported_at, car.source) == (100.0, 90.0, "teslamate")
    assert car.car_state == ONLINE and car.charging and car.plugged_in
    assert (car.battery_level, car.charge_limit_soc) == (55, 80)
    assert (car.charger_actual_current, car.charger_voltage, car.charger_power) == (16, 229, 11.0)
    assert (car.charge_energy_added, car.time_to_full_charge) == (3.51, 1.5)
    assert (car.latitude, car.longitude, car.geofence) == (48.1374, 11.5755, "Home")
    assert car.charger_pilot_current is None  # TeslaMate has no such topic


def test_empty_strings_and_nonsense_are_unknown():
    values = {**CHARGING, "charger_power": "", "charge_energy_added": "nan", "geofence": "",
              "battery_level": "abc", "location": "{not json", "latitude": "48.2",
              "longitude": "11.6", "time_to_full_charge": " "}  # fmt: skip
    car = snapshot(values, 0.0, 0.0)
    assert car.charger_power is None and car.charge_energy_added is None
    assert car.battery_level is None and car.geofence is None and car.time_to_full_charge is None
    assert (car.latitude, car.longitude) == (48.2, 11.6)  # the deprecated topics as a fallback


@pytest.mark.parametrize(
    "values, plugged_in",
    [
        ({"charging_state": "Disconnected", "plugged_in": "true"}, False),  # as for API reads
        ({"charging_state": "Stopped"}, True),
        ({"charging_state": "", "plugged_in": "false"}, False),
        ({"plugged_in": "true"}, True),
        ({}, None),
        ({"plugged_in": "maybe"}, None),
    ],
)
def test_plugged_in(values, plugged_in):
    assert snapshot(values, 0.0, None).plugged_in is plugged_in


@pytest.mark.parametrize(
    "state, car_state",
    [
        ("online", ONLINE), ("charging", ONLINE), ("driving", ONLINE), ("updating", ONLINE),
        ("asleep", ASLEEP), ("offline", OFFLINE), ("unavailable", OFFLINE),
        ("suspended", UNKNOWN), ("", UNKNOWN), ("start", UNKNOWN),
    ],
)  # fmt: skip
def test_car_states(state, car_state):
    assert snapshot({"state": state}, 0.0, None).car_state == car_state


# --- the feed with the controller, on fake time ----------------------------------------

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


async def make_rig(car_map=None, geofence=None, settings=None, **sim) -> Rig:
    clock = FakeClock()
    fleet = Fleet.with_cars(1, clock, **sim)
    feed = TeslaMateFeed(clock, namespace=NS, cars=car_map, silence_s=SILENCE)
    controller = Controller(
        SimulatedBackend(fleet), clock=clock, settings=settings or Settings(), feed=feed
    )
    feed.on_connection(True, "connected")
    teslamate = FakeTeslaMate(clock, fleet, feed, geofence=geofence)
    controller.start()
    feed.bind(controller)
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
    await rig.car.set_intent(amps=12)  # a PV loop's change
    await rig.clock.run_until(lambda: not rig.car.goals, 120)
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
    caplog.set_level(logging.INFO, logger="wallbox.teslamate.feed")
    await rig.car.set_intent(charging=True)
    await rig.clock.run_until(lambda: not rig.car.goals, 120)
    rig.teslamate.healthy = False
    rig.fleet.patch(rig.sim.vin, {"soc": 45})  # a change, so TeslaMate publishes
    await rig.clock.advance(6)
    telemetry = rig.telemetry()
    assert telemetry["source"] == "tesla_api" and "healthy=false" in telemetry["reason"]
    await rig.clock.advance(600)
    assert rig.reads() >= 4  # a charging car read every 2 minutes again
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
    assert rig.fleet.calls["vehicle_data"] >= 2
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
