"""The ScanMyTesla capture as a push source, driving the controller on fake time: the
simulated car's CAN values handed in as the stored-upload listener hands them
(tests/e2e/test_smt_telemetry.py runs the same through mitmdump and a phone)."""

import asyncio
import logging
import zlib
from dataclasses import asdict

import jsonschema
import pytest

from support.fake_phone import PhoneModel
from wallbox.api.openapi import openapi_document
from wallbox.clock import FakeClock
from wallbox.control.controller import Controller
from wallbox.control.geo import PvLocation
from wallbox.control.outcomes import NotAtChargePoint
from wallbox.control.settings import Settings
from wallbox.telemetry.composite import CompositeFeed, Named
from wallbox.telemetry.scanmytesla import CarRef, ScanMyTeslaSource, parse_cars
from wallbox.vehicle.simulator.backend import SimulatedBackend
from wallbox.vehicle.simulator.car import HOME
from wallbox.vehicle.simulator.fleet import Fleet

RHYTHM = 20.0
TOKEN = "phone-token"


def status_schema() -> dict:
    document = openapi_document()
    return {**document["components"]["schemas"]["Status"], "components": document["components"]}


class App:
    """The phone: every `every` seconds an upload of what changed, while the car is awake."""

    def __init__(self, clock: FakeClock, sim: Fleet, source: ScanMyTeslaSource, token=TOKEN):
        self.clock, self.sim, self.source, self.token = clock, sim, source, token
        self.model, self.silent, self.every = PhoneModel(), False, 2.0
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            self.sim.advance()
            car = self.sim.cars[0]
            if not self.silent and car.state == "online":
                self.source.uploaded(self.token, self.model.values(asdict(car)))
            await self.clock.sleep(self.every)

    def stop(self) -> None:
        self._task.cancel()


class Rig:
    def __init__(self, cars: dict[str, CarRef], settings: Settings | None = None, **car) -> None:
        self.clock = FakeClock()
        self.sim = Fleet.with_cars(1, self.clock, **car)
        self.source = ScanMyTeslaSource(self.clock, cars, rhythm_s=RHYTHM)
        self.feed = CompositeFeed(self.clock, [Named(self.source.source, self.source)])
        self.controller = Controller(
            SimulatedBackend(self.sim),
            clock=self.clock,
            settings=settings or Settings(),
            feed=self.feed,
        )
        self.app: App | None = None

    async def start(self, token: str = TOKEN) -> "Rig":
        self.controller.start()
        self.feed.bind(self.controller)
        self.app = App(self.clock, self.sim, self.source, token)
        await self.clock.advance(1)
        return self

    @property
    def car(self):
        return self.controller.car("1")

    def reads(self) -> int:
        return self.sim.calls["vehicle_data"] + self.sim.calls["summary"]

    def stop(self) -> None:
        if self.app is not None:
            self.app.stop()
        self.feed.stop()
        self.controller.stop()


@pytest.fixture
async def charging():
    rig = Rig({TOKEN: CarRef(number=1)}, soc=44)
    rig.sim.cars[0].soc, rig.sim.cars[0].charging = 44.3, True  # 11 kW on AC
    await rig.start()
    yield rig
    rig.stop()


async def test_the_soc_guard_stops_within_half_a_point_at_zero_reads(charging):
    rig, car = charging, charging.sim.cars[0]
    await rig.clock.run_until(lambda: rig.car.status()["telemetry"]["source"] == "scanmytesla", 30)
    calls_before = rig.reads()
    await rig.car.set_intent(target_soc=45)
    await rig.clock.run_until(lambda: not car.charging, 900)
    assert 45.0 <= car.soc < 45.5, car.soc
    assert rig.reads() == calls_before == 0, dict(rig.sim.calls)
    status = rig.car.status()
    fields = status["telemetry"]["fields"]
    assert fields["soc"] == "ScanMyTesla id 24" and fields["limitsoc"].startswith("not in")
    assert status["limitsoc"] != 80  # never the limit it cannot know (the command's 50 at most)
    jsonschema.validate(status, status_schema())  # the API's schema names this source too


async def test_with_a_pv_location_the_guard_stops_where_the_api_last_placed_the_car():
    # plugged in at home and read by the API, then charging: ScanMyTesla has no position,
    # but a car plugged in since has not moved, so the stop is sent
    rig = Rig({TOKEN: CarRef(number=1)}, Settings(pv_locations=(PvLocation(*HOME, 100),)))
    car = rig.sim.cars[0]
    car.soc = 44.3
    await rig.start()
    try:
        await rig.clock.run_until(lambda: rig.car.status()["at_charge_point"], 60)
        await rig.car.set_intent(charging=True, target_soc=45)
        await rig.clock.run_until(
            lambda: rig.car.status()["telemetry"]["source"] == "scanmytesla", 60
        )
        before = rig.reads()
        await rig.clock.run_until(lambda: not car.charging, 900)
        assert 45.0 <= car.soc < 45.5 and rig.reads() == before, (car.soc, dict(rig.sim.calls))
    finally:
        rig.stop()


async def test_the_amps_the_car_was_told_stand_while_it_charges(charging):
    rig, car = charging, charging.sim.cars[0]
    await rig.clock.run_until(lambda: rig.car.status()["telemetry"]["source"] == "scanmytesla", 30)
    await rig.car.set_intent(amps=10)
    await rig.clock.run_until(lambda: not rig.car.goals, 60)
    await rig.clock.advance(30)  # ScanMyTesla's values again, without an amps request
    await rig.car.set_intent(amps=10)  # evcc again: the car asks for 10 A, as it was told
    await rig.clock.run_until(lambda: not rig.car.goals, 60)
    assert [c[1] for c in car.commands] == ["set_charging_amps"] and car.amps_request == 10
    status = rig.car.status()
    assert status["targetamp"] == 10 and status["telemetry"]["source"] == "scanmytesla"
    assert "Tesla API's last word" in status["telemetry"]["fields"]["targetamp"]
    assert rig.reads() == 0, dict(rig.sim.calls)


async def test_energy_that_stops_flowing_leaves_the_plug_state_to_the_api(charging):
    rig = charging
    await rig.clock.run_until(lambda: rig.car.status()["telemetry"]["source"] == "scanmytesla", 30)
    assert rig.car.status()["plugged_in"] is True
    rig.sim.patch(rig.sim.cars[0].vin, {"charging": False})
    await rig.clock.run_until(lambda: rig.car.status()["telemetry"]["source"] == "tesla_api", 30)
    telemetry = rig.car.status()["telemetry"]
    assert "cannot tell the plug state" in telemetry["reason"]
    await rig.clock.run_until(lambda: rig.reads() > 0, 30)  # the API tells


async def test_a_car_that_falls_asleep_with_its_phone_alarms_nothing(charging, caplog):
    rig, car = charging, charging.sim.cars[0]
    await rig.clock.run_until(lambda: rig.car.status()["telemetry"]["source"] == "scanmytesla", 30)
    car.sleep_after = 120.0
    rig.sim.patch(car.vin, {"charging": False})
    await rig.clock.run_until(lambda: car.state == "asleep", 900)  # the phone with it
    caplog.set_level(logging.INFO)
    caplog.clear()  # the flow's end was told: what follows is the sleep
    await rig.clock.advance(1800)
    status = rig.car.status()
    assert status["car_state"] == "asleep" and "silent" not in status["telemetry"]["reason"]
    assert "silent for" not in caplog.text and "no longer trusted" not in caplog.text


async def test_silence_while_charging_loses_the_source_and_brings_one_read(charging):
    rig = charging
    await rig.clock.run_until(lambda: rig.car.status()["telemetry"]["source"] == "scanmytesla", 30)
    rig.app.silent = True
    await rig.clock.run_until(lambda: rig.car.status()["telemetry"]["source"] == "tesla_api", 60)
    telemetry = rig.car.status()["telemetry"]
    assert "silent for" in telemetry["reason"]
    await rig.clock.run_until(lambda: rig.reads() > 0, 30)
    rig.app.silent = False
    await rig.clock.run_until(lambda: rig.car.status()["telemetry"]["source"] == "scanmytesla", 30)


async def test_a_dc_session_refuses_a_stop_without_a_read():
    rig = Rig({TOKEN: CarRef(number=1)}, soc=60)
    car = rig.sim.cars[0]
    car.fast_charger, car.dc_kw, car.charging = "CCS", 20.0, True  # under any AC charger's power
    await rig.start()
    try:
        await rig.clock.run_until(lambda: rig.car.status()["status_text"].startswith("no car"), 60)
        status = rig.car.status()
        assert "DC fast charging" in status["status_text"]
        assert status["telemetry"]["fields"]["at_charge_point"].endswith("(DC)")
        with pytest.raises(NotAtChargePoint):
            await rig.car.set_intent(charging=False)
        assert car.commands == [] and car.charging
    finally:
        rig.stop()


async def test_teslaloggers_token_maps_itself_and_an_unknown_one_is_told(caplog):
    caplog.set_level(logging.INFO)
    rig = Rig({})
    vehicle = rig.sim.cars[0]
    token = format(zlib.crc32((vehicle.vin + vehicle.name).encode()), "x")
    rig.sim.cars[0].charging = True
    await rig.start(token)
    try:
        rig.source.uploaded("stranger", {43: -10.0})
        await rig.clock.run_until(
            lambda: rig.car.status()["telemetry"]["source"] == "scanmytesla", 30
        )
        assert f"telemetry_smt_cars={token}={vehicle.vin}" in caplog.text
        assert "ScanMyTesla token stranger: maps to no car" in caplog.text
    finally:
        rig.stop()


async def test_a_car_number_not_listed_is_told_once(caplog):
    rig = Rig({TOKEN: CarRef(number=7)})
    rig.sim.cars[0].charging = True
    await rig.start()
    try:
        await rig.clock.advance(30)
        assert caplog.text.count("car 7 of telemetry_smt_cars is not listed") == 1
        assert rig.car.status()["telemetry"]["source"] == "tesla_api"
    finally:
        rig.stop()


async def test_an_upload_without_its_ids_still_shows_the_phone_alive():
    clock, vin = FakeClock(), "5YJ3E7EA1KF000001"
    source = ScanMyTeslaSource(clock, {TOKEN: CarRef(vin=vin)}, rhythm_s=RHYTHM)
    source.uploaded(TOKEN, {24: 61.5, 43: -10.0})
    before = dict(source._reports[vin].values)
    await clock.advance(5)
    source.uploaded(TOKEN, {415: 1.0, 101: 3.9})  # drive and cell values only
    report = source._reports[vin]
    assert report.values == before and report.last_report_at == clock.now()


@pytest.mark.parametrize(
    "entries, expected",
    [
        ([], {}),
        (["auto"], {}),
        (["abc=1"], {"abc": CarRef(number=1)}),
        (["abc=5yj3e7ea1kf000001"], {"abc": CarRef(vin="5YJ3E7EA1KF000001")}),
    ],
)
def test_cars_option(entries, expected):
    assert parse_cars(entries) == expected


@pytest.mark.parametrize("entry", ["abc", "=1", "abc=", "abc=0", "abc=SHORTVIN"])
def test_cars_option_refused(entry):
    with pytest.raises(ValueError, match="token=VIN"):
        parse_cars([entry])
