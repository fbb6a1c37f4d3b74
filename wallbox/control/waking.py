"""Waking a car before a command: the costliest call there is, so it is made only
when the car is not known to be awake, and the car is then watched until it
answers or the time is up: through a trusted feed for free, else (or once the
feed has been quiet for FEED_GRACE_S) by sleep-state checks, which never wake it."""

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
        and (_fed(car) is not None or known.state_age(now) <= settings.awake_trust_s)
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
        fed = await _feed_after(car, delay)
        if fed is not None and fed.car_state == ONLINE and (fed.reported_at or 0.0) >= woke_at:
            logger.info("car %d is awake (so says %s)", car.number, _source(car))
            return
        if fed is None or clock.now() - woke_at >= FEED_GRACE_S:  # ask, billed
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


async def _feed_after(car: CarController, within: float) -> ChargeState | None:
    """The trusted feed's snapshot after its next word or `within` s, whichever comes
    first (without a trusted feed: after `within` s, and None)."""
    if _fed(car) is None:
        await car.clock.sleep(within)
    else:
        car.fed.clear()
        await wait_event(car.clock, car.fed, within)
    return _fed(car)


def _source(car: CarController) -> str:
    described = car.feed.describe(car.vehicle.vin, car.clock.now()) if car.feed else {}
    return str(described.get("source", "the feed"))
