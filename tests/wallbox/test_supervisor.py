"""The supervisor on fake time: a failure is logged once with its traceback, shown
through on_crash, and the task started again with backoff; jobs and callbacks likewise,
without the restart."""

import asyncio
import logging

import pytest

from wallbox.clock import FakeClock
from wallbox.supervisor import Crash, Jobs, Supervised, guarded, spawn


class Flaky:
    """A loop that fails `times` times (each the same way unless told), then runs."""

    def __init__(self, clock: FakeClock, times: int, error=lambda n: RuntimeError("boom")):
        self.clock, self.times, self.error = clock, times, error
        self.starts: list[float] = []
        self.ticks = 0

    async def run(self) -> None:
        self.starts.append(self.clock.now())
        if len(self.starts) <= self.times:
            raise self.error(len(self.starts))
        while True:
            self.ticks += 1
            await self.clock.sleep(1)


def errors(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_failure_is_logged_once_shown_and_restarted_with_backoff(caplog):
    clock = FakeClock()
    flaky = Flaky(clock, times=4)
    shown: list[Crash] = []
    supervised = Supervised(
        "the loop", flaky.run, clock=clock, on_crash=shown.append, backoff_s=2, backoff_max_s=5
    )
    supervised.start()
    await clock.advance(30)
    assert flaky.starts == [0, 2, 6, 11, 16]  # 2, 4, then capped at 5
    assert flaky.ticks > 10 and supervised.running
    assert [(c.count, c.retry_in) for c in shown] == [(1, 2), (2, 4), (3, 5), (4, 5)]
    assert shown[0].message == "the loop failed unexpectedly (RuntimeError: boom)"
    [record] = errors(caplog)  # the same failure four times: one log line
    assert record.getMessage() == (
        "the loop failed unexpectedly (RuntimeError: boom); restarting in 2 s"
    )
    assert record.exc_info is not None and record.exc_info[1] is shown[0].error  # the traceback
    assert supervised.crashes == 4 and supervised.last_crash is shown[-1]
    supervised.stop()
    await clock.settle()
    assert not supervised.running


async def test_another_failure_is_logged_too_and_a_stable_run_starts_the_backoff_afresh(caplog):
    clock = FakeClock()

    class Worn:
        def __init__(self) -> None:
            self.starts: list[float] = []

        async def run(self) -> None:
            self.starts.append(clock.now())
            if len(self.starts) == 2:
                raise KeyError("other")
            await clock.sleep(100 if len(self.starts) == 3 else 0)
            raise RuntimeError("boom")

    worn = Worn()
    supervised = Supervised("worn", worn.run, clock=clock, backoff_s=1, stable_s=50)
    supervised.start()
    await clock.advance(200)
    assert worn.starts[:5] == [0, 1, 3, 104, 106]  # 1 s, 2 s, a 100 s run, then 1 s again
    assert [r.getMessage() for r in errors(caplog)] == [
        "worn failed unexpectedly (RuntimeError: boom); restarting in 1 s",
        "worn failed unexpectedly (KeyError: 'other'); restarting in 2 s",
        # after the stable run the same failure is news again; its repeats are not
        "worn failed unexpectedly (RuntimeError: boom); restarting in 1 s",
    ]
    supervised.stop()


async def test_cancelling_stops_and_returning_ends_without_a_log_line(caplog):
    clock = FakeClock()
    ran: list[str] = []

    async def once() -> None:
        ran.append("once")

    supervised = Supervised("once", once, clock=clock)
    supervised.start()
    await clock.advance(10)
    assert ran == ["once"] and not supervised.running
    forever = Supervised("forever", Flaky(clock, times=0).run, clock=clock)
    forever.start()
    await clock.advance(1)
    forever.stop()
    await clock.advance(10)
    assert not forever.running and not errors(caplog)


async def test_an_async_handler_is_awaited_and_a_failing_one_is_logged(caplog):
    clock = FakeClock()
    shown: list[str] = []

    async def show(crash: Crash) -> None:
        await clock.sleep(0)
        shown.append(crash.message)

    def broken(crash: Crash) -> None:
        raise ValueError("the status is gone")

    for name, handler in (("shown", show), ("broken", broken)):
        Supervised(name, Flaky(clock, times=1).run, clock=clock, on_crash=handler).start()
    await clock.advance(5)
    assert shown == ["shown failed unexpectedly (RuntimeError: boom)"]
    assert "broken: showing the failure failed too" in caplog.text  # and it went on:
    assert any("ValueError: the status is gone" in r.exc_text for r in errors(caplog) if r.exc_text)


async def test_a_job_is_logged_and_shown_not_restarted_and_its_reference_kept(caplog):
    jobs = Jobs()
    shown: list[Crash] = []
    gate = asyncio.Event()

    async def command(fail: bool) -> str:
        await gate.wait()
        if fail:
            raise RuntimeError("bug in a command")
        return "done"

    failing = [jobs.spawn("a command", command(True), on_crash=shown.append) for _ in range(3)]
    fine = jobs.spawn("a command", command(False))
    assert len(jobs) == 4  # held here: asyncio keeps only weak references to tasks
    gate.set()
    await asyncio.gather(*failing, fine)
    assert await fine == "done" and len(jobs) == 0
    assert [(c.count, c.retry_in) for c in shown] == [(1, None)] * 3
    [record] = errors(caplog)
    assert record.getMessage() == (
        "a command failed unexpectedly (RuntimeError: bug in a command); not restarted"
    )
    pending = jobs.spawn("a wait", asyncio.Event().wait())
    jobs.cancel()
    await asyncio.sleep(0)
    assert pending.cancelled() and len(errors(caplog)) == 1


async def test_a_lone_job_is_logged(caplog):
    async def start() -> None:
        raise OSError(13, "Permission denied")

    await spawn("starting the test addon", start())
    assert errors(caplog)[0].getMessage() == (
        "starting the test addon failed unexpectedly (PermissionError: [Errno 13] "
        "Permission denied); not restarted"
    )


def test_a_guarded_callback_logs_once_and_the_caller_goes_on(caplog):
    heard: list[int] = []

    def handler(n: int) -> None:
        if n % 2:
            raise ValueError("odd")
        heard.append(n)

    call = guarded("a handler", handler)
    for n in range(6):
        call(n)  # never raises
    assert heard == [0, 2, 4]
    [record] = errors(caplog)
    assert record.getMessage() == "a handler failed unexpectedly (ValueError: odd); going on"


@pytest.mark.parametrize(
    "error, says",
    [
        (RuntimeError(""), "x failed unexpectedly (RuntimeError)"),
        (ValueError("first\nsecond"), "x failed unexpectedly (ValueError: first)"),
        (ValueError("y" * 400), f"x failed unexpectedly (ValueError: {'y' * 299}…)"),
    ],
)
def test_a_crash_says_what_failed_in_one_line(error, says):
    assert Crash("x", error, 1, None).message == says
