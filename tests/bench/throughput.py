"""Uploads through mitmdump with teslahome's addons against bare mitmdump
answering the same requests with a trivial script: same client, same run.

    .venv/bin/python tests/bench/throughput.py [--seconds 5] [--concurrency 1,10,50]
"""

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
# tests/ for `support`, the checkout for the code: tests/wallbox etc. would
# otherwise shadow the packages they mirror.
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent.parent))

from mitmproxy.certs import CertStore  # noqa: E402

from support.mitm import Mitmdump  # noqa: E402
from support.uploads import INSERT, post, run_load, upload_body  # noqa: E402

LAZY_ONLY_TESLALOGGER = [
    "--set", "connection_strategy=lazy",
    "--set", r"allow_hosts=^(.+\.)?teslalogger\.de(:\d+)?$",
]  # fmt: skip


def proxies(work: Path, confdir: Path) -> dict[str, Mitmdump]:
    for name in ("bare", "teslahome"):
        (work / name).mkdir(parents=True, exist_ok=True)
    bare = Mitmdump(
        work / "bare",
        confdir,
        extra_args=["-s", str(HERE / "bare_mitmdump.py"), *LAZY_ONLY_TESLALOGGER],
        ready_marker="listening at",
    )
    teslahome = Mitmdump(work / "teslahome", confdir, {"smt_upstream_url": "http://127.0.0.1:9"})
    return {"bare mitmdump": bare, "teslahome": teslahome}


def upload(worker: int, n: int) -> bytes:
    return post(INSERT, upload_body(f"bench{worker}", n))


def measure(concurrency_levels: list[int], seconds: float, rounds: int = 3) -> list[dict]:
    """Both proxies run side by side; each level alternates bare and teslahome
    `rounds` times and keeps the median round, so a burst of load from elsewhere
    on the machine cannot favour one of them."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        confdir = work / "certs"
        CertStore.from_store(confdir, "mitmproxy", 2048)
        runners = proxies(work, confdir)
        for proxy in runners.values():
            proxy.start()
        try:
            for proxy in runners.values():  # warm-up: TLS certificates, imports, caches
                asyncio.run(run_load(proxy.port, proxy.ca_file, upload, concurrency=2, seconds=1))
            for concurrency in concurrency_levels:
                results: dict[str, list] = {name: [] for name in runners}
                for _ in range(rounds):
                    for name, proxy in runners.items():
                        load = run_load(
                            proxy.port,
                            proxy.ca_file,
                            upload,
                            concurrency=concurrency,
                            seconds=seconds,
                        )
                        results[name].append(asyncio.run(load))
                for name, runs in results.items():
                    result = sorted(runs, key=lambda r: r.rate)[len(runs) // 2]
                    row = {
                        "proxy": name,
                        "concurrency": concurrency,
                        "requests": result.requests,
                        "errors": sum(r.errors for r in runs),
                        "rate": result.rate,
                        "p50_ms": result.p50,
                        "p99_ms": result.percentile(99),
                    }
                    rows.append(row)
                    print(
                        f"  {name:14} c={concurrency:3}  {row['rate']:7.0f} req/s  "
                        f"p50 {row['p50_ms']:6.2f} ms  p99 {row['p99_ms']:6.2f} ms  "
                        f"errors {row['errors']}",
                        file=sys.stderr,
                    )
        finally:
            for proxy in runners.values():
                proxy.stop()
    return rows


def table(rows: list[dict]) -> str:
    lines = [
        "| concurrency | bare mitmdump req/s | teslahome req/s | ratio "
        "| bare p50 / p99 ms | teslahome p50 / p99 ms |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    by_level: dict[int, dict[str, dict]] = {}
    for row in rows:
        by_level.setdefault(row["concurrency"], {})[row["proxy"]] = row
    for level, pair in sorted(by_level.items()):
        bare, ours = pair["bare mitmdump"], pair["teslahome"]
        ratio = ours["rate"] / bare["rate"] if bare["rate"] else float("nan")
        lines.append(
            f"| {level} | {bare['rate']:.0f} | {ours['rate']:.0f} | {ratio:.2f} "
            f"| {bare['p50_ms']:.2f} / {bare['p99_ms']:.2f} "
            f"| {ours['p50_ms']:.2f} / {ours['p99_ms']:.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", default="1,10,50")
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]
    print(table(measure(levels, args.seconds, args.rounds)))


if __name__ == "__main__":
    main()
