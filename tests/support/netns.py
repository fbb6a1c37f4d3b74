"""Other hosts on the LAN, for tests: network namespaces joined to this host by veth pairs.

A `Host` is a namespace with one veth pair to the root namespace (this host):
this host's end gets `.host_ip`, the namespace's end `.ip`. Commands run inside
with `run`/`popen` (`ip netns exec`), which also bind-mounts the files in
/etc/netns/<name>/ over /etc (a hosts file of its own, say: `hosts=`).

Needs root and iproute2; `netns_unavailable()` says why not, for a skip. Every
host gets a fresh name and /30 from a counter and the process id, so tests and
parallel runs never share one, and `close` removes the namespace, the veth
pair and the /etc/netns directory even after a failure.
"""

import itertools
import os
import shutil
import subprocess
from pathlib import Path

_counter = itertools.count()


def _ip(*args: str, netns: str | None = None) -> None:
    prefix = ["ip", "netns", "exec", netns] if netns else []
    subprocess.run([*prefix, "ip", *args], check=True, capture_output=True, timeout=10)


def netns_unavailable() -> str | None:
    """None when namespaces can be made here; otherwise why not, for a skip."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "needs root (ip netns)"
    if shutil.which("ip") is None:
        return "needs iproute2 (apt install iproute2)"
    try:
        Host().close()
    except (OSError, subprocess.SubprocessError) as e:
        return f"cannot make a network namespace here: {e}"
    return None


class Host:
    def __init__(self, *, hosts: str | None = None) -> None:
        """`hosts`: the namespace's own /etc/hosts, for names only it resolves."""
        n = next(_counter)
        tag = f"{os.getpid() % 4096:03x}{n % 256:02x}"
        self.name = f"th{tag}"
        self._link = f"th{tag}h"  # this host's end; the namespace's end is <name>n
        # 10.200.0.0/13 in /30s: pid and counter pick one, 4 addresses apart.
        slot = (os.getpid() % 2048) * 256 + n % 256
        base = (10 << 24) | (200 << 16) | ((slot * 4) % (1 << 19))
        self.host_ip = _dotted(base + 1)
        self.ip = _dotted(base + 2)
        self._etc = Path("/etc/netns") / self.name
        try:
            self._create(hosts)
        except BaseException:
            self.close()
            raise

    def _create(self, hosts: str | None) -> None:
        _ip("netns", "add", self.name)
        inside = f"{self.name}n"
        _ip("link", "add", self._link, "type", "veth", "peer", "name", inside, "netns", self.name)
        _ip("addr", "add", f"{self.host_ip}/30", "dev", self._link)
        _ip("link", "set", self._link, "up")
        _ip("addr", "add", f"{self.ip}/30", "dev", inside, netns=self.name)
        _ip("link", "set", inside, "up", netns=self.name)
        _ip("link", "set", "lo", "up", netns=self.name)
        if hosts is not None:
            self._etc.mkdir(parents=True, exist_ok=True)
            (self._etc / "hosts").write_text(hosts)

    def command(self, args: list[str]) -> list[str]:
        return ["ip", "netns", "exec", self.name, *args]

    def run(self, args: list[str], timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(args), capture_output=True, text=True, timeout=timeout, check=False
        )

    def popen(self, args: list[str], **kwargs) -> subprocess.Popen:
        return subprocess.Popen(self.command(args), **kwargs)

    def close(self) -> None:
        for args in (["netns", "del", self.name], ["link", "del", self._link]):
            subprocess.run(["ip", *args], capture_output=True, timeout=10, check=False)
        shutil.rmtree(self._etc, ignore_errors=True)

    def __enter__(self) -> "Host":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _dotted(number: int) -> str:
    return ".".join(str((number >> shift) & 255) for shift in (24, 16, 8, 0))
