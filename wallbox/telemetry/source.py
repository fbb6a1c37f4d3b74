"""One push source as the controller's `StateFeed`: the newest report per car, judged.

A source is a dialect (fleet.py, tb2m.py: its topics and how to read them)
plus what every source shares: a `Report` per VIN, the health rule
(health.py), a watch that notices silence without a message, and the hand-
over to the car: while the source is trusted every message goes straight to
the car (`observe`), and when it stops being trusted the car is poked, so its
worker reads the API at once. Messages come from an MQTT link on the loop
(addons/telemetry.py wires it: `on_message`, `on_connection`).
"""

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from wallbox.clock import Clock
from wallbox.iso_time import iso_at
from wallbox.supervisor import Crash, Supervised, guarded
from wallbox.telemetry.health import OFFLINE_REASON, TESLA_API, SourceFacts, Verdict, judge
from wallbox.telemetry.model import Heard, Report
from wallbox.vehicle.charge_state import ChargeState

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Dialect:
    """What differs between sources: names, topics, and how to read a message."""

    source: str  # the status JSON's telemetry.source: "fleet_telemetry"
    label: str  # in messages: "fleet-telemetry"
    topics: Sequence[str]
    heard: Callable[[str, bytes], Heard | None]
    snapshot: Callable[[Report, float], ChargeState]
    offline_reason: str = OFFLINE_REASON  # the bridge's own "offline", in the status's reason


class FedCar(Protocol):
    """A car the source reports to (wallbox.control.car.CarController)."""

    @property
    def number(self) -> int: ...
    @property
    def vehicle(self) -> Any: ...
    def observe(self, snapshot: ChargeState) -> None: ...
    def poke(self) -> None: ...
    def note_error(self, message: str) -> None: ...


class Cars(Protocol):
    @property
    def cars(self) -> Sequence[FedCar]: ...


class PushSource:
    """The newest of one source's reports per VIN, handed to the car while trusted."""

    def __init__(self, clock: Clock, dialect: Dialect, *, rhythm_s: float) -> None:
        self.clock = clock
        self.dialect = dialect
        self.source = dialect.source
        self.topics = list(dialect.topics)
        self.rhythm_s = rhythm_s
        self.connected = False
        self._reports: dict[str, Report] = {}
        self._commanded: dict[str, float] = {}
        self._trusted: dict[str, tuple[bool, float]] = {}  # vin -> (trusted, since)
        self._controller: Cars | None = None
        self._dirty: set[str] = set()
        self._watching = Supervised(
            f"{dialect.label} silence watch", self._watch, clock=clock, on_crash=self._failed
        )
        self._flush_soon = guarded(f"{dialect.label} telemetry", self._flush)

    def bind(self, controller: Cars) -> None:
        self._controller = controller
        self._watching.start()

    def stop(self) -> None:
        self._watching.stop()

    # --- from the MQTT link (on the loop) -----------------------------------------

    def on_connection(self, connected: bool, why: str) -> None:
        self.connected = connected
        self._review()

    def on_message(self, topic: str, payload: bytes, retained: bool) -> None:
        heard = self.dialect.heard(topic, payload)
        if heard is not None:
            self.on_heard(heard)

    def on_heard(self, heard: Heard) -> None:
        # retained values arrive at every (re)connect: the broker's last word
        self._reports.setdefault(heard.vin, Report()).take(heard, self.clock.now())
        if not self._dirty:
            asyncio.get_running_loop().call_soon(self._flush_soon)  # once per burst
        self._dirty.add(heard.vin)

    def _flush(self) -> None:
        dirty, self._dirty = self._dirty, set()
        for car in self._cars():
            if self._key(car.vehicle.vin) in dirty:
                self._offer(car)

    # --- the StateFeed protocol ---------------------------------------------------

    def fresh(self, vin: str, now: float) -> ChargeState | None:
        verdict, report = self._judge(vin, now)
        if not verdict.trusted or report is None:
            return None
        return self.dialect.snapshot(report, now)

    def commanded(self, vin: str, now: float) -> None:
        self._commanded[vin] = now

    def describe(self, vin: str, now: float) -> dict[str, Any]:
        verdict, report = self._judge(vin, now)
        last = report.last_report_at if report else None
        return {
            "source": self.source if verdict.trusted else TESLA_API,
            "reason": verdict.reason,
            "since": iso_at(self.clock.wall(), self._trusted[vin][1], now),
            "report_age": None if last is None else round(now - last, 1),
            "teslamate_report_age": None,
        }

    # --- judging ------------------------------------------------------------------

    def _key(self, vin: str) -> str | None:
        """The feed's name for the car: its VIN, upper-cased (TeslaMate's: an id of its own)."""
        return vin.upper()

    def _judge(self, vin: str, now: float) -> tuple[Verdict, Report | None]:
        key = self._key(vin)
        report = self._reports.get(key) if key is not None else None
        snap = self.dialect.snapshot(report or Report(), now)
        verdict = judge(
            SourceFacts(
                label=self.dialect.label,
                now=now,
                rhythm_s=self.rhythm_s,
                connected=self.connected,
                bridge_online=report.bridge_online if report else None,
                last_report_at=report.last_report_at if report else None,
                car_state=snap.car_state,
                has_charge_data=snap.has_charge_data,
                charging=snap.charging,
                commanded_at=self._commanded.get(vin),
                offline_reason=self.dialect.offline_reason,
            )
        )
        self._note(vin, verdict, now)
        return verdict, report

    def _note(self, vin: str, verdict: Verdict, now: float) -> None:
        """Log the change of trust once each way; a car that lost it is poked."""
        before = self._trusted.get(vin)
        if before is not None and before[0] == verdict.trusted:
            return
        self._trusted[vin] = (verdict.trusted, now)
        label = self.dialect.label
        if verdict.trusted:
            logger.info("%s: %s trusted now: %s", vin, label, verdict.reason)
        elif before is None:
            logger.info("%s: %s not usable yet: %s", vin, label, verdict.reason)
        else:
            logger.warning("%s: %s no longer trusted: %s", vin, label, verdict.reason)
            for car in self._cars():
                if car.vehicle.vin == vin:
                    car.poke()

    def _offer(self, car: FedCar) -> None:
        fed = self.fresh(car.vehicle.vin, self.clock.now())
        if fed is not None:
            car.observe(fed)

    def vins(self) -> list[str]:
        """The controller's cars (a relay opens one stream for each)."""
        return [car.vehicle.vin for car in self._cars()]

    def _cars(self) -> Sequence[FedCar]:
        return self._controller.cars if self._controller else ()

    def _review(self) -> None:
        for car in self._cars():
            before = self._trusted.get(car.vehicle.vin)
            verdict, _ = self._judge(car.vehicle.vin, self.clock.now())
            if verdict.trusted and not (before and before[0]):
                self._offer(car)

    async def _watch(self) -> None:
        interval = min(10.0, max(0.2, self.rhythm_s / 5))
        while True:
            await self.clock.sleep(interval)
            self._review()

    def _failed(self, crash: Crash) -> None:
        message = f"{crash.message}; restarting in {crash.retry_in or 0:.0f} s"
        for car in self._cars():
            car.note_error(message)
