"""Crashes and sick disks: nothing acknowledged is lost, nothing is acknowledged
that was not stored, and the proxy keeps serving."""

import asyncio
import contextlib
import os
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from storage.codec import decode_values
from support.client import ProxyClient
from support.mitm import Mitmdump
from support.uploads import INSERT, SEED_IDS, open_tls, post, read_response, upload_body

pytestmark = [pytest.mark.e2e, pytest.mark.fault]


def stored_values(data_dir: Path) -> set[tuple[str, float]]:
    db = sqlite3.connect(data_dir / "teslahome.sqlite3")
    try:
        rows = db.execute(
            "SELECT token.token, vals FROM sample JOIN token ON token.id = sample.token_id"
        ).fetchall()
    finally:
        db.close()
    return {(token, decode_values(vals)[SEED_IDS[0]]) for token, vals in rows}


async def burst(proxy: Mitmdump, workers: int, acknowledged: set, stop_after: float) -> None:
    """Upload until the proxy dies; remember every upload it answered OK."""
    deadline = time.monotonic() + stop_after

    async def worker(w: int) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError, ConnectionError):
            reader, writer = await open_tls(proxy.port, proxy.ca_file)
            n = 0
            while time.monotonic() < deadline:
                writer.write(post(INSERT, upload_body(f"kill{w}", n)))
                status, body = await read_response(reader)
                if status == 200 and body == b"OK":
                    acknowledged.add((f"kill{w}", n * 0.5))  # upload n's first value
                n += 1

    await asyncio.gather(*(worker(w) for w in range(workers)))


def test_kill_9_during_a_burst_loses_no_acknowledged_sample(tmp_path, confdir):
    proxy = Mitmdump(tmp_path, confdir, {"smt_upstream_url": "http://127.0.0.1:9"}).start()
    acknowledged: set[tuple[str, float]] = set()

    async def scenario() -> None:
        uploading = asyncio.create_task(burst(proxy, 8, acknowledged, stop_after=30))
        await asyncio.sleep(2.0)
        os.kill(proxy.pid, 9)  # mid-burst, no warning
        await uploading

    try:
        asyncio.run(scenario())
    finally:
        proxy.kill()
    assert len(acknowledged) > 50, "the burst never got going"
    missing = acknowledged - stored_values(proxy.data_dir)
    assert not missing, f"{len(missing)} acknowledged uploads lost, e.g. {sorted(missing)[:3]}"
    with proxy:  # and it starts again on that database
        reply = ProxyClient(proxy.port, proxy.ca_file).post(
            "/get_scanmytesla.php", "t=kill0", tls=False
        )
        assert reply.status == 200


@pytest.fixture
def small_disk(tmp_path):
    """A 4 MiB tmpfs: a disk that can fill up or turn read-only under the proxy."""
    mount = tmp_path / "disk"
    mount.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {result.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def seed_upload(client: ProxyClient, n: int):
    return client.post(INSERT, upload_body("disk", n))


def test_a_full_disk_refuses_uploads_clearly_and_recovers(tmp_path, confdir, small_disk):
    proxy = Mitmdump(tmp_path, confdir, {"smt_upstream_url": "http://127.0.0.1:9"})
    proxy.data_dir = small_disk / "data"
    with proxy:
        client = ProxyClient(proxy.port, proxy.ca_file)
        assert seed_upload(client, 0).body == b"OK"
        filler = small_disk / "filler"
        with contextlib.suppress(OSError), filler.open("wb") as f:
            while True:
                f.write(b"\0" * 65536)
        replies = [seed_upload(client, n) for n in range(1, 200)]
        refused = [r for r in replies if r.status != 200]
        assert refused, "the disk never filled up"
        assert refused[0].status == 503
        assert refused[0].body.startswith(b"ERROR: not stored, try again: the disk is full")
        acknowledged = {n * 0.5 for n, r in enumerate(replies, 1) if r.body == b"OK"} | {0.0}
        filler.unlink()
        assert seed_upload(client, 500).body == b"OK"  # recovers without a restart
    stored = {value for token, value in stored_values(proxy.data_dir) if token == "disk"}
    assert acknowledged | {250.0} <= stored


def chattr(flag: str, *paths: Path) -> None:
    result = subprocess.run(["chattr", flag, *map(str, paths)], capture_output=True)
    if result.returncode != 0:
        pytest.skip(f"cannot make files immutable here: {result.stderr.decode().strip()}")


def test_a_read_only_database_refuses_uploads_clearly_and_recovers(tmp_path, confdir):
    proxy = Mitmdump(tmp_path, confdir, {"smt_upstream_url": "http://127.0.0.1:9"})
    with proxy:
        assert seed_upload(ProxyClient(proxy.port, proxy.ca_file), 0).body == b"OK"
    database = proxy.data_dir / "teslahome.sqlite3"
    chattr("+i", database)  # not even root may write it now
    try:
        with proxy:
            client = ProxyClient(proxy.port, proxy.ca_file)
            refused = seed_upload(client, 1)
            assert refused.status == 503
            assert refused.body.startswith(
                b"ERROR: not stored, try again: the database is read-only"
            )
            assert client.post("/check_token.php", "t=disk").body == b"OK"  # still serving
            chattr("-i", database)
            assert seed_upload(client, 2).body == b"OK"  # recovers without a restart
    finally:
        chattr("-i", database)
    stored = {value for token, value in stored_values(proxy.data_dir) if token == "disk"}
    assert stored == {0.0, 1.0}  # uploads 0 and 2; never the refused one
