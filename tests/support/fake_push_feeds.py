"""fleet-telemetry's MQTT dispatcher and TeslaBle2Mqtt, as far as their topics go: the
simulator's car published as each would (PROTOCOL.md 9).

`fleet_topics` / `tb2m_topics` map the simulator's `vehicle_data` to {topic under the
car's prefix: payload}; `PushMirror` polls a simulator process and publishes the changes
to a broker from a thread, and can fall silent on demand.
"""

import json
import threading
import time
from collections.abc import Callable

import paho.mqtt.client as paho

from support.broker import Broker
from support.tesla_sim import http


def fleet_topics(data: dict, *, strings: bool = False) -> dict[str, str]:
    """{`v/<Field>` or `connectivity`: JSON payload}; an asleep car streams nothing but
    its connectivity. `strings`: numbers typed as strings, as some firmware sends them."""
    online = data["state"] == "online"
    topics = {"connectivity": json.dumps({"ConnectionId": "c1", "Status": "CONNECTED" if online
              else "DISCONNECTED", "CreatedAt": "2026-12-07T20:00:00Z"})}  # fmt: skip
    if not online:
        return topics
    charge, drive = data["charge_state"], data["drive_state"]
    dc = bool(charge["fast_charger_present"])
    fields = {
        "BatteryLevel": float(charge["battery_level"]),
        "Soc": float(charge["usable_battery_level"]),
        "ChargeLimitSoc": charge["charge_limit_soc"],
        "ChargeAmps": float(charge["charger_actual_current"]),
        "ChargeCurrentRequest": charge["charge_current_request"],
        "ChargeCurrentRequestMax": charge["charge_current_request_max"],
        "ChargerVoltage": float(charge["charger_voltage"]),
        "ACChargingPower": 0.0 if dc else float(charge["charger_power"]),
        "DCChargingPower": float(charge["charger_power"]) if dc else 0.0,
        "ACChargingEnergyIn": charge["charge_energy_added"],
        "DetailedChargeState": "DetailedChargeState" + charge["charging_state"],
        "ChargeState": "Idle",  # the deprecated field says nothing useful
        "FastChargerPresent": dc,
        "FastChargerType": "FastCharger" + (charge["fast_charger_type"] if dc else "Unknown"),
        "TimeToFullCharge": charge["time_to_full_charge"],
        "Location": {"latitude": drive["latitude"], "longitude": drive["longitude"]},
    }
    for name, value in fields.items():
        if strings and isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        topics[f"v/{name}"] = json.dumps(value)
    return topics


def tb2m_topics(data: dict) -> dict[str, str]:
    """{`<name>/state`, `sleep_status/state`, `status`: text}; `None` while asleep."""
    charge, asleep = data["charge_state"], data["state"] != "online"
    values = {
        "charge_enable": str(charge["charging_state"] in ("Charging", "Starting")).lower(),
        "charging_amps": charge["charge_current_request"],
        "charging_limit": charge["charge_limit_soc"],
        "battery_level": charge["usable_battery_level"],
        "charging_state": charge["charging_state"],
        "charger_actual_current": charge["charger_actual_current"],
        "charge_power": charge["charger_power"],
        "charge_energy_added": charge["charge_energy_added"],
        "time_to_charge_limit": round((charge["time_to_full_charge"] or 0) * 60),
        "charge_cable_connected": str(charge["charging_state"] != "Disconnected").lower(),
    }
    sleep = "VEHICLE_SLEEP_STATUS_ASLEEP" if asleep else "VEHICLE_SLEEP_STATUS_AWAKE"
    topics = {f"{name}/state": "None" if asleep else str(v) for name, v in values.items()}
    return topics | {"sleep_status/state": sleep, "status": "online"}


class PushMirror:
    """Polls the simulator (uncounted) and publishes what changed under `<base>/<VIN>/`."""

    def __init__(self, broker: Broker, sim_url: str, vin: str, base: str,
                 topics: Callable[[dict], dict[str, str]], *, retain: bool = True,
                 interval: float = 0.2) -> None:  # fmt: skip
        self.sim_url, self.vin, self.topics = sim_url, vin, topics
        self.prefix = f"{base}/{vin}/"
        self.broker, self.retain, self.interval = broker, retain, interval
        self.silent = threading.Event()
        self.bursts = 0
        self.published: set[str] = set()
        self._last: dict[str, str] = {}
        self._stop = threading.Event()
        self._client = paho.Client(paho.CallbackAPIVersion.VERSION2, protocol=paho.MQTTv311)
        self._thread = threading.Thread(target=self._run, name="fake push feed", daemon=True)

    def __enter__(self) -> "PushMirror":
        self._client.connect(self.broker.url.host, self.broker.url.port)
        self._client.loop_start()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        for topic in self.published:  # clear our retained values from a shared broker
            self._client.publish(topic, b"", qos=1, retain=True).wait_for_publish(5)
        self._client.disconnect()
        self._client.loop_stop()

    def publish_now(self) -> None:
        status, data = http(f"{self.sim_url}/sim/cars/{self.vin}/data")
        assert status == 200, data
        changed = {k: v for k, v in self.topics(data).items() if self._last.get(k) != v}
        if not changed:
            return
        self._last.update(changed)
        self.bursts += 1
        for name, payload in changed.items():
            self.published.add(self.prefix + name)
            self._client.publish(self.prefix + name, payload, qos=1, retain=self.retain)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            if self.silent.is_set():
                continue
            try:
                self.publish_now()
            except Exception:  # the simulator is gone at the end of a test
                if not self._stop.is_set():
                    time.sleep(self.interval)
