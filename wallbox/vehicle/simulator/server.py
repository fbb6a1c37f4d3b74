"""The simulator over HTTP, in the shape of one vehicle API: `owner` (the Owner API,
`closed`: as it answers third parties since June 2026), `fleet` (the Fleet API,
with tesla-http-proxy on a second port), `ble` (TeslaBleHttpProxy) or `relay`
(Teslemetry, MyTeslaMate, Tessie). One module per shape; this one assembles an
app from them, and `main` is `python -m wallbox.vehicle.simulator`."""

import argparse
import asyncio
import ssl

from aiohttp import web

from wallbox.clock import RealClock, ScaledClock
from wallbox.vehicle.simulator import ble_api, control, fleet_api, owner_api, signin
from wallbox.vehicle.simulator.common import FLEET, SITE, bearer_and_billing
from wallbox.vehicle.simulator.fleet import Fleet

SHAPES = ("owner", "fleet", "ble", "relay")


def make_app(fleet: Fleet, shape: str = "owner", *, closed: bool = False) -> web.Application:
    if shape not in SHAPES:
        raise ValueError(f"no shape {shape!r}: one of {', '.join(SHAPES)}")
    middlewares = [bearer_and_billing]
    if closed:
        middlewares.append(owner_api.closed)
    app = web.Application(middlewares=middlewares)
    app[FLEET] = fleet
    app[SITE] = {"fleet": "fleet_api", "relay": "relay"}.get(shape, shape)
    {
        "owner": owner_api.add_routes,
        "fleet": fleet_api.add_routes,
        "ble": ble_api.add_routes,
        "relay": fleet_api.relay_routes,
    }[shape](app)
    if shape in ("owner", "fleet"):
        signin.add_routes(app)  # the Owner API's SSO and the Fleet auth host, on one port
    control.add_routes(app)
    return app


def signing_proxy_app(fleet: Fleet) -> web.Application:
    """tesla-http-proxy in front of the simulated Fleet API: commands are signed here."""
    app = web.Application(middlewares=[bearer_and_billing])
    app[FLEET] = fleet
    app[SITE] = "signing_proxy"
    fleet_api.signing_routes(app)
    return app


async def serve(
    fleet: Fleet,
    host: str,
    port: int,
    ssl_context: ssl.SSLContext | None = None,
    app: web.Application | None = None,
) -> web.AppRunner:
    runner = web.AppRunner(app or make_app(fleet), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port, ssl_context=ssl_context).start()
    return runner


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A fake Tesla vehicle API for tests and demos.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5010)
    parser.add_argument("--shape", choices=SHAPES, default="owner", help="which API to play")
    parser.add_argument("--closed", action="store_true", help="owner: refuse all with 403")
    parser.add_argument("--signing-proxy-port", type=int, help="fleet: tesla-http-proxy here")
    parser.add_argument("--cars", type=int, default=1)
    parser.add_argument("--vin", action="append", default=[], help="the next car's VIN")
    parser.add_argument("--time-factor", type=float, default=1.0, help="simulated s per real s")
    parser.add_argument("--asleep", action="store_true", help="start with the cars asleep")
    parser.add_argument("--soc", type=float, default=40.0)
    parser.add_argument("--wake-delay", type=float, default=8.0, help="simulated seconds")
    parser.add_argument("--tls-cert", help="serve HTTPS with this certificate (PEM)")
    parser.add_argument("--tls-key", help="the certificate's private key (PEM)")
    parser.add_argument("--token", action="append", default=[], help="accept only this token")
    parser.add_argument("--client-id", default="", help="the token endpoint's only client id")
    parser.add_argument(
        "--refresh-token", action="append", default=[], help="a valid refresh token to start with"
    )
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
        vins=tuple(v.upper() for v in args.vin),
    )
    fleet.accepted_tokens = set(args.token)
    fleet.client_id = args.client_id
    fleet.refresh_tokens = set(args.refresh_token)
    context = None
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)

    async def run() -> None:
        app = make_app(fleet, args.shape, closed=args.closed)
        runners = [await serve(fleet, args.host, args.port, context, app)]
        scheme = "https" if context else "http"
        if args.signing_proxy_port:
            proxy = signing_proxy_app(fleet)
            runners.append(await serve(fleet, args.host, args.signing_proxy_port, context, proxy))
            print(f"signing proxy at {scheme}://{args.host}:{args.signing_proxy_port}", flush=True)
        vins = ", ".join(car.vin for car in fleet.cars)
        print(
            f"simulator ({args.shape}{', closed' if args.closed else ''}) listening at "
            f"{scheme}://{args.host}:{args.port} (cars: {vins})",
            flush=True,
        )
        try:
            await asyncio.Event().wait()
        finally:
            for runner in runners:
                await runner.cleanup()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
