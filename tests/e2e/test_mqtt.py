"""MQTT end to end: a real mitmdump with every addon, the car simulator, the real Mosquitto.

Each test has its own topic prefix, discovery prefix and openWB charge point id,
and the watcher clears what was retained, so runs can share the machine's broker.
"""

import json
import random
import time
import uuid

import pytest

from support.broker import Broker
from support.client import ProxyClient
from support.mitm import Mitmdump
from support.mqtt_watch import Watcher
from support.seed import captured_requests
from support.tesla_sim import Simulator, until
from support.uploads import upload_body
from support.wallbox_client import FACTOR, Wallbox, wallbox_options
from wallbox.mqtt.ha_discovery import node_id

pytestmark = [pytest.mark.e2e, pytest.mark.service]

SEED = captured_requests()
TOKEN = "ggdfghjizffc"  # the seed's
LISTENING = "wallbox API listening at"


@pytest.fixture
def sim(tmp_path):
    with Simulator(tmp_path, time_factor=FACTOR) as simulator:
        yield simulator


@pytest.fixture
def names():
    tag = uuid.uuid4().hex[:10]
    return {"prefix": f"th-{tag}", "ha": f"ha-{tag}"}


def mqtt_options(broker: Broker, names: dict, **more) -> dict:
    return {
        "mqtt_url": f"mqtt://{broker.url.host}:{broker.url.port}",
        "mqtt_prefix": names["prefix"],
        "mqtt_ha_prefix": names["ha"],
        "mqtt_interval": 0,
        **more,
    }


def watch(broker: Broker, names: dict) -> Watcher:
    return Watcher(broker.url, f"{names['prefix']}/#", f"{names['ha']}/#")


def upload(proxy: Mitmdump, token: str = TOKEN, number: int | None = None) -> None:
    """The seed's upload, or upload `number` of tests/support/uploads.py."""
    client = ProxyClient(proxy.port, proxy.ca_file)
    if number is None:
        reply = client.send(SEED["/insert_scanmytesla.php"].raw(token=token))
    else:
        reply = client.post("/insert_scanmytesla.php", upload_body(token, number))
    assert (reply.status, reply.body) == (200, b"OK")


def test_the_seed_upload_appears_as_named_values_with_discovery(
    tmp_path, confdir, broker, names, sim
):
    prefix = names["prefix"]
    options = wallbox_options(sim.url, **mqtt_options(broker, names))
    with watch(broker, names) as mqtt:
        with Mitmdump(tmp_path, confdir, options, ready_marker=LISTENING) as proxy:
            check_values_and_discovery(mqtt, proxy, names, sim)
        assert mqtt.wait(f"{prefix}/status") == b"offline"  # said at exit


def check_values_and_discovery(mqtt: Watcher, proxy: Mitmdump, names: dict, sim) -> None:
    prefix, ha = names["prefix"], names["ha"]
    mqtt.wait(f"{prefix}/status", lambda p: p == b"online")
    upload(proxy)
    assert mqtt.wait(f"{prefix}/1/smt/battery_power") == b"1.185812"
    assert mqtt.wait(f"{prefix}/1/smt/speed") == b"-1.76"
    assert mqtt.wait(f"{prefix}/1/smt/time") == b"2025-02-09T19:33:19.697553+01:00"
    values = mqtt.under(f"{prefix}/1/smt/")
    assert len(values) == 8  # seven values and the time, each under its catalogue key

    node = node_id(prefix)
    config = json.loads(mqtt.wait(f"{ha}/sensor/{node}/car1_battery_power/config"))
    assert config["unique_id"].endswith("car1_battery_power")
    assert config["state_topic"] == f"{prefix}/1/smt/battery_power"
    assert config["unit_of_measurement"] == "kW" and config["device_class"] == "power"
    assert config["device"]["identifiers"] and config["device"]["name"]
    assert config["availability_topic"] == f"{prefix}/status"

    # the wallbox's status and entities, for the simulated car
    switch = json.loads(mqtt.wait(f"{ha}/switch/{node}/car1_wallbox_charging/config"))
    assert switch["command_topic"] == f"{prefix}/1/wallbox/set/control"
    assert switch["device"]["identifiers"] == config["device"]["identifiers"]
    for component, key in (("number", "amps"), ("number", "soc"), ("sensor", "status")):
        mqtt.wait(f"{ha}/{component}/{node}/car1_wallbox_{key}/config")
    assert mqtt.wait(f"{prefix}/1/wallbox/plugged_in") == b"true"
    state = json.loads(mqtt.wait(f"{prefix}/1/wallbox/state"))
    assert state["vin"] == sim.car()["vin"]
    # what Home Assistant 2026.4 and its numeric sensors accept (issue 26)
    # the prefix th-<hex>: `-` is no entity id character, HA's slugify made it `_`
    slug = node.replace("-", "_")
    assert switch["default_entity_id"] == f"switch.{slug}_car1_wallbox_charging"
    configs = mqtt.under(f"{ha}/")
    assert configs and not any(b'"object_id"' in c for c in configs.values())
    assert not any(p == b"unknown" for p in mqtt.under(f"{prefix}/1/").values())


def test_mqtt_commands_go_through_the_controller(tmp_path, confdir, broker, names, sim):
    prefix = names["prefix"]
    options = wallbox_options(sim.url, **mqtt_options(broker, names))
    with (
        watch(broker, names) as mqtt,
        Mitmdump(tmp_path, confdir, options, ready_marker=LISTENING) as proxy,
    ):
        Wallbox(proxy).ready()
        mqtt.wait(f"{prefix}/1/wallbox/state")
        mqtt.publish(f"{prefix}/1/wallbox/set/amps", "10")
        until(lambda: sim.car()["amps_request"] == 10, 30, what="10 A at the car")
        mqtt.publish(f"{prefix}/1/wallbox/set/control", "ON")  # as HA's switch sends it
        until(lambda: mqtt.get(f"{prefix}/1/wallbox/status") == b"3", 30, what="charging")
        mqtt.wait(f"{prefix}/1/wallbox/charging_switch", lambda p: p == b"true")
        assert [c[1] for c in sim.car()["commands"]] == ["set_charging_amps", "charge_start"]

        mqtt.publish(f"{prefix}/1/wallbox/set/amps", "99")  # refused exactly as over HTTP
        result = json.loads(mqtt.wait(f"{prefix}/1/wallbox/result", lambda p: b"99" in p))
        assert result["ok"] is False and result["error"].startswith("amps must be 1..16")
        mqtt.publish(f"{prefix}/7/wallbox/set/soc", "80")
        result = json.loads(mqtt.wait(f"{prefix}/7/wallbox/result"))
        assert result["ok"] is False and "no car '7'" in result["error"]

        proxy.stop()  # a retained command would be carried out again at every start
        mqtt.publish(f"{prefix}/1/wallbox/set/soc", "40", retain=True)
        proxy.start()
        Wallbox(proxy).ready()
        until(lambda: "ignoring a retained command" in proxy.log, 20, what="the warning")
        time.sleep(0.5)
        mqtt.publish(f"{prefix}/1/wallbox/set/soc", "", retain=True)
        assert sim.car()["limit"] == 80
        assert len(sim.car()["commands"]) == 2


def test_a_broker_restart_and_outage_are_survived(tmp_path, confdir, names):
    broker = Broker.start_own(tmp_path)  # ours, to stop and start
    prefix = names["prefix"]
    options = mqtt_options(broker, names, wallbox_port=0)
    try:
        with watch(broker, names) as mqtt, Mitmdump(tmp_path, confdir, options) as proxy:
            upload(proxy)
            mqtt.wait(f"{prefix}/1/smt/time")  # the last topic of an upload
            broker.stop()
            upload(proxy, number=12)  # uploads go on while the broker is away
            broker.start_again()  # without persistence: every retained value is gone
            mqtt.forget()
            # republished once the broker is back, with what arrived during the outage
            assert mqtt.wait(f"{prefix}/1/smt/battery_power", timeout=40) == b"9"
            assert mqtt.wait(f"{prefix}/1/smt/rear_power") == b"6"
            assert mqtt.wait(f"{prefix}/1/smt/time") == b"2025-02-09T18:00:01.200000+00:00"
            assert mqtt.wait(f"{prefix}/status") == b"online"
            assert "MQTT: connected to" in proxy.log
    finally:
        broker.stop()


def test_a_removed_car_and_discovery_off_clear_their_configs(tmp_path, confdir, broker, names):
    prefix, ha = names["prefix"], names["ha"]
    node = node_id(prefix)
    options = mqtt_options(broker, names, wallbox_port=0)
    with watch(broker, names) as mqtt:
        with Mitmdump(tmp_path, confdir, options) as proxy:
            upload(proxy)
            mqtt.wait(f"{ha}/sensor/{node}/car1_battery_power/config")
        moved = options | {"mqtt_smt_cars": [f"{TOKEN}=2"]}
        with Mitmdump(tmp_path, confdir, moved):  # the token is car 2 now: car 1 is gone
            mqtt.wait(f"{ha}/sensor/{node}/car2_battery_power/config")  # from storage, at start
            until(lambda: not mqtt.under(f"{ha}/sensor/{node}/car1_"), 20, what="car 1 removed")
        with Mitmdump(tmp_path, confdir, moved | {"mqtt_ha_discovery": False}):
            until(lambda: not mqtt.under(f"{ha}/"), 20, what="every config removed")
            assert mqtt.get(f"{prefix}/2/smt/battery_power") == b"1.185812"  # values stay


def test_openwb_drives_the_car_and_sees_its_state(tmp_path, confdir, broker, sim):
    point = random.randrange(10_000, 99_999)  # openWB's topics cannot be given a prefix
    base = f"openWB/mqtt/chargepoint/{point}"
    options = wallbox_options(
        sim.url,
        openwb_mqtt_url=f"mqtt://{broker.url.host}:{broker.url.port}",
        openwb_chargepoints=[f"{point}=1"],
        mqtt_interval=0,
    )
    with (
        Watcher(broker.url, f"{base}/#") as openwb,
        Mitmdump(tmp_path, confdir, options, ready_marker=LISTENING) as proxy,
    ):
        Wallbox(proxy).ready()
        assert openwb.wait(f"{base}/get/plug_state") == b"true"
        openwb.publish(f"{base}/set/current", "10", retain=True)  # as openWB does
        until(lambda: sim.car()["charging"] and sim.car()["amps_request"] == 10, 30, what="10 A")
        openwb.wait(f"{base}/get/charge_state", lambda p: p == b"true")
        power = float(openwb.wait(f"{base}/get/power", lambda p: float(p) > 0))
        assert power == 3 * 230 * 10
        assert json.loads(openwb.wait(f"{base}/get/currents")) == [10.0, 10.0, 10.0]
        openwb.publish(f"{base}/set/current", "0", retain=True)
        until(lambda: not sim.car()["charging"], 30, what="charging stopped")
        openwb.wait(f"{base}/get/imported", lambda p: float(p) > 0)


def test_uploads_do_not_wait_for_a_broker_that_is_not_there(tmp_path, confdir, names):
    from support.ports import free_port

    dead = {"host": "127.0.0.1", "port": free_port()}  # nothing listens there
    options = {
        "mqtt_url": f"mqtt://{dead['host']}:{dead['port']}",
        "mqtt_prefix": names["prefix"],
        "wallbox_port": 0,
    }
    with Mitmdump(tmp_path, confdir, options) as proxy:
        for i in range(20):
            upload(proxy, f"token{i}")
        until(lambda: "MQTT: cannot reach the broker" in proxy.log, 10, what="the warning")
    assert proxy.log.count("MQTT: cannot reach the broker") == 1


def test_a_crash_says_offline_through_the_last_will(tmp_path, confdir, broker, names):
    status = f"{names['prefix']}/status"
    proxy = Mitmdump(tmp_path, confdir, mqtt_options(broker, names, wallbox_port=0)).start()
    with watch(broker, names) as mqtt:
        try:
            mqtt.wait(status, lambda p: p == b"online")
        finally:
            proxy.kill()  # no goodbye: the broker says it for us
        mqtt.wait(status, lambda p: p == b"offline")
