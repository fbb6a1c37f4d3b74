"""The proxy is no way into this host, proven from another host on the LAN.

A LAN device (a network namespace behind a veth pair) sends every kind of
request through teslahome's regular proxy port to this host's own services:
the wallbox API and PostgreSQL, by loopback address, by `localhost`, by a name
the proxy host resolves to loopback (its own /etc/hosts, bind-mounted), and by
this host's LAN address; absolute-form HTTP, CONNECT, and a reverse listener
pointed at the wallbox. Each gets a 403 (the reverse listener, which connects
before it reads a request, a closed connection) and the car is sent nothing. The same
device's ScanMyTesla upload and a request to another Internet host (a stand-in
in a second namespace) still pass.
"""

import sys

import pytest

from support.mitm import Mitmdump
from support.netns import Host, netns_unavailable
from support.ports import free_port, wait_for_port
from support.tesla_sim import Simulator
from support.uploads import upload_body
from support.wallbox_client import FACTOR, Wallbox, wallbox_options

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.netns,
    pytest.mark.skipif(bool(why := netns_unavailable()), reason=why or ""),
]

HOSTS = "127.0.0.1 localhost\n::1 localhost ip6-localhost\n127.0.0.1 rebind.test\n"
POSTGRES = 5432


@pytest.fixture
def lan():
    with Host() as device:
        yield device


@pytest.fixture
def internet(tmp_path):
    """Another host, out there: a plain web server in a namespace of its own."""
    (tmp_path / "www").mkdir()
    (tmp_path / "www" / "hello.txt").write_text("hello from elsewhere")
    with Host() as host:
        port = free_port()
        server = host.popen(
            [sys.executable, "-m", "http.server", "--bind", host.ip, str(port)],
            cwd=tmp_path / "www",
        )
        try:
            wait_for_port(port, host=host.ip)
            host.port = port
            yield host
        finally:
            server.terminate()
            server.wait(10)


@pytest.fixture
def sim(tmp_path):
    with Simulator(tmp_path, time_factor=FACTOR) as simulator:
        yield simulator


def start_proxy(tmp_path, confdir, sim, **options) -> Mitmdump:
    """teslahome listening on every address, resolving names with HOSTS."""
    hosts = tmp_path / "hosts"
    hosts.write_text(HOSTS)
    wallbox, reverse = free_port(), free_port()
    proxy = Mitmdump(
        tmp_path,
        confdir,
        wallbox_options(sim.url, wallbox_host="", wallbox_port=wallbox, **options),
        ready_marker="wallbox API listening",
        listen_host="",
        wrapper=[
            "unshare",
            "-m",
            "sh",
            "-c",
            'mount --bind "$0" /etc/hosts && exec "$@"',
            str(hosts),
        ],
        extra_args=["--mode", f"reverse:http://127.0.0.1:{wallbox}@{reverse}"],
    )
    proxy.reverse_port = reverse
    return proxy


def curl(device: Host, proxy_at: str | None, url: str, *more: str) -> tuple[int, int, str]:
    """(HTTP status, the CONNECT's status or 0, body) of `url` fetched from `device`."""
    args = ["curl", "-sS", "-g", "-m", "20", "-w", "\n%{http_code} %{http_connect}"]
    if proxy_at:
        args += ["-x", f"http://{proxy_at}"]
    done = device.run([*args, *more, url])
    body, _, codes = done.stdout.rpartition("\n")
    status, connect = (int(c) for c in codes.split())
    return status, connect, body


def test_nothing_reaches_this_host_through_the_proxy(tmp_path, confdir, sim, lan, internet):
    with start_proxy(tmp_path, confdir, sim) as proxy:
        wallbox = Wallbox(proxy).ready()
        via = f"{lan.host_ip}:{proxy.port}"
        wb = proxy.wallbox_port
        sim.reset_calls()
        destinations = [
            f"127.0.0.1:{wb}", f"127.1.2.3:{wb}", f"localhost:{wb}", f"[::1]:{wb}",
            f"rebind.test:{wb}", f"{lan.host_ip}:{wb}", f"0.0.0.0:{wb}",
            f"127.0.0.1:{POSTGRES}", f"localhost:{POSTGRES}", f"{lan.host_ip}:{POSTGRES}",
        ]  # fmt: skip
        for where in destinations:
            url = f"http://{where}/tlwb/1/control?0"
            status, _, body = curl(lan, via, url)
            assert status == 403 and "refuses to connect there" in body, (where, status, body)
            _, connect, _ = curl(lan, via, url, "--proxytunnel")
            assert connect == 403, (where, connect)
        # A reverse listener opens its connection before the request: it is closed unused.
        reverse = f"http://{lan.host_ip}:{proxy.reverse_port}/tlwb/1/control?0"
        status, _, body = curl(lan, None, reverse)
        assert status == 0 and body == ""
        assert f"killed before connect: refused by teslahome's host guard: 127.0.0.1:{wb}" in (
            proxy.log
        )

        assert sim.calls()["by_endpoint"].get("charge_stop") is None
        assert sim.car()["commands"] == []
        assert wallbox.status()["status"] != 0  # the car is still there, untouched
        assert proxy.log.count("host guard: refused") >= len(destinations)

        # What the proxy is for still passes: another host, and the phone's upload.
        status, _, body = curl(lan, via, f"http://{internet.ip}:{internet.port}/hello.txt")
        assert (status, body) == (200, "hello from elsewhere")
        status, connect, body = curl(
            lan, via, f"http://{internet.ip}:{internet.port}/hello.txt", "--proxytunnel"
        )
        assert (status, connect, body) == (200, 200, "hello from elsewhere")
        ca = ["--cacert", proxy.ca_file]
        upload = upload_body("1a2b3c4d", 1).decode()
        status, _, body = curl(lan, via, "https://teslalogger.de/check_token.php", *ca,
                               "--data", "t=1a2b3c4d")  # fmt: skip
        assert (status, body) == (200, "OK")
        status, _, body = curl(lan, via, "https://teslalogger.de/insert_scanmytesla.php", *ca,
                               "--data", upload)  # fmt: skip
        assert (status, body) == (200, "OK")
        status, _, body = curl(lan, via, "http://teslalogger.de/get_scanmytesla.php",
                               "--data", "t=1a2b3c4d")  # fmt: skip
        assert status == 200 and '"415":0.5' in body.splitlines()[2], body  # the upload

        # The wallbox API itself, asked directly from the LAN, wants its secret.
        status, _, _ = curl(lan, None, f"http://{lan.host_ip}:{wb}/tlwb/1/control?0")
        assert status == 401
        assert sim.car()["commands"] == []


def test_an_allowed_loopback_destination_is_still_no_local_client(tmp_path, confdir, sim, lan):
    """host_guard_allow lets the proxy reach the wallbox port; the API still asks
    the proxy's connection for the secret, as it would ask the device itself."""
    with Mitmdump(
        tmp_path,
        confdir,
        wallbox_options(sim.url, host_guard_allow=["127.0.0.0/8"]),
        ready_marker="wallbox API listening",
        listen_host="",
    ) as proxy:
        Wallbox(proxy).ready()
        sim.reset_calls()
        via = f"{lan.host_ip}:{proxy.port}"
        for host in ("127.0.0.1", "[::ffff:127.0.0.1]"):  # the second: IPv6 to the IPv4 socket
            url = f"http://{host}:{proxy.wallbox_port}/tlwb/1/control?0"
            for extra in ([], ["--proxytunnel"]):
                status, _, body = curl(lan, via, url, *extra)
                assert status == 401 and "needs the wallbox secret" in body, (url, body)
        assert sim.car()["commands"] == []
