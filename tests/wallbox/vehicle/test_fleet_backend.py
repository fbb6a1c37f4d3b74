"""The Fleet API back-end against the simulator in its shape, over HTTPS: the region
found first, a token refreshed with the app's own client id on a 401, commands
signed by the (simulated) tesla-http-proxy."""

import time

import pytest

from support.ports import free_port
from wallbox.vehicle.backend import (
    Command,
    CommandRefused,
    NotConfigured,
    Unauthorized,
    Vehicle,
)
from wallbox.vehicle.fleet_backend import FleetBackend
from wallbox.vehicle.simulator.fleet import Fleet
from wallbox.vehicle.simulator.server import make_app, serve, signing_proxy_app
from wallbox.vehicle.tokens import TokenFile

APP = "my-fleet-app"


@pytest.fixture
async def fleet_api(test_ca):
    fleet = Fleet.with_cars(1)
    fleet.accepted_tokens = {"only-issued-tokens-count"}
    fleet.client_id = APP
    fleet.refresh_tokens = {"refresh-1"}
    context = test_ca.server_context("localhost")
    ports = free_port(), free_port()
    api = await serve(fleet, "127.0.0.1", ports[0], context, make_app(fleet, "fleet"))
    proxy = await serve(fleet, "127.0.0.1", ports[1], context, signing_proxy_app(fleet))
    yield fleet, f"https://localhost:{ports[0]}/", f"https://localhost:{ports[1]}/"
    await proxy.cleanup()
    await api.cleanup()


def login(tmp_path, url: str, access: str = "stale-access") -> TokenFile:
    tokens = TokenFile(tmp_path / "tesla_token.json")
    sso = {"access_token": access, "refresh_token": "refresh-1", "expires_at": time.time() + 3600}
    tokens.save({"me@example.org": {"url": url, "sso": sso, "client_id": APP}})
    return tokens


async def test_region_first_then_a_refresh_on_401_then_signed_commands(
    fleet_api, tmp_path, test_ca
):
    fleet, url, proxy = fleet_api
    tokens = login(tmp_path, url)
    backend = FleetBackend(url, tokens, command_url=proxy, ca_file=test_ca.ca_file, timeout=5)
    try:
        cars = await backend.vehicles()
        assert [c.vin for c in cars] == [fleet.cars[0].vin]
        assert backend.region_url == url + "eu/"
        assert fleet.calls["region"] == 1 and fleet.calls["misdirected"] == 0
        # the stale token got a 401; the refresh went to the auth host with the app's id
        assert fleet.via[("token", f"refresh_token client_id={APP}")] == 1
        saved = tokens.load()["me@example.org"]
        assert saved["client_id"] == APP and saved["sso"]["refresh_token"] == "sim-refresh-1"
        car = cars[0]
        assert (await backend.charge_state(car, 1.0)).latitude == pytest.approx(48.1374)
        await backend.command(car, Command.CHARGE_START)
        with pytest.raises(CommandRefused) as refused:  # tesla-http-proxy's `string` field
            await backend.command(car, Command.CHARGE_START)
        assert refused.value.reason == "is_charging"
        assert fleet.via[("signing_proxy", "command/charge_start")] == 2
        assert fleet.calls["unsigned"] == 0 and fleet.calls["region"] == 1
        assert fleet.billed["command"] == 2 and fleet.billed["data"] >= 3
    finally:
        backend.close()


async def test_unsigned_commands_say_to_set_up_the_signing_proxy(fleet_api, tmp_path, test_ca):
    fleet, url, _ = fleet_api
    backend = FleetBackend(url, login(tmp_path, url), ca_file=test_ca.ca_file, timeout=5)
    try:
        with pytest.raises(NotConfigured, match="tesla_command_url"):
            await backend.command(Vehicle(fleet.cars[0].vin, None), Command.CHARGE_STOP)
    finally:
        backend.close()


async def test_a_spent_refresh_token_says_to_sign_in_again(fleet_api, tmp_path, test_ca):
    fleet, url, _ = fleet_api
    fleet.refresh_tokens = {"someone-else-refreshed"}
    backend = FleetBackend(url, login(tmp_path, url), ca_file=test_ca.ca_file, timeout=5)
    try:
        with pytest.raises(Unauthorized, match="make login FLEET_CLIENT_ID"):
            await backend.vehicles()
    finally:
        backend.close()


async def test_a_421_moves_the_back_end_to_the_named_region(fleet_api, tmp_path, test_ca):
    fleet, url, _ = fleet_api
    backend = FleetBackend(url, login(tmp_path, url), ca_file=test_ca.ca_file, timeout=5)
    try:
        backend.region_url = url  # as if the account had moved since the start
        await backend.vehicles()
        assert backend.region_url == url + "eu/" and fleet.calls["misdirected"] == 1
    finally:
        backend.close()


async def test_no_login_sends_nothing(fleet_api, tmp_path, test_ca):
    fleet, url, _ = fleet_api
    backend = FleetBackend(url, TokenFile(tmp_path / "none.json"), ca_file=test_ca.ca_file)
    try:
        with pytest.raises(NotConfigured, match="make login FLEET_CLIENT_ID="):
            await backend.vehicles()
        assert sum(fleet.calls.values()) == 0
    finally:
        backend.close()
    assert not (tmp_path / "none.json").exists()


async def test_a_login_with_only_a_refresh_token_is_refreshed_first(fleet_api, tmp_path, test_ca):
    fleet, url, _ = fleet_api
    tokens = TokenFile(tmp_path / "tesla_token.json")
    entry = {"url": url, "sso": {"refresh_token": "refresh-1"}, "client_id": APP}
    tokens.save({"me@example.org": entry})
    backend = FleetBackend(url, tokens, ca_file=test_ca.ca_file, timeout=5)
    try:
        assert len(await backend.vehicles()) == 1
        assert fleet.calls["unauthorized"] == 0 and fleet.calls["token"] == 1
    finally:
        backend.close()
