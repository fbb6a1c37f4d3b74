"""One car's calls counted as Tesla bills them, by the local calendar."""

import logging
import time

import pytest

from wallbox.vehicle.backend import Command, Vehicle
from wallbox.vehicle.errors import Asleep, Unavailable
from wallbox.vehicle.metering import ApiUsage, MeteredBackend

CAR = Vehicle("5YJ3SIM0000000001", "1")


class Backend:
    def __init__(self) -> None:
        self.fail: Exception | None = None
        self.closed = False

    async def vehicles(self):
        return [CAR]

    async def _answer(self, value):
        if self.fail is not None:
            raise self.fail
        return value

    async def summary(self, car):
        return await self._answer("online")

    async def charge_state(self, car, read_at):
        return await self._answer(None)

    async def wake_up(self, car):
        return await self._answer("online")

    async def command(self, car, command, value=None):
        return await self._answer(None)

    def close(self):
        self.closed = True


class Wall:
    def __init__(self) -> None:
        self.now = time.mktime((2026, 6, 10, 12, 0, 0, 0, 0, -1))  # local noon, 10 June

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def metered():
    wall = Wall()
    usage = ApiUsage("car 1", wall, billed=True, credit_usd=10.0)
    backend = Backend()
    return MeteredBackend(backend, usage), backend, usage, wall


async def test_every_call_that_reached_tesla_counts_by_kind(metered):
    api, backend, usage, _ = metered
    await api.vehicles()  # the account's list: no car's bill
    await api.summary(CAR)
    await api.charge_state(CAR, 0.0)
    await api.command(CAR, Command.CHARGE_START)
    await api.wake_up(CAR)
    backend.fail = Asleep("408")
    with pytest.raises(Asleep):
        await api.charge_state(CAR, 0.0)  # a 408 is billed too
    backend.fail = Unavailable("HTTP 503")
    with pytest.raises(Unavailable):
        await api.command(CAR, Command.CHARGE_STOP)  # a 503 is not
    report = usage.report()
    assert report["today"] == {"data": 3, "command": 1, "wake": 1, "usd": 0.027}
    assert report["month"] == report["today"]
    api.close()
    assert backend.closed


async def test_days_and_months_start_afresh(metered):
    api, _, usage, wall = metered
    await api.command(CAR, Command.CHARGE_START)
    wall.now += 86400  # the next day
    await api.command(CAR, Command.CHARGE_STOP)
    report = usage.report()
    assert report["today"]["command"] == 1 and report["month"]["command"] == 2
    wall.now += 25 * 86400  # July
    assert usage.report()["month"]["command"] == 0


async def test_one_warning_a_month_when_the_projection_passes_the_credit(metered, caplog):
    api, _, usage, wall = metered
    caplog.set_level(logging.WARNING, logger="wallbox.vehicle.metering")
    # 9.5 days into June: $10 over 30 days is $3.17 so far
    for _ in range(170):
        await api.wake_up(CAR)  # $3.40
    assert usage.report()["month_projected_usd"] > 10
    for _ in range(10):
        await api.wake_up(CAR)
    warnings = [r for r in caplog.records if "more than the $10.00 credit" in r.message]
    assert len(warnings) == 1 and warnings[0].message.startswith("car 1: at this pace")
    wall.now += 25 * 86400  # July: a new month may warn again
    for _ in range(100):  # $2 in 4.5 days
        await api.wake_up(CAR)
    assert len([r for r in caplog.records if "credit" in r.message]) == 2


async def test_bluetooth_counts_calls_but_bills_nothing():
    usage = ApiUsage("car 1", Wall(), billed=False)
    api = MeteredBackend(Backend(), usage)
    for _ in range(1000):
        await api.wake_up(CAR)
    report = usage.report()
    assert report["today"]["wake"] == 1000 and report["today"]["usd"] == 0.0
    assert report["month_projected_usd"] == 0.0 and report["billed"] is False
