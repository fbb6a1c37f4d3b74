"""How a car's worker uses the state feed (TeslaMate) instead of reading the API:
waiting for its retained values at start."""

from wallbox.clock import wait_event
from wallbox.control.car import CarController


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
