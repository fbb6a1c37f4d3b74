"""TeslaMate's MQTT telemetry as the controller's `StateFeed`.

TeslaMate publishes every value of a car under `teslamate/cars/<id>/<name>`
(`teslamate/<namespace>/cars/...` with a namespace) as a plain string, on
change, mostly retained; an empty string means "unknown" (PROTOCOL.md 6). This
module keeps the newest value per topic, turns them into a `ChargeState`
(pure: `snapshot`), and asks `telemetry_health.judge` whether they can stand
in for API reads. While they can, every message goes straight to the car's
controller (`observe`) and the controller reads nothing from the Tesla API.
The switch between TeslaMate and the API is logged once each way and shown
in the status JSON (`telemetry`).

TeslaMate's car ids are its own (1, 2, ... in the order cars were added);
`teslamate_cars` maps them to this API's cars (`1=5YJ3...` or `1=2`), and an
id without an entry is the car with the same number.
"""

import asyncio
import json
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from wallbox.clock import Clock, iso_at
from wallbox.teslamate.health import TelemetryFacts, Verdict, judge
from wallbox.vehicle.charge_state import (
    ASLEEP,
    CHARGING_STATES,
    OFFLINE,
    ONLINE,
    UNKNOWN,
    ChargeState,
    plugged_in_from,
)

if TYPE_CHECKING:
    from wallbox.control.controller import CarController, Controller

logger = logging.getLogger(__name__)

SOURCE = "teslamate"

# The topics read: charging, location, geofence, the car's state and TeslaMate's health.
TOPIC_NAMES = (
    "battery_level",
    "plugged_in",
    "charging_state",
    "charge_energy_added",
    "charge_limit_soc",
    "charger_actual_current",
    "charger_power",
    "charger_voltage",
    "charge_current_request",
    "charge_current_request_max",
    "time_to_full_charge",
    "geofence",
    "location",
    "latitude",
    "longitude",
    "state",
    "healthy",
)

# TeslaMate's `state` -> Tesla's sleep state. "suspended" means TeslaMate stopped
# polling to let the car fall asleep: whether it sleeps yet is unknown.
_CAR_STATES = {
    "online": ONLINE,
    "charging": ONLINE,
    "driving": ONLINE,
    "updating": ONLINE,
    "asleep": ASLEEP,
    "offline": OFFLINE,
    "unavailable": OFFLINE,
}


def topic_prefix(namespace: str) -> str:
    ns = namespace.strip().strip("/")
    return f"teslamate/{ns}/cars/" if ns else "teslamate/cars/"


def subscriptions(namespace: str) -> list[str]:
    prefix = topic_prefix(namespace)
    return [f"{prefix}+/{name}" for name in TOPIC_NAMES]


def parse_topic(topic: str, namespace: str) -> tuple[int, str] | None:
    """(TeslaMate car id, value name) of one of our topics; None for anything else."""
    prefix = topic_prefix(namespace)
    if not topic.startswith(prefix):
        return None
    rest = topic[len(prefix) :].split("/")
    if len(rest) != 2 or not rest[0].isascii() or not rest[0].isdigit() or len(rest[0]) > 6:
        return None
    if rest[1] not in TOPIC_NAMES:
        return None
    return int(rest[0]), rest[1]


def parse_car_map(entries: Sequence[str]) -> dict[int, str]:
    """`teslamate_cars`: `<TeslaMate id>=<car number or VIN>`, one per entry.

    Returns {TeslaMate id: "3" or an upper-case VIN}; raises ValueError naming
    the bad entry.
    """
    mapping: dict[int, str] = {}
    for entry in entries:
        left, sep, right = entry.partition("=")
        left, right = left.strip(), right.strip().upper()
        if not sep or not left.isdigit() or not right:
            raise ValueError(f"{entry!r} is not <TeslaMate car id>=<car number or VIN>, e.g. 1=2")
        if not (right.isdigit() and len(right) <= 3) and not (len(right) == 17 and right.isalnum()):
            raise ValueError(f"{entry!r}: {right!r} is neither a car number nor a 17-character VIN")
        if int(left) in mapping:
            raise ValueError(f"TeslaMate car {left} is mapped twice")
        mapping[int(left)] = str(int(right)) if right.isdigit() else right
    return mapping


# --- values -> a snapshot (pure) -------------------------------------------------


def _text(values: Mapping[str, str], name: str) -> str | None:
    value = values.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None  # TeslaMate publishes "" for nil


def _number(values: Mapping[str, str], name: str) -> float | None:
    text = _text(values, name)
    if text is None:
        return None
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) and abs(number) < 1e9 else None


def _integer(values: Mapping[str, str], name: str) -> int | None:
    number = _number(values, name)
    return None if number is None else round(number)


def _boolean(values: Mapping[str, str], name: str) -> bool | None:
    text = _text(values, name)
    if text is None:
        return None
    return {"true": True, "false": False}.get(text.lower())


def _position(values: Mapping[str, str]) -> tuple[float | None, float | None]:
    text = _text(values, "location")
    if text is not None:
        try:
            where = json.loads(text)
            lat, lon = float(where["latitude"]), float(where["longitude"])
            if math.isfinite(lat) and math.isfinite(lon):
                return lat, lon
        except (ValueError, TypeError, KeyError):
            pass
    return _number(values, "latitude"), _number(values, "longitude")


def car_state_of(values: Mapping[str, str]) -> str:
    state = _text(values, "state")
    return _CAR_STATES.get(state.lower(), UNKNOWN) if state else UNKNOWN


def is_charging(values: Mapping[str, str]) -> bool:
    return _text(values, "charging_state") in CHARGING_STATES or _text(values, "state") == (
        "charging"
    )


def snapshot(values: Mapping[str, str], read_at: float, reported_at: float | None) -> ChargeState:
    """A `ChargeState` from TeslaMate's newest values; unknown or malformed ones are None.

    Plugged in follows `charging_state` (anything but Disconnected) as it does
    for API reads, and TeslaMate's own `plugged_in` only when that is unknown.
    """
    charging_state = _text(values, "charging_state")
    plugged_in = plugged_in_from({"charging_state": charging_state})
    if plugged_in is None:
        plugged_in = _boolean(values, "plugged_in")
    latitude, longitude = _position(values)
    return ChargeState(
        read_at=read_at,
        car_state=car_state_of(values),
        plugged_in=plugged_in,
        charging_state=charging_state,
        battery_level=_integer(values, "battery_level"),
        charge_limit_soc=_integer(values, "charge_limit_soc"),
        charge_current_request=_integer(values, "charge_current_request"),
        charge_current_request_max=_integer(values, "charge_current_request_max"),
        charger_actual_current=_integer(values, "charger_actual_current"),
        charger_voltage=_integer(values, "charger_voltage"),
        charger_power=_number(values, "charger_power"),
        charge_energy_added=_number(values, "charge_energy_added"),
        time_to_full_charge=_number(values, "time_to_full_charge"),
        latitude=latitude,
        longitude=longitude,
        geofence=_text(values, "geofence"),
        source=SOURCE,
        reported_at=reported_at,
    )


# --- the feed ----------------------------------------------------------------------


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
        self._controller: Controller | None = None
        self._dirty: set[int] = set()
        self._task: asyncio.Task[None] | None = None

    # --- wiring ---------------------------------------------------------------------

    def bind(self, controller: "Controller") -> None:
        """Route messages to this controller's cars, and watch for silence."""
        self._controller = controller
        if self._task is None:
            self._task = asyncio.create_task(self._watch(), name="TeslaMate silence watch")

    def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()

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
            topics.healthy = _boolean(topics.values, "healthy")
        if not self._dirty:
            asyncio.get_running_loop().call_soon(self._flush)  # once per burst of topics
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
            "since": iso_at(self.clock, switch.since, now),
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

    def _offer(self, car: "CarController") -> None:
        """Hand the car the newest values if they are usable; tell it when they stop being."""
        vin = car.vehicle.vin
        before = self._switches.get(vin)
        was_fresh = before is not None and before.verdict.fresh
        fed = self.fresh(vin, self.clock.now())
        if fed is not None:
            car.observe(fed)
        elif was_fresh:
            car.poke()  # just fell back: the worker decides whether it needs an API read

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
            elif was_fresh and not verdict.fresh:
                car.poke()

    async def _watch(self) -> None:
        """Judge every car now and then, so silence is noticed without a message."""
        interval = min(10.0, max(0.2, self.silence_s / 5))
        while True:
            await self.clock.sleep(interval)
            try:
                self._review()
            except Exception:
                logger.exception("TeslaMate: judging the telemetry failed")

    # --- car ids ------------------------------------------------------------------------

    def _targets(self) -> dict[int, "CarController"]:
        """TeslaMate car id -> our car, for the cars the controller knows."""
        controller = self._controller
        if controller is None:
            return {}
        by_number = {str(c.number): c for c in controller.cars}
        by_vin = {c.vehicle.vin.upper(): c for c in controller.cars}
        targets: dict[int, CarController] = {}
        for car_id, target in self.car_map.items():
            car = by_number.get(target) or by_vin.get(target)
            if car is not None:
                targets[car_id] = car
        taken = {id(c) for c in targets.values()}
        for car in controller.cars:
            if car.number not in self.car_map and id(car) not in taken:
                targets.setdefault(car.number, car)
        return targets

    def _car_for(self, car_id: int) -> "CarController | None":
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
