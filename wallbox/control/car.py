"""One car under control: what callers want of it, the goals still open, what is
known about it, and its status.

Callers (the HTTP API, the MQTT and openWB bridges) call `set_intent`, which
checks the values, stores them, opens *goals* and returns at once (or after up
to `wait` seconds). Its worker (worker.py) makes the car follow and reports
back through `take`, `settle` and `note_error`; every change reaches the
listeners (MQTT, openWB) through `changed`. Nothing here talks to the car.
"""

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from wallbox.clock import Clock, wait_event
from wallbox.control.car_status import car_at_pv_location, status_json, wallbox_status
from wallbox.control.coalescing import Drift
from wallbox.control.intent import Intent, IntentError, check_amps, check_soc
from wallbox.control.knowledge import CarKnowledge
from wallbox.control.outcomes import InvalidValue, NotAtChargePoint, Outcome, Result
from wallbox.control.planner import Goal, goal_command, is_current
from wallbox.control.ports import NO_FEED, IntentStorage, StateFeed
from wallbox.control.prediction import predict
from wallbox.control.settings import WAIT_MAX_S, Settings
from wallbox.control.status import WallboxStatus
from wallbox.vehicle.backend import Vehicle, VehicleBackend
from wallbox.vehicle.charge_state import ChargeState
from wallbox.vehicle.metering import ApiUsage, MeteredBackend

logger = logging.getLogger(__name__)


@dataclass
class OpenGoal:
    since: float
    sends: int = 0  # accepted sends the car has not yet been seen acting on


class CarController:
    """One car: its intent, open goals, newest snapshot, and the worker reconciling them."""

    def __init__(
        self,
        number: int,
        vehicle: Vehicle,
        backend: VehicleBackend,
        clock: Clock,
        settings: Settings,
        *,
        storage: IntentStorage | None = None,
        feed: StateFeed | None = None,
        listeners: list[Callable[[dict[str, Any]], None]] | None = None,
    ) -> None:
        self.number = number
        self.vehicle = vehicle
        # every call this car's worker makes is counted as Tesla bills it (api_usage)
        self.usage = ApiUsage(
            f"car {number}", clock.wall, billed=settings.billed, credit_usd=settings.credit_usd
        )
        self.backend: VehicleBackend = MeteredBackend(backend, self.usage)
        self.clock = clock
        self.settings = settings
        self.storage = storage
        self.feed = feed
        self.listeners = listeners if listeners is not None else []  # shared with Controller
        self.intent = Intent()
        self.goals: dict[Goal, OpenGoal] = {}
        self.outcomes: dict[Goal, Outcome] = {}
        self.held: dict[Goal, str] = {}
        self.knowledge = CarKnowledge(vehicle.state, clock.now())
        self.guard_sends = 0  # the SoC guard's own stops sent while this charge runs
        self.amps_drift: Drift | None = None  # since when the amps wish left the car's
        self.last_error: str | None = None
        self.last_error_at: float | None = None
        self.next_try_at = 0.0  # set by the worker: when it tries again after a failure
        self.wakeup = asyncio.Event()  # something changed: the worker plans again
        self.fed = asyncio.Event()  # the feed brought a snapshot
        self._progress = asyncio.Event()  # a goal settled
        self._save_lock = asyncio.Lock()
        self._last_signature: tuple[Any, ...] | None = None

    def restore(self, stored: Any, now_epoch: float) -> None:
        """Take over the intent stored before a restart; recent open goals resume."""
        self.intent = Intent(stored.charging, stored.amps, stored.target_soc)
        age_s = now_epoch - stored.updated_ms / 1000.0
        if age_s <= self.settings.resume_within_s:
            for name in stored.open_goals:
                try:
                    self.goals[Goal(name)] = OpenGoal(self.clock.now())
                except ValueError:
                    continue

    # --- the public API -------------------------------------------------------

    @property
    def car(self) -> ChargeState | None:
        """The newest snapshot of the car, whichever source it came from."""
        return self.knowledge.car

    @car.setter
    def car(self, snapshot: ChargeState | None) -> None:
        self.knowledge.car = snapshot

    @property
    def max_amps(self) -> int | None:
        """The most the car takes on its present charger, when it has said."""
        return self.car.charge_current_request_max if self.car else None

    async def set_intent(
        self,
        *,
        charging: bool | None = None,
        amps: int | None = None,
        target_soc: int | None = None,
        wake: bool = False,
        wait: float | None = None,
    ) -> Result:
        try:
            if amps is not None:
                check_amps(amps, self.max_amps)
            if target_soc is not None:
                check_soc(target_soc)
        except IntentError as e:
            raise InvalidValue(str(e)) from None
        if wait is not None and not 0 <= wait <= WAIT_MAX_S:
            raise InvalidValue(f"wait must be 0..{WAIT_MAX_S:.0f} seconds, got {wait:g}")
        new = self.intent.merged(charging, amps, target_soc)
        now = self.clock.now()
        changes = {
            Goal.CHARGING: (charging is not None, new.charging != self.intent.charging),
            Goal.AMPS: (amps is not None, new.amps != self.intent.amps),
            Goal.LIMIT: (target_soc is not None, new.car_limit != self.intent.car_limit),
            Goal.WAKE: (wake, False),
        }
        asked = {goal for goal, (named, _) in changes.items() if named}
        self._refuse_elsewhere(new, asked, now)
        for goal in asked:
            if goal not in self.goals or changes[goal][1]:
                # A changed value restarts the goal; the same value again just waits on it.
                self.goals[goal] = OpenGoal(now)
                self.outcomes.pop(goal, None)
        if target_soc is not None and new.guard_soc != self.intent.guard_soc:
            self.guard_sends = 0
        self.intent = new
        await self.save()
        self.wakeup.set()
        self.changed()
        if wait:
            await self._wait_for(asked, wait)
        return Result(
            self.status(),
            {g: self.outcomes[g] for g in asked if g in self.outcomes and g not in self.goals},
            still_open=any(g in self.goals for g in asked),
        )

    def _refuse_elsewhere(self, new: Intent, asked: set[Goal], now: float) -> None:
        """A wish for a car that current data shows elsewhere is refused at once; with
        older data the worker reads first and the goal fails then (the planner's rule)."""
        if not is_current(self.car, now, self.settings.policy):
            return
        point = self.settings.charge_point
        for goal in sorted(asked):
            if (why := point.refusal(self.car, goal_command(goal, new))) is not None:
                raise NotAtChargePoint(why)

    def observe(self, snapshot: ChargeState) -> None:
        """A reading from elsewhere (TeslaMate telemetry): take it and re-plan."""
        self.take(snapshot)
        self.fed.set()
        self.wakeup.set()
        self.changed()

    def poke(self) -> None:
        """Re-plan now (the telemetry stopped being usable)."""
        self.wakeup.set()

    async def _wait_for(self, goals: set[Goal], within: float) -> None:
        deadline = self.clock.now() + within
        while any(g in self.goals for g in goals):
            remaining = deadline - self.clock.now()
            if remaining <= 0:
                return
            self._progress.clear()
            await wait_event(self.clock, self._progress, remaining)

    # --- status -----------------------------------------------------------------

    def at_pv_location(self) -> bool:
        return car_at_pv_location(self.car, self.settings.pv_locations, self.settings.pv_geofences)

    def wallbox_status(self) -> WallboxStatus:
        return wallbox_status(
            self.car,
            self.intent,
            self.knowledge.charged_this_session,
            self.at_pv_location(),
            self.settings.charge_point.where(self.car),
        )

    def status(self) -> dict[str, Any]:
        """The whole status, as every answer of the API carries it."""
        now = self.clock.now()
        return status_json(
            number=self.number,
            vehicle=self.vehicle,
            known=self.car,
            intent=self.intent,
            goals={goal: open_goal.since for goal, open_goal in self.goals.items()},
            held=self.held,
            status=self.wallbox_status(),
            at_pv=self.at_pv_location(),
            where=self.settings.charge_point.where(self.car),
            next_try_at=self.next_try_at,
            last_error=self.last_error,
            last_error_at=self.last_error_at,
            telemetry=self.feed.describe(self.vehicle.vin, now) if self.feed else NO_FEED,
            wall_now=self.clock.wall(),
            now=now,
            prediction=predict(
                self.car, now, self.knowledge.measured_at, self.knowledge.kwh_per_percent
            )
            or self.knowledge.stopped_at,
            api_usage=self.usage.report(),
        )

    def changed(self) -> None:
        """Hand the status to the listeners (MQTT, openWB) when what they see changed;
        with nobody listening there is nothing to build."""
        if not self.listeners:
            return
        status = self.status()
        skip = {"age", "updated", "next_try_in", "pending", "last_error_at", "telemetry"}
        skip.add("api_usage")  # its projection moves with the clock; its counts are kept
        usage = status["api_usage"]
        signature = (
            tuple((k, repr(v)) for k, v in status.items() if k not in skip),
            repr((usage["today"], usage["month"])),
            tuple(sorted(g.value for g in self.goals)),
            (status["telemetry"]["source"], status["telemetry"]["reason"]),
        )
        if signature == self._last_signature:
            return
        self._last_signature = signature
        for listener in list(self.listeners):
            try:
                listener(status)
            except Exception:
                logger.exception("a status listener failed")

    # --- what the worker reports --------------------------------------------------

    def take(self, snapshot: ChargeState, *, from_api: bool = False) -> None:
        now = self.clock.now()
        knowledge = self.knowledge
        taken = (
            knowledge.read_from_api(snapshot, now) if from_api else knowledge.take(snapshot, now)
        )
        if taken is not None and taken.has_charge_data and not taken.charging:
            self.guard_sends = 0

    def api_said(self, state: str) -> None:
        self.knowledge.api_said(state, self.clock.now())

    def settle(self, goal: Goal, outcome: Outcome) -> None:
        if self.goals.pop(goal, None) is None:
            return
        self.outcomes[goal] = outcome
        if outcome.ok:
            logger.debug("car %d: %s done: %s", self.number, goal.value, outcome.message)
        else:
            logger.warning("car %d: %s failed: %s", self.number, goal.value, outcome.message)
        self._progress.set()

    def note_error(self, message: str) -> None:
        self.last_error = message
        self.last_error_at = self.clock.now()

    def forget_errors_before(self, started: float) -> None:
        if self.last_error_at is None or self.last_error_at < started:
            self.last_error = self.last_error_at = None

    async def save(self) -> None:
        if self.storage is None:
            return
        from storage.intents import StoredIntent  # storage knows nothing of the wallbox

        async with self._save_lock:
            intent = StoredIntent(
                self.intent.charging,
                self.intent.amps,
                self.intent.target_soc,
                tuple(sorted(g.value for g in self.goals)),
                int(self.clock.wall() * 1000),
            )
            try:
                await self.storage.save(self.vehicle.vin, intent)
            except Exception as e:  # storage trouble must not stop the car being controlled
                logger.warning("car %d: the intent is not stored: %s", self.number, e)
