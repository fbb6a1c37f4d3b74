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
from collections.abc import Callable, Hashable
from functools import partial

import aiosqlite

from storage import gathering, sample_batch
from storage.codec import encode_values
from storage.database import Database, StorageError, SyncOperation, in_writer_thread
from storage.handout_rule import Plan
from storage.handouts import take_handout
from storage.history import History
from storage.records import Handout, Sample, epoch_us, parse_device_time
from storage.sample_batch import Also, Forward, Upload

logger = logging.getLogger(__name__)


class SampleStore(History):
    """Uploads that arrive while a transaction is committing are inserted
    together by the next one: a handful of statements and one trip to the
    writer's thread per batch instead of per upload (sample_batch.py). Under
    load, a batch also waits a moment for the other connections' uploads
    (gathering.py)."""

    def __init__(self, database: Database) -> None:
        super().__init__(database)
        self._queued: list[Upload] = []
        self._flushing: asyncio.Task[None] | None = None
        self._token_ids: dict[str, int] = {}  # only ids whose rows are committed
        self._next_id: int | None = None
        self._listeners: list[Callable[[Sample], None]] = []
        self._moved: set[str] = set()  # tokens whose hand-outs land after their own time
        self._uploaders = gathering.Uploaders()
        self._batch_since = 0.0  # loop time the first queued upload arrived
        self._batch_last = 0.0  # and the last
        self._gathering: asyncio.Future[None] | None = None  # resolved once the batch may go
        self._unsourced = False  # the batch holds an upload with no source: it goes now
        # Tokens this process stored values for since it last handed them out: a
        # poll for one of them need not ask the database whether anything waits.
        self._unfetched: set[str] = set()

    def on_stored(self, listener: Callable[[Sample], None]) -> Callable[[], None]:
        """Call `listener(sample)` on the loop for every sample once it is durable
        (MQTT publishing); it must not block. Returns the way to stop."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    async def add(
        self,
        sample: Sample,
        *,
        received_ms: int | None = None,
        forward: Forward | None = None,
        also: Also | None = None,
        source: Hashable | None = None,
    ) -> int:
        """Store `sample` durably; return its id. `forward`: also queue it for the
        real teslalogger.de (mirror mode), in the same transaction. `also(conn,
        sample_id)`: an async change that must land with it (costs its batch a
        few more trips to the writer's thread). `source`: the connection it came
        on, so that a batch can wait for the other connections' uploads; without
        one it is committed at once."""
        moment = parse_device_time(sample.device_time)
        offset = moment.utcoffset()
        row = (
            received_ms if received_ms is not None else int(time.time() * 1000),
            epoch_us(moment),
            None if offset is None else int(offset.total_seconds() // 60),
            sample.version,
            encode_values(sample.values),
        )
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        now = loop.time()
        if not self._queued:
            self._batch_since = now
        self._batch_last = now
        self._queued.append(Upload(sample, row, forward, also, future))
        if source is None:
            self._unsourced = True
        else:
            self._uploaders.arrived(source, now)
        self._release_if_ready(now)
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush_queued(), name="store uploads")
        # A caller that gives up (client gone) cancels only its own future; _flush
        # skips it, and the upload is stored all the same.
        return await future

    async def _flush_queued(self) -> None:
        while self._queued:
            await self._gather()
            batch, self._queued = self._queued, []
            self._unsourced = False
            if not await self._flush(batch) and len(batch) > 1:
                for upload in batch:  # find the culprit: the others still deserve to land
                    await self._flush([upload])

    def source_closed(self, source: Hashable) -> None:
        """The connection `source` closed: a batch need not wait for its next upload."""
        self._uploaders.left(source)
        self._release_if_ready(asyncio.get_running_loop().time())

    def _release_if_ready(self, now: float) -> None:
        """Wake a gathering batch that may go now, before its timer would."""
        if self._gathering is not None and self._may_go(now):
            _settle(self._gathering)

    def _may_go(self, now: float) -> bool:
        if self._unsourced:
            return True
        return gathering.commit_now(
            len(self._queued),
            self._uploaders.recent(now),
            now - self._batch_since,
            now - self._batch_last,
        )

    async def _gather(self) -> None:
        """Until the queued batch may be committed (gathering.py)."""
        loop = asyncio.get_running_loop()
        while not self._may_go(loop.time()):
            self._gathering = loop.create_future()
            timer = loop.call_at(
                gathering.due(self._batch_since, self._batch_last), _settle, self._gathering
            )
            try:
                await self._gathering
            finally:
                timer.cancel()
                self._gathering = None

    async def _flush(self, batch: list[Upload]) -> bool:
        insert = partial(sample_batch.insert, batch, dict(self._token_ids), self._next_id)
        try:
            if any(u.also is not None for u in batch):
                ids, token_ids = await self.db.write(partial(_insert_with_also, insert, batch))
            else:
                ids, token_ids = await self.db.write_sync(insert)
        except Exception as e:
            self._next_id = None  # read it again: the failed batch may have moved it
            if len(batch) == 1 and not batch[0].future.done():
                error = e if isinstance(e, StorageError) else StorageError(str(e))
                batch[0].future.set_exception(error)
            return False
        self._token_ids.update(token_ids)
        self._next_id = ids[-1] + 1
        self._unfetched.update(u.sample.token for u in batch if u.sample.values)
        for upload, sample_id in zip(batch, ids, strict=True):
            if not upload.future.done():
                upload.future.set_result(sample_id)
        for listener in list(self._listeners):
            for upload in batch:
                try:
                    listener(upload.sample)
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


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


async def _insert_with_also(
    insert: SyncOperation[tuple[list[int], dict[str, int]]],
    batch: list[Upload],
    conn: aiosqlite.Connection,
) -> tuple[list[int], dict[str, int]]:
    ids, token_ids = await in_writer_thread(conn, insert)
    for sid, upload in zip(ids, batch, strict=True):
        if upload.also is not None:
            await upload.also(conn, sid)
    return ids, token_ids
