"""A real mitmdump (or mitmweb) process with teslahome's addons, on free loopback ports."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from support.ports import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
ENTRY = ROOT / "addons" / "entry.py"
BIN = Path(sys.executable).parent


class Mitmdump:
    def __init__(
        self,
        workdir: Path,
        confdir: Path,
        options: dict[str, object] | None = None,
        *,
        extra_args: list[str] | None = None,
        tool: str = "mitmdump",
        ready_marker: str = "storage: ",
        entry: Path | None = ENTRY,
        listen_host: str = "127.0.0.1",
        wrapper: list[str] | None = None,
    ) -> None:
        """`entry=None`: mitmproxy without teslahome's addons (a baseline for
        benchmarks: give it a script in `extra_args`). `listen_host=""`: every
        address (for clients in other namespaces). `wrapper`: a command the process
        is started under, which must exec it (unshare, ip netns exec)."""
        self.workdir = workdir
        self.confdir = confdir
        self.port = free_port()
        self.data_dir = workdir / "data"
        self.options = dict(options or {})
        # never the default 5000: tests run side by side
        self.wallbox_port = int(self.options.get("wallbox_port") or free_port())
        self.extra_args = list(extra_args or [])
        self.tool = tool
        self.ready_marker = ready_marker
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.log_path = workdir / "proxy.log"
        self.entry = entry
        self.listen_host = listen_host
        self.wrapper = list(wrapper or [])

    @property
    def ca_file(self) -> str:
        return str(self.confdir / "mitmproxy-ca-cert.pem")

    def args(self) -> list[str]:
        args = [
            *self.wrapper,
            str(BIN / self.tool),
            "--set", f"confdir={self.confdir}",
            "--mode", f"regular@{self.port}",
            "--set", f"listen_host={self.listen_host}",
        ]  # fmt: skip
        if self.entry is None:
            return args + self._option_args({}) + self.extra_args
        args += ["-s", str(self.entry), "--set", f"data_dir={self.data_dir}"]
        # mitmdump stalls when a --set repeats an option, so defaults go only where unset.
        defaults = {"wallbox_host": "127.0.0.1", "wallbox_port": self.wallbox_port}
        return args + self._option_args(defaults) + self.extra_args

    def _option_args(self, defaults: dict[str, object]) -> list[str]:
        args = []
        for name, value in defaults.items():
            if name not in self.options:
                args += ["--set", f"{name}={value}"]
        for name, value in self.options.items():
            values = value if isinstance(value, list | tuple) else [value]
            for item in values:
                if isinstance(item, bool):
                    item = "true" if item else "false"
                args += ["--set", f"{name}={item}"]
        return args

    def start(self, timeout: float = 30.0) -> "Mitmdump":
        self.starts += 1
        log = self.log_path.open("ab")
        log.write(f"\n===== start {self.starts}: {' '.join(self.args())}\n".encode())
        log.flush()
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            self.args(), stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env=env
        )
        log.close()
        offset = self.log_path.stat().st_size
        deadline = time.monotonic() + timeout
        while self.ready_marker not in self._log_since(offset):
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.tool} exited with {self.proc.returncode}:\n{self.log}")
            if time.monotonic() > deadline:
                self.kill()
                raise TimeoutError(f"{self.tool} not ready after {timeout} s:\n{self.log}")
            time.sleep(0.05)
        wait_for_port(self.port)
        return self

    def _log_since(self, offset: int) -> str:
        with self.log_path.open("rb") as f:
            f.seek(max(0, offset - 200))
            return f.read().decode(errors="replace")

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM, as a service manager would; returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise TimeoutError(f"{self.tool} did not exit on SIGTERM:\n{self.log}") from None
        code, self.proc = self.proc.returncode, None
        return code

    def kill(self) -> None:
        """kill -9: no chance to flush or close anything."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def restart(self) -> "Mitmdump":
        self.stop()
        return self.start()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def __enter__(self) -> "Mitmdump":
        return self.start()

    def __exit__(self, exc_type, *exc: object) -> None:
        try:
            code = self.stop()
        finally:
            self.kill()
        if exc_type is None:
            assert "Traceback" not in self.log, f"{self.tool} logged a traceback:\n{self.log}"
            assert code == 0, f"{self.tool} exited with {code}:\n{self.log}"
