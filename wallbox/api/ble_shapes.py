"""TeslaBleHttpProxy's answers (wimaha/TeslaBleHttpProxy 2.2, PROTOCOL.md 9), filled
from what the controller knows: pure, so a tool's poll is a lookup, never a call.

Every answer is `{"response": {"result", "reason", "vin", "command", "response"}}`,
HTTP 200 when `result` is true and 503 otherwise, as the proxy does.

Choices where teslahome knows more, or less, than the proxy:

- A sleeping car answers 200 with its last known charge_state (`state`:
  "asleep" beside it). The proxy answers 503 "vehicle is sleeping", which evcc's
  `tesla-ble` template turns into an error on every read (and its `vehicle-api`
  charger into a failed status), while a sleeping car's data is as good as new:
  it cannot be plugged in or out, or start charging, without waking. Only a car
  of which nothing is known yet answers 503 "vehicle is sleeping".
- A car at another charge point (charge_point.py) shows no session here:
  Disconnected, no current, no power, as `/tlwb` shows status 0; its SoC and
  limit stay true.
- "Starting" is reported as "Charging": evcc's template maps every state it
  does not name to `A` (no car), and a car closing its contactors is charging.
- Amps are what was last asked for (the intent while it is on its way), as a
  wallbox reports its offer: evcc compares them with what it set.
- The battery range is the last one read from the car (telemetry brings none: then
  0, the proxy's zero value); no cable type, lock state or climate data: teslahome
  does not keep them.
"""

import math
from collections.abc import Mapping
from typing import Any

from wallbox.vehicle.charge_state import ASLEEP, OFFLINE, ONLINE, ChargeState

OK = "The request was successfully processed."
RECEIVED = "The command was successfully received and will be processed shortly."
SLEEPING = "vehicle is sleeping"  # the proxy's words; tools that know it test for them
ENDPOINTS = ("charge_state", "climate_state")
COMMANDS = ("charge_start", "charge_stop", "set_charging_amps", "set_charge_limit", "wake_up")
_BODY_FIELD = {"set_charging_amps": "charging_amps", "set_charge_limit": "percent"}
_SLEEP_STATUS = {ONLINE: "VEHICLE_SLEEP_STATUS_AWAKE", ASLEEP: "VEHICLE_SLEEP_STATUS_ASLEEP"}


class Refused(ValueError):
    """A request answered with `result: false` (503) and this reason."""


def envelope(
    vin: str, command: str, result: bool, reason: str, inner: Any = None
) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) in the proxy's envelope; `response` omitted when empty."""
    body: dict[str, Any] = {"result": result, "reason": reason, "vin": vin, "command": command}
    if inner is not None:
        body["response"] = inner
    return (200 if result else 503), {"response": body}


def wanted_endpoints(raw: str | None) -> tuple[str, ...]:
    """`charge_state;climate_state` (both when not given); others refused as the proxy does."""
    names = tuple(n for n in (raw or ";".join(ENDPOINTS)).split(";") if n)
    for name in names:
        if name not in ENDPOINTS:
            raise Refused(f'The endpoint "{name[:40]}" is not supported.')
    return names or ENDPOINTS


def charging_state(status: Mapping[str, Any]) -> str:
    """Tesla's charging_state as evcc's template should see it at this charge point."""
    if status.get("at_charge_point") is False or status.get("plugged_in") is not True:
        return "Disconnected"
    state = status.get("charging_state") or "Stopped"
    return "Charging" if state == "Starting" else state


def charge_state(
    status: Mapping[str, Any], car: ChargeState | None, wall_now: float
) -> dict[str, Any]:
    """Tesla's charge_state from the controller's status (and the snapshot behind it)."""
    state = charging_state(status)
    here = state != "Disconnected"
    soc = status.get("soc")
    soc = math.floor(soc) if isinstance(soc, int | float) else None
    amps_now = (status.get("amps") or 0) if here else 0
    kw = car.charger_power if car is not None and car.charger_power is not None else None
    kw = round(kw if kw is not None else (status.get("power") or 0) / 1000)  # the proxy's int32
    hours = car.time_to_full_charge if car is not None and here else None
    fast = bool(car is not None and car.fast_charger_present and here)
    fast_type = (car.fast_charger_type if car is not None and fast else None) or "<invalid>"
    age = status.get("age") or 0.0
    return {
        "battery_level": soc,
        "usable_battery_level": soc,
        # unknown: the proxy's zero value; null would be a parse error on every evcc read
        "battery_range": (car.battery_range if car is not None else None) or 0.0,
        "charging_state": state,
        "charge_limit_soc": status.get("limitsoc"),
        "charge_amps": status.get("targetamp"),
        "charge_current_request": status.get("targetamp"),
        "charge_current_request_max": status.get("carmaxamp"),
        "charger_pilot_current": status.get("maxamp") if here else 0,
        "charger_actual_current": amps_now,
        "charger_voltage": (status.get("volts") or 0) if here else 0,
        "charger_phases": (status.get("phases") or None) if here else None,
        "charger_power": kw if here else 0,
        "charge_energy_added": status.get("energy"),
        "charge_enable_request": bool(status.get("enabled")),
        "time_to_full_charge": hours,
        "minutes_to_full_charge": round(hours * 60) if hours is not None else None,
        "charge_port_door_open": here,
        "fast_charger_present": fast,
        "fast_charger_type": fast_type,
        "timestamp": round(wall_now - age),  # Unix seconds, as the proxy sends it
    }


def vehicle_data(
    status: Mapping[str, Any],
    car: ChargeState | None,
    endpoints: tuple[str, ...],
    wall_now: float,
) -> tuple[int, dict[str, Any]]:
    """`vehicle_data`: what is known, asleep or awake; 503 only when nothing is."""
    vin = status.get("vin") or ""
    car_state = status.get("car_state") or "unknown"
    if car is None or not car.has_charge_data:
        reason = SLEEPING if car_state in (ASLEEP, OFFLINE) else "no charge data yet: teslahome "
        if reason != SLEEPING:
            reason += "has not read the car since it started; it reads it when a command needs it"
        return envelope(vin, "vehicle_data", False, reason)
    inner: dict[str, Any] = {"state": car_state}
    if "charge_state" in endpoints:
        inner["charge_state"] = charge_state(status, car, wall_now)
    if "climate_state" in endpoints:
        inner["climate_state"] = {}  # not known here: no climate read is ever made
    reason = OK if car_state == ONLINE else f"{OK} The car is {car_state}: its last known state."
    return envelope(vin, "vehicle_data", True, reason, inner)


def body_controller_state(status: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
    """The sleep status as teslahome last learnt it; never a call, never a wake-up."""
    inner: dict[str, Any] = {
        "vehicle_sleep_status": _SLEEP_STATUS.get(
            status.get("car_state") or "", "VEHICLE_SLEEP_STATUS_UNKNOWN"
        ),
        "user_presence": "VEHICLE_USER_PRESENCE_UNKNOWN",  # teslahome never learns it
    }
    if status.get("plugged_in") is True:
        inner["closure_statuses"] = {"charge_port": "CLOSURESTATE_OPEN"}  # a cable is in it
    return envelope(status.get("vin") or "", "body-controller-state", True, OK, inner)


def intent_change(command: str, body: Any) -> dict[str, Any]:
    """What `set_intent` gets for a command and its JSON body; raises Refused."""
    if command == "charge_start":
        return {"charging": True}
    if command == "charge_stop":
        return {"charging": False}
    if command == "wake_up":
        return {"wake": True}
    if command not in _BODY_FIELD:
        known = ", ".join(COMMANDS)
        raise Refused(f"unrecognized command: {command[:40]}; this proxy knows {known}")
    field = _BODY_FIELD[command]
    value = body.get(field) if isinstance(body, Mapping) else None
    number = _whole(value)
    if number is None:
        wanted = f'{command} needs a JSON body {{"{field}": <whole number>}}'
        raise Refused(f"{wanted}, got {value!r}"[:200])
    return {"amps": number} if field == "charging_amps" else {"target_soc": number}


def _whole(value: Any) -> int | None:
    """A whole number, also as a float (16.0) or text ("16"), as templates render it."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return None


def waits(query_value: str | None) -> bool:
    """`?wait=true`: answer once the car has done it (or refused)."""
    return (query_value or "").strip().lower() in ("true", "1")
