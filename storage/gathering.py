"""When a batch of uploads is committed: at once, or after gathering a few more.

A commit costs nearly the same whether it carries one upload or twenty (a
trip to the writer's thread, the WAL frames, an fsync: 300-380 us of CPU
alone, 37 us per upload in a batch of 20), so under load the cheapest upload
is one that joins a batch. But an upload that waits for company that
cannot come only adds latency. Each upload connection has at most one upload
outstanding (the app waits for its `OK`), so the company that can come is the
connections that uploaded lately and are not in the batch yet:

- one uploader, or every recent uploader already waiting: commit now;
- otherwise wait for them, up to GATHER_S after the batch's first upload.

Pure: the store (samples.py) feeds it arrival times and asks.
"""

from collections.abc import Hashable

GATHER_S = 0.005  # the longest an upload waits for others to share its commit
RECENT_S = 0.05  # an uploader is expected back this soon, or not counted
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

    def recent(self, now: float) -> int:
        """How many uploaded within RECENT_S; forgets the older ones."""
        while self._last:
            oldest = next(iter(self._last))
            if now - self._last[oldest] <= RECENT_S:
                break
            del self._last[oldest]
        return len(self._last)


def commit_now(waiting: int, recent_uploaders: int, waited_s: float) -> bool:
    """Whether a batch of `waiting` uploads, the first queued `waited_s` ago,
    should be committed now rather than gather more."""
    return waiting >= recent_uploaders or waited_s >= GATHER_S
