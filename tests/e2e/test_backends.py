"""Each vehicle back-end end to end: a real mitmdump with every addon, the car simulator
as a separate process in that back-end's shape, the wallbox API used from outside.

- TeslaBleHttpProxy: a sleeping car reads as asleep with no wake-up; control?1
  wakes it over Bluetooth and it charges.
- The Fleet API with one's own app: the region is found, a stale token is
  refreshed on the 401 with the app's client id, commands go through the
  (simulated) tesla-http-proxy.
- A relay: its static token reaches it and never the log.
- The closed Owner API: one clear error, asked again hourly, not hammered.
- Nothing set up: the proxy serves, the wallbox answers 503 naming the choices,
  the log says so once.
"""

import json
import time

import pytest

from support.client import ProxyClient
from support.mitm import Mitmdump
from support.tesla_sim import Simulator, until
from support.wallbox_client import FACTOR, HOME, Wallbox, wallbox_options

pytestmark = pytest.mark.e2e

VIN = "5YJ3E7EA1KF000001"  # the simulated car's, for wallbox_cars
READY = "wallbox API listening at"


def test_teslableproxy_a_sleeping_car_reads_as_asleep_and_control_wakes_it(tmp_path, confdir):
    with Simulator(tmp_path, time_factor=FACTOR, asleep=True, shape="ble", vins=[VIN]) as sim:
        options = wallbox_options(sim.url, tesla_backend="ble", wallbox_cars=[VIN])
        with Mitmdump(tmp_path, confdir, options, ready_marker=READY) as proxy:
            wallbox = Wallbox(proxy).ready()
            body = until(lambda: (s := wallbox.status())["car_state"] == "asleep" and s, 20)
            assert body["last_error"] is None
            time.sleep(3 * 60 / FACTOR)  # three idle looks (wallbox_poll_idle=60)
            calls = sim.calls()["by_endpoint"]
            assert calls.get("wake_up", 0) == calls.get("auto_wake", 0) == 0
            assert calls["body_controller_state"] >= 2 and "vehicle_data" not in calls
            assert wallbox.status()["car_state"] == "asleep"
            code, body = wallbox.get("/tlwb/1/control?1&wait=120")
            assert code == 200 and body["status"] == 3, body
            assert body["car_state"] == "online" and body["at_pv_location"]
            calls = sim.calls()
            assert (
                calls["via"]["ble wake_up"] == 1 and calls["via"]["ble command/charge_start"] == 1
            )
            assert calls["by_endpoint"].get("auto_wake", 0) == 0  # woken first, not by the command
            assert sim.car()["charging"]
            assert "vehicle API: ble at http://127.0.0.1" in proxy.log
            assert "HTTP 503" not in proxy.log  # asleep is no error


def test_fleet_api_region_refresh_and_signed_commands(tmp_path, confdir, test_ca):
    app = "my-fleet-app"
    with Simulator(
        tmp_path, time_factor=FACTOR, shape="fleet", tls=test_ca, tokens=["not-the-stale-one"],
        signing_proxy=True, client_id=app, refresh_tokens=["refresh-0"],
    ) as sim:  # fmt: skip
        data = tmp_path / "data"
        data.mkdir()
        sso = {"access_token": "stale-0", "refresh_token": "refresh-0",
               "expires_at": time.time() + 3600}  # fmt: skip
        entry = {"url": sim.url + "/", "sso": sso, "client_id": app}
        (data / "tesla_token.json").write_text(json.dumps({"me@example.org": entry}))
        options = wallbox_options(
            sim.url, tesla_command_url=sim.proxy_url, tesla_api_ca_file=test_ca.ca_file
        )
        with Mitmdump(tmp_path, confdir, options, ready_marker=READY) as proxy:
            wallbox = Wallbox(proxy).ready()
            code, body = wallbox.get("/tlwb/1/control?1&wait=120")
            assert code == 200 and body["status"] == 3, body
            calls = sim.calls()
            assert calls["by_endpoint"]["region"] == 1
            assert calls["by_endpoint"].get("misdirected", 0) == 0
            assert calls["via"][f"token refresh_token client_id={app}"] == 1
            assert calls["via"]["signing_proxy command/charge_start"] == 1
            assert calls["by_endpoint"].get("unsigned", 0) == 0
            assert sim.car()["charging"]
            saved = json.loads((data / "tesla_token.json").read_text())["me@example.org"]
            assert saved["client_id"] == app and saved["sso"]["refresh_token"] == "sim-refresh-1"
            assert "the account's region is eu" in proxy.log
            for secret in ("stale-0", "refresh-0", "sim-access-1", "sim-refresh-1"):
                assert secret not in proxy.log


def test_relay_the_static_token_reaches_it_and_never_the_log(tmp_path, confdir):
    token = "teslemetry-token-0123456789abcdef"
    with Simulator(tmp_path, time_factor=FACTOR, shape="relay", tokens=[token]) as sim:
        token_file = tmp_path / "relay_token"
        token_file.write_text(token + "\n")
        options = wallbox_options(sim.url, tesla_api_token_file=str(token_file))
        with Mitmdump(tmp_path, confdir, options, ready_marker=READY) as proxy:
            wallbox = Wallbox(proxy).ready()
            code, body = wallbox.get("/tlwb/1/control?1&wait=120")
            assert code == 200 and body["status"] == 3, body
            calls = sim.calls()
            assert list(calls["bearer"]) == [token]
            assert calls["by_endpoint"].get("unauthorized", 0) == 0
            assert calls["via"]["relay command/charge_start"] == 1
            assert f"vehicle API: relay at {sim.url}/" in proxy.log
            assert f"tokens: tesla_api_token_file {token_file}" in proxy.log
            assert token not in proxy.log


def test_the_closed_owner_api_is_one_clear_error_asked_again_hourly(tmp_path, confdir):
    factor = 500  # an hour in 7.2 s
    with Simulator(tmp_path, time_factor=factor, shape="owner", closed=True) as sim:
        options = {
            **wallbox_options(sim.url, tesla_backend="owner"),
            "wallbox_time_factor": factor,
        }
        with Mitmdump(tmp_path, confdir, options, ready_marker=READY) as proxy:
            wallbox = Wallbox(proxy)
            words = "Owner API no longer serves third-party apps"
            code, body = until(lambda: words in str(r := wallbox.get("/tlwb/1/status")) and r, 10)
            error = body["error"]
            assert code == 503 and "Retry-After" not in error
            for choice in ("TeslaBleHttpProxy", "Fleet API", "Teslemetry"):
                assert choice in error
            time.sleep(1.3 * 3600 / factor)  # 1.3 hours
            forbidden = sim.calls()["by_endpoint"]["forbidden"]
            assert 1 <= forbidden <= 3, f"{forbidden} calls in 1.3 hours"
            assert proxy.log.count("no longer serves third-party apps") == forbidden


def test_nothing_set_up_starts_serves_and_says_what_to_set_up_once(tmp_path, confdir):
    options = {"wallbox_time_factor": FACTOR, "wallbox_pv_location": HOME}
    with Mitmdump(tmp_path, confdir, options, ready_marker=READY) as proxy:
        wallbox = Wallbox(proxy)
        code, body = wallbox.first_verdict()
        assert code == 503, body
        for choice in ("TeslaBleHttpProxy", "FLEET_CLIENT_ID", "Teslemetry", "MyTeslaMate",
                       "Tessie", "Which back-end?"):  # fmt: skip
            assert choice in body["error"]
        reply = ProxyClient(proxy.port, proxy.ca_file).post(
            "/get_scanmytesla.php", {"t": "abcdef"}, tls=False
        )
        assert reply.body == b"not found"  # the proxy and the rest serve
        time.sleep(3 * 60 / FACTOR)  # the car list is tried again every minute, quietly
        assert proxy.log.count("no vehicle back-end is set up") == 1
        assert "vehicle API: none" in proxy.log
