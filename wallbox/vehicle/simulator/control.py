"""The simulator's control endpoints for tests, uncounted: `GET /sim/cars`,
`POST /sim/cars/{vin}` (plug in/out, move, sleep, set SoC ...), `GET
/sim/cars/{vin}/data` (the car's data, asleep or not, for a fake TeslaMate),
`POST /sim/faults`, `DELETE /sim/faults`, `GET /sim/calls` (what a real account
would have been sent, and billed), `POST /sim/calls/reset`, `POST /sim/tokens`."""

from dataclasses import asdict
from typing import Any

from aiohttp import web

from wallbox.vehicle.simulator.car import SimCar
from wallbox.vehicle.simulator.common import FLEET, fail
from wallbox.vehicle.simulator.fleet import Fault, SimError


async def _cars(request: web.Request) -> web.Response:
    fleet = request.app[FLEET]
    fleet.advance()
    return web.json_response([_public(car) for car in fleet.cars])


async def _car_data(request: web.Request) -> web.Response:
    """What `vehicle_data` would answer, asleep or not, uncounted: for a fake TeslaMate."""
    fleet = request.app[FLEET]
    fleet.advance()
    try:
        car = fleet.car(request.match_info["vin"])
    except SimError as e:
        return fail(e)
    return web.json_response(car.vehicle_data(fleet.clock.wall()))


async def _patch_car(request: web.Request) -> web.Response:
    fleet = request.app[FLEET]
    try:
        changes = await request.json()
        if not isinstance(changes, dict):
            raise ValueError
        car = fleet.patch(request.match_info["vin"], changes)
    except ValueError:
        return fail(SimError(400, "send a JSON object of fields to change"))
    except SimError as e:
        return fail(e)
    return web.json_response(_public(car))


async def _add_fault(request: web.Request) -> web.Response:
    fleet = request.app[FLEET]
    try:
        spec = await request.json()
        fleet.faults.append(Fault(**spec))
    except (ValueError, TypeError) as e:
        return fail(SimError(400, f"a fault is {{status, count, retry_after, match}}: {e}"))
    return web.json_response([asdict(f) for f in fleet.faults])


async def _clear_faults(request: web.Request) -> web.Response:
    request.app[FLEET].faults.clear()
    return web.json_response([])


async def _calls(request: web.Request) -> web.Response:
    return web.json_response(request.app[FLEET].calls_report())


async def _reset_calls(request: web.Request) -> web.Response:
    fleet = request.app[FLEET]
    for counter in (fleet.calls, fleet.bearer, fleet.via, fleet.billed):
        counter.clear()
    return web.json_response(request.app[FLEET].calls_report())


async def _set_tokens(request: web.Request) -> web.Response:
    """`{"accepted": [...]}`: only these bearer tokens from now on ([]: any)."""
    fleet = request.app[FLEET]
    try:
        body = await request.json()
        fleet.accepted_tokens = {str(t) for t in body["accepted"]}
    except (ValueError, TypeError, KeyError):
        return fail(SimError(400, 'send {"accepted": ["token", ...]}'))
    return web.json_response({"accepted": sorted(fleet.accepted_tokens)})


def _public(car: SimCar) -> dict[str, Any]:
    data = asdict(car)
    data["charging_state"] = car.charging_state()
    data["commands"] = [[round(t, 1), name, value] for t, name, value in car.commands]
    return data


def add_routes(app: web.Application) -> None:
    app.router.add_get("/sim/cars", _cars)
    app.router.add_post("/sim/cars/{vin}", _patch_car)
    app.router.add_get("/sim/cars/{vin}/data", _car_data)
    app.router.add_post("/sim/faults", _add_fault)
    app.router.add_delete("/sim/faults", _clear_faults)
    app.router.add_get("/sim/calls", _calls)
    app.router.add_post("/sim/calls/reset", _reset_calls)
    app.router.add_post("/sim/tokens", _set_tokens)
