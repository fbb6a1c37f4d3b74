"""Push feeds end to end: a real mitmdump with every addon, the car simulator as a process,
and a fake fleet-telemetry dispatcher or TeslaBle2Mqtt publishing the simulated car to the
real Mosquitto (under a topic prefix of its own per test).

Clocks run 20 times faster (wallbox_time_factor, the simulator's --time-factor):
a silence limit of 60 s is 3 s of real time.
"""

import re
import time
import uuid
from dataclasses import dataclass
from functools import partial

import pytest

from support.fake_push_feeds import PushMirror, fleet_topics, tb2m_topics
from support.feed_checks import (
    asleep_through_the_silence,
    drive_on_the_feed,
    silence_brings_one_read,
)
from support.mitm import Mitmdump
from support.tesla_sim import Simulator, until
from support.wallbox_client import FACTOR, Wallbox, wallbox_options

pytestmark = [pytest.mark.e2e, pytest.mark.service]

SILENCE_S = 60


@dataclass(frozen=True)
class Kind:
    key: str  # telemetry_<key>_*
    source: str  # the status's telemetry.source
    where: str  # the option naming the topics' start
    topics: object


FLEET = Kind("fleet", "fleet_telemetry", "topic_base", partial(fleet_topics, strings=True))
TB2M = Kind("tb2m", "tb2m", "prefix", tb2m_topics)


def feed_options(kind: Kind, broker, base: str) -> dict:
    name = f"telemetry_{kind.key}"
    return {
        f"{name}_mqtt_url": f"mqtt://{broker.url.host}:{broker.url.port}",
        f"{name}_{kind.where}": base,
        f"{name}_silence_s": SILENCE_S,
    }


@pytest.fixture
def sim(tmp_path):
    with Simulator(tmp_path, time_factor=FACTOR) as simulator:
        yield simulator


@pytest.fixture(params=[FLEET, TB2M], ids=["fleet", "tb2m"])
def kind(request) -> Kind:
    return request.param


@pytest.fixture
def base() -> str:
    return f"teslahome-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def feed(broker, sim, kind, base):
    with PushMirror(broker, sim.url, sim.car()["vin"], base, kind.topics) as mirror:
        until(lambda: mirror.bursts > 0, 10, what="the feed's first values")
        yield mirror


@pytest.fixture
def poll_charging() -> int:
    return 30  # simulated seconds; a test that must tell the loss's read from a poll raises it


@pytest.fixture
def wallbox(tmp_path, confdir, sim, broker, kind, base, feed, poll_charging):
    options = wallbox_options(
        sim.url, wallbox_poll_charging=poll_charging, **feed_options(kind, broker, base)
    )
    with Mitmdump(tmp_path, confdir, options, ready_marker="wallbox API listening at") as proxy:
        yield Wallbox(proxy).ready()


def test_the_status_follows_the_feed_and_the_car_is_never_read(wallbox, sim, kind):
    status = wallbox.wait_source(kind.source)
    assert status["telemetry"]["report_age"] is not None
    assert sim.reads() == 0, sim.calls()  # the retained state at start: nothing read
    status = drive_on_the_feed(wallbox, sim, "the feed")
    # TeslaBle2Mqtt has no voltage: the power is the car's own kW, not 0
    assert status["power"] > 0 and status["phases"] in (1, 2, 3), status
    assert [c[1] for c in sim.car()["commands"]] == ["charge_start", "set_charging_amps"]
    sim.patch({"plugged_in": False})
    body = wallbox.wait_status(0, 10)
    assert body["plugged_in"] is False and body["telemetry"]["source"] == kind.source
    assert sim.reads() == 0
    assert f"charge state from {kind.source} now, no Tesla API reads" in wallbox.proxy.log


@pytest.mark.parametrize("poll_charging", [7200])  # no poll in the test: the loss must read
def test_silence_while_charging_brings_a_read_and_the_feed_back(wallbox, sim, feed, kind):
    wallbox.wait_source(kind.source)
    assert wallbox.get("/tlwb/1/control?1&wait=120")[0] == 200
    sim.reset_calls()
    status = silence_brings_one_read(wallbox, sim, feed.silent)
    reason = status["telemetry"]["reason"]
    assert int(re.search(r"silent for (\d+) s", reason)[1]) >= SILENCE_S, reason  # rounded
    feed.silent.clear()  # the charging car changes: the feed publishes again
    wallbox.wait_source(kind.source)
    assert "falling back to Tesla API reads" in wallbox.proxy.log


def test_a_sleeping_car_stays_on_the_feed_through_the_silence(wallbox, sim, feed, kind):
    wallbox.wait_source(kind.source)
    asleep_through_the_silence(wallbox, sim, feed.silent, kind.source, SILENCE_S / FACTOR * 2)


AWAY = {"latitude": 50.1, "longitude": 8.6}
DC_AT_HOME = {"fast_charger": "Tesla", "dc_kw": 50.0}  # a DC charger where the PV is


@pytest.mark.parametrize("kind", [FLEET], ids=["fleet"], indirect=False)
@pytest.mark.parametrize("where, words", [(AWAY, "no car"), (DC_AT_HOME, "DC fast charging")])
def test_a_car_the_feed_places_elsewhere_gets_no_stop(wallbox, sim, where, words):
    wallbox.wait_source("fleet_telemetry")
    sim.patch({"state": "online", "charging": True, **where})
    body = until(lambda: (s := wallbox.status())["status_text"].startswith("no car") and s, 20)
    assert body["telemetry"]["source"] == "fleet_telemetry" and words in body["status_text"]
    code, answer = wallbox.get("/tlwb/1/control?0")
    assert code == 409 and "no car at this charge point" in answer["error"], answer
    assert sim.car()["commands"] == [] and sim.reads() == 0


def test_with_both_feeds_the_car_streams_first_and_the_bridge_covers_its_silence(
    tmp_path, confdir, sim, broker, base
):
    vin = sim.car()["vin"]
    with (
        PushMirror(broker, sim.url, vin, base + "-f", FLEET.topics) as fleet,
        PushMirror(broker, sim.url, vin, base + "-b", TB2M.topics) as bridge,
    ):
        until(lambda: fleet.bursts and bridge.bursts, 10, what="both feeds' first values")
        options = feed_options(FLEET, broker, base + "-f") | feed_options(TB2M, broker, base + "-b")
        with Mitmdump(
            tmp_path,
            confdir,
            wallbox_options(sim.url, **options),
            ready_marker="wallbox API listening at",
        ) as proxy:
            wallbox = Wallbox(proxy).ready()
            status = wallbox.wait_source("fleet_telemetry")
            assert set(status["telemetry"]["sources"]) == {"fleet_telemetry", "tb2m"}
            assert wallbox.get("/tlwb/1/control?1&wait=120")[0] == 200
            fleet.silent.set()
            status = wallbox.wait_source("tb2m")
            assert not status["telemetry"]["sources"]["fleet_telemetry"]["trusted"]
            time.sleep(2)  # 40 simulated seconds on the bridge's word
            assert sim.reads() == 0, sim.calls()
            assert "fleet-telemetry at mqtt://" in proxy.log
