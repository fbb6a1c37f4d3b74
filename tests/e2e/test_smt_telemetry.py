"""ScanMyTesla's uploads as the car's state, end to end: a real mitmdump with every addon,
the car simulator as a process, and a simulated phone in the car uploading its CAN
values through the proxy as the app does (support/fake_phone.py): the wallbox takes
them from the capture, in-process, once each upload is stored.

Clocks run 20 times faster: a silence limit of 60 s is 3 s of real time. No PV
location is set: ScanMyTesla carries no position, so only a DC session places the
car elsewhere (charge_point.py).
"""

import pytest

from support.fake_phone import Phone
from support.mitm import Mitmdump
from support.tesla_sim import Simulator, until
from support.wallbox_client import FACTOR, Wallbox, wallbox_options

pytestmark = [pytest.mark.e2e]

SILENCE_S = 60
TOKEN = "phone1"
SMT = "scanmytesla"


@pytest.fixture
def sim(tmp_path):
    with Simulator(tmp_path, time_factor=FACTOR) as simulator:
        yield simulator


@pytest.fixture
def poll_charging() -> int:
    return 30  # simulated seconds; a test that must tell the loss's read from a poll raises it


@pytest.fixture
def proxy(tmp_path, confdir, sim, poll_charging):
    options = wallbox_options(
        sim.url,
        wallbox_pv_location="",
        wallbox_poll_charging=poll_charging,
        wallbox_poll_idle=7200,  # no idle look in the test: only a loss reads
        telemetry_smt_cars=[f"{TOKEN}=1"],
        telemetry_smt_silence_s=SILENCE_S,
    )
    with Mitmdump(tmp_path, confdir, options, ready_marker="wallbox API listening at") as mitm:
        yield mitm


@pytest.fixture
def wallbox(proxy):
    return Wallbox(proxy).ready()


@pytest.fixture
def phone(proxy, sim):
    with Phone(proxy.port, proxy.ca_file, sim.url, TOKEN) as app:
        yield app


def data_reads(sim) -> int:
    return sim.calls()["by_endpoint"].get("vehicle_data", 0)


@pytest.mark.parametrize("poll_charging", [7200])  # no charging poll: only a loss reads
def test_the_soc_guard_stops_within_half_a_point_without_a_read_while_charging(wallbox, sim, phone):
    sim.patch({"soc": 44.3})
    code, body = wallbox.get("/tlwb/1/set_soc?45&wait=120")
    assert code == 200 and body["targetsoc"] == 45, body
    until(lambda: phone.uploads > 0, 20, what="the phone's first upload")
    sim.reset_calls()
    sim.patch({"charging": True})  # 11 kW on AC: a point every 12 s of real time
    status = wallbox.wait_source(SMT)
    assert status["telemetry"]["fields"]["soc"] == "ScanMyTesla id 24"
    assert status["plugged_in"] is True and status["telemetry"]["fields"]["plugged_in"]
    assert status["limitsoc"] == 50  # not in the data: the command's answer, kept while plugged
    car = until(lambda: (c := sim.car())["charging"] is False and c, 60, what="the stop")
    assert 45.0 <= car["soc"] < 45.5, car["soc"]
    assert [c[1] for c in car["commands"]][-1] == "charge_stop", car["commands"]
    # The flow ended: ScanMyTesla cannot tell whether the cable is still in, the API does.
    # With no poll due for two simulated hours, every read has a cause: a loss of the
    # source. Exactly one, and it is this one: none while the car charged.
    status = wallbox.wait_source("tesla_api")
    assert "cannot tell the plug state" in status["telemetry"]["reason"], status["telemetry"]
    until(lambda: data_reads(sim) >= 1, 20, what="the read the flow's end brings")
    until(lambda: wallbox.status()["charging_state"] == "Stopped", 10, what="the read taken")
    assert data_reads(sim) == 1, sim.calls()


def test_a_dc_session_the_dc_total_tells_refuses_a_stop(wallbox, sim, phone):
    # 20 kW: under what an onboard charger takes, so only the rising DC total tells
    sim.patch({"charging": True, "fast_charger": "CCS", "dc_kw": 20.0})
    status = until(
        lambda: (
            (s := wallbox.status())["telemetry"]["source"] == SMT
            and s["status_text"].startswith("no car")
            and s
        ),
        20,
        what="the DC session from ScanMyTesla",
    )
    assert "DC fast charging" in status["status_text"], status
    assert status["telemetry"]["fields"]["at_charge_point"].endswith("(DC)")
    sim.reset_calls()
    code, answer = wallbox.get("/tlwb/1/control?0")
    assert code == 409 and "no car at this charge point" in answer["error"], answer
    assert sim.car()["commands"] == [] and sim.car()["charging"]
    assert sim.reads() == 0, sim.calls()


@pytest.mark.parametrize("poll_charging", [7200])  # no poll in the test: the loss must read
def test_the_phone_falling_silent_while_charging_brings_one_read(wallbox, sim, phone):
    sim.patch({"charging": True})
    wallbox.wait_source(SMT)
    sim.reset_calls()
    phone.silent.set()
    status = wallbox.wait_source("tesla_api")
    assert "ScanMyTesla silent for" in status["telemetry"]["reason"], status["telemetry"]
    until(lambda: sim.reads() >= 1, 20, what="the read the loss brings")
    until(lambda: wallbox.status()["age"] is not None, 10)
    assert sim.reads() == 1, sim.calls()
    phone.silent.clear()  # the phone uploads again: the source is back
    wallbox.wait_source(SMT)
    assert sim.reads() == 1, sim.calls()
    assert "ScanMyTesla's captured uploads" in wallbox.proxy.log
