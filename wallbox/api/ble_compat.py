"""TeslaBleHttpProxy's API on the wallbox port, so tools written for it (evcc's
`tesla-ble` vehicle and `vehicle-api` charger, Home Assistant `rest` sensors,
scripts) share teslahome's one view of the car (not TeslaBle2Mqtt: it needs the
proxy's connection_status and wake_up paths, which teslahome does not serve):

    GET  /api/1/vehicles/<VIN>/vehicle_data?endpoints=charge_state[;climate_state]
    GET  /api/1/vehicles/<VIN>/body_controller_state
    POST /api/1/vehicles/<VIN>/command/<name>[?wait=true]   charge_start, charge_stop,
         set_charging_amps {"charging_amps": N}, set_charge_limit {"percent": N}, wake_up
    GET  /api/proxy/1/version

Reads are answered from the controller's status (ble_shapes.py): no call to the
car. Commands are intents, as `/tlwb`'s: the same checks, coalescing, SoC guard,
charge-point refusal and wake rules; two tools asking at once make one intent,
the newest wish winning. The wallbox API's secret rules apply (server.py).
"""

import json
import logging
from functools import cache
from importlib import metadata

from aiohttp import web

from wallbox.api import ble_shapes as shapes
from wallbox.control.car import CarController
from wallbox.control.controller import Controller
from wallbox.control.intent import IntentError
from wallbox.control.outcomes import CarError
from wallbox.control.settings import WAIT_MAX_S

logger = logging.getLogger(__name__)

CONTROLLER = web.AppKey("ble_compat_controller", Controller)
_NO_STORE = {"Cache-Control": "no-store"}


def _reply(answer: tuple[int, dict], retry_after: float | None = None) -> web.Response:
    status, body = answer
    headers = dict(_NO_STORE)
    if retry_after is not None:
        headers["Retry-After"] = str(max(1, round(retry_after)))
    return web.json_response(body, status=status, headers=headers)


def _refused(request: web.Request, command: str, reason: str, retry_after=None) -> web.Response:
    vin = request.match_info.get("vin", "")
    logger.info("wallbox API: %s %s: 503 %s", request.method, request.path_qs[:200], reason)
    return _reply(shapes.envelope(vin, command, False, reason), retry_after)


def _car(request: web.Request) -> CarController:
    return request.app[CONTROLLER].car(request.match_info["vin"])


async def vehicle_data(request: web.Request) -> web.Response:
    try:
        car = _car(request)
        endpoints = shapes.wanted_endpoints(request.query.get("endpoints"))
        if shapes.waits(request.query.get("wakeup")) and car.status()["car_state"] != "online":
            await car.set_intent(wake=True, wait=WAIT_MAX_S)  # the proxy's `wakeup=true`
    except (CarError, shapes.Refused) as e:
        return _refused(request, "vehicle_data", str(e), getattr(e, "retry_after", None))
    answer = shapes.vehicle_data(car.status(), car.car, endpoints, car.clock.wall())
    return _reply(answer)


async def body_controller_state(request: web.Request) -> web.Response:
    try:
        car = _car(request)
    except CarError as e:
        return _refused(request, "body-controller-state", str(e), e.retry_after)
    return _reply(shapes.body_controller_state(car.status()))


async def command(request: web.Request) -> web.Response:
    name = request.match_info["command"]
    try:
        car = _car(request)
        change = shapes.intent_change(name, await _json_body(request))
        wait = shapes.waits(request.query.get("wait"))
        logger.info(
            "wallbox API: %s (%s) asks car %d: %s %s",
            request.remote or "?",
            request.headers.get("User-Agent", "no user agent")[:60],
            car.number,
            name,
            {k: v for k, v in change.items() if k != "wake"} or "",
        )
        result = await car.set_intent(wait=WAIT_MAX_S if wait else None, **change)
    except (CarError, IntentError, shapes.Refused) as e:
        return _refused(request, name, str(e), getattr(e, "retry_after", None))
    vin = car.vehicle.vin
    if not wait:
        return _reply(shapes.envelope(vin, name, True, shapes.RECEIVED))
    failed = [o for o in result.outcomes.values() if not o.ok]
    if failed:
        return _refused(request, name, "; ".join(o.message for o in failed))
    if result.still_open:
        waiting = [p.get("waiting_for") or p["action"] for p in result.status["pending"]]
        return _refused(
            request,
            name,
            f"not done within {WAIT_MAX_S:.0f} s, still under way: {'; '.join(waiting)}",
        )
    return _reply(shapes.envelope(vin, name, True, "The command was successfully processed."))


async def _json_body(request: web.Request) -> object:
    raw = await request.read()
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise shapes.Refused("the body is not JSON") from None


@cache
def _build() -> str:
    """The installed version, read once (it is on disk)."""
    try:
        return metadata.version("teslahome")
    except metadata.PackageNotFoundError:
        return "unknown"


async def version(request: web.Request) -> web.Response:
    inner = {"version": f"teslahome {_build()}", "compatible_with": "TeslaBleHttpProxy 2.2"}
    return _reply(shapes.envelope("", "version", True, shapes.OK, inner))


def add_routes(app: web.Application, controller: Controller) -> None:
    app[CONTROLLER] = controller
    base = "/api/1/vehicles/{vin}"
    app.router.add_get(f"{base}/vehicle_data", vehicle_data, allow_head=False)
    app.router.add_get(f"{base}/body_controller_state", body_controller_state, allow_head=False)
    app.router.add_post(f"{base}/command/{{command}}", command)
    app.router.add_get("/api/proxy/1/version", version, allow_head=False)
