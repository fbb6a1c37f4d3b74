"""TeslaLogger poll latency through the proxy with a large history stored.

    .venv/bin/python tests/bench/poll.py [--samples 1000000] [--polls 500]

TeslaLogger polls plain HTTP with `Connection: close`, one connection per poll;
this does the same. Two cases: a poll that finds values (one upload before
each poll) and one that finds none (`not found`).
"""

import argparse
import socket
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# tests/ for `support`, the checkout for the code: tests/wallbox etc. would
# otherwise shadow the packages they mirror.
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent.parent))

from mitmproxy.certs import CertStore  # noqa: E402

from bench.fill import fill  # noqa: E402
from support.client import ProxyClient  # noqa: E402
from support.mitm import Mitmdump  # noqa: E402
from support.uploads import Result  # noqa: E402

POLL = (
    b"POST http://teslalogger.de/get_scanmytesla.php HTTP/1.1\r\nHost: teslalogger.de\r\n"
    b"User-Agent: Teslalogger/1.0 (bench0; 1)\r\nConnection: close\r\n"
    b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 8\r\n\r\nt=bench0"
)


def one_poll(port: int) -> tuple[float, bytes]:
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(POLL)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return time.perf_counter() - started, data


def measure(samples: int, polls: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        confdir = work / "certs"
        CertStore.from_store(confdir, "mitmproxy", 2048)
        proxy = Mitmdump(work, confdir, {"smt_upstream_url": "http://127.0.0.1:9"})
        proxy.data_dir.mkdir(parents=True)
        seconds = fill(proxy.data_dir / "teslahome.sqlite3", samples, values_per_sample=7)
        size = (proxy.data_dir / "teslahome.sqlite3").stat().st_size
        print(
            f"  filled {samples} samples in {seconds:.1f} s ({size / 1e6:.0f} MB)", file=sys.stderr
        )
        found, empty = Result(), Result()
        with proxy:
            uploader = ProxyClient(proxy.port, proxy.ca_file)
            for _ in range(20):  # warm-up
                one_poll(proxy.port)
            for n in range(polls):
                uploader.post(
                    "/insert_scanmytesla.php",
                    f"t=bench0&v=1&m=%7B%22d%22%3A%222025-02-09T19%3A33%3A{n % 60:02d}%2B01%3A00%22"
                    f"%2C%22dict%22%3A%7B%22415%22%3A{n}%7D%7D",
                )
                latency, data = one_poll(proxy.port)
                assert b"\r\n" in data.partition(b"\r\n\r\n")[2], data[-200:]
                found.latencies.append(latency)
                latency, data = one_poll(proxy.port)
                assert data.endswith(b"\r\n\r\nnot found"), data[-200:]
                empty.latencies.append(latency)
        bare = Result()
        (work / "bare").mkdir()
        baseline = Mitmdump(
            work / "bare",
            confdir,
            extra_args=["-s", str(HERE / "bare_mitmdump.py")],
            ready_marker="listening at",
            entry=None,
        )
        with baseline:
            for n in range(polls + 20):
                latency, data = one_poll(baseline.port)
                if n >= 20:
                    bare.latencies.append(latency)
    return {"samples": samples, "found": found, "empty": empty, "bare": bare, "db_mb": size / 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=1_000_000)
    parser.add_argument("--polls", type=int, default=500)
    args = parser.parse_args()
    r = measure(args.samples, args.polls)
    print(f"| poll with {r['samples']:,} samples stored | p50 ms | p99 ms |")
    print("| --- | --- | --- |")
    labels = {
        "found": "values waiting",
        "empty": "nothing waiting (not found)",
        "bare": "bare mitmdump answering not found (baseline)",
    }
    for name, label in labels.items():
        result = r[name]
        print(f"| {label} | {result.p50:.2f} | {result.percentile(99):.2f} |")


if __name__ == "__main__":
    main()
