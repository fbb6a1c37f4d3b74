"""smt_upstream=mirror and =passthrough against a fake teslalogger.de on loopback."""

import time
from urllib.parse import quote

import pytest

from support.client import ProxyClient
from support.mitm import Mitmdump
from support.seed import captured_requests
from support.upstream import FakeUpstream, plain_answer

pytestmark = pytest.mark.e2e

SEED = captured_requests()
INSERT = "/insert_scanmytesla.php"


def wait_for(condition, timeout: float = 20.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def upload_raw(n: int, token: str = "mirrortoken") -> bytes:
    m = quote(
        f'{{"d":"2025-02-09T19:33:{n % 60:02d}.{n:06d}+01:00","dict":{{"43":{n}.5}}}}', safe=""
    )
    body = f"t={token}&v=1&m={m}".encode()
    return (
        f"POST {INSERT} HTTP/1.1\r\nConnection: Keep-Alive\r\nHost: teslalogger.de\r\n"
        "User-Agent: Dalvik/2.1.0 (Linux; U; Android 7.0; SM-A310F Build/NRD90M)\r\n"
        f"Content-Length: {len(body)}\r\nAccept-Encoding: identity\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n\r\n"
    ).encode() + body


def body_of(raw: bytes) -> bytes:
    return raw.partition(b"\r\n\r\n")[2]


def mirror_proxy(tmp_path, confdir, upstream_url: str) -> Mitmdump:
    options = {
        "smt_upstream": "mirror",
        "smt_upstream_url": upstream_url,
        "smt_upstream_retry_max": 1,
    }
    return Mitmdump(tmp_path, confdir, options)


def test_mirror_answers_locally_and_forwards_identical_bodies(tmp_path, confdir, upstream):
    with mirror_proxy(tmp_path, confdir, upstream.url) as proxy:
        client = ProxyClient(proxy.port, proxy.ca_file)
        seed = SEED[INSERT].raw()
        assert client.send(seed).body == b"OK"
        wait_for(lambda: upstream.bodies(INSERT), what="delivery")
        (delivered,) = [r for r in upstream.requests if r.path == INSERT]
        assert delivered.body == body_of(seed)  # byte for byte
        for name in ("User-Agent", "Content-Type", "Accept-Encoding", "Host"):
            assert delivered.header(name) == dict(SEED[INSERT].headers)[name]
        # ...and TeslaLogger is still served locally
        poll = client.post("/get_scanmytesla.php", "t=ggdfghjizffc", tls=False)
        assert poll.body.split(b"\r\n")[0].isdigit()
        assert upstream.bodies("/get_scanmytesla.php") == []


def test_mirror_check_token_asks_upstream_then_falls_back(tmp_path, confdir, upstream):
    upstream.responder = lambda r: plain_answer(b"not found")
    with mirror_proxy(tmp_path, confdir, upstream.url) as proxy:
        client = ProxyClient(proxy.port, proxy.ca_file)
        assert client.post("/check_token.php", "t=unknownupstream").body == b"not found"
        assert upstream.bodies("/check_token.php") == [b"t=unknownupstream"]
        upstream.close()  # unreachable now: the local rule (any token) answers
        assert client.post("/check_token.php", "t=unknownupstream").body == b"OK"


def test_outage_with_restart_delivers_everything_in_order_once(tmp_path, confdir):
    probe = FakeUpstream()
    port = probe.port
    probe.close()  # the real server is down from the start
    with mirror_proxy(tmp_path, confdir, f"http://127.0.0.1:{port}") as proxy:
        client = ProxyClient(proxy.port, proxy.ca_file)
        sent = [upload_raw(n) for n in range(30)]
        for raw in sent[:15]:
            assert client.send(raw).body == b"OK"
        proxy.restart()  # during the outage
        for raw in sent[15:]:
            assert client.send(raw).body == b"OK"
        assert "mirror: delivery failed" in proxy.log
        status = mirror_status(proxy)
        assert status["waiting"] == 30 and "no answer" in status["last_error"]
        back = FakeUpstream(port=port)
        try:
            wait_for(lambda: len(back.bodies(INSERT)) >= 30, what="30 deliveries")
            time.sleep(0.5)
            assert back.bodies(INSERT) == [body_of(raw) for raw in sent]  # in order, once each
        finally:
            back.close()
        assert "teslalogger.de answers again" in proxy.log
        wait_for(lambda: mirror_status(proxy)["waiting"] == 0, what="an empty outbox")


def test_refused_upload_is_parked_and_the_rest_flows(tmp_path, confdir, upstream):
    def responder(request):
        if b"%2243%22%3A1.5" in request.body:  # the upload with value 43 = 1.5
            return plain_answer(b"ERROR: refused this one")
        return plain_answer(b"OK")

    upstream.responder = responder
    with mirror_proxy(tmp_path, confdir, upstream.url) as proxy:
        client = ProxyClient(proxy.port, proxy.ca_file)
        for n in range(4):
            assert client.send(upload_raw(n)).body == b"OK"
        wait_for(lambda: len(upstream.bodies(INSERT)) >= 4, what="4 attempts")
        time.sleep(0.3)
        assert len(upstream.bodies(INSERT)) == 4  # the refused one is not retried
        assert "refused upload" in proxy.log and "ERROR: refused this one" in proxy.log
    assert outbox_rows(proxy) == [("ERROR: refused this one",)]  # parked for inspection


def test_overloaded_upstream_keeps_the_upload_waiting(tmp_path, confdir, upstream):
    """`Resource Limit Is Reached` means later, not never: the upload stays queued
    (TeslaLogger's own 25 s pause applies before the next attempt)."""
    upstream.responder = lambda r: plain_answer(
        b"Resource Limit Is Reached", "503 Service Unavailable"
    )
    options = {"smt_upstream": "mirror", "smt_upstream_url": upstream.url}
    with Mitmdump(tmp_path, confdir, options) as proxy:
        client = ProxyClient(proxy.port, proxy.ca_file)
        assert client.send(upload_raw(1)).body == b"OK"
        wait_for(lambda: "overloaded" in proxy.log, what="the overload to be logged")
    assert outbox_rows(proxy) == [(None,)]  # waiting, not rejected


def mirror_status(proxy: Mitmdump) -> dict:
    """What `make status --json` reports, read while the proxy runs."""
    import json
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "storage.status", "--data-dir", str(proxy.data_dir), "--json"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out)["mirror"]


def outbox_rows(proxy: Mitmdump) -> list[tuple]:
    import sqlite3

    db = sqlite3.connect(proxy.data_dir / "teslahome.sqlite3")
    try:
        return db.execute("SELECT rejected FROM outbox ORDER BY id").fetchall()
    finally:
        db.close()


def test_passthrough_is_byte_identical_and_records_the_history(tmp_path, confdir, upstream):
    canned = (
        b"HTTP/1.1 200 OK\r\nDate: Sun, 09 Feb 2025 18:33:05 GMT\r\nServer: Apache\r\n"
        b"X-Powered-By: PHP/7.4\r\nContent-Length: 2\r\n"
        b"Content-Type: text/html; charset=UTF-8\r\n\r\nOK"
    )
    upstream.responder = lambda request: canned
    options = {"smt_upstream": "passthrough", "smt_upstream_url": upstream.url}
    with Mitmdump(tmp_path, confdir, options) as proxy:
        client = ProxyClient(proxy.port, proxy.ca_file)
        for raw in (SEED["/check_token.php"].raw(), SEED[INSERT].raw()):
            assert client.exchange_raw(raw) == canned
            assert upstream.requests[-1].raw == raw
        poll = (
            b"POST /get_scanmytesla.php HTTP/1.1\r\nHost: teslalogger.de\r\n"
            b"Content-Length: 14\r\n\r\nt=ggdfghjizffc"
        )
        assert client.exchange_raw(poll) == canned  # not answered locally either
        assert upstream.requests[-1].raw == poll
        proxy.restart()
    import sqlite3

    db = sqlite3.connect(proxy.data_dir / "teslahome.sqlite3")
    (count,) = db.execute("SELECT count(*) FROM sample").fetchone()
    db.close()
    assert count == 1  # the upload, decoded into the history
