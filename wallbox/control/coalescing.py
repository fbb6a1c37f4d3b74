"""When a new charging current goes to a charging car: pure rules.

A PV controller (evcc) sends a new current whenever the surplus moves: every
30 s on a cloudy day, with ±1 A of jitter. Each `set_charging_amps` is a billed
command (about $0.001 on the Fleet API), so passing every change on costs more
than Tesla's monthly credit. The car need not follow each wiggle, only the
energy that matters:

  a fall of `step_a` or more        at once: the car would draw from the grid
  a rise of `step_a` or more        once it has lasted `short_wait_s`: a cloud
                                    has passed, the surplus is back
  a smaller fall                    once it has lasted `short_wait_s`
  a smaller rise                    once it has lasted `long_wait_s`: the slow
                                    swell of the day, followed in few steps
  within `deadband_a` either way    once it has lasted `long_wait_s` (jitter
                                    comes back before that)

"Lasted" is a *drift*: it starts when the wish first leaves the car's current
in that direction and goes on while it stays on that side, however the wish
moves there; the newest wish is what goes out. Only a charging car is held
back: before a start, amps go at once (the start follows). `EVERY_CHANGE`
(step 1, no waits): every change at once.

The defaults come from a seeded cloudy day (tests/e2e/test_cost.py's model,
clouds of 1-4 minutes taking 2-6 A every ~7 minutes, ±1 A of jitter), followed
for 4 hours with 5 seeds: about 13 commands an hour (evcc sends ~70), grid
import at most 2.6 % and unused surplus at most 7 % of the energy drawn. A
shorter `short_wait_s` (30 s) follows more closely for 16 commands an hour; a
`step_a` of 2 costs 20-24.
"""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Coalescing:
    step_a: int = 3  # wallbox_amps_step
    short_wait_s: float = 60.0  # wallbox_amps_short_wait
    long_wait_s: float = 300.0  # wallbox_amps_long_wait
    deadband_a: int = 1  # wallbox_amps_deadband


EVERY_CHANGE = Coalescing(step_a=1, short_wait_s=0.0, long_wait_s=0.0, deadband_a=0)


@dataclass(frozen=True, slots=True)
class Drift:
    """The wish has been on one side of the car's current since `since`."""

    direction: int  # -1: below (a fall is wanted), +1: above (a rise)
    since: float


def drift(before: Drift | None, wanted: int | None, asked: int | None, now: float) -> Drift | None:
    """The drift after this look: None when the wish and the car agree (or either is unknown)."""
    if wanted is None or asked is None or wanted == asked:
        return None
    direction = 1 if wanted > asked else -1
    if before is not None and before.direction == direction:
        return before
    return Drift(direction, now)


def amps_due_in(
    wanted: int, asked: int | None, since: Drift | None, now: float, rule: Coalescing
) -> float:
    """Seconds until `wanted` should go to a car charging at `asked` A; 0: now."""
    if asked is None or wanted == asked:
        return 0.0
    started = since.since if since is not None else now
    return max(0.0, started + lasting_s(wanted, asked, rule) - now)


def lasting_s(wanted: int, asked: int, rule: Coalescing) -> float:
    """How long a change from `asked` to `wanted` must last before it goes out."""
    change = wanted - asked
    if change <= -rule.step_a:
        return 0.0
    if abs(change) <= rule.deadband_a:
        return rule.long_wait_s
    if change < 0 or change >= rule.step_a:
        return rule.short_wait_s
    return rule.long_wait_s


def why_held(wanted: int, asked: int, rule: Coalescing) -> str:
    """What a held amps change waits for, as the status shows it."""
    way = "a rise" if wanted > asked else "a fall"
    lasting = lasting_s(wanted, asked, rule)
    return f"{wanted} A goes to the car once wanted for {lasting:.0f} s ({way} from {asked} A)"
