"""When a new charging current goes to a charging car: pure rules.

A PV controller (evcc) sends a new current whenever the surplus moves: every
30 s on a cloudy day, with ±1 A of jitter. Each `set_charging_amps` is a billed
command (about $0.001 on the Fleet API), so passing every change on costs more
than Tesla's monthly credit. The car need not follow each wiggle, only the
energy that matters:

  a fall of `fall_now_a` or more      at once: the car would draw from the grid
  a smaller fall                      once the wish has stayed below the car's
                                      current for `fall_wait_s`
  a rise                              once it has stayed above for `rise_wait_s`:
                                      surplus left unused costs less than import
  within `deadband_a` either way      once it has stayed so for `rise_wait_s`
                                      (jitter comes back before that)

"Stayed below/above" is a *drift*: it starts when the wish first leaves the
car's current in that direction and lasts while it stays on that side, however
the wish moves there; the newest wish is what goes out. Only a charging car is
held back: before a start, amps go at once (they cost nothing in energy then,
and the start follows). All waits 0 and `fall_now_a` 1: every change at once.
"""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Coalescing:
    fall_now_a: int = 3  # wallbox_amps_fall_now
    fall_wait_s: float = 60.0  # wallbox_amps_fall_wait
    rise_wait_s: float = 300.0  # wallbox_amps_rise_wait
    deadband_a: int = 1  # wallbox_amps_deadband


EVERY_CHANGE = Coalescing(fall_now_a=1, fall_wait_s=0.0, rise_wait_s=0.0, deadband_a=0)


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
    change = wanted - asked
    if change <= -rule.fall_now_a:
        return 0.0
    if abs(change) <= rule.deadband_a:
        wait = max(rule.rise_wait_s, rule.fall_wait_s)
    elif change < 0:
        wait = rule.fall_wait_s
    else:
        wait = rule.rise_wait_s
    started = since.since if since is not None else now
    return max(0.0, started + wait - now)


def why_held(wanted: int, asked: int, due_in: float) -> str:
    """What a held amps change waits for, as the status shows it."""
    way = "a rise" if wanted > asked else "a small fall"
    return f"{wanted} A goes to the car in {due_in:.0f} s if still wanted ({way} from {asked} A)"
