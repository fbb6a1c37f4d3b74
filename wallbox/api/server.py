"""The wallbox HTTP API: handlers that only translate HTTP to controller calls.

Endpoints (every answer is the car's whole status JSON; `/openapi.json` describes all):

    GET /tlwb                                   every car's status
    GET /tlwb/<car>/status
    GET /tlwb/<car>/control?1|0                 start / stop charging
    GET /tlwb/<car>/set_amps?<A>
    GET /tlwb/<car>/set_soc?<%>
    GET /tlwb/<car>?control=1&set_amps=16&set_soc=55
    GET /command/<car>/charge_start | charge_stop | charge_start_stop?1|0
        | set_charging_amps?<A> | set_charge_limit?<%> | wake_up    (TeslaLogger's paths)
    /api/1/vehicles/<VIN>/..., /api/proxy/1/version   TeslaBleHttpProxy's (ble_compat.py)
    GET /, /page/...                            the status page (page.py)

`<car>` is the car number (1 = the first car of the account, or of
`wallbox_cars`) or its VIN. A value goes bare after `?` (`set_amps?16`) or named
`value=` (`set_amps?value=16`). Any command also takes `wait=<s>` (at most 120):
answer once the car confirmed it (200), or after that long with the action
still under way (202). Without `wait` the answer comes at once, before any
wake-up.

Errors are JSON `{"error": "<what to do>"}`: 400 bad value, 401 secret missing,
404 unknown car or path, 405 not GET, 409 the car refused (not plugged in),
502 the car accepted but did not act, 503 the vehicle API is unreachable or
not set up (with Retry-After).
"""

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import web

from wallbox.api import ble_compat, page
from wallbox.api.openapi import openapi_document
from wallbox.api.query import BadRequest, parse_query, parse_wait, value_and_wait, wait_only
from wallbox.api.security import authorized, is_local_client
from wallbox.control.car import CarController
from wallbox.control.controller import Controller
from wallbox.control.intent import IntentError, parse_change
from wallbox.control.outcomes import CarError, Result

logger = logging.getLogger(__name__)

CONTROLLER = web.AppKey("controller", Controller)
SECRET = web.AppKey("secret", str)
REFUSED_CLIENTS = web.AppKey("refused_clients", set)
PROXIED = web.AppKey("proxied", Callable)

_NO_STORE = {"Cache-Control": "no-store"}
_MAX_REFUSED_LOGGED = 256


# --- answers ------------------------------------------------------------------


def error_response(
    status: int,
    message: str,
    *,
    retry_after: float | None = None,
    snapshot: dict[str, Any] | None = None,
) -> web.Response:
    body: dict[str, Any] = {"error": message}
    if snapshot is not None:
        body["status"] = snapshot
    headers = dict(_NO_STORE)
    if retry_after is not None:
        headers["Retry-After"] = str(max(1, round(retry_after)))
    return web.json_response(body, status=status, headers=headers)


def answer(result: Result, waited: bool) -> web.Response:
    failed = [o for o in result.outcomes.values() if not o.ok]
    if failed:
        worst = max(failed, key=lambda o: o.status)
        return error_response(worst.status, worst.message, snapshot=result.status)
    status = 202 if waited and result.still_open else 200
    return web.json_response(result.status, status=status, headers=_NO_STORE)


# --- handlers -------------------------------------------------------------------


def _car(request: web.Request) -> CarController:
    return request.app[CONTROLLER].car(request.match_info["car"])


async def list_cars(request: web.Request) -> web.Response:
    controller = request.app[CONTROLLER]
    controller.car("1")  # raises NotReady with the reason while the list is loading
    return web.json_response({"cars": [car.status() for car in controller.cars]}, headers=_NO_STORE)


async def status(request: web.Request) -> web.Response:
    return web.json_response(_car(request).status(), headers=_NO_STORE)


async def control(request: web.Request) -> web.Response:
    return await _one_change(request, "control")


async def set_amps(request: web.Request) -> web.Response:
    return await _one_change(request, "amps")


async def set_soc(request: web.Request) -> web.Response:
    return await _one_change(request, "soc")


async def _one_change(request: web.Request, part: str) -> web.Response:
    car = _car(request)
    value, wait = value_and_wait(request.query_string, part)
    return await _set(car, wait, **parse_change(part, value, car.max_amps))


async def combined(request: web.Request) -> web.Response:
    """`/tlwb/<car>?control=1&set_amps=16&set_soc=55`: any of them, in one go."""
    car = _car(request)
    bare, named = parse_query(
        request.query_string, frozenset({"control", "set_amps", "set_soc", "wait"})
    )
    if bare is not None:
        raise BadRequest(f"name the value: control=, set_amps= or set_soc=, got {bare[:20]!r}")
    changes: dict[str, Any] = {}
    for name, part in (("control", "control"), ("set_amps", "amps"), ("set_soc", "soc")):
        if name in named:
            changes |= parse_change(part, named[name], car.max_amps)
    wait = parse_wait(named.get("wait"))
    if not changes:
        return web.json_response(car.status(), headers=_NO_STORE)
    return await _set(car, wait, **changes)


async def teslalogger_command(request: web.Request) -> web.Response:
    """TeslaLogger's own `/command/<car>/<name>` paths, routed to the same controller."""
    car = _car(request)
    name = request.match_info["command"]
    raw = request.query_string
    if name == "charge_start":
        return await _set(car, wait_only(raw), charging=True)
    if name == "charge_stop":
        return await _set(car, wait_only(raw), charging=False)
    if name == "wake_up":
        return await _set(car, wait_only(raw), wake=True)
    if name in _TESLALOGGER_PARTS:
        return await _one_change(request, _TESLALOGGER_PARTS[name])
    raise web.HTTPNotFound()


_TESLALOGGER_PARTS = {"charge_start_stop": "control", "set_charging_amps": "amps",
                      "set_charge_limit": "soc"}  # fmt: skip


async def _set(car: CarController, wait: float | None, **changes: Any) -> web.Response:
    result = await car.set_intent(wait=wait, **changes)
    return answer(result, waited=bool(wait))


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(openapi_document())


# --- middlewares ----------------------------------------------------------------

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PUBLIC_PATHS = {"/openapi.json"}


@web.middleware
async def errors_as_json(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure is JSON that says what to do; a bug is logged, never served raw."""
    try:
        return await handler(request)
    except IntentError as e:
        return _refused(request, 400, str(e))
    except CarError as e:
        if e.status >= 500:
            return error_response(e.status, str(e), retry_after=e.retry_after)
        return _refused(request, e.status, str(e))
    except web.HTTPMethodNotAllowed as e:
        return error_response(405, f"{request.method} is not allowed here: use {_allowed(e)}")
    except web.HTTPNotFound:
        return _refused(request, 404, f"no such endpoint {request.path[:80]}: see /openapi.json")
    except web.HTTPException as e:
        return error_response(e.status, e.reason or "request refused")
    except Exception:
        logger.exception("wallbox API: %s %s failed", request.method, request.path_qs[:200])
        return error_response(500, "internal error, logged: please report it")


def _allowed(error: web.HTTPMethodNotAllowed) -> str:
    return ", ".join(sorted(m for m in error.allowed_methods if m != "HEAD")) or "GET"


def _refused(request: web.Request, status: int, message: str) -> web.Response:
    logger.info("wallbox API: %s %s: %d %s", request.method, request.path_qs[:200], status, message)
    return error_response(status, message)


@web.middleware
async def require_secret(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Other hosts must present the secret; this host is trusted, but not a
    connection this process's own proxy opened for someone else."""
    if request.path in PUBLIC_PATHS or _is_this_host(request):
        return await handler(request)
    if authorized(request.headers.get("Authorization"), request.app[SECRET]):
        return await handler(request)
    refused = request.app[REFUSED_CLIENTS]
    client = request.remote or "?"
    if client not in refused and len(refused) < _MAX_REFUSED_LOGGED:
        refused.add(client)  # once per client: a misconfigured poller must not flood the log
        logger.warning("wallbox API: refused %s without the right secret", client)
    response = error_response(
        401,
        "this host needs the wallbox secret: send `Authorization: Bearer <secret>` "
        "(the secret is wallbox_token, or the file wallbox_token in the data directory)",
    )
    response.headers["WWW-Authenticate"] = 'Bearer realm="wallbox"'
    return response


def _is_this_host(request: web.Request) -> bool:
    if not is_local_client(request.remote):
        return False
    proxied = request.app.get(PROXIED)
    if proxied is None:
        return True
    peer = request.transport.get_extra_info("peername") if request.transport else None
    return not proxied(tuple(peer[:2]) if peer else None)


# --- the application ------------------------------------------------------------


def make_app(
    controller: Controller,
    secret: str,
    *,
    run_controller: bool = True,
    proxied: Callable[[tuple[str, int] | None], bool] | None = None,
) -> web.Application:
    """The aiohttp application; with `run_controller` it also starts and stops the
    controller. `proxied(peer)`: whether a loopback peer is the proxy's own socket."""
    app = web.Application(middlewares=[errors_as_json, require_secret])
    app[CONTROLLER] = controller
    app[SECRET] = secret
    app[REFUSED_CLIENTS] = set()
    if proxied is not None:
        app[PROXIED] = proxied
    if run_controller:
        app.cleanup_ctx.append(_controller_running)
    app.router.add_get("/openapi.json", openapi, allow_head=False)
    app.router.add_get("/tlwb", list_cars, allow_head=False)
    app.router.add_get("/tlwb/{car}", combined, allow_head=False)
    app.router.add_get("/tlwb/{car}/status", status, allow_head=False)
    app.router.add_get("/tlwb/{car}/control", control, allow_head=False)
    app.router.add_get("/tlwb/{car}/set_amps", set_amps, allow_head=False)
    app.router.add_get("/tlwb/{car}/set_soc", set_soc, allow_head=False)
    app.router.add_get("/command/{car}/{command}", teslalogger_command, allow_head=False)
    ble_compat.add_routes(app, controller)  # TeslaBleHttpProxy's paths (ble_compat.py)
    page.add_routes(app, controller)  # the status page (page.py)
    return app


async def _controller_running(app: web.Application) -> AsyncIterator[None]:
    controller = app[CONTROLLER]
    controller.start()
    yield
    controller.stop()
