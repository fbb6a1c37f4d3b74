"""ScanMyTesla samples: the history, the newest value of every id, and the
hand-outs to TeslaLogger.

TeslaLogger takes one sample per poll, about every 5 s, while the app may
upload several times a second; a queue served one sample per poll would fall
behind forever. So the queue is not a list of uploads: it is the set of values
that changed since the last hand-out. Each upload merges its values into the
newest-value table (`latest`); a poll hands out every value newer than the
previous hand-out, stamped with the newest upload's time, and moves the mark
(handouts.py; what TeslaLogger can store and when: handout_rule.py).
The backlog is bounded by the number of distinct value ids (a few hundred),
however long TeslaLogger was away. Every upload is also kept, whole, in the
history for `smt_history_days` (addons/store.py trims it; reading it: history.py).
"""

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import aiosqlite

from storage.database import Database, StorageError
from storage.handout_rule import Plan
from storage.handouts import take_handout
from storage.history import History
from storage.records import Handout, Sample
from storage.sample_batch import Forward, Upload

logger = logging.getLogger(__name__)

MAX_BATCH = 1000  # uploads per transaction: bounds a request to the writer process


@dataclass(slots=True)
class _Queued:
    upload: Upload
    future: asyncio.Future[int]


class SampleStore(History):
    """Group commit: uploads that arrive while a batch is committing go together
    in the next one, one trip to the writer process (writer_process.py) and one
    fsync per batch. The next batch goes the moment the previous one is on disk;
    under load it holds what arrived meanwhile, and a lone upload goes at once."""

    def __init__(self, database: Database) -> None:
        super().__init__(database)
        self._queued: list[_Queued] = []
        self._flushing: asyncio.Task[None] | None = None
        self._token_ids: dict[str, int] = {}  # only ids whose rows are committed
        self._next_id: int | None = None
        self._listeners: list[Callable[[Sample], None]] = []
        self._moved: set[str] = set()  # tokens whose hand-outs land after their own time
        # Tokens this process stored values for since it last handed them out: a
        # poll for one of them need not ask the database whether anything waits.
        self._unfetched: set[str] = set()

    @property
    def commits(self) -> int:
        """Transactions of the writer process (batches of uploads, the mirror's marks)."""
        return self.db.writer_process.commits

    def on_stored(self, listener: Callable[[Sample], None]) -> Callable[[], None]:
        """Call `listener(sample)` on the loop for every sample once it is durable
        (MQTT publishing); it must not block. Returns the way to stop."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    async def add(
        self, sample: Sample, *, received_ms: int | None = None, forward: Forward | None = None
    ) -> int:
        """Store `sample` durably; return its id. `forward`: also queue it for the
        real teslalogger.de (mirror mode), in the same transaction."""
        received = received_ms if received_ms is not None else int(time.time() * 1000)
        future = asyncio.get_running_loop().create_future()
        self._queued.append(_Queued(Upload(sample, received, forward), future))
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush_queued(), name="store uploads")
        # A caller that gives up (client gone) cancels only its own future; _flush
        # skips it, and the upload is stored all the same.
        return await future

    async def _flush_queued(self) -> None:
        while self._queued:
            batch, self._queued = self._queued[:MAX_BATCH], self._queued[MAX_BATCH:]
            if not await self._flush(batch) and len(batch) > 1:
                for queued in batch:  # find the culprit: the others still deserve to land
                    await self._flush([queued])

    async def _flush(self, batch: list[_Queued]) -> bool:
        writer = self.db.writer_process
        try:
            ids, token_ids = await writer.store(
                [q.upload for q in batch], self._token_ids, self._next_id
            )
        except Exception as e:  # a bug too must fail its uploads, not leave them waiting
            if not isinstance(e, StorageError):
                logger.exception("storing a batch of uploads failed")
            self._next_id = None  # read it again: the failed batch may have moved it
            if len(batch) == 1 and not batch[0].future.done():
                error = e if isinstance(e, StorageError) else StorageError(str(e))
                batch[0].future.set_exception(error)
            return False
        self._token_ids.update(token_ids)
        self._next_id = ids[-1] + 1
        self._unfetched.update(q.upload.sample.token for q in batch if q.upload.sample.values)
        for queued, sample_id in zip(batch, ids, strict=True):
            if not queued.future.done():
                queued.future.set_result(sample_id)
        for listener in list(self._listeners):
            for queued in batch:
                try:
                    listener(queued.upload.sample)
                except Exception:
                    logger.exception("a listener of stored samples failed")
        return True

    async def has_waiting(self, token: str) -> bool:
        """Whether TeslaLogger has values to fetch: known at once after this process
        stored some, else a cheap read, no transaction. A hand-out decides for itself
        what it takes, so a True that turns out stale costs only that transaction."""
        if token in self._unfetched:
            return True

        async def op(conn: aiosqlite.Connection) -> bool:
            rows = await conn.execute_fetchall(  # one trip to the sqlite thread, not three
                "SELECT last_sample_id > handed_out_upto FROM token WHERE token = ?", (token,)
            )
            return bool(rows and rows[0][0])

        return await self.db.read(op)

    async def hand_out(self, token: str) -> Handout | None:
        """Take every value that changed since the last hand-out, or None."""
        plan = await self.plan_hand_out(token)
        return None if plan is None else plan.handout

    async def plan_hand_out(self, token: str) -> Plan | None:
        """Like hand_out, with what was left out and how far the stamp moved; None
        when nothing was waiting. Marked as given in the same transaction."""
        plan = await self.db.write_sync(partial(take_handout, token))
        # Uploads committed after this hand-out resume after it, and add the token again.
        self._unfetched.discard(token)
        if plan is not None:
            self._tell_moved(token, plan)
        return plan

    def _tell_moved(self, token: str, plan: Plan) -> None:
        """One warning when hand-outs start landing after their own time (more
        than the one second a same-second pair moves), one note when they stop."""
        if plan.handout is None:
            return
        if plan.moved_s > 1 and token not in self._moved:
            self._moved.add(token)
            logger.warning(
                "%s: TeslaLogger hand-out filed at %s, %d s after the phone's time: the "
                "phone's clock went back, and TeslaLogger already holds values at the "
                "seconds in between (later moves are not logged until this one ends)",
                token,
                plan.handout.device_time,
                plan.moved_s,
            )
        elif plan.moved_s <= 1 and token in self._moved:
            self._moved.discard(token)
            logger.info("%s: TeslaLogger hand-outs are filed at the phone's own time again", token)
