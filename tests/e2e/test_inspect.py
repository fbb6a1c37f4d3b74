"""The content view, marks and the flow limit in real mitmdump and mitmweb processes."""

import asyncio
import csv
import io
import json
import sqlite3
import subprocess
import sys
import urllib.request

import pytest
from mitmproxy.utils.emoji import emoji

from support.client import ProxyClient
from support.mitm import Mitmdump
from support.ports import free_port, wait_for_port
from support.seed import captured_requests
from support.uploads import send_uploads

pytestmark = pytest.mark.e2e

SEED = captured_requests()
WEB_TOKEN = "inspect-test"


def test_mitmdump_detailed_output_shows_decoded_names(tmp_path, confdir, upstream):
    options = {"smt_upstream_url": upstream.url, "flow_detail": 4}
    with Mitmdump(tmp_path, confdir, options) as proxy:
        client = ProxyClient(proxy.port, proxy.ca_file)
        assert client.send(SEED["/insert_scanmytesla.php"].raw()).body == b"OK"
        poll = client.post("/get_scanmytesla.php", {"t": "ggdfghjizffc"}, tls=False)
        assert poll.status == 200
        assert client.post("/insert_scanmytesla.php", "t=abc&m=%7Bnope").status == 400
    log = proxy.log
    assert "ScanMyTesla upload" in log
    assert "ggdfghjizffc" in log
    for name, value, unit in [
        ("Battery power", "1.1858", "kW"),
        ("Rr mech power", "458.5", "kW"),
        ("Speed", "-1.76", "km/h"),
        ("Powertrain flow", "6.3", "L/min"),
    ]:
        lines = [line for line in log.splitlines() if f" {name} " in line]
        assert lines, f"{name} not in the output"
        assert all(value in line and unit in line for line in lines), lines
    assert "SMTBatteryPower" in log
    assert "Hand-out to TeslaLogger" in log  # the poll's answer, decoded too
    assert "ScanMyTesla upload: cannot be decoded" in log
    assert "field m is not JSON" in log


class Web:
    """mitmweb's REST API, authenticated with web_password as a bearer token."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"

    def get(self, path: str):
        request = urllib.request.Request(
            self.base + path, headers={"Authorization": f"Bearer {WEB_TOKEN}"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)

    def flows(self) -> list[dict]:
        return self.get("/flows")


def mitmweb(tmp_path, confdir, upstream, keep: int) -> tuple[Mitmdump, int]:
    web_port = free_port()
    options = {
        "smt_upstream_url": upstream.url,
        "smt_keep_flows": keep,
        "web_port": web_port,
        "web_open_browser": False,
        "web_password": WEB_TOKEN,
    }
    return Mitmdump(tmp_path, confdir, options, tool="mitmweb"), web_port


def test_mitmweb_view_stays_within_the_limit_over_a_long_run(tmp_path, confdir, upstream):
    keep, rounds, per_round = 40, 8, 100
    proxy, web_port = mitmweb(tmp_path, confdir, upstream, keep)
    with proxy:
        wait_for_port(web_port)
        web = Web(web_port)
        for n in range(rounds):
            asyncio.run(
                send_uploads(
                    proxy.port,
                    proxy.ca_file,
                    per_round,
                    token="longrun",
                    first=n * per_round,
                    concurrency=8,
                )
            )
            assert len(web.flows()) <= keep
        client = ProxyClient(proxy.port, proxy.ca_file)
        assert client.post("/wakefile.php", "t=x").status == 200  # forwarded to the fake
        flows = web.flows()
        assert len(flows) == keep  # full, the newest ones
        stored = [f for f in flows if f["request"]["path"] == "/insert_scanmytesla.php"]
        assert len(stored) == keep - 1
        assert all(f["marked"] == emoji[":floppy_disk:"] for f in stored)
        assert all(f["comment"].startswith("stored sample ") for f in stored)
        newest = max(int(f["comment"].split()[2].rstrip(":")) for f in stored)
        assert newest == rounds * per_round
        (forwarded,) = [f for f in flows if f["request"]["path"] == "/wakefile.php"]
        assert forwarded["marked"] == emoji[":arrow_right:"]
        assert forwarded["comment"].startswith("forwarded to http://127.0.0.1:")
        shown = web.get(f"/flows/{stored[0]['id']}/request/content/auto.json")
        assert shown["view_name"] == "ScanMyTesla"
        assert "Battery power" in shown["text"] and "Rr mech power" in shown["text"]
    with sqlite3.connect(proxy.data_dir / "teslahome.sqlite3") as db:
        (count,) = db.execute("SELECT count(*) FROM sample").fetchone()
    assert count == rounds * per_round  # the data stays in storage


def test_mitmweb_without_limit_keeps_every_flow(tmp_path, confdir, upstream):
    proxy, web_port = mitmweb(tmp_path, confdir, upstream, 0)
    with proxy:
        wait_for_port(web_port)
        asyncio.run(send_uploads(proxy.port, proxy.ca_file, 120, concurrency=6))
        assert len(Web(web_port).flows()) == 120


def test_export_and_state_read_beside_the_running_proxy(client, proxy):
    assert client.send(SEED["/insert_scanmytesla.php"].raw()).body == b"OK"
    asyncio.run(send_uploads(proxy.port, proxy.ca_file, 30, token="ggdfghjizffc", concurrency=3))

    def export(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "storage.export", "--data-dir", str(proxy.data_dir), *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return done.stdout

    rows = list(csv.reader(io.StringIO(export("--token", "ggdfghjizffc"))))
    assert "battery_power [kW]" in rows[0] and "rear_power [kW]" in rows[0]
    assert len(rows) == 1 + 31
    assert rows[1][rows[0].index("rear_power [kW]")] == "458.5"  # the seed, exactly
    state = export("--state", "--token", "ggdfghjizffc")
    assert state.startswith("token ggdfghjizffc: 7 values")
    assert "Battery power" in state and "SMTBatteryPower" in state
    assert client.send(SEED["/insert_scanmytesla.php"].raw()).body == b"OK"  # still writing


def test_mitmweb_lists_comments_shows_its_port_and_no_line_it_would_drop(
    tmp_path, confdir, upstream
):
    proxy, web_port = mitmweb(tmp_path, confdir, upstream, 100)
    with proxy:
        wait_for_port(web_port)
        web = Web(web_port)
        client = ProxyClient(proxy.port, proxy.ca_file)
        assert client.send(SEED["/insert_scanmytesla.php"].raw()).body == b"OK"
        assert client.post("/insert_scanmytesla.php", "t=abc&m=%7Bnope").status == 400
        options = web.get("/options.json")
        assert "comment" in options["web_columns"]["value"]
        assert options["listen_port"]["value"] == proxy.port  # the footer's port
        for flow in web.flows():
            text = web.get(f"/flows/{flow['id']}/request/content/auto.json")["text"]
            assert all(line.strip() for line in text.splitlines()), text
            assert max(len(line) for line in text.splitlines()) <= 80, text
