"""`make bench`: every benchmark in one run, printed and written to BENCHMARKS.md.

    .venv/bin/python tests/bench/run.py [--quick] [--out BENCHMARKS.md]

Each section runs as its own process (its own proxies, event loops and
temporary data) and prints a Markdown table; progress goes to stderr. A
section that fails is reported as such and the others still run: the exit
status is non-zero only when nothing could be measured.
"""

import argparse
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
# pv_day.py per push feed, the cloudy day on the Fleet API: about 6 minutes more
PV_FEEDS = ["--days", "cloudy", "--backends", "fleet", "--telemetry", "fleet,tb2m,teslemetry,smt"]


@dataclass(frozen=True)
class Section:
    title: str
    script: str
    args: list[str]
    quick_args: list[str]
    note: str
    # further runs of the same script, (args, quick_args), their tables appended
    more: tuple[tuple[list[str], list[str]], ...] = ()


SECTIONS = [
    Section(
        "Upload throughput: teslahome against bare mitmdump",
        "throughput.py",
        ["--connections", "1,20,50", "--seconds", "3", "--rounds", "9"],
        ["--connections", "20", "--seconds", "2", "--rounds", "1"],
        "wrk (a C load generator, one thread) posts the seed upload on keep-alive "
        "connections: plain HTTP through the regular listener, and HTTPS to a reverse "
        "listener (`reverse:https://teslalogger.de@PORT`, as with a router DNS override). "
        "Bare mitmdump answers the same requests `OK` from a trivial script (no teslahome "
        "addon loaded, the same verbosity); teslahome stores each upload durably (fsync) "
        "before its `OK`. Both run side by side, alternated in rounds; the table has the "
        "medians, the ratio is the median of each round's ratio (the two runs back to back, "
        "so that a drift in the machine's speed does not count), and CPU per upload is the "
        "proxy process's CPU time (all threads, from /proc/<pid>/stat) over the requests, "
        "plus that of teslahome's writer process, which commits the uploads on the other "
        "core. Target: ratio >= 0.95 and p99 within 1.2x of bare at 20 and 50 connections. "
        "At one connection every upload waits for its own fsync, which bare mitmdump never "
        "does: that row shows the price of durability. The disk's sync latency, measured "
        "under the table on the idle disk, is part of every upload's wait.",
    ),
    Section(
        "Mirror mode: cost per upload, and a backlog of 10,000 draining",
        "mirror.py",
        ["--backlog", "10000", "--seconds", "3"],
        ["--backlog", "500", "--seconds", "1"],
        "Uploads at 10 connections with `smt_upstream` off, mirror with a live (fake, "
        "loopback) teslalogger.de, and mirror while it is down; then 10,000 uploads made "
        "during an outage, and the time the outbox takes to empty once it is back.",
    ),
    Section(
        "MQTT publishing: upload cost with the broker up, down or stalled",
        "mqtt.py",
        ["--seconds", "3", "--rounds", "3", "--values", "30"],
        ["--seconds", "1", "--rounds", "1", "--values", "30"],
        "Uploads of 30 values at 10 connections with MQTT off, on (Mosquitto on "
        "127.0.0.1:1883, changes gathered over `mqtt_interval` 1 s, and published at once "
        "with 0), on with nothing listening at the broker's address, and on with a broker "
        "that acknowledges the connection and then never reads. Side by side, in rounds.",
    ),
    Section(
        "TeslaLogger poll latency with 1,000,000 samples stored",
        "poll.py",
        ["--samples", "1000000", "--polls", "300"],
        ["--samples", "50000", "--polls", "50"],
        "Plain HTTP with `Connection: close`, one connection per poll, as TeslaLogger "
        "polls; the baseline is bare mitmdump answering `not found`. Target: p99 <= 5 ms.",
    ),
    Section(
        "Memory after 100,000 uploads: mitmdump and mitmweb",
        "flow_memory.py",
        [
            "--uploads",
            "100000",
            "--runs",
            "mitmdump:2000,mitmweb:2000",
            "--report-every",
            "5",
            "--markdown",
        ],
        [
            "--uploads",
            "5000",
            "--runs",
            "mitmdump:2000,mitmweb:2000",
            "--report-every",
            "2",
            "--markdown",
        ],
        "HTTPS uploads of the seed's 7 values over 20 keep-alive connections, resident memory "
        "(VmRSS, the proxy and its writer process together) sampled along the way; mitmweb "
        "keeps `smt_keep_flows` (2000) flows in its list. Target: growth <= 10 % from 10,000 "
        "to 100,000 uploads.",
    ),
    Section(
        "Disk: bytes per stored value, growth per day",
        "disk.py",
        ["--seconds", "3600", "--values", "300"],
        ["--seconds", "300", "--values", "300"],
        "An hour of 1 Hz uploads of 300 values, every value changing (the worst case: "
        "the app sends only what changed), through the real store.",
    ),
    Section(
        "Tesla API calls per hour of a PV session",
        "pv_session.py",
        ["--both"],
        ["--hours", "0.25", "--both"],
        "A 30 s control loop reading the status and sending set_amps every round, the "
        "value changing every 5 minutes, against the car simulator in accelerated time, "
        "without and with TeslaMate's telemetry (published to the Mosquitto on "
        "127.0.0.1:1883). A naive pass-through would make one read and one command per "
        "round: 240 calls an hour. Target: at least 10x fewer Tesla API calls.",
    ),
    Section(
        "Vehicle API calls and Fleet cost of a PV hour, per back-end",
        "pv_session.py",
        ["--backends", "--asleep"],
        ["--hours", "0.25", "--backends", "--asleep"],
        "The same hour, the car asleep at the start, through each vehicle back-end against "
        "the simulator in its shape: TeslaBleHttpProxy, the Fleet API with one's own app "
        "(HTTPS, commands signed by a simulated tesla-http-proxy), a relay, the Owner-shaped "
        "API, and the closed Owner API. Billed: answers under 500, as Tesla counts them.",
    ),
    Section(
        "A PV day at home: cost per back-end, and how well the car follows the surplus",
        "pv_day.py",
        ["--factor", "600", "--night"],
        ["--days", "cloudy", "--backends", "fleet", "--factor", "1200"],
        "Sunrise to sunset (12 h) of a seeded PV surplus (`tests/bench/pv_model.py`, seed "
        "31): a slow swell, on the cloudy day 1-4 minute clouds taking 2-6 A away, and "
        "+-1 A of jitter that changes every loop; the clear day has the swell and the "
        "jitter. evcc's PV loop drives the wallbox API: the status every 30 s, `maxcurrent` "
        "only on change (at least 6 A), enable after a minute at 6 A or more, disable after "
        "3 minutes below, switches 5 minutes apart, disable at the limit. The car is "
        "plugged in, asleep, at 40 % (75 kWh, limit 85 %) and sleeps after 10 idle minutes. "
        "Each back-end against the simulator in its shape, without and with TeslaMate's "
        "telemetry (Mosquitto on 127.0.0.1:1883), time x600. data/cmd/wake: answers by "
        "kind (for Bluetooth round trips, free; a relay's price is its plan, in brackets "
        "as Fleet API calls); $/30 days against the $10 credit; awake idle: minutes the "
        "simulated car was awake and not charging; import: kWh drawn above the surplus; "
        "unused: kWh of usable surplus (6-16 A, car below its limit) not drawn; % of the "
        "day's charged kWh; in brackets the same for evcc's own wishes obeyed at once, so "
        "the difference is the wallbox's doing. Then the night: 12 h, the car asleep, the "
        "loop still running (time x2400). Then per push feed (`--telemetry`: "
        "fleet-telemetry's MQTT dispatcher, TeslaBle2Mqtt, Teslemetry's SSE stream, each a "
        "fake publisher of the simulated car in its wire shape, `tests/bench/pv_feeds.py`), "
        "the cloudy day on the Fleet API: billed calls and dollars per source.",
        more=((PV_FEEDS, [*PV_FEEDS, "--factor", "1200"]),),
    ),
    Section(
        "The SoC guard: stopping at a target below 50 %",
        "soc_guard.py",
        [],
        [],
        "A session from 30 to 40 % (the car's own limit 50 %) at each charge rate, against "
        "the in-process simulator on fake time, with and without the car's own time to "
        "full; a charging car is also read every 120 s. Target: within one point of the "
        "target, no more reads than the polling plus a few.",
    ),
]


def machine() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"mitmproxy {version('mitmproxy')}, load average {load:.2f} at the start"
    )


def run(section: Section, quick: bool) -> tuple[bool, str, float]:
    started = time.monotonic()
    outputs, oks = [], []
    for full, short in ((section.args, section.quick_args), *section.more):
        ok, output = _one(section.script, short if quick else full)
        oks.append(ok)
        outputs.append(output.strip())
    return any(oks), "\n\n".join(outputs) + "\n", time.monotonic() - started


def _one(script: str, args: list[str]) -> tuple[bool, str]:
    process = subprocess.Popen(
        [sys.executable, str(HERE / script), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None and process.stdout is not None
    errors = []
    for line in process.stderr:  # progress, as it happens
        print(f"    {line.rstrip()}", file=sys.stderr, flush=True)
        errors.append(line)
    output = process.stdout.read()
    ok = process.wait() == 0 and bool(output.strip())
    if not ok:
        output = "Not measured: the run failed.\n\n```\n" + "".join(errors[-15:]) + "```\n"
    return ok, output


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs, to try it out")
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args()

    parts = [
        "# Benchmarks\n",
        f"`make bench{' QUICK=1' if args.quick else ''}` on {time.strftime('%Y-%m-%d %H:%M')}, "
        f"{machine()}.\n",
    ]
    measured = 0
    total = time.monotonic()
    for n, section in enumerate(SECTIONS, 1):
        print(f"[{n}/{len(SECTIONS)}] {section.title}", file=sys.stderr, flush=True)
        ok, output, seconds = run(section, args.quick)
        measured += ok
        print(f"    ({seconds:.0f} s)", file=sys.stderr, flush=True)
        parts.append(f"\n## {n}. {section.title}\n\n{section.note}\n\n{output.strip()}\n")
    parts.append(f"\nWhole run: {time.monotonic() - total:.0f} s.\n")
    report = "".join(parts)
    print(report)
    args.out.write_text(report)
    print(f"written to {args.out}", file=sys.stderr)
    return 0 if measured else 1


if __name__ == "__main__":
    sys.exit(main())
