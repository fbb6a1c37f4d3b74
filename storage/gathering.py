"""When a batch of uploads is committed: at once, or after gathering a few more.

A commit costs nearly the same whether it carries one upload or twenty (a
trip to the writer's thread, the WAL frames, an fsync), so under load the
cheapest upload is one that joins a batch. And a commit is cheapest while the
event loop has nothing else to do: the writer's thread needs the GIL between
statements, and while the loop is busy each turn at it can take the whole
switch interval (5 ms). Measured at 20 connections on a slow 2-core VM (about
2 ms of CPU per upload), batches that went after a fixed 5 ms held 5 uploads
(median), took 7 ms (p90 27 ms) in the writer's thread and cost 125 us of its
CPU per upload; batches that waited for their connections held 20, took
1.3 ms (p90 1.6 ms) and cost 47 us.

But an upload that waits for company that cannot come only adds latency.
Each upload connection has at most one upload outstanding (the app waits for
its `OK`), so the company that can come is the connections that uploaded
lately, are still open and are not in the batch yet:

- one uploader, or every recent uploader already waiting: commit now;
- otherwise keep gathering while uploads keep joining: the batch goes once
  none has joined for QUIET_S (the proxy has gone idle, the rest are not
  coming soon), or at the latest MAX_S after its first upload.

The gap between joins, not a fixed window, is what scales with the machine:
on a loaded proxy uploads join every few milliseconds however slow the CPU,
and on an idle one the wait is QUIET_S.

Pure: the store (samples.py) feeds it arrival times and asks.
"""

from collections.abc import Hashable

QUIET_S = 0.01  # a batch that no upload joined for this long goes
MAX_S = 0.25  # the longest an upload waits for others to share its commit
RECENT_S = 1.0  # an uploader is expected back this soon, or not counted
_FORGET = 4096  # sources remembered at most (each connection is one)


class Uploaders:
    """The upload connections seen lately, by when their last upload arrived."""

    def __init__(self) -> None:
        self._last: dict[Hashable, float] = {}

    def arrived(self, source: Hashable, now: float) -> None:
        self._last.pop(source, None)  # re-inserted: the dict stays in arrival order
        self._last[source] = now
        if len(self._last) > _FORGET:
            del self._last[next(iter(self._last))]

    def left(self, source: Hashable) -> None:
        """`source`'s connection closed: it cannot send another upload."""
        self._last.pop(source, None)

    def recent(self, now: float) -> int:
        """How many uploaded within RECENT_S; forgets the older ones."""
        while self._last:
            oldest = next(iter(self._last))
            if now - self._last[oldest] <= RECENT_S:
                break
            del self._last[oldest]
        return len(self._last)


def commit_now(waiting: int, recent_uploaders: int, waited_s: float, quiet_s: float) -> bool:
    """Whether a batch of `waiting` uploads, the first queued `waited_s` ago and
    the last `quiet_s` ago, should be committed now rather than gather more."""
    return waiting >= recent_uploaders or quiet_s >= QUIET_S or waited_s >= MAX_S


def due(first: float, last: float) -> float:
    """When a batch that cannot go yet, its first upload queued at `first` and its
    last at `last`, is to be asked again: the moment it would go if nobody joined."""
    return min(first + MAX_S, last + QUIET_S)
