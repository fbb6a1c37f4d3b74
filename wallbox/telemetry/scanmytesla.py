"""The local ScanMyTesla capture as a push source: the phone's uploads, once stored.

The proxy stores every upload of the app (addons/scanmytesla.py) and then hands
it to the stored-sample listeners on the loop; addons/telemetry_smt.py makes
`uploaded` one of them, so the source never slows an upload nor waits for one.
An upload names its car only by TeslaLogger's token: `telemetry_smt_cars` maps
tokens to cars (by VIN or car number), and a token that is TeslaLogger's CRC32
of a car's VIN and name (PROTOCOL.md 2) is mapped to that car unasked, logged
once with the option that makes it explicit.

The values' meaning is smt_values.py's; health is the shared rule (health.py)
at the app's rhythm: the phone uploads every second or so while the car is
awake, so silence while energy flows loses the source within `rhythm_s`, and
a car that stopped charging is not trusted for its plug state at all (the
Tesla API tells), so a car falling asleep, and its phone with it, alarms
nothing. `describe` adds where each status field comes from (`fields`).
"""

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wallbox.clock import Clock
from wallbox.telemetry import smt_values
from wallbox.telemetry.health import Verdict
from wallbox.telemetry.model import Heard, Report
from wallbox.telemetry.smt_values import Flow
from wallbox.telemetry.source import Dialect, PushSource

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CarRef:
    """A car as an option names it: by VIN, or by the wallbox's car number."""

    vin: str | None = None
    number: int | None = None


def parse_cars(entries: list[str] | tuple[str, ...]) -> dict[str, CarRef]:
    """`token=VIN` or `token=<car number>`; the word `auto` maps by CRC32 only."""
    mapped: dict[str, CarRef] = {}
    for entry in entries:
        if entry.strip().lower() == "auto":
            continue
        token, sep, car = (part.strip() for part in entry.partition("="))
        if not sep or not token or not car:
            raise ValueError(f"{entry!r}: use token=VIN or token=<car number>, or auto")
        if car.isdigit() and int(car) >= 1:
            mapped[token] = CarRef(number=int(car))
        elif len(car) == 17 and car.isalnum():
            mapped[token] = CarRef(vin=car.upper())
        else:
            raise ValueError(
                f"{entry!r}: {car!r} is neither a VIN (17 characters) nor a car number "
                "(1, 2, ...): use token=VIN or token=<car number>"
            )
    return mapped


DIALECT = Dialect(
    source=smt_values.SOURCE,
    label=smt_values.LABEL,
    topics=(),
    heard=lambda topic, payload: None,  # fed in-process: `uploaded`, never a message
    snapshot=smt_values.snapshot,
)


class ScanMyTeslaSource(PushSource):
    def __init__(self, clock: Clock, cars: Mapping[str, CarRef], *, rhythm_s: float) -> None:
        super().__init__(clock, DIALECT, rhythm_s=rhythm_s)
        self.cars = dict(cars)
        self._flows: dict[str, Flow] = {}  # by VIN
        self._heard: dict[str, Heard] = {}  # what the flow said, by VIN
        self._told: set[str] = set()  # tokens whose mapping (or lack of one) was logged
        self._recognised: dict[str, str] = {}  # TeslaLogger's tokens -> VIN (CRC32)
        self.on_connection(True, "fed in-process by the capture")

    def uploaded(self, token: str, values: Mapping[int, float]) -> None:
        """One stored upload: on the loop, quick (a fold of a few values)."""
        vin = self._vin_of(token)
        if vin is None:
            return
        before = self._flows.get(vin)
        flow = smt_values.fold(before or Flow(), values, self.clock.now())
        if flow is not before or vin not in self._heard:
            self._flows[vin], self._heard[vin] = flow, smt_values.heard(vin, flow)
        self.on_heard(self._heard[vin])  # news or not, the phone is alive

    def _vin_of(self, token: str) -> str | None:
        ref = self.cars.get(token)
        if ref is not None and ref.vin is not None:
            return ref.vin
        if token in self._recognised:
            return self._recognised[token]
        cars = self._cars()
        if ref is not None:
            found = next((c for c in cars if c.number == ref.number), None)
            if found is None and cars:  # none listed yet: the car list is loading
                self._tell(token, f"car {ref.number} of telemetry_smt_cars is not listed")
            return found.vehicle.vin.upper() if found else None
        for car in cars:
            vehicle = car.vehicle
            if smt_values.is_teslalogger_token(token, vehicle.vin, vehicle.name or ""):
                self._tell(
                    token,
                    f"TeslaLogger's token (CRC32 of VIN and name) for car {car.number}: its "
                    f"values are that car's state; telemetry_smt_cars={token}={vehicle.vin} "
                    "says so explicitly",
                    warn=False,
                )
                self._recognised[token] = vehicle.vin.upper()
                return vehicle.vin.upper()
        if cars:
            self._tell(
                token,
                "maps to no car: set telemetry_smt_cars=<token>=<VIN or car number> "
                "(TeslaLogger's token is the CRC32 of the car's VIN and name)",
            )
        return None

    def _tell(self, token: str, what: str, *, warn: bool = True) -> None:
        if token in self._told or len(self._told) > 1000:
            return
        self._told.add(token)
        (logger.warning if warn else logger.info)("ScanMyTesla token %s: %s", token, what)

    def _judge(self, vin: str, now: float) -> tuple[Verdict, Report | None]:
        verdict, report = super()._judge(vin, now)
        return _reworded(verdict), report

    def _note(self, vin: str, verdict: Verdict, now: float) -> None:
        super()._note(vin, _reworded(verdict), now)

    def describe(self, vin: str, now: float) -> dict[str, Any]:
        said = super().describe(vin, now)
        return said | {"fields": smt_values.origins(self._reports.get(vin.upper()))}


def _reworded(verdict: Verdict) -> Verdict:
    """The shared rule's "has not told the charge state" in this source's own terms."""
    if verdict.trusted or "charge state" not in verdict.reason:
        return verdict
    return Verdict(
        False,
        "ScanMyTesla: no energy flows into the pack (or AC/DC not told yet); it cannot "
        "tell the plug state, limit or position: the Tesla API does",
    )
