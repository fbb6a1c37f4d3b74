"""The bridge's Home Assistant side (issue 26): the charge current's range across a
restart, energy only from this charge point, re-announcing when HA restarts, the
device name everywhere, and the wake-up button reaching the controller."""

import asyncio
import json

import pytest

from support.controller_rig import make_rig
from wallbox.mqtt.bridge import MqttBridge
from wallbox.mqtt.ha_discovery import Discovery
from wallbox.mqtt.publisher import Publisher

PREFIX = "th"
AMPS = "homeassistant/number/th/car1_wallbox_amps/config"


class Broker:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, topic: str, payload: str, retain: bool) -> int:
        self.sent.append((topic, payload))
        return len(self.sent)

    def last(self, topic: str) -> str | None:
        return next((p for t, p in reversed(self.sent) if t == topic), None)

    def count(self, topic: str) -> int:
        return sum(t == topic for t, _ in self.sent)


def status(**changes) -> dict:
    base = {"car": 1, "vin": "5YJ3X", "name": None, "carmaxamp": None, "energy": None,
            "at_charge_point": True, "updated": "2026-12-07T20:00:00+00:00"}  # fmt: skip
    return base | changes


@pytest.fixture
def rig_broker():
    broker = Broker()
    publisher = Publisher(broker.send, interval_s=0)
    publisher.connection(True)
    discovery = Discovery(PREFIX)
    bridge = MqttBridge(
        publisher, PREFIX, token_cars={}, discovery=discovery, clean_discovery=discovery,
        car_names={2: "Red"},
    )  # fmt: skip
    yield bridge, broker
    bridge.stop()


async def test_the_charge_current_appears_once_its_range_is_known(rig_broker):
    bridge, _ = rig_broker
    bridge.status_changed(status())
    assert AMPS not in bridge.wanted_configs  # not 32 first, 16 later
    bridge.status_changed(status(carmaxamp=32, at_charge_point=False))  # another charger's
    assert AMPS not in bridge.wanted_configs
    bridge.status_changed(status(carmaxamp=16))
    assert json.loads(bridge.wanted_configs[AMPS])["max"] == 16


async def test_a_range_announced_before_a_restart_is_kept(rig_broker):
    bridge, _ = rig_broker
    bridge.status_changed(status())
    retained = json.dumps({"max": 13, "unique_id": "th_car1_wallbox_amps"}).encode()
    bridge.message(AMPS, retained, True)
    assert json.loads(bridge.wanted_configs[AMPS])["max"] == 13
    assert AMPS in bridge.found_configs


async def test_energy_added_here_leaves_out_a_session_elsewhere(rig_broker):
    bridge, broker = rig_broker
    topic = f"{PREFIX}/1/wallbox/energy_here"
    for energy, here in ((2.0, True), (30.0, False), (30.0, True)):
        bridge.status_changed(status(energy=energy, at_charge_point=here))
        await _settle()
    assert [p for t, p in broker.sent if t == topic] == ["2"]
    bridge.status_changed(status(energy=0.5))  # a new session at home
    await _settle()
    assert broker.last(topic) == "0.5"


async def test_energy_added_here_never_falls_back_from_a_prediction(rig_broker):
    # a prediction (wall power x time) runs ahead of the car's counter; shown, the next
    # read would fall: HA's recorder warns of a dip, or counts a new meter (10 % down)
    bridge, broker = rig_broker
    topic = f"{PREFIX}/1/wallbox/energy_here"
    for energy, predicted in ((1.0, []), (1.6, ["soc", "energy"]), (1.4, [])):
        bridge.status_changed(status(energy=energy, predicted=predicted))
        await _settle()
    assert [p for t, p in broker.sent if t == topic] == ["1", "1.4"]


async def test_home_assistant_coming_online_gets_every_config_again(rig_broker):
    bridge, broker = rig_broker
    bridge.status_changed(status(carmaxamp=16))
    sent = broker.count(AMPS)
    bridge.message("homeassistant/status", b"online", True)  # retained: not a restart
    bridge.message("homeassistant/status", b"offline", False)
    assert broker.count(AMPS) == sent
    bridge.message("homeassistant/status", b"online", False)
    await _settle()
    assert broker.count(AMPS) == sent + 1
    assert "homeassistant/status" in bridge.subscriptions


async def test_one_device_name_for_the_car_s_every_entity(rig_broker):
    bridge, broker = rig_broker
    bridge.seen_ids[1] = {43}
    bridge.status_changed(status(name="Blue"))
    await _settle()
    smt = json.loads(broker.last("homeassistant/sensor/th/car1_battery_power/config") or "{}")
    assert smt["device"]["name"] == "Blue" and smt["device"]["serial_number"] == "5YJ3X"
    bridge.status_changed(status(car=2, vin="5YJ3Y", name="Back-end name"))
    await _settle()
    status_config = "homeassistant/sensor/th/car2_wallbox_status/config"
    assert json.loads(broker.last(status_config) or "{}")["device"]["name"] == "Red"  # the option


async def test_the_wake_up_button_reaches_the_controller():
    rig = await make_rig(soc=40, state="asleep")
    broker = Broker()
    publisher = Publisher(broker.send, interval_s=0)
    publisher.connection(True)
    discovery = Discovery(PREFIX)
    bridge = MqttBridge(publisher, PREFIX, token_cars={}, discovery=None, clean_discovery=discovery)
    bridge.bind(rig.controller)
    try:
        bridge.message(f"{PREFIX}/1/wallbox/set/wake", b"PRESS", False)
        await rig.clock.run_until(lambda: broker.last(f"{PREFIX}/1/wallbox/result"), 30)
        result = json.loads(broker.last(f"{PREFIX}/1/wallbox/result") or "{}")
        assert result["ok"] is True and result["command"] == "wake"
        await rig.clock.run_until(lambda: rig.sim.state == "online", 120)
    finally:
        bridge.stop()
        rig.controller.stop()


async def _settle() -> None:
    for _ in range(3):
        await asyncio.sleep(0)
