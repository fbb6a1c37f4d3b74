"""TeslaBleHttpProxy's wire, as pure rules (wimaha/TeslaBleHttpProxy, read in its
internal/api/routes/routes.go, internal/api/handlers/tesla.go,
internal/ble/control/control.go and internal/api/models/):

- Paths, VIN only, no car list and no summary: `GET /api/1/vehicles/{vin}/vehicle_data`
  (`endpoints` may name only charge_state and climate_state; `wakeup=true` wakes
  first), `GET .../body_controller_state` (over BLE's security domain, never
  wakes), `POST .../command/{name}` (wake_up is a command here; `wait=true`
  answers once the car has answered, otherwise at once with result true).
- Every answer is `{"response": {"result", "reason", "vin", "command", "response"}}`,
  the data one level deeper than the Fleet API's; `result: false` comes with
  HTTP 503 and the reason in words: "vehicle is sleeping" (data while asleep,
  its issue #151), "Vehicle is not in range: ...", "BleControl is not
  initialized. Maybe private.pem is missing.", or vehicle-command's error
  ("failed to start charge: car could not execute command: disconnected").
- It already counts is_charging and complete (charge_start) and not_charging
  (charge_stop) as success.
- body_controller_state's sleep status is `vehicle_sleep_status` since June 2025
  (`vehicleSleepStatus`, protojson, before): VEHICLE_SLEEP_STATUS_AWAKE, _ASLEEP,
  _UNKNOWN.
"""

from typing import Any

from wallbox.vehicle.answers import error_from_http, refusal_reason
from wallbox.vehicle.charge_state import ASLEEP, ONLINE, UNKNOWN
from wallbox.vehicle.errors import (
    Asleep,
    BackendError,
    CommandRefused,
    NotConfigured,
    Unavailable,
)

DATA_ENDPOINTS = "charge_state"  # location_data is refused: "The endpoint ... is not supported."
COMMAND_PARAMS = {"wait": "true"}  # without it, "received and will be processed shortly"


def vehicle_path(vin: str, tail: str) -> str:
    return f"api/1/vehicles/{vin}/{tail}"


def unwrap(body: Any) -> tuple[bool, str, Any]:
    """(result, reason, inner response) of an answer; raises Unavailable for other shapes."""
    outer = body.get("response") if isinstance(body, dict) else None
    if not isinstance(outer, dict) or "result" not in outer:
        raise Unavailable("TeslaBleHttpProxy answered without `response.result`")
    return bool(outer["result"]), str(outer.get("reason") or ""), outer.get("response")


def sleep_state(status: Any) -> str:
    """online / asleep / unknown from body_controller_state's inner response."""
    if not isinstance(status, dict):
        return UNKNOWN
    value = status.get("vehicle_sleep_status", status.get("vehicleSleepStatus"))
    text = str(value or "").upper()
    if text.endswith("_ASLEEP"):
        return ASLEEP
    if text.endswith("_AWAKE"):
        return ONLINE
    return UNKNOWN


def failure(
    status: int,
    reason: str,
    retry_after: str | None,
    now_epoch: float,
    what: str,
    command: str | None = None,
) -> BackendError:
    """The typed error for an answer with `result: false` or a non-2xx status."""
    text = reason.lower()
    detail = f"{what}: TeslaBleHttpProxy answered {status}" + (f" ({reason})" if reason else "")
    if "vehicle is sleeping" in text:
        return Asleep(f"{detail}: the car is asleep")
    if "not in range" in text:
        return Unavailable(
            f"{detail}: the car is not within Bluetooth range of TeslaBleHttpProxy "
            "(away from home, or the proxy's Bluetooth is down); retrying"
        )
    if "blecontrol is not initialized" in text or "private.pem" in text:
        return NotConfigured(
            f"{detail}: TeslaBleHttpProxy has no key for the car yet: generate one on its "
            "dashboard (http://<its host>:8080/dashboard) and confirm it in the car"
        )
    if command is not None and "could not execute command" in text:
        return CommandRefused(command, refusal_reason(reason))
    if status == 503:
        return Unavailable(f"{detail}; retrying")
    return error_from_http(status, reason, retry_after, now_epoch, what)
