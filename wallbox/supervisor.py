"""Background work that never dies silently.

An exception nobody planned for must not end a background loop for good, and
must not vanish either: asyncio keeps a task's exception until the task is
garbage-collected, and an owner that holds the task never lets that happen.

- `Supervised` runs one long-lived coroutine (the car list's discovery, a car's
  worker, the mirror's delivery, the TeslaMate silence watch, the history
  purge). When it fails it is logged with its traceback, `on_crash` shows the
  `Crash` where the user looks (the wallbox status, `make status`), and it is
  started again after a backoff: `backoff_s`, doubling up to `backoff_max_s`,
  and back to `backoff_s` after a run that lasted `stable_s`.
- `Jobs` runs one-shot tasks of one owner (an MQTT command): a failure is
  logged and handed to `on_crash`, nothing is restarted, and the references
  asyncio does not keep (it holds tasks weakly) are kept. `spawn` is the same
  for a job of its own (starting an addon).
- `guarded` does it for callbacks (paho's thread, `call_soon`): the failure is
  logged, and the caller (a network thread) lives on.

Each failure is logged once: the same one again (type, text and where it was
raised) is counted, at debug level, until a stable run or another failure.
Cancelling is stopping, not failing; a coroutine that returns is done.

Imports nothing above it: every floor of wallbox/ and the addons may use it.
"""

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from wallbox.clock import Clock, RealClock

logger = logging.getLogger(__name__)

MAX_TEXT = 300  # an exception's text in a status line


@dataclass(frozen=True, slots=True)
class Crash:
    name: str  # what failed, in words: "wallbox discovery", "car 1 worker"
    error: Exception
    count: int  # failures in a row (1 for a job)
    retry_in: float | None  # seconds until the restart; None: not restarted

    @property
    def message(self) -> str:
        """One line for a status field: what failed and how, never the traceback."""
        text = str(self.error).strip().splitlines()[0] if str(self.error).strip() else ""
        text = text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"
        kind = type(self.error).__name__
        return f"{self.name} failed unexpectedly ({kind}{': ' + text if text else ''})"


CrashHandler = Callable[[Crash], Awaitable[None] | None]


class _Once:
    """Remembers the last failure logged, so a failure that repeats is logged once."""

    def __init__(self) -> None:
        self.last: tuple[str, str, str, str, int] | None = None

    def log(self, crash: Crash, then: str) -> None:
        error = crash.error
        frame = _innermost(error)
        signature = (crash.name, type(error).__qualname__, str(error), *frame)
        if signature == self.last:
            logger.debug("%s again (%d in a row); %s", crash.message, crash.count, then)
            return
        self.last = signature
        logger.error("%s; %s", crash.message, then, exc_info=error)

    def forget(self) -> None:
        self.last = None


class Supervised:
    """One long-lived coroutine, started again with backoff whenever it fails."""

    def __init__(
        self,
        name: str,
        run: Callable[[], Coroutine[Any, Any, None]],
        *,
        clock: Clock | None = None,
        on_crash: CrashHandler | None = None,
        backoff_s: float = 1.0,
        backoff_max_s: float = 300.0,
        stable_s: float = 600.0,
    ) -> None:
        self.name = name
        self.run = run
        self.clock = clock or RealClock()
        self.on_crash = on_crash
        self.backoff_s = backoff_s
        self.backoff_max_s = max(backoff_s, backoff_max_s)
        self.stable_s = stable_s
        self.crashes = 0  # in all
        self.last_crash: Crash | None = None
        self._once = _Once()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._supervise(), name=self.name)

    def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _supervise(self) -> None:
        delay, in_a_row = self.backoff_s, 0
        while True:
            started = self.clock.now()
            try:
                await self.run()
                return
            except Exception as error:  # CancelledError is a BaseException: it stops us
                if self.clock.now() - started >= self.stable_s:
                    delay, in_a_row = self.backoff_s, 0
                    self._once.forget()
                in_a_row += 1
                self.crashes += 1
                crash = Crash(self.name, error, in_a_row, delay)
                self.last_crash = crash
                self._once.log(crash, f"restarting in {delay:.0f} s")
                await _report(crash, self.on_crash)
            await self.clock.sleep(delay)
            delay = min(self.backoff_max_s, delay * 2)


class Jobs:
    """One-shot tasks of one owner: failures logged (once each) and reported, never lost."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._once = _Once()

    def spawn(
        self, name: str, work: Awaitable[Any], *, on_crash: CrashHandler | None = None
    ) -> asyncio.Task[Any]:
        async def job() -> Any:
            try:
                return await work
            except Exception as error:
                crash = Crash(name, error, 1, None)
                self._once.log(crash, "not restarted")
                await _report(crash, on_crash)
                return None

        task = asyncio.ensure_future(job())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        if inspect.iscoroutine(work):  # cancelled before it began: no "never awaited" warning
            task.add_done_callback(lambda _: work.close())
        return task

    def cancel(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    def __len__(self) -> int:
        return len(self._tasks)


def spawn(
    name: str, work: Awaitable[Any], *, on_crash: CrashHandler | None = None
) -> asyncio.Task[Any]:
    """A one-shot job of its own (an addon starting up), as `Jobs.spawn`."""
    return _LONE.spawn(name, work, on_crash=on_crash)


def guarded[**P](name: str, callback: Callable[P, Any]) -> Callable[P, None]:
    """`callback`, but a failure is logged (once each) instead of reaching the caller."""
    once = _Once()

    def call(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            callback(*args, **kwargs)
        except Exception as error:
            once.log(Crash(name, error, 1, None), "going on")

    return call


async def _report(crash: Crash, on_crash: CrashHandler | None) -> None:
    """Hand the crash to its owner; a failing handler is logged, never raised."""
    if on_crash is None:
        return
    try:
        shown = on_crash(crash)
        if inspect.isawaitable(shown):
            await shown
    except Exception:
        logger.exception("%s: showing the failure failed too", crash.name)


def _innermost(error: BaseException) -> tuple[str, int]:
    """Where the exception was raised: the last frame of its traceback."""
    tb = error.__traceback__
    if tb is None:
        return ("", 0)
    while tb.tb_next is not None:
        tb = tb.tb_next
    return (tb.tb_frame.f_code.co_filename, tb.tb_lineno)


_LONE = Jobs()
