"""The status page (wallbox/api/page.py) in a real headless Chromium, against a
real mitmdump and the car simulator: live without a reload, offline, behind
the secret for other hosts, and laid out without overlaps on a phone and a desktop."""

import base64
import json
import socket
import urllib.error
import urllib.request

import pytest

from support.browser import LAYOUT_FAULTS, Browser
from support.client import ProxyClient
from support.mitm import Mitmdump
from support.tesla_sim import Simulator, until
from support.uploads import upload_body
from support.wallbox_client import FACTOR, Wallbox, wallbox_options

pytestmark = pytest.mark.e2e

TOKEN = "pagetoken1"


@pytest.fixture
def sim(tmp_path):
    with Simulator(tmp_path, time_factor=FACTOR, asleep=True) as simulator:
        yield simulator


@pytest.fixture
def wallbox(tmp_path, confdir, sim):
    options = wallbox_options(sim.url)
    with Mitmdump(tmp_path, confdir, options, ready_marker="wallbox API listening") as proxy:
        yield Wallbox(proxy).ready()


@pytest.fixture
def browser(tmp_path):
    with Browser(tmp_path) as chromium:
        yield chromium


def opened(browser: Browser, wallbox: Wallbox) -> Browser:
    browser.open(wallbox.base + "/")
    until(lambda: browser.js("return window.teslahome.summaries") > 0, 20, what="the first summary")
    browser.js("window.notReloaded = true")  # gone if the page were loaded again
    return browser


def row(browser: Browser, card: str, label: str) -> str | None:
    """The value beside `label` in a card, as the page shows it."""
    return browser.js(
        "const dts = document.querySelectorAll(arguments[0] + ' dt');"
        "const dt = [...dts].find(d => d.textContent === arguments[1]);"
        "return dt ? dt.nextElementSibling.textContent : null;",
        card,
        label,
    )


def upload(wallbox: Wallbox, i: int) -> None:
    client = ProxyClient(wallbox.proxy.port, wallbox.proxy.ca_file)
    reply = client.post("/insert_scanmytesla.php", upload_body(TOKEN, i, (43, 23, 5, 7, 2)))
    assert (reply.status, reply.body) == (200, b"OK")


def test_a_phone_upload_appears_without_a_reload(browser, wallbox):
    opened(browser, wallbox)
    assert "no upload yet" not in browser.text("#sections")
    upload(wallbox, 1)
    card = f"#token-{TOKEN}"
    # the stream looks once a second: the upload shows within two
    until(lambda: row(browser, card, "Uploads today") == "1", 2.0, what="the upload on the page")
    assert "uploading: last" in browser.text(card)
    upload(wallbox, 2)
    until(lambda: row(browser, card, "Uploads today") == "2", 2.0, what="the second upload")
    points = until(lambda: browser.js(f"return window.teslahome.data['capture-{TOKEN}']"), 5)
    assert len(points) == 6 and points[1][-1] is not None  # time and five values, drawn
    assert browser.js("return window.notReloaded") is True
    assert row(browser, card, "TeslaLogger's last poll") == "not since teslahome started"
    client = ProxyClient(wallbox.proxy.port, wallbox.proxy.ca_file)
    assert client.post("/get_scanmytesla.php", {"t": TOKEN}, tls=False).status == 200
    upload(wallbox, 3)  # news for the open page
    until(lambda: row(browser, card, "TeslaLogger's last poll").endswith("s ago"), 5,
          what="TeslaLogger's poll on the page")  # fmt: skip


def test_a_car_starting_to_charge_shows_in_status_and_chart(browser, wallbox, sim):
    opened(browser, wallbox)
    until(lambda: "Sim 1" in browser.text("#car-1"), 10, what="the car's card")
    assert "charging" not in browser.text("#car-1 .headline")
    code, _ = wallbox.get("/tlwb/1?control=1&set_amps=16")
    assert code == 200
    until(lambda: sim.car()["charging"], 20, what="the simulator charging")
    until(lambda: "3 C · charging" in browser.text("#car-1 .headline"), 10, what="status 3 C")
    assert "127.0.0.1 (Python-urllib)" in browser.text("#car-1")  # who asked, and what

    def charging_power():
        data = browser.js("return window.teslahome.data['car-1']")
        return data and max((p or 0) for p in data[2]) > 0

    until(charging_power, 10, what="the charging power in the chart")
    assert browser.js("return !!window.teslahome.charts['car-1'].root.isConnected")
    assert browser.js("return window.notReloaded") is True


def test_the_page_works_offline(browser, wallbox):
    """Chromium here resolves no name and has no proxy: everything comes from teslahome."""
    opened(browser, wallbox)
    until(lambda: browser.js("return !!window.uPlot && !!document.querySelector('.uplot')"), 10,
          what="a chart drawn by the vendored uPlot")  # fmt: skip
    loaded = browser.js("return performance.getEntriesByType('resource').map(e => e.name)")
    assert loaded and all(url.startswith(wallbox.base + "/") for url in loaded), loaded
    failed = [e for e in browser.driver.get_log("browser") if e["level"] == "SEVERE"]
    assert not failed, failed


@pytest.mark.parametrize("width", [390, 1400])
def test_nothing_overlaps_or_is_cut_off(browser, wallbox, tmp_path, width):
    upload(wallbox, 1)
    wallbox.get("/tlwb/1/control?1")
    browser.resize(width)
    opened(browser, wallbox)
    until(lambda: browser.js("return document.querySelectorAll('.uplot').length") >= 2, 15,
          what="both charts")  # fmt: skip
    until(lambda: "charging" in browser.text("#car-1 .headline"), 20, what="the car charging")
    assert abs(browser.viewport_width() - width) < 30  # the window is what it says
    shot = browser.screenshot(tmp_path / f"status-page-{width}.png")
    faults = browser.js(LAYOUT_FAULTS)
    assert faults == [], f"{faults} (see {shot})"


def non_loopback_address() -> str | None:
    """This host's address on its default route: a client there is not loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # sends nothing: only asks for the route's source
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def test_other_hosts_are_asked_for_the_secret_by_basic_auth(tmp_path, confdir, sim):
    address = non_loopback_address()
    assert address is not None, "this host has no non-loopback address to test from"
    options = wallbox_options(sim.url, wallbox_host=address)
    with Mitmdump(tmp_path, confdir, options, ready_marker="wallbox API listening") as proxy:
        base = f"http://{address}:{proxy.wallbox_port}"
        secret = (proxy.data_dir / "wallbox_token").read_text().strip()
        for path in ("/", "/page/page.js", "/page/state", "/page/events"):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(base + path, timeout=10)
            assert refused.value.code == 401
            assert refused.value.headers["WWW-Authenticate"].startswith("Basic ")
            assert secret not in refused.value.read().decode()
        basic = base64.b64encode(f"any:{secret}".encode()).decode()
        asked = urllib.request.Request(
            base + "/page/state", headers={"Authorization": f"Basic {basic}"}
        )
        with urllib.request.urlopen(asked, timeout=10) as answer:
            assert answer.status == 200 and secret not in answer.read().decode()
        # A browser there, given the secret as Basic's password, gets the live page.
        with Browser(tmp_path, also=(address,)) as remote:
            remote.open(f"http://any:{secret}@{address}:{proxy.wallbox_port}/")
            until(lambda: remote.js("return window.teslahome.summaries") >= 2, 10,
                  what="the live page on another host")  # fmt: skip
            assert secret not in remote.driver.page_source


def test_the_charts_and_commands_survive_a_restart(wallbox, sim):
    assert wallbox.get("/tlwb/1/control?1")[0] == 200
    until(lambda: sim.car()["charging"], 20, what="the simulator charging")
    first = until(lambda: wallbox.get("/page/state")[1]["data"]["car-1"][0][0], 10)
    until(lambda: any(wallbox.get("/page/state")[1]["data"]["car-1"][2]), 10, what="power")
    assert wallbox.proxy.stop() == 0
    kept = json.loads((wallbox.proxy.data_dir / "wallbox_history.json").read_text())
    ((vin, points),) = kept["cars"].items()
    assert vin == sim.car()["vin"] and abs(points[0][0] - first) < 0.1  # the chart, whole
    assert any(p[2] for p in points)  # with the charging power
    # Restored, these points would be ahead of the restarted clock (wallbox_time_factor
    # runs it fast) and are left out (test_page_history.py); the commands are not.
    wallbox.proxy.start()
    state = wallbox.ready().get("/page/state")[1]
    car = next(c for c in state["sections"][1]["cards"] if c["id"] == "car-1")
    assert any(k == "Asked" and v.startswith("control 1 ") for k, v in car["rows"]), car


def test_the_mirror_card_shows_its_deliveries(tmp_path, confdir, sim, upstream):
    options = wallbox_options(
        sim.url, smt_upstream="mirror", smt_upstream_url=upstream.url, smt_upstream_retry_max=1
    )
    with Mitmdump(tmp_path, confdir, options, ready_marker="wallbox API listening") as proxy:
        wallbox = Wallbox(proxy).ready()
        upload(wallbox, 1)
        until(lambda: upstream.bodies("/insert_scanmytesla.php"), 20, what="the delivery")

        def mirror() -> dict:
            state = wallbox.get("/page/state")[1]
            return next(c for c in state["sections"][0]["cards"] if c["id"] == "mirror")

        card = until(lambda: (c := mirror())["headline"] == "mirror: nothing waiting" and c, 10)
        assert dict(card["rows"])["Delivered"].endswith("s ago"), card
