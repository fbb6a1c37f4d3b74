"""Which traffic the proxy opens up, and where teslalogger.de traffic goes on to.

- Only teslalogger.de is intercepted: TLS to every other host passes through
  untouched (mitmproxy's `allow_hosts`), so a phone whose whole traffic runs
  through the proxy keeps every other app working and trusting its servers.
- Clients listed in `smt_tls_passthrough_clients` (TeslaLogger's host) get
  their TLS to teslalogger.de passed through untouched, so TeslaLogger keeps
  the real certificate for its HTTPS calls while its plain-HTTP polls are
  still answered here.
- Connections are opened lazily, so the endpoints answered locally work with
  no route to the real server.
- Requests for teslalogger.de that nobody answered locally go to
  `smt_upstream_url`, matched on the request's host (or Host header), so this
  works alike in regular, reverse, transparent and WireGuard mode. When the
  proxy host itself resolves teslalogger.de to this proxy (a router DNS
  override), forwarding would loop: that is refused with a clear error.
"""

import asyncio
import ipaddress
import logging
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from mitmproxy import ctx, http
from mitmproxy.net.tls import starts_like_tls_record
from mitmproxy.proxy import layer, layers, mode_specs, server_hooks
from mitmproxy.proxy.layers.tls import parse_client_hello

from addons import log_filter
from addons.options import checked

logger = logging.getLogger(__name__)

HOST = "teslalogger.de"
DEFAULT_UPSTREAM_URL = "https://" + HOST
ALLOW_PATTERN = r"^(.+\.)?teslalogger\.de(:\d+)?$"
_RESOLVE_TTL = 60.0


def is_teslalogger_host(name: str | None) -> bool:
    if not name:
        return False
    name = name.lower().rstrip(".")
    return name == HOST or name.endswith("." + HOST)


def is_teslalogger(request: http.Request) -> bool:
    """Matched on the host the client asked for, not on how it reached us."""
    return is_teslalogger_host(request.host) or is_teslalogger_host(request.pretty_host)


@dataclass(frozen=True, slots=True)
class Upstream:
    scheme: str
    host: str
    port: int
    sni: str | None  # set when host is an IP: TLS still has to name teslalogger.de

    @classmethod
    def parse(cls, url: str) -> "Upstream":
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{url!r} is not an http:// or https:// URL")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError(f"{url!r} must name only a scheme, host and port")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise ValueError(f"{url!r} has an invalid port") from None
        sni = HOST if parts.scheme == "https" and _is_ip(parts.hostname) else None
        return cls(parts.scheme, parts.hostname, port, sni)


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def is_local_address(ip: str) -> bool:
    """Whether `ip` belongs to this host: only then can a socket bind to it."""
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind((ip, 0))
        except OSError:
            return False
    return True


type Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(specs: Sequence[str]) -> list[Network]:
    """IPs or CIDR networks; raises ValueError naming the bad one."""
    networks = []
    for spec in specs:
        try:
            networks.append(ipaddress.ip_network(spec, strict=False))
        except ValueError:
            raise ValueError(f"{spec!r} is not an IP address or network") from None
    return networks


def plain(ip: ipaddress.IPv4Address | ipaddress.IPv6Address):
    """IPv4 mapped into IPv6 (::ffff:a.b.c.d, as a dual-stack listener reports
    IPv4 peers) is the IPv4 address it carries."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def client_in(networks: Sequence[Network], peer: str) -> bool:
    ip = plain(ipaddress.ip_address(peer.split("%")[0]))
    return any(ip in net for net in networks)


def listen_ports(modes: list[str]) -> set[int]:
    """The TCP ports this proxy listens on, from its `mode` specs."""
    ports = set()
    for spec in modes:
        try:
            mode = mode_specs.ProxyMode.parse(spec)
        except ValueError:
            continue
        if mode.transport_protocol in ("tcp", "both") and (port := mode.listen_port()) is not None:
            ports.add(port)
    return ports


class TeslaloggerIntercept:
    """(Not named Intercept: mitmweb has a built-in addon of that name.)"""

    def __init__(self) -> None:
        self.upstream = Upstream.parse(DEFAULT_UPSTREAM_URL)
        self._resolved: dict[str, tuple[float, list[str]]] = {}
        self.passthrough_clients: list[Network] = []

    def load(self, loader) -> None:
        log_filter.install()  # before the WireGuard listener logs the phone's config
        loader.add_option(
            "smt_upstream_url",
            str,
            DEFAULT_UPSTREAM_URL,
            "Where teslalogger.de requests that are not answered locally go: the real server "
            "by default. Use its IP (https://<ip>) when this host resolves teslalogger.de "
            "to itself; TLS still checks the name teslalogger.de.",
        )
        loader.add_option(
            "smt_intercept_only",
            bool,
            True,
            "Intercept only teslalogger.de and pass TLS to every other host through "
            "untouched (sets allow_hosts, unless you set allow_hosts or ignore_hosts), "
            "open upstream connections lazily (connection_strategy=lazy), and answer "
            "non-HTTP data in a teslalogger.de tunnel with an error (rawtcp=false).",
        )

        loader.add_option(
            "smt_tls_passthrough_clients",
            Sequence[str],
            [],
            "Client IPs or networks (e.g. TeslaLogger's host) whose TLS to teslalogger.de "
            "is passed through to smt_upstream_url untouched: they keep the real "
            "certificate, while their plain-HTTP polls are still answered here.",
        )

    def configure(self, updated: set[str]) -> None:
        if "smt_upstream_url" in updated:
            self.upstream = checked(updated, "smt_upstream_url", Upstream.parse)
            self._resolved.clear()
        if "smt_tls_passthrough_clients" in updated:
            self.passthrough_clients = checked(
                updated, "smt_tls_passthrough_clients", parse_networks
            )
        if "smt_intercept_only" in updated and ctx.options.smt_intercept_only:
            changes: dict[str, object] = {}
            if not ctx.options.allow_hosts and not ctx.options.ignore_hosts:
                changes["allow_hosts"] = [ALLOW_PATTERN]
            if ctx.options.connection_strategy != "lazy":
                changes["connection_strategy"] = "lazy"
            # What is intercepted is teslalogger.de, which speaks only HTTP(S): anything
            # else in its tunnel gets an HTTP error instead of a raw TCP relay.
            if ctx.options.rawtcp:
                changes["rawtcp"] = False
            if changes:
                ctx.options.update(**changes)

    def next_layer(self, nextlayer: layer.NextLayer) -> None:
        """Tunnel TLS from passthrough clients instead of intercepting it. Script
        addons are asked before mitmproxy's own NextLayer, so the decision is
        still open here."""
        if nextlayer.layer is not None or not self.passthrough_clients:
            return
        context = nextlayer.context
        if not context.client.peername or not client_in(
            self.passthrough_clients, context.client.peername[0]
        ):
            return
        data = nextlayer.data_client()
        if not starts_like_tls_record(data):
            return
        try:
            hello = parse_client_hello(data)
        except ValueError:
            return
        if hello is None:
            return  # not all of it yet: mitmproxy defers and asks again
        destination = context.server.address[0] if context.server.address else None
        if not (is_teslalogger_host(hello.sni) or is_teslalogger_host(destination)):
            return
        if self.upstream.scheme == "https":
            context.server.address = (self.upstream.host, self.upstream.port)
        nextlayer.layer = layers.TCPLayer(context, ignore=True)

    def request(self, flow: http.HTTPFlow) -> None:
        """Route what nobody answered to the configured upstream (runs after the
        addons that answer locally)."""
        if flow.response is not None or not is_teslalogger(flow.request):
            return
        request, up = flow.request, self.upstream
        host_header = request.host_header
        if (request.scheme, request.host, request.port) == (up.scheme, up.host, up.port):
            return  # already on its way there: leave the request byte for byte alone
        request.scheme, request.host, request.port = up.scheme, up.host, up.port
        request.host_header = host_header  # the server still has to see teslalogger.de

    async def server_connect(self, data: server_hooks.ServerConnectionHookData) -> None:
        server, up = data.server, self.upstream
        if server.address is None or tuple(server.address[:2]) != (up.host, up.port):
            return
        if up.sni and server.sni in (None, up.host):
            server.sni = up.sni
        if await self._points_at_this_proxy(up.host, up.port):
            server.error = (
                f"{up.host}:{up.port} is this proxy itself (the proxy host resolves "
                f"{up.host} to its own address, e.g. through a router DNS override): "
                "set smt_upstream_url to the real server's IP, e.g. https://<ip of teslalogger.de>"
            )
            logger.error(server.error)

    async def _points_at_this_proxy(self, host: str, port: int) -> bool:
        if port not in listen_ports(list(ctx.options.mode)):
            return False
        now = time.monotonic()
        cached = self._resolved.get(host)
        if cached is None or now - cached[0] > _RESOLVE_TTL:
            try:
                infos = await asyncio.get_running_loop().getaddrinfo(
                    host, port, type=socket.SOCK_STREAM
                )
            except OSError:
                return False  # mitmproxy reports the resolution failure itself
            cached = (now, sorted({info[4][0] for info in infos}))
            self._resolved[host] = cached
        return any(is_local_address(ip) for ip in cached[1])
