"""TeslaBleHttpProxy's shape (wimaha/TeslaBleHttpProxy, its handlers and routes; the
facts are listed in wallbox/vehicle/ble_wire.py): no car list, VIN paths,
answers nested one level deeper, 503 with the reason in words whenever
`result` is false, `vehicle_data` refusing a sleeping car ("vehicle is
sleeping") and endpoints other than charge_state/climate_state,
`body_controller_state` that never wakes, `wake_up` as a command, and commands
that wake a sleeping car themselves. Nothing here is billed: it is Bluetooth."""

from typing import Any

from aiohttp import web

from wallbox.vehicle.simulator.common import FLEET, json_body
from wallbox.vehicle.simulator.fleet import SimError

ENDPOINTS = ("charge_state", "climate_state")
# What the proxy counts as done, although the car said no (its commands.go).
DONE_ANYWAY = {"charge_start": ("is_charging", "complete"), "charge_stop": ("not_charging",)}
AWAY = "Vehicle is not in range: context deadline exceeded"  # no beacon for this VIN
FAILED = {
    "charge_start": "failed to start charge",
    "charge_stop": "failed to stop charge",
    "set_charging_amps": "failed to set charging Amps",
    "set_charge_limit": "failed to set charge limit",
}


def _words(error: SimError) -> str:
    """The proxy's words for what the account's rules say."""
    if error.status == 408:
        return "vehicle is sleeping"
    if error.status == 404:
        return AWAY
    return error.reason


def _answer(vin: str, command: str, result: bool, reason: str, inner: Any = None):
    body: dict[str, Any] = {"result": result, "reason": reason, "vin": vin, "command": command}
    if inner is not None:
        body["response"] = inner
    return web.json_response({"response": body}, status=200 if result else 503)


async def _vehicle_data(request: web.Request) -> web.Response:
    fleet, vin = request.app[FLEET], request.match_info["vin"]
    wanted = (request.query.get("endpoints") or "charge_state;climate_state").split(";")
    for endpoint in wanted:
        if endpoint not in ENDPOINTS:
            return _answer(
                vin, "vehicle_data", False, f'The endpoint "{endpoint}" is not supported.'
            )
    try:
        data = fleet.vehicle_data(vin)
    except SimError as e:
        return _answer(vin, "vehicle_data", False, _words(e))
    inner = {"charge_state": data["charge_state"]}
    if "climate_state" in wanted:
        inner["climate_state"] = {"inside_temp": 21.0, "outside_temp": 12.0}
    return _answer(vin, "vehicle_data", True, "The request was successfully processed.", inner)


async def _body_controller_state(request: web.Request) -> web.Response:
    fleet, vin = request.app[FLEET], request.match_info["vin"]
    try:
        state = fleet.body_controller_state(vin)
    except SimError as e:
        return _answer(vin, "body-controller-state", False, _words(e))
    return _answer(
        vin, "body-controller-state", True, "The request was successfully processed.", state
    )


async def _command(request: web.Request) -> web.Response:
    fleet, vin, name = request.app[FLEET], request.match_info["vin"], request.match_info["command"]
    try:
        body = await json_body(request)
        if name == "wake_up":
            fleet.wake_up(vin, "ble")
            return _answer(vin, name, True, "The command was successfully processed.")
        fleet.wake_now(vin)  # commands wake the car first, over BLE
        answer = fleet.command(vin, name, body, "ble")
    except SimError as e:
        return _answer(vin, name, False, _words(e))
    if request.query.get("wait") != "true":
        return _answer(
            vin, name, True, "The command was successfully received and will be processed shortly."
        )
    if answer["result"] or answer["reason"] in DONE_ANYWAY.get(name, ()):
        return _answer(vin, name, True, "The command was successfully processed.")
    failed = FAILED.get(name, f"failed to {name}")
    return _answer(vin, name, False, f"{failed}: car could not execute command: {answer['reason']}")


async def _version(request: web.Request) -> web.Response:
    return web.json_response({"version": "simulated"})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/1/vehicles/{vin}/vehicle_data", _vehicle_data)
    app.router.add_get("/api/1/vehicles/{vin}/body_controller_state", _body_controller_state)
    app.router.add_post("/api/1/vehicles/{vin}/command/{command}", _command)
    app.router.add_get("/api/proxy/1/version", _version)
