"""The teslapy back-end against the simulator over real HTTP on loopback."""

import stat

import pytest
from aiohttp import web

from wallbox.vehicle.backend import (
    Asleep,
    Command,
    CommandRefused,
    NotConfigured,
    RateLimited,
    Unauthorized,
    Unavailable,
    Vehicle,
    parse_retry_after,
)
from wallbox.vehicle.simulator.fleet import Fault, Fleet
from wallbox.vehicle.simulator.server import make_app
from wallbox.vehicle.teslapy_backend import TeslapyBackend
from wallbox.vehicle.tokens import TokenFile, account_email, has_token
from wallbox.vehicle.wire import normalize_api_url, payload_of, vin_in_path


@pytest.fixture
async def simulator():
    fleet = Fleet.with_cars(2)
    runner = web.AppRunner(make_app(fleet))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield fleet, f"http://127.0.0.1:{port}"
    await runner.cleanup()


@pytest.fixture
def backend(simulator, tmp_path):
    _, url = simulator
    backend = TeslapyBackend(url, TokenFile(tmp_path / "none.json"), timeout=5)
    yield backend
    backend.close()


async def test_lists_reads_wakes_and_commands(simulator, backend):
    fleet, _ = simulator
    cars = await backend.vehicles()
    assert [c.vin for c in cars] == [c.vin for c in fleet.cars]
    assert cars[0].id == str(fleet.cars[0].id) and cars[0].state == "online"
    car = cars[0]
    assert await backend.summary(car) == "online"
    state = await backend.charge_state(car, read_at=1.0)
    assert (state.battery_level, state.plugged_in, state.charge_limit_soc) == (40, True, 80)
    assert state.latitude == pytest.approx(48.1374)
    await backend.command(car, Command.SET_CHARGING_AMPS, 10)
    await backend.command(car, Command.CHARGE_START)
    assert fleet.cars[0].charging and fleet.cars[0].amps_request == 10
    with pytest.raises(CommandRefused) as refused:
        await backend.command(car, Command.CHARGE_START)
    assert refused.value.reason == "is_charging"
    fleet.patch(car.vin, {"state": "asleep"})
    with pytest.raises(Asleep, match="408"):
        await backend.charge_state(car, read_at=2.0)
    assert await backend.summary(car) == "asleep"
    assert await backend.wake_up(car) == "asleep"  # waking takes a while
    assert fleet.calls_report()["by_kind"] == {"data": 5, "command": 3, "wake": 1}


async def test_errors_are_typed(simulator, backend):
    fleet, _ = simulator
    car = Vehicle(fleet.cars[0].vin, None)
    fleet.faults.append(Fault(429, retry_after=42))
    with pytest.raises(RateLimited) as limited:
        await backend.summary(car)
    assert limited.value.retry_after == 42
    fleet.faults.append(Fault(401))
    with pytest.raises(Unauthorized, match="make login"):
        await backend.summary(car)
    fleet.faults.append(Fault(503))
    with pytest.raises(Unavailable, match="503"):
        await backend.command(car, Command.CHARGE_STOP)
    with pytest.raises(Unavailable, match="404"):
        await backend.charge_state(Vehicle("NOSUCHVIN00000000", None), 0)
    fleet.faults.append(Fault(404))  # a local proxy without the summary endpoint
    assert await backend.summary(car) == "unknown"
    assert backend.by_vin
    fleet.faults.append(Fault(404))  # nor a car list (TeslaBleHttpProxy): wallbox_cars names them
    assert await backend.vehicles() == []


async def test_a_backend_that_is_down_is_unavailable(tmp_path):
    from support.ports import free_port

    backend = TeslapyBackend(
        f"http://127.0.0.1:{free_port()}", TokenFile(tmp_path / "t"), timeout=2
    )
    try:
        with pytest.raises(Unavailable, match="not reachable"):
            await backend.vehicles()
    finally:
        backend.close()


async def test_no_login_means_no_request(tmp_path):
    backend = TeslapyBackend("https://owner-api.teslamotors.com/", TokenFile(tmp_path / "t.json"))
    try:
        with pytest.raises(NotConfigured, match="make login"):
            await backend.vehicles()
    finally:
        backend.close()


@pytest.mark.parametrize(
    "url, setting, expected",
    [
        ("https://owner-api.teslamotors.com/", "auto", False),
        ("https://fleet-api.prd.eu.vn.cloud.tesla.com/", "auto", True),
        ("https://localhost:4443/", "auto", True),
        ("http://192.168.1.5:8080/", "auto", True),
        ("https://owner-api.teslamotors.com/", "yes", True),
        ("http://127.0.0.1:5010/", "no", False),
    ],
)
def test_vin_in_path(url, setting, expected):
    assert vin_in_path(url, setting) is expected


def test_paths_name_the_car_by_id_or_vin(tmp_path):
    owner = TeslapyBackend("https://owner-api.teslamotors.com", TokenFile(tmp_path / "t"))
    fleet = TeslapyBackend("https://fleet-api.example", TokenFile(tmp_path / "t"))
    car = Vehicle("5YJ3E7EA1KF000001", "1234")
    try:
        assert owner._path(car, "wake_up") == "api/1/vehicles/1234/wake_up"
        assert fleet._path(car, "wake_up") == "api/1/vehicles/5YJ3E7EA1KF000001/wake_up"
        assert owner._path(Vehicle("5YJ3E7EA1KF000001", None)) == "api/1/vehicles/5YJ3E7EA1KF000001"
    finally:
        owner.close()
        fleet.close()


@pytest.mark.parametrize(
    "url", ["owner-api.teslamotors.com", "ftp://x/", "https://x/?a=1", "http://"]
)
def test_bad_api_urls(url):
    with pytest.raises(ValueError):
        normalize_api_url(url)


def test_ble_proxy_nesting_is_unwrapped():
    charge = {"charge_state": {"battery_level": 50}}
    ble = {"response": {"result": True, "vin": "X", "command": "vehicle_data", "response": charge}}
    assert payload_of(ble) == charge
    assert payload_of({"response": charge}) == charge
    with pytest.raises(Unavailable):
        payload_of({"nothing": 1})


@pytest.mark.parametrize(
    "header, expected",
    [
        ("30", 30.0),
        ("0", 1.0),
        ("999999", 3600.0),
        (None, 60.0),
        ("soon", 60.0),
        ("Wed, 21 Oct 2015 07:28:30 GMT", 30.0),
    ],
)
def test_retry_after(header, expected):
    now = 1445412480.0  # 2015-10-21 07:28:00 UTC
    assert parse_retry_after(header, now) == expected


def test_token_file_is_private_and_tolerant(tmp_path):
    tokens = TokenFile(tmp_path / "sub" / "tesla_token.json")
    assert tokens.load() == {}
    cache = {"me@example.org": {"url": "https://auth.tesla.com/", "sso": {"access_token": "a"}}}
    tokens.save(cache)
    assert tokens.load() == cache
    assert stat.S_IMODE(tokens.path.stat().st_mode) == 0o600
    tokens.path.write_text("{not json")
    assert tokens.load() == {}
    assert account_email(cache, "") == "me@example.org"
    assert account_email({**cache, "b@x": {"sso": {"access_token": "b"}}}, "") is None
    assert account_email(cache, "other@x") == "other@x"
    assert has_token(cache, "me@example.org") and not has_token(cache, "other@x")


class ReadOnlyTokens:
    """A read-only TokenSource as TeslaMate's is, holding a token that is not a JWT."""

    read_only = True
    reread_s = 600.0

    def load(self):
        return {"teslamate": {"sso": {"access_token": "opaque-token", "refresh_token": "r"}}}

    def save(self, cache):
        raise AssertionError("a read-only source is never written")

    def describe(self):
        return "a read-only source"


async def test_a_read_only_token_without_an_expiry_reaches_the_api(test_ca):
    from support.ports import free_port
    from wallbox.vehicle.simulator.server import serve

    fleet = Fleet.with_cars(1)
    fleet.accepted_tokens = {"opaque-token"}
    port = free_port()
    runner = await serve(fleet, "127.0.0.1", port, test_ca.server_context("localhost"))
    backend = TeslapyBackend(
        f"https://localhost:{port}/", ReadOnlyTokens(), ca_file=test_ca.ca_file
    )
    try:
        assert len(await backend.vehicles()) == 1  # teslapy once raised TypeError here
        assert fleet.bearer == {"opaque-token": 1} and fleet.calls["token"] == 0
    finally:
        backend.close()
        await runner.cleanup()
