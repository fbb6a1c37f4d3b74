"""Memory of mitmweb and mitmdump after many uploads, with and without
smt_keep_flows, and the bytes on disk each stored value costs.

    .venv/bin/python tests/bench/flow_memory.py                  # 100,000 uploads per run
    .venv/bin/python tests/bench/flow_memory.py --uploads 20000 --runs mitmweb:2000

Each run starts a fresh proxy (own data directory, free ports), sends the
uploads over keep-alive HTTPS connections through it as the app does, then
reads the resident memory (VmRSS) and peak (VmHWM) of the proxy and its writer
process from /proc, stops it cleanly and measures the database. Not collected
by pytest.
"""

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

# tests/ for `support`, the checkout for the code: tests/wallbox etc. would
# otherwise shadow the packages they mirror.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1].parent))

from mitmproxy.certs import CertStore

from bench.wrk import child_pids
from support.mitm import Mitmdump
from support.ports import free_port, wait_for_port
from support.uploads import send_uploads, value_ids


def memory_kib(pid: int) -> dict[str, int]:
    """Resident and peak memory of the proxy and its writer process, together."""
    fields = {"VmRSS": 0, "VmHWM": 0}
    for process in (pid, *child_pids(pid)):
        for line in Path(f"/proc/{process}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in fields:
                fields[key] += int(value.split()[0])
    return fields


def database_bytes(data_dir: Path) -> int:
    return sum(p.stat().st_size for p in data_dir.glob("teslahome.sqlite3*"))


def run(tool: str, keep: int, args, confdir: Path) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-{tool}-{keep}-"))
    options: dict[str, object] = {"smt_keep_flows": keep}
    web_port = None
    if tool == "mitmweb":
        web_port = free_port()
        options |= {"web_port": web_port, "web_open_browser": False, "web_password": "bench"}
    proxy = Mitmdump(workdir, confdir, options, tool=tool)
    with proxy:
        if web_port:
            wait_for_port(web_port)
        before = memory_kib(proxy.pid)
        trail: list[tuple[int, float]] = []  # (uploads done, RSS MiB) along the way

        def report(done: int, seconds: float) -> None:
            rss = memory_kib(proxy.pid)["VmRSS"] / 1024
            trail.append((done, round(rss, 1)))
            print(
                f"    {done:>7} of {args.uploads} ({done / seconds:.0f}/s), RSS {rss:.0f} MiB",
                file=sys.stderr,
                flush=True,
            )

        seconds = asyncio.run(
            send_uploads(
                proxy.port,
                proxy.ca_file,
                args.uploads,
                values=args.values,
                concurrency=args.concurrency,
                report_every=args.report_every,
                report=report,
            )
        )
        time.sleep(1.0)  # let the last flows finish and the view settle
        after = memory_kib(proxy.pid)
    disk = database_bytes(proxy.data_dir)
    values = args.uploads * len(value_ids(args.values))
    return {
        "tool": tool,
        "keep": keep,
        "uploads": args.uploads,
        "seconds": round(seconds, 1),
        "per_s": round(args.uploads / seconds),
        "rss_start_mib": round(before["VmRSS"] / 1024, 1),
        "rss_end_mib": round(after["VmRSS"] / 1024, 1),
        "peak_mib": round(after["VmHWM"] / 1024, 1),
        "db_bytes": disk,
        "bytes_per_value": round(disk / values, 2),
        "bytes_per_upload": round(disk / args.uploads, 1),
        "rss_trail_mib": trail,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--uploads", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--values", type=int, default=7, help="values per upload (seed: 7)")
    parser.add_argument("--report-every", type=float, default=30.0, help="seconds per RSS sample")
    parser.add_argument(
        "--runs",
        default="mitmweb:0,mitmweb:2000,mitmdump:0,mitmdump:2000",
        help="tool:smt_keep_flows pairs (0: keep every flow)",
    )
    parser.add_argument("--markdown", action="store_true", help="only a Markdown table on stdout")
    args = parser.parse_args()
    confdir = Path(tempfile.mkdtemp(prefix="bench-certs-"))
    CertStore.from_store(confdir, "mitmproxy", 2048)
    results = []
    for spec in args.runs.split(","):
        tool, _, keep = spec.partition(":")
        print(f"{tool} smt_keep_flows={keep}: {args.uploads} uploads", file=sys.stderr)
        results.append(run(tool, int(keep), args, confdir))
        if not args.markdown:
            print(json.dumps(results[-1]), flush=True)
    if args.markdown:
        print(markdown(results))
        return
    print()
    print(f"{'tool':9} {'keep':>6} {'uploads':>8} {'req/s':>6} {'RSS start':>10} "
          f"{'RSS end':>9} {'peak':>8} {'B/value':>8} {'B/upload':>9}")  # fmt: skip
    for r in results:
        print(
            f"{r['tool']:9} {r['keep']:>6} {r['uploads']:>8} {r['per_s']:>6} "
            f"{r['rss_start_mib']:>7} MiB {r['rss_end_mib']:>5} MiB {r['peak_mib']:>4} MiB "
            f"{r['bytes_per_value']:>8} {r['bytes_per_upload']:>9}"
        )


def rss_at(trail: list[tuple[int, float]], uploads: int) -> tuple[int, float] | None:
    """The first RSS sample taken after `uploads` uploads."""
    return next(((done, rss) for done, rss in trail if done >= uploads), None)


def markdown(results: list[dict]) -> str:
    """A table with the growth from a tenth of the run to its end (target: <= 10 %)."""
    lines = [
        "| process | smt_keep_flows | uploads | uploads/s | RSS start | RSS after a tenth "
        "| RSS at the end | growth over the last nine tenths | bytes per value |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        tenth = rss_at(r["rss_trail_mib"], r["uploads"] // 10)
        growth = (
            f"{(r['rss_end_mib'] - tenth[1]) / tenth[1] * 100:+.1f} %" if tenth else "not sampled"
        )
        at_tenth = f"{tenth[1]:.0f} MiB ({tenth[0]:,})" if tenth else "not sampled"
        lines.append(
            f"| {r['tool']} | {r['keep'] or 'off'} | {r['uploads']:,} | {r['per_s']} "
            f"| {r['rss_start_mib']:.0f} MiB | {at_tenth} | {r['rss_end_mib']:.0f} MiB "
            f"| {growth} | {r['bytes_per_value']} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
