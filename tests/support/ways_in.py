"""Networks of namespaces for the ways a phone reaches teslahome: a phone, a
router, a home host, a stand-in Internet, joined by veth pairs among
themselves (support/netns.py joins one namespace to this host instead).

Nothing here touches the root namespace: the namespaces link only to each
other, so their addresses are fixed documentation ranges and never clash with
this host's or another test's. Names come from the process id and a counter.
`Net.close` kills what it started, then deletes the namespaces (and their
veths and /etc/netns files), also after a failure.

Python code runs inside a namespace with `Ns.call`: a thread that switched
its network namespace (`setns` is per thread) runs it, so a socket it opens,
a server it binds or a process it starts lives in that namespace.
"""

import itertools
import os
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from socketserver import TCPServer

from support.mitm import Mitmdump

_counter = itertools.count()


def tools_missing(*tools: str) -> str | None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        return f"needs {', '.join(missing)} (.ci/run installs them: apt-get install ...)"
    return None


class Ns:
    def __init__(self, role: str) -> None:
        self.name = f"tw{os.getpid() % 65536:04x}{next(_counter) % 256:02x}{role[:4]}"
        self.etc = Path("/etc/netns") / self.name
        subprocess.run(["ip", "netns", "add", self.name], check=True, capture_output=True)

    def command(self, args: list[str]) -> list[str]:
        return ["ip", "netns", "exec", self.name, *args]

    def sh(self, script: str, check: bool = True, timeout: float = 30) -> str:
        """Shell commands inside; their standard output. Fails with both streams shown."""
        done = subprocess.run(
            self.command(["sh", "-ec", script]), capture_output=True, text=True, timeout=timeout
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"in {self.name}: {script}\n{done.stdout}{done.stderr}")
        return done.stdout

    def popen(self, args: list[str], **kwargs) -> subprocess.Popen:
        return subprocess.Popen(self.command(args), **kwargs)

    def call[T](self, fn: Callable[[], T]) -> T:
        result: list[T] = []
        errors: list[BaseException] = []

        def inside() -> None:
            try:
                with open(f"/run/netns/{self.name}") as handle:
                    os.setns(handle.fileno(), os.CLONE_NEWNET)
                result.append(fn())
            except BaseException as e:  # handed to the caller
                errors.append(e)

        thread = threading.Thread(target=inside, name=f"in {self.name}", daemon=True)
        thread.start()
        thread.join()
        if errors:
            raise errors[0]
        return result[0]

    def etc_file(self, name: str, text: str) -> None:
        """/etc/<name> as seen by commands run inside (ip netns exec bind-mounts it)."""
        self.etc.mkdir(parents=True, exist_ok=True)
        (self.etc / name).write_text(text)

    def close(self) -> None:
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True, check=False)
        shutil.rmtree(self.etc, ignore_errors=True)


class Net:
    """The namespaces, links, servers and processes of one test."""

    def __init__(self) -> None:
        self.namespaces: list[Ns] = []
        self.closers: list[Callable[[], object]] = []

    def ns(self, role: str) -> Ns:
        made = Ns(role)
        self.namespaces.append(made)
        made.sh("ip link set lo up")
        return made

    def link(self, a: Ns, a_if: str, a_cidr: str, b: Ns, b_if: str, b_cidr: str) -> None:
        """A veth pair from a to b, addressed (IPv4 or IPv6 CIDRs, comma-separated)."""
        subprocess.run(
            ["ip", "link", "add", a_if, "netns", a.name, "type", "veth",
             "peer", "name", b_if, "netns", b.name],
            check=True, capture_output=True,
        )  # fmt: skip
        for ns, ifname, cidrs in ((a, a_if, a_cidr), (b, b_if, b_cidr)):
            for cidr in filter(None, cidrs.split(",")):
                nodad = " nodad" if ":" in cidr else ""  # usable at once, not after DAD
                ns.sh(f"ip addr add {cidr} dev {ifname}{nodad}")
            ns.sh(f"ip link set {ifname} up")

    def on_close(self, closer: Callable[[], object]) -> None:
        self.closers.append(closer)

    def close(self) -> None:
        errors = []
        for closer in reversed(self.closers):
            try:
                closer()
            except Exception as e:  # the namespaces go regardless
                errors.append(e)
        for ns in self.namespaces:
            ns.close()
        if errors:
            raise errors[0]

    def __enter__(self) -> "Net":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class StandIn:
    """A web server on another Internet host: answers every request with
    `<name> <method> <path>` and records (path, body)."""

    def __init__(self, ns: Ns, address: str, port: int, name: str, tls: ssl.SSLContext | None):
        self.name = name
        self.requests: list[tuple[str, bytes]] = []
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                stand_in.requests.append((self.path, self.rfile.read(length)))
                body = f"{stand_in.name} {self.command} {self.path}".encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, *args) -> None:
                pass

        class Server(ThreadingHTTPServer):
            address_family = socket.AF_INET6 if ":" in address else socket.AF_INET
            daemon_threads = True

            def server_bind(self) -> None:
                # not HTTPServer's: its reverse lookup of the address waits for a DNS
                # server no namespace here has
                TCPServer.server_bind(self)
                self.server_name, self.server_port = address, port

        def bind() -> ThreadingHTTPServer:
            server = Server((address, port), Handler)
            if tls is not None:
                server.socket = tls.wrap_socket(server.socket, server_side=True)
            return server

        self.server = ns.call(bind)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def curl(ns: Ns, *args: str) -> tuple[int, str]:
    """A real client inside `ns`: (HTTP status, body); status 0 when it failed."""
    done = subprocess.run(
        ns.command(["curl", "-sS", "--max-time", "20", "-w", "\n%{http_code}", *args]),
        capture_output=True,
        timeout=30,
    )  # fmt: skip; bytes: a hand-out's CRLFs must stay CRLFs
    body, _, status = done.stdout.decode().rpartition("\n")
    return (int(status or 0), body if done.returncode == 0 else body + done.stderr.decode())


def proxy_in(ns: Ns, proxy: Mitmdump, listening: str) -> Mitmdump:
    """Starts `proxy` inside `ns` (made with wrapper=ns.command([])) and waits
    until its log says `listening` (mitmproxy's line for the listener under test)."""
    ns.call(proxy.start)
    deadline = time.monotonic() + 30
    while listening not in proxy.log:
        if proxy.proc is None or proxy.proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"no {listening!r} in the proxy's log:\n{proxy.log}")
        time.sleep(0.05)
    return proxy


def stop_proxy(proxy: Mitmdump) -> None:
    try:
        proxy.stop()
    finally:
        proxy.kill()
