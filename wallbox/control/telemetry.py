"""How a car's worker uses the state feed (TeslaMate) instead of reading the API:
waiting for its retained values at start, and confirming commands by its reports."""

from wallbox.clock import wait_event
from wallbox.control.car import CarController
from wallbox.control.planner import Step, plan


async def await_telemetry(car: CarController) -> None:
    """The car list may load before the broker delivers TeslaMate's retained values:
    give them a few seconds, so a start with healthy telemetry reads nothing."""
    clock = car.clock
    if car.feed is None:
        return
    deadline = clock.now() + car.settings.feed_start_wait_s
    while car.feed.fresh(car.vehicle.vin, clock.now()) is None:
        left = deadline - clock.now()
        if left <= 0:
            return
        car.fed.clear()
        await wait_event(clock, car.fed, min(0.5, left))  # values may come before the car


async def confirmed_by_feed(car: CarController, steps: list[Step], sent_at: float) -> bool:
    """With fresh telemetry, confirm the sent commands by its reports, not by a read.

    True once the telemetry reported after the commands and the plan no longer
    asks for them. False, and one API read confirms instead, when it is not (or
    no longer) usable, or has not shown the commands within `feed_confirm_s`
    (TeslaMate may be slow to poll, or suspended). The feed itself falls back
    when it reports nothing at all for a while after a command.
    """
    if car.feed is None:
        return False
    sent = {step.command for step in steps}
    settings = car.settings
    while True:
        now = car.clock.now()
        fed = car.feed.fresh(car.vehicle.vin, now)
        if fed is None:
            return False
        if fed.reported_at is not None and fed.reported_at >= sent_at:
            car.take(fed)
            p = plan(car.intent, car.goals, car.car, now, settings.policy, settings.charge_point)
            if not ({s.command for s in p.steps} & sent):
                return True
        if now - sent_at >= settings.feed_confirm_s:
            return False
        car.fed.clear()
        await wait_event(car.clock, car.fed, 1.0)  # the feed's rules are time-based
