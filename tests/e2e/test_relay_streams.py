"""Teslemetry's SSE stream end to end: a real mitmdump with every addon, the car simulator as
a process, and a local SSE server in Teslemetry's shape (support/fake_teslemetry.py) that
publishes the simulated car behind a bearer token read from a file.

Clocks run 20 times faster: a silence limit of 60 s is 3 s of real time.
"""

import time
from datetime import datetime

import pytest

from support.fake_teslemetry import FakeTeslemetry
from support.mitm import Mitmdump
from support.tesla_sim import Simulator, until
from support.wallbox_client import FACTOR, Wallbox, wallbox_options

pytestmark = [pytest.mark.e2e]

SILENCE_S = 60
TOKEN = "teslemetry-token-e2e"


@pytest.fixture
def sim(tmp_path):
    with Simulator(tmp_path, time_factor=FACTOR) as simulator:
        yield simulator


@pytest.fixture
def relay(sim):
    with FakeTeslemetry(sim.url, sim.car()["vin"], TOKEN) as server:
        yield server


@pytest.fixture
def token_file(tmp_path):
    path = tmp_path / "teslemetry_token"
    path.write_text(TOKEN + "\n")
    return path


@pytest.fixture
def poll_charging() -> int:
    return 30  # simulated seconds; a test that must tell the loss's read from a poll raises it


@pytest.fixture
def wallbox(tmp_path, confdir, sim, relay, token_file, poll_charging):
    options = wallbox_options(
        sim.url,
        wallbox_poll_charging=poll_charging,
        telemetry_teslemetry_url=relay.url,
        telemetry_teslemetry_token_file=str(token_file),
        telemetry_teslemetry_silence_s=SILENCE_S,
    )
    with Mitmdump(tmp_path, confdir, options, ready_marker="wallbox API listening at") as proxy:
        yield Wallbox(proxy).ready()


def wait_source(wallbox, wanted: str, timeout: float = 20.0) -> dict:
    return until(
        lambda: (s := wallbox.status())["telemetry"]["source"] == wanted and s,
        timeout,
        what=f"telemetry from {wanted}",
    )


def at(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def test_the_status_follows_the_stream_and_the_car_is_never_read(wallbox, sim):
    wait_source(wallbox, "teslemetry")
    sim.reset_calls()  # the car list came first: the stream opens once the car is known
    sim.patch({"soc": 55})
    until(lambda: wallbox.status()["soc"] == 55, 10, what="the new SoC")
    code, body = wallbox.get("/tlwb/1/control?1&wait=120")
    assert code == 200 and body["status"] == 3, body
    code, body = wallbox.get("/tlwb/1/set_amps?10&wait=120")
    assert code == 200 and sim.car()["amps_request"] == 10, body
    until(lambda: wallbox.status()["amps"] == 10, 10, what="10 A reported by the stream")
    time.sleep(5)  # 100 simulated seconds: three 30-second polls of a charging car, skipped
    assert sim.reads() == 0, sim.calls()
    assert "Teslemetry at http://127.0.0.1:" in wallbox.proxy.log
    assert TOKEN not in wallbox.proxy.log


@pytest.mark.parametrize("poll_charging", [7200])  # no poll in the test: the loss must read
def test_silence_brings_a_read_at_once_and_the_stream_back(wallbox, sim, relay):
    wait_source(wallbox, "teslemetry")
    assert wallbox.get("/tlwb/1/control?1&wait=120")[0] == 200
    sim.reset_calls()
    relay.silent.set()
    status = wait_source(wallbox, "tesla_api")
    assert "Teslemetry silent for" in status["telemetry"]["reason"], status["telemetry"]
    lost = at(status["telemetry"]["since"])
    # With the charging poll two simulated hours away, only the loss itself can read the car.
    until(lambda: sim.reads() >= 1, 20, what="the read the loss brings")
    read = until(lambda: (s := wallbox.status())["updated"] and at(s["updated"]) >= lost and s, 10)
    assert sim.reads() == 1 and read["telemetry"]["source"] == "tesla_api", sim.calls()
    relay.silent.clear()
    wait_source(wallbox, "teslemetry")


def test_a_stream_the_relay_ends_is_reopened_without_a_read(wallbox, sim, relay):
    wait_source(wallbox, "teslemetry")
    time.sleep(1)  # 20 simulated seconds: the stream is steady
    sim.reset_calls()
    relay.dropping.set()
    until(lambda: relay.streams >= 2, 10, what="the stream reopened")
    time.sleep(1)
    status = wallbox.status()
    assert status["telemetry"]["source"] == "teslemetry" and sim.reads() == 0, status
    assert "Teslemetry stream ended" in wallbox.proxy.log


def test_a_refused_token_reads_the_api_until_the_file_holds_a_good_one(
    tmp_path, confdir, sim, relay, token_file
):
    token_file.write_text("a-revoked-token\n")
    options = wallbox_options(
        sim.url,
        telemetry_teslemetry_url=relay.url,
        telemetry_teslemetry_token_file=str(token_file),
        telemetry_teslemetry_silence_s=SILENCE_S,
    )
    with Mitmdump(tmp_path, confdir, options, ready_marker="wallbox API listening at") as proxy:
        wallbox = Wallbox(proxy).ready()
        until(lambda: relay.refused > 0, 20, what="the stream refused")
        status = wallbox.status()
        assert status["telemetry"]["source"] == "tesla_api"
        until(lambda: "HTTP 401: check the token file" in proxy.log, 10, what="the log line")
        token_file.write_text(TOKEN + "\n")  # read again at the next try: no restart
        wait_source(wallbox, "teslemetry", 60)
        assert "a-revoked-token" not in proxy.log
