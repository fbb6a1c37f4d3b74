"""No background task of the controller dies silently (issue 18): an unexpected exception
in the discovery or in a car's worker is logged once with its traceback, shown in the
status, and the task goes on after a backoff. On fake time, against the simulator."""

import asyncio
import logging

import pytest

from support.controller_rig import MemoryIntents
from wallbox.clock import FakeClock
from wallbox.control.controller import Controller
from wallbox.control.outcomes import NotReady
from wallbox.control.settings import Settings
from wallbox.vehicle.simulator.backend import SimulatedBackend
from wallbox.vehicle.simulator.fleet import Fleet


class Buggy(SimulatedBackend):
    """The simulator, but `method` raises what no back-end promises, `times` times."""

    def __init__(self, fleet: Fleet, method: str, error: Exception, times: int = 1) -> None:
        super().__init__(fleet)
        self.method, self.error, self.left = method, error, times

    def _bug(self, method: str) -> None:
        if method == self.method and self.left > 0:
            self.left -= 1
            raise self.error

    async def vehicles(self):
        self._bug("vehicles")
        return await super().vehicles()

    async def charge_state(self, car, read_at):
        self._bug("charge_state")
        return await super().charge_state(car, read_at)


def crashes(caplog, name: str) -> list[logging.LogRecord]:
    return [
        r for r in caplog.records if r.levelno >= logging.ERROR and r.getMessage().startswith(name)
    ]


async def rig(backend_error: str, error: Exception, times: int = 1, **sim):
    clock = FakeClock()
    fleet = Fleet.with_cars(1, clock, **sim)
    backend = Buggy(fleet, backend_error, error, times)
    controller = Controller(backend, clock=clock, storage=MemoryIntents(), settings=Settings())
    controller.start()
    await clock.advance(0)
    return clock, fleet, controller


async def test_a_discovery_that_fails_unexpectedly_says_so_and_tries_again(caplog):
    # what issue 18 saw: a TypeError from inside teslapy, and then nothing at all
    error = TypeError("'<' not supported between instances of 'int' and 'NoneType'")
    clock, fleet, controller = await rig("vehicles", error, times=2)
    try:
        with pytest.raises(NotReady) as refused:
            controller.car("1")
        assert str(refused.value) == (
            "the car list is not loaded yet: wallbox discovery failed unexpectedly (TypeError: "
            "'<' not supported between instances of 'int' and 'NoneType'); the log has the "
            "details; next try in 5 s"
        )
        assert refused.value.retry_after == 5.0
        [logged] = crashes(caplog, "wallbox discovery failed unexpectedly")  # once, not twice
        assert logged.exc_info is not None and logged.exc_info[1] is error
        await clock.advance(5)  # the second failure: backoff doubles
        with pytest.raises(NotReady, match="next try in 10 s"):
            controller.car("1")
        await clock.advance(10)
        car = controller.car("1")  # loaded: discovery went on
        assert car.vehicle.vin == fleet.cars[0].vin and len(controller.workers) == 1
        assert len(crashes(caplog, "wallbox discovery")) == 1
    finally:
        controller.stop()


async def test_a_worker_that_fails_unexpectedly_shows_it_and_goes_on(caplog):
    error = KeyError("charge_state")  # a bug, say, in reading an answer
    clock, fleet, controller = await rig("charge_state", error, times=3, soc=40)
    try:
        await clock.advance(1)
        car = controller.car("1")
        await clock.run_until(lambda: car.last_error is not None, 60)
        status = car.status()
        assert status["last_error"] == (
            "car 1 worker failed unexpectedly (KeyError: 'charge_state'); going on in 5 s"
        )
        [logged] = crashes(caplog, "car 1 worker failed unexpectedly")
        assert logged.exc_info is not None and logged.exc_info[1] is error
        await clock.advance(60)  # fails twice more, quietly, and then reads the car
        asking = asyncio.create_task(car.set_intent(charging=True, wait=120))
        await clock.run_until(asking.done, 120)
        assert asking.result().status["status"] == 3  # charging: the worker went on
        assert [c[1] for c in fleet.cars[0].commands] == ["charge_start"]
        assert car.status()["last_error"] is None  # a good round: the failure is history
        assert len(crashes(caplog, "car 1 worker")) == 1
    finally:
        controller.stop()
