import sqlite3

import pytest

from storage.database import Database, StorageError, describe
from storage.schema import SCHEMA_VERSION


async def insert(conn, value):
    await conn.execute(
        "INSERT INTO token (token, first_seen_ms, last_seen_ms) VALUES (?, 0, 0)", (value,)
    )
    return value


async def test_schema_is_current_and_wal(db):
    async def op(conn):
        async with conn.execute("PRAGMA user_version") as c:
            version = (await c.fetchone())[0]
        async with conn.execute("PRAGMA journal_mode") as c:
            mode = (await c.fetchone())[0]
        return version, mode

    assert await db.read(op) == (SCHEMA_VERSION, "wal")


async def test_a_failing_operation_fails_alone(db):
    import asyncio

    async def broken(conn):
        await conn.execute("INSERT INTO nowhere VALUES (1)")

    async def buggy(conn):
        raise RuntimeError("a bug")

    results = await asyncio.gather(
        db.write(lambda c: insert(c, "a")),
        db.write(broken),
        db.write(lambda c: insert(c, "b")),
        db.write(buggy),
        return_exceptions=True,
    )
    assert results[0] == "a" and results[2] == "b"
    assert isinstance(results[1], StorageError) and "no such table" in str(results[1])
    assert isinstance(results[3], StorageError) and "a bug" in str(results[3])

    async def tokens(conn):
        async with conn.execute("SELECT token FROM token ORDER BY token") as c:
            return [r[0] for r in await c.fetchall()]

    assert await db.read(tokens) == ["a", "b"]
    assert await db.write(lambda c: insert(c, "c")) == "c"  # the writer is still alive


async def test_a_newer_schema_is_refused_with_advice(tmp_path):
    path = tmp_path / "t.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StorageError, match="newer than this program"):
        await Database(path).open()


async def test_a_database_that_is_not_sqlite_is_refused(tmp_path):
    path = tmp_path / "t.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StorageError, match="cannot open"):
        await Database(path).open()


async def test_writes_after_stop_fail_clearly(db):
    for closed in db.stop():
        await closed
    with pytest.raises(StorageError, match="not open"):
        await db.write(lambda c: insert(c, "x"))


def test_disk_errors_say_what_to_do():
    assert "permissions" in describe(
        sqlite3.OperationalError("attempt to write a readonly database")
    )
    assert "free space" in describe(sqlite3.OperationalError("database or disk is full"))


async def read_tokens(database):
    async def op(conn):
        async with conn.execute("SELECT token FROM token ORDER BY id") as cursor:
            return [row[0] async for row in cursor]

    return await database.read(op)


async def test_a_reader_beside_the_writer_sees_what_is_committed(db):
    await db.write(lambda c: insert(c, "a"))
    reader = Database(db.path, read_only=True)
    await reader.open()
    try:
        assert await read_tokens(reader) == ["a"]
        await db.write(lambda c: insert(c, "b"))
        assert await read_tokens(reader) == ["a", "b"]
        with pytest.raises(StorageError, match="readonly"):
            await reader.read(lambda c: insert(c, "c"))
        with pytest.raises(StorageError, match="not open"):
            await reader.write(lambda c: insert(c, "c"))
    finally:
        await reader.close()


async def test_read_only_after_the_proxy_closed_the_database(tmp_path):
    path = tmp_path / "t.sqlite3"
    writer = Database(path)
    await writer.open()
    await writer.write(lambda c: insert(c, "a"))
    await writer.close()
    assert not path.with_name("t.sqlite3-wal").exists()
    reader = Database(path, read_only=True)
    await reader.open()
    assert await read_tokens(reader) == ["a"]
    await reader.close()


async def test_read_only_refuses_a_missing_file_or_another_schema(tmp_path):
    path = tmp_path / "t.sqlite3"
    with pytest.raises(StorageError, match="no database at"):
        await Database(path, read_only=True).open()
    assert not path.exists()  # nothing created
    sqlite3.connect(path).close()
    with pytest.raises(StorageError, match=r"schema version 0, this program reads .*migrate"):
        await Database(path, read_only=True).open()
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StorageError, match="cannot open"):
        await Database(path, read_only=True).open()


def insert_now(conn: sqlite3.Connection, value: str) -> str:
    conn.execute(
        "INSERT INTO token (token, first_seen_ms, last_seen_ms) VALUES (?, 0, 0)", (value,)
    )
    return value


async def test_plain_operations_share_one_transaction_and_fail_alone(db):
    import asyncio

    def broken(conn):
        conn.execute("INSERT INTO nowhere VALUES (1)")

    commits = db.commits
    results = await asyncio.gather(
        db.write_sync(lambda c: insert_now(c, "a")),
        db.write_sync(lambda c: insert_now(c, "b")),
        return_exceptions=True,
    )
    assert results == ["a", "b"] and db.commits == commits + 1  # one trip, one commit
    results = await asyncio.gather(
        db.write_sync(lambda c: insert_now(c, "c")),
        db.write_sync(broken),
        db.write(lambda c: insert(c, "d")),  # an async one in the same batch
        return_exceptions=True,
    )
    assert results[0] == "c" and results[2] == "d"
    assert isinstance(results[1], StorageError) and "no such table" in str(results[1])
    assert await read_tokens(db) == ["a", "b", "c", "d"]


async def test_aiosqlite_still_runs_plain_functions_in_its_thread(db):
    """storage.database.in_writer_thread relies on aiosqlite's `_execute`."""
    import threading

    assert await db.write_sync(lambda c: threading.current_thread()) is not (
        threading.current_thread()
    )
