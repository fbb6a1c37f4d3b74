"""Many uploads through the proxy, the way the app sends them: HTTPS over
keep-alive connections, several at once (asyncio, so thousands stay cheap)."""

import asyncio
import json
import random
import ssl
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

SEED_IDS = (415, 442, 426, 43, 404, 445, 444)  # the ids of the seed capture's upload


def value_ids(count: int) -> list[int]:
    """The seed's ids first, then cell voltages."""
    return [*SEED_IDS[:count], *range(101, 101 + max(0, count - len(SEED_IDS)))]


def upload_body(token: str, i: int, ids: list[int]) -> bytes:
    moment = datetime(2025, 2, 9, 18, 0, tzinfo=UTC) + timedelta(milliseconds=100 * i)
    values = {str(v): round(random.uniform(-500, 500), 6) for v in ids}
    m = json.dumps({"d": moment.isoformat(), "dict": values}, separators=(",", ":"))
    return f"t={token}&v=1&m={quote(m, safe='')}".encode()


def insert_request(body: bytes) -> bytes:
    return (
        b"POST /insert_scanmytesla.php HTTP/1.1\r\nHost: teslalogger.de\r\n"
        b"Connection: Keep-Alive\r\nAccept-Encoding: identity\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )


async def _client(port: int, tls: ssl.SSLContext, queue: "asyncio.Queue[int]", make, done) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"CONNECT teslalogger.de:443 HTTP/1.1\r\nHost: teslalogger.de:443\r\n\r\n")
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise ConnectionError(f"CONNECT refused: {head!r}")
    await writer.start_tls(tls, server_hostname="teslalogger.de")
    try:
        while not queue.empty():
            i = queue.get_nowait()
            writer.write(insert_request(make(i)))
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            body = await reader.readexactly(length)
            if not head.startswith(b"HTTP/1.1 200") or body != b"OK":
                raise RuntimeError(f"upload {i} answered {head[:40]!r} {body[:80]!r}")
            done[0] += 1
    finally:
        writer.close()


async def send_uploads(
    port: int,
    ca_file: str,
    count: int,
    *,
    token: str = "bench1234",
    values: int = 7,
    concurrency: int = 20,
    first: int = 0,
    report_every: float = 0.0,
    report: Callable[[int, float], None] | None = None,
) -> float:
    """Send uploads `first` .. `first + count - 1`; return the seconds taken.
    Every `report_every` seconds `report(done, seconds)` is called (default:
    a progress line on stderr)."""
    tls = ssl.create_default_context(cafile=ca_file)
    ids = value_ids(values)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(first, first + count):
        queue.put_nowait(i)
    done = [0]
    started = time.monotonic()

    def progress_line(n: int, seconds: float) -> None:
        print(f"    {n:>7} of {count} ({n / seconds:.0f}/s)", file=sys.stderr, flush=True)

    async def reporting(tell: Callable[[int, float], None]) -> None:
        while True:
            await asyncio.sleep(report_every)
            tell(done[0], time.monotonic() - started)

    reporter = asyncio.create_task(reporting(report or progress_line)) if report_every else None
    clients = min(concurrency, count)
    try:
        await asyncio.gather(
            *(
                _client(port, tls, queue, lambda i: upload_body(token, i, ids), done)
                for _ in range(clients)
            )
        )
    finally:
        if reporter:
            reporter.cancel()
    if done[0] != count:
        raise RuntimeError(f"only {done[0]} of {count} uploads were answered OK")
    return time.monotonic() - started
