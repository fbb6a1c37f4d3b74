"""Several state feeds as one: the controller's `StateFeed` over every source set up.

The sources (TeslaMate's feed, fleet-telemetry, TeslaBle2Mqtt: each a
`StateFeed` of its own) are held in order of preference, and the car's state
comes from the first one trusted at the moment; when none is, the Tesla API
is read (the worker notices the loss and reads at once, as with TeslaMate
alone). `describe` names the source in use, its age, and every source's own
verdict. Each source is bound to the controller through a relay, so a
source's news reaches the car only as the composite's choice: two healthy
sources never take turns at the car.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from wallbox.clock import Clock
from wallbox.iso_time import iso_at
from wallbox.telemetry.health import TESLA_API
from wallbox.telemetry.source import Cars, FedCar
from wallbox.vehicle.charge_state import ChargeState

logger = logging.getLogger(__name__)


class Feed(Protocol):
    def fresh(self, vin: str, now: float) -> ChargeState | None: ...
    def commanded(self, vin: str, now: float) -> None: ...
    def describe(self, vin: str, now: float) -> dict[str, Any]: ...
    def bind(self, controller: Any) -> None: ...
    def stop(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Named:
    name: str  # as the status names it: "teslamate", "fleet_telemetry", "tb2m"
    feed: Feed
    label: str = ""  # in the log, if not the name: "TeslaMate"


class CompositeFeed:
    def __init__(self, clock: Clock, sources: Sequence[Named]) -> None:
        self.clock = clock
        self.sources = tuple(sources)
        self._chosen: dict[str, tuple[str, float]] = {}  # vin -> (source, since)
        self._controller: Cars | None = None

    def bind(self, controller: Cars) -> None:
        self._controller = controller
        for named in self.sources:
            named.feed.bind(_Relay(self, controller))

    def stop(self) -> None:
        for named in self.sources:
            named.feed.stop()

    def fresh(self, vin: str, now: float) -> ChargeState | None:
        for named in self.sources:
            fed = named.feed.fresh(vin, now)
            if fed is not None:
                self._note(vin, named.name, now, "")
                return fed
        self._note(vin, TESLA_API, now, self._reasons(vin, now))
        return None

    def commanded(self, vin: str, now: float) -> None:
        for named in self.sources:
            named.feed.commanded(vin, now)

    def describe(self, vin: str, now: float) -> dict[str, Any]:
        said = {named.name: named.feed.describe(vin, now) for named in self.sources}
        chosen = next((n for n, d in said.items() if d["source"] == n), TESLA_API)
        reasons = "; ".join(d["reason"] for d in said.values())
        self._note(vin, chosen, now, reasons)
        picked = said.get(chosen, {})
        teslamate = said.get("teslamate", {})
        return {
            "source": chosen,
            "reason": picked.get("reason", reasons),
            "since": iso_at(self.clock.wall(), self._chosen[vin][1], now),
            "report_age": _age(picked),
            "teslamate_report_age": teslamate.get("teslamate_report_age"),
            "sources": {
                name: {"trusted": d["source"] == name, "reason": d["reason"], "age": _age(d)}
                for name, d in said.items()
            },
        } | ({"fields": picked["fields"]} if "fields" in picked else {})  # where each comes from

    def _reasons(self, vin: str, now: float) -> str:
        return "; ".join(named.feed.describe(vin, now)["reason"] for named in self.sources)

    def _note(self, vin: str, source: str, now: float, why: str) -> None:
        """Log the switch between sources, and to the API, once each way."""
        before = self._chosen.get(vin)
        if before is not None and before[0] == source:
            return
        self._chosen[vin] = (source, now)
        if source != TESLA_API:
            label = next((n.label for n in self.sources if n.name == source and n.label), source)
            logger.info("%s: charge state from %s now, no Tesla API reads", vin, label)
        elif before is None:
            logger.info("%s: no push source usable yet (%s): reading the Tesla API", vin, why)
        else:
            logger.warning("%s: falling back to Tesla API reads: %s", vin, why)

    def offer(self, car: FedCar) -> None:
        """A source has news for this car: hand it the chosen source's snapshot."""
        fed = self.fresh(car.vehicle.vin, self.clock.now())
        if fed is not None:
            car.observe(fed)


def _age(described: dict[str, Any]) -> float | None:
    age = described.get("report_age")
    return described.get("teslamate_report_age") if age is None else age


class _Relay:
    """The controller as one source sees it: its cars' news goes through the composite."""

    def __init__(self, composite: CompositeFeed, controller: Cars) -> None:
        self._composite = composite
        self._controller = controller

    @property
    def cars(self) -> list["_RelayedCar"]:
        return [_RelayedCar(self._composite, car) for car in self._controller.cars]


class _RelayedCar:
    def __init__(self, composite: CompositeFeed, car: FedCar) -> None:
        self._composite = composite
        self._car = car

    @property
    def number(self) -> int:
        return self._car.number

    @property
    def vehicle(self) -> Any:
        return self._car.vehicle

    def observe(self, snapshot: ChargeState) -> None:
        self._composite.offer(self._car)

    def poke(self) -> None:
        self._car.poke()

    def note_error(self, message: str) -> None:
        self._car.note_error(message)
