"""wrk, the C load generator, driven from Python: uploads as the app sends them,
with what wrk itself cost, so a run can tell when the client was the limit.

    find_wrk() -> path or None
    run_wrk(url, requests, connections=20, seconds=5) -> WrkResult

The Lua script cycles through ready-made requests (formatted once, in `init`)
and counts every answer that is not `200 OK`, so an error is never a success.
"""

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

_LUA = r"""
local requests = {}
local bodies = %(bodies)s
local path, host = "%(path)s", "%(host)s"
local next_request = 0
bad = 0  -- a global: done() reads it from each thread
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  for i, body in ipairs(bodies) do
    requests[i] = wrk.format("POST", path, {
      ["Host"] = host,
      ["User-Agent"] = "Dalvik/2.1.0 (Linux; U; Android 7.0; SM-A310F Build/NRD90M)",
      ["Content-Type"] = "application/x-www-form-urlencoded",
      ["Accept-Encoding"] = "identity",
      ["Connection"] = "Keep-Alive",
    }, body)
  end
end

function request()
  next_request = next_request %% #requests + 1
  return requests[next_request]
end

function response(status, headers, body)
  if status ~= 200 or body ~= "OK" then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local not_ok = 0
  for _, thread in ipairs(threads) do
    not_ok = not_ok + thread:get("bad")
  end
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%%d duration_us=%%d not_ok=%%d socket_errors=%%d p50_us=%%d p99_us=%%d\n",
    summary.requests, summary.duration, not_ok,
    e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""

_RESULT_RE = re.compile(r"^RESULT (.*)$", re.MULTILINE)


def find_wrk() -> str | None:
    return os.environ.get("WRK") or shutil.which("wrk")


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    not_ok: int  # answered, but not 200 `OK`
    socket_errors: int  # connect, read, write or timeout
    p50_ms: float
    p99_ms: float
    client_cpu_s: float  # wrk's own CPU time over the run

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def errors(self) -> int:
        return self.not_ok + self.socket_errors

    @property
    def client_load(self) -> float:
        """wrk's CPU as a share of one core: near 1, the client was the limit."""
        return self.client_cpu_s / self.seconds if self.seconds else 0.0


def parse_result(output: str) -> dict[str, int]:
    """The RESULT line the Lua script's `done` prints."""
    found = _RESULT_RE.search(output)
    if found is None:
        raise RuntimeError(f"wrk printed no result:\n{output[-2000:]}")
    return {k: int(v) for k, v in (pair.split("=") for pair in found[1].split())}


def lua_script(bodies: list[bytes], path: str, host: str) -> str:
    quoted = ", ".join('"' + b.decode("ascii").replace("\\", "\\\\") + '"' for b in bodies)
    return _LUA % {"bodies": "{" + quoted + "}", "path": path, "host": host}


def run_wrk(
    wrk: str,
    url: str,
    bodies: list[bytes],
    *,
    path: str,
    host: str = "teslalogger.de",
    connections: int = 20,
    seconds: float = 5.0,
) -> WrkResult:
    """POST `bodies` round-robin to `url` (its host and port are where wrk
    connects; `path` goes on the request line, absolute-form for a proxy)."""
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "upload.lua"
        script.write_text(lua_script(bodies, path, host))
        duration = f"-d{max(1, round(seconds))}s"
        command = [wrk, "-t1", f"-c{connections}", duration, "--timeout", "10s"]
        command += ["-s", str(script), url]
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        assert process.stdout is not None
        output = process.stdout.read()  # until wrk exits
        # wait4, not wait: the rusage of wrk itself, every CPU second it spent.
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"wrk failed ({process.returncode}):\n{output[-2000:]}")
    result = parse_result(output)
    return WrkResult(
        requests=result["requests"],
        seconds=result["duration_us"] / 1e6,
        not_ok=result["not_ok"],
        socket_errors=result["socket_errors"],
        p50_ms=result["p50_us"] / 1000,
        p99_ms=result["p99_us"] / 1000,
        client_cpu_s=usage.ru_utime + usage.ru_stime,
    )


def machine_busy_s() -> float:
    """CPU seconds every core has spent busy since boot (/proc/stat: all but idle and iowait)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    busy = sum(fields[:8]) - idle  # guest time is already counted in user
    return busy / CLOCK_TICKS


def process_cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of a running process, all its threads (/proc/<pid>/stat)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()  # the name in parentheses may hold spaces
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def child_pids(pid: int) -> list[int]:
    """`pid`'s running child processes (teslahome's writer process)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # ended meanwhile
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def children_cpu_s(pid: int) -> float:
    """CPU seconds of `pid`'s running child processes."""
    return sum(process_cpu_s(child) or 0.0 for child in child_pids(pid))
