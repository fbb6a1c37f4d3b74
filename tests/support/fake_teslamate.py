"""TeslaMate, as far as its MQTT topics go: the simulator's car published as TeslaMate would.

TeslaMate publishes a car's whole summary (every non-nil value, retained, QoS 1,
"" for a few nil values) whenever any of it changed (vehicle_subscriber.ex).
`teslamate_topics` maps the simulator's `vehicle_data` to those values;
`TeslaMateMirror` polls a simulator process and publishes them to a broker
from a thread, and can fall silent or report `healthy=false` on demand.
"""

import json
import threading
import time
from typing import Any

import paho.mqtt.client as paho

from support.broker import Broker
from support.tesla_sim import http

# TeslaMate always publishes these, as "" when nil.
ALWAYS = ("charge_energy_added", "charger_actual_current", "charger_phases", "charger_power",
          "charger_voltage", "time_to_full_charge", "geofence")  # fmt: skip


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) < 1e15 else str(value)
    return str(value)


def teslamate_topics(data: dict, geofence: str | None = None, healthy: bool = True) -> dict:
    """{topic name: payload} as TeslaMate publishes a car's summary."""
    charge, drive = data["charge_state"], data["drive_state"]
    charging = charge["charging_state"] in ("Charging", "Starting")
    state = data["state"]
    if state == "online" and charging:
        state = "charging"
    values: dict[str, Any] = {
        "state": state,
        "healthy": healthy,
        "battery_level": charge["battery_level"],
        "usable_battery_level": charge["usable_battery_level"],
        "plugged_in": charge["charging_state"] != "Disconnected",
        "charging_state": charge["charging_state"],
        "charge_limit_soc": charge["charge_limit_soc"],
        "charge_port_door_open": charge["charge_port_door_open"],
        "charge_current_request": charge["charge_current_request"],
        "charge_current_request_max": charge["charge_current_request_max"],
        "charger_actual_current": charge["charger_actual_current"] if charging else None,
        "charger_voltage": charge["charger_voltage"] if charging else None,
        "charger_power": charge["charger_power"] if charging else None,
        "charger_phases": charge["charger_phases"],
        "charge_energy_added": charge["charge_energy_added"],
        "time_to_full_charge": charge["time_to_full_charge"] if charging else None,
        "geofence": geofence,
        "location": json.dumps({"latitude": drive["latitude"], "longitude": drive["longitude"]}),
        "latitude": drive["latitude"],
        "longitude": drive["longitude"],
    }
    return {
        name: _text(value) for name, value in values.items() if value is not None or name in ALWAYS
    }


def prefix(namespace: str, car_id: int) -> str:
    return f"teslamate/{namespace}/cars/{car_id}/" if namespace else f"teslamate/cars/{car_id}/"


class TeslaMateMirror:
    """Polls the simulator (uncounted) and publishes changes as TeslaMate, from a thread."""

    def __init__(
        self,
        broker: Broker,
        sim_url: str,
        vin: str,
        *,
        namespace: str,
        car_id: int = 1,
        interval: float = 0.2,
        geofence: str | None = None,
    ) -> None:
        self.broker = broker
        self.sim_url = sim_url
        self.vin = vin
        self.prefix = prefix(namespace, car_id)
        self.interval = interval
        self.geofence = geofence
        self.healthy = True
        self.silent = threading.Event()
        self.published: set[str] = set()
        self.bursts = 0
        self._last: dict[str, str] = {}
        self._stop = threading.Event()
        self._client = paho.Client(paho.CallbackAPIVersion.VERSION2, protocol=paho.MQTTv311)
        self._thread = threading.Thread(target=self._run, name="fake TeslaMate", daemon=True)

    def start(self) -> "TeslaMateMirror":
        self._client.connect(self.broker.url.host, self.broker.url.port)
        self._client.loop_start()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        for topic in self.published:  # clear our retained values from a shared broker
            self._client.publish(topic, b"", qos=1, retain=True).wait_for_publish(5)
        self._client.disconnect()
        self._client.loop_stop()

    def __enter__(self) -> "TeslaMateMirror":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def publish_now(self) -> None:
        status, data = http(f"{self.sim_url}/sim/cars/{self.vin}/data")
        assert status == 200, data
        values = teslamate_topics(data, self.geofence, self.healthy)
        if values == self._last:
            return
        self._last = values
        self.bursts += 1
        for name, payload in values.items():
            topic = self.prefix + name
            self.published.add(topic)
            self._client.publish(topic, payload, qos=1, retain=True)

    def say(self, name: str, payload: str, retain: bool = False) -> None:
        """Publish one topic now, as TeslaMate would (healthy is not retained)."""
        topic = self.prefix + name
        if retain:
            self.published.add(topic)
        self._client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            if self.silent.is_set():
                continue
            try:
                self.publish_now()
            except Exception:  # the simulator is gone at the end of a test
                if not self._stop.is_set():
                    time.sleep(self.interval)
