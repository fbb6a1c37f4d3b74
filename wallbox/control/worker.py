"""The worker that makes one car follow its goals, through the vehicle back-end.

Every decision is `planner.plan`'s; this module only carries them out and
schedules the next look:

- wakes the car only when a command needs it; a read never wakes it;
- coalesces: a goal is a wish, not a queue entry, so the newest value wins and
  a wish that is already in force ends without any API call;
- takes a command's answer as news about the car (command_news.py): no read
  confirms it; a start the car accepted is read once after `doubt_s`;
- holds back amps changes to a charging car as coalescing.py says;
- retries transient failures with exponential backoff, honours 429 Retry-After,
  and gives up after a few tries with a message that says what to do;
- holds a target SoC below 50 % itself: the car's limit is 50 (the backup if
  this process is down), and the worker stops charging at the target.

Without goals it reads the car only as often as `PollPolicy` says (every
15 min, nearer a target below 50 % as soc_guard.py says). A car that is not
charging is first asked whether it sleeps (which never wakes it); over
Bluetooth one that stayed awake is read only every other look, since every
read keeps a car awake and it should fall asleep after a session. While the
state feed (TeslaMate) is fresh it reads nothing at all.
"""

import logging

from wallbox.clock import wait_event
from wallbox.control.car import CarController
from wallbox.control.coalescing import drift
from wallbox.control.outcomes import Outcome
from wallbox.control.planner import Goal, Step, next_read_in, plan
from wallbox.control.sending import send
from wallbox.control.telemetry import await_telemetry
from wallbox.control.waking import ensure_awake
from wallbox.supervisor import Crash, Supervised
from wallbox.vehicle.backend import (
    Asleep,
    BackendError,
    NotConfigured,
    RateLimited,
    Unauthorized,
)
from wallbox.vehicle.charge_state import ASLEEP, ONLINE, UNKNOWN, ChargeState

logger = logging.getLogger(__name__)


class CarWorker:
    def __init__(self, car: CarController) -> None:
        self.car = car
        self.attempts = 0  # transient failures in a row
        self.look_failures = 0  # failed looks in a row
        self.next_look_at = 0.0
        self._fed_last = False  # the feed was usable at the last step
        self._fell_back = False  # ... and is not any more: read the car at once
        self._supervised = Supervised(
            f"car {car.number} worker",
            self._run,
            clock=car.clock,
            on_crash=self._crashed,
            backoff_s=car.settings.backoff_s,
            backoff_max_s=car.settings.backoff_max_s,
        )

    def start(self) -> None:
        self._supervised.start()

    def stop(self) -> None:
        self._supervised.stop()

    async def _run(self) -> None:
        await await_telemetry(self.car)
        while True:
            await self._step()

    def _crashed(self, crash: Crash) -> None:
        """A bug, not the car or the API: say so in the status, and go on after a pause."""
        self.car.note_error(f"{crash.message}; going on in {crash.retry_in or 0:.0f} s")
        self.car.changed()

    async def _step(self) -> None:
        car, clock, settings = self.car, self.car.clock, self.car.settings
        car.wakeup.clear()
        now = clock.now()
        self._adopt_feed(now)
        known = car.car
        asked = known.charge_current_request if known is not None and known.charging else None
        wanted = car.intent.amps if Goal.AMPS in car.goals else None
        car.amps_drift = drift(car.amps_drift, wanted, asked, now)
        p = plan(
            car.intent,
            car.goals,
            known,
            now,
            settings.policy,
            settings.charge_point,
            settings.coalescing,
            car.amps_drift,
        )
        for goal, how in p.met.items():
            car.settle(goal, Outcome(True, how))
        for goal, why in p.failed.items():
            car.settle(goal, Outcome(False, why, 409))
        car.held = dict(p.held)
        steps = self._within_send_budget(p.steps)
        if p.met or p.failed or len(steps) != len(p.steps):
            await car.save()
            car.changed()
        if not steps and not p.read_first:
            knowledge = car.knowledge
            read_in = next_read_in(
                car.car,
                car.intent,
                now,
                settings.policy,
                knowledge.kwh_per_percent,
                knowledge.measured_at,
            )
            delay = max(read_in, self.next_look_at - now)
            if self._fell_back:  # TeslaMate's values no longer stand: the API's, at once
                delay = 0.0
            if p.due_in is not None and p.due_in < delay:  # a held amps change: plan again
                await wait_event(clock, car.wakeup, p.due_in)
                return
            if delay > 0 and await wait_event(clock, car.wakeup, delay):
                return
            await self._look()
            return
        if now < car.next_try_at:
            await wait_event(clock, car.wakeup, car.next_try_at - now)
            return
        started = now
        try:
            if p.wake:
                await ensure_awake(car)
            if p.read_first:
                await self._read()
                return
            for step in steps:
                await send(self.car, step)
            self._succeeded(started)
        except BackendError as e:
            self._failed(e)
        finally:
            car.changed()

    def _within_send_budget(self, steps: list[Step]) -> list[Step]:
        """Drop steps the car accepted again and again without acting on them."""
        car, max_sends = self.car, self.car.settings.max_sends
        kept = []
        for step in steps:
            if step.goal is None:
                if car.guard_sends >= max_sends:
                    continue
            elif (open_goal := car.goals.get(step.goal)) is not None:
                if open_goal.sends >= max_sends:
                    car.settle(
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
        known = self.car.car
        if known is None:
            return "nothing read"
        return (
            f"charging_state {known.charging_state}, limit {known.charge_limit_soc} %, "
            f"request {known.charge_current_request} A"
        )

    async def _read(self) -> None:
        """Read the charge state; a sleeping car answers 408 and is not woken."""
        car = self.car
        now = car.clock.now()
        fed = self._fresh(now)
        if fed is not None:
            car.take(fed)
            return
        self._fell_back = self._fed_last = False  # the API speaks now
        try:
            snapshot = await car.backend.charge_state(car.vehicle, now)
        except Asleep:
            car.api_said(ASLEEP)
            return
        car.take(snapshot, from_api=True)

    async def _look(self) -> None:
        """The idle check: ask a sleeping (or never seen) car only whether it still sleeps."""
        car = self.car
        started = car.clock.now()
        fed = self._fresh(started)
        if fed is not None:  # healthy telemetry: no API call at all
            car.take(fed)
            car.changed()
            return
        fell_back, self._fell_back, self._fed_last = self._fell_back, False, False
        try:
            known = car.car
            if known is None or known.car_state != ONLINE or not known.charging:
                state = await car.backend.summary(car.vehicle)
                car.api_said(state)
                if state not in (ONLINE, UNKNOWN):
                    return
                if not fell_back and self._awake_and_idle(known, state, started):
                    # every read keeps it awake: let it fall asleep after a session
                    self.next_look_at = started + car.settings.policy.idle_s
                    return
            await self._read()
            self._succeeded(started)
        except BackendError as e:
            car.note_error(str(e))
            self.look_failures += 1
            # Looks that fail come further apart (60 s doubling to backoff_max_s),
            # never closer than the ordinary cadence.
            retry = (
                e.retry_after
                if isinstance(e, RateLimited)
                else min(car.settings.backoff_max_s, 60.0 * 2 ** (self.look_failures - 1))
            )
            self.next_look_at = car.clock.now() + retry
            logger.warning("car %d: %s (next look in %.0f s)", car.number, e, retry)
        finally:
            car.changed()

    def _awake_and_idle(self, known: ChargeState | None, state: str, now: float) -> bool:
        """Read over Bluetooth, awake since the last look, not charging, nothing asked,
        read within two idle intervals: nothing calls for a read (a plug-in wakes a
        sleeping car). Over the internet the car could have driven off (only a read
        tells where it is); over Bluetooth it is still beside the proxy."""
        measured = self.car.knowledge.measured_at
        return (
            known is not None
            and known.nearby
            and known.car_state == state == ONLINE
            and not self.car.goals
            and measured is not None
            and now - measured < 2 * self.car.settings.policy.idle_s
        )

    def _fresh(self, now: float) -> ChargeState | None:
        """The feed's snapshot, if usable; notes when it stops being (then the API is
        read at once, so the status never shows TeslaMate's values under the API's name)."""
        car = self.car
        fed = car.feed.fresh(car.vehicle.vin, now) if car.feed else None
        if fed is None and self._fed_last:
            self._fell_back = True
        self._fed_last = fed is not None
        return fed

    def _adopt_feed(self, now: float) -> None:
        car = self.car
        fed = self._fresh(now)
        if fed is not None and (car.car is None or fed.read_at > car.car.read_at):
            car.take(fed)

    def _succeeded(self, started: float) -> None:
        """A round went through: the backoff starts over, and older errors are history."""
        self.attempts = 0
        self.look_failures = 0
        self.car.next_try_at = 0.0
        self.car.forget_errors_before(started)

    def _failed(self, error: BackendError) -> None:
        car, settings = self.car, self.car.settings
        now = car.clock.now()
        car.note_error(str(error))
        if isinstance(error, Asleep) and self.attempts == 0:
            car.api_said(ASLEEP)  # fell asleep since we looked: wake it, once, at once
            self.attempts = 1
            return
        self.attempts += 1
        final = isinstance(error, Unauthorized | NotConfigured)
        if final or self.attempts >= settings.max_attempts:
            tries = "" if final else f"gave up after {self.attempts} tries: "
            for goal in list(car.goals):
                car.settle(goal, Outcome(False, f"{tries}{error}; send the request again", 503))
        # The count is not reset when giving up: a caller repeating the same wish
        # every 30 s (evcc) then gets one try per backoff_max_s until the API
        # answers again, not a fresh burst of tries each time.
        if isinstance(error, RateLimited):
            delay = error.retry_after
        else:
            backoff = settings.backoff_s * 2 ** max(0, self.attempts - 1)
            delay = min(settings.backoff_max_s, backoff)
        car.next_try_at = now + delay
        logger.warning("car %d: %s (next try in %.0f s)", car.number, error, delay)
