"""The vehicle back-end: the few things the controller asks of a car's API.

Modelled on evcc's tiny charger interface: list the cars, read without waking,
wake, send a command. One module per back-end, each behind this protocol:
`ble_backend` (TeslaBleHttpProxy), `fleet_backend` (the Fleet API with the
user's own app, commands through tesla-http-proxy), `relay_backend`
(Teslemetry, MyTeslaMate, Tessie), `teslapy_backend` (the Owner API and any
Owner-shaped URL), `unconfigured` (none chosen yet), and
`simulator.SimulatedBackend` (in-process, for tests). Every failure is one of
the typed errors of errors.py, so the controller decides retries by kind, never
by parsing messages; answers.py says which status means which error.
"""

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from wallbox.vehicle.answers import error_from_http, parse_retry_after
from wallbox.vehicle.charge_state import ChargeState
from wallbox.vehicle.errors import (
    ApiClosed,
    Asleep,
    BackendError,
    CommandRefused,
    NotConfigured,
    NotFound,
    RateLimited,
    Unauthorized,
    Unavailable,
)

__all__ = [
    "ApiClosed",
    "Asleep",
    "BackendError",
    "Command",
    "CommandRefused",
    "NotConfigured",
    "NotFound",
    "RateLimited",
    "Unauthorized",
    "Unavailable",
    "Vehicle",
    "VehicleBackend",
    "command_body",
    "error_from_http",
    "parse_retry_after",
]


class Command(StrEnum):
    CHARGE_START = "charge_start"
    CHARGE_STOP = "charge_stop"
    SET_CHARGING_AMPS = "set_charging_amps"  # {"charging_amps": N}
    SET_CHARGE_LIMIT = "set_charge_limit"  # {"percent": N}


def command_body(command: Command, value: int | None) -> dict[str, int]:
    """The JSON body the API expects for a command."""
    if command is Command.SET_CHARGING_AMPS and value is not None:
        return {"charging_amps": value}
    if command is Command.SET_CHARGE_LIMIT and value is not None:
        return {"percent": value}
    return {}


@dataclass(frozen=True, slots=True)
class Vehicle:
    vin: str
    id: str | None  # the Owner API's id; None where only VINs exist (BLE proxy)
    name: str = ""
    state: str = "unknown"  # online / asleep / offline, as listed


class VehicleBackend(Protocol):
    async def vehicles(self) -> list[Vehicle]:
        """The account's cars (one non-waking call)."""
        ...

    async def summary(self, car: Vehicle) -> str:
        """The car's sleep state (online/asleep/offline) without waking it."""
        ...

    async def charge_state(self, car: Vehicle, read_at: float) -> ChargeState:
        """charge_state and location; raises Asleep instead of waking the car."""
        ...

    async def wake_up(self, car: Vehicle) -> str:
        """Ask the car to wake; returns the state it reports right away."""
        ...

    async def command(self, car: Vehicle, command: Command, value: int | None = None) -> None:
        """Send one command; raises CommandRefused when the car says no."""
        ...

    def close(self) -> None:
        """Release threads and connections without waiting (called from sync hooks)."""
        ...
