"""The status page's HTTP side: assets, its state, the live stream, the command
log and the Basic prompt (the browser tests are tests/e2e/test_status_page.py)."""

import gzip
import json

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer, make_mocked_request

from wallbox.api.page import CAPTURE, _note_command
from wallbox.api.server import make_app
from wallbox.clock import FakeClock
from wallbox.control.controller import Controller
from wallbox.vehicle.simulator.backend import SimulatedBackend
from wallbox.vehicle.simulator.fleet import Fleet

SECRET = "test-secret-123"


async def captured():
    return {"tokens": [{"token": "abc", "last_upload": None}], "mirror": None,
            "refused": None, "series": {}, "units": []}  # fmt: skip


@pytest.fixture
async def page():
    clock = FakeClock()
    controller = Controller(SimulatedBackend(Fleet.with_cars(1, clock)), clock=clock)
    app = make_app(controller, SECRET)
    app[CAPTURE] = captured
    client = TestClient(TestServer(app))
    await client.start_server()
    await clock.advance(1)
    yield client
    await client.close()


async def test_the_page_and_its_assets_are_served_gzipped_when_asked(page):
    reply = await page.get("/", headers={"Accept-Encoding": "gzip"}, auto_decompress=False)
    assert reply.status == 200 and reply.headers["Content-Encoding"] == "gzip"
    html = gzip.decompress(await reply.read()).decode()
    assert "/page/uPlot.iife.min.js" in html and "https://" not in html  # nothing from elsewhere
    assert reply.headers["Cache-Control"] == "no-store"
    for asset in ("page.js", "page.css", "uPlot.iife.min.js", "uPlot.min.css", "uPlot.LICENSE"):
        reply = await page.get(f"/page/{asset}", headers={"Accept-Encoding": "identity"})
        assert reply.status == 200 and "Content-Encoding" not in reply.headers, asset
    reply = await page.get("/page/secret.txt")
    assert reply.status == 404 and "error" in await reply.json()


async def test_the_state_has_every_section_and_names_who_asked(page):
    assert (await page.get("/tlwb/1/control?1", headers={"User-Agent": "evcc/0.200"})).status == 200
    state = await (await page.get("/page/state")).json()
    capture, cars = state["sections"]
    assert [c["id"] for c in capture["cards"]] == ["token-abc", "mirror"]
    assert [c["id"] for c in cars["cards"]] == ["car-1", "cost"]
    asked = [v for k, v in cars["cards"][0]["rows"] if k == "Asked"]
    assert asked and asked[0].startswith("control 1 ") and "(evcc)" in asked[0]
    assert state["charts"]["car-1"]["units"] == ["%", "kW", "A", "A"]
    assert len(state["data"]["car-1"]) == 5 and state["data"]["car-1"][0]
    assert SECRET not in json.dumps(state)


async def test_the_stream_sends_the_text_then_the_charts(page):
    reply = await page.get("/page/events")
    assert reply.headers["Content-Type"] == "text/event-stream"
    events = []
    while len(events) < 2:
        line = (await reply.content.readline()).decode()
        if line.startswith("event: "):
            events.append(line.split(" ", 1)[1].strip())
    assert events == ["summary", "charts"]
    reply.close()  # a closed tab: the handler ends on its next write


@pytest.mark.parametrize(
    "path, status, prompt",
    [("/", 401, "Basic"), ("/page/state", 401, "Basic"), ("/tlwb/1/status", 401, "Bearer")],
)
async def test_a_page_asks_a_browser_for_the_secret_by_basic_auth(path, status, prompt):
    app = web.Application()
    request = make_mocked_request("GET", path, app=app)
    response = web.Response(status=status, headers={"WWW-Authenticate": 'Bearer realm="wallbox"'})
    await _note_command(request, response)
    assert response.headers["WWW-Authenticate"].startswith(prompt)
