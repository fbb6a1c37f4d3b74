"""TeslaBleHttpProxy's API on the wallbox port: reads cost no call to the car, commands
are intents like /tlwb's, refusals come in the proxy's envelope."""

import asyncio

import pytest
from aiohttp.test_utils import TestClient, TestServer

from wallbox.api.server import make_app
from wallbox.clock import FakeClock
from wallbox.control.controller import Controller
from wallbox.control.geo import PvLocation
from wallbox.control.settings import Settings
from wallbox.vehicle.simulator.backend import SimulatedBackend
from wallbox.vehicle.simulator.fleet import Fleet

SECRET = "test-secret-123"
VIN = "5YJ3SIM0000000001"
BASE = f"/api/1/vehicles/{VIN}"


async def serving(settings: Settings | None = None, **car):
    clock = FakeClock()
    fleet = Fleet.with_cars(1, clock, **car)
    controller = Controller(SimulatedBackend(fleet), clock=clock, settings=settings)
    client = TestClient(TestServer(make_app(controller, SECRET)))
    await client.start_server()
    await clock.advance(1)
    return client, fleet, clock


@pytest.fixture
async def api():
    client, fleet, clock = await serving()
    yield client, fleet, clock
    await client.close()


async def read(client, path=f"{BASE}/vehicle_data?endpoints=charge_state"):
    reply = await client.get(path)
    return reply.status, await reply.json()


async def test_polls_are_answered_from_what_is_known_without_a_call(api):
    client, fleet, clock = api
    await clock.advance(30)  # the controller has read the car once
    calls = sum(fleet.calls.values())
    for _ in range(20):
        code, body = await read(client)
        assert code == 200 and body["response"]["result"] is True
        charge = body["response"]["response"]["charge_state"]
        assert (charge["battery_level"], charge["charging_state"]) == (40, "Stopped")
        assert (await client.get(f"{BASE}/body_controller_state")).status == 200
    assert sum(fleet.calls.values()) == calls
    assert (await client.get("/api/1/vehicles/1/vehicle_data")).status == 200  # a number works


async def test_commands_reach_the_car_as_intents(api):
    client, fleet, clock = api
    reply = await client.post(f"{BASE}/command/set_charging_amps", json={"charging_amps": 10})
    body = await reply.json()
    assert reply.status == 200 and body["response"]["reason"].startswith("The command was")
    assert (await client.post(f"{BASE}/command/charge_start")).status == 200
    assert (
        await client.post(f"{BASE}/command/set_charge_limit", json={"percent": 90})
    ).status == 200
    await clock.advance(60)
    car = fleet.cars[0]
    assert (car.charging, car.amps_request, car.limit) == (True, 10, 90)
    charge = (await read(client))[1]["response"]["response"]["charge_state"]
    assert (charge["charging_state"], charge["charge_amps"], charge["charge_limit_soc"]) == (
        "Charging", 10, 90
    )  # fmt: skip


async def test_wait_true_answers_once_the_car_did_it(api):
    client, fleet, clock = api
    task = asyncio.create_task(client.post(f"{BASE}/command/charge_start?wait=true"))
    while not task.done():
        await clock.advance(5)
        await asyncio.sleep(0)
    reply = task.result()
    body = await reply.json()
    assert reply.status == 200, body
    assert body["response"]["reason"] == "The command was successfully processed."
    assert fleet.cars[0].charging


async def test_wake_up_wakes_a_sleeping_car_and_its_state_is_shown_asleep_before():
    client, fleet, clock = await serving(state="asleep")
    async with client:
        code, body = await read(client, f"{BASE}/body_controller_state")
        inner = body["response"]["response"]
        assert code == 200 and inner["vehicle_sleep_status"] == "VEHICLE_SLEEP_STATUS_ASLEEP"
        code, body = await read(client)
        assert (code, body["response"]["reason"]) == (503, "vehicle is sleeping")  # nothing known
        assert fleet.calls.get("vehicle_data", 0) == 0 and fleet.calls.get("wake_up", 0) == 0
        assert (await client.post(f"{BASE}/command/wake_up")).status == 200
        await clock.advance(60)
        assert fleet.cars[0].state == "online" and fleet.calls["wake_up"] == 1
        code, body = await read(client, f"{BASE}/body_controller_state")
        assert body["response"]["response"]["vehicle_sleep_status"].endswith("_AWAKE")


@pytest.mark.parametrize(
    "path, body, words",
    [
        ("set_charging_amps", {"charging_amps": 40}, "amps must be 1..16"),
        ("set_charging_amps", {}, '{"charging_amps": <whole number>}'),
        ("set_charge_limit", {"percent": 101}, "soc must be 1..100"),
        ("honk_horn", None, "unrecognized command"),
    ],
)
async def test_refusals_come_in_the_proxys_envelope(api, path, body, words):
    client, *_ = api
    reply = await client.post(f"{BASE}/command/{path}", json=body)
    answer = await reply.json()
    assert reply.status == 503 and answer["response"]["result"] is False
    assert words in answer["response"]["reason"] and answer["response"]["command"] == path


async def test_unknown_cars_bad_bodies_and_other_endpoints(api):
    client, *_ = api
    code, body = await read(client, "/api/1/vehicles/WRONGVIN000000000/vehicle_data")
    assert code == 503 and "no car" in body["response"]["reason"]
    code, body = await read(client, f"{BASE}/vehicle_data?endpoints=drive_state")
    assert code == 503 and "not supported" in body["response"]["reason"]
    reply = await client.post(f"{BASE}/command/set_charge_limit", data=b"{not json")
    assert reply.status == 503 and "not JSON" in (await reply.json())["response"]["reason"]
    assert (await client.get(f"{BASE}/command/charge_start")).status == 405


async def test_a_car_elsewhere_shows_no_session_and_is_not_stopped():
    far = Settings(pv_locations=(PvLocation(52.52, 13.405),))  # the car is parked in Munich
    client, fleet, clock = await serving(far, charging=True)
    async with client:
        await clock.advance(30)
        charge = (await read(client))[1]["response"]["response"]["charge_state"]
        assert (charge["charging_state"], charge["charger_actual_current"]) == ("Disconnected", 0)
        reply = await client.post(f"{BASE}/command/charge_stop")
        body = await reply.json()
        assert reply.status == 503 and "no car at this charge point" in body["response"]["reason"]
        await clock.advance(60)
        assert fleet.cars[0].charging and fleet.cars[0].commands == []


async def test_version(api):
    client, *_ = api
    code, body = await read(client, "/api/proxy/1/version")
    assert code == 200 and body["response"]["response"]["version"].startswith("teslahome")


async def test_another_host_needs_the_secret_which_evcc_can_put_into_the_url(api, monkeypatch):
    """evcc's templates take no header, but Go's HTTP client sends a URL's user:password as
    Basic auth: `url: http://evcc:<secret>@teslahome` works from another host."""
    client, *_ = api
    monkeypatch.setattr("wallbox.api.server.is_local_client", lambda peer: False)
    path = f"{BASE}/vehicle_data?endpoints=charge_state"
    assert (await client.get(path)).status == 401
    assert (await client.post(f"{BASE}/command/charge_start")).status == 401
    with_secret = str(client.make_url(path)).replace("http://", f"http://evcc:{SECRET}@")
    async with client.session.get(with_secret) as reply:
        assert reply.status == 200 and (await reply.json())["response"]["result"] is True


async def test_two_tools_asking_at_once_make_one_intent_and_the_log_names_them(caplog):
    client, fleet, clock = await serving(charging=True)
    caplog.set_level("INFO", logger="wallbox.api.ble_compat")
    amps = f"{BASE}/command/set_charging_amps"
    async with client:
        await clock.advance(30)  # read: charging at 16 A, so small changes are coalesced
        evcc = await client.post(amps, json={"charging_amps": 15}, headers={"User-Agent": "evcc"})
        other = await client.post(amps, json={"charging_amps": 14}, headers={"User-Agent": "curl"})
        assert (evcc.status, other.status) == (200, 200)
        await clock.advance(120)
    sent = [body for _, name, body in fleet.cars[0].commands if name == "set_charging_amps"]
    assert sent == [{"charging_amps": 14}]  # the newest wish, once
    assert "(evcc) asks car 1: set_charging_amps {'amps': 15}" in caplog.text
    assert "(curl) asks car 1: set_charging_amps {'amps': 14}" in caplog.text


async def test_wakeup_true_wakes_the_car_first_as_the_proxy_does():
    client, fleet, clock = await serving(state="asleep")
    async with client:
        path = f"{BASE}/vehicle_data?endpoints=charge_state&wakeup=true"
        task = asyncio.create_task(client.get(path))
        while not task.done():
            await clock.advance(5)
            await asyncio.sleep(0)
        reply = task.result()
        body = await reply.json()
        assert reply.status == 200 and body["response"]["response"]["state"] == "online", body
        assert fleet.calls["wake_up"] == 1
