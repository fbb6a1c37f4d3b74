"""The wallbox API end to end: a real mitmdump with every addon, the car simulator as a
separate process, plain HTTP from the outside, as home automation and evcc use it.

Both clocks run 20 times faster than real time (wallbox_time_factor and the
simulator's --time-factor), so wake-ups, confirmations and charging take
seconds, while every rule runs exactly as in production.
"""

import socket
import stat
import time

import pytest

from support.mitm import Mitmdump
from support.ports import free_port
from support.tesla_sim import Simulator, until
from support.wallbox_client import FACTOR, Wallbox, wallbox_options

pytestmark = pytest.mark.e2e


@pytest.fixture
def sim(tmp_path):
    with Simulator(tmp_path, time_factor=FACTOR, asleep=True) as simulator:
        yield simulator


def running(tmp_path, confdir, sim, **options):
    proxy = Mitmdump(
        tmp_path, confdir, wallbox_options(sim.url, **options), ready_marker="wallbox API listening"
    )
    with proxy:
        yield Wallbox(proxy).ready()


@pytest.fixture
def wallbox(tmp_path, confdir, sim):
    yield from running(tmp_path, confdir, sim)


@pytest.fixture
def wallbox_anywhere(tmp_path, confdir, sim):
    """Controls the car wherever it is (wallbox_control_everywhere)."""
    yield from running(tmp_path, confdir, sim, wallbox_control_everywhere=True)


def test_a_sleeping_car_is_woken_and_starts_charging(wallbox, sim):
    assert sim.car()["state"] == "asleep"
    started = time.monotonic()
    code, body = wallbox.get("/tlwb/1/control?1&wait=120")
    assert code == 200, body
    assert body["status"] == 3 and body["car_state"] == "online" and body["pending"] == []
    assert time.monotonic() - started < 10
    car = sim.car()
    assert car["charging"] and [c[1] for c in car["commands"]] == ["charge_start"]
    assert sim.calls()["by_endpoint"]["wake_up"] == 1
    assert "car 1 is asleep: waking it up" in wallbox.proxy.log


def test_answers_come_at_once_unless_the_caller_waits(wallbox, sim):
    code, body = wallbox.get("/tlwb/1/control?1")
    assert code == 200  # pending: answered before the command went through
    assert body["pending"][0]["action"] == "charge_start"
    until(lambda: sim.car()["charging"], 20, what="charging")


def test_set_amps_and_set_soc_reach_the_car(wallbox, sim):
    # amps alone do not wake a sleeping car: they wait for it (202 after the wait)
    code, body = wallbox.get("/tlwb/1/set_amps?10&wait=20")
    assert code == 202 and "when the car is awake" in body["pending"][0]["waiting_for"], body
    assert sim.calls()["by_endpoint"].get("wake_up") is None
    # a new limit does wake it, and the waiting amps go along
    code, body = wallbox.get("/tlwb/1/set_soc?90&wait=120")
    assert code == 200 and body["targetsoc"] == 90 and body["limitsoc"] == 90, body
    body = until(lambda: (s := wallbox.status())["targetamp"] == 10 and s, 20)
    assert sim.car()["amps_request"] == 10 and body["pending"] == []
    code, body = wallbox.get("/tlwb/1?control=1&set_amps=6&set_soc=85&wait=120")
    assert code == 200 and body["status"] == 3, body
    car = sim.car()
    assert (car["amps_request"], car["limit"], car["charging"]) == (6, 85, True)
    # a small rise to a charging car waits wallbox_amps_long_wait (300 s: 15 s here)
    code, body = wallbox.get("/command/1/set_charging_amps?8&wait=120")
    assert code == 202 and "a rise from 6 A" in body["pending"][0]["waiting_for"], body
    until(lambda: sim.car()["amps_request"] == 8, 30, what="the coalesced rise")


def test_set_soc_40_stops_charging_at_40_and_the_car_keeps_50(wallbox, sim):
    sim.patch({"soc": 37, "capacity_kwh": 10})  # a small battery charges in seconds
    code, body = wallbox.get("/tlwb/1/set_soc?40&wait=120")
    assert code == 200 and sim.car()["limit"] == 50, body
    code, body = wallbox.get("/tlwb/1/control?1&wait=120")
    assert code == 200 and body["status"] == 3, body
    until(lambda: not sim.car()["charging"], 60, what="the stop at 40 %")
    car = sim.car()
    assert 40 <= car["soc"] < 41.5 and car["limit"] == 50
    assert "the SoC reached the target 40 %: stopping" in wallbox.proxy.log
    body = wallbox.wait_status(4)
    assert (body["targetsoc"], body["limitsoc"], body["enabled"]) == (40, 50, True)


def test_every_status_appears_in_its_situation(wallbox_anywhere, sim):
    wallbox = wallbox_anywhere  # elsewhere is "plugged in" (1), not "no car here" (0)
    wallbox.get("/command/1/wake_up?wait=120")
    assert wallbox.wait_status(2)["at_pv_location"]  # plugged in at home
    sim.patch({"latitude": 48.2})
    wallbox.wait_status(1)  # plugged in elsewhere
    sim.patch({"latitude": 48.1374})
    wallbox.wait_status(2)
    assert wallbox.get("/tlwb/1/control?1&wait=120")[1]["status"] == 3
    assert wallbox.get("/tlwb/1/control?0&wait=120")[1]["status"] == 4  # on request
    assert wallbox.get("/tlwb/1/control?1&wait=120")[1]["status"] == 3
    sim.patch({"charging": False})  # stopped in the Tesla app
    wallbox.wait_status(5)
    sim.patch({"soc": 80, "limit": 80})
    wallbox.wait_status(4)  # limit reached
    sim.patch({"plugged_in": False})
    body = wallbox.wait_status(0)
    assert body["evcc_status"] == "A"


@pytest.mark.parametrize(
    "path, code, words",
    [
        ("/tlwb/1/set_amps?abc", 400, "whole number"),
        ("/tlwb/1/set_soc?150", 400, "soc must be 1..100"),
        ("/tlwb/3/status", 404, "use a car number or VIN"),
        ("/tlwb/1/control?maybe", 400, "1 (start charging) or 0"),
    ],
)
def test_bad_input_gets_json_that_says_what_to_do(wallbox, path, code, words):
    status, body = wallbox.get(path)
    assert status == code and words in body["error"]
    assert wallbox.status()["car"] == 1  # still serving
    assert words in wallbox.proxy.log  # logged


def test_a_backend_that_is_down_gets_503_and_serving_goes_on(tmp_path, confdir):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proxy = Mitmdump(tmp_path, confdir, wallbox_options(url), ready_marker="wallbox API listening")
    with proxy:
        wallbox = Wallbox(proxy)
        code, body = wallbox.first_verdict()
        assert code == 503 and "not reachable" in body["error"], body
        assert "connection refused" in body["error"]
        with Simulator(tmp_path, time_factor=FACTOR, port=port) as sim:
            wallbox.ready()  # the car list is retried with backoff
            assert wallbox.get("/tlwb/1/control?1&wait=120")[0] == 200
            assert sim.car()["charging"]
        # the simulator is gone again: commands are accepted and retried, the error is shown
        code, body = wallbox.get("/tlwb/1/control?0&wait=5")
        assert code == 202 and body["pending"], body
        body = until(lambda: (s := wallbox.status())["last_error"] and s, 20)
        assert "not reachable" in body["last_error"]


def test_evccs_http_calls_replayed(wallbox, sim):
    """What evcc's `custom` charger (README) sends every 30 s and on change."""
    secret = (wallbox.proxy.data_dir / "wallbox_token").read_text().strip()
    assert secret not in wallbox.proxy.log  # the log says where it is, never what it is
    evcc = {"Authorization": f"Bearer {secret}", "User-Agent": "Go-http-client/1.1"}

    def cycle():
        _, status = wallbox.get("/tlwb/1/status", evcc)  # status: jq .evcc_status
        _, enabled = wallbox.get("/tlwb/1/status", evcc)  # enabled: jq .enabled
        return status["evcc_status"], enabled["enabled"], status["power"], status["soc"]

    assert cycle()[:2] in (("A", False), ("B", False))
    code, _ = wallbox.get("/tlwb/1/set_amps?6", evcc)  # maxcurrent: ${maxcurrent}
    assert code == 200
    code, _ = wallbox.get("/tlwb/1/control?true", evcc)  # enable: ${enable}
    assert code == 200
    # "C" from the car's answer at once; the power once a read shows the current flowing
    _, enabled, power, soc = until(lambda: (c := cycle())[0] == "C" and c[2] and c, 30)
    assert enabled is True and power == 3 * 230 * 6 and isinstance(soc, int)
    code, _ = wallbox.get("/tlwb/1/control?false", evcc)
    assert code == 200
    _, enabled, *_ = until(lambda: (c := cycle())[0] == "B" and c, 30)
    assert enabled is False
    assert [c[1] for c in sim.car()["commands"]] == [
        "set_charging_amps",
        "charge_start",
        "charge_stop",
    ]


def test_the_target_survives_a_restart(wallbox, sim):
    assert wallbox.get("/tlwb/1/set_soc?30&wait=120")[0] == 200
    assert wallbox.proxy.stop() == 0
    wallbox.proxy.start()
    wallbox.ready()
    body = wallbox.status()
    assert body["intent"]["soc"] == 30 and body["targetsoc"] == 30


def non_loopback_address() -> str | None:
    """An IPv4 address of this host that is not loopback, if it has one."""
    candidates = []
    for target in ("10.255.255.255", "192.0.2.1", "198.51.100.1"):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                probe.connect((target, 9))  # sends nothing: only asks for the route's source
                candidates.append(probe.getsockname()[0])
            except OSError:
                continue
    try:
        candidates += [
            a[4][0] for a in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
        ]
    except OSError:
        pass
    return next((a for a in candidates if not a.startswith("127.") and a != "0.0.0.0"), None)


def test_other_hosts_need_the_secret(tmp_path, confdir, sim):
    address = non_loopback_address()
    if address is None:
        pytest.skip("this host has no non-loopback address (the rule itself is unit-tested)")
    options = wallbox_options(sim.url, wallbox_host=address)
    with Mitmdump(tmp_path, confdir, options, ready_marker="wallbox API listening") as proxy:
        wallbox = Wallbox(proxy, host=address)  # the client's address is not loopback either
        token_file = proxy.data_dir / "wallbox_token"
        secret = token_file.read_text().strip()
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        assert secret not in proxy.log
        assert f"generated the secret other hosts must send into {token_file}" in proxy.log
        for _ in range(3):
            code, body = wallbox.get("/tlwb/1/status")
            assert code == 401 and "Authorization: Bearer <secret>" in body["error"]
        code, _ = wallbox.get("/tlwb/1/status", {"Authorization": "Bearer wrong-secret-xyz"})
        assert code == 401
        assert proxy.log.count(f"refused {address}") == 1  # logged once per client
        good = {"Authorization": f"Bearer {secret}"}
        until(lambda: wallbox.get("/tlwb/1/status", good)[0] == 200, 30)
        assert wallbox.get("/openapi.json")[0] == 200  # the description is public


SUPERCHARGER = {"latitude": 50.1, "longitude": 8.6, "fast_charger": "Tesla", "dc_kw": 50.0}


def test_a_car_dc_charging_away_from_home_gets_no_command(wallbox, sim):
    sim.patch({"state": "online", "charging": True, **SUPERCHARGER})
    body = until(lambda: (s := wallbox.status())["status_text"].startswith("no car") and s, 30)
    assert (body["status"], body["evcc_status"], body["connected"]) == (0, "A", False)
    assert "DC fast charging (Tesla)" in body["status_text"]
    for path in ("/tlwb/1/control?0", "/tlwb/1/set_amps?8", "/command/1/charge_stop"):
        code, answer = wallbox.get(path)
        assert code == 409 and "no car at this charge point" in answer["error"], answer
    time.sleep(2)  # 40 simulated seconds: nothing goes out later either
    assert sim.car()["commands"] == [] and sim.car()["charging"]
    assert "no car at this charge point" in wallbox.proxy.log


def test_the_option_restores_control_everywhere(wallbox_anywhere, sim):
    sim.patch({"state": "online", "charging": True, **SUPERCHARGER})
    until(lambda: wallbox_anywhere.status()["status"] == 3, 30, what="charging, controlled")
    code, body = wallbox_anywhere.get("/tlwb/1/control?0&wait=120")
    assert code == 200 and not sim.car()["charging"], body
    assert [c[1] for c in sim.car()["commands"]] == ["charge_stop"]
