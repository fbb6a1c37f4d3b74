"""Counting one car's vehicle API calls as Tesla bills them (billing.py), today and
this month, by the local calendar.

`MeteredBackend` wraps the back-end a car's controller talks through: every
call that reached Tesla and came back below 500 counts, by kind (a read, the
sleep-state check, a command, a wake-up). Counts live in memory: a restart
starts them again. Once a month, when the month's projection passes the
credit, one warning says so.
"""

import calendar
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from wallbox.vehicle.backend import Command, Vehicle, VehicleBackend
from wallbox.vehicle.billing import CREDIT_USD, billed_failure, usage_report
from wallbox.vehicle.charge_state import ChargeState

logger = logging.getLogger(__name__)
T = TypeVar("T")


class ApiUsage:
    def __init__(
        self, name: str, wall: Callable[[], float], *, billed: bool, credit_usd: float = CREDIT_USD
    ) -> None:
        self.name = name  # "car 1", for the warning
        self.wall = wall  # epoch seconds (the controller's clock)
        self.billed = billed
        self.credit_usd = credit_usd
        self.today: Counter[str] = Counter()
        self.month: Counter[str] = Counter()
        self._day: tuple[int, int, int] | None = None
        self._warned: tuple[int, int] | None = None  # the month warned about

    def count(self, kind: str) -> None:
        self._roll(time.localtime(self.wall()))
        self.today[kind] += 1
        self.month[kind] += 1
        report = self.report()
        month = self._day[:2] if self._day else None
        if (
            self.billed
            and report["month_projected_usd"] > self.credit_usd
            and self._warned != month
        ):
            self._warned = month
            logger.warning(
                "%s: at this pace the vehicle API costs $%.2f this month, more than the "
                "$%.2f credit (so far $%.2f: %s); fewer calls: TeslaMate telemetry, or "
                "longer wallbox_amps_long_wait / wallbox_poll_charging",
                self.name,
                report["month_projected_usd"],
                self.credit_usd,
                report["month"]["usd"],
                ", ".join(f"{n} {kind}" for kind, n in sorted(self.month.items())),
            )

    def report(self) -> dict[str, Any]:
        now = time.localtime(self.wall())
        self._roll(now)
        days = calendar.monthrange(now.tm_year, now.tm_mon)[1]
        elapsed = now.tm_mday - 1 + (now.tm_hour * 3600 + now.tm_min * 60 + now.tm_sec) / 86400
        return usage_report(
            self.today,
            self.month,
            billed=self.billed,
            elapsed_days=elapsed,
            days_in_month=days,
            credit_usd=self.credit_usd,
        )

    def _roll(self, now: time.struct_time) -> None:
        day = (now.tm_year, now.tm_mon, now.tm_mday)
        if self._day is not None and day != self._day:
            self.today.clear()
            if day[:2] != self._day[:2]:
                self.month.clear()
        self._day = day


class MeteredBackend:
    """One car's view of the back-end: the same calls, counted."""

    def __init__(self, backend: VehicleBackend, usage: ApiUsage) -> None:
        self.backend = backend
        self.usage = usage

    async def _metered(self, kind: str, call: Awaitable[T]) -> T:
        try:
            result = await call
        except Exception as e:
            if billed_failure(e):
                self.usage.count(kind)
            raise
        self.usage.count(kind)
        return result

    async def vehicles(self) -> list[Vehicle]:
        return await self.backend.vehicles()  # the account's, not one car's

    async def summary(self, car: Vehicle) -> str:
        return await self._metered("data", self.backend.summary(car))

    async def charge_state(self, car: Vehicle, read_at: float) -> ChargeState:
        return await self._metered("data", self.backend.charge_state(car, read_at))

    async def wake_up(self, car: Vehicle) -> str:
        return await self._metered("wake", self.backend.wake_up(car))

    async def command(self, car: Vehicle, command: Command, value: int | None = None) -> None:
        await self._metered("command", self.backend.command(car, command, value))

    def close(self) -> None:
        self.backend.close()
