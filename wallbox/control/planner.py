"""What to send to a car next, and when to look at it again: pure rules.

The controller keeps, per car, the caller's intent and the *goals* still open
(charging, amps, limit, wake). `plan` compares them with the newest snapshot and
answers: which goals are met (or cannot be), which must wait, and which
commands to send in which order, or that it needs a fresher reading first.
Amps for a charging car wait as coalescing.py says (`due_in`: plan again
then); a start the car accepted waits for a read to show it took.
`next_read_in` decides when the car is read again without a goal open.

How old a reading may be:
- *current* (within the polling interval that applies, plus a margin; a
  command's answer counts as the car speaking): good enough to say "already
  so, nothing to send". Polling keeps the data this
  fresh, so a caller repeating itself costs no API call.
- *recent* (under a minute): good enough to refuse without asking the car
  ("not plugged in"). Older data is not trusted to say no: the car is asked.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from wallbox.control.charge_point import ANYWHERE, ChargePoint
from wallbox.control.coalescing import EVERY_CHANGE, Coalescing, Drift, amps_due_in, why_held
from wallbox.control.intent import LOW_AMPS, Intent
from wallbox.control.soc_guard import guard_read_in
from wallbox.control.status import limit_reached
from wallbox.vehicle.backend import Command
from wallbox.vehicle.charge_state import ASLEEP, OFFLINE, ONLINE, ChargeState

RECENT_S = 60.0
CURRENT_MARGIN_S = 30.0


class Goal(StrEnum):
    CHARGING = "charging"  # start or stop, per intent.charging
    AMPS = "amps"
    LIMIT = "limit"
    WAKE = "wake"  # an explicit wake_up request


@dataclass(frozen=True, slots=True)
class PollPolicy:
    charging_s: float = 900.0  # read a charging car this often (evcc's own cache: 15 min)
    idle_s: float = 900.0  # look at an idle or unplugged car this often
    asleep_s: float = 3600.0  # ... but a car asleep while plugged in only this often
    min_s: float = 30.0  # never closer than this, even near a target below 50 %
    doubt_s: float = 15.0  # a start the car accepted: read after this whether it took

    def interval(self, car: ChargeState | None) -> float:
        return self.charging_s if car is not None and car.charging else self.idle_s

    def sleep_check(self, car: ChargeState | None) -> float:
        """How often a sleeping car is asked whether it still sleeps. Plugging in wakes
        a car, so an unplugged one is asked as often as an idle one; a plugged-in one
        has nothing to tell that a command would not learn at once (each ask is billed,
        24 a day at 3600 s against 96 at 900)."""
        plugged = car is not None and car.plugged_in is True
        return max(self.idle_s, self.asleep_s) if plugged else self.idle_s


@dataclass(frozen=True, slots=True)
class Step:
    command: Command
    value: int | None = None
    goal: Goal | None = None  # None: the SoC guard's own stop
    repeat: int = 1  # amps under 5 A go twice


@dataclass
class Plan:
    met: dict[Goal, str] = field(default_factory=dict)  # goal -> how (for the log)
    failed: dict[Goal, str] = field(default_factory=dict)  # goal -> what to do
    held: dict[Goal, str] = field(default_factory=dict)  # goal -> what it waits for
    steps: list[Step] = field(default_factory=list)
    read_first: bool = False  # too little known: read the car, then plan again
    wake: bool = False  # the car must be awake (for steps, or to read before a command)
    due_in: float | None = None  # a held amps change is due then: plan again

    @property
    def idle(self) -> bool:
        return not self.steps and not self.read_first


def is_current(car: ChargeState | None, now: float, policy: PollPolicy) -> bool:
    return (
        car is not None
        and car.has_charge_data
        and car.age(now) <= policy.interval(car) + CURRENT_MARGIN_S
    )


def is_recent(car: ChargeState | None, now: float) -> bool:
    return car is not None and car.has_charge_data and car.age(now) <= RECENT_S


def known_asleep(car: ChargeState | None, now: float, policy: PollPolicy) -> bool:
    """The last word about the car, not older than the idle interval, was asleep/offline."""
    return (
        car is not None
        and car.car_state in (ASLEEP, OFFLINE)
        and car.state_age(now) <= policy.sleep_check(car) + CURRENT_MARGIN_S
    )


def plan(
    intent: Intent,
    goals: Iterable[Goal],
    car: ChargeState | None,
    now: float,
    policy: PollPolicy = PollPolicy(),
    charge_point: ChargePoint = ANYWHERE,
    coalescing: Coalescing = EVERY_CHANGE,
    drift: Drift | None = None,
) -> Plan:
    open_goals = set(goals)
    p = Plan()
    current = is_current(car, now, policy)
    recent = is_recent(car, now)
    asleep = known_asleep(car, now, policy)
    stop: Step | None = None
    limit_step: Step | None = None
    amps_steps: list[Step] = []
    start: Step | None = None

    # Nothing goes to a car that is not at this charge point (charge_point.py);
    # an old reading is not trusted to say so: read first (a read never wakes).
    for goal in sorted(open_goals - {Goal.WAKE}):
        why = charge_point.refusal(car, goal_command(goal, intent))
        if why is not None and current:
            p.failed[goal] = why
            open_goals.discard(goal)
        elif why is not None:
            p.read_first = True

    # The SoC guard: a target below 50 % is this controller's job, not the car's.
    guard = intent.guard_soc
    if (
        guard is not None
        and current
        and charge_point.refusal(car, Command.CHARGE_STOP) is None
        and car is not None
        and car.charging
        and car.battery_level is not None
        and car.battery_level >= guard
    ):
        stop = Step(Command.CHARGE_STOP)
        if Goal.CHARGING in open_goals and intent.charging:
            p.met[Goal.CHARGING] = f"the target SoC {guard} % is reached"
            open_goals.discard(Goal.CHARGING)

    if Goal.WAKE in open_goals:
        if car is not None and car.car_state == ONLINE and car.state_age(now) <= RECENT_S:
            p.met[Goal.WAKE] = "the car is awake"
        else:
            p.read_first = p.wake = True

    want_limit = intent.car_limit
    if Goal.LIMIT in open_goals:
        if want_limit is None:
            p.met[Goal.LIMIT] = "no target SoC"
        elif current and car is not None and car.charge_limit_soc == want_limit:
            p.met[Goal.LIMIT] = f"the car's limit is {want_limit} %"
        elif car is None or not car.has_charge_data:
            p.read_first = p.wake = True
        else:
            limit_step = Step(Command.SET_CHARGE_LIMIT, want_limit, Goal.LIMIT)

    if Goal.CHARGING in open_goals:
        if intent.charging is None:
            p.met[Goal.CHARGING] = "no wish"
        elif intent.charging:
            limit_after = want_limit if limit_step is not None else None
            if current and car is not None and told_starting(car):
                p.held[Goal.CHARGING] = "the car accepted charge_start; a read tells if it took"
            elif current and car is not None and car.charging:
                p.met[Goal.CHARGING] = "already charging"
            elif recent and car is not None and car.plugged_in is False:
                p.failed[Goal.CHARGING] = (
                    "the car is not plugged in: plug it in, then ask to charge again"
                )
            elif current and car is not None and _full(car, guard, limit_after):
                p.met[Goal.CHARGING] = "the limit is reached, nothing to charge"
            elif not current:
                p.read_first = p.wake = True
            else:
                start = Step(Command.CHARGE_START, goal=Goal.CHARGING)
        else:
            if asleep:
                p.met[Goal.CHARGING] = "the car is asleep, so not charging"
            elif current and car is not None and not car.charging:
                p.met[Goal.CHARGING] = "not charging"
            elif current:
                stop = Step(Command.CHARGE_STOP, goal=Goal.CHARGING)
            else:
                p.read_first = True  # a read never wakes; asleep answers "not charging"

    if Goal.AMPS in open_goals:
        amps = intent.amps
        charging_now = current and car is not None and car.charging
        if amps is None:
            p.met[Goal.AMPS] = "no amps asked for"
        elif current and car is not None and car.charge_current_request == amps:
            p.met[Goal.AMPS] = f"the car already asks for {amps} A"
        elif amps < LOW_AMPS:
            if charging_now or start is not None:
                amps_steps.append(Step(Command.SET_CHARGING_AMPS, amps, Goal.AMPS, repeat=2))
            else:
                p.held[Goal.AMPS] = f"{amps} A is sent once charging runs (under 5 A only then)"
        elif asleep and start is None and Goal.WAKE not in open_goals:
            p.held[Goal.AMPS] = f"{amps} A is sent when the car is awake (not worth a wake-up)"
        elif car is None or not car.has_charge_data:
            p.read_first = True
        elif charging_now and (
            due := amps_due_in(amps, car.charge_current_request, drift, now, coalescing)
        ):
            asked = car.charge_current_request
            p.held[Goal.AMPS] = why_held(amps, asked if asked is not None else amps, coalescing)
            p.due_in = due
        else:
            amps_steps.append(Step(Command.SET_CHARGING_AMPS, amps, Goal.AMPS))

    # Order: stop first; the limit before starting (or the car answers `complete`);
    # amps before starting, except under 5 A, which only counts while charging.
    if stop is not None:
        p.steps.append(stop)
    if limit_step is not None:
        p.steps.append(limit_step)
    p.steps.extend(s for s in amps_steps if s.repeat == 1)
    if start is not None:
        p.steps.append(start)
    p.steps.extend(s for s in amps_steps if s.repeat > 1)
    if p.read_first:
        p.steps.clear()  # decide again with fresh data
    elif p.steps:
        p.wake = True
    return p


def goal_command(goal: Goal, intent: Intent) -> Command | None:
    """The command a goal would send; None for a wake-up or when nothing is asked."""
    if goal is Goal.CHARGING and intent.charging is not None:
        return Command.CHARGE_START if intent.charging else Command.CHARGE_STOP
    if goal is Goal.AMPS and intent.amps is not None:
        return Command.SET_CHARGING_AMPS
    if goal is Goal.LIMIT and intent.car_limit is not None:
        return Command.SET_CHARGE_LIMIT
    return None


def _full(car: ChargeState, guard: int | None, new_limit: int | None) -> bool:
    if new_limit is not None:  # the limit is about to change: judge by the new one
        soc = car.battery_level
        return soc is not None and (soc >= new_limit or (guard is not None and soc >= guard))
    return limit_reached(car, guard)


def next_read_in(
    car: ChargeState | None,
    intent: Intent,
    now: float,
    policy: PollPolicy = PollPolicy(),
    kwh_per_percent: float | None = None,
    measured_at: float | None = None,
) -> float:
    """Seconds until the car should be looked at again, with no goal open.

    Nothing known yet: now. Charging: every `charging_s`, and near a target
    below 50 % when soc_guard says (never closer than `min_s`; `kwh_per_percent`:
    what the session has shown one percent to take); a start the car accepted
    but has not been seen to begin, after `doubt_s`. Counted from `measured_at`,
    the last real read: a command's answer (command_news.py) tells only what
    the command changed, so the SoC and the poll still count from the read.
    Anything else (plugged in and idle, unplugged): every `idle_s`. A sleeping
    car is only asked whether it still sleeps, which never wakes it: as
    `sleep_check` says.
    """
    if car is None:
        return 0.0
    if not car.has_charge_data:  # only the sleep state is known
        return 0.0 if car.car_state == ONLINE else max(0.0, policy.idle_s - car.state_age(now))
    asleep = car.car_state in (ASLEEP, OFFLINE)
    interval = policy.sleep_check(car) if asleep else policy.interval(car)
    guard = intent.guard_soc
    if car.charging and guard is not None:
        interval = min(interval, guard_read_in(car, guard, kwh_per_percent, policy.min_s))
    measured = car.read_at if measured_at is None else measured_at
    if asleep:  # a sleeping car's look is the sleep check
        measured = max(measured, now - car.state_age(now))
    wait = interval - max(0.0, now - measured)
    if car.charging_state == "Starting":  # did the start take (NoPower, a schedule)?
        wait = min(wait, policy.doubt_s - car.age(now))
    return max(0.0, wait)


def told_starting(car: ChargeState) -> bool:
    """The car accepted charge_start, and nothing read since has shown it charging."""
    return car.source == "command" and car.charging_state == "Starting"
