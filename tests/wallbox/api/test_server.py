"""The HTTP layer: routing, parameters, errors, the secret, and answers that match /openapi.json."""

from base64 import b64encode
from unittest import mock

import jsonschema
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer, make_mocked_request

from wallbox.api.openapi import openapi_document
from wallbox.api.server import REFUSED_CLIENTS, make_app, require_secret
from wallbox.api.server import SECRET as SECRET_KEY
from wallbox.clock import FakeClock
from wallbox.control.controller import Controller
from wallbox.vehicle.simulator.backend import SimulatedBackend
from wallbox.vehicle.simulator.fleet import Fault, Fleet

SECRET = "test-secret-123"


@pytest.fixture
async def api():
    clock = FakeClock()
    fleet = Fleet.with_cars(1, clock)
    controller = Controller(SimulatedBackend(fleet), clock=clock)
    client = TestClient(TestServer(make_app(controller, SECRET)))
    await client.start_server()
    await clock.advance(1)
    yield client, fleet, clock
    await client.close()


def validate(body, schema_name):
    document = openapi_document()
    schema = {
        **document["components"]["schemas"][schema_name],
        "components": document["components"],
    }
    jsonschema.validate(body, schema, cls=jsonschema.Draft202012Validator)


async def test_status_matches_the_openapi_schema(api):
    client, *_ = api
    reply = await client.get("/tlwb/1/status")
    assert reply.status == 200 and reply.headers["Cache-Control"] == "no-store"
    body = await reply.json()
    validate(body, "Status")
    assert body["car"] == 1 and body["status"] == 2 - 1  # plugged in, no PV location set
    listing = await (await client.get("/tlwb")).json()
    assert [c["vin"] for c in listing["cars"]] == [body["vin"]]


@pytest.mark.parametrize(
    "path, intent",
    [
        ("/tlwb/1/control?1", {"charging": True}),
        ("/tlwb/1/control?0", {"charging": False}),
        ("/tlwb/1/control?true", {"charging": True}),  # what evcc's ${enable} sends
        ("/tlwb/1/control?value=false", {"charging": False}),
        ("/tlwb/1/set_amps?10", {"amps": 10}),
        ("/tlwb/1/set_amps?value=6&wait=0", {"amps": 6}),
        ("/tlwb/1/set_soc?40", {"soc": 40}),
        ("/tlwb/1?control=1&set_amps=16&set_soc=55", {"charging": True, "amps": 16, "soc": 55}),
        ("/tlwb/5YJ3SIM0000000001?set_soc=90", {"soc": 90}),
        ("/command/1/charge_start", {"charging": True}),
        ("/command/1/charge_stop", {"charging": False}),
        ("/command/1/charge_start_stop?1", {"charging": True}),
        ("/command/1/set_charging_amps?12", {"amps": 12}),
        ("/command/1/set_charge_limit?85", {"soc": 85}),
    ],
)
async def test_commands_record_the_intent_and_answer_with_the_status(api, path, intent):
    client, *_ = api
    reply = await client.get(path)
    assert reply.status == 200, await reply.text()
    body = await reply.json()
    validate(body, "Status")
    assert {k: v for k, v in body["intent"].items() if v is not None} == intent
    assert body["pending"]  # answered before anything reached the car


async def test_wake_up_and_the_combined_endpoint_without_changes(api):
    client, *_ = api
    body = await (await client.get("/command/1/wake_up")).json()
    assert body["pending"][0]["action"] == "wake_up"
    body = await (await client.get("/tlwb/1")).json()
    assert body["intent"] == {"charging": None, "amps": None, "soc": None}


@pytest.mark.parametrize(
    "path, status, words",
    [
        ("/tlwb/1/set_amps?abc", 400, "whole number"),
        ("/tlwb/1/set_amps?17", 400, "1..16"),  # the car's maximum on this charger
        ("/tlwb/1/set_amps", 400, "needs a value"),
        ("/tlwb/1/set_soc?150", 400, "soc must be 1..100"),
        ("/tlwb/1/set_soc?40&value=40", 400, "give soc once"),
        ("/tlwb/1/control?2", 400, "1 (start charging) or 0"),
        ("/tlwb/1/control?1&wait=500", 400, "wait must be seconds"),
        ("/tlwb/1/control?1&wait=nan", 400, "wait must be seconds"),
        ("/tlwb/1?set_amp=16", 400, "unknown parameter 'set_amp'"),
        ("/tlwb/1?control=1&control=0", 400, "given twice"),
        ("/tlwb/1?16", 400, "name the value"),
        ("/command/1/charge_start?1", 400, "takes no value"),
        ("/tlwb/7/status", 404, "no car '7'"),
        ("/tlwb/WRONGVIN000000000/status", 404, "no car"),
        ("/command/1/honk", 404, "no such endpoint"),
        ("/elsewhere", 404, "see /openapi.json"),
    ],
)
async def test_bad_requests_get_json_that_says_what_to_do(api, path, status, words):
    client, *_ = api
    reply = await client.get(path)
    assert reply.status == status
    body = await reply.json()
    validate(body, "Error")
    assert words in body["error"]
    assert (await client.get("/tlwb/1/status")).status == 200  # and it keeps serving


async def test_other_methods_are_refused_as_json(api):
    client, *_ = api
    for method in ("POST", "PUT", "DELETE", "HEAD"):
        reply = await client.request(method, "/tlwb/1/control?1")
        assert reply.status == 405
    body = await (await client.post("/tlwb/1/status")).json()
    assert body == {"error": "POST is not allowed here: use GET"}


async def test_not_ready_is_503_with_retry_after():
    clock = FakeClock()
    fleet = Fleet.with_cars(1, clock)
    fleet.faults.append(Fault(503, count=1000))
    controller = Controller(SimulatedBackend(fleet), clock=clock)
    async with TestClient(TestServer(make_app(controller, SECRET))) as client:
        await clock.advance(1)
        for path in ("/tlwb/1/status", "/tlwb", "/tlwb/1/control?1"):
            reply = await client.get(path)
            assert reply.status == 503 and int(reply.headers["Retry-After"]) >= 1
            assert "not loaded yet" in (await reply.json())["error"]


async def test_openapi_is_public_and_names_every_route(api):
    client, *_ = api
    document = await (await client.get("/openapi.json")).json()
    assert document["openapi"].startswith("3.1")
    assert set(document["paths"]) == {
        "/tlwb",
        "/tlwb/{car}",
        "/tlwb/{car}/status",
        "/tlwb/{car}/control",
        "/tlwb/{car}/set_amps",
        "/tlwb/{car}/set_soc",
        "/command/{car}/charge_start",
        "/command/{car}/charge_stop",
        "/command/{car}/charge_start_stop",
        "/command/{car}/set_charging_amps",
        "/command/{car}/set_charge_limit",
        "/command/{car}/wake_up",
    }
    jsonschema.Draft202012Validator.check_schema(document["components"]["schemas"]["Status"])


def request_from(peer, authorization=None):
    app = web.Application()

    app[SECRET_KEY] = SECRET
    app[REFUSED_CLIENTS] = set()
    transport = mock.Mock()
    transport.get_extra_info.side_effect = lambda name, default=None: (
        (peer, 40000) if name == "peername" else default
    )
    headers = {"Authorization": authorization} if authorization else {}
    return make_mocked_request(
        "GET", "/tlwb/1/status", headers=headers, app=app, transport=transport
    )


async def ok(request):
    return web.json_response({"ok": True})


@pytest.mark.parametrize(
    "peer, authorization, status",
    [
        ("127.0.0.1", None, 200),
        ("::1", None, 200),
        ("192.168.1.20", None, 401),
        ("192.168.1.20", "Bearer wrong-secret", 401),
        ("192.168.1.20", f"Bearer {SECRET}", 200),
        (
            "192.168.1.20",
            "Basic " + b64encode(f"evcc:{SECRET}".encode()).decode(),
            200,
        ),
    ],
)
async def test_other_hosts_need_the_secret(peer, authorization, status, caplog):
    reply = await require_secret(request_from(peer, authorization), ok)
    assert reply.status == status
    if status == 401:
        assert reply.headers["WWW-Authenticate"].startswith("Bearer")
        assert "Authorization: Bearer <secret>" in reply.text


async def test_a_refused_client_is_logged_once(caplog):
    request = request_from("10.1.2.3")
    for _ in range(3):
        await require_secret(request, ok)
    assert caplog.text.count("refused 10.1.2.3") == 1


async def test_a_loopback_peer_the_proxy_opened_is_asked_for_the_secret():
    """The proxy's own socket, connecting for a client elsewhere, is not this host."""
    clock = FakeClock()
    controller = Controller(SimulatedBackend(Fleet.with_cars(1, clock)), clock=clock)
    peers: list[tuple[str, int] | None] = []

    def proxied(peer):
        peers.append(peer)
        return True

    app = make_app(controller, SECRET, proxied=proxied)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        await clock.advance(1)
        refused = await client.get("/tlwb/1/control?0")
        assert refused.status == 401 and peers and peers[0][0] == "127.0.0.1"
        with_secret = await client.get(
            "/tlwb/1/status", headers={"Authorization": f"Bearer {SECRET}"}
        )
        assert with_secret.status == 200
