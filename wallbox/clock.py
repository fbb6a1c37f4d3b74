"""Time, injectable: the controller and the simulator never call time or sleep directly.

- `RealClock`: the process's own time.
- `ScaledClock`: real time running `factor` times faster, for demos and the
  benchmark (an hour of PV control in a minute, over real HTTP).
- `FakeClock`: discrete-event time for tests: nothing moves until the test
  calls `advance`, which wakes the sleepers in deadline order.
"""

import asyncio
import heapq
import itertools
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Monotonic seconds, for intervals and deadlines."""
        ...

    def wall(self) -> float:
        """Epoch seconds, for timestamps shown to people."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class RealClock:
    def now(self) -> float:
        return time.monotonic()

    def wall(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class ScaledClock:
    def __init__(self, factor: float) -> None:
        if factor <= 0:
            raise ValueError("the time factor must be positive")
        self.factor = factor
        self._start_mono = time.monotonic()
        self._start_wall = time.time()

    def now(self) -> float:
        return (time.monotonic() - self._start_mono) * self.factor

    def wall(self) -> float:
        return self._start_wall + self.now()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.factor)


class FakeClock:
    def __init__(self, wall_start: float = 1_750_000_000.0) -> None:
        self._now = 0.0
        self._wall_start = wall_start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def now(self) -> float:
        return self._now

    def wall(self) -> float:
        return self._wall_start + self._now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._order), future))
        await future  # a cancelled sleeper stays in the heap and is skipped

    async def settle(self) -> None:
        """Let every task that can run, run (they only ever wait on this clock)."""
        for _ in range(30):
            await asyncio.sleep(0)

    async def advance(self, seconds: float) -> None:
        """Move time forward, waking sleepers in order and letting each react."""
        target = self._now + seconds
        await self.settle()
        while True:
            while self._sleepers and self._sleepers[0][2].done():
                heapq.heappop(self._sleepers)
            if not self._sleepers or self._sleepers[0][0] > target:
                break
            deadline, _, future = heapq.heappop(self._sleepers)
            self._now = max(self._now, deadline)
            future.set_result(None)
            await self.settle()
        self._now = target
        await self.settle()

    async def run_until(self, condition, limit: float, step: float = 1.0) -> float:
        """Advance in steps until `condition()` holds; returns the fake time it took."""
        started = self._now
        while not condition():
            if self._now - started >= limit:
                raise TimeoutError(f"condition not met after {limit} fake seconds")
            await self.advance(step)
        return self._now - started


async def wait_event(clock: Clock, event: asyncio.Event, within: float | None) -> bool:
    """Wait for `event` or `within` seconds of `clock` time; True if the event fired."""
    if event.is_set():
        return True
    if within is not None and within <= 0:
        return False
    waiter = asyncio.ensure_future(event.wait())
    tasks: set[asyncio.Future] = {waiter}
    if within is not None:
        tasks.add(asyncio.ensure_future(clock.sleep(within)))
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            if not task.done():
                task.cancel()
    return event.is_set()
