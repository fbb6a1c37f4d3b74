"""The proxy never opens a way into this host: no flow may reach its own services.

mitmproxy connects wherever a client asks. Without this guard, any device
that can reach the proxy port could ask for `http://127.0.0.1:5000/tlwb/...`
(the wallbox API then sees a local client), PostgreSQL on 127.0.0.1:5432,
or a cloud metadata address. So every destination is refused that is:

- loopback (127.0.0.0/8, ::1) or unspecified (0.0.0.0/8, ::);
- one of this host's own addresses, on any interface (found by trying to bind
  to it, so addresses added after the start count too);
- in `host_guard_block` (link-local and cloud metadata addresses by default);

unless `host_guard_allow` names it, or it is the configured `smt_upstream_url`.

Where it is checked:
- `http_connect` and `request`: a CONNECT or plain-HTTP request for such a
  destination gets a 403 before anything is forwarded;
- `server_connect`, for every connection in every mode (regular, transparent,
  WireGuard, reverse): names are resolved here, the addresses checked, and the
  connection pinned to the checked address, so a name cannot resolve to a
  public address for the check and to loopback for the connect (DNS
  rebinding); a name that does not resolve here is not connected to either.
  A refused connection is killed before connecting.

A connection the operator allowed to reach this host is still not a local
client for the wallbox API: `opened_by_proxy` tells it which of its peers are
the proxy's own outgoing sockets.
"""

import asyncio
import ipaddress
import logging
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass

from mitmproxy import ctx, http
from mitmproxy.proxy import server_hooks

from addons.intercept import (
    DEFAULT_UPSTREAM_URL,
    TeslaloggerIntercept,
    is_local_address,
    is_teslalogger_host,
    plain,
)
from addons.options import checked

logger = logging.getLogger(__name__)

type Address = ipaddress.IPv4Address | ipaddress.IPv6Address
type Network = ipaddress.IPv4Network | ipaddress.IPv6Network

ALWAYS_BLOCKED = tuple(
    ipaddress.ip_network(n) for n in ("127.0.0.0/8", "0.0.0.0/8", "::1/128", "::/128")
)
DEFAULT_BLOCK = (
    "169.254.0.0/16",  # IPv4 link-local, 169.254.169.254 (cloud metadata) among them
    "fe80::/10",  # IPv6 link-local
    "fd00:ec2::254/128",  # AWS's IPv6 metadata address
    "100.100.100.200/32",  # Alibaba Cloud's metadata address
)
_MAX_LOGGED = 256
_RESOLVE_TTL = 5.0
_MAX_RESOLVED = 1024
_CLOSED_KEPT = 10.0  # seconds a closed proxy socket is still the proxy's, to the wallbox API


@dataclass(frozen=True, slots=True)
class Allowed:
    """An exception to the guard: a network, and optionally one port on it."""

    network: Network
    port: int | None = None

    def covers(self, ip: Address, port: int) -> bool:
        return ip in self.network and self.port in (None, port)


def parse_allowed(specs: Sequence[str]) -> list[Allowed]:
    """`127.0.0.1:8443`, `[::1]:5432`, `10.0.0.5`, `127.0.0.0/8`; ValueError names a bad one."""
    allowed = []
    for spec in specs:
        host, port = spec, None
        if spec.startswith("["):
            host, _, rest = spec[1:].partition("]")
            port = rest.removeprefix(":") or None
        elif spec.count(":") == 1:
            host, port = spec.split(":")
        try:
            network = ipaddress.ip_network(host, strict=False)
            number = int(port) if port is not None else None
        except ValueError:
            raise ValueError(f"{spec!r} is not an address, network or address:port") from None
        if number is not None and not 0 < number < 65536:
            raise ValueError(f"{spec!r}: the port must be 1-65535")
        allowed.append(Allowed(network, number))
    return allowed


def parse_blocked(specs: Sequence[str]) -> list[Network]:
    try:
        return [ipaddress.ip_network(spec, strict=False) for spec in specs]
    except ValueError as e:
        raise ValueError(f"not an address or network: {e}") from None


def _name_servers() -> list[str]:
    """The resolvers mitmproxy itself forwards DNS queries to (dns_name_servers, or
    the system's: often 127.0.0.53): its choice, not the client's."""
    resolver = ctx.master.addons.get("dnsresolver")
    return resolver.name_servers() if resolver is not None else []


def why_refused(ip: Address, blocked: Sequence[Network], is_own: bool) -> str | None:
    """Why a connection to `ip` may not be made, or None. `is_own`: the address
    belongs to this host (asked of the system by the caller)."""
    ip = plain(ip)
    if any(ip in net for net in ALWAYS_BLOCKED) or ip.is_unspecified:
        return "this host (loopback)"
    if is_own:
        return "this host (one of its own addresses)"
    if any(ip in net for net in blocked):
        return "a blocked network (host_guard_block)"
    return None


class HostGuard:
    def __init__(self, intercept: TeslaloggerIntercept) -> None:
        self.intercept = intercept
        self.blocked: list[Network] = parse_blocked(DEFAULT_BLOCK)
        self.allowed: list[Allowed] = []
        self._proxy_sockets: set[tuple[str, int]] = set()
        self._closed: dict[tuple[str, int], float] = {}  # when each was closed, oldest first
        self._logged: set[tuple[str, str]] = set()
        self._resolved: dict[str, tuple[float, list[Address]]] = {}

    def load(self, loader) -> None:
        loader.add_option(
            "host_guard_block",
            Sequence[str],
            list(DEFAULT_BLOCK),
            "Networks the proxy never connects to, beside this host's own addresses "
            "(loopback and every interface's, always refused).",
        )
        loader.add_option(
            "host_guard_allow",
            Sequence[str],
            [],
            "Destinations on this host (or in host_guard_block) the proxy may still reach "
            "for its clients: address, network or address:port, e.g. 127.0.0.1:8443. "
            "The wallbox API keeps asking such clients for its secret.",
        )

    def configure(self, updated: set[str]) -> None:
        if (blocked := checked(updated, "host_guard_block", parse_blocked)) is not None:
            self.blocked = blocked
        if (allowed := checked(updated, "host_guard_allow", parse_allowed)) is not None:
            self.allowed = allowed

    # --- the checks ---------------------------------------------------------------

    def _refusal(self, ip: Address, port: int) -> str | None:
        if any(a.covers(plain(ip), port) for a in self.allowed):
            return None
        return why_refused(ip, self.blocked, is_local_address(str(ip)))

    def _is_upstream(self, host: str, port: int) -> bool:
        """The operator's own smt_upstream_url is theirs to point anywhere."""
        up = self.intercept.upstream
        configured = ctx.options.smt_upstream_url != DEFAULT_UPSTREAM_URL
        return configured and (host, port) == (up.host, up.port)

    async def _resolve(self, host: str, port: int) -> list[Address]:
        """Addresses of `host`; a name's are kept a few seconds, so that a CONNECT's
        check and its connection share one lookup (and one answer)."""
        try:
            return [ipaddress.ip_address(host.split("%", 1)[0])]
        except ValueError:
            pass
        now = time.monotonic()
        cached = self._resolved.get(host)
        if cached is not None and now - cached[0] < _RESOLVE_TTL:
            return cached[1]
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
        if len(self._resolved) >= _MAX_RESOLVED:
            self._resolved.clear()
        self._resolved[host] = (now, addresses)
        return addresses

    async def check(self, host: str, port: int) -> tuple[str | None, Address | None]:
        """(why refused, None) or (None, the address to connect to). A name that
        does not resolve is left to mitmproxy, which reports it as usual."""
        if self._is_upstream(host, port):
            return None, None
        try:
            addresses = await self._resolve(host, port)
        except OSError:
            return None, None
        for ip in addresses:  # one forbidden address taints the name
            if reason := self._refusal(ip, port):
                return f"{host}:{port} is {reason}" + (f" ({ip})" if str(ip) != host else ""), None
        return None, addresses[0] if addresses else None

    def _log_once(self, client: str, reason: str) -> None:
        key = (client, reason)
        if key not in self._logged and len(self._logged) < _MAX_LOGGED:
            self._logged.add(key)
            logger.warning("host guard: refused %s: %s", client, reason)

    # --- the hooks -------------------------------------------------------------------

    async def http_connect(self, flow: http.HTTPFlow) -> None:
        if not is_teslalogger_host(flow.request.host):
            await self._answer_refusal(flow)

    async def request(self, flow: http.HTTPFlow) -> None:
        """Plain-HTTP and decrypted requests for other hosts (the hub passes only those)."""
        if flow.response is None:
            await self._answer_refusal(flow)

    async def _answer_refusal(self, flow: http.HTTPFlow) -> None:
        reason, _ = await self.check(flow.request.host, flow.request.port)
        if reason:
            self._log_once(flow.client_conn.peername[0], reason)
            flow.response = http.Response.make(
                403,
                f"teslahome refuses to connect there: {reason}. The proxy never reaches "
                "this host's own services; see host_guard_allow.\n",
                {"Content-Type": "text/plain; charset=utf-8"},
            )

    async def server_connect(self, data: server_hooks.ServerConnectionHookData) -> None:
        server = data.server
        if server.error or server.address is None:
            return
        host, port = server.address[0], server.address[1]
        if server.transport_protocol == "udp" and port == 53 and host in _name_servers():
            return  # mitmproxy forwarding a WireGuard or DNS-mode query to this host's resolver
        reason, ip = await self.check(host, port)
        if reason:
            server.error = f"refused by teslahome's host guard: {reason}"
            self._log_once(data.client.peername[0] if data.client.peername else "?", reason)
        elif ip is None and not self._is_upstream(host, port):
            # Not resolved now: mitmproxy would ask again, and that answer goes unchecked
            # (a rebinding resolver fails the first query and names loopback in the second).
            server.error = f"cannot resolve {host} (checked by teslahome's host guard)"
        elif ip is not None and str(ip) != host:
            if server.sni is None:
                server.sni = host  # TLS must still name the host, not the pinned address
            server.address = (str(ip), port)  # pinned: the connect uses what was checked

    def server_connected(self, data: server_hooks.ServerConnectionHookData) -> None:
        peer, own = data.server.peername, data.server.sockname
        if peer and own and is_local_address(peer[0]):
            self._proxy_sockets.add(_endpoint(own))

    def server_disconnected(self, data: server_hooks.ServerConnectionHookData) -> None:
        own = data.server.sockname
        if own and (end := _endpoint(own)) in self._proxy_sockets:
            # Kept a while: the API may read what the proxy sent after the proxy
            # dropped the socket (its client went away), and must not trust that.
            self._proxy_sockets.discard(end)
            now = time.monotonic()
            while self._closed and now - next(iter(self._closed.values())) > _CLOSED_KEPT:
                del self._closed[next(iter(self._closed))]
            self._closed.pop(end, None)
            self._closed[end] = now

    def opened_by_proxy(self, peer: tuple[str, int] | None) -> bool:
        """Whether a local client of the wallbox API is really this proxy, for someone else."""
        if peer is None:
            return False
        end = _endpoint(peer)
        closed = self._closed.get(end)
        recent = closed is not None and time.monotonic() - closed <= _CLOSED_KEPT
        return end in self._proxy_sockets or recent


def _endpoint(address: tuple) -> tuple[str, int]:
    """One spelling per socket end: the proxy's IPv6 socket to ::ffff:127.0.0.1 is
    127.0.0.1 to the wallbox API's IPv4 socket."""
    return str(plain(ipaddress.ip_address(address[0]))), address[1]
