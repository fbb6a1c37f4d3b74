"""The vehicle back-end: the few things the controller asks of a car's API.

Modelled on evcc's tiny charger interface: list the cars, read without waking,
wake, send a command. Implementations: `teslapy_backend.TeslapyBackend` (Owner
API, Fleet API, tesla-http-proxy, TeslaBleHttpProxy) and
`simulator.SimulatedBackend` (in-process, for tests). Every failure is one of
the typed errors below, so the controller decides retries by kind, never by
parsing messages.
"""

from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Protocol

from wallbox.vehicle.charge_state import ChargeState


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


class BackendError(Exception):
    """Base of every back-end failure; `str()` says what to do."""


class Asleep(BackendError):
    """HTTP 408: the car is asleep or unreachable; wake it and try again."""


class RateLimited(BackendError):
    """HTTP 429: too many calls; try again after `retry_after` seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class CommandRefused(BackendError):
    """The car answered `result: false` with a reason (complete, is_charging, ...)."""

    def __init__(self, command: str, reason: str) -> None:
        super().__init__(f"the car refused {command}: {reason}")
        self.command = command
        self.reason = reason


class Unauthorized(BackendError):
    """HTTP 401/403: the token is missing, expired beyond refresh, or revoked."""


class Unavailable(BackendError):
    """Anything else: connection refused, timeouts, 5xx, answers that make no sense."""


class NotFound(Unavailable):
    """HTTP 404: this API (a local proxy, say) has no such endpoint or car."""


class NotConfigured(BackendError):
    """No account to talk to yet (no login); nothing was sent."""


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


DEFAULT_RETRY_AFTER_S = 60.0


def parse_retry_after(value: str | None, now_epoch: float) -> float:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date);
    60 s when absent or unreadable, kept within 1 s..1 h."""
    seconds = DEFAULT_RETRY_AFTER_S
    if value:
        value = value.strip()
        try:
            seconds = float(value)
        except ValueError:
            try:
                seconds = parsedate_to_datetime(value).timestamp() - now_epoch
            except (TypeError, ValueError, IndexError, OverflowError):
                seconds = DEFAULT_RETRY_AFTER_S
        if seconds != seconds:  # NaN
            seconds = DEFAULT_RETRY_AFTER_S
    return min(3600.0, max(1.0, seconds))


def error_from_http(
    status: int, reason: str, retry_after: str | None, now_epoch: float, what: str
) -> BackendError:
    """The typed error for a non-2xx answer of the vehicle API to `what`."""
    detail = f"{what}: HTTP {status}" + (f" ({reason})" if reason else "")
    if status == 408:
        return Asleep(f"{detail}: the car is asleep or offline")
    if status == 429:
        wait = parse_retry_after(retry_after, now_epoch)
        return RateLimited(f"{detail}: rate limited, retrying in {wait:.0f} s", wait)
    if status in (401, 403):
        return Unauthorized(
            f"{detail}: the Tesla API refused the token; run `make login` again "
            "(or check tesla_token_file / tesla_email)"
        )
    if status == 404:
        return NotFound(f"{detail}: the vehicle API has no such endpoint or car; retrying")
    return Unavailable(f"{detail}: the vehicle API is not answering properly; retrying")
