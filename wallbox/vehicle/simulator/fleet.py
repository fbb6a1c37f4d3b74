"""A fake Tesla vehicle API: cars that sleep, wake, charge and refuse, on loopback.

Tests and `make demo` use it instead of Tesla; the benchmark counts its calls.

    python -m wallbox.vehicle.simulator --port 5010 [--cars 2] [--time-factor 60] [--asleep]

What it plays:
- Owner-API paths by id and the VIN paths of the Fleet API, tesla-http-proxy
  and TeslaBleHttpProxy: `/api/1/vehicles`, `/api/1/vehicles/{id|vin}`,
  `.../vehicle_data`, `.../wake_up`, `.../command/{name}`; a token endpoint
  `/oauth2/v3/token` for refreshes.
- Sleep: data and commands answer 408 while a car sleeps; `wake_up` wakes it
  after `wake_delay` seconds. A car can fall asleep after `sleep_after` idle
  seconds (off by default: tests put it to sleep on purpose).
- Charging physics: the SoC rises with phases x volts x amps over (scaled) time
  and stops at the limit (charging_state Complete).
- Refusals as the real API words them: complete, is_charging, not_charging,
  disconnected, already_set; amps under 5 A take effect only when sent twice
  while charging (PROTOCOL.md 5).
- Faults on demand: answer N requests with 429 + Retry-After, 401, 503.
- A call counter per endpoint, at `GET /sim/calls`, so tests and benchmarks
  count what a real account would be billed for, with the bearer tokens the
  calls carried (`bearer`); with `--token` (or `POST /sim/tokens`) only those
  tokens are accepted, others get 401. `--tls-cert`/`--tls-key` serve HTTPS,
  the only way a real client sends a token.

Control endpoints for tests (JSON): `GET /sim/cars`, `POST /sim/cars/{vin}`
(plug in/out, move, sleep, set SoC ...), `GET /sim/cars/{vin}/data` (the car's
data, uncounted, for a fake TeslaMate), `POST /sim/faults`, `DELETE /sim/faults`,
`POST /sim/calls/reset`.
"""

import argparse
import asyncio
import logging
import math
import ssl
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from aiohttp import web

from wallbox.clock import Clock, RealClock, ScaledClock
from wallbox.vehicle.backend import (
    Command,
    CommandRefused,
    Vehicle,
    command_body,
    error_from_http,
)
from wallbox.vehicle.charge_state import ChargeState, from_vehicle_data

logger = logging.getLogger(__name__)

HOME = (48.137400, 11.575500)  # where simulated cars are parked unless moved


@dataclass
class SimCar:
    vin: str
    id: int
    name: str
    state: str = "online"  # online / asleep / offline
    wake_delay: float = 8.0
    sleep_after: float | None = None
    plugged_in: bool = True
    charging: bool = False
    complete: bool = False
    no_power: bool = False  # the charger offers nothing: the car accepts charge_start, draws 0
    soc: float = 40.0
    capacity_kwh: float = 75.0
    limit: int = 80
    amps_request: int = 16
    amps_max: int = 16
    pilot: int = 16
    phases: int = 3
    volts: int = 230
    energy_added: float = 0.0
    latitude: float = HOME[0]
    longitude: float = HOME[1]
    waking_until: float | None = None
    last_activity: float = 0.0
    low_amps_pending: int | None = None  # first of the two sends of a value under 5 A
    commands: list[tuple[float, str, Any]] = field(default_factory=list)  # (time, name, value)

    def charging_state(self) -> str:
        if not self.plugged_in:
            return "Disconnected"
        if self.charging:
            return "NoPower" if self.no_power else "Charging"
        if self.complete:
            return "Complete"
        return "Stopped"

    def amps(self) -> int:
        if not self.charging or self.no_power or not self.plugged_in:
            return 0
        return max(0, min(self.amps_request, self.pilot, self.amps_max))

    def power_kw(self) -> float:
        return self.phases * self.volts * self.amps() / 1000.0

    def advance(self, dt: float, now: float) -> None:
        if self.waking_until is not None and now >= self.waking_until:
            self.state, self.waking_until, self.last_activity = "online", None, now
        if dt <= 0:
            return
        power = self.power_kw()
        if power > 0 and self.state == "online":
            if self.soc >= self.limit:
                self.charging, self.complete = False, True
            else:
                needed_h = (self.limit - self.soc) / 100.0 * self.capacity_kwh / power
                hours = min(dt / 3600.0, needed_h)
                energy = power * hours
                self.energy_added += energy
                self.soc = min(100.0, self.soc + energy / self.capacity_kwh * 100.0)
                if hours >= needed_h:
                    self.soc = float(self.limit)
                    self.charging, self.complete = False, True
        if self.charging:
            self.last_activity = now
        elif (
            self.sleep_after is not None
            and self.state == "online"
            and now - self.last_activity >= self.sleep_after
        ):
            self.state = "asleep"

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "id_s": str(self.id),
            "vehicle_id": self.id + 1000,
            "vin": self.vin,
            "display_name": self.name,
            "state": self.state,
            "in_service": False,
        }

    def vehicle_data(self, now_epoch: float) -> dict[str, Any]:
        amps = self.amps()
        charging = self.charging_state() in ("Charging", "NoPower")
        return {
            **self.summary(),
            "charge_state": {
                "battery_level": math.floor(self.soc),
                "usable_battery_level": math.floor(self.soc),
                "charge_limit_soc": self.limit,
                "charging_state": self.charging_state(),
                "charge_current_request": self.amps_request,
                "charge_current_request_max": self.amps_max,
                "charger_pilot_current": self.pilot if self.plugged_in else 0,
                "charger_actual_current": amps,
                "charger_voltage": self.volts if amps else (2 if self.plugged_in else 0),
                "charger_power": round(self.power_kw()),
                # the car reports 2 phases on many 3-phase chargers: never trust it
                "charger_phases": (2 if self.phases == 3 else self.phases) if charging else None,
                "charge_energy_added": round(self.energy_added, 2),
                "charge_port_door_open": self.plugged_in,
                "time_to_full_charge": self._time_to_full(),
                "timestamp": int(now_epoch * 1000),
            },
            "drive_state": {
                "latitude": self.latitude,
                "longitude": self.longitude,
                "shift_state": None,
                "timestamp": int(now_epoch * 1000),
            },
        }

    def _time_to_full(self) -> float:
        power = self.power_kw()
        if power <= 0 or self.soc >= self.limit:
            return 0.0
        return round((self.limit - self.soc) / 100.0 * self.capacity_kwh / power, 2)


class SimError(Exception):
    """An HTTP error answer: status, reason text, optional Retry-After."""

    def __init__(self, status: int, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.retry_after = retry_after


@dataclass
class Fault:
    status: int
    count: int = 1
    retry_after: float | None = None
    match: str = ""  # only endpoints whose name contains this


# Endpoint names counted per call; "kind" is what Tesla bills it as.
KINDS = {"vehicles": "data", "summary": "data", "vehicle_data": "data", "wake_up": "wake"}


class Fleet:
    """The simulated account: cars, time, faults and the call counter."""

    def __init__(self, cars: list[SimCar], clock: Clock | None = None) -> None:
        self.cars = cars
        self.clock = clock or RealClock()
        self.calls: Counter[str] = Counter()
        self.bearer: Counter[str] = Counter()  # tokens the API calls carried
        self.accepted_tokens: set[str] = set()  # empty: any token, or none
        self.faults: list[Fault] = []
        self._advanced_to = self.clock.now()
        for car in cars:
            car.last_activity = self._advanced_to

    @classmethod
    def with_cars(cls, count: int = 1, clock: Clock | None = None, **settings: Any) -> "Fleet":
        cars = [
            SimCar(vin=f"5YJ3SIM0000{n:06d}", id=9_000_000 + n, name=f"Sim {n}", **settings)
            for n in range(1, count + 1)
        ]
        return cls(cars, clock)

    # --- time -----------------------------------------------------------------

    def advance(self) -> None:
        now = self.clock.now()
        dt = now - self._advanced_to
        self._advanced_to = now
        for car in self.cars:
            car.advance(dt, now)

    def car(self, key: str) -> SimCar:
        for car in self.cars:
            if key in (car.vin, str(car.id)):
                return car
        raise SimError(404, f"no vehicle {key}")

    # --- the API, as the HTTP layer and SimulatedBackend both use it -------------

    def _call(self, endpoint: str) -> None:
        """Count the call, then play a queued fault if one matches."""
        self.advance()
        self.calls[endpoint] += 1
        for fault in self.faults:
            if fault.count > 0 and fault.match in endpoint:
                fault.count -= 1
                self.faults = [f for f in self.faults if f.count > 0]
                raise SimError(fault.status, "simulated fault", fault.retry_after)

    def list_vehicles(self) -> list[dict[str, Any]]:
        self._call("vehicles")
        return [car.summary() for car in self.cars]

    def summary(self, key: str) -> dict[str, Any]:
        self._call("summary")
        return self.car(key).summary()

    def vehicle_data(self, key: str) -> dict[str, Any]:
        self._call("vehicle_data")
        car = self.car(key)
        if car.state != "online":
            raise SimError(408, f"vehicle unavailable: {car.state}")
        car.last_activity = self.clock.now()
        return car.vehicle_data(self.clock.wall())

    def wake_up(self, key: str) -> dict[str, Any]:
        self._call("wake_up")
        car = self.car(key)
        now = self.clock.now()
        if car.state != "online" and car.waking_until is None:
            car.waking_until = now + car.wake_delay
            car.advance(0, now)  # a zero delay wakes at once
        return car.summary()

    def command(self, key: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
        self._call(f"command/{name}")
        car = self.car(key)
        if car.state != "online":
            raise SimError(408, f"vehicle unavailable: {car.state}")
        now = self.clock.now()
        car.last_activity = now
        reason = self._execute(car, name, body)
        car.commands.append((now, name, body))
        return {"result": reason is None, "reason": reason or ""}

    def _execute(self, car: SimCar, name: str, body: dict[str, Any]) -> str | None:
        """Apply a command; returns the refusal reason, or None when done."""
        if name == "charge_start":
            if not car.plugged_in:
                return "disconnected"
            if car.charging and not car.no_power:
                return "is_charging"
            if car.soc >= car.limit:
                car.complete = True
                return "complete"
            car.charging, car.complete = True, False
            return None
        if name == "charge_stop":
            if not car.charging:
                return "not_charging"
            car.charging = False
            return None
        if name == "set_charging_amps":
            amps = _number(body.get("charging_amps"))
            if amps is None:
                return "invalid charging_amps"
            amps = max(0, min(int(amps), car.amps_max))
            if amps < 5:
                # The quirk: under 5 A counts only as the second of two sends while charging.
                if car.charging and car.low_amps_pending == amps:
                    car.amps_request, car.low_amps_pending = amps, None
                elif car.charging:
                    car.amps_request, car.low_amps_pending = 5, amps
                return None
            car.amps_request, car.low_amps_pending = amps, None
            return None
        if name == "set_charge_limit":
            percent = _number(body.get("percent"))
            if percent is None or not 50 <= percent <= 100:
                return "invalid charge limit"
            if int(percent) == car.limit:
                return "already_set"
            car.limit = int(percent)
            if car.soc < car.limit:
                car.complete = False
            return None
        return f"unknown command {name}"

    # --- control, for tests ---------------------------------------------------

    def patch(self, key: str, changes: dict[str, Any]) -> SimCar:
        self.advance()
        car = self.car(key)
        allowed = set(SimCar.__dataclass_fields__) - {"vin", "id", "commands", "waking_until"}
        unknown = set(changes) - allowed
        if unknown:
            raise SimError(400, f"unknown fields {sorted(unknown)}; known: {sorted(allowed)}")
        for name, value in changes.items():
            setattr(car, name, value)
        if "state" in changes and changes["state"] != "online":
            car.charging, car.waking_until = False, None
        if "plugged_in" in changes:
            car.charging, car.complete, car.low_amps_pending = False, False, None
            if changes["plugged_in"]:
                car.energy_added = 0.0
        if "soc" in changes or "limit" in changes:
            car.complete = car.soc >= car.limit and not car.charging
        car.last_activity = self.clock.now()
        return car

    def calls_report(self) -> dict[str, Any]:
        by_kind: Counter[str] = Counter()
        for endpoint, n in self.calls.items():
            by_kind[KINDS.get(endpoint, "command")] += n
        return {
            "total": sum(self.calls.values()),
            "by_kind": dict(by_kind),
            "by_endpoint": dict(self.calls),
            "bearer": dict(self.bearer),
        }


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):  # TeslaBleHttpProxy's README sends amps as a string
        try:
            return float(value)
        except ValueError:
            return None
    return None


# --- the in-process back-end ----------------------------------------------------


class SimulatedBackend:
    """A VehicleBackend on a Fleet, without HTTP: controller tests run it on fake time."""

    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet

    def _error(self, error: SimError, what: str):
        return error_from_http(
            error.status,
            error.reason,
            None if error.retry_after is None else str(error.retry_after),
            self.fleet.clock.wall(),
            what,
        )

    async def vehicles(self) -> list[Vehicle]:
        try:
            listed = self.fleet.list_vehicles()
        except SimError as e:
            raise self._error(e, "list vehicles") from None
        return [Vehicle(v["vin"], v["id_s"], v["display_name"], v["state"]) for v in listed]

    async def summary(self, car: Vehicle) -> str:
        try:
            return self.fleet.summary(car.id or car.vin)["state"]
        except SimError as e:
            raise self._error(e, "read the sleep state") from None

    async def charge_state(self, car: Vehicle, read_at: float) -> ChargeState:
        try:
            data = self.fleet.vehicle_data(car.id or car.vin)
        except SimError as e:
            raise self._error(e, "read the charge state") from None
        return from_vehicle_data(data, read_at)

    async def wake_up(self, car: Vehicle) -> str:
        try:
            return self.fleet.wake_up(car.id or car.vin)["state"]
        except SimError as e:
            raise self._error(e, "wake up") from None

    async def command(self, car: Vehicle, command: Command, value: int | None = None) -> None:
        body = command_body(command, value)
        try:
            answer = self.fleet.command(car.id or car.vin, command.value, body)
        except SimError as e:
            raise self._error(e, command.value) from None
        if not answer["result"]:
            raise CommandRefused(command.value, answer["reason"])

    def close(self) -> None:
        pass


# --- HTTP -----------------------------------------------------------------------

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
