"""The sqlite database: one writer connection with group commit, one reader.

Every change is an *operation* handed the writer connection: a plain function
of the sqlite3 connection, run in the writer's thread (`write_sync`), or an
async function of the aiosqlite connection (`write`). Operations that queue up
while a transaction is committing run together in the next one, one fsync for
all, and a caller resumes only once its change is on disk (synchronous=FULL).
A batch of plain functions is one trip to the writer's thread, BEGIN to
COMMIT: every trip costs both threads a wake-up and a turn at the GIL.
If an operation fails, the batch is rolled back and each of its operations is
retried alone, so one bad change never takes its neighbours down with it.

Reads that need no transaction go to a second connection, which in WAL mode
sees the last committed state without waiting for the writer.

Uploads and the mirror's marks are the exception: they go to the writer
process (`writer_process`, writer_process.py), a third connection in a
process of its own, so the proxy's event loop never waits while they commit.
This writer and that process take turns by a lock.
"""

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import aiosqlite

from storage.errors import StorageError, describe, fail, is_read_only
from storage.schema import SCHEMA_VERSION, SchemaError, migrate
from storage.transaction import transaction
from storage.writer_link import WriterProcess

__all__ = ["DB_NAME", "Database", "StorageError", "describe"]

logger = logging.getLogger(__name__)
# aiosqlite logs two debug records per statement; under mitmproxy, whose root
# logger passes DEBUG on to every addon, that alone doubled the CPU an upload costs.
logging.getLogger("aiosqlite").setLevel(logging.INFO)

type Operation[T] = Callable[[aiosqlite.Connection], Awaitable[T]]
type SyncOperation[T] = Callable[[sqlite3.Connection], T]
type _Item = tuple[Operation[Any] | SyncOperation[Any], asyncio.Future[Any], bool]  # bool: sync

MAX_BATCH = 512
DB_NAME = "teslahome.sqlite3"  # in data_dir


class Database:
    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        """`read_only`: only the reader, for tools that inspect a running proxy's data."""
        self.path = path
        self.read_only = read_only
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._queue: asyncio.Queue[_Item] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.commits = 0  # transactions committed, for statistics and tests
        self._was_read_only = False
        # Whose turn it is to write, this connection's or the writer process's: sqlite's
        # busy handler would sleep 1-100 ms between tries, a lock hands over at once.
        self._turn = asyncio.Lock()
        self.writer_process = WriterProcess(path, self._turn)  # started on first use

    async def open(self) -> None:
        if self.read_only:
            await self._open_reader_only()
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._writer = await self._connect_writer()
            await migrate(self._writer)
            self._reader = await aiosqlite.connect(self.path, isolation_level=None)
            await self._reader.execute("PRAGMA query_only=1")
        except (sqlite3.Error, OSError, SchemaError) as e:
            await self._close_connections()
            raise StorageError(f"cannot open {self.path}: {describe(e)}") from e
        self._task = asyncio.create_task(self._run(), name="storage writer")

    async def _connect_writer(self) -> aiosqlite.Connection:
        # A multi-row statement's text depends on its row count (sample_batch.py):
        # room for every batch size that comes up, prepared once.
        writer = await aiosqlite.connect(self.path, isolation_level=None, cached_statements=1024)
        try:
            # Only takes effect while the file is new. A full upload (300 values, ~3 KB)
            # would leave a quarter of every 4 KiB page empty; 16 KiB pages hold five.
            await writer.execute("PRAGMA page_size=16384")
            await writer.execute("PRAGMA journal_mode=WAL")
            await writer.execute("PRAGMA synchronous=FULL")  # see the module docstring
            await writer.execute("PRAGMA busy_timeout=5000")
        except BaseException:
            await writer.close()  # its thread would otherwise keep the process alive
            raise
        return writer

    async def _reconnect_writer(self) -> None:
        """sqlite opens a file it may not write read-only and stays that way; once
        the file is writable again only a new connection notices."""
        old, self._writer = self._writer, None
        if old is not None:
            await old.close()
        self._writer = await self._connect_writer()
        logger.info("storage: reopened %s after it was read-only", self.path)

    async def _open_reader_only(self) -> None:
        # Nothing is created or migrated: a missing file is an error, not a new database.
        if not self.path.is_file():
            raise StorageError(f"no database at {self.path}")
        try:
            self._reader = await aiosqlite.connect(
                f"{self.path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None
            )
            await self._reader.execute("PRAGMA query_only=1")
            async with self._reader.execute("PRAGMA user_version") as cursor:
                (version,) = await cursor.fetchone()  # type: ignore[misc]
        except (sqlite3.Error, OSError) as e:
            await self._close_connections()
            raise StorageError(f"cannot open {self.path}: {describe(e)}") from e
        if version != SCHEMA_VERSION:
            await self._close_connections()
            raise StorageError(
                f"{self.path} has schema version {version}, this program reads {SCHEMA_VERSION}: "
                "start the proxy once to migrate it, or update teslahome"
            )

    @property
    def is_open(self) -> bool:
        return self._task is not None and not self._task.done()

    async def write[T](self, op: Operation[T]) -> T:
        """Run `op` in a transaction; return its result once the transaction is durable."""
        if not self.is_open:
            raise StorageError("the database is not open")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((op, future, False))
        return await future

    async def write_sync[T](self, op: SyncOperation[T]) -> T:
        """Like `write`, for `op(conn)` on the plain sqlite3 connection, run in the
        writer's thread: it must not touch the event loop. The cheap kind."""
        if not self.is_open:
            raise StorageError("the database is not open")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((op, future, True))
        return await future

    async def read[T](self, op: Operation[T]) -> T:
        """Run a read-only `op` against the last committed state."""
        if self._reader is None:
            raise StorageError("the database is not open")
        try:
            return await op(self._reader)
        except sqlite3.Error as e:
            raise StorageError(describe(e)) from e
        except ValueError as e:  # aiosqlite: the connection was closed under the read
            raise StorageError(f"the database was closed ({e})") from e

    async def rows(self, sql: str, params: Sequence[object] = ()) -> AsyncIterator[tuple[Any, ...]]:
        """Stream a query's rows from the reader connection, for long reads such as exports."""
        if self._reader is None:
            raise StorageError("the database is not open")
        async with self._reader.execute(sql, params) as cursor:
            async for row in cursor:
                yield tuple(row)

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < MAX_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._commit(batch)
            except Exception as e:  # any failure: isolate the culprit, keep the writer alive
                self._was_read_only = is_read_only(e)
                await self._rollback()
                if len(batch) == 1:
                    fail(batch[0][1], e)
                else:
                    for item in batch:
                        try:
                            await self._commit([item])
                        except Exception as single:
                            self._was_read_only = is_read_only(single)
                            await self._rollback()
                            fail(item[1], single)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _commit(self, batch: list[_Item]) -> None:
        async with self._turn:
            await self._commit_now(batch)

    async def _commit_now(self, batch: list[_Item]) -> None:
        if self._was_read_only:
            self._was_read_only = False
            await self._reconnect_writer()
        writer = self._writer
        assert writer is not None
        if all(sync for _, _, sync in batch):
            results = await in_writer_thread(
                writer, partial(transaction, [op for op, _, _ in batch])
            )
        else:
            await writer.execute("BEGIN IMMEDIATE")
            results = [
                await (in_writer_thread(writer, op) if sync else op(writer))
                for op, _, sync in batch
            ]
            await writer.execute("COMMIT")
        self.commits += 1
        for (_, future, _), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)

    async def _rollback(self) -> None:
        try:
            assert self._writer is not None
            if self._writer.in_transaction:
                await self._writer.execute("ROLLBACK")
        except (sqlite3.Error, ValueError) as e:
            logger.debug("rollback failed: %s", e)

    def stop(self, *, wait: float = 0.0) -> list[asyncio.Future[Any]]:
        """Close without waiting, for mitmproxy's synchronous `done` hook.

        Both connections finish what they were given, then close and end their
        threads (aiosqlite's threads are not daemons: left open, they keep the
        process from exiting). A change not yet committed is rolled back, and its
        caller was never told it was stored. The writer process commits what it
        has, then exits. Returns futures that resolve once the connections are
        closed, for callers that can wait after all.

        `wait` > 0 blocks up to that long for the connection threads to end: at
        process exit the event loop closes right after `done`, and a thread that
        finishes later cannot report back to it.
        """
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self.writer_process.stop(wait=wait)
        connections = [conn for conn in (self._writer, self._reader) if conn is not None]
        closing = [conn.stop() for conn in connections]
        self._writer = self._reader = None
        if wait > 0:
            for conn in connections:
                thread = getattr(conn, "_thread", None)  # aiosqlite offers no public join
                if thread is not None and thread.is_alive():
                    thread.join(wait)
        while not self._queue.empty():
            _, future, _ = self._queue.get_nowait()
            fail(future, StorageError("the database was closed"))
            self._queue.task_done()
        return [f for f in closing if f is not None]

    async def close(self) -> None:
        """Let queued changes commit, then close both connections."""
        if self.is_open:
            await self._queue.join()
        if self._task is not None:
            self._task.cancel()
            self._task = None
        await self.writer_process.close()
        await self._close_connections()

    async def _close_connections(self) -> None:
        connections = [c for c in (self._writer, self._reader) if c is not None]
        self._writer = self._reader = None
        for conn in connections:
            try:
                await conn.close()
            except (sqlite3.Error, ValueError) as e:
                logger.debug("closing the database: %s", e)


async def in_writer_thread[T](writer: aiosqlite.Connection, op: SyncOperation[T]) -> T:
    """Run `op(conn)` in the aiosqlite connection's own thread, on its sqlite3
    connection; inside an async operation too, for the cheap kind of change.
    aiosqlite has no public way to do this: `_execute` is what each of its
    methods is built on (its version is pinned in pyproject.toml, and
    tests/storage/test_database.py fails if that changes)."""
    return await writer._execute(op, writer._conn)
