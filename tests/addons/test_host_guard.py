"""The host guard: the rules as tables, the hooks with mitmproxy's test doubles.
The end-to-end proof from another host is tests/e2e/test_host_guard.py."""

import ipaddress
import socket

import pytest
from mitmproxy import connection, exceptions
from mitmproxy.addons.dns_resolver import DnsResolver
from mitmproxy.proxy import server_hooks
from mitmproxy.test import taddons, tflow, tutils

from addons.host_guard import Allowed, HostGuard, parse_allowed, parse_blocked, why_refused
from addons.intercept import TeslaloggerIntercept

ip = ipaddress.ip_address
net = ipaddress.ip_network
BLOCKED = parse_blocked(["169.254.0.0/16", "fe80::/10"])


@pytest.mark.parametrize(
    "address, own, refused",
    [
        ("127.0.0.1", True, "this host (loopback)"),
        ("127.1.2.3", True, "this host (loopback)"),
        ("::1", True, "this host (loopback)"),
        ("::ffff:127.0.0.1", False, "this host (loopback)"),
        ("0.0.0.0", True, "this host (loopback)"),
        ("::", True, "this host (loopback)"),
        ("10.0.0.5", True, "this host (one of its own addresses)"),
        ("::ffff:10.0.0.5", True, "this host (one of its own addresses)"),
        ("169.254.169.254", False, "a blocked network (host_guard_block)"),
        ("fe80::1", False, "a blocked network (host_guard_block)"),
        ("10.0.0.6", False, None),
        ("203.0.113.1", False, None),
        ("2001:db8::1", False, None),
    ],
)
def test_why_refused(address, own, refused):
    assert why_refused(ip(address), BLOCKED, own) == refused


@pytest.mark.parametrize(
    "spec, allowed",
    [
        ("127.0.0.1:8443", Allowed(net("127.0.0.1/32"), 8443)),
        ("[::1]:5432", Allowed(net("::1/128"), 5432)),
        ("::1", Allowed(net("::1/128"))),
        ("10.0.0.5", Allowed(net("10.0.0.5/32"))),
        ("127.0.0.0/8", Allowed(net("127.0.0.0/8"))),
    ],
)
def test_parse_allowed(spec, allowed):
    assert parse_allowed([spec]) == [allowed]


@pytest.mark.parametrize("spec", ["localhost:80", "127.0.0.1:0", "127.0.0.1:70000", "1.2.3.4:x"])
def test_parse_allowed_refuses_what_it_cannot_read(spec):
    with pytest.raises(ValueError, match=r"address|port"):
        parse_allowed([spec])


def test_an_allowed_port_covers_only_that_port():
    rule = parse_allowed(["127.0.0.1:8443"])[0]
    assert rule.covers(ip("127.0.0.1"), 8443) and not rule.covers(ip("127.0.0.1"), 5000)


@pytest.fixture
def guard():
    intercept = TeslaloggerIntercept()
    guard = HostGuard(intercept)
    with taddons.context(intercept, guard) as tctx:
        yield tctx, guard


def connect_data(host: str, port: int) -> server_hooks.ServerConnectionHookData:
    client = connection.Client(
        peername=("192.0.2.50", 40000), sockname=("192.0.2.1", 8080), timestamp_start=0
    )
    return server_hooks.ServerConnectionHookData(
        client=client, server=connection.Server(address=(host, port))
    )


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1.2.3", "::1", "localhost", "0.0.0.0"])
async def test_a_connection_to_this_host_is_killed_before_connecting(guard, host, caplog):
    data = connect_data(host, 5000)
    await guard[1].server_connect(data)
    assert data.server.error.startswith("refused by teslahome's host guard: ")
    assert f"{host}:5000 is this host" in data.server.error
    await guard[1].server_connect(connect_data(host, 5000))
    assert len([r for r in caplog.records if "host guard: refused" in r.message]) == 1


async def test_one_of_this_hosts_own_addresses_is_refused(guard):
    own = _own_address()
    data = connect_data(own, 5432)
    await guard[1].server_connect(data)
    assert "one of its own addresses" in data.server.error


async def test_a_name_is_pinned_to_the_address_that_was_checked(guard, monkeypatch):
    _, g = guard
    monkeypatch.setattr(g, "_resolve", _fake_resolver({"example.org": ["203.0.113.9"]}))
    data = connect_data("example.org", 443)
    await g.server_connect(data)
    assert data.server.error is None
    assert data.server.address == ("203.0.113.9", 443) and data.server.sni == "example.org"


async def test_a_name_with_one_address_on_this_host_is_refused(guard, monkeypatch):
    _, g = guard
    monkeypatch.setattr(
        g, "_resolve", _fake_resolver({"rebind.test": ["203.0.113.9", "127.0.0.1"]})
    )
    data = connect_data("rebind.test", 5000)
    await g.server_connect(data)
    assert data.server.error.endswith("rebind.test:5000 is this host (loopback) (127.0.0.1)")


async def test_a_name_that_does_not_resolve_is_not_left_to_a_second_lookup(guard, monkeypatch):
    """mitmproxy would resolve it again, unchecked: a rebinding resolver answers
    the guard's query with an error and mitmproxy's with 127.0.0.1."""
    _, g = guard
    monkeypatch.setattr(g, "_resolve", _fake_resolver({}))
    data = connect_data("rebind-later.test", 5000)
    await g.server_connect(data)
    assert (
        data.server.error == "cannot resolve rebind-later.test (checked by teslahome's host guard)"
    )
    assert data.server.address == ("rebind-later.test", 5000)


async def test_allowed_destinations_and_the_configured_upstream_pass(guard):
    tctx, g = guard
    tctx.configure(g, host_guard_allow=["127.0.0.1:8443"])
    allowed, other_port = connect_data("127.0.0.1", 8443), connect_data("127.0.0.1", 8444)
    await g.server_connect(allowed)
    await g.server_connect(other_port)
    assert allowed.server.error is None and other_port.server.error
    tctx.configure(g.intercept, smt_upstream_url="https://127.0.0.1:9443")
    upstream = connect_data("127.0.0.1", 9443)
    await g.server_connect(upstream)
    assert upstream.server.error is None


async def test_dns_queries_mitmproxy_forwards_to_its_own_resolver_pass(tmp_path):
    """WireGuard and DNS mode forward non-A queries to dns_name_servers, often 127.0.0.53."""
    intercept = TeslaloggerIntercept()
    g = HostGuard(intercept)
    with taddons.context(intercept, g, DnsResolver()) as tctx:
        tctx.options.dns_name_servers = ["127.0.0.53"]
        forwarded = connect_data("127.0.0.53", 53)
        forwarded.server.transport_protocol = "udp"
        await g.server_connect(forwarded)
        assert forwarded.server.error is None
        over_tcp = connect_data("127.0.0.53", 53)
        await g.server_connect(over_tcp)
        assert over_tcp.server.error


def test_bad_options_name_themselves(guard):
    tctx, g = guard
    with pytest.raises(exceptions.OptionsError, match="host_guard_allow"):
        tctx.configure(g, host_guard_allow=["nonsense"])
    with pytest.raises(exceptions.OptionsError, match="host_guard_block"):
        tctx.configure(g, host_guard_block=["10.0.0.0/33"])


async def test_blocked_networks_are_configurable(guard):
    tctx, g = guard
    data = connect_data("169.254.169.254", 80)
    await g.server_connect(data)
    assert "host_guard_block" in data.server.error
    tctx.configure(g, host_guard_block=["203.0.113.0/24"])
    metadata, blocked = connect_data("169.254.169.254", 80), connect_data("203.0.113.7", 80)
    await g.server_connect(metadata)
    await g.server_connect(blocked)
    assert metadata.server.error is None and "host_guard_block" in blocked.server.error


@pytest.mark.parametrize("hook", ["request", "http_connect"])
async def test_a_request_for_this_host_gets_403_and_goes_nowhere(guard, hook):
    flow = tflow.tflow(req=tutils.treq(host="127.0.0.1", port=5000, path=b"/tlwb/1/control?0"))
    await getattr(guard[1], hook)(flow)
    assert flow.response.status_code == 403
    assert b"127.0.0.1:5000 is this host (loopback)" in flow.response.content


async def test_a_request_elsewhere_is_left_alone(guard):
    flow = tflow.tflow(req=tutils.treq(host="203.0.113.7", port=80))
    await guard[1].request(flow)
    assert flow.response is None


def test_the_proxys_own_sockets_are_known_while_open(guard):
    _, g = guard
    data = connect_data("127.0.0.1", 8443)
    data.server.peername, data.server.sockname = ("127.0.0.1", 8443), ("127.0.0.1", 41000)
    g.server_connected(data)
    assert g.opened_by_proxy(("127.0.0.1", 41000))
    assert not g.opened_by_proxy(("127.0.0.1", 41001)) and not g.opened_by_proxy(None)


@pytest.mark.parametrize(
    "proxy_side, api_side",
    [
        (("::ffff:127.0.0.1", 41000, 0, 0), ("127.0.0.1", 41000)),  # [::ffff:127.0.0.1] asked for
        (("127.0.0.1", 41000), ("::ffff:127.0.0.1", 41000, 0, 0)),  # a dual-stack listener
    ],
)
def test_the_proxys_own_socket_is_known_in_either_form_of_ipv4(guard, proxy_side, api_side):
    """The proxy connects to an allowed ::ffff:127.0.0.1 over IPv6; the wallbox
    API's IPv4 socket sees the same connection come from 127.0.0.1."""
    _, g = guard
    data = connect_data("::ffff:127.0.0.1", 5000)
    data.server.peername, data.server.sockname = (proxy_side[0], 5000), proxy_side
    g.server_connected(data)
    assert g.opened_by_proxy(api_side)


def test_a_proxy_socket_just_closed_is_still_known(guard, monkeypatch):
    """The proxy may drop its socket (its client went away) before the wallbox API
    has read the request it sent: that request is still the proxy's."""
    _, g = guard
    now = [1000.0]
    monkeypatch.setattr("addons.host_guard.time.monotonic", lambda: now[0])
    data = connect_data("127.0.0.1", 5000)
    data.server.peername, data.server.sockname = ("127.0.0.1", 5000), ("127.0.0.1", 41000)
    g.server_connected(data)
    g.server_disconnected(data)
    assert g.opened_by_proxy(("127.0.0.1", 41000))
    now[0] += 60  # long gone: the port may be a local client's now
    assert not g.opened_by_proxy(("127.0.0.1", 41000))


def _fake_resolver(names: dict[str, list[str]]):
    async def resolve(host: str, port: int):
        if host not in names:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [ip(a) for a in names[host]]

    return resolve


def _own_address() -> str:
    """An address of this host that is not loopback (the one routes leave by)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
            address = probe.getsockname()[0]
        except OSError:
            address = "127.0.0.1"
    if address.startswith("127."):
        pytest.skip("this host has no address but loopback")
    return address
