import pytest
from mitmproxy import exceptions, hooks
from mitmproxy.addons.proxyserver import Proxyserver
from mitmproxy.connection import Server
from mitmproxy.proxy import server_hooks
from mitmproxy.test import taddons, tflow, tutils

from addons.intercept import (
    ALLOW_PATTERN,
    TeslaloggerIntercept,
    Upstream,
    client_in,
    is_local_address,
    is_teslalogger,
    is_teslalogger_host,
    listen_ports,
    parse_networks,
)


@pytest.mark.parametrize(
    "name, expected",
    [
        ("teslalogger.de", True),
        ("TeslaLogger.DE.", True),
        ("www.teslalogger.de", True),
        ("teslalogger.de.evil.com", False),
        ("notteslalogger.de", False),
        ("", False),
        (None, False),
    ],
)
def test_host_rule(name, expected):
    assert is_teslalogger_host(name) is expected


def test_transparent_and_wireguard_flows_match_on_the_host_header():
    request = tutils.treq(host="185.26.156.40", port=443, scheme=b"https")
    request.headers["Host"] = "teslalogger.de"
    assert is_teslalogger(request)
    request.headers["Host"] = "example.org"
    assert not is_teslalogger(request)


@pytest.mark.parametrize(
    "url, expected",
    [
        ("https://teslalogger.de", Upstream("https", "teslalogger.de", 443, None)),
        ("http://127.0.0.1:8000/", Upstream("http", "127.0.0.1", 8000, None)),
        ("https://185.26.156.40", Upstream("https", "185.26.156.40", 443, "teslalogger.de")),
        ("https://[2a01:4f8::1]:8443", Upstream("https", "2a01:4f8::1", 8443, "teslalogger.de")),
    ],
)
def test_upstream_url(url, expected):
    assert Upstream.parse(url) == expected


@pytest.mark.parametrize(
    "url",
    ["teslalogger.de", "ftp://x", "https://", "https://x/path", "https://x?q", "http://x:99999"],
)
def test_bad_upstream_url_is_an_option_error(url):
    addon = TeslaloggerIntercept()
    with taddons.context(addon) as tctx:
        with pytest.raises(exceptions.OptionsError, match="smt_upstream_url"):
            tctx.configure(addon, smt_upstream_url=url)


def configure_all(tctx, addon):
    """What mitmproxy's script loader does right after loading the entry script."""
    tctx.master.addons.invoke_addon_sync(addon, hooks.ConfigureHook(set(tctx.options.keys())))


def test_only_teslalogger_is_intercepted_and_connections_are_lazy():
    addon = TeslaloggerIntercept()
    with taddons.context(Proxyserver(), addon) as tctx:
        configure_all(tctx, addon)
        assert tctx.options.allow_hosts == [ALLOW_PATTERN]
        assert tctx.options.connection_strategy == "lazy"
        assert tctx.options.rawtcp is False


def test_a_users_own_host_rules_are_left_alone():
    addon = TeslaloggerIntercept()
    with taddons.context(Proxyserver(), addon) as tctx:
        tctx.options.update(allow_hosts=[], ignore_hosts=["^example"], smt_intercept_only=False)
        tctx.configure(addon, smt_intercept_only=True)
        assert tctx.options.allow_hosts == []


def test_intercept_only_can_be_switched_off():
    addon = TeslaloggerIntercept()
    with taddons.context(Proxyserver(), addon) as tctx:
        tctx.configure(addon, smt_intercept_only=False)
        tctx.options.update(allow_hosts=[], connection_strategy="eager")
        assert tctx.options.allow_hosts == []
        assert tctx.options.connection_strategy == "eager"


def test_forwarded_request_keeps_its_host_header():
    addon = TeslaloggerIntercept()
    with taddons.context(addon) as tctx:
        tctx.configure(addon, smt_upstream_url="http://127.0.0.1:9")
        flow = tflow.tflow(req=tutils.treq(host="teslalogger.de", port=443, scheme=b"https"))
        flow.request.headers["Host"] = "teslalogger.de"
        addon.request(flow)
        assert (flow.request.scheme, flow.request.host, flow.request.port) == (
            "http",
            "127.0.0.1",
            9,
        )
        assert flow.request.headers["Host"] == "teslalogger.de"


def test_request_already_bound_for_upstream_is_untouched():
    addon = TeslaloggerIntercept()
    with taddons.context(addon):
        flow = tflow.tflow(req=tutils.treq(host="teslalogger.de", port=443, scheme=b"https"))
        before = flow.request.get_state()
        addon.request(flow)
        assert flow.request.get_state() == before


def test_answered_and_foreign_flows_are_not_routed():
    addon = TeslaloggerIntercept()
    with taddons.context(addon) as tctx:
        tctx.configure(addon, smt_upstream_url="http://127.0.0.1:9")
        answered = tflow.tflow(resp=True)
        answered.request.host = "teslalogger.de"
        foreign = tflow.tflow(req=tutils.treq(host="example.org"))
        for flow in (answered, foreign):
            before = flow.request.get_state()
            addon.request(flow)
            assert flow.request.get_state() == before


async def test_ip_upstream_gets_teslalogger_as_sni():
    addon = TeslaloggerIntercept()
    with taddons.context(addon) as tctx:
        tctx.configure(addon, smt_upstream_url="https://192.0.2.7")
        server = Server(address=("192.0.2.7", 443))
        await addon.server_connect(
            server_hooks.ServerConnectionHookData(server, tflow.tclient_conn())
        )
        assert server.sni == "teslalogger.de" and server.error is None


def test_listen_ports_from_modes():
    modes = ["regular@8080", "reverse:https://teslalogger.de@8443", "wireguard@51820", "bogus:::"]
    assert listen_ports(modes) == {8080, 8443}


def test_local_addresses():
    assert is_local_address("127.0.0.1")
    assert not is_local_address("203.0.113.254")  # TEST-NET-3: documentation only


def test_passthrough_client_networks():
    networks = parse_networks(["192.168.1.20", "10.0.0.0/8", "fd00::/8"])
    assert client_in(networks, "192.168.1.20")
    assert client_in(networks, "::ffff:10.1.2.3")
    assert client_in(networks, "fd12::1")
    assert not client_in(networks, "192.168.1.21")
    with pytest.raises(ValueError, match="'nonsense'"):
        parse_networks(["nonsense"])


def test_bad_passthrough_client_is_an_option_error():
    addon = TeslaloggerIntercept()
    with taddons.context(addon) as tctx:
        with pytest.raises(exceptions.OptionsError, match="smt_tls_passthrough_clients"):
            tctx.configure(addon, smt_tls_passthrough_clients=["300.1.1.1"])
