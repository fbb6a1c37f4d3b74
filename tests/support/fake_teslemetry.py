"""Teslemetry's SSE stream, as far as its shape goes: the simulator's car as data and state
events on `/sse/<VIN>`, behind a bearer token, from an aiohttp server in a thread.

Data events carry fleet-telemetry's fields (numbers as strings, enums with their prefix:
support/fake_push_feeds.fleet_topics), state events the car's online/asleep; only what
changed is sent. `silent` holds the events back (the stream stays open).
"""

import asyncio
import json
import threading
from datetime import UTC, datetime

from aiohttp import web

from support.fake_push_feeds import fleet_topics
from support.ports import free_port
from support.tesla_sim import http


def events(data: dict, vin: str, last: dict) -> list[dict]:
    """The events that tell what changed since `last` (updated in place)."""
    topics = fleet_topics(data, strings=True)
    fields = {k[2:]: json.loads(v) for k, v in topics.items() if k.startswith("v/")}
    changed = {k: v for k, v in fields.items() if last.get(k) != v}
    said = []
    state = "online" if data["state"] == "online" else "asleep"
    if last.get("__state") != state:
        said.append({"vin": vin, "state": state, "createdAt": _now()})
        last["__state"] = state
    if changed:
        last.update(changed)
        said.append({"data": changed, "createdAt": _now(), "vin": vin})
    return said


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class FakeTeslemetry:
    PATH = "/sse/{vin}"

    def __init__(self, sim_url: str, vin: str, token: str, interval: float = 0.2) -> None:
        self.sim_url, self.vin, self.token, self.interval = sim_url, vin, token, interval
        self.port = free_port()
        self.silent = threading.Event()
        self.streams = 0  # streams opened
        self.dropping = threading.Event()  # end the open streams (a relay's restart)
        self.refused = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="fake Teslemetry", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "FakeTeslemetry":
        self._thread.start()
        assert self._ready.wait(10), "the fake Teslemetry did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_get(self.PATH, self._stream)
        runner = web.AppRunner(app)
        self._loop.run_until_complete(runner.setup())
        self._loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(runner.cleanup())
        self._loop.close()

    def authorised(self, request: web.Request) -> bool:
        if request.headers.get("Authorization") == f"Bearer {self.token}":
            return True
        self.refused += 1
        return False

    async def news(self, vin: str, last: dict) -> list[dict]:
        """The events since `last`, at the pace of `interval`; none while `silent`."""
        await asyncio.sleep(self.interval)
        if self.silent.is_set():
            return []
        try:
            status, data = await asyncio.to_thread(http, f"{self.sim_url}/sim/cars/{vin}/data")
        except OSError:  # the simulator is gone at the end of a test
            return []
        return events(data, vin, last) if status == 200 else []

    def dropped(self) -> bool:
        """End the open stream now (a relay's restart)."""
        if self.dropping.is_set():
            self.dropping.clear()
            return True
        return False

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        if not self.authorised(request):
            return web.json_response({"error": "invalid token"}, status=401)
        vin = request.match_info["vin"]
        answer = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await answer.prepare(request)
        self.streams += 1
        last: dict = {}
        while not self.dropped():
            for event in await self.news(vin, last):
                await answer.write(f"data: {json.dumps(event)}\n\n".encode())
        return answer
