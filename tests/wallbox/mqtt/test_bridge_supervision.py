"""No failure in the MQTT bridges passes silently or stops them (issue 18): an unexpected
exception while carrying out a command, or while publishing a status, is logged once with
its traceback, the caller hears of it, and the next command or status goes through.
On fake time, with the controller on the simulator and a publisher that records."""

import json
import logging

import pytest

from support.controller_rig import make_rig
from wallbox.mqtt.bridge import MqttBridge
from wallbox.mqtt.ha_discovery import Discovery
from wallbox.mqtt.openwb import set_current_topic
from wallbox.mqtt.openwb_bridge import OpenWbBridge
from wallbox.mqtt.publisher import Publisher

PREFIX = "th"


class Broker:
    """What the bridges publish, in order."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, topic: str, payload: str, retain: bool) -> int:
        self.sent.append((topic, payload))
        return len(self.sent)

    def last(self, topic: str) -> str | None:
        return next((p for t, p in reversed(self.sent) if t == topic), None)


def connected_publisher(broker: Broker) -> Publisher:
    publisher = Publisher(broker.send, interval_s=0)
    publisher.connection(True)
    return publisher


def crashes(caplog, name: str) -> list[logging.LogRecord]:
    return [
        r for r in caplog.records if r.levelno >= logging.ERROR and r.getMessage().startswith(name)
    ]


def fail_first(times: int, real, error: Exception):
    left = [times]

    async def buggy(*args, **kwargs):
        if left[0]:
            left[0] -= 1
            raise error
        return await real(*args, **kwargs)

    return buggy


@pytest.fixture
async def rig():
    rig = await make_rig(soc=40)
    yield rig
    rig.controller.stop()


async def test_an_mqtt_command_that_fails_unexpectedly_is_answered_and_the_next_works(rig, caplog):
    broker = Broker()
    discovery = Discovery(PREFIX, "homeassistant")
    bridge = MqttBridge(
        connected_publisher(broker), PREFIX, token_cars={}, discovery=None,
        clean_discovery=discovery,
    )  # fmt: skip
    bridge.bind(rig.controller)
    rig.car.set_intent = fail_first(2, rig.car.set_intent, RuntimeError("a bug in a command"))
    result = f"{PREFIX}/1/wallbox/result"
    for _ in range(2):
        bridge.message(f"{PREFIX}/1/wallbox/set/control", b"1", False)
        await rig.clock.advance(1)
        assert json.loads(broker.last(result) or "{}") == {
            "command": "control",
            "value": "1",
            "ok": False,
            "error": "MQTT command control failed unexpectedly (RuntimeError: a bug in a command)",
        }
    [logged] = crashes(caplog, "MQTT command control failed unexpectedly")  # once for two
    assert logged.exc_info is not None
    bridge.message(f"{PREFIX}/1/wallbox/set/control", b"1", False)
    await rig.clock.run_until(lambda: rig.sim.charging, 120)
    assert json.loads(broker.last(result) or "{}")["ok"] is True
    bridge.stop()


async def test_a_status_the_bridge_fails_to_publish_is_logged_and_the_car_goes_on(rig, caplog):
    broker = Broker()
    publisher = connected_publisher(broker)
    bridge = MqttBridge(
        publisher, PREFIX, token_cars={}, discovery=None,
        clean_discovery=Discovery(PREFIX, "homeassistant"),
    )  # fmt: skip
    put_all, left = publisher.put_all, [2]

    def buggy(messages, **kwargs):
        if left[0] and any("/wallbox/" in t for t in messages):
            left[0] -= 1
            raise TypeError("a bug in building a topic")
        put_all(messages, **kwargs)

    publisher.put_all = buggy
    bridge.bind(rig.controller)
    await rig.clock.advance(1)
    await rig.car.set_intent(charging=True)
    await rig.clock.run_until(lambda: rig.sim.charging, 120)  # the worker never noticed
    await rig.clock.advance(10)
    state = json.loads(broker.last(f"{PREFIX}/1/wallbox/state") or "{}")
    assert state.get("status") == 3  # later statuses are published again
    [logged] = crashes(caplog, "MQTT bridge: publishing a status failed unexpectedly")
    assert logged.exc_info is not None
    assert not crashes(caplog, "a status listener")  # the car's own catch-all never saw it
    bridge.stop()


async def test_an_openwb_wish_that_fails_unexpectedly_is_logged_and_the_next_works(
    rig, caplog, tmp_path
):
    bridge = OpenWbBridge(connected_publisher(Broker()), {3: 1}, tmp_path / "meters.json")
    bridge.bind(rig.controller)
    rig.car.set_intent = fail_first(1, rig.car.set_intent, KeyError("amps"))
    bridge.message(set_current_topic(3), b"10", True)
    await rig.clock.advance(1)
    [logged] = crashes(caplog, "openWB set/current of charge point 3 failed unexpectedly")
    assert "KeyError: 'amps'" in logged.getMessage() and logged.exc_info is not None
    bridge.message(set_current_topic(3), b"10", True)
    await rig.clock.run_until(lambda: rig.sim.charging and rig.sim.amps_request == 10, 120)
    bridge.stop()
