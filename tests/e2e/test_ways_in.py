"""The ways a phone reaches teslahome, through real network plumbing: network
namespaces for the phone, its router, the home host and the Internet, nftables
on the router, teslahome as a real mitmdump process.

The Internet is one namespace with a stand-in teslalogger.de (203.0.113.10)
and another host (203.0.113.20), both with certificates of a test CA the phone
trusts like a public one; the phone also trusts teslahome's CA.
"""

import json
import os
import shutil
import subprocess

import pytest
from conftest import IN_CI

from support.mitm import ROOT, Mitmdump
from support.teslalogger import TeslaLogger
from support.uploads import upload_body
from support.ways_in import Net, Ns, StandIn, curl, proxy_in, stop_proxy, tools_missing

pytestmark = [pytest.mark.e2e, pytest.mark.netns]

TESLALOGGER, OTHER = "203.0.113.10", "203.0.113.20"
TESLALOGGER6, OTHER6 = "2001:db8:113::10", "2001:db8:113::20"
PHONE, PHONE6 = "192.168.50.2", "fd50::2"
TOKEN = "0f1e2d3c"
# The README's ports: each test's namespaces have ports of their own.
TRANSPARENT, WIREGUARD = 8082, 51820


@pytest.fixture
def net():
    reason = "needs root (network namespaces)" if os.geteuid() != 0 else None
    if reason := reason or tools_missing("ip", "nft", "curl", "sysctl"):
        (pytest.fail if IN_CI else pytest.skip)(reason)
    with Net() as made:
        yield made


def internet(net: Net, test_ca, gateway: Ns) -> dict[str, StandIn]:
    """The Internet behind `gateway`'s wan0: teslalogger.de and another host."""
    inet = net.ns("inet")
    net.link(
        gateway, "wan0", "203.0.113.1/24,2001:db8:113::1/64",
        inet, "eth0", f"{TESLALOGGER}/24,{OTHER}/24,{TESLALOGGER6}/64,{OTHER6}/64",
    )  # fmt: skip
    inet.sh("ip route add default via 203.0.113.1; ip -6 route add default via 2001:db8:113::1")
    stand_ins = {}
    for name, addr in (
        ("teslalogger.de", TESLALOGGER), ("teslalogger.de6", TESLALOGGER6),
        ("other", OTHER), ("other6", OTHER6),
    ):  # fmt: skip
        host = "teslalogger.de" if name.startswith("teslalogger") else "other.example"
        stand_ins[name] = StandIn(inet, addr, 443, host, test_ca.server_context(host))
        net.on_close(stand_ins[name].close)
    return stand_ins


def lan(net: Net) -> tuple[Ns, Ns]:
    """A phone behind a router that forwards (IPv4 and IPv6)."""
    phone, router = net.ns("phone"), net.ns("router")
    net.link(phone, "eth0", f"{PHONE}/24,{PHONE6}/64", router, "lan0", "192.168.50.1/24,fd50::1/64")
    phone.sh("ip route add default via 192.168.50.1; ip -6 route add default via fd50::1")
    router.sh("sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1")
    return phone, router


def teslahome(net: Net, ns: Ns, tmp_path, confdir, test_ca) -> Mitmdump:
    """teslahome in `ns`, transparent mode, forwarding to the stand-in teslalogger.de."""
    options = {
        "smt_upstream_url": f"https://{TESLALOGGER}",
        "ssl_verify_upstream_trusted_ca": test_ca.ca_file,
    }
    proxy = Mitmdump(
        tmp_path, confdir, options, extra_args=["--mode", f"transparent@{TRANSPARENT}"],
        listen_host="", wrapper=ns.command([]),
    )  # fmt: skip
    net.on_close(lambda: stop_proxy(proxy))
    return proxy


def phone_reaches_teslahome(phone: Ns, proxy: Mitmdump, net_ca: str, stand_ins, tmp_path) -> None:
    """What the app and TeslaLogger do, and another app beside them, over IPv4
    and IPv6. `net_ca`: the test CA, standing in for the public ones."""
    smt = "https://teslalogger.de"
    for addr in (TESLALOGGER, f"[{TESLALOGGER6}]"):
        to_smt = ["--cacert", proxy.ca_file, "--resolve", f"teslalogger.de:443:{addr}"]
        assert curl(phone, *to_smt, "-d", f"t={TOKEN}", f"{smt}/check_token.php") == (200, "OK")
    body = tmp_path / "upload"
    body.write_bytes(upload_body(TOKEN, 1))
    insert = curl(phone, *to_smt, "--data-binary", f"@{body}", f"{smt}/insert_scanmytesla.php")
    assert insert == (200, "OK")
    # TeslaLogger (here on the phone's LAN) polls over plain HTTP, port 80
    poll = curl(
        phone, "--resolve", f"teslalogger.de:80:{TESLALOGGER}", "-d", f"t={TOKEN}",
        "http://teslalogger.de/get_scanmytesla.php",
    )  # fmt: skip
    assert poll[0] == 200 and TeslaLogger().take(poll[1].encode()) == 7, poll
    # teslalogger.de's other paths go on to the real server...
    assert curl(phone, *to_smt, f"{smt}/wakefile.php") == (200, "teslalogger.de GET /wakefile.php")
    assert [path for path, _ in stand_ins["teslalogger.de"].requests] == ["/wakefile.php"]
    # ...and other hosts are untouched: the phone sees their own certificate
    for name, addr in (("other", OTHER), ("other6", f"[{OTHER6}]")):
        public = ["--cacert", net_ca, "--resolve", f"other.example:443:{addr}"]
        page = curl(phone, *public, "https://other.example/page")
        assert page == (200, "other.example GET /page"), name
        assert stand_ins[name].requests == [("/page", b"")]


SIGSEGV = -11


def stopped_cleanly(proxy: Mitmdump, wireguard: bool = False) -> None:
    """Exit 0 and no traceback. In WireGuard mode mitmproxy_rs's tokio threads may
    segfault while the interpreter exits after flows (mitmproxy#7409, open upstream,
    seen here about once in a few dozen runs under load): that exit code alone is
    not ours, so it passes; a traceback never does."""
    code = proxy.stop()
    allowed = (0, SIGSEGV) if wireguard else (0,)
    assert code in allowed, proxy.log
    assert "Traceback" not in proxy.log, proxy.log


def test_router_redirect_to_teslahome_on_the_router(net, tmp_path, confdir, test_ca):
    """OpenWrt/Linux router running teslahome: nftables redirects the phone's
    HTTPS (IPv4 and IPv6) and TeslaLogger's plain-HTTP polls to its transparent port."""
    phone, router = lan(net)
    stand_ins = internet(net, test_ca, router)
    proxy = teslahome(net, router, tmp_path, confdir, test_ca)
    router.sh(f"""nft -f - <<'EOF'
table inet teslahome {{
  chain prerouting {{
    type nat hook prerouting priority dstnat; policy accept;
    iifname "lan0" ip saddr {PHONE} tcp dport 443 redirect to :{TRANSPARENT}
    iifname "lan0" ip6 saddr {PHONE6} tcp dport 443 redirect to :{TRANSPARENT}
    iifname "lan0" ip daddr {TESLALOGGER} tcp dport 80 redirect to :{TRANSPARENT}
  }}
}}
EOF""")
    proxy_in(router, proxy, "Transparent Proxy listening")
    phone_reaches_teslahome(phone, proxy, test_ca.ca_file, stand_ins, tmp_path)
    stopped_cleanly(proxy)


def test_router_routes_to_teslahome_on_another_host(net, tmp_path, confdir, test_ca):
    """teslahome on a home server (another subnet): the router policy-routes the
    phone's HTTPS and TeslaLogger's polls to it, and that host redirects them to
    its transparent port (mitmproxy reads the destination from its own conntrack)."""
    phone, router = lan(net)
    stand_ins = internet(net, test_ca, router)
    home = net.ns("home")
    net.link(
        router, "dmz0", "192.168.60.1/24,fd60::1/64", home, "eth0", "192.168.60.2/24,fd60::2/64"
    )
    home.sh("ip route add default via 192.168.60.1; ip -6 route add default via fd60::1")
    router.sh(f"""
        ip rule add from {PHONE} ipproto tcp dport 443 lookup 100
        ip rule add to {TESLALOGGER} ipproto tcp dport 80 lookup 100
        ip route add default via 192.168.60.2 table 100
        ip -6 rule add from {PHONE6} ipproto tcp dport 443 lookup 100
        ip -6 route add default via fd60::2 table 100
        # the answers come back from home, not from the Internet they claim to be from
        for c in all default lan0 wan0 dmz0; do sysctl -qw net.ipv4.conf.$c.rp_filter=0; done
    """)
    proxy = teslahome(net, home, tmp_path, confdir, test_ca)
    home.sh(f"""nft -f - <<'EOF'
table inet teslahome {{
  chain prerouting {{
    type nat hook prerouting priority dstnat; policy accept;
    iifname "eth0" fib daddr type != local tcp dport {{ 80, 443 }} redirect to :{TRANSPARENT}
  }}
}}
EOF""")
    proxy_in(home, proxy, "Transparent Proxy listening")
    phone_reaches_teslahome(phone, proxy, test_ca.ca_file, stand_ins, tmp_path)
    stopped_cleanly(proxy)


HALVES = {"0.0.0.0/0": ["0.0.0.0/1", "128.0.0.0/1"], "::/0": ["::/1", "8000::/1"]}


def wg_quick(phone: Ns, net: Net, conf: str, tmp_path) -> None:
    """What the WireGuard app does with `conf`: wireguard-go (userspace, as on a
    phone), the keys and peer from it, then its Address, DNS and AllowedIPs."""
    settings = {}
    for line in conf.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            settings[key.strip()] = value.strip()
    (tmp_path / "wg0.conf").write_text(conf)
    stripped = tmp_path / "wg0.stripped"
    stripped.write_text(phone.sh(f"wg-quick strip {tmp_path / 'wg0.conf'}"))
    wireguard_go = phone.popen(["wireguard-go", "-f", "wg0"], stdout=subprocess.DEVNULL)
    net.on_close(lambda: (wireguard_go.terminate(), wireguard_go.wait(10)))
    phone.sh("until ip link show wg0 >/dev/null 2>&1; do sleep 0.05; done", timeout=20)
    routes = "".join(
        f"ip {'-6 ' if ':' in half else ''}route add {half} dev wg0\n"
        for net_ in settings["AllowedIPs"].split(",")
        for half in HALVES.get(net_, [net_])  # over the default route, not instead of it
    )
    phone.sh(
        f"wg setconf wg0 {stripped}\nip addr add {settings['Address']} dev wg0\n"
        f"ip link set wg0 up\n{routes}"
    )
    phone.etc_file("resolv.conf", f"nameserver {settings['DNS']}\n")


def test_wireguard_phone_on_mobile_data(net, tmp_path, confdir, test_ca):
    """A phone on mobile data with the WireGuard app (wireguard-go) and the config
    exactly as `make wireguard` prints it: DNS through the tunnel, check_token,
    the upload, TeslaLogger's poll; other hosts untouched; the key never logged."""
    if reason := tools_missing("wireguard-go", "wg", "wg-quick", "make"):
        (pytest.fail if IN_CI else pytest.skip)(reason)
    phone, home = net.ns("phone"), net.ns("home")
    # Mobile data, dual-stack: home stands in for the carrier too, so IPv6 would
    # reach the Internet around the tunnel if the config let it.
    net.link(
        phone, "eth0", "198.51.100.2/24,fd51::2/64", home, "mob0", "198.51.100.1/24,fd51::1/64"
    )
    phone.sh("ip -6 route add default via fd51::1")
    home.sh("sysctl -qw net.ipv6.conf.all.forwarding=1")
    stand_ins = internet(net, test_ca, home)
    home.etc_file(
        "hosts",
        f"{TESLALOGGER} teslalogger.de\n{TESLALOGGER6} teslalogger.de\n{OTHER} other.example\n",
    )
    certs = tmp_path / "certs"
    shutil.copytree(confdir, certs)
    options = {"ssl_verify_upstream_trusted_ca": test_ca.ca_file, "termlog_verbosity": "debug"}
    proxy = Mitmdump(
        tmp_path, certs, options, extra_args=["--mode", f"wireguard@{WIREGUARD}"],
        listen_host="", wrapper=home.command([]),
    )  # fmt: skip
    net.on_close(lambda: stop_proxy(proxy))
    proxy_in(home, proxy, "WireGuard server listening")

    made = subprocess.run(
        ["make", "-s", "-o", ".venv/.installed", "wireguard", f"CERTS_DIR={certs}",
         f"WG_ENDPOINT=198.51.100.1:{WIREGUARD}"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    wg_quick(phone, net, made.stdout, tmp_path)

    smt = "https://teslalogger.de"
    ca = ["--cacert", proxy.ca_file]
    assert curl(phone, *ca, "-d", f"t={TOKEN}", f"{smt}/check_token.php") == (200, "OK")
    body = tmp_path / "upload"
    body.write_bytes(upload_body(TOKEN, 1))
    assert curl(phone, *ca, "--data-binary", f"@{body}", f"{smt}/insert_scanmytesla.php") == (
        200,
        "OK",
    )
    # The tunnel's DNS also gives teslalogger.de's IPv6 address: that must not get around it
    assert curl(phone, "-6", *ca, "-d", f"t={TOKEN}", f"{smt}/check_token.php") == (200, "OK")
    poll = curl(phone, "-d", f"t={TOKEN}", "http://teslalogger.de/get_scanmytesla.php")
    assert poll[0] == 200 and TeslaLogger().take(poll[1].encode()) == 7, poll
    assert curl(phone, *ca, f"{smt}/wakefile.php") == (200, "teslalogger.de GET /wakefile.php")
    page = curl(phone, "--cacert", test_ca.ca_file, "https://other.example/page")
    assert page == (200, "other.example GET /page")
    assert stand_ins["other"].requests == [("/page", b"")]

    stopped_cleanly(proxy, wireguard=True)
    client_key = json.loads((certs / "wireguard.conf").read_text())["client_key"]
    assert f"PrivateKey = {client_key}" in made.stdout
    assert client_key not in proxy.log


@pytest.mark.parametrize("upstream_ip", [True, False])
def test_dns_override_with_a_reverse_listener(net, tmp_path, confdir, test_ca, upstream_ip):
    """Home Wi-Fi: the router's DNS (dnsmasq) answers teslalogger.de with the home
    host, where teslahome listens as a reverse proxy on 443 (the phone) and 80
    (TeslaLogger's polls). The home host resolves through the same DNS, so what
    goes on to teslalogger.de needs smt_upstream_url's IP: without it, it is
    refused with an error that says so, instead of looping. Other hosts never
    see teslahome at all."""
    if reason := tools_missing("dnsmasq"):
        (pytest.fail if IN_CI else pytest.skip)(reason)
    phone, router = lan(net)
    stand_ins = internet(net, test_ca, router)
    home = net.ns("home")
    net.link(router, "dmz0", "192.168.60.1/24", home, "eth0", "192.168.60.2/24")
    home.sh("ip route add default via 192.168.60.1")
    dns = router.popen(
        ["dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts", "--bind-interfaces",
         "--listen-address=192.168.50.1", "--listen-address=192.168.60.1",
         "--address=/teslalogger.de/192.168.60.2", f"--host-record=other.example,{OTHER}",
         f"--pid-file={tmp_path / 'dnsmasq.pid'}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    net.on_close(lambda: (dns.terminate(), dns.wait(10)))
    phone.etc_file("resolv.conf", "nameserver 192.168.50.1\n")
    home.etc_file("resolv.conf", "nameserver 192.168.60.1\n")
    phone.sh("until getent hosts teslalogger.de >/dev/null; do sleep 0.05; done", timeout=20)
    options = {"ssl_verify_upstream_trusted_ca": test_ca.ca_file}
    if upstream_ip:
        options["smt_upstream_url"] = f"https://{TESLALOGGER}"
    reverse = [
        "--mode",
        "reverse:https://teslalogger.de@443",
        "--mode",
        "reverse:http://teslalogger.de@80",
    ]
    proxy = Mitmdump(
        tmp_path, confdir, options, extra_args=reverse, listen_host="", wrapper=home.command([])
    )
    net.on_close(lambda: stop_proxy(proxy))
    proxy_in(home, proxy, "listening at *:80")

    smt = "https://teslalogger.de"
    ca = ["--cacert", proxy.ca_file]
    assert curl(phone, *ca, "-d", f"t={TOKEN}", f"{smt}/check_token.php") == (200, "OK")
    body = tmp_path / "upload"
    body.write_bytes(upload_body(TOKEN, 1))
    insert = curl(phone, *ca, "--data-binary", f"@{body}", f"{smt}/insert_scanmytesla.php")
    assert insert == (200, "OK")
    poll = curl(phone, "-d", f"t={TOKEN}", "http://teslalogger.de/get_scanmytesla.php")
    assert poll[0] == 200 and TeslaLogger().take(poll[1].encode()) == 7, poll
    wakefile = curl(phone, *ca, f"{smt}/wakefile.php")
    if upstream_ip:
        assert wakefile == (200, "teslalogger.de GET /wakefile.php")
        assert [path for path, _ in stand_ins["teslalogger.de"].requests] == ["/wakefile.php"]
    else:
        assert wakefile[0] == 502 and "set smt_upstream_url to the real server" in wakefile[1]
        assert stand_ins["teslalogger.de"].requests == []
    page = curl(phone, "--cacert", test_ca.ca_file, "https://other.example/page")
    assert page == (200, "other.example GET /page")
    stopped_cleanly(proxy)
