"""Waking a car before a command: the costliest call there is, so it is made only
when the car is not known to be awake, and the car is then watched (sleep-state
checks only, which never wake it) until it answers or the time is up."""

import logging

from wallbox.clock import wait_event
from wallbox.control.car import CarController
from wallbox.vehicle.backend import Asleep
from wallbox.vehicle.charge_state import ASLEEP, OFFLINE, ONLINE, UNKNOWN, ChargeState

logger = logging.getLogger(__name__)

# With a trusted feed (TeslaMate, a push stream) the car's waking shows there for
# free; only after this long without a word is it asked (a billed sleep check).
FEED_GRACE_S = 30.0


async def ensure_awake(car: CarController) -> None:
    """Return once the car is awake (or may be: a proxy that cannot tell); raise Asleep."""
    known, clock, settings = car.car, car.clock, car.settings
    now = clock.now()
    if known is not None and known.car_state == ONLINE:
        trust = settings.awake_trust_s
        if known.charging:  # a charging car does not sleep: its last reading vouches for it
            trust = max(trust, settings.policy.interval(known) + 30.0)
        if known.state_age(now) <= trust:
            return
    # Asleep by the last word, recent or kept current by a trusted feed (which would
    # have said "online" since): no sleep check to pay before the wake. The feed's own
    # "online" is not taken here: it may lag a car that fell asleep, and the API's
    # newer "asleep" (a 408) must win, or commands would go to a sleeping car forever.
    known_asleep = (
        known is not None
        and known.car_state in (ASLEEP, OFFLINE)
        and (_feed_trusted(car) or known.state_age(now) <= settings.awake_trust_s)
    )
    if known_asleep and known is not None:
        state = known.car_state
    else:
        state = await car.backend.summary(car.vehicle)
        car.api_said(state)
    if state in (ONLINE, UNKNOWN):
        return  # unknown: a proxy without the summary; the command itself will tell
    logger.info("car %d is %s: waking it up", car.number, state)
    woke_at = clock.now()
    if await car.backend.wake_up(car.vehicle) == ONLINE:
        car.api_said(ONLINE)
        logger.info("car %d is awake", car.number)
        return
    deadline = woke_at + settings.wake_timeout_s
    delay = 3.0
    while True:
        if await _feed_says_awake(car, woke_at, delay):
            logger.info("car %d is awake (so says %s)", car.number, _source(car))
            return
        if _feed_trusted(car) and clock.now() - woke_at < FEED_GRACE_S:
            pass  # the feed tells for free; the sleep check only once it has had its time
        else:
            state = await car.backend.summary(car.vehicle)
            car.api_said(state)
            if state == ONLINE:
                logger.info("car %d is awake", car.number)
                return
        if clock.now() + delay > deadline:
            raise Asleep(
                f"the car did not wake up within {settings.wake_timeout_s:.0f} s; "
                "retrying (check its connectivity if this repeats)"
            )
        delay = min(delay * 1.5, 10.0)


def _fed(car: CarController) -> ChargeState | None:
    """The trusted feed's snapshot of the car; None without one."""
    return car.feed.fresh(car.vehicle.vin, car.clock.now()) if car.feed is not None else None


def _feed_trusted(car: CarController) -> bool:
    return _fed(car) is not None


async def _feed_says_awake(car: CarController, since: float, within: float) -> bool:
    """Wait up to `within` s for a trusted feed to report the car online after `since`
    (without a trusted feed: just wait). Its word costs nothing; a sleep check is billed."""
    clock = car.clock
    if _feed_trusted(car):
        car.fed.clear()
        await wait_event(clock, car.fed, within)
    else:
        await clock.sleep(within)
    fed = _fed(car)
    return fed is not None and fed.car_state == ONLINE and (fed.reported_at or 0.0) >= since


def _source(car: CarController) -> str:
    described = car.feed.describe(car.vehicle.vin, car.clock.now()) if car.feed else {}
    return str(described.get("source", "the feed"))
