"""Tessie's streaming WebSocket, as far as its shape goes: the simulator's car on
`/<VIN>` behind a bearer token (header or `access_token`), in Tesla's own message
shape (PROTOCOL.md 9): `{"data": [{"key": .., "value": {"stringValue": ..}}], ...}`,
and the car's connection in fleet-telemetry's connectivity shape.

The same server as support/fake_teslemetry.py (what changed only; `silent`,
`dropping`, `refused`, `streams`), speaking WebSocket instead of SSE.
"""

import asyncio
from typing import Any

from aiohttp import web

from support.fake_teslemetry import FakeTeslemetry


def typed(name: str, value: Any) -> dict:
    """One value as Tesla's typed `Value`: numbers as strings, as Tessie's example shows."""
    if value is None:
        return {"invalid": True}
    if isinstance(value, dict):
        return {"locationValue": value}
    if isinstance(value, bool):
        return {"booleanValue": value}
    if name == "DetailedChargeState":
        return {"detailedChargeStateValue": value}
    if name == "FastChargerType":
        return {"fastChargerValue": value}
    return {"stringValue": str(value)}


def message(event: dict) -> dict:
    """A Teslemetry event (fake_teslemetry.events) in Tessie's shape."""
    if "state" in event:
        status = "CONNECTED" if event["state"] == "online" else "DISCONNECTED"
        return {"vin": event["vin"], "connectionId": "c1", "status": status,
                "createdAt": event["createdAt"]}  # fmt: skip
    data = [{"key": k, "value": typed(k, v)} for k, v in event["data"].items()]
    return {"data": data, "createdAt": event["createdAt"], "vin": event["vin"]}


class FakeTessie(FakeTeslemetry):
    PATH = "/{vin}"

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def authorised(self, request: web.Request) -> bool:
        if request.query.get("access_token") == self.token:
            return True
        return super().authorised(request)

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        if not self.authorised(request):
            return web.json_response({"error": "invalid token"}, status=401)
        vin = request.match_info["vin"]
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self.streams += 1
        reading = asyncio.create_task(_read(socket))  # answers the client's heartbeat pings
        last: dict = {}
        while not self.dropped() and not socket.closed:
            for event in await self.news(vin, last):
                await socket.send_json(message(event))
        await socket.close()
        reading.cancel()
        return socket


async def _read(socket: web.WebSocketResponse) -> None:
    async for _ in socket:
        pass
