"""ScanMyTesla and TeslaLogger against a real mitmdump process."""

import json
import socket
import ssl
import time

import pytest

from support.client import ProxyClient
from support.mitm import Mitmdump
from support.seed import captured_requests
from support.upstream import FakeUpstream, plain_answer

pytestmark = pytest.mark.e2e

SEED = captured_requests()
SEED_VALUES = {
    "415": 458.5,
    "442": -1.759999999999998,
    "426": -673.75681818182375,
    "43": 1.1858120000000085,
    "404": 6.4,
    "445": 6.3000000000000007,
    "444": 6.3000000000000007,
}


def poll(client: ProxyClient, token: str):
    """What TeslaLogger sends: plain HTTP, Connection: close."""
    return client.post("/get_scanmytesla.php", {"t": token}, tls=False)


def parse_handout(body: bytes) -> dict:
    handout_id, date, payload = body.split(b"\r\n", 2)
    assert handout_id.isdigit() and len(date) == 19
    return json.loads(payload)


def test_seed_capture_replayed_byte_for_byte(client, upstream):
    check = client.send(SEED["/check_token.php"].raw())
    assert (check.status, check.body) == (200, b"OK")

    insert = client.send(SEED["/insert_scanmytesla.php"].raw())
    assert (insert.status, insert.body) == (200, b"OK")

    first = poll(client, "ggdfghjizffc")
    assert first.status == 200
    doc = parse_handout(first.body)
    assert doc["d"] == "2025-02-09T19:33:19.697553+01:00"
    assert doc["dict"] == SEED_VALUES  # the same doubles, whatever their spelling

    second = poll(client, "ggdfghjizffc")
    assert second.body == b"not found"
    assert upstream.requests == []  # answered locally, nothing went out


def test_check_token_with_configured_tokens(tmp_path, confdir, upstream):
    options = {"smt_upstream_url": upstream.url, "smt_tokens": ["1a2b3c4d", "car2"]}
    with Mitmdump(tmp_path, confdir, options) as proxy:
        client = ProxyClient(proxy.port, proxy.ca_file)
        assert client.post("/check_token.php", "t=1a2b3c4d").body == b"OK"
        assert client.post("/check_token.php", "t=car2").body == b"OK"
        assert client.post("/check_token.php", "t=stranger").body == b"not found"
        refused = client.post("/insert_scanmytesla.php", SEED["/insert_scanmytesla.php"].body)
        assert refused.status == 403 and refused.body.startswith(b"ERROR: ")
        assert poll(client, "stranger").body == b"not found"


@pytest.mark.parametrize(
    "method, path, body, status, reason",
    [
        ("GET", "/insert_scanmytesla.php", b"", 405, b"use POST"),
        ("PUT", "/get_scanmytesla.php", b"t=abc", 405, b"use POST"),
        ("POST", "/check_token.php", b"", 400, b"missing token"),
        ("POST", "/get_scanmytesla.php", b"t=", 400, b"missing token"),
        ("POST", "/insert_scanmytesla.php", b"t=abc&m=%7B%zz", 400, b"percent-escape"),
        ("POST", "/insert_scanmytesla.php", b"t=abc&m=%7Bnope", 400, b"not JSON"),
        ("POST", "/insert_scanmytesla.php", b"t=abc&v=1", 400, b"missing field m"),
        (
            "POST",
            "/insert_scanmytesla.php",
            b"t=abc&m=%7B%22d%22%3A%222025-02-09T19%3A33%3A19Z%22%2C%22dict%22%3A%7B%22x%22%3A1%7D%7D",
            400,
            b"is not a number",
        ),
    ],
)
def test_malformed_requests_get_a_clear_error_and_the_proxy_keeps_serving(
    client, proxy, method, path, body, status, reason
):
    reply = client.post(path, body, method=method)
    assert reply.status == status
    assert reply.body.startswith(b"ERROR: ") and reason in reply.body
    assert reason.decode() in proxy.log  # logged
    assert client.send(SEED["/insert_scanmytesla.php"].raw()).body == b"OK"
    assert poll(client, "ggdfghjizffc").status == 200


def test_large_body_is_refused_with_413(client):
    reply = client.post("/insert_scanmytesla.php", b"t=abc&m=" + b"7" * (2 << 20))
    assert reply.status == 413 and reply.body.startswith(b"ERROR: body of")


def test_huge_body_is_cut_off_unread_and_the_proxy_keeps_serving(proxy):
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as sock:
        sock.sendall(b"CONNECT teslalogger.de:443 HTTP/1.1\r\nHost: teslalogger.de:443\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        context = ssl.create_default_context(cafile=proxy.ca_file)
        with context.wrap_socket(sock, server_hostname="teslalogger.de") as tls:
            tls.sendall(
                b"POST /insert_scanmytesla.php HTTP/1.1\r\nHost: teslalogger.de\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\n"
                b"Content-Length: 500000000\r\n\r\nt=abc&m="
            )
            assert tls.recv(4096) == b""  # closed, nothing buffered
    assert "far over the" in proxy.log
    assert ProxyClient(proxy.port, proxy.ca_file).post("/check_token.php", "t=abc").body == b"OK"


def test_acknowledged_samples_survive_a_restart(client, proxy):
    for second in range(5):
        m = (
            "%7B%22d%22%3A%222025-02-09T19%3A33%3A1" + str(second) + ".5%2B01%3A00%22%2C"
            "%22dict%22%3A%7B%22" + str(100 + second) + "%22%3A" + str(second) + ".25%7D%7D"
        )
        assert client.post("/insert_scanmytesla.php", f"t=carA&v=1&m={m}").body == b"OK"
    assert proxy.stop() == 0
    proxy.start()
    doc = parse_handout(poll(client, "carA").body)
    assert doc["d"] == "2025-02-09T19:33:14.5+01:00"
    assert doc["dict"] == {str(100 + s): s + 0.25 for s in range(5)}
    assert poll(client, "carA").body == b"not found"


def test_other_teslalogger_paths_are_forwarded_untouched(client, upstream):
    upstream.responder = lambda request: plain_answer(b"refreshed", extra="X-Real: yes\r\n")
    raw = (
        b"POST /teslaredirect/refresh_token.php?x=1 HTTP/1.1\r\nHost: teslalogger.de\r\n"
        b"User-Agent: Teslalogger/1.0\r\nContent-Type: application/json\r\n"
        b'Content-Length: 15\r\n\r\n{"token":"abc"}'
    )
    reply = client.send(raw)
    assert (reply.status, reply.body, reply.header("X-Real")) == (200, b"refreshed", "yes")
    (seen,) = upstream.requests
    assert seen.method == "POST" and seen.path == "/teslaredirect/refresh_token.php?x=1"
    assert seen.header("Host") == "teslalogger.de"
    assert seen.body == b'{"token":"abc"}'


def test_other_hosts_keep_their_own_tls(tmp_path, confdir, upstream, test_ca):
    """allow_hosts: TLS to anything but teslalogger.de is tunnelled, not intercepted.
    (The stand-in for another host listens on loopback, so the host guard lets it be.)"""
    server = FakeUpstream(tls=test_ca.server_context("example.org"))
    options = {"smt_upstream_url": upstream.url, "host_guard_allow": f"127.0.0.1:{server.port}"}
    try:
        with Mitmdump(tmp_path, confdir, options) as proxy:
            client = ProxyClient(proxy.port, test_ca.ca_file)  # the real CA only, not the proxy's
            reply = client.send(
                b"GET / HTTP/1.1\r\nHost: example.org\r\n\r\n",
                host="127.0.0.1",
                port=server.port,
                sni="example.org",
            )
        assert reply.body == b"OK"  # the handshake verified the server's own certificate
        assert server.sni == ["example.org"]
    finally:
        server.close()


def test_https_upstream_by_ip_still_names_teslalogger(tmp_path, confdir, test_ca):
    """For a router DNS override: forward to an IP, keep SNI and Host teslalogger.de."""
    real = FakeUpstream(
        responder=lambda r: plain_answer(b"real"), tls=test_ca.server_context("teslalogger.de")
    )
    options = {
        "smt_upstream_url": f"https://127.0.0.1:{real.port}",
        "ssl_verify_upstream_trusted_ca": test_ca.ca_file,
    }
    try:
        with Mitmdump(tmp_path, confdir, options) as proxy:
            client = ProxyClient(proxy.port, proxy.ca_file)
            assert client.post("/share_abc.php", "x=1").body == b"real"
    finally:
        real.close()
    assert real.sni == ["teslalogger.de"]
    assert real.requests[0].header("Host") == "teslalogger.de"


def test_forwarding_to_itself_is_refused_not_looped(tmp_path, confdir):
    with Mitmdump(tmp_path, confdir) as proxy:
        proxy.options["smt_upstream_url"] = f"http://127.0.0.1:{proxy.port}"
        proxy.restart()
        client = ProxyClient(proxy.port, proxy.ca_file)
        started = time.monotonic()
        reply = client.post("/wakefile.php", "t=x")
        assert reply.status == 502
        assert b"is this proxy itself" in reply.body
        assert time.monotonic() - started < 5
        assert client.post("/check_token.php", "t=abc").body == b"OK"


def test_reverse_mode_listener_answers_the_same(tmp_path, confdir, upstream):
    """A router DNS override sends the phone straight to a reverse-mode listener."""
    from support.ports import free_port

    reverse_port = free_port()
    proxy = Mitmdump(
        tmp_path,
        confdir,
        {"smt_upstream_url": upstream.url},
        extra_args=["--mode", f"reverse:https://teslalogger.de@{reverse_port}"],
    )
    with proxy:
        context = ssl.create_default_context(cafile=proxy.ca_file)
        with socket.create_connection(("127.0.0.1", reverse_port), timeout=10) as sock:
            with context.wrap_socket(sock, server_hostname="teslalogger.de") as tls:
                tls.sendall(SEED["/check_token.php"].raw())
                from support.client import read_reply

                assert read_reply(tls).body == b"OK"
        with socket.create_connection(("127.0.0.1", reverse_port), timeout=10) as sock:
            with context.wrap_socket(sock, server_hostname="teslalogger.de") as tls:
                tls.sendall(b"GET /tasker_date.php HTTP/1.1\r\nHost: teslalogger.de\r\n\r\n")
                from support.client import read_reply

                assert read_reply(tls).body == b"OK"
        assert upstream.requests[0].path == "/tasker_date.php"


def test_passthrough_client_keeps_the_real_certificate_and_its_polls_are_answered(
    tmp_path, confdir, test_ca
):
    """TeslaLogger's host: HTTPS to teslalogger.de tunnelled, plain-HTTP polls answered."""
    real = FakeUpstream(
        responder=lambda r: plain_answer(b"real server"),
        tls=test_ca.server_context("teslalogger.de"),
    )
    options = {
        "smt_upstream_url": f"https://127.0.0.1:{real.port}",
        "smt_tls_passthrough_clients": ["127.0.0.0/8"],
    }
    try:
        with Mitmdump(tmp_path, confdir, options) as proxy:
            teslalogger = ProxyClient(proxy.port, test_ca.ca_file)  # trusts only the real CA
            reply = teslalogger.post("/teslaredirect/refresh_token.php", "x=1")
            assert reply.body == b"real server"
            assert poll(teslalogger, "abc").body == b"not found"
    finally:
        real.close()
    assert real.sni == ["teslalogger.de"]


def test_the_addons_also_load_under_mitmweb(tmp_path, confdir, upstream):
    """mitmweb has more built-in addons than mitmdump (intercept, view, ...): no name clashes."""
    from support.ports import free_port

    web = Mitmdump(
        tmp_path,
        confdir,
        {"smt_upstream_url": upstream.url},
        tool="mitmweb",
        extra_args=["--set", f"web_port={free_port()}", "--set", "web_open_browser=false"],
    )
    with web:
        client = ProxyClient(web.port, web.ca_file)
        assert client.post("/check_token.php", "t=abc").body == b"OK"


def smt_upload(token: str, d: str, values: dict[str, float]) -> str:
    from urllib.parse import quote

    m = json.dumps({"d": d, "dict": values}, separators=(",", ":"))
    return f"t={token}&v=1&m={quote(m, safe='')}"


def test_a_burst_with_an_id_teslalogger_cannot_store_loses_none_of_the_others(client, proxy):
    """Issue 17: id 9,000,000 (over TeslaLogger's mediumint) next to ordinary ids,
    five uploads a second in `Z` spelling, polled every fourth upload as
    TeslaLogger polls: every hand-out is stored whole, the big id never arrives."""
    from datetime import UTC, datetime, timedelta

    from support.teslalogger import TeslaLogger

    teslalogger = TeslaLogger()
    start = datetime(2025, 2, 9, 18, 0, tzinfo=UTC)
    handed_out = []
    for i in range(24):
        d = (start + timedelta(milliseconds=200 * i)).isoformat(timespec="microseconds")
        d = d.replace("+00:00", "Z")
        values = {"43": i * 0.5, "442": 80.0 + i, "9000000": float(i)}
        assert client.post("/insert_scanmytesla.php", smt_upload("burst", d, values)).body == b"OK"
        if i % 4 == 3:
            body = poll(client, "burst").body
            handed_out.append(parse_handout(body)["d"])
            assert teslalogger.take(body) == 2  # 43 and 442, stored without a hitch
    assert teslalogger.values(43)[-1] == 23 * 0.5 and teslalogger.values(442)[-1] == 103.0
    assert all(value_id != 9_000_000 for _, value_id in teslalogger.can)
    assert len(set(teslalogger.datums)) == len(handed_out) == 6
    assert all(d.endswith("Z") and len(d) == len("2025-02-09T18:00:00.000000Z") for d in handed_out)
    assert "9000000" in proxy.log and "never handed to TeslaLogger" in proxy.log

    only_big = smt_upload("burst", "2025-02-09T18:00:10.000000Z", {"9000000": 1.0})
    assert client.post("/insert_scanmytesla.php", only_big).body == b"OK"
    assert poll(client, "burst").body == b"not found"
    assert poll(client, "burst").body == b"not found"


def test_a_phone_clock_that_goes_back_is_filed_at_its_own_time(client):
    from support.teslalogger import TeslaLogger

    teslalogger = TeslaLogger()
    for d in (
        "2025-02-09T19:33:19.697553+01:00",
        "2025-02-09T19:32:19.100000+01:00",  # a minute back: that second is free
        "2025-02-09T19:33:19.900000+01:00",  # the first hand-out's second: taken
    ):
        assert client.post("/insert_scanmytesla.php", smt_upload("clock", d, {"43": 1.0})).body
        assert teslalogger.take(poll(client, "clock").body) == 1
    assert teslalogger.datums == [
        "2025-02-09 19:33:19",
        "2025-02-09 19:32:19",
        "2025-02-09 19:33:20",
    ]
