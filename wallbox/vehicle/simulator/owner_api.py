"""The Owner API's shape (owner-api.teslamotors.com): cars by id or VIN, the car list,
and, with `closed`, what it answers third parties since June 2026: 403
"forbidden, see https://developer.tesla.com/docs/fleet-api" to everything."""

from aiohttp import web

from wallbox.vehicle.simulator.common import FLEET, api, fail, json_body
from wallbox.vehicle.simulator.fleet import SimError

CLOSED_TEXT = "forbidden, see https://developer.tesla.com/docs/fleet-api"


async def command(request: web.Request) -> web.Response:
    fleet = request.app[FLEET]
    try:
        body = await json_body(request)
        answer = fleet.command(request.match_info["car"], request.match_info["name"], body)
    except SimError as e:
        return fail(e)
    return web.json_response({"response": answer})


def add_routes(app: web.Application, prefix: str = "") -> None:
    """The vehicle paths under `prefix` (the Fleet shape mounts them under a region)."""
    p = prefix
    app.router.add_get(f"{p}/api/1/vehicles", api(lambda f, r: f.list_vehicles()))
    app.router.add_get(f"{p}/api/1/products", api(lambda f, r: f.list_vehicles()))
    app.router.add_get(
        f"{p}/api/1/vehicles/{{car}}", api(lambda f, r: f.summary(r.match_info["car"]))
    )
    app.router.add_get(
        f"{p}/api/1/vehicles/{{car}}/vehicle_data",
        api(lambda f, r: f.vehicle_data(r.match_info["car"])),
    )
    app.router.add_post(
        f"{p}/api/1/vehicles/{{car}}/wake_up", api(lambda f, r: f.wake_up(r.match_info["car"]))
    )
    app.router.add_post(f"{p}/api/1/vehicles/{{car}}/command/{{name}}", command)


@web.middleware
async def closed(request: web.Request, handler) -> web.StreamResponse:
    """Every vehicle API call of a third party, refused as Tesla does since June 2026."""
    if request.path.startswith("/api/"):
        request.app[FLEET].calls["forbidden"] += 1
        return fail(SimError(403, CLOSED_TEXT))
    return await handler(request)
