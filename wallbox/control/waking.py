"""Waking a car before a command: the costliest call there is, so it is made only
when the car is not known to be awake, and the car is then watched (sleep-state
checks only, which never wake it) until it answers or the time is up."""

import logging

from wallbox.control.car import CarController
from wallbox.vehicle.backend import Asleep
from wallbox.vehicle.charge_state import ASLEEP, OFFLINE, ONLINE, UNKNOWN

logger = logging.getLogger(__name__)


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
    known_asleep = (
        known is not None
        and known.car_state in (ASLEEP, OFFLINE)
        and known.state_age(now) <= settings.awake_trust_s
    )
    if known_asleep and known is not None:
        state = known.car_state
    else:
        state = await car.backend.summary(car.vehicle)
        car.api_said(state)
    if state in (ONLINE, UNKNOWN):
        return  # unknown: a proxy without the summary; the command itself will tell
    logger.info("car %d is %s: waking it up", car.number, state)
    await car.backend.wake_up(car.vehicle)
    deadline = clock.now() + settings.wake_timeout_s
    delay = 3.0
    while True:
        await clock.sleep(delay)
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
