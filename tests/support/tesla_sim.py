"""The car simulator (python -m wallbox.vehicle.simulator) as a subprocess; small HTTP helpers."""

import json
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from support.ports import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]


def http(url: str, method: str = "GET", body=None, headers=None, timeout: float = 30.0,
         context=None):  # fmt: skip
    """(status, parsed JSON body or text) for any answer, errors included."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as reply:
            status, raw = reply.status, reply.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode(errors="replace")


class Simulator:
    """With `tls` (a TestCA) it serves HTTPS as `localhost`; `tokens`: the only bearer
    tokens it accepts; `shape`: which API it plays (owner, fleet, ble, relay; `closed`:
    the Owner API as since June 2026); `signing_proxy`: fleet, with tesla-http-proxy
    on a port of its own (`proxy_url`); `client_id`, `refresh_tokens`: its auth host's."""

    def __init__(self, workdir: Path, *, time_factor: float = 1.0, asleep: bool = False,
                 cars: int = 1, port: int | None = None, tls=None,
                 tokens: list[str] | None = None, shape: str = "owner", closed: bool = False,
                 signing_proxy: bool = False, client_id: str = "",
                 refresh_tokens: list[str] | None = None,
                 vins: list[str] | None = None) -> None:  # fmt: skip
        self.port = port or free_port()
        self.args = [
            sys.executable, "-m", "wallbox.vehicle.simulator", "--port", str(self.port),
            "--time-factor", str(time_factor), "--cars", str(cars), "--shape", shape,
        ] + (["--asleep"] if asleep else []) + (["--closed"] if closed else [])  # fmt: skip
        self.proxy_port = free_port() if signing_proxy else None
        if self.proxy_port:
            self.args += ["--signing-proxy-port", str(self.proxy_port)]
        if client_id:
            self.args += ["--client-id", client_id]
        for vin in vins or ():
            self.args += ["--vin", vin]
        for refresh in refresh_tokens or ():
            self.args += ["--refresh-token", refresh]
        self.context = None
        if tls is not None:
            self.context = ssl.create_default_context(cafile=tls.ca_file)
            tls.server_context("localhost")  # writes localhost.crt and .key
            self.args += ["--tls-cert", str(tls.path / "localhost.crt"),
                          "--tls-key", str(tls.path / "localhost.key")]  # fmt: skip
        for token in tokens or ():
            self.args += ["--token", token]
        self.log_path = workdir / f"simulator-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        if self.context is not None:
            return f"https://localhost:{self.port}"
        return f"http://127.0.0.1:{self.port}"

    @property
    def proxy_url(self) -> str:
        return f"https://localhost:{self.proxy_port}"

    def start(self) -> "Simulator":
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(self.args, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        wait_for_port(self.port)
        if self.proxy_port:
            wait_for_port(self.proxy_port)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None

    def __enter__(self) -> "Simulator":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- control ------------------------------------------------------------

    def cars(self) -> list[dict]:
        return http(self.url + "/sim/cars", context=self.context)[1]

    def car(self, n: int = 1) -> dict:
        return self.cars()[n - 1]

    def patch(self, changes: dict, n: int = 1) -> dict:
        vin = self.car(n)["vin"]
        status, body = http(f"{self.url}/sim/cars/{vin}", "POST", changes, context=self.context)
        assert status == 200, body
        return body

    def calls(self) -> dict:
        return http(self.url + "/sim/calls", context=self.context)[1]

    def reads(self) -> int:
        """State reads (vehicle_data and summary), what TeslaMate's telemetry saves."""
        by_endpoint = self.calls()["by_endpoint"]
        return by_endpoint.get("vehicle_data", 0) + by_endpoint.get("summary", 0)

    def reset_calls(self) -> None:
        http(self.url + "/sim/calls/reset", "POST", {}, context=self.context)


def until(condition, timeout: float = 30.0, interval: float = 0.1, what: str = "condition"):
    """Poll `condition()` until it returns something truthy; returns that."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not met within {timeout} s")
        time.sleep(interval)
