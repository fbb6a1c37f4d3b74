"""Home Assistant MQTT discovery: the config messages for each car, as pure rules.

    <discovery prefix>/<component>/<node>/car<N>_<key>/config

One device per car (`<node>_car<N>`). ScanMyTesla sensors exist for the values
of the main groups (battery, energy, drive, power) that the car has sent at
least once, with the catalogue's unit, device class and state class; the
wallbox entities (charging switch, amps and target SoC numbers, status and a
few sensors) exist for the cars the wallbox API knows. Every entity names
`<prefix>/status` as its availability topic, so HA greys them out when the
proxy is gone (the last will).

Configs are retained. What is retained under our node but no longer wanted (a
car removed, discovery turned off) is cleared with an empty retained message:
`stale_configs` decides which.
"""

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from storage.catalogue import Catalogue, ValueInfo

SMT_GROUPS = frozenset({"battery", "energy", "drive", "power"})
_NODE_UNSAFE = re.compile(r"[^a-zA-Z0-9_-]+")
_CONFIG_TOPIC = re.compile(r"[^/]+/car([0-9]+)_([a-z0-9_]+)/config$")


def node_id(prefix: str) -> str:
    """The discovery node for a topic prefix: `home/tesla` -> `home_tesla`."""
    return _NODE_UNSAFE.sub("_", prefix).strip("_") or "teslahome"


@dataclass(frozen=True, slots=True)
class Discovery:
    prefix: str  # our topic prefix
    discovery_prefix: str = "homeassistant"

    @property
    def node(self) -> str:
        return node_id(self.prefix)

    @property
    def subscription(self) -> str:
        """Every config retained under our node, to find stale ones."""
        return f"{self.discovery_prefix}/+/{self.node}/+/config"

    def owns(self, topic: str) -> bool:
        """Whether `topic` is a config under our node (what `subscription` matches)."""
        head = f"{self.discovery_prefix}/"
        levels = topic[len(head) :].split("/") if topic.startswith(head) else []
        return len(levels) == 4 and levels[1] == self.node and levels[3] == "config"

    def topic(self, component: str, car: int, key: str) -> str:
        return f"{self.discovery_prefix}/{component}/{self.node}/car{car}_{key}/config"

    def device(self, car: int, name: str | None) -> dict[str, Any]:
        return {
            "identifiers": [f"{self.node}_car{car}"],
            "name": name or f"Tesla car {car}",
            "manufacturer": "Tesla",
            "model": "via teslahome",
        }

    def _entity(self, car: int, key: str, name: str, device: dict[str, Any]) -> dict[str, Any]:
        return {
            "name": name,
            "unique_id": f"{self.node}_car{car}_{key}",
            "object_id": f"{self.node}_car{car}_{key}",
            "device": device,
            "availability_topic": f"{self.prefix}/status",
        }

    def smt_sensor(self, car: int, info: ValueInfo, car_name: str | None) -> tuple[str, dict]:
        config = self._entity(car, info.key, info.name, self.device(car, car_name))
        config["state_topic"] = f"{self.prefix}/{car}/smt/{info.key}"
        if info.unit:
            config["unit_of_measurement"] = info.unit
        if info.ha_device_class:
            config["device_class"] = info.ha_device_class
        if info.ha_state_class:
            config["state_class"] = info.ha_state_class
        return self.topic("sensor", car, info.key), config

    def smt_configs(
        self, car: int, value_ids: Iterable[int], catalogue: Catalogue, car_name: str | None = None
    ) -> dict[str, str]:
        """Sensors for the main values among those the car has sent."""
        configs = {}
        for value_id in value_ids:
            info = catalogue.info(value_id)
            if info.group in SMT_GROUPS:
                topic, config = self.smt_sensor(car, info, car_name)
                configs[topic] = _json(config)
        return configs

    def wallbox_configs(self, status: Mapping[str, Any]) -> dict[str, str]:
        """The wallbox entities of one car, from its status JSON."""
        car = int(status["car"])
        device = self.device(car, status.get("name"))
        base = f"{self.prefix}/{car}/wallbox"
        configs: dict[str, str] = {}

        def add(component: str, key: str, name: str, **fields: Any) -> None:
            config = self._entity(car, f"wallbox_{key}", name, device) | fields
            configs[self.topic(component, car, f"wallbox_{key}")] = _json(config)

        add(
            "switch",
            "charging",
            "Charging",
            state_topic=f"{base}/enabled",
            command_topic=f"{base}/set/control",
            payload_on="1",
            payload_off="0",
            state_on="true",
            state_off="false",
            icon="mdi:ev-station",
        )
        add(
            "number",
            "amps",
            "Charge current",
            state_topic=f"{base}/targetamp",
            command_topic=f"{base}/set/amps",
            min=1,
            max=int(status.get("carmaxamp") or 32),
            step=1,
            mode="box",
            unit_of_measurement="A",
            device_class="current",
        )
        add(
            "number",
            "soc",
            "Target SoC",
            state_topic=f"{base}/targetsoc",
            command_topic=f"{base}/set/soc",
            min=1,
            max=100,
            step=1,
            mode="slider",
            unit_of_measurement="%",
            device_class="battery",
        )
        add("sensor", "status", "Wallbox status", state_topic=f"{base}/status_text")
        add(
            "sensor",
            "power",
            "Charge power",
            state_topic=f"{base}/power",
            unit_of_measurement="W",
            device_class="power",
            state_class="measurement",
        )
        add(
            "sensor",
            "energy",
            "Energy added",
            state_topic=f"{base}/energy",
            unit_of_measurement="kWh",
            device_class="energy",
            state_class="total_increasing",
        )
        add(
            "sensor",
            "soc_api",
            "Battery level",
            state_topic=f"{base}/soc",
            unit_of_measurement="%",
            device_class="battery",
            state_class="measurement",
        )
        add(
            "binary_sensor",
            "plugged_in",
            "Plugged in",
            state_topic=f"{base}/connected",  # here: a car plugged in elsewhere is not
            payload_on="true",
            payload_off="false",
            device_class="plug",
        )
        return configs


def stale_configs(
    retained: Iterable[str], wanted: Iterable[str], *, keep_wallbox: bool = False
) -> list[str]:
    """Config topics retained under our node that nobody wants any more.
    `keep_wallbox` spares the wallbox entities while the car list is unknown
    (the Tesla API not reached yet), so a slow start does not delete them."""
    wanted = set(wanted)
    stale = []
    for topic in sorted(set(retained) - wanted):
        match = _CONFIG_TOPIC.search(topic)
        if keep_wallbox and match and match[2].startswith("wallbox_"):
            continue
        stale.append(topic)
    return stale


def _json(config: Mapping[str, Any]) -> str:
    return json.dumps(config, separators=(",", ":"), ensure_ascii=False)
