"""TeslaMate's MQTT telemetry as the controller's `StateFeed`.

This keeps the newest value per topic (their meaning: values.py), and asks
`health.judge` whether they can stand in for API reads. While they can, every
message goes straight to the car (`observe`) and the controller reads nothing
from the Tesla API. The switch between TeslaMate and the API is logged once
each way and shown in the status JSON (`telemetry`).

The feed knows the controller's cars only by the small protocol below: the
controller's `CarController` fits it without either importing the other.
"""

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from wallbox.clock import Clock
from wallbox.iso_time import iso_at
from wallbox.supervisor import Crash, Supervised, guarded
from wallbox.telemetry.teslamate import (
    healthy_of,
    is_charging,
    parse_topic,
    snapshot,
    subscriptions,
)
from wallbox.telemetry.teslamate_health import TelemetryFacts, Verdict, judge
from wallbox.vehicle.backend import Vehicle
from wallbox.vehicle.charge_state import ChargeState

logger = logging.getLogger(__name__)


class FedCar(Protocol):
    """A car the feed reports to (wallbox.control.car.CarController)."""

    @property
    def number(self) -> int: ...

    @property
    def vehicle(self) -> Vehicle: ...

    def observe(self, snapshot: ChargeState) -> None:
        """Fresh telemetry: take it and plan again."""
        ...

    def poke(self) -> None:
        """The telemetry stopped being usable: plan again (maybe read the API)."""
        ...

    def note_error(self, message: str) -> None:
        """Show a failure in the car's status (`last_error`)."""
        ...


class Cars(Protocol):
    """The controller, as the feed sees it: its cars, once the list is loaded."""

    @property
    def cars(self) -> Sequence[FedCar]: ...


@dataclass
class _Topics:
    """What TeslaMate said about one of its cars."""

    values: dict[str, str] = field(default_factory=dict)
    last_report_at: float | None = None
    healthy: bool | None = None


@dataclass
class _Switch:
    verdict: Verdict
    since: float


class TeslaMateFeed:
    """The newest TeslaMate values per car, judged, and handed to the controller."""

    def __init__(
        self,
        clock: Clock,
        *,
        namespace: str = "",
        cars: Mapping[int, str] | None = None,
        silence_s: float = 300.0,
    ) -> None:
        self.clock = clock
        self.namespace = namespace
        self.car_map = dict(cars or {})
        self.silence_s = silence_s
        self.connected = False
        self.topics = subscriptions(namespace)
        self._teslamate: dict[int, _Topics] = {}
        self._commanded: dict[str, float] = {}
        self._switches: dict[str, _Switch] = {}
        self._controller: Cars | None = None
        self._dirty: set[int] = set()
        self._watching = Supervised(
            "TeslaMate silence watch", self._watch, clock=clock, on_crash=self._watch_failed
        )
        self._flush_soon = guarded("TeslaMate telemetry", self._flush)

    # --- wiring ---------------------------------------------------------------------

    def bind(self, controller: Cars) -> None:
        """Route messages to this controller's cars, and watch for silence."""
        self._controller = controller
        self._watching.start()

    def stop(self) -> None:
        self._watching.stop()

    # --- from the MQTT link (on the loop) ------------------------------------------

    def on_connection(self, connected: bool, why: str) -> None:
        self.connected = connected
        if not connected:
            # healthy is not always retained: after a reconnect, only a new message tells
            for topics in self._teslamate.values():
                topics.healthy = None
        self._review()

    def on_message(self, topic: str, payload: bytes, retained: bool) -> None:
        parsed = parse_topic(topic, self.namespace)
        if parsed is None:
            return
        car_id, name = parsed
        value = payload.decode("utf-8", errors="replace")
        topics = self._teslamate.setdefault(car_id, _Topics())
        # A retained value arrives at every (re)connect: as good as the broker's
        # last word, and the silence limit covers how old it may be.
        topics.values[name] = value
        topics.last_report_at = self.clock.now()
        if name == "healthy":
            topics.healthy = healthy_of(topics.values)
        if not self._dirty:
            asyncio.get_running_loop().call_soon(self._flush_soon)  # once per burst of topics
        self._dirty.add(car_id)

    def _flush(self) -> None:
        dirty, self._dirty = self._dirty, set()
        for car_id in dirty:
            car = self._car_for(car_id)
            if car is not None:
                self._offer(car)

    # --- the StateFeed protocol (controller side) ---------------------------------------

    def fresh(self, vin: str, now: float) -> ChargeState | None:
        verdict, topics = self._judge(vin, now)
        if not verdict.fresh or topics is None:
            return None
        return snapshot(topics.values, now, topics.last_report_at)

    def commanded(self, vin: str, now: float) -> None:
        """The car accepted a command: TeslaMate must report within the silence limit."""
        self._commanded[vin] = now

    def describe(self, vin: str, now: float) -> dict[str, Any]:
        verdict, topics = self._judge(vin, now)
        switch = self._switches[vin]
        last = topics.last_report_at if topics else None
        return {
            "source": verdict.source,
            "reason": verdict.reason,
            "since": iso_at(self.clock.wall(), switch.since, now),
            "teslamate_report_age": None if last is None else round(now - last, 1),
        }

    # --- judging ------------------------------------------------------------------------

    def _judge(self, vin: str, now: float) -> tuple[Verdict, _Topics | None]:
        car_id = self._teslamate_id(vin)
        topics = self._teslamate.get(car_id) if car_id is not None else None
        if car_id is None:
            verdict = Verdict(False, "no TeslaMate car for this car: set teslamate_cars")
        else:
            values = topics.values if topics else {}
            snap = snapshot(values, now, None)
            verdict = judge(
                TelemetryFacts(
                    now=now,
                    silence_s=self.silence_s,
                    connected=self.connected,
                    healthy=topics.healthy if topics else None,
                    last_report_at=topics.last_report_at if topics else None,
                    has_charge_data=snap.has_charge_data,
                    charging=is_charging(values),
                    commanded_at=self._commanded.get(vin),
                )
            )
        self._note(vin, car_id, verdict, now)
        return verdict, topics

    def _note(self, vin: str, car_id: int | None, verdict: Verdict, now: float) -> None:
        """Log the switch between TeslaMate and the API once each way."""
        before = self._switches.get(vin)
        if before is not None and before.verdict.fresh == verdict.fresh:
            before.verdict = verdict  # the reason may change; the source did not
            return
        self._switches[vin] = _Switch(verdict, now)
        who, why = self._describe_car(vin, car_id), verdict.reason
        if verdict.fresh:
            logger.info("%s: charge state from TeslaMate now, no Tesla API reads", who)
        elif before is None:
            logger.info("%s: TeslaMate not usable yet (%s): reading the Tesla API", who, why)
        else:  # the line to look for when TeslaMate stops delivering
            logger.warning("%s: falling back to Tesla API reads: %s", who, why)
            # Whoever noticed first (a message, the watch, a status request), the car's
            # worker must hear of it now: TeslaMate's values no longer stand.
            for car in self._controller.cars if self._controller else ():
                if car.vehicle.vin == vin:
                    car.poke()

    def _offer(self, car: FedCar) -> None:
        """Hand the car the newest values if they are usable (a fall-back pokes it: _note)."""
        fed = self.fresh(car.vehicle.vin, self.clock.now())
        if fed is not None:
            car.observe(fed)

    def _review(self) -> None:
        controller = self._controller
        if controller is None:
            return
        for car in controller.cars:
            before = self._switches.get(car.vehicle.vin)
            was_fresh = before is not None and before.verdict.fresh
            verdict, _ = self._judge(car.vehicle.vin, self.clock.now())
            if verdict.fresh and not was_fresh:
                self._offer(car)

    async def _watch(self) -> None:
        """Judge every car now and then, so silence is noticed without a message."""
        interval = min(10.0, max(0.2, self.silence_s / 5))
        while True:
            await self.clock.sleep(interval)
            self._review()

    def _watch_failed(self, crash: Crash) -> None:
        """Until it runs again, silence may go unnoticed: every car's status says so."""
        message = f"{crash.message}; restarting in {crash.retry_in or 0:.0f} s"
        for car in self._controller.cars if self._controller else ():
            car.note_error(message)

    # --- car ids ------------------------------------------------------------------------

    def _targets(self) -> dict[int, FedCar]:
        """TeslaMate car id -> our car, for the cars the controller knows."""
        controller = self._controller
        if controller is None:
            return {}
        by_number = {str(c.number): c for c in controller.cars}
        by_vin = {c.vehicle.vin.upper(): c for c in controller.cars}
        targets: dict[int, FedCar] = {}
        for car_id, target in self.car_map.items():
            car = by_number.get(target) or by_vin.get(target)
            if car is not None:
                targets[car_id] = car
        taken = {id(c) for c in targets.values()}
        for car in controller.cars:
            if car.number not in self.car_map and id(car) not in taken:
                targets.setdefault(car.number, car)
        return targets

    def _car_for(self, car_id: int) -> FedCar | None:
        return self._targets().get(car_id)

    def _teslamate_id(self, vin: str) -> int | None:
        for car_id, car in self._targets().items():
            if car.vehicle.vin == vin:
                return car_id
        return None

    def _describe_car(self, vin: str, car_id: int | None) -> str:
        for car in self._controller.cars if self._controller else ():
            if car.vehicle.vin == vin:
                suffix = f" (TeslaMate car {car_id})" if car_id is not None else ""
                return f"car {car.number}{suffix}"
        return vin
