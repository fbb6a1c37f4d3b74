"""evcc's own `tesla-ble` vehicle template against the real process: its requests as the
template defines them (paths, bodies, no `wait`), and its own jq expressions evaluated
on our answers with a real jq, in every situation a car at home goes through.

The template (evcc templates/definition/vehicle/tesla-ble.yaml) reads everything from
`GET {url}:{port}/api/1/vehicles/{vin}/vehicle_data?endpoints=charge_state` and sends
`POST .../command/charge_start|charge_stop|wake_up` (no body) and
`POST .../command/set_charging_amps` with `{"charging_amps": N}`.
"""

import threading

import pytest

from support.mitm import Mitmdump
from support.tesla_sim import Simulator, http, until
from support.wallbox_client import FACTOR, Wallbox, wallbox_options

jq = pytest.importorskip("jq")

pytestmark = pytest.mark.e2e

MILES = 1.60934  # the template's `scale` for range
EVCC_JQ = {
    "soc": ".response.response.charge_state.battery_level",
    "getmaxcurrent": ".response.response.charge_state.charge_amps",
    "limitsoc": ".response.response.charge_state.charge_limit_soc",
    "range": ".response.response.charge_state.battery_range",
    "status": '(if (.response.response.charge_state.charging_state == "Charging") then "C"'
    ' elif (.response.response.charge_state.charging_state == "Stopped") then "B"'
    ' elif (.response.response.charge_state.charging_state == "NoPower") then "B"'
    ' elif (.response.response.charge_state.charging_state == "Complete") then "B"'
    ' else "A" end)',
}


class EvccTeslaBle:
    """The template's plugins, each one HTTP request as evcc makes it."""

    def __init__(self, wallbox: Wallbox, vin: str) -> None:
        self.vehicle = f"{wallbox.base}/api/1/vehicles/{vin}"

    def read(self, name: str):
        """(HTTP status, the jq result); evcc takes any non-2xx as an error."""
        code, body = http(f"{self.vehicle}/vehicle_data?endpoints=charge_state")
        if code != 200:
            return code, body
        value = jq.compile(EVCC_JQ[name]).input_value(body).first()
        if name == "range" and value is not None:
            value = round(value * MILES)  # km
        return code, value

    def reads(self) -> dict:
        answers = {name: self.read(name) for name in EVCC_JQ}
        assert {code for code, _ in answers.values()} == {200}, answers
        return {name: value for name, (_, value) in answers.items()}

    def charge_enable(self, enable: bool):
        return http(f"{self.vehicle}/command/{'charge_start' if enable else 'charge_stop'}", "POST")

    def max_current(self, amps: int):
        return http(f"{self.vehicle}/command/set_charging_amps", "POST", {"charging_amps": amps})

    def wake_up(self):
        return http(f"{self.vehicle}/command/wake_up", "POST")

    def sleep_status(self) -> str:
        code, body = http(f"{self.vehicle}/body_controller_state")
        assert code == 200, body
        return body["response"]["response"]["vehicle_sleep_status"]


def running(tmp_path, confdir, sim, **options):
    proxy = Mitmdump(
        tmp_path, confdir, wallbox_options(sim.url, **options), ready_marker="wallbox API listening"
    )
    with proxy:
        yield Wallbox(proxy).ready()


@pytest.fixture
def asleep(tmp_path):
    with Simulator(tmp_path, time_factor=FACTOR, asleep=True) as simulator:
        yield simulator


@pytest.fixture
def awake(tmp_path):
    with Simulator(tmp_path, time_factor=FACTOR) as simulator:
        yield simulator


@pytest.fixture
def wallbox(tmp_path, confdir, asleep):
    yield from running(tmp_path, confdir, asleep)


@pytest.fixture
def wallbox_idle(tmp_path, confdir, awake):
    """Reads an idle car once an hour (3 minutes here): any other call is a poll's."""
    yield from running(tmp_path, confdir, awake, wallbox_poll_idle=3600)


def until_reads(evcc: EvccTeslaBle, **wanted) -> dict:
    def matches():
        reads = evcc.reads()
        return all(reads[k] == v for k, v in wanted.items()) and reads

    return until(matches, 30, what=f"evcc reading {wanted}")


def test_evccs_template_reads_right_in_every_situation(wallbox, asleep):
    sim = asleep
    evcc = EvccTeslaBle(wallbox, sim.car()["vin"])
    # asleep, nothing read yet: the proxy's own 503, and no call to find out
    calls = sim.calls()["by_endpoint"]
    code, body = evcc.read("soc")
    assert code == 503 and body["response"]["reason"] == "vehicle is sleeping", body
    assert evcc.sleep_status() == "VEHICLE_SLEEP_STATUS_ASLEEP"
    assert sim.calls()["by_endpoint"].get("vehicle_data") == calls.get("vehicle_data")

    # plugged in and idle, once woken (evcc wakes through the template's wakeup)
    assert evcc.wake_up()[0] == 200
    until(lambda: evcc.sleep_status() == "VEHICLE_SLEEP_STATUS_AWAKE", 30, what="awake")
    reads = until_reads(evcc, status="B")
    # the simulator's range is 3.1 miles a percent
    assert reads == {"soc": 40, "getmaxcurrent": 16, "limitsoc": 80, "range": 200,
                     "status": "B"}  # fmt: skip

    # charging, at the amps evcc asked for
    assert evcc.max_current(10)[0] == 200
    assert evcc.charge_enable(True)[0] == 200
    reads = until_reads(evcc, status="C", getmaxcurrent=10)
    car = sim.car()
    assert car["charging"] and car["amps_request"] == 10 and reads["limitsoc"] == 80

    # complete: the car reached its limit
    sim.patch({"soc": 79.99, "capacity_kwh": 1})
    reads = until_reads(evcc, status="B", soc=80)
    assert wallbox.status()["charging_state"] == "Complete"
    assert evcc.charge_enable(False)[0] == 200  # evcc disables a full car

    # unplugged
    sim.patch({"plugged_in": False})
    until_reads(evcc, status="A", soc=80, limitsoc=80)

    # asleep, plugged in: its last known state, no error
    sim.patch({"plugged_in": True})
    until_reads(evcc, status="B")
    sim.patch({"state": "asleep"})
    until(lambda: evcc.sleep_status().endswith("_ASLEEP"), 30, what="asleep")
    assert evcc.reads() == {"soc": 80, "getmaxcurrent": 10, "limitsoc": 80, "range": 399,
                            "status": "B"}  # fmt: skip

    # charging elsewhere: DC fast charging 500 km away shows no car here
    # (slowly: the next look at a sleeping car is a minute away, and 120 kW would be at 62 %)
    sim.patch({"state": "online", "latitude": 52.52, "longitude": 13.405, "soc": 60,
               "capacity_kwh": 75, "fast_charger": "Tesla", "dc_kw": 1.0,
               "charging": True})  # fmt: skip
    until_reads(evcc, status="A", soc=60, limitsoc=80)
    sent = len(sim.car()["commands"])
    code, body = evcc.charge_enable(False)
    assert code == 503 and "no car at this charge point" in body["response"]["reason"]
    assert sim.car()["charging"] and len(sim.car()["commands"]) == sent


def test_three_tools_polling_cost_the_car_nothing(wallbox_idle, awake):
    """An idle car read once; then evcc, Home Assistant and a script poll away."""
    evcc = EvccTeslaBle(wallbox_idle, awake.car()["vin"])
    until_reads(evcc, status="B")
    before = awake.calls()["by_endpoint"]
    answers: list[int] = []

    def tool() -> None:
        for _ in range(10):
            answers.append(evcc.read("soc")[0])
            answers.append(http(f"{evcc.vehicle}/body_controller_state")[0])

    tools = [threading.Thread(target=tool) for _ in range(3)]
    for t in tools:
        t.start()
    for t in tools:
        t.join(60)
    assert answers == [200] * 60
    assert awake.calls()["by_endpoint"] == before
