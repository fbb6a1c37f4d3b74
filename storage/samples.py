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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial

import aiosqlite

from storage.codec import encode_values
from storage.database import Database, StorageError
from storage.handout_rule import Plan
from storage.handouts import take_handout
from storage.history import History
from storage.records import Handout, Sample, epoch_us, parse_device_time

logger = logging.getLogger(__name__)

type Also = Callable[[aiosqlite.Connection, int], Awaitable[object]]


@dataclass(slots=True)
class _Upload:
    sample: Sample
    row: tuple[int, int, int | None, str, bytes]  # received_ms, device_us, offset, version, vals
    also: Also | None
    future: asyncio.Future[int]


class SampleStore(History):
    """Uploads that arrive while a transaction is committing are inserted
    together by the next one: a handful of statements per batch instead of a
    handful per upload, which is what keeps the proxy's throughput close to
    bare mitmproxy's."""

    def __init__(self, database: Database) -> None:
        super().__init__(database)
        self._queued: list[_Upload] = []
        self._flushing: asyncio.Task[None] | None = None
        self._token_ids: dict[str, int] = {}  # only ids whose rows are committed
        self._next_id: int | None = None
        self._listeners: list[Callable[[Sample], None]] = []
        self._moved: set[str] = set()  # tokens whose hand-outs land after their own time

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
        also: Also | None = None,
    ) -> int:
        """Store `sample` durably; return its id. `also(conn, sample_id)` runs in
        the same transaction, for changes that must land together with it."""
        moment = parse_device_time(sample.device_time)
        offset = moment.utcoffset()
        row = (
            received_ms if received_ms is not None else int(time.time() * 1000),
            epoch_us(moment),
            None if offset is None else int(offset.total_seconds() // 60),
            sample.version,
            encode_values(sample.values),
        )
        upload = _Upload(sample, row, also, asyncio.get_running_loop().create_future())
        self._queued.append(upload)
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush_queued(), name="store uploads")
        # Shielded: a caller that gives up (client gone) must not cancel its neighbours.
        return await asyncio.shield(upload.future)

    async def _flush_queued(self) -> None:
        while self._queued:
            batch, self._queued = self._queued, []
            if not await self._flush(batch) and len(batch) > 1:
                for upload in batch:  # find the culprit: the others still deserve to land
                    await self._flush([upload])

    async def _flush(self, batch: list[_Upload]) -> bool:
        try:
            ids, token_ids = await self.db.write(partial(self._insert_batch, batch))
        except Exception as e:
            self._next_id = None  # read it again: the failed batch may have moved it
            if len(batch) == 1:
                error = e if isinstance(e, StorageError) else StorageError(str(e))
                batch[0].future.set_exception(error)
            return False
        self._token_ids.update(token_ids)
        self._next_id = ids[-1] + 1
        for upload, sample_id in zip(batch, ids, strict=True):
            upload.future.set_result(sample_id)
        for listener in list(self._listeners):
            for upload in batch:
                try:
                    listener(upload.sample)
                except Exception:
                    logger.exception("a listener of stored samples failed")
        return True

    async def _insert_batch(
        self, batch: list[_Upload], conn: aiosqlite.Connection
    ) -> tuple[list[int], dict[str, int]]:
        """One transaction's worth of uploads. Changes nothing on self, so the
        writer may run it again on its own after a failed batch."""
        token_ids = await _token_ids(conn, {u.sample.token for u in batch}, self._token_ids, batch)
        first = self._next_id
        if first is None:
            async with conn.execute(
                "SELECT coalesce(max(seq), 0) + 1 FROM sqlite_sequence WHERE name = 'sample'"
            ) as cursor:
                (first,) = await cursor.fetchone()  # type: ignore[misc]
        ids = list(range(first, first + len(batch)))
        await conn.executemany(
            "INSERT INTO sample"
            " (id, token_id, received_ms, device_us, device_offset_min, version, vals)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(sid, token_ids[u.sample.token], *u.row) for sid, u in zip(ids, batch, strict=True)],
        )
        await conn.executemany(
            "INSERT INTO latest (token_id, value_id, value, sample_id) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (token_id, value_id)"
            " DO UPDATE SET value = excluded.value, sample_id = excluded.sample_id",
            [
                (token_ids[u.sample.token], value_id, value, sid)
                for sid, u in zip(ids, batch, strict=True)
                for value_id, value in u.sample.values.items()
            ],
        )
        await conn.executemany(
            "UPDATE token SET last_seen_ms = max(last_seen_ms, ?),"
            " last_sample_id = coalesce(?, last_sample_id),"
            " last_device_time = coalesce(?, last_device_time) WHERE id = ?",
            _token_updates(batch, ids, token_ids),
        )
        for sid, upload in zip(ids, batch, strict=True):
            if upload.also is not None:
                await upload.also(conn, sid)
        return ids, token_ids

    async def has_waiting(self, token: str) -> bool:
        """Whether TeslaLogger has values to fetch; a cheap read, no transaction."""

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
        plan = await self.db.write(partial(take_handout, token))
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


async def _token_ids(
    conn: aiosqlite.Connection,
    tokens: set[str],
    known: dict[str, int],
    batch: list[_Upload],
) -> dict[str, int]:
    """Ids of `tokens`, creating rows for new ones (two statements, and only then)."""
    ids = {t: known[t] for t in tokens if t in known}
    new = sorted(tokens - ids.keys())
    if new:
        first_seen = {u.sample.token: u.row[0] for u in reversed(batch)}
        await conn.executemany(
            "INSERT OR IGNORE INTO token (token, first_seen_ms, last_seen_ms) VALUES (?, ?, ?)",
            [(t, first_seen[t], first_seen[t]) for t in new],
        )
        marks = ",".join("?" * len(new))
        async with conn.execute(f"SELECT token, id FROM token WHERE token IN ({marks})", new) as c:
            ids.update({token: token_id async for token, token_id in c})
    return ids


def _token_updates(
    batch: list[_Upload], ids: list[int], token_ids: dict[str, int]
) -> list[tuple[int, int | None, str | None, int]]:
    """Per token: the newest arrival, and the newest upload that carried values."""
    seen: dict[str, int] = {}
    valued: dict[str, tuple[int, str]] = {}
    for sid, upload in zip(ids, batch, strict=True):
        token = upload.sample.token
        seen[token] = max(seen.get(token, 0), upload.row[0])
        if upload.sample.values:
            valued[token] = (sid, upload.sample.device_time)
    return [
        (received, *valued.get(token, (None, None)), token_ids[token])
        for token, received in seen.items()
    ]
