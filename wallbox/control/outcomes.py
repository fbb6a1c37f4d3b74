"""How a caller's request ends: refused at once (a `CarError` with the HTTP status
that fits), or carried out with an `Outcome` per goal, handed back in a `Result`."""

from dataclasses import dataclass, field
from typing import Any

from wallbox.control.planner import Goal


class CarError(Exception):
    """A request the controller cannot serve; `status` is the HTTP status that fits."""

    status = 400

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class InvalidValue(CarError):
    status = 400


class UnknownCar(CarError):
    status = 404


class NotReady(CarError):
    status = 503


class NotAtChargePoint(CarError):
    """The car is not at this charge point (charge_point.py): nothing is sent."""

    status = 409


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    message: str
    status: int = 200  # the HTTP status a waiting caller gets


@dataclass
class Result:
    """What `set_intent` hands back: the status, and how the waited-for goals ended."""

    status: dict[str, Any]
    outcomes: dict[Goal, Outcome] = field(default_factory=dict)
    still_open: bool = False
