"""The simulator's API shapes, at the HTTP level: what each answers where the real
APIs are easy to get wrong (and what the back-end tests rely on)."""

import pytest
from aiohttp.test_utils import TestClient, TestServer

from wallbox.vehicle.simulator.fleet import Fleet
from wallbox.vehicle.simulator.server import make_app, signing_proxy_app


@pytest.fixture
def fleet():
    return Fleet.with_cars(1)


async def client_for(app):
    client = TestClient(TestServer(app))
    await client.start_server()
    return client


async def test_the_closed_owner_api_refuses_everything_with_teslas_words(fleet):
    client = await client_for(make_app(fleet, "owner", closed=True))
    try:
        reply = await client.get("/api/1/vehicles")
        assert reply.status == 403
        body = await reply.json()
        assert body["error"] == "forbidden, see https://developer.tesla.com/docs/fleet-api"
        assert fleet.calls == {"forbidden": 1}
    finally:
        await client.close()


async def test_the_fleet_api_lives_in_its_region_and_takes_only_signed_commands(fleet):
    client = await client_for(make_app(fleet, "fleet"))
    vin, car_id = fleet.cars[0].vin, fleet.cars[0].id
    try:
        region = (await (await client.get("/api/1/users/region")).json())["response"]
        base = region["fleet_api_base_url"]
        assert region["region"] == "eu" and base.endswith("/eu")
        reply = await client.get("/api/1/vehicles")
        assert reply.status == 421
        assert (await reply.json())["error"] == f"user out of region, use base URL: {base}"
        assert (await client.get("/eu/api/1/vehicles")).status == 200
        assert (await client.get(f"/eu/api/1/vehicles/{car_id}")).status == 404  # VINs only
        reply = await client.post(f"/eu/api/1/vehicles/{vin}/command/charge_start", json={})
        assert reply.status == 403
        assert "Vehicle Command Protocol required" in (await reply.json())["error"]
        assert not fleet.cars[0].charging
        assert fleet.billed == {"data": 4, "command": 1}  # 421, 404 and 403 are billed too
    finally:
        await client.close()


async def test_the_signing_proxy_needs_a_token_and_answers_as_tesla_http_proxy(fleet):
    client = await client_for(signing_proxy_app(fleet))
    vin = fleet.cars[0].vin
    path = f"/api/1/vehicles/{vin}/command/charge_stop"
    try:
        assert (await client.post(path, json={})).status == 403  # no token
        auth = {"Authorization": "Bearer t"}
        reply = await client.post(path, json={}, headers=auth)
        assert reply.status == 200  # a refusal of the car, with its words in `string`
        assert (await reply.json())["response"] == {
            "result": False,
            "string": "car could not execute command: not_charging",
        }
        assert fleet.via[("signing_proxy", "command/charge_stop")] == 1
    finally:
        await client.close()


async def test_refresh_tokens_rotate_and_only_the_apps_client_id_is_served(fleet):
    fleet.client_id, fleet.refresh_tokens = "app", {"r0"}
    client = await client_for(make_app(fleet, "fleet"))
    form = {"grant_type": "refresh_token", "client_id": "app", "refresh_token": "r0"}
    try:
        first = await client.post("/oauth2/v3/token", data=form)
        assert first.status == 200 and (await first.json())["refresh_token"] == "sim-refresh-1"
        assert (await client.post("/oauth2/v3/token", data=form)).status == 401  # spent
        other = {**form, "client_id": "ownerapi", "refresh_token": "sim-refresh-1"}
        assert (await client.post("/oauth2/v3/token", data=other)).status == 401
        code = {"grant_type": "authorization_code", "client_id": "app", "code": "c"}
        assert (await client.post("/oauth2/v3/token", data=code)).status == 200
    finally:
        await client.close()


async def test_teslableproxy_nests_answers_and_refuses_what_it_cannot_read(fleet):
    client = await client_for(make_app(fleet, "ble"))
    vin = fleet.cars[0].vin
    try:
        assert (await client.get("/api/1/vehicles")).status == 404  # no list
        reply = await client.get(f"/api/1/vehicles/{vin}/vehicle_data?endpoints=location_data")
        assert reply.status == 503
        assert (await reply.json())["response"]["reason"] == (
            'The endpoint "location_data" is not supported.'
        )
        reply = await client.get(f"/api/1/vehicles/{vin}/vehicle_data?endpoints=charge_state")
        inner = (await reply.json())["response"]
        assert (inner["result"], inner["vin"], inner["command"]) == (True, vin, "vehicle_data")
        assert list(inner["response"]) == ["charge_state"]
        fleet.patch(vin, {"state": "asleep"})
        reply = await client.get(f"/api/1/vehicles/{vin}/vehicle_data")
        assert reply.status == 503
        assert (await reply.json())["response"]["reason"] == "vehicle is sleeping"
        reply = await client.post(f"/api/1/vehicles/{vin}/command/charge_start", json={})
        assert "will be processed shortly" in (await reply.json())["response"]["reason"]
    finally:
        await client.close()
