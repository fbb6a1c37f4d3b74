"""Uploads through the proxy the way the app sends them: CONNECT
teslalogger.de:443, TLS against the proxy's CA, then POSTs over keep-alive
connections, many at once (asyncio, so thousands stay cheap). Used by the
end-to-end and fault tests and by the benchmarks."""

import asyncio
import json
import ssl
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

SEED_IDS = (415, 442, 426, 43, 404, 445, 444)  # the ids of the seed capture's upload
INSERT = "/insert_scanmytesla.php"


def value_ids(count: int) -> list[int]:
    """The seed's ids first, then cell voltages."""
    return [*SEED_IDS[:count], *range(101, 101 + max(0, count - len(SEED_IDS)))]


def upload_body(token: str, i: int, ids: list[int] | tuple[int, ...] = SEED_IDS) -> bytes:
    """Upload number `i`: 100 ms after upload i-1, and the first id's value is i / 2,
    so a test can tell from the database which uploads arrived."""
    moment = datetime(2025, 2, 9, 18, 0, tzinfo=UTC) + timedelta(milliseconds=100 * i)
    values = {str(v): i * 0.5 + k for k, v in enumerate(ids)}
    m = json.dumps({"d": moment.isoformat(), "dict": values}, separators=(",", ":"))
    return f"t={token}&v=1&m={quote(m, safe='')}".encode()


def post(path: str, body: bytes) -> bytes:
    """An HTTP/1.1 POST with the app's headers."""
    return (
        f"POST {path} HTTP/1.1\r\nHost: teslalogger.de\r\n"
        "User-Agent: Dalvik/2.1.0 (Linux; U; Android 7.0; SM-A310F Build/NRD90M)\r\n"
        "Connection: Keep-Alive\r\nAccept-Encoding: identity\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def open_tls(proxy_port: int, ca_file: str, host: str = "teslalogger.de"):
    """A keep-alive connection into the proxy's intercepted TLS, as (reader, writer)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy_port)
    writer.write(f"CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise ConnectionError(f"CONNECT refused: {head!r}")
    context = ssl.create_default_context(cafile=ca_file)
    context.set_alpn_protocols(["http/1.1"])
    await writer.start_tls(context, server_hostname=host)
    return reader, writer


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return int(head[9:12]), await reader.readexactly(length) if length else b""


@dataclass
class Result:
    requests: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies) * 1000 if self.latencies else float("nan")

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] * 1000


async def run_load(
    proxy_port: int,
    ca_file: str,
    make_request: Callable[[int, int], bytes],
    *,
    concurrency: int,
    seconds: float,
    expect: bytes | None = b"OK",
) -> Result:
    """`concurrency` keep-alive connections sending `make_request(connection, n)`
    back to back for `seconds`; every latency is kept."""
    result = Result()
    deadline = time.perf_counter() + seconds

    async def connection(c: int) -> None:
        reader, writer = await open_tls(proxy_port, ca_file)
        n = 0
        try:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                writer.write(make_request(c, n))
                status, body = await read_response(reader)
                result.latencies.append(time.perf_counter() - started)
                result.requests += 1
                if status != 200 or (expect is not None and body != expect):
                    result.errors += 1
                n += 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection(c) for c in range(concurrency)))
    result.seconds = time.perf_counter() - started
    return result


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
    """Send uploads `first` .. `first + count - 1`, each answered OK, or raise;
    return the seconds taken. Every `report_every` seconds `report(done,
    seconds)` is called (default: a progress line on stderr)."""
    ids = value_ids(values)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(first, first + count):
        queue.put_nowait(i)
    done = [0]
    started = time.monotonic()

    async def connection() -> None:
        reader, writer = await open_tls(port, ca_file)
        try:
            while not queue.empty():
                i = queue.get_nowait()
                writer.write(post(INSERT, upload_body(token, i, ids)))
                status, body = await read_response(reader)
                if status != 200 or body != b"OK":
                    raise RuntimeError(f"upload {i} answered {status} {body[:80]!r}")
                done[0] += 1
        finally:
            writer.close()

    def progress_line(n: int, seconds: float) -> None:
        print(f"    {n:>7} of {count} ({n / seconds:.0f}/s)", file=sys.stderr, flush=True)

    async def reporting(tell: Callable[[int, float], None]) -> None:
        while True:
            await asyncio.sleep(report_every)
            tell(done[0], time.monotonic() - started)

    reporter = asyncio.create_task(reporting(report or progress_line)) if report_every else None
    try:
        await asyncio.gather(*(connection() for _ in range(min(concurrency, count))))
    finally:
        if reporter:
            reporter.cancel()
    if done[0] != count:
        raise RuntimeError(f"only {done[0]} of {count} uploads were answered OK")
    return time.monotonic() - started
