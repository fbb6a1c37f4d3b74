"""Upload throughput of teslahome against bare mitmdump, measured from outside
with wrk (a C load generator), so the proxy is the limit, not the client.

    .venv/bin/python tests/bench/throughput.py [--seconds 5] [--rounds 3]
        [--connections 1,20,50] [--forms http,https] [--profile DIR]

Two forms of upload, as phones reach the proxy:
- http: plain HTTP through the regular listener (absolute-form requests);
- https: HTTPS to a reverse listener (`reverse:https://teslalogger.de@PORT`,
  as with a router DNS override; wrk does not check the certificate).

Bare mitmdump answers the same requests `OK` from a trivial script
(bare_mitmdump.py, no teslahome addon loaded), at the same verbosity. Both run
side by side; every form and level alternates them, in rounds, and the table
keeps the medians. The ratio is the median of each round's own ratio (the two
runs back to back): a shared VM's speed drifts by a fifth within a minute, and
a ratio of medians taken minutes apart would measure the drift. Beside the
rates: latency percentiles from wrk, and CPU seconds per upload from
/proc/<pid>/stat (the whole process, every thread, and apart from it its child
processes: teslahome's writer process); under the table, how long the disk
took to sync a commit before and after the runs (disk_sync.py), since every
upload's answer waits for one.
Warnings say when the run cannot be trusted: wrk near a core of its own, both
proxies far below one, or other processes using the cores during the runs
(the machine's busy time from /proc/stat, less the proxies', their writer
process's and wrk's own).
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
# tests/ for `support`, the checkout for the code: tests/wallbox etc. would
# otherwise shadow the packages they mirror.
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent.parent))

from mitmproxy.certs import CertStore  # noqa: E402

from bench.disk_sync import disk_sync_us  # noqa: E402
from bench.wrk import (  # noqa: E402
    WrkResult,
    children_cpu_s,
    find_wrk,
    machine_busy_s,
    process_cpu_s,
    run_wrk,
)
from support.mitm import Mitmdump  # noqa: E402
from support.ports import free_port  # noqa: E402
from support.uploads import INSERT, upload_body  # noqa: E402

BARE, OURS = "bare mitmdump", "teslahome"
FORMS = {
    "http": "plain HTTP, regular listener",
    "https": "HTTPS, reverse listener",
}
DISTINCT_UPLOADS = 200  # wrk cycles through these (the seed's ids, times 100 ms apart)
CLIENT_BUSY = 0.85  # of a core: above it, wrk itself may be the limit
PROXY_IDLE = 0.70  # of a core: both proxies below it, at 20+ connections, were not the limit
OTHERS_BUSY = 0.25  # of a core, used by other processes during a run
DRIFT = 1.2  # bare mitmdump's fastest round this much faster than its slowest: a drifting machine


@dataclass
class Proxy:
    name: str
    process: Mitmdump
    reverse_port: int

    def url(self, form: str) -> tuple[str, str]:
        """Where wrk connects, and the request target it sends."""
        if form == "http":
            return f"http://127.0.0.1:{self.process.port}/", "http://teslalogger.de" + INSERT
        return f"https://127.0.0.1:{self.reverse_port}/", INSERT


@dataclass
class Run:
    result: WrkResult
    cpu_s: float  # the proxy's CPU over the run
    helper_cpu_s: float  # its child processes' (teslahome's writer process)
    others: float  # cores used by other processes during it

    @property
    def cpu_us_per_upload(self) -> float:
        return self._per_upload(self.cpu_s)

    @property
    def helper_us_per_upload(self) -> float:
        return self._per_upload(self.helper_cpu_s)

    def _per_upload(self, cpu_s: float) -> float:
        return cpu_s / self.result.requests * 1e6 if self.result.requests else float("nan")

    @property
    def proxy_load(self) -> float:
        return self.cpu_s / self.result.seconds if self.result.seconds else 0.0


@dataclass
class Cell:
    """One proxy at one form and level: every round's run."""

    runs: list[Run] = field(default_factory=list)

    def median(self, value) -> float:
        return statistics.median(value(run) for run in self.runs)

    @property
    def rate(self) -> float:
        return self.median(lambda r: r.result.rate)

    @property
    def errors(self) -> int:
        return sum(r.result.errors for r in self.runs)


def round_ratios(ours: Cell, bare: Cell) -> list[float]:
    """Each round's rate ratio, the two proxies' runs in that round paired."""
    return [o.result.rate / b.result.rate for o, b in zip(ours.runs, bare.runs, strict=True)]


def start_proxies(work: Path, confdir: Path) -> list[Proxy]:
    proxies = []
    for name in (BARE, OURS):
        home = work / name.replace(" ", "-")
        home.mkdir(parents=True)
        reverse_port = free_port()
        reverse = ["--mode", f"reverse:https://teslalogger.de@{reverse_port}"]
        if name == BARE:
            process = Mitmdump(
                home,
                confdir,
                {"connection_strategy": "lazy"},  # as teslahome sets it: no upstream needed
                extra_args=["-s", str(HERE / "bare_mitmdump.py"), *reverse],
                ready_marker="listening at",
                entry=None,
            )
        else:
            # As `make run` starts it; the upstream is never reached by uploads.
            process = Mitmdump(
                home, confdir, {"smt_upstream_url": "http://127.0.0.1:9"}, extra_args=reverse
            )
        proxies.append(Proxy(name, process.start(), reverse_port))
    return proxies


def one_run(wrk: str, proxy: Proxy, form: str, connections: int, seconds: float, bodies) -> Run:
    url, target = proxy.url(form)
    pid = proxy.process.pid
    busy_before = machine_busy_s()
    before, helpers_before = process_cpu_s(pid) or 0.0, children_cpu_s(pid)
    result = run_wrk(wrk, url, bodies, path=target, connections=connections, seconds=seconds)
    cpu, helpers = (process_cpu_s(pid) or 0.0) - before, children_cpu_s(pid) - helpers_before
    busy = machine_busy_s() - busy_before
    others = max(0.0, busy - cpu - helpers - result.client_cpu_s) / result.seconds
    return Run(result, cpu, helpers, others)


def measure(
    forms: list[str],
    levels: list[int],
    seconds: float,
    rounds: int,
    profile_dir: Path | None = None,
) -> tuple[dict[tuple[str, int, str], Cell], list[tuple[float, float]]]:
    """Every run's cells, and the disk's sync latency before and after them."""
    wrk = find_wrk()
    if wrk is None:
        sys.exit("wrk is not installed: `apt-get install wrk` (or `make bench`, which installs it)")
    bodies = [upload_body("bench1234", i) for i in range(DISTINCT_UPLOADS)]
    cells: dict[tuple[str, int, str], Cell] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        confdir = work / "certs"
        CertStore.from_store(confdir, "mitmproxy", 2048)
        syncs = [disk_sync_us(work)]
        proxies = start_proxies(work, confdir)
        try:
            for proxy in proxies:  # warm-up: certificates, imports, the database's first pages
                for form in forms:
                    one_run(wrk, proxy, form, 4, 1.0, bodies)
            for form in forms:
                for connections in levels:
                    for n in range(rounds):
                        # ABBA: neither proxy always runs first, after the other warmed the CPU
                        for proxy in proxies if n % 2 == 0 else proxies[::-1]:
                            run = one_run(wrk, proxy, form, connections, seconds, bodies)
                            cells.setdefault((form, connections, proxy.name), Cell()).runs.append(
                                run
                            )
                            progress(form, connections, n, proxy.name, run)
            if profile_dir is not None:
                profile(wrk, proxies[1], forms, max(levels), seconds, bodies, profile_dir)
        finally:
            for proxy in proxies:
                proxy.process.stop()
        syncs.append(disk_sync_us(work))
    return cells, syncs


def progress(form: str, connections: int, n: int, name: str, run: Run) -> None:
    r = run.result
    print(
        f"  {form:5} c={connections:<3} round {n + 1}  {name:13}  {r.rate:6.0f} req/s  "
        f"p50 {r.p50_ms:6.2f}  p99 {r.p99_ms:6.2f} ms  {run.cpu_us_per_upload:5.0f} "
        f"+ {run.helper_us_per_upload:4.0f} us CPU/upload  "
        f"proxy {run.proxy_load:4.0%}  wrk {r.client_load:4.0%}  errors {r.errors}  "
        f"others {run.others:4.0%}",
        file=sys.stderr,
        flush=True,
    )


def profile(wrk, proxy: Proxy, forms, connections, seconds, bodies, out: Path) -> None:
    """py-spy on teslahome under load, one flame graph per form (`--profile DIR`)."""
    spy = Path(sys.executable).parent / "py-spy"
    if not spy.exists():
        print("  no py-spy in the venv: .venv/bin/pip install py-spy", file=sys.stderr)
        return
    out.mkdir(parents=True, exist_ok=True)
    for form in forms:
        svg = out / f"teslahome-{form}.svg"
        command = [str(spy), "record", "--pid", str(proxy.process.pid), "--threads"]
        command += ["--duration", str(int(seconds)), "--rate", "250", "--nonblocking"]
        command += ["-o", str(svg)]
        spying = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        one_run(wrk, proxy, form, connections, seconds, bodies)
        spying.wait()
        print(f"  profile of {form}: {svg}", file=sys.stderr)


def table(cells: dict[tuple[str, int, str], Cell], forms: list[str], levels: list[int]) -> str:
    lines = [
        "| form | connections | bare req/s | teslahome req/s | ratio (lowest-highest round) "
        "| bare p50 / p99 ms | teslahome p50 / p99 ms | p99 ratio "
        "| CPU µs per upload, bare / teslahome + its writer process | wrk CPU |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for form in forms:
        for level in levels:
            bare, ours = cells[(form, level, BARE)], cells[(form, level, OURS)]
            p99 = ours.median(lambda r: r.result.p99_ms), bare.median(lambda r: r.result.p99_ms)
            wrk_cpu = max(c.median(lambda r: r.result.client_load) for c in (bare, ours))
            ratios = round_ratios(ours, bare)
            lines.append(
                f"| {FORMS[form]} | {level} | {bare.rate:.0f} | {ours.rate:.0f} "
                f"| {statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f}) "
                f"| {bare.median(lambda r: r.result.p50_ms):.2f} / {p99[1]:.2f} "
                f"| {ours.median(lambda r: r.result.p50_ms):.2f} / {p99[0]:.2f} "
                f"| {p99[0] / p99[1]:.2f} "
                f"| {bare.median(lambda r: r.cpu_us_per_upload):.0f} / "
                f"{ours.median(lambda r: r.cpu_us_per_upload):.0f} + "
                f"{ours.median(lambda r: r.helper_us_per_upload):.0f} | {wrk_cpu:.0%} |"
            )
    return "\n".join(lines)


def warnings(cells: dict[tuple[str, int, str], Cell]) -> list[str]:
    found = []
    for (form, level, name), cell in sorted(cells.items()):
        client = cell.median(lambda r: r.result.client_load)
        if client > CLIENT_BUSY:
            found.append(
                f"{form} c={level} {name}: wrk used {client:.0%} of a core; the client, "
                "not the proxy, may have been the limit"
            )
        if cell.errors:
            found.append(f"{form} c={level} {name}: {cell.errors} errors")
        rates = [r.result.rate for r in cell.runs]
        if name == BARE and level >= 20 and max(rates) > DRIFT * min(rates):
            found.append(
                f"{form} c={level}: bare mitmdump ran at {min(rates):.0f} to "
                f"{max(rates):.0f} req/s in its rounds: the machine's speed drifted, "
                "and the ratio's spread shows it"
            )
    for (form, level, name), cell in sorted(cells.items()):
        if name != OURS or level < 20:
            continue
        bare = cells[(form, level, BARE)]
        loads = [c.median(lambda r: r.proxy_load) for c in (cell, bare)]
        if max(loads) < PROXY_IDLE:
            found.append(
                f"{form} c={level}: neither proxy was busy (teslahome {loads[0]:.0%}, bare "
                f"{loads[1]:.0%} of a core): something else limited the run"
            )
    busiest = max(cell.median(lambda r: r.others) for cell in cells.values())
    if busiest > OTHERS_BUSY:
        found.append(
            f"other processes used up to {busiest:.0%} of a core during the runs: "
            "they shared the cores with the proxies; run again on a quiet machine"
        )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", default="1,20,50")
    parser.add_argument("--forms", default="http,https")
    parser.add_argument("--profile", type=Path, help="also record py-spy flame graphs here")
    args = parser.parse_args()
    levels = [int(c) for c in args.connections.split(",")]
    forms = args.forms.split(",")
    cells, syncs = measure(forms, levels, args.seconds, args.rounds, args.profile)
    print(table(cells, forms, levels))
    others = [r.others for cell in cells.values() for r in cell.runs]
    print(
        f"\nMedians of {args.rounds} alternated rounds of {args.seconds:g} s each; the ratio "
        "is the median of each round's ratio, the two proxies run back to back; "
        f"other processes used {min(others):.0%}-{max(others):.0%} of a core during them; "
        f"errors: {sum(c.errors for c in cells.values())}. The disk under the databases "
        "wrote and synced a commit's 80 KiB in "
        + " and ".join(f"{p50:.0f} us (p90 {p90:.0f})" for p50, p90 in syncs)
        + ", before and after the runs."
    )
    for warning in warnings(cells):
        print(f"\n**Warning:** {warning}.")
        print(f"warning: {warning}", file=sys.stderr)


if __name__ == "__main__":
    main()
