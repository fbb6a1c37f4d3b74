"""The simulator over HTTP: the vehicle API's paths, bearer tokens, and the
`/sim/...` control endpoints for tests; `main` is `python -m wallbox.vehicle.simulator`."""

import argparse
import asyncio
import math
import ssl
from dataclasses import asdict
from typing import Any

from aiohttp import web

from wallbox.clock import RealClock, ScaledClock
from wallbox.vehicle.simulator.car import SimCar
from wallbox.vehicle.simulator.fleet import Fault, Fleet, SimError

FLEET = web.AppKey("fleet", Fleet)


def _fail(error: SimError) -> web.Response:
    headers = {}
    if error.retry_after is not None:
        headers["Retry-After"] = str(math.ceil(error.retry_after))
    body = {"response": None, "error": error.reason, "error_description": ""}
    return web.json_response(body, status=error.status, headers=headers)


def _api(handler):
    async def wrapped(request: web.Request) -> web.Response:
        try:
            return web.json_response({"response": handler(request.app[FLEET], request)})
        except SimError as e:
            return _fail(e)

    return wrapped


async def _command(request: web.Request) -> web.Response:
    fleet = request.app[FLEET]
    try:
        body = await request.json() if request.can_read_body else {}
    except ValueError:
        return _fail(SimError(400, "the body is not JSON"))
    if not isinstance(body, dict):
        return _fail(SimError(400, "the body must be a JSON object"))
    try:
        answer = fleet.command(request.match_info["car"], request.match_info["name"], body)
    except SimError as e:
        return _fail(e)
    return web.json_response({"response": answer})


async def _token(request: web.Request) -> web.Response:
    fleet = request.app[FLEET]
    fleet.calls["token"] += 1
    n = fleet.calls["token"]
    return web.json_response(
        {
            "access_token": f"sim-access-{n}",
            "refresh_token": f"sim-refresh-{n}",
            "id_token": "",
            "expires_in": 28800,
            "token_type": "Bearer",
        }
    )


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
        return _fail(e)
    return web.json_response(car.vehicle_data(fleet.clock.wall()))


async def _patch_car(request: web.Request) -> web.Response:
    fleet = request.app[FLEET]
    try:
        changes = await request.json()
        if not isinstance(changes, dict):
            raise ValueError
        car = fleet.patch(request.match_info["vin"], changes)
    except ValueError:
        return _fail(SimError(400, "send a JSON object of fields to change"))
    except SimError as e:
        return _fail(e)
    return web.json_response(_public(car))


async def _add_fault(request: web.Request) -> web.Response:
    fleet = request.app[FLEET]
    try:
        spec = await request.json()
        fleet.faults.append(Fault(**spec))
    except (ValueError, TypeError) as e:
        return _fail(SimError(400, f"a fault is {{status, count, retry_after, match}}: {e}"))
    return web.json_response([asdict(f) for f in fleet.faults])


async def _clear_faults(request: web.Request) -> web.Response:
    request.app[FLEET].faults.clear()
    return web.json_response([])


async def _calls(request: web.Request) -> web.Response:
    return web.json_response(request.app[FLEET].calls_report())


async def _reset_calls(request: web.Request) -> web.Response:
    request.app[FLEET].calls.clear()
    request.app[FLEET].bearer.clear()
    return web.json_response(request.app[FLEET].calls_report())


async def _set_tokens(request: web.Request) -> web.Response:
    """`{"accepted": [...]}`: only these bearer tokens from now on ([]: any)."""
    fleet = request.app[FLEET]
    try:
        body = await request.json()
        fleet.accepted_tokens = {str(t) for t in body["accepted"]}
    except (ValueError, TypeError, KeyError):
        return _fail(SimError(400, 'send {"accepted": ["token", ...]}'))
    return web.json_response({"accepted": sorted(fleet.accepted_tokens)})


@web.middleware
async def _bearer(request: web.Request, handler) -> web.StreamResponse:
    """Record the token of every API call; refuse tokens not accepted (401, as Tesla)."""
    if not request.path.startswith("/api/"):
        return await handler(request)
    fleet = request.app[FLEET]
    auth = request.headers.get("Authorization", "")
    token = auth[7:] if auth.lower().startswith("bearer ") else ""
    if token:
        fleet.bearer[token] += 1
    if fleet.accepted_tokens and token not in fleet.accepted_tokens:
        fleet.calls["unauthorized"] += 1
        return _fail(SimError(401, "invalid bearer token"))
    return await handler(request)


def _public(car: SimCar) -> dict[str, Any]:
    data = asdict(car)
    data["charging_state"] = car.charging_state()
    data["commands"] = [[round(t, 1), name, value] for t, name, value in car.commands]
    return data


def make_app(fleet: Fleet) -> web.Application:
    app = web.Application(middlewares=[_bearer])
    app[FLEET] = fleet
    app.router.add_get("/api/1/vehicles", _api(lambda f, r: f.list_vehicles()))
    app.router.add_get("/api/1/products", _api(lambda f, r: f.list_vehicles()))
    app.router.add_get("/api/1/vehicles/{car}", _api(lambda f, r: f.summary(r.match_info["car"])))
    app.router.add_get(
        "/api/1/vehicles/{car}/vehicle_data",
        _api(lambda f, r: f.vehicle_data(r.match_info["car"])),
    )
    app.router.add_post(
        "/api/1/vehicles/{car}/wake_up", _api(lambda f, r: f.wake_up(r.match_info["car"]))
    )
    app.router.add_post("/api/1/vehicles/{car}/command/{name}", _command)
    app.router.add_post("/oauth2/v3/token", _token)
    app.router.add_get("/sim/cars", _cars)
    app.router.add_post("/sim/cars/{vin}", _patch_car)
    app.router.add_get("/sim/cars/{vin}/data", _car_data)
    app.router.add_post("/sim/faults", _add_fault)
    app.router.add_delete("/sim/faults", _clear_faults)
    app.router.add_get("/sim/calls", _calls)
    app.router.add_post("/sim/calls/reset", _reset_calls)
    app.router.add_post("/sim/tokens", _set_tokens)
    return app


async def serve(
    fleet: Fleet, host: str, port: int, ssl_context: ssl.SSLContext | None = None
) -> web.AppRunner:
    runner = web.AppRunner(make_app(fleet), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port, ssl_context=ssl_context).start()
    return runner


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A fake Tesla vehicle API for tests and demos.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5010)
    parser.add_argument("--cars", type=int, default=1)
    parser.add_argument("--time-factor", type=float, default=1.0, help="simulated s per real s")
    parser.add_argument("--asleep", action="store_true", help="start with the cars asleep")
    parser.add_argument("--soc", type=float, default=40.0)
    parser.add_argument("--wake-delay", type=float, default=8.0, help="simulated seconds")
    parser.add_argument("--tls-cert", help="serve HTTPS with this certificate (PEM)")
    parser.add_argument("--tls-key", help="the certificate's private key (PEM)")
    parser.add_argument("--token", action="append", default=[], help="accept only this token")
    args = parser.parse_args(argv)
    if not 1 <= args.cars <= 9:
        parser.error("--cars must be 1..9")
    clock = ScaledClock(args.time_factor) if args.time_factor != 1 else RealClock()
    fleet = Fleet.with_cars(
        args.cars,
        clock,
        state="asleep" if args.asleep else "online",
        soc=args.soc,
        wake_delay=args.wake_delay,
    )
    fleet.accepted_tokens = set(args.token)
    context = None
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)

    async def run() -> None:
        runner = await serve(fleet, args.host, args.port, context)
        vins = ", ".join(car.vin for car in fleet.cars)
        scheme = "https" if context else "http"
        print(
            f"simulator listening at {scheme}://{args.host}:{args.port} (cars: {vins})", flush=True
        )
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
