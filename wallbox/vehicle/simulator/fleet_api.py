"""The Fleet API's shape, strict where the real one is easy to get wrong:

- The account lives in one region, served under `/eu` here; `GET
  /api/1/users/region` answers its base URL, and every vehicle call elsewhere
  answers 421 "user out of region, use base URL: ...".
- Cars by VIN only (tesla-http-proxy takes nothing else).
- Commands sent straight to it answer 403 "Tesla Vehicle Command Protocol
  required": they must come signed, through the signing proxy (`signing_app`,
  playing tesla-http-proxy: commands there are counted `via signing_proxy`,
  answered as it does, and everything else is forwarded here).
- A relay (`relay_app`: Teslemetry, MyTeslaMate, Tessie) serves the same paths
  under its own host, signs commands itself, and takes one static token.
"""

from aiohttp import web

from wallbox.vehicle.simulator.common import FLEET, SITE, api, bearer_of, fail, json_body
from wallbox.vehicle.simulator.fleet import Fleet, SimError

REGION = "/eu"
SIGNING_TEXT = (
    "Tesla Vehicle Command Protocol required, please refer to the documentation here: "
    "https://developer.tesla.com/docs/fleet-api#2023-10-09-rest-api-vehicle-commands-endpoint-"
    "deprecation-warning"
)


def _region_url(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}{REGION}"


def _vin(fleet: Fleet, key: str) -> str:
    if len(key) != 17:
        raise SimError(404, f"{key!r}: the Fleet API here takes VINs only")
    return fleet.car(key).vin


def _region(fleet: Fleet, request: web.Request) -> dict:
    fleet._call("region")
    return {"region": "eu", "fleet_api_base_url": _region_url(request)}


async def _misdirected(request: web.Request) -> web.Response:
    request.app[FLEET].calls["misdirected"] += 1
    reason = f"user out of region, use base URL: {_region_url(request)}"
    return fail(SimError(421, reason))


async def _unsigned(request: web.Request) -> web.Response:
    request.app[FLEET].calls["unsigned"] += 1
    return fail(SimError(403, SIGNING_TEXT))


def _vehicle_routes(app: web.Application, prefix: str, signed_here: bool) -> None:
    p = prefix
    app.router.add_get(f"{p}/api/1/vehicles", api(lambda f, r: f.list_vehicles()))
    app.router.add_get(
        f"{p}/api/1/vehicles/{{car}}",
        api(lambda f, r: f.summary(_vin(f, r.match_info["car"]))),
    )
    app.router.add_get(
        f"{p}/api/1/vehicles/{{car}}/vehicle_data",
        api(lambda f, r: f.vehicle_data(_vin(f, r.match_info["car"]))),
    )
    app.router.add_post(
        f"{p}/api/1/vehicles/{{car}}/wake_up",
        api(lambda f, r: f.wake_up(_vin(f, r.match_info["car"]), r.app[SITE])),
    )
    command = _signed_command if signed_here else _unsigned
    app.router.add_post(f"{p}/api/1/vehicles/{{car}}/command/{{name}}", command)


async def _signed_command(request: web.Request) -> web.Response:
    """A command as tesla-http-proxy (or a relay) answers it once signed and sent:
    `{"result": true, "reason": ""}`, a car's refusal with HTTP 200 and its words in
    a field called `string` (tesla-http-proxy's carResponse)."""
    fleet = request.app[FLEET]
    try:
        body = await json_body(request)
        vin = _vin(fleet, request.match_info["car"])
        name = request.match_info["name"]
        answer = fleet.command(vin, name, body, request.app[SITE])
    except SimError as e:
        return fail(e)
    if answer["result"]:
        return web.json_response({"response": {"result": True, "reason": ""}})
    words = f"car could not execute command: {answer['reason']}"
    body = {"response": {"result": False, "string": words}, "error": "", "error_description": ""}
    return web.json_response(body)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/1/users/region", api(_region))
    app.router.add_get(f"{REGION}/api/1/users/region", api(_region))
    _vehicle_routes(app, REGION, signed_here=False)
    app.router.add_route("*", "/api/1/vehicles{tail:.*}", _misdirected)


@web.middleware
async def _needs_token(request: web.Request, handler) -> web.StreamResponse:
    """tesla-http-proxy reads the account from the token: without one it answers 403."""
    if "/api/" in request.path and not bearer_of(request):
        return fail(SimError(403, "client did not provide an OAuth token"))
    return await handler(request)


def signing_routes(app: web.Application) -> None:
    """tesla-http-proxy: signs commands, forwards the rest to the account's region."""
    app.middlewares.append(_needs_token)
    _vehicle_routes(app, "", signed_here=True)


def relay_routes(app: web.Application) -> None:
    """A Fleet-compatible relay: the Fleet paths at its root, commands signed by it."""
    _vehicle_routes(app, "", signed_here=True)
