"""Mirror mode: what it costs per upload, and how fast a backlog drains.

    .venv/bin/python tests/bench/mirror.py [--backlog 10000] [--seconds 5]

1. Uploads at 10 concurrent connections for --seconds: smt_upstream=off against
   mirror with a live (fake) teslalogger.de, same client, same run.
2. --backlog uploads while teslalogger.de is down, then it comes back: the time
   until the outbox is empty, and the delivery rate.
"""

import argparse
import asyncio
import sqlite3
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

from support.mitm import Mitmdump  # noqa: E402
from support.uploads import INSERT, open_tls, post, read_response, run_load, upload_body  # noqa: E402
from support.upstream import FakeUpstream  # noqa: E402


def upload(worker: int, n: int) -> bytes:
    return post(INSERT, upload_body(f"mirror{worker}", n))


def waiting(proxy: Mitmdump) -> int:
    db = sqlite3.connect(f"file:{proxy.data_dir / 'teslahome.sqlite3'}?mode=ro", uri=True)
    try:
        return db.execute("SELECT count(*) FROM outbox WHERE rejected IS NULL").fetchone()[0]
    finally:
        db.close()


def cost(
    work: Path, confdir: Path, seconds: float, rounds: int = 3
) -> list[tuple[str, float, float, float]]:
    """off; mirror while teslalogger.de answers (delivery runs alongside); mirror
    while it is down (uploads only queue up). The three run side by side and take
    turns, `rounds` times; the median round counts."""
    upstream = FakeUpstream()
    down = FakeUpstream()
    down.close()
    cases = {
        "off": ("off", upstream.url),
        "mirror, teslalogger.de up": ("mirror", upstream.url),
        "mirror, teslalogger.de down": ("mirror", down.url),
    }
    proxies = {}
    for n, (label, (mode, url)) in enumerate(cases.items()):
        (work / f"cost{n}").mkdir()
        options = {"smt_upstream": mode, "smt_upstream_url": url}
        proxies[label] = Mitmdump(work / f"cost{n}", confdir, options).start()
    results: dict[str, list] = {label: [] for label in cases}
    try:
        for _ in range(rounds):
            for label, proxy in proxies.items():
                load = run_load(proxy.port, proxy.ca_file, upload, concurrency=10, seconds=seconds)
                results[label].append(asyncio.run(load))
    finally:
        for proxy in proxies.values():
            proxy.stop()
        upstream.close()
    rows = []
    for label, runs in results.items():
        result = sorted(runs, key=lambda r: r.rate)[len(runs) // 2]
        rows.append((label, result.rate, result.p50, result.percentile(99)))
        print(
            f"  {label:28} {result.rate:6.0f} uploads/s  p50 {result.p50:.2f} ms", file=sys.stderr
        )
    return rows


def drain(work: Path, confdir: Path, backlog: int) -> dict:
    probe = FakeUpstream()
    port = probe.port
    probe.close()
    (work / "drain").mkdir()
    options = {
        "smt_upstream": "mirror",
        "smt_upstream_url": f"http://127.0.0.1:{port}",
        "smt_upstream_retry_max": 1,
    }
    with Mitmdump(work / "drain", confdir, options) as proxy:
        per_worker = backlog // 20

        async def fill() -> None:
            async def worker(w: int) -> None:
                reader, writer = await open_tls(proxy.port, proxy.ca_file)
                for n in range(per_worker):
                    writer.write(upload(w, n))
                    await read_response(reader)
                writer.close()

            await asyncio.gather(*(worker(w) for w in range(20)))

        started = time.perf_counter()
        asyncio.run(fill())
        filled = time.perf_counter() - started
        queued = waiting(proxy)
        print(f"  {queued} uploads queued during the outage in {filled:.1f} s", file=sys.stderr)
        upstream = FakeUpstream(port=port)
        try:
            back = time.perf_counter()
            while waiting(proxy) > 0:
                time.sleep(0.2)
            drained = time.perf_counter() - back
        finally:
            upstream.close()
        delivered = len(upstream.requests)
    print(f"  drained in {drained:.1f} s ({delivered} deliveries)", file=sys.stderr)
    return {"queued": queued, "fill_s": filled, "drain_s": drained, "delivered": delivered}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backlog", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        confdir = work / "certs"
        CertStore.from_store(confdir, "mitmproxy", 2048)
        rows = cost(work, confdir, args.seconds)
        result = drain(work, confdir, args.backlog)
    print("| smt_upstream | uploads/s | p50 ms | p99 ms |")
    print("| --- | --- | --- | --- |")
    for mode, rate, p50, p99 in rows:
        print(f"| {mode} | {rate:.0f} | {p50:.2f} | {p99:.2f} |")
    rate = result["delivered"] / result["drain_s"] if result["drain_s"] else float("nan")
    print(
        f"\nbacklog of {result['queued']} uploads drained in {result['drain_s']:.1f} s "
        f"({rate:.0f} deliveries/s, {result['delivered']} deliveries)"
    )


if __name__ == "__main__":
    main()
