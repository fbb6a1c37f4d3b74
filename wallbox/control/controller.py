"""The controller: every car of the account, found at start, by number or VIN.

`Controller` lists the cars (retrying with backoff until the vehicle API
answers), restores each car's stored intent, starts one worker per car
(worker.py) and answers lookups; `follow`/`subscribe` hand every status change
to the MQTT and openWB bridges. Each car's intent, goals and status live in
car.py; what to send when is planner.py's.
"""

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any

from wallbox.clock import Clock, RealClock, wait_event
from wallbox.control.car import CarController
from wallbox.control.outcomes import NotReady, UnknownCar
from wallbox.control.ports import IntentStorage, StateFeed
from wallbox.control.settings import Settings
from wallbox.control.worker import CarWorker
from wallbox.supervisor import Crash, Supervised
from wallbox.vehicle.backend import (
    BackendError,
    NotConfigured,
    RateLimited,
    Vehicle,
    VehicleBackend,
)

logger = logging.getLogger(__name__)


class Controller:
    """All cars of the account: discovery, lookup by number or VIN, subscriptions."""

    def __init__(
        self,
        backend: VehicleBackend,
        *,
        clock: Clock | None = None,
        settings: Settings | None = None,
        storage: IntentStorage | None = None,
        feed: StateFeed | None = None,
    ) -> None:
        self.backend = backend
        self.clock = clock or RealClock()
        self.settings = settings or Settings()
        self.storage = storage
        self.feed = feed
        self.cars: list[CarController] = []
        self.workers: list[CarWorker] = []
        self.not_ready = "the car list is being loaded"
        self.next_discovery_at: float | None = None
        self._listeners: list[Callable[[dict[str, Any]], None]] = []
        self._discovery = Supervised(
            "wallbox discovery",
            self._discover,
            clock=self.clock,
            on_crash=self._discovery_failed,
            backoff_s=self.settings.backoff_s,
            backoff_max_s=self.settings.backoff_max_s,
        )
        self._ready = asyncio.Event()

    def start(self) -> None:
        if not self._ready.is_set():
            self._discovery.start()

    def stop(self) -> None:
        """Synchronous, for mitmproxy's `done`: cancel the workers, release the back-end."""
        self._discovery.stop()
        for worker in self.workers:
            worker.stop()
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
        cars = []
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
            cars.append(car)
        # Taken over only once complete: a discovery that fails on the way starts afresh.
        self.cars, self.workers = cars, [CarWorker(car) for car in cars]
        for worker in self.workers:
            worker.start()
        self.not_ready = ""
        self.next_discovery_at = None
        self._ready.set()
        logger.info(
            "wallbox: %s",
            ", ".join(f"car {c.number} = {c.vehicle.vin} ({c.vehicle.name})" for c in self.cars),
        )

    def _discovery_failed(self, crash: Crash) -> None:
        """Shown in every 503 until the car list loads: the traceback is in the log."""
        self.not_ready = f"{crash.message}; the log has the details"
        self.next_discovery_at = self.clock.now() + (crash.retry_in or 0.0)

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
