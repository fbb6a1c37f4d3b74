"""The charge controller wired to the in-process car simulator, on fake time."""

from dataclasses import dataclass

from storage.intents import StoredIntent
from wallbox.clock import FakeClock
from wallbox.control.controller import Controller
from wallbox.control.settings import Settings
from wallbox.vehicle.simulator.backend import SimulatedBackend
from wallbox.vehicle.simulator.fleet import Fleet


class MemoryIntents:
    def __init__(self) -> None:
        self.rows: dict[str, StoredIntent] = {}

    async def load_all(self):
        return dict(self.rows)

    async def save(self, vin, intent):
        self.rows[vin] = intent


@dataclass
class Rig:
    clock: FakeClock
    fleet: Fleet
    controller: Controller
    storage: MemoryIntents

    @property
    def car(self):
        return self.controller.car("1")

    @property
    def sim(self):
        return self.fleet.cars[0]

    def calls(self, endpoint=None):
        calls = self.fleet.calls
        return sum(calls.values()) if endpoint is None else calls[endpoint]

    def commands(self):
        return [(name, body) for _, name, body in self.sim.commands]

    async def settle(self, limit=600.0):
        await self.clock.run_until(lambda: not self.car.goals, limit)


async def make_rig(storage=None, settings=None, cars=1, **sim) -> Rig:
    clock = FakeClock()
    fleet = Fleet.with_cars(cars, clock, **sim)
    storage = storage or MemoryIntents()
    settings = settings or Settings()
    controller = Controller(
        SimulatedBackend(fleet), clock=clock, storage=storage, settings=settings
    )
    controller.start()
    await clock.advance(1)
    return Rig(clock, fleet, controller, storage)
