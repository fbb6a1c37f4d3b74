"""TeslaMate end to end: a real mitmdump with every addon, the car simulator as a process,
a fake TeslaMate publishing the simulated car to the real Mosquitto (its own namespace per
test), and TeslaMate's tokens in a throwaway database of the real PostgreSQL.

Clocks run 20 times faster (wallbox_time_factor, the simulator's --time-factor):
teslamate_silence_s=60 is 3 s of real time.
"""

import time
import uuid

import pytest

from support.fake_teslamate import TeslaMateMirror
from support.feed_checks import asleep_through_the_silence, drive_on_the_feed
from support.mitm import Mitmdump
from support.slow_link import SlowLink
from support.tesla_sim import Simulator, until
from support.teslamate_db import access_token
from support.wallbox_client import FACTOR, Wallbox, wallbox_options

pytestmark = [pytest.mark.e2e, pytest.mark.service]

SILENCE_S = 60
KEY = "teslamate-encryption-key"


def telemetry_options(broker, namespace: str, **more) -> dict:
    return {
        "teslamate_mqtt_url": f"mqtt://{broker.url.host}:{broker.url.port}",
        "teslamate_namespace": namespace,
        "teslamate_silence_s": SILENCE_S,
        **more,
    }


@pytest.fixture
def sim(tmp_path):
    with Simulator(tmp_path, time_factor=FACTOR) as simulator:
        yield simulator


@pytest.fixture
def namespace() -> str:
    return f"teslahome-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def teslamate(broker, sim, namespace):
    with TeslaMateMirror(broker, sim.url, sim.car()["vin"], namespace=namespace) as mirror:
        yield mirror


@pytest.fixture
def poll_charging() -> int:
    return 30  # simulated seconds; a test that must tell the loss's read from a poll raises it


@pytest.fixture
def wallbox(tmp_path, confdir, sim, broker, namespace, teslamate, poll_charging):
    options = wallbox_options(
        sim.url, wallbox_poll_charging=poll_charging, **telemetry_options(broker, namespace)
    )
    with Mitmdump(tmp_path, confdir, options, ready_marker="wallbox API listening at") as proxy:
        yield Wallbox(proxy).ready()


def test_the_status_follows_teslamate_and_the_car_is_never_read(wallbox, sim):
    status = wallbox.wait_source("teslamate")
    assert status["telemetry"]["reason"].startswith("TeslaMate is connected")
    sim.reset_calls()
    drive_on_the_feed(wallbox, sim, "TeslaMate")
    assert [c[1] for c in sim.car()["commands"]] == ["charge_start", "set_charging_amps"]
    sim.patch({"plugged_in": False})
    body = wallbox.wait_status(0, 10)
    assert body["plugged_in"] is False and body["telemetry"]["source"] == "teslamate"
    assert sim.reads() == 0
    assert "charge state from TeslaMate now, no Tesla API reads" in wallbox.proxy.log


def test_healthy_false_and_silence_each_fall_back_and_recover(wallbox, sim, teslamate):
    wallbox.wait_source("teslamate")
    assert wallbox.get("/tlwb/1/control?1&wait=120")[0] == 200
    sim.reset_calls()

    teslamate.healthy = False
    status = wallbox.wait_source("tesla_api")
    assert "healthy=false" in status["telemetry"]["reason"]
    until(lambda: sim.reads() >= 2, 20, what="API reads of the charging car")
    teslamate.healthy = True
    wallbox.wait_source("teslamate")
    time.sleep(1)  # a read under way when TeslaMate came back may still end
    reads = sim.reads()
    time.sleep(4)  # 80 simulated seconds: more than two polls
    assert sim.reads() == reads

    teslamate.silent.set()
    started = time.monotonic()
    status = wallbox.wait_source("tesla_api")
    assert "silent for" in status["telemetry"]["reason"]
    assert time.monotonic() - started >= SILENCE_S / FACTOR - 1.5
    until(lambda: sim.reads() > reads, 20, what="API reads during the silence")
    teslamate.silent.clear()  # the charging car changes: TeslaMate publishes again
    wallbox.wait_source("teslamate")

    log = wallbox.proxy.log
    assert log.count("falling back to Tesla API reads") == 2
    assert "falling back to Tesla API reads: TeslaMate reports healthy=false" in log
    assert "while charging (limit 60 s)" in log


def test_a_restart_with_retained_healthy_telemetry_reads_nothing(
    tmp_path, confdir, sim, broker, namespace, teslamate
):
    until(lambda: teslamate.bursts > 0, 10, what="TeslaMate's retained values")
    slow = SlowLink(broker.url.host, broker.url.port, 0.1)  # the car list comes first
    telemetry = telemetry_options(broker, namespace) | {"teslamate_mqtt_url": f"mqtt://{slow.url}"}
    options = wallbox_options(sim.url, **telemetry)
    try:
        with Mitmdump(tmp_path, confdir, options, ready_marker="wallbox API listening") as proxy:
            wallbox = Wallbox(proxy).ready()
            for _ in range(2):  # the first start, and a restart
                wallbox.wait_source("teslamate")
                time.sleep(3)  # 60 simulated seconds: a look at an idle car would have come
                calls = sim.calls()["by_endpoint"]
                assert calls.get("vehicle_data", 0) == 0 and calls.get("summary", 0) == 0, calls
                proxy.restart()
                wallbox.ready()
    finally:
        slow.close()


@pytest.mark.parametrize("poll_charging", [7200])  # no poll in the test: the loss must read
def test_healthy_false_brings_the_apis_values_at_once(wallbox, sim, teslamate):
    wallbox.wait_source("teslamate")
    assert wallbox.get("/tlwb/1/control?1&wait=120")[0] == 200
    teslamate.silent.set()
    time.sleep(0.5)  # its last burst is out
    sim.reset_calls()  # a read at start, before TeslaMate's retained values came, is history
    sim.patch({"soc": 61})  # what only the Tesla API will tell now
    teslamate.say("healthy", "false")
    body = until(lambda: (s := wallbox.status())["soc"] == 61 and s, 30, what="the API's SoC")
    assert body["telemetry"]["source"] == "tesla_api" and sim.reads() == 1, sim.calls()


def test_a_sleeping_car_stays_on_teslamate_through_the_silence(wallbox, sim, teslamate):
    asleep_through_the_silence(wallbox, sim, teslamate.silent, "teslamate", SILENCE_S / FACTOR * 2)


# --- tokens -------------------------------------------------------------------------


def token_options(sim, teslamate_db, test_ca, key: str) -> dict:
    return {
        **wallbox_options(sim.url),
        "tesla_api_ca_file": test_ca.ca_file,
        "teslamate_db_url": teslamate_db.dsn,
        "teslamate_encryption_key": key,
    }


def test_teslamates_decrypted_token_reaches_the_api(tmp_path, confdir, teslamate_db, test_ca):
    token = access_token("e2e")
    teslamate_db.create_tokens_table()
    teslamate_db.store_tokens(token, "refresh-e2e", KEY)
    with Simulator(tmp_path, time_factor=FACTOR, tls=test_ca, tokens=[token]) as sim:
        options = token_options(sim, teslamate_db, test_ca, KEY)
        with Mitmdump(tmp_path, confdir, options, ready_marker="wallbox API listening") as proxy:
            wallbox = Wallbox(proxy).ready()
            assert wallbox.get("/tlwb/1/control?1&wait=120")[0] == 200
            calls = sim.calls()
            assert list(calls["bearer"]) == [token] and calls["by_endpoint"].get("token") is None
            assert "tokens: TeslaMate's database (127.0.0.1:5432/" in proxy.log
            assert token not in proxy.log and "refresh-e2e" not in proxy.log


def test_a_wrong_encryption_key_fails_clearly(tmp_path, confdir, teslamate_db, test_ca):
    teslamate_db.create_tokens_table()
    teslamate_db.store_tokens(access_token("x"), "r", KEY)
    with Simulator(tmp_path, time_factor=FACTOR, tls=test_ca) as sim:
        options = token_options(sim, teslamate_db, test_ca, "not-the-key")
        with Mitmdump(tmp_path, confdir, options, ready_marker="wallbox API listening") as proxy:
            wallbox = Wallbox(proxy)
            code, body = wallbox.first_verdict()
            assert code == 503
            assert (
                "teslamate_encryption_key does not decrypt TeslaMate's access token"
                in (body["error"])
            )
            time.sleep(7)  # the car list is retried every 60 simulated seconds
            assert proxy.log.count("Tesla API tokens: teslamate_encryption_key") == 1
            assert sim.calls()["total"] == 0  # nothing was sent without a token


@pytest.mark.parametrize("email", ["", "owner@example.com"])
def test_an_opaque_teslamate_token_lists_the_cars_over_https(
    tmp_path, confdir, teslamate_db, test_ca, email
):
    """Issue 18: TeslaMate stores no expiry, and its token need not be a JWT (Owner API
    tokens were `qts-…`/`eu-…`/`cn-…`, relays issue their own): the car list still loads."""
    token = "qts-" + uuid.uuid4().hex * 2
    teslamate_db.create_tokens_table()
    teslamate_db.store_tokens(token, "refresh-opaque", KEY)
    with Simulator(tmp_path, time_factor=FACTOR, tls=test_ca, tokens=[token]) as sim:
        options = token_options(sim, teslamate_db, test_ca, KEY) | {"tesla_email": email}
        with Mitmdump(tmp_path, confdir, options, ready_marker="wallbox API listening") as proxy:
            wallbox = Wallbox(proxy).ready()
            assert wallbox.get("/tlwb/1/control?1&wait=120")[0] == 200
            calls = sim.calls()
            assert list(calls["bearer"]) == [token] and calls["by_endpoint"].get("token") is None
            assert token not in proxy.log and "refresh-opaque" not in proxy.log


def test_a_token_the_api_refuses_says_so_and_is_never_refreshed_or_written(
    tmp_path, confdir, teslamate_db, test_ca
):
    token = access_token("revoked")
    teslamate_db.create_tokens_table()
    teslamate_db.store_tokens(token, "refresh-revoked", KEY)
    before = teslamate_db.rows()
    with Simulator(tmp_path, time_factor=FACTOR, tls=test_ca, tokens=["another"]) as sim:
        options = token_options(sim, teslamate_db, test_ca, KEY)
        with Mitmdump(tmp_path, confdir, options, ready_marker="wallbox API listening") as proxy:
            code, body = Wallbox(proxy).first_verdict()
            assert code == 503
            assert "localhost refused TeslaMate's token (HTTP 401)" in body["error"]
            assert "sign in to TeslaMate again" in body["error"]
            time.sleep(3)  # 60 simulated seconds: the car list is asked for again, backing off
            calls = sim.calls()
            assert calls["by_endpoint"].get("token") is None and list(calls["bearer"]) == [token]
            assert 2 <= calls["total"] <= 6, calls
            assert "refused TeslaMate's token" in proxy.log
            assert token not in proxy.log and "refresh-revoked" not in proxy.log
    assert teslamate_db.rows() == before  # TeslaMate's row, untouched
