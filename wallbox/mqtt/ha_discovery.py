"""Home Assistant MQTT discovery: the config messages for each car, as pure rules.

    <discovery prefix>/<component>/<node>/car<N>_<key>/config

One device per car (`<node>_car<N>`), named after the car (its name, else its
VIN). ScanMyTesla sensors exist for the values of the main groups (battery,
energy, drive, power) that the car has sent at least once, with the
catalogue's unit, device class and state class; the wallbox entities
(ha_entities.py) exist for the cars the wallbox API knows. Every entity names
`<prefix>/status` as its availability topic, so HA greys them out when the
proxy is gone (the last will). Entity ids are fixed by `default_entity_id`
(`<component>.<node>_car<N>_<key>`, slugified as HA slugified the deprecated
`object_id`, so ids stay what it gave).

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
from wallbox.mqtt.ha_entities import wallbox_entities

SMT_GROUPS = frozenset({"battery", "energy", "drive", "power"})
_NODE_UNSAFE = re.compile(r"[^a-zA-Z0-9_-]+")
_SLUG_UNSAFE = re.compile(r"[^a-z0-9]+")
_CONFIG_TOPIC = re.compile(r"[^/]+/car([0-9]+)_([a-z0-9_]+)/config$")


def entity_slug(object_id: str) -> str:
    """An entity id's object part as HA's slugify made it from `object_id`: lower
    case, runs of anything else one `_` (`Tesla-Home_car1_soc` -> `tesla_home_car1_soc`).
    A node may keep `-` and capitals, which an entity id may not."""
    return _SLUG_UNSAFE.sub("_", object_id.lower()).strip("_")


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

    @property
    def birth_topic(self) -> str:
        """Where HA says `online` when it (re)starts: the configs are sent again."""
        return f"{self.discovery_prefix}/status"

    def car_of_amps_config(self, topic: str) -> int | None:
        """The car whose charge current number `topic` configures."""
        match = _CONFIG_TOPIC.search(topic)
        owned = self.owns(topic) and topic.startswith(f"{self.discovery_prefix}/number/")
        return int(match[1]) if owned and match and match[2] == "wallbox_amps" else None

    def topic(self, component: str, car: int, key: str) -> str:
        return f"{self.discovery_prefix}/{component}/{self.node}/car{car}_{key}/config"

    def device(self, car: int, name: str | None, vin: str | None = None) -> dict[str, Any]:
        device = {
            "identifiers": [f"{self.node}_car{car}"],
            "name": device_name(car, name, vin),
            "manufacturer": "Tesla",
            "model": "via teslahome",
        }
        if vin:
            device["serial_number"] = vin
        return device

    def _entity(
        self, component: str, car: int, key: str, name: str, device: dict[str, Any]
    ) -> dict[str, Any]:
        entity = f"{self.node}_car{car}_{key}"
        return {
            "name": name,
            "unique_id": entity,
            # what `object_id` (deprecated, gone in HA 2026.4) made: ids stay as they were
            "default_entity_id": f"{component}.{entity_slug(entity)}",
            "device": device,
            "availability_topic": f"{self.prefix}/status",
        }

    def smt_sensor(self, car: int, info: ValueInfo, device: dict[str, Any]) -> tuple[str, dict]:
        config = self._entity("sensor", car, info.key, info.name, device)
        config["state_topic"] = f"{self.prefix}/{car}/smt/{info.key}"
        if info.unit:
            config["unit_of_measurement"] = info.unit
        if info.ha_device_class:
            config["device_class"] = info.ha_device_class
        if info.ha_state_class:
            config["state_class"] = info.ha_state_class
        return self.topic("sensor", car, info.key), config

    def smt_configs(
        self,
        car: int,
        value_ids: Iterable[int],
        catalogue: Catalogue,
        car_name: str | None = None,
        vin: str | None = None,
    ) -> dict[str, str]:
        """Sensors for the main values among those the car has sent."""
        device = self.device(car, car_name, vin)
        configs = {}
        for value_id in value_ids:
            info = catalogue.info(value_id)
            if info.group in SMT_GROUPS:
                topic, config = self.smt_sensor(car, info, device)
                configs[topic] = _json(config)
        return configs

    def wallbox_configs(
        self,
        status: Mapping[str, Any],
        amps_max: int | None,
        *,
        name: str | None = None,
        skip: frozenset[str] = frozenset(),
    ) -> dict[str, str]:
        """The wallbox entities of one car, from its status JSON (ha_entities.py).
        `amps_max`: the charge current number's maximum; None leaves the number
        out until it is known, so its range never jumps. `skip`: keys left out."""
        car = int(status["car"])
        device = self.device(car, name or status.get("name"), status.get("vin"))
        base = f"{self.prefix}/{car}/wallbox"
        configs: dict[str, str] = {}
        for spec in wallbox_entities(status, amps_max):
            if spec.key in skip:
                continue
            key = f"wallbox_{spec.key}"
            config = self._entity(spec.component, car, key, spec.name, device)
            for field, value in spec.fields.items():
                config[field] = f"{base}/{value}" if field.endswith("_topic") else value
            configs[self.topic(spec.component, car, key)] = _json(config)
        return configs


def device_name(car: int, name: str | None, vin: str | None) -> str:
    """The car's own name, else its VIN, else its number."""
    if name:
        return name
    return f"Tesla {vin}" if vin else f"Tesla {car}"


def announced_amps_max(payload: bytes) -> int | None:
    """The maximum a retained charge current config announced (kept across restarts)."""
    try:
        value = json.loads(payload).get("max")
    except (ValueError, AttributeError, RecursionError):
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


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
