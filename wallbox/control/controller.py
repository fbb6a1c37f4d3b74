"""The charge controller: records what callers want and makes each car follow.

Callers (the HTTP API, the MQTT and openWB bridges) call `CarController.set_intent`,
which checks the values, stores them, opens *goals* and returns at once (or
after up to `wait` seconds). One worker task per car reconciles the car with
its goals through the vehicle back-end, using `planner` for every decision:

- wakes the car only when a command needs it; a read never wakes it;
- coalesces: a goal is a wish, not a queue entry, so the newest value wins and
  a wish that is already in force ends without any API call;
- confirms every command by reading the car back;
- retries transient failures with exponential backoff, honours 429 Retry-After,
  and gives up after a few tries with a message that says what to do;
- holds a target SoC below 50 % itself: the car's limit is 50 (the backup if
  this process is down), and the worker stops charging at the target.

Without goals the worker reads the car only as often as `PollPolicy` says
(charging: every 2 min; otherwise every 15 min, and a sleeping car is only asked
whether it sleeps). TeslaMate's telemetry plugs in as a `StateFeed`
(wallbox/teslamate/feed.py): while it is fresh, the worker reads nothing from the API
at all, and a command is confirmed by what TeslaMate reports next.
"""

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from wallbox.clock import Clock, RealClock, iso_at, wait_event
from wallbox.control.geo import PvLocation, at_pv_location
from wallbox.control.intent import Intent, IntentError, check_amps, check_soc
from wallbox.control.planner import (
    FAILED,
    MET,
    Goal,
    PollPolicy,
    Step,
    next_read_in,
    plan,
    refusal_verdict,
)
from wallbox.control.status import (
    StatusFacts,
    WallboxStatus,
    derive_status,
    evcc_enabled,
    evcc_status,
    limit_reached,
    phases,
    power_w,
)
from wallbox.vehicle.backend import (
    Asleep,
    BackendError,
    CommandRefused,
    NotConfigured,
    RateLimited,
    Unauthorized,
    Vehicle,
    VehicleBackend,
)
from wallbox.vehicle.charge_state import ASLEEP, OFFLINE, ONLINE, UNKNOWN, ChargeState

logger = logging.getLogger(__name__)

WAIT_MAX_S = 120.0


@dataclass(frozen=True, slots=True)
class Settings:
    policy: PollPolicy = field(default_factory=PollPolicy)
    pv_locations: tuple[PvLocation, ...] = ()
    pv_geofences: frozenset[str] = frozenset()
    cars: tuple[str, ...] = ()  # VINs in car-number order (wallbox_cars); empty: the API's order
    confirm_delay_s: float = 5.0  # the car needs a moment before its state shows a command
    wake_timeout_s: float = 90.0
    awake_trust_s: float = 60.0  # "online" learnt this recently needs no new check
    max_attempts: int = 6  # transient failures in a row before the open goals are given up
    max_sends: int = 3  # accepted sends of one goal that the car did not act on
    backoff_s: float = 5.0
    backoff_max_s: float = 300.0
    resume_within_s: float = 600.0  # stored open goals younger than this resume after a restart
    # telemetry: how long its reports may take to show a command's effect before it is re-sent
    feed_confirm_s: float = 60.0


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


class StateFeed(Protocol):
    """External telemetry (TeslaMate): a snapshot while it is healthy and fresh."""

    def fresh(self, vin: str, now: float) -> ChargeState | None:
        """The car's state with read_at=now, or None: then the API is read."""
        ...

    def commanded(self, vin: str, now: float) -> None:
        """The car accepted a command: the telemetry should report soon."""
        ...

    def describe(self, vin: str, now: float) -> dict[str, Any]:
        """The status JSON's `telemetry`: source, reason, since, teslamate_report_age."""
        ...


NO_FEED = {
    "source": "tesla_api",
    "reason": "TeslaMate is not set up (teslamate_mqtt_url)",
    "since": None,
    "teslamate_report_age": None,
}


class IntentStorage(Protocol):
    async def load_all(self) -> Mapping[str, Any]: ...

    async def save(self, vin: str, intent: Any) -> None: ...


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    message: str
    status: int = 200  # the HTTP status a waiting caller gets


@dataclass
class OpenGoal:
    since: float
    sends: int = 0


@dataclass
class Result:
    """What `set_intent` hands back: the status, and how the waited-for goals ended."""

    status: dict[str, Any]
    outcomes: dict[Goal, Outcome] = field(default_factory=dict)
    still_open: bool = False


_GOAL_ACTION = {
    Goal.WAKE: lambda i: "wake_up",
    Goal.LIMIT: lambda i: f"set_charge_limit {i.car_limit}",
    Goal.AMPS: lambda i: f"set_charging_amps {i.amps}",
    Goal.CHARGING: lambda i: "charge_start" if i.charging else "charge_stop",
}


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
        self.backend = backend
        self.clock = clock
        self.settings = settings
        self.storage = storage
        self.feed = feed
        self.listeners = listeners if listeners is not None else []  # shared with Controller
        self.intent = Intent()
        self.goals: dict[Goal, OpenGoal] = {}
        self.outcomes: dict[Goal, Outcome] = {}
        self.held: dict[Goal, str] = {}
        self.car: ChargeState | None = None
        if vehicle.state in (ONLINE, ASLEEP, OFFLINE):
            self.car = ChargeState(read_at=clock.now(), car_state=vehicle.state, source="summary")
        self.charged_this_session = False
        self.last_error: str | None = None
        self.last_error_at: float | None = None
        self.attempts = 0
        self.look_failures = 0  # failed looks in a row
        self.next_try_at = 0.0
        self.next_look_at = 0.0
        self.guard_sends = 0
        self._wakeup = asyncio.Event()
        self._progress = asyncio.Event()
        self._fed = asyncio.Event()  # the feed brought a snapshot
        # When the API last told the charge data / the sleep state: telemetry older
        # than that does not overwrite it.
        self._api_data_at: float | None = None
        self._api_state_at: float | None = None
        self._save_lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._last_signature: tuple[Any, ...] | None = None

    # --- lifecycle ------------------------------------------------------------

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name=f"car {self.number} worker")

    def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()

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
        opened: set[Goal] = set()
        new = self.intent.merged(charging, amps, target_soc)
        now = self.clock.now()
        for goal, asked, changed in (
            (Goal.CHARGING, charging is not None, new.charging != self.intent.charging),
            (Goal.AMPS, amps is not None, new.amps != self.intent.amps),
            (Goal.LIMIT, target_soc is not None, new.car_limit != self.intent.car_limit),
            (Goal.WAKE, wake, False),
        ):
            if not asked:
                continue
            opened.add(goal)
            if goal not in self.goals or changed:
                # A changed value restarts the goal; the same value again just waits on it.
                self.goals[goal] = OpenGoal(now)
                self.outcomes.pop(goal, None)
        if target_soc is not None and new.guard_soc != self.intent.guard_soc:
            self.guard_sends = 0
        self.intent = new
        await self._save()
        self._wakeup.set()
        self._changed()
        if wait:
            await self._wait_for(opened, wait)
        return Result(
            self.status(),
            {g: self.outcomes[g] for g in opened if g in self.outcomes and g not in self.goals},
            still_open=any(g in self.goals for g in opened),
        )

    def observe(self, snapshot: ChargeState) -> None:
        """A reading from elsewhere (TeslaMate telemetry): take it and re-plan."""
        self._take(snapshot)
        self._fed.set()
        self._wakeup.set()
        self._changed()

    def poke(self) -> None:
        """Re-plan now (the telemetry stopped being usable)."""
        self._wakeup.set()

    async def _wait_for(self, goals: set[Goal], within: float) -> None:
        deadline = self.clock.now() + within
        while any(g in self.goals for g in goals):
            remaining = deadline - self.clock.now()
            if remaining <= 0:
                return
            self._progress.clear()
            await wait_event(self.clock, self._progress, remaining)

    # --- status -----------------------------------------------------------------

    def wallbox_status(self) -> WallboxStatus:
        car = self.car
        if car is None or not car.has_charge_data:
            return WallboxStatus.NOT_READY
        return derive_status(
            StatusFacts(
                plugged_in=car.plugged_in,
                charging=car.charging,
                limit_reached=limit_reached(car, self.intent.guard_soc),
                charged_this_session=self.charged_this_session,
                stop_wanted=self.intent.charging is False,
                at_pv_location=self.at_pv_location(),
            )
        )

    def at_pv_location(self) -> bool:
        car = self.car
        if car is None:
            return False
        return at_pv_location(
            car.latitude,
            car.longitude,
            car.geofence,
            self.settings.pv_locations,
            self.settings.pv_geofences,
        )

    def status(self) -> dict[str, Any]:
        """The whole status, as every answer of the API carries it."""
        now = self.clock.now()
        car = self.car or ChargeState(read_at=now)
        data = car.has_charge_data
        status = self.wallbox_status()
        amps = car.charger_actual_current if data else None
        volts = car.charger_voltage if data else None
        phase_count = phases(car.charger_power, volts, amps)
        intent = self.intent
        if intent.target_soc is not None and (
            intent.guard_soc is not None or Goal.LIMIT in self.goals or car.charge_limit_soc is None
        ):
            target_soc = intent.target_soc
        else:
            target_soc = car.charge_limit_soc
        asked_amps = Goal.AMPS in self.goals or car.charge_current_request is None
        if intent.amps is not None and asked_amps:
            target_amps = intent.amps
        else:
            target_amps = car.charge_current_request
        return {
            "car": self.number,
            "vin": self.vehicle.vin,
            "name": self.vehicle.name,
            "status": int(status),
            "status_text": status.text,
            "soc": car.battery_level,
            "targetsoc": target_soc,
            "targetamp": target_amps,
            "maxamp": car.charger_pilot_current,
            "amps": amps,
            "volts": volts,
            "power": power_w(phase_count, volts, amps),
            "phases": phase_count,
            "energy": car.charge_energy_added,
            "limitsoc": car.charge_limit_soc,
            "carmaxamp": car.charge_current_request_max,
            "plugged_in": car.plugged_in,
            "charging_state": car.charging_state,
            "car_state": car.car_state if self.car else UNKNOWN,
            "at_pv_location": self.at_pv_location(),
            "evcc_status": evcc_status(status),
            "enabled": evcc_enabled(intent.charging, car.charging),
            "intent": {"charging": intent.charging, "amps": intent.amps, "soc": intent.target_soc},
            "pending": [
                {
                    "goal": goal.value,
                    "action": _GOAL_ACTION[goal](intent),
                    "for_s": round(now - open_goal.since, 1),
                    "waiting_for": self.held.get(goal),
                }
                for goal, open_goal in sorted(self.goals.items())
            ],
            "next_try_in": round(self.next_try_at - now, 1)
            if self.goals and self.next_try_at > now
            else None,
            "age": round(car.age(now), 1) if data else None,
            "updated": iso_at(self.clock, now - car.age(now), now) if data else None,
            "last_error": self.last_error,
            "last_error_at": iso_at(self.clock, self.last_error_at, now)
            if self.last_error_at is not None
            else None,
            "telemetry": self.feed.describe(self.vehicle.vin, now) if self.feed else NO_FEED,
        }

    def _changed(self) -> None:
        """Hand the status to the listeners (MQTT, openWB) when what they see changed;
        with nobody listening there is nothing to build."""
        if not self.listeners:
            return
        status = self.status()
        skip = {"age", "updated", "next_try_in", "pending", "last_error_at", "telemetry"}
        signature = (
            tuple((k, repr(v)) for k, v in status.items() if k not in skip),
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

    # --- the worker ---------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            try:
                await self._step()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("car %d: the controller hit a bug; going on in 30 s", self.number)
                await self.clock.sleep(30)

    async def _step(self) -> None:
        self._wakeup.clear()
        now = self.clock.now()
        self._adopt_feed(now)
        p = plan(self.intent, self.goals, self.car, now, self.settings.policy)
        for goal, how in p.met.items():
            self._settle(goal, Outcome(True, how))
        for goal, why in p.failed.items():
            self._settle(goal, Outcome(False, why, 409))
        self.held = dict(p.held)
        steps = self._within_send_budget(p.steps)
        if p.met or p.failed or len(steps) != len(p.steps):
            await self._save()
            self._changed()
        if not steps and not p.read_first:
            delay = max(
                next_read_in(self.car, self.intent, now, self.settings.policy),
                self.next_look_at - now,
            )
            if delay > 0 and await wait_event(self.clock, self._wakeup, delay):
                return
            await self._look()
            return
        if now < self.next_try_at:
            await wait_event(self.clock, self._wakeup, self.next_try_at - now)
            return
        started = now
        try:
            if p.wake:
                await self._ensure_awake()
            if p.read_first:
                await self._read()
                return
            for step in steps:
                await self._send(step)
            sent_at = self.clock.now()
            await self.clock.sleep(self.settings.confirm_delay_s)
            if not await self._confirmed_by_feed(steps, sent_at):
                await self._read(use_feed=False)
            self._succeeded(started)
        except BackendError as e:
            self._failed(e)
        finally:
            self._changed()

    def _within_send_budget(self, steps: list[Step]) -> list[Step]:
        """Drop steps the car accepted again and again without acting on them."""
        kept = []
        for step in steps:
            if step.goal is None:
                if self.guard_sends >= self.settings.max_sends:
                    continue
            elif (open_goal := self.goals.get(step.goal)) is not None:
                if open_goal.sends >= self.settings.max_sends:
                    self._settle(
                        step.goal,
                        Outcome(
                            False,
                            f"the car accepted {step.command.value} {open_goal.sends} times but "
                            f"does not show it ({self._describe_car()}); check the car and charger",
                            502,
                        ),
                    )
                    continue
            kept.append(step)
        return kept

    def _describe_car(self) -> str:
        car = self.car
        if car is None:
            return "nothing read"
        return (
            f"charging_state {car.charging_state}, limit {car.charge_limit_soc} %, "
            f"request {car.charge_current_request} A"
        )

    async def _send(self, step: Step) -> None:
        open_goal = self.goals.get(step.goal) if step.goal else None
        if step.goal is None:
            self.guard_sends += 1
            logger.info(
                "car %d: the SoC reached the target %s %%: stopping",
                self.number,
                self.intent.guard_soc,
            )
        for _ in range(step.repeat):
            try:
                await self.backend.command(self.vehicle, step.command, step.value)
            except CommandRefused as e:
                verdict, message = refusal_verdict(step.command, e.reason)
                if step.goal is None or step.goal not in self.goals:
                    return
                if verdict == MET:
                    self._settle(step.goal, Outcome(True, message))
                elif verdict == FAILED:
                    self._settle(step.goal, Outcome(False, message, 409))
                    self._note_error(message)
                else:
                    raise
                return
        if open_goal is not None:
            open_goal.sends += 1  # accepted; the confirming read tells whether it acted
        if self.feed is not None:
            self.feed.commanded(self.vehicle.vin, self.clock.now())
        value = "" if step.value is None else f" {step.value}"
        logger.info("car %d: sent %s%s", self.number, step.command.value, value)

    async def _ensure_awake(self) -> None:
        car = self.car
        now = self.clock.now()
        if car is not None and car.car_state == ONLINE:
            trust = self.settings.awake_trust_s
            if car.charging:  # a charging car does not sleep: its last reading vouches for it
                trust = max(trust, self.settings.policy.interval(car) + 30.0)
            if car.state_age(now) <= trust:
                return
        known_asleep = (
            car is not None
            and car.car_state in (ASLEEP, OFFLINE)
            and car.state_age(now) <= self.settings.awake_trust_s
        )
        if known_asleep and car is not None:
            state = car.car_state
        else:
            state = await self.backend.summary(self.vehicle)
            self._api_said(state)
        if state in (ONLINE, UNKNOWN):
            return  # unknown: a proxy without the summary; the command itself will tell
        logger.info("car %d is %s: waking it up", self.number, state)
        await self.backend.wake_up(self.vehicle)
        deadline = self.clock.now() + self.settings.wake_timeout_s
        delay = 3.0
        while True:
            await self.clock.sleep(delay)
            state = await self.backend.summary(self.vehicle)
            self._api_said(state)
            if state == ONLINE:
                logger.info("car %d is awake", self.number)
                return
            if self.clock.now() + delay > deadline:
                raise Asleep(
                    f"the car did not wake up within {self.settings.wake_timeout_s:.0f} s; "
                    "retrying (check its connectivity if this repeats)"
                )
            delay = min(delay * 1.5, 10.0)

    async def _confirmed_by_feed(self, steps: list[Step], sent_at: float) -> bool:
        """With fresh telemetry, confirm the sent commands by its reports, not by a read.

        True once the telemetry reported after the commands and the plan no
        longer asks for them. False, and one API read confirms instead, when it
        is not (or no longer) usable, or has not shown the commands within
        `feed_confirm_s` (TeslaMate may be slow to poll, or suspended). The feed
        itself falls back when it reports nothing at all for a while after a
        command.
        """
        if self.feed is None:
            return False
        sent = {step.command for step in steps}
        while True:
            now = self.clock.now()
            fed = self.feed.fresh(self.vehicle.vin, now)
            if fed is None:
                return False
            if fed.reported_at is not None and fed.reported_at >= sent_at:
                self._take(fed)
                p = plan(self.intent, self.goals, self.car, now, self.settings.policy)
                if not ({s.command for s in p.steps} & sent):
                    return True
            if now - sent_at >= self.settings.feed_confirm_s:
                return False
            self._fed.clear()
            await wait_event(self.clock, self._fed, 1.0)  # the feed's rules are time-based

    async def _read(self, use_feed: bool = True) -> None:
        """Read the charge state; a sleeping car answers 408 and is not woken."""
        now = self.clock.now()
        fed = self.feed.fresh(self.vehicle.vin, now) if self.feed and use_feed else None
        if fed is not None:
            self._take(fed)
            return
        try:
            snapshot = await self.backend.charge_state(self.vehicle, now)
        except Asleep:
            self._api_said(ASLEEP)
            return
        self._take(snapshot)
        self._api_data_at = self.clock.now()

    async def _look(self) -> None:
        """The idle check: ask a sleeping (or never seen) car only whether it still sleeps."""
        started = self.clock.now()
        fed = self.feed.fresh(self.vehicle.vin, started) if self.feed else None
        if fed is not None:  # healthy telemetry: no API call at all
            self._take(fed)
            self._changed()
            return
        try:
            car = self.car
            if car is None or car.car_state != ONLINE:
                state = await self.backend.summary(self.vehicle)
                self._api_said(state)
                if state not in (ONLINE, UNKNOWN):
                    return
            await self._read()
            self._succeeded(started)
        except BackendError as e:
            self._note_error(str(e))
            self.look_failures += 1
            # Looks that fail come further apart (60 s doubling to backoff_max_s),
            # never closer than the ordinary cadence.
            retry = (
                e.retry_after
                if isinstance(e, RateLimited)
                else min(self.settings.backoff_max_s, 60.0 * 2 ** (self.look_failures - 1))
            )
            self.next_look_at = self.clock.now() + retry
            logger.warning("car %d: %s (next look in %.0f s)", self.number, e, retry)
        finally:
            self._changed()

    def _adopt_feed(self, now: float) -> None:
        if self.feed is not None and (fed := self.feed.fresh(self.vehicle.vin, now)) is not None:
            if self.car is None or fed.read_at > self.car.read_at:
                self._take(fed)

    def _take(self, snapshot: ChargeState) -> None:
        if snapshot.reported_at is not None:
            snapshot = self._newer_of(snapshot)
            if snapshot is None:
                return
        if snapshot.has_charge_data:
            self.car = snapshot
            if snapshot.plugged_in is False:
                self.charged_this_session = False
            elif snapshot.charging:
                self.charged_this_session = True
            if not snapshot.charging:
                self.guard_sends = 0
        else:
            self._note_state(snapshot.car_state)

    def _newer_of(self, fed: ChargeState) -> ChargeState | None:
        """Telemetry, unless the API spoke after its newest report (a confirming read,
        a 408): then the API's word stands, and healthy telemetry that has reported
        no change since vouches for it being current. None: nothing to take."""
        car, reported = self.car, fed.reported_at or 0.0
        if car is not None and self._api_data_at is not None and reported < self._api_data_at:
            if car.has_charge_data:
                self.car = replace(car, read_at=fed.read_at, state_at=fed.read_at)
                return None
        if car is not None and self._api_state_at is not None and reported < self._api_state_at:
            fed = fed.with_car_state(car.car_state, fed.read_at)
        return self._completed(fed)

    def _completed(self, fed: ChargeState) -> ChargeState:
        """Telemetry without the charger's offer (TeslaMate has no pilot-current topic):
        keep the one read from the API for as long as the cable stays in."""
        car = self.car
        if (
            fed.charger_pilot_current is None
            and car is not None
            and car.charger_pilot_current is not None
            and fed.plugged_in
            and car.plugged_in
        ):
            return replace(fed, charger_pilot_current=car.charger_pilot_current)
        return fed

    def _api_said(self, state: str) -> None:
        self._api_state_at = self.clock.now()
        self._note_state(state)

    def _note_state(self, state: str) -> None:
        now = self.clock.now()
        if self.car is None:
            self.car = ChargeState(read_at=now, car_state=state, source="summary")
        else:
            self.car = self.car.with_car_state(state, now)

    def _settle(self, goal: Goal, outcome: Outcome) -> None:
        if self.goals.pop(goal, None) is None:
            return
        self.outcomes[goal] = outcome
        if outcome.ok:
            logger.debug("car %d: %s done: %s", self.number, goal.value, outcome.message)
        else:
            logger.warning("car %d: %s failed: %s", self.number, goal.value, outcome.message)
        self._progress.set()

    def _succeeded(self, started: float) -> None:
        """A round went through: the backoff starts over, and older errors are history."""
        self.attempts = 0
        self.look_failures = 0
        self.next_try_at = 0.0
        if self.last_error_at is None or self.last_error_at < started:
            self.last_error = self.last_error_at = None

    def _note_error(self, message: str) -> None:
        self.last_error = message
        self.last_error_at = self.clock.now()

    def _failed(self, error: BackendError) -> None:
        now = self.clock.now()
        self._note_error(str(error))
        if isinstance(error, Asleep) and self.attempts == 0:
            self._api_said(ASLEEP)  # fell asleep since we looked: wake it, once, at once
            self.attempts = 1
            return
        self.attempts += 1
        final = isinstance(error, Unauthorized | NotConfigured)
        if final or self.attempts >= self.settings.max_attempts:
            tries = "" if final else f"gave up after {self.attempts} tries: "
            for goal in list(self.goals):
                self._settle(goal, Outcome(False, f"{tries}{error}; send the request again", 503))
        # The count is not reset when giving up: a caller repeating the same wish
        # every 30 s (evcc) then gets one try per backoff_max_s until the API
        # answers again, not a fresh burst of tries each time.
        if isinstance(error, RateLimited):
            delay = error.retry_after
        else:
            backoff = self.settings.backoff_s * 2 ** max(0, self.attempts - 1)
            delay = min(self.settings.backoff_max_s, backoff)
        self.next_try_at = now + delay
        logger.warning("car %d: %s (next try in %.0f s)", self.number, error, delay)

    async def _save(self) -> None:
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


class Controller:
    """All cars of the account: discovery, lookup by number or VIN, subscriptions."""

    def __init__(
        self,
        backend: VehicleBackend,
        *,
        clock: Clock | None = None,
        settings: Settings = Settings(),
        storage: IntentStorage | None = None,
        feed: StateFeed | None = None,
    ) -> None:
        self.backend = backend
        self.clock = clock or RealClock()
        self.settings = settings
        self.storage = storage
        self.feed = feed
        self.cars: list[CarController] = []
        self.not_ready = "the car list is being loaded"
        self.next_discovery_at: float | None = None
        self._listeners: list[Callable[[dict[str, Any]], None]] = []
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._discover(), name="wallbox discovery")

    def stop(self) -> None:
        """Synchronous, for mitmproxy's `done`: cancel the workers, release the back-end."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
        for car in self.cars:
            car.stop()
        self.backend.close()

    async def ready(self, within: float) -> bool:
        return await wait_event(self.clock, self._ready, within)

    async def _discover(self) -> None:
        delay = self.settings.backoff_s
        while True:
            try:
                listed = await self.backend.vehicles()
                vehicles = self._ordered(listed)
                if not vehicles:
                    raise NotConfigured(
                        "the account has no cars (TeslaBleHttpProxy lists none: "
                        "set wallbox_cars to the VINs)"
                    )
                break
            except BackendError as e:
                if isinstance(e, RateLimited):
                    delay = e.retry_after
                if isinstance(e, NotConfigured):
                    delay = 60.0  # waits for `make login`; say so once, not every minute
                    if self.not_ready != str(e):
                        logger.info("wallbox API: %s; until then it answers 503", e)
                else:
                    logger.warning("wallbox: cannot list the cars: %s (next in %.0f s)", e, delay)
                self.not_ready = str(e)
                self.next_discovery_at = self.clock.now() + delay
                await self.clock.sleep(delay)
                if not isinstance(e, NotConfigured):
                    delay = min(self.settings.backoff_max_s, delay * 2)
        stored = await self._load_intents()
        for number, vehicle in enumerate(vehicles, start=1):
            car = CarController(
                number,
                vehicle,
                self.backend,
                self.clock,
                self.settings,
                storage=self.storage,
                feed=self.feed,
                listeners=self._listeners,
            )
            if vehicle.vin in stored:
                car.restore(stored[vehicle.vin], self.clock.wall())
            self.cars.append(car)
        for car in self.cars:
            car.start()
        self.not_ready = ""
        self.next_discovery_at = None
        self._ready.set()
        logger.info(
            "wallbox: %s",
            ", ".join(f"car {c.number} = {c.vehicle.vin} ({c.vehicle.name})" for c in self.cars),
        )

    def _ordered(self, listed: list[Vehicle]) -> list[Vehicle]:
        """The cars in car-number order: `wallbox_cars` if set, else the API's order."""
        if not self.settings.cars:
            return listed
        by_vin = {v.vin.upper(): v for v in listed}
        return [by_vin.get(vin.upper(), Vehicle(vin.upper(), None)) for vin in self.settings.cars]

    async def _load_intents(self) -> Mapping[str, Any]:
        if self.storage is None:
            return {}
        try:
            return await self.storage.load_all()
        except Exception as e:
            logger.warning("wallbox: stored intents not loaded, starting without them: %s", e)
            return {}

    # --- lookup and the public API --------------------------------------------

    def car(self, car_id: str) -> CarController:
        if not self._ready.is_set():
            retry = None
            if self.next_discovery_at is not None:
                retry = max(1.0, self.next_discovery_at - self.clock.now())
            raise NotReady(
                f"the car list is not loaded yet: {self.not_ready}"
                + (f"; next try in {retry:.0f} s" if retry else ""),
                retry_after=retry or 5.0,
            )
        key = car_id.strip()
        if key.isascii() and key.isdigit() and len(key) <= 3:
            number = int(key)
            if 1 <= number <= len(self.cars):
                return self.cars[number - 1]
        else:
            for car in self.cars:
                if car.vehicle.vin.upper() == key.upper():
                    return car
        known = ", ".join(f"{c.number} ({c.vehicle.vin})" for c in self.cars)
        raise UnknownCar(f"no car {key[:40]!r}: use a car number or VIN of this account: {known}")

    async def follow(self, listener: Callable[[dict[str, Any]], None]) -> None:
        """Subscribe `listener`, and once the car list is loaded (however long that
        takes) hand it every car's current status: it then knows every car."""
        self.subscribe(listener)
        while not await self.ready(3600):
            pass
        for car in self.cars:
            listener(car.status())

    def subscribe(self, listener: Callable[[dict[str, Any]], None]) -> Callable[[], None]:
        """Call `listener(status)` whenever a car's status changes (MQTT, openWB)."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)
