"""A small asyncio load generator that talks to the proxy the way the phone does:
CONNECT teslalogger.de:443, TLS against the proxy's CA, then keep-alive POSTs."""

import asyncio
import ssl
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote


def upload_body(token: str, n: int, values: int = 7) -> bytes:
    second, micro = divmod(n, 1000)
    d = f"2025-02-09T19:{(second // 60) % 60:02d}:{second % 60:02d}.{micro * 1000:06d}+01:00"
    pairs = ",".join(f'"{400 + i}":{n * 0.5 + i}' for i in range(values))
    m = quote(f'{{"d":"{d}","dict":{{{pairs}}}}}', safe="")
    return f"t={token}&v=1&m={m}".encode()


def post(path: str, body: bytes) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: teslalogger.de\r\n"
        "User-Agent: Dalvik/2.1.0 (Linux; U; Android 7.0; SM-A310F Build/NRD90M)\r\n"
        "Connection: Keep-Alive\r\nAccept-Encoding: identity\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


@dataclass
class Result:
    requests: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] * 1000

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies) * 1000 if self.latencies else float("nan")


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    body = await reader.readexactly(length) if length else b""
    return status, body


async def open_tls(proxy_port: int, ca_file: str, host: str = "teslalogger.de"):
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy_port)
    writer.write(f"CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n".encode())
    await reader.readuntil(b"\r\n\r\n")
    context = ssl.create_default_context(cafile=ca_file)
    context.set_alpn_protocols(["http/1.1"])
    await writer.start_tls(context, server_hostname=host)
    return reader, writer


async def run_load(
    proxy_port: int,
    ca_file: str,
    make_request: Callable[[int, int], bytes],
    *,
    concurrency: int,
    seconds: float,
    expect: bytes | None = b"OK",
) -> Result:
    """`concurrency` keep-alive connections sending back to back for `seconds`."""
    result = Result()
    deadline = time.perf_counter() + seconds

    async def worker(w: int) -> None:
        reader, writer = await open_tls(proxy_port, ca_file)
        n = 0
        try:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                writer.write(make_request(w, n))
                status, body = await _read_response(reader)
                result.latencies.append(time.perf_counter() - started)
                result.requests += 1
                if status != 200 or (expect is not None and body != expect):
                    result.errors += 1
                n += 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(concurrency)))
    result.seconds = time.perf_counter() - started
    return result
