"""The PV-session benchmark's vehicle back-ends, each against the simulator in its shape
(in-process, real HTTP on loopback): what `pv_session.py --backend` runs."""

import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from wallbox.vehicle.backend import VehicleBackend
from wallbox.vehicle.ble_backend import BleBackend
from wallbox.vehicle.fleet_backend import FleetBackend
from wallbox.vehicle.relay_backend import RelayBackend
from wallbox.vehicle.simulator.fleet import Fleet
from wallbox.vehicle.simulator.server import make_app, signing_proxy_app
from wallbox.vehicle.teslapy_backend import TeslapyBackend
from wallbox.vehicle.tokens import TokenFile

KINDS = ("ble", "fleet", "relay", "owner", "closed")
TITLES = {
    "ble": "TeslaBleHttpProxy",
    "fleet": "Fleet API, own app",
    "relay": "relay (Teslemetry...)",
    "owner": "Owner-shaped (sim)",
    "closed": "Owner API, closed",
}
RELAY_TOKEN = "bench-relay-token"


@dataclass
class Setup:
    backend: VehicleBackend
    cars: tuple[str, ...] = ()  # wallbox_cars, where the API lists none
    runners: list[web.AppRunner] = field(default_factory=list)
    tmp: tempfile.TemporaryDirectory | None = None

    async def close(self) -> None:
        self.backend.close()
        for runner in self.runners:
            await runner.cleanup()
        if self.tmp is not None:
            self.tmp.cleanup()


async def serve(app: web.Application, ssl_context=None) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
    await site.start()
    return runner, runner.addresses[0][1]


async def start(kind: str, fleet: Fleet) -> Setup:
    tmp = tempfile.TemporaryDirectory()
    path = Path(tmp.name)
    if kind == "fleet":
        return await _fleet(fleet, path, tmp)
    shape = {"closed": "owner", "owner": "owner"}.get(kind, kind)
    runner, port = await serve(make_app(fleet, shape, closed=kind == "closed"))
    url = f"http://127.0.0.1:{port}"
    if kind == "ble":
        return Setup(BleBackend(url), (fleet.cars[0].vin,), [runner], tmp)
    if kind == "relay":
        fleet.accepted_tokens = {RELAY_TOKEN}
        return Setup(RelayBackend(url, lambda: RELAY_TOKEN, "bench"), (), [runner], tmp)
    return Setup(TeslapyBackend(url, TokenFile(path / "none.json")), (), [runner], tmp)


async def _fleet(fleet: Fleet, path: Path, tmp) -> Setup:
    from conftest import TestCA  # the tests' CA, for the simulator's HTTPS

    ca = TestCA(path / "ca")
    context = ca.server_context("localhost")
    api, api_port = await serve(make_app(fleet, "fleet"), context)
    proxy, proxy_port = await serve(signing_proxy_app(fleet), context)
    url = f"https://localhost:{api_port}/"
    fleet.client_id, fleet.refresh_tokens = "bench-app", {"bench-refresh"}
    sso = {"access_token": "bench-access", "refresh_token": "bench-refresh",
           "expires_at": time.time() + 8 * 3600}  # fmt: skip
    login = {"bench@example.org": {"url": url, "sso": sso, "client_id": "bench-app"}}
    (path / "token.json").write_text(json.dumps(login))
    backend = FleetBackend(
        url,
        TokenFile(path / "token.json"),
        command_url=f"https://localhost:{proxy_port}/",
        ca_file=ca.ca_file,
    )
    return Setup(backend, (), [api, proxy], tmp)
