"""Uploads waiting for the real teslalogger.de (mirror mode), in arrival order.

An upload enters the outbox in the same transaction that stores it locally
(sample_batch.py, in the writer process), so the phone's `OK` means both; it
leaves only once upstream has accepted it (or refused it for good, when it
stays for inspection, marked `rejected`): outbox_marks.py, in the writer
process too, so that deliveries and uploads write through one connection
instead of taking turns at the file.
"""

import json
import time
from dataclasses import dataclass

import aiosqlite

from storage.database import Database


@dataclass(frozen=True, slots=True)
class Parcel:
    id: int
    sample_id: int | None
    created_ms: int
    path: str
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(frozen=True, slots=True)
class OutboxStatus:
    waiting: int
    rejected: int
    oldest_waiting_ms: int | None
    last_delivered_ms: int | None
    last_error: str | None
    last_error_ms: int | None


def _now_ms() -> int:
    return int(time.time() * 1000)


class Outbox:
    def __init__(self, database: Database) -> None:
        self.db = database

    async def next(self, limit: int = 100) -> list[Parcel]:
        """The oldest waiting parcels, in delivery order."""

        async def op(conn: aiosqlite.Connection) -> list[Parcel]:
            async with conn.execute(
                "SELECT id, sample_id, created_ms, path, headers, body FROM outbox"
                " WHERE rejected IS NULL ORDER BY id LIMIT ?",
                (limit,),
            ) as cursor:
                return [
                    Parcel(pid, sid, created, path, [tuple(h) for h in json.loads(headers)], body)
                    async for pid, sid, created, path, headers, body in cursor
                ]

        return await self.db.read(op)

    async def delivered(self, parcel_id: int) -> None:
        """Upstream accepted it: it is gone before the next delivery starts, so a
        known success is never delivered twice."""
        await self.db.writer_process.run("delivered", parcel_id, _now_ms())

    async def rejected(self, parcel_id: int, reason: str) -> None:
        await self.db.writer_process.run("rejected", parcel_id, reason)

    async def failed(self, reason: str) -> None:
        """Remember the last delivery error, for the status."""
        await self.db.writer_process.run("failed", reason, _now_ms())

    async def status(self) -> OutboxStatus:
        async def op(conn: aiosqlite.Connection) -> OutboxStatus:
            async with conn.execute(
                "SELECT count(*), min(created_ms) FROM outbox WHERE rejected IS NULL"
            ) as cursor:
                waiting, oldest = await cursor.fetchone()  # type: ignore[misc]
            async with conn.execute(
                "SELECT count(*) FROM outbox WHERE rejected IS NOT NULL"
            ) as cursor:
                (rejected,) = await cursor.fetchone()  # type: ignore[misc]
            async with conn.execute(
                "SELECT last_delivered_ms, last_error, last_error_ms FROM upstream_status"
            ) as cursor:
                delivered_ms, error, error_ms = await cursor.fetchone()  # type: ignore[misc]
            return OutboxStatus(waiting, rejected, oldest, delivered_ms, error, error_ms)

        return await self.db.read(op)
