"""Reading what the store holds: the newest value of every id, the history of
uploads, and trimming it. Reads go to the reader connection and never wait for
the writer; trimming runs in small transactions so uploads are never held up."""

from collections.abc import AsyncIterator

import aiosqlite

from storage.codec import decode_values
from storage.database import Database
from storage.records import LatestValue, StoredSample, from_epoch_us


class History:
    """The read side of `SampleStore` (samples.py), which extends it."""

    def __init__(self, database: Database) -> None:
        self.db = database

    async def latest(self, token: str) -> dict[int, LatestValue]:
        """The newest value of every id the app has sent for `token`: the car's
        current state, merged from the deltas, without scanning the history."""

        async def op(conn: aiosqlite.Connection) -> dict[int, LatestValue]:
            async with conn.execute(
                "SELECT value_id, value, sample_id, device_us, device_offset_min FROM latest"
                " JOIN token ON token.id = latest.token_id"
                " LEFT JOIN sample ON sample.id = latest.sample_id"
                " WHERE token.token = ? ORDER BY value_id",
                (token,),
            ) as cursor:
                return {
                    vid: LatestValue(
                        value, sid, None if dev_us is None else from_epoch_us(dev_us, offset)
                    )
                    async for vid, value, sid, dev_us, offset in cursor
                }

        return await self.db.read(op)

    async def tokens(self) -> list[str]:
        async def op(conn: aiosqlite.Connection) -> list[str]:
            async with conn.execute("SELECT token FROM token ORDER BY id") as cursor:
                return [token async for (token,) in cursor]

        return await self.db.read(op)

    async def count(
        self,
        *,
        token: str | None = None,
        since_ms: int | None = None,
        until_ms: int | None = None,
    ) -> int:
        """How many samples `history` with the same filters yields."""
        where, params = _history_filter(token, since_ms, until_ms, after_id=0)
        sql = f"SELECT count(*) FROM sample JOIN token ON token.id = sample.token_id WHERE {where}"

        async def op(conn: aiosqlite.Connection) -> int:
            async with conn.execute(sql, params) as cursor:
                (n,) = await cursor.fetchone()  # type: ignore[misc]
            return n

        return await self.db.read(op)

    async def history(
        self,
        *,
        token: str | None = None,
        since_ms: int | None = None,
        until_ms: int | None = None,
        after_id: int = 0,
    ) -> AsyncIterator[StoredSample]:
        """Stored samples in arrival order, optionally by token and receive time."""
        where, params = _history_filter(token, since_ms, until_ms, after_id)
        sql = (
            "SELECT sample.id, token.token, received_ms, device_us, device_offset_min,"
            " version, vals"
            " FROM sample JOIN token ON token.id = sample.token_id"
            f" WHERE {where} ORDER BY sample.id"
        )
        async for sid, tok, received, dev_us, offset, version, vals in self.db.rows(sql, params):
            yield StoredSample(
                sid, tok, received, from_epoch_us(dev_us, offset), version, decode_values(vals)
            )

    async def purge(self, before_ms: int, *, chunk: int = 5000) -> int:
        """Delete history received before `before_ms`, oldest first, one chunk per
        transaction so uploads are never held up for long. The newest values and
        what TeslaLogger has not fetched yet live elsewhere and are kept."""
        total = 0
        while True:

            async def op(conn: aiosqlite.Connection) -> int:
                # Ids grow with arrival: looking only at the oldest `chunk` rows
                # avoids a scan (and an index) over the whole table.
                cursor = await conn.execute(
                    "DELETE FROM sample WHERE id IN (SELECT id FROM sample ORDER BY id LIMIT ?)"
                    " AND received_ms < ?",
                    (chunk, before_ms),
                )
                return cursor.rowcount

            deleted = await self.db.write(op)
            total += deleted
            if deleted < chunk:
                return total


def _history_filter(
    token: str | None, since_ms: int | None, until_ms: int | None, after_id: int
) -> tuple[str, list[object]]:
    where = ["sample.id > ?"]
    params: list[object] = [after_id]
    if token is not None:
        where.append("token.token = ?")
        params.append(token)
    if since_ms is not None:
        where.append("received_ms >= ?")
        params.append(since_ms)
    if until_ms is not None:
        where.append("received_ms < ?")
        params.append(until_ms)
    return " AND ".join(where), params
