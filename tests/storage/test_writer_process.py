"""The writer process commits batches of uploads for the proxy (writer_process.py,
writer_link.py): its wire, its answers, and how it starts, fails and ends."""

import asyncio
import io
import marshal
import math
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

from storage import writer_link, writer_process
from storage.database import Database, StorageError
from storage.records import Sample
from storage.sample_batch import Forward, Upload, to_wire
from storage.samples import SampleStore
from storage.writer_link import WriterProcess

ROOT = Path(__file__).resolve().parents[2]


def upload(n: int, token: str = "tok", value: float | None = None) -> Upload:
    sample = Sample(
        token, f"2025-02-09T19:33:{n:02d}+01:00", {1: float(n) if value is None else value}
    )
    return Upload(sample, 1000 + n, None)


def request(uploads: list[Upload], next_id: int | None = None) -> bytes:
    batch = [to_wire(u) for u in uploads]
    return writer_process.frame(marshal.dumps(("store", (next_id, {}, batch))))


def answers(data: bytes) -> list[tuple[bool, object]]:
    stream, found = io.BytesIO(data), []
    while (frame := writer_process.read_frame(stream)) is not None:
        found.append(marshal.loads(frame))
    return found


@pytest.fixture
async def db(tmp_path):
    database = Database(tmp_path / "t.sqlite3")
    await database.open()  # creates and migrates the file the writer process opens
    yield database
    await database.close()


def rows(db: Database, sql: str) -> list[tuple]:
    with closing(sqlite3.connect(db.path)) as conn:
        return conn.execute(sql).fetchall()


def gone(pid: int, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        if Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z"):
            return True  # exited; only its parent has not collected it yet
        time.sleep(0.05)
    return False


async def test_each_request_is_answered_and_a_failed_one_stores_nothing(db):
    requests = request([upload(1), upload(2)]) + request([upload(3, value=math.nan)])
    requests += request([upload(4)])
    out = io.BytesIO()
    writer_process.serve(str(db.path), io.BytesIO(requests), out)
    first, failed, last = answers(out.getvalue())
    assert first == (True, ([1, 2], {"tok": 1}))
    assert failed[0] is False and "NOT NULL constraint failed" in failed[1]
    assert last == (True, ([3], {"tok": 1}))  # the failed batch took no id
    assert rows(db, "SELECT id, received_ms FROM sample") == [(1, 1001), (2, 1002), (3, 1004)]


async def test_a_writer_process_from_other_code_refuses_every_request(db):
    out = io.BytesIO()
    requests = io.BytesIO(request([upload(1)]) + request([upload(2)]))
    writer_process.serve(str(db.path), requests, out, outdated=True)
    assert answers(out.getvalue()) == [(False, writer_process.OUTDATED)] * 2
    assert rows(db, "SELECT count(*) FROM sample") == [(0,)]


async def test_the_proxy_says_which_code_it_runs(db, monkeypatch):
    """A checkout updated under a running proxy: its next writer process refuses."""
    monkeypatch.setattr(writer_link, "VERSION", "0" * 16)
    with pytest.raises(StorageError, match="restart the proxy"):
        await SampleStore(db).add(upload(1).sample)


def test_the_code_version_follows_the_code(tmp_path):
    assert writer_process.code_version() == writer_link.VERSION  # as loaded, as on disk
    for name in writer_process._SOURCES:
        shutil.copy(ROOT / "storage" / name, tmp_path / name)
    assert writer_process.code_version(tmp_path) == writer_link.VERSION
    for name in writer_process._SOURCES:  # any one of them changed: another version
        original = (tmp_path / name).read_bytes()
        (tmp_path / name).write_bytes(original + b"\n")
        assert writer_process.code_version(tmp_path) != writer_link.VERSION, name
        (tmp_path / name).write_bytes(original)


def test_a_stream_cut_inside_a_frame_is_an_error_not_a_request():
    with pytest.raises(EOFError):
        writer_process.read_frame(io.BytesIO(request([upload(1)])[:-3]))
    assert writer_process.read_frame(io.BytesIO(b"")) is None


async def test_a_batch_is_on_disk_when_its_ids_come_back(db):
    store = SampleStore(db)
    ids = await asyncio.gather(*(store.add(upload(n).sample) for n in range(1, 6)))
    assert ids == [1, 2, 3, 4, 5]
    assert db.writer_process.pid not in (None, os.getpid())
    # Another connection: committed, not only cached.
    assert rows(db, "SELECT count(*) FROM sample") == [(5,)]


async def running(db: Database) -> tuple[SampleStore, int]:
    """A store whose writer process has committed one upload, and that process's pid."""
    store = SampleStore(db)
    await store.add(upload(1).sample)
    return store, db.writer_process.pid


async def test_a_writer_process_that_died_idle_is_replaced_unnoticed(db):
    store, first = await running(db)
    os.kill(first, signal.SIGKILL)
    assert gone(first)
    assert await store.add(upload(2).sample) == 2
    assert db.writer_process.pid != first


async def test_a_batch_whose_process_dies_fails_and_the_next_is_stored(db):
    store, pid = await running(db)
    os.kill(pid, signal.SIGSTOP)  # it will read the batch but never answer
    try:
        pending = asyncio.create_task(store.add(upload(2).sample))
        await asyncio.sleep(0.2)
        assert not pending.done()
    finally:
        os.kill(pid, signal.SIGKILL)
    with pytest.raises(StorageError, match=r"writer process ended \(exit code -9\)"):
        await asyncio.wait_for(pending, 10)
    assert await store.add(upload(3).sample) == 2  # nothing of the lost batch was stored
    assert (await store.hand_out("tok")).values == {1: 3.0}


async def test_ctrl_c_on_the_terminal_does_not_cut_a_commit_short(db):
    store, pid = await running(db)
    os.kill(pid, signal.SIGINT)
    os.kill(pid, signal.SIGTERM)
    await asyncio.sleep(0.3)
    assert await store.add(upload(2).sample) == 2
    assert db.writer_process.pid == pid  # the same process: it ignored both


async def test_closing_the_database_ends_the_writer_process(db):
    store, pid = await running(db)
    await db.close()
    assert gone(pid, within=1.0)
    with pytest.raises(StorageError, match="closed"):  # and starts no new one
        await store.add(upload(2).sample)
    assert db.writer_process.pid is None


async def test_stop_lets_the_writer_process_finish_and_exit(db):
    """mitmproxy's synchronous `done`: Database.stop(wait=...)."""
    _, pid = await running(db)
    db.stop(wait=5.0)
    assert gone(pid, within=1.0)


def test_the_writer_process_ends_with_a_proxy_that_dies(tmp_path):
    """kill -9 of the proxy: the process sees its stdin close and exits."""
    script = f"""
import asyncio, os, sys
sys.path.insert(0, {str(ROOT)!r})
from storage.database import Database
from storage.samples import SampleStore
from storage.records import Sample

async def main():
    db = Database(__import__("pathlib").Path({str(tmp_path / "t.sqlite3")!r}))
    await db.open()
    await SampleStore(db).add(Sample("tok", "2025-02-09T19:33:01+01:00", {{1: 1.0}}))
    print(db.writer_process.pid, flush=True)
    os._exit(0)  # no cleanup at all, as after kill -9

asyncio.run(main())
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    assert gone(int(done.stdout)), "the writer process outlived its proxy"


async def test_a_writer_that_cannot_open_the_database_says_why(tmp_path):
    writer = WriterProcess(tmp_path / "missing-dir" / "t.sqlite3")
    try:
        with pytest.raises(StorageError, match="unable to open database file"):
            await writer.store([upload(1)], {}, None)
    finally:
        await writer.close()


async def test_an_upload_that_cannot_be_sent_fails_alone(db):
    """marshal takes plain values only: a bug that slips another in fails its upload."""
    store = SampleStore(db)
    unsendable = Forward("/insert_scanmytesla.php", [("X-Odd", object())], b"m=1")  # type: ignore[list-item]
    fine, odd = await asyncio.gather(
        store.add(upload(1).sample),
        store.add(upload(2).sample, forward=unsendable),
        return_exceptions=True,
    )
    assert fine == 1
    assert isinstance(odd, StorageError) and "unmarshallable object" in str(odd)
    assert await store.add(upload(3).sample) == 2


async def test_a_stop_while_the_process_starts_leaves_none_running(db, monkeypatch):
    connect = asyncio.get_running_loop().connect_read_pipe
    started = []

    async def slow_connect(*args):
        started.append(db.writer_process)
        db.writer_process.stop()  # as in `done`, between the start and the first request
        return await connect(*args)

    monkeypatch.setattr(asyncio.get_running_loop(), "connect_read_pipe", slow_connect)
    with pytest.raises(StorageError, match="closed"):
        await SampleStore(db).add(upload(1).sample)
    assert started and db.writer_process.pid is None
