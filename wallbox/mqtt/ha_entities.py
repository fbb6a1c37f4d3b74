"""The wallbox entities Home Assistant gets for each car: one table, pure.

Each entity reads one topic under `<prefix>/<car>/wallbox/` (topics.py) and
HA's conventions hold throughout: a value nobody knows arrives as `None`,
which every platform below takes as "unknown". Keys are part of the unique ids
and entity ids: never rename one.

TESLAMATE lists what TeslaMate 4.1's own discovery already shows (its topics
`battery_level`, `state`, `charge_limit_soc`, `charger_actual_current`,
`charger_voltage`, `charger_phases`): left out when `mqtt_ha_skip_teslamate`
is on. Ours that mean something else stay: *Plugged in here* and *Energy
added here* count only this charge point, and TeslaMate has no controls.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

TESLAMATE = frozenset({"soc_api", "car_state", "limitsoc", "amps_actual", "volts", "phases"})
CAR_STATES = ["online", "asleep", "offline"]


@dataclass(frozen=True, slots=True)
class EntitySpec:
    component: str
    key: str
    name: str
    fields: dict[str, Any] = field(default_factory=dict)  # `*_topic` values: under wallbox/


def _sensor(key: str, name: str, topic: str, unit: str | None = None, **more: Any) -> EntitySpec:
    fields = {"state_topic": topic} | ({"unit_of_measurement": unit} if unit else {}) | more
    return EntitySpec("sensor", key, name, fields)


def wallbox_entities(status: Mapping[str, Any], amps_max: int | None) -> list[EntitySpec]:
    measured = {"state_class": "measurement"}
    specs = [
        EntitySpec(
            "switch",
            "charging",
            "Charging",
            {
                "state_topic": "charging_switch",
                "command_topic": "set/control",
                "payload_on": "1",
                "payload_off": "0",
                "state_on": "true",
                "state_off": "false",
                "icon": "mdi:ev-station",
            },
        ),
        EntitySpec(
            "number",
            "soc",
            "Target SoC",
            {
                "state_topic": "targetsoc",
                "command_topic": "set/soc",
                "min": 1,
                "max": 100,
                "step": 1,
                "mode": "slider",
                "unit_of_measurement": "%",
                "device_class": "battery",
            },
        ),
        EntitySpec(
            "button", "wake", "Wake up", {"command_topic": "set/wake", "icon": "mdi:sleep-off"}
        ),
        _sensor("status", "Wallbox status", "status_text"),
        _sensor("power", "Charge power", "power_here", "W", device_class="power", **measured),
        _sensor(
            "energy",
            "Energy added here",
            "energy_here",
            "kWh",
            device_class="energy",
            state_class="total_increasing",
        ),
        _sensor("soc_api", "Battery level", "soc", "%", device_class="battery", **measured),
        _sensor("amps_actual", "Actual current", "amps", "A", device_class="current", **measured),
        _sensor("volts", "Voltage", "volts", "V", device_class="voltage", **measured),
        _sensor("phases", "Phases", "phases", icon="mdi:sine-wave", **measured),
        _sensor("limitsoc", "Car's charge limit", "limitsoc", "%", icon="mdi:battery-lock"),
        _sensor("car_state", "Car state", "car_state", device_class="enum", options=CAR_STATES),
        _sensor(
            "last_error",
            "Last error",
            "last_error",
            value_template="{{ 'none' if value == 'None' else value[:255] }}",
            entity_category="diagnostic",
        ),
        EntitySpec(
            "binary_sensor",
            "plugged_in",
            "Plugged in here",
            {
                "state_topic": "connected",
                "payload_on": "true",
                "payload_off": "false",
                "device_class": "plug",
            },
        ),
        EntitySpec(
            "binary_sensor",
            "charging_now",
            "Car charging",
            {
                "state_topic": "charging",
                "payload_on": "true",
                "payload_off": "false",
                "device_class": "battery_charging",
            },
        ),
    ]
    if amps_max is not None:
        specs.insert(1, _amps_number(amps_max))
    if "api_usage" in status:
        specs += _api_usage()
    return specs


def _api_usage() -> list[EntitySpec]:
    """What the Tesla API cost (the status's `api_usage`, JSON; `None` before it is known)."""

    def of(expression: str) -> str:
        return f"{{{{ ({expression}) if value_json is defined and value_json else None }}}}"

    def cost(key: str, name: str, period: str) -> EntitySpec:
        return _sensor(
            key,
            name,
            "api_usage",
            "USD",
            device_class="monetary",
            value_template=of(f"value_json.{period}.usd"),
            entity_category="diagnostic",
        )

    today = "value_json.today"
    return [
        cost("api_usd_today", "Tesla API cost today", "today"),
        cost("api_usd_month", "Tesla API cost this month", "month"),
        _sensor(
            "api_calls_today",
            "Tesla API calls today",
            "api_usage",
            icon="mdi:api",
            value_template=of(f"{today}.data + {today}.command + {today}.wake"),
            entity_category="diagnostic",
        ),
    ]


def _amps_number(amps_max: int) -> EntitySpec:
    return EntitySpec(
        "number",
        "amps",
        "Charge current",
        {
            "state_topic": "targetamp",
            "command_topic": "set/amps",
            "min": 1,
            "max": amps_max,
            "step": 1,
            "mode": "box",
            "unit_of_measurement": "A",
            "device_class": "current",
            # a request outside the range (another charger's 32 A) shows as unknown:
            # HA would log "Invalid value" and keep showing a stale one
            "value_template": f"{{{{ value if 1 <= value | int(0) <= {amps_max} else 'None' }}}}",
        },
    )
