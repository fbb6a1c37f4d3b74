"""TeslaMate's MQTT telemetry as one source of the telemetry room.

A `PushSource` like the others (source.py: the newest report per car, the
shared health rule, the silence watch, the hand-over to the car), in
TeslaMate's dialect (teslamate.py). Two things are TeslaMate's own:

- It names cars by its own ids, not by VIN: `teslamate_cars` maps an id to a
  car number or VIN, and an id without an entry is the car with that number.
  Reports are kept by id, so values that arrive before the controller's list
  of cars (the broker's retained ones, at the start) are not lost.
- Its `healthy` flag is the bridge's word about itself, but TeslaMate does
  not always retain it: after a reconnect, only a new message tells, so the
  flag is forgotten when the broker connection drops.

The switch between TeslaMate and the API is logged by the composite
(composite.py) that the product puts every source in, TeslaMate alone too.
"""

from collections.abc import Mapping
from typing import Any

from wallbox.clock import Clock
from wallbox.telemetry.health import Verdict
from wallbox.telemetry.model import Report
from wallbox.telemetry.source import Dialect, FedCar, PushSource
from wallbox.telemetry.teslamate import (
    LABEL,
    SOURCE,
    UNHEALTHY,
    heard,
    report_snapshot,
    subscriptions,
)

UNMAPPED = "no TeslaMate car for this car: set teslamate_cars"


def dialect(namespace: str) -> Dialect:
    return Dialect(
        source=SOURCE,
        label=LABEL,
        topics=subscriptions(namespace),
        heard=lambda topic, payload: heard(topic, payload, namespace),
        snapshot=report_snapshot,
        offline_reason=UNHEALTHY,
    )


class TeslaMateFeed(PushSource):
    """TeslaMate's newest values per car, judged by the rule every source shares."""

    def __init__(
        self,
        clock: Clock,
        *,
        namespace: str = "",
        cars: Mapping[int, str] | None = None,
        silence_s: float = 300.0,
    ) -> None:
        super().__init__(clock, dialect(namespace), rhythm_s=silence_s)
        self.namespace = namespace
        self.car_map = dict(cars or {})
        self.silence_s = silence_s

    def on_connection(self, connected: bool, why: str) -> None:
        if not connected:
            for report in self._reports.values():
                report.bridge_online = None  # healthy: only a new message tells
        super().on_connection(connected, why)

    def describe(self, vin: str, now: float) -> dict[str, Any]:
        described = super().describe(vin, now)
        return described | {"teslamate_report_age": described["report_age"]}

    def _judge(self, vin: str, now: float) -> tuple[Verdict, Report | None]:
        if self._key(vin) is None:
            verdict = Verdict(False, UNMAPPED)
            self._note(vin, verdict, now)
            return verdict, None
        return super()._judge(vin, now)

    def _key(self, vin: str) -> str | None:
        """TeslaMate's id of our car with this VIN; None when it has none."""
        for car_id, car in self._targets().items():
            if car.vehicle.vin == vin:
                return str(car_id)
        return None

    def _targets(self) -> dict[int, FedCar]:
        """TeslaMate car id -> our car, for the cars the controller knows."""
        cars = self._cars()
        by_number = {str(c.number): c for c in cars}
        by_vin = {c.vehicle.vin.upper(): c for c in cars}
        targets: dict[int, FedCar] = {}
        for car_id, target in self.car_map.items():
            car = by_number.get(target) or by_vin.get(target)
            if car is not None:
                targets[car_id] = car
        taken = {id(c) for c in targets.values()}
        for car in cars:
            if car.number not in self.car_map and id(car) not in taken:
                targets.setdefault(car.number, car)
        return targets
