"""The relays' streams end to end, each test once per relay: a real mitmdump with every
addon, the car simulator as a process, and a local server in the relay's shape that
streams the simulated car behind a bearer token read from a file: Teslemetry's SSE
(support/fake_teslemetry.py) and Tessie's WebSocket (support/fake_tessie.py).

Clocks run 20 times faster: a silence limit of 60 s is 3 s of real time.
"""

import time
from dataclasses import dataclass

import pytest

from support.fake_teslemetry import FakeTeslemetry
from support.fake_tessie import FakeTessie
from support.feed_checks import (
    asleep_through_the_silence,
    drive_on_the_feed,
    silence_brings_one_read,
)
from support.mitm import Mitmdump
from support.tesla_sim import Simulator, until
from support.wallbox_client import FACTOR, Wallbox, wallbox_options

pytestmark = [pytest.mark.e2e]

SILENCE_S = 60
TOKEN = "relay-token-e2e"


@dataclass(frozen=True)
class Relay:
    key: str  # its options, telemetry_<key>_*, and its name as the status's source
    label: str  # in the log and the reasons
    fake: type[FakeTeslemetry]


RELAYS = [Relay("teslemetry", "Teslemetry", FakeTeslemetry), Relay("tessie", "Tessie", FakeTessie)]


@pytest.fixture(params=RELAYS, ids=lambda relay: relay.key)
def kind(request) -> Relay:
    return request.param


@pytest.fixture
def sim(tmp_path):
    with Simulator(tmp_path, time_factor=FACTOR) as simulator:
        yield simulator


@pytest.fixture
def relay(sim, kind):
    with kind.fake(sim.url, sim.car()["vin"], TOKEN) as server:
        yield server


@pytest.fixture
def token_file(tmp_path):
    path = tmp_path / "relay_token"
    path.write_text(TOKEN + "\n")
    return path


@pytest.fixture
def poll_charging() -> int:
    return 30  # simulated seconds; a test that must tell the loss's read from a poll raises it


def options(sim, kind: Relay, relay, token_file, **more) -> dict:
    relayed = {f"telemetry_{kind.key}_url": relay.url,
               f"telemetry_{kind.key}_token_file": str(token_file),
               f"telemetry_{kind.key}_silence_s": SILENCE_S}  # fmt: skip
    return wallbox_options(sim.url, **relayed, **more)


@pytest.fixture
def wallbox(tmp_path, confdir, sim, kind, relay, token_file, poll_charging):
    settings = options(sim, kind, relay, token_file, wallbox_poll_charging=poll_charging)
    with Mitmdump(tmp_path, confdir, settings, ready_marker="wallbox API listening at") as proxy:
        yield Wallbox(proxy).ready()


def test_the_status_follows_the_stream_and_the_car_is_never_read(wallbox, sim, kind, relay):
    wallbox.wait_source(kind.key)
    sim.reset_calls()  # the car list came first: the stream opens once the car is known
    drive_on_the_feed(wallbox, sim, "the stream")
    assert f"{kind.label} at {relay.url}" in wallbox.proxy.log
    assert TOKEN not in wallbox.proxy.log


@pytest.mark.parametrize("poll_charging", [7200])  # no poll in the test: the loss must read
def test_silence_brings_a_read_at_once_and_the_stream_back(wallbox, sim, kind, relay):
    wallbox.wait_source(kind.key)
    assert wallbox.get("/tlwb/1/control?1&wait=120")[0] == 200
    sim.reset_calls()
    status = silence_brings_one_read(wallbox, sim, relay.silent)
    assert f"{kind.label} silent for" in status["telemetry"]["reason"], status["telemetry"]
    relay.silent.clear()
    wallbox.wait_source(kind.key)


def test_a_stream_the_relay_ends_is_reopened_without_a_read(wallbox, sim, kind, relay):
    wallbox.wait_source(kind.key)
    time.sleep(1)  # 20 simulated seconds: the stream is steady
    sim.reset_calls()
    relay.dropping.set()
    until(lambda: relay.streams >= 2, 10, what="the stream reopened")
    time.sleep(1)
    status = wallbox.status()
    assert status["telemetry"]["source"] == kind.key and sim.reads() == 0, status
    assert f"{kind.label} stream ended" in wallbox.proxy.log


def test_a_refused_token_reads_the_api_until_the_file_holds_a_good_one(
    tmp_path, confdir, sim, kind, relay, token_file
):
    token_file.write_text("a-revoked-token\n")
    settings = options(sim, kind, relay, token_file)
    with Mitmdump(tmp_path, confdir, settings, ready_marker="wallbox API listening at") as proxy:
        wallbox = Wallbox(proxy).ready()
        until(lambda: relay.refused > 0, 20, what="the stream refused")
        status = wallbox.status()
        assert status["telemetry"]["source"] == "tesla_api"
        until(lambda: "HTTP 401: check the token file" in proxy.log, 10, what="the log line")
        token_file.write_text(TOKEN + "\n")  # read again at the next try: no restart
        wallbox.wait_source(kind.key, 60)
        assert "a-revoked-token" not in proxy.log


def test_a_sleeping_car_stays_on_the_stream_through_the_silence(wallbox, sim, kind, relay):
    wallbox.wait_source(kind.key)
    asleep_through_the_silence(wallbox, sim, relay.silent, kind.key, SILENCE_S / FACTOR * 2)


def test_a_car_the_stream_places_elsewhere_gets_no_stop(wallbox, sim, kind):
    wallbox.wait_source(kind.key)
    sim.reset_calls()  # the car list came first: the stream opens once the car is known
    sim.patch({"state": "online", "charging": True, "latitude": 50.1, "longitude": 8.6})
    body = until(lambda: (s := wallbox.status())["status_text"].startswith("no car") and s, 20)
    assert body["telemetry"]["source"] == kind.key, body
    code, answer = wallbox.get("/tlwb/1/control?0")
    assert code == 409 and "no car at this charge point" in answer["error"], answer
    assert sim.car()["commands"] == [] and sim.reads() == 0
