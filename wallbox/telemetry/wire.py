"""Coercing push-feed values: pure rules shared by every source.

Feeds are loose about types: fleet-telemetry sends a field as `12.3` in one
firmware and `"12.3"` in another (its README), `null` or `"invalid"` for a
value the car does not have, and enum names with or without their prefix
(`DetailedChargeStateCharging`, `Charging`). TeslaBle2Mqtt writes `None`
while the car sleeps. Each helper answers None for anything it cannot read.
"""

import json
import math
from typing import Any

UNSET = frozenset({"", "none", "null", "invalid", "<invalid>", "unknown", "nan"})


def text(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return str(value)
    if not isinstance(value, str):
        return None
    value = value.strip()
    return None if value.lower() in UNSET else value


def number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        found = float(value)
    else:
        words = text(value)
        if words is None:
            return None
        try:
            found = float(words)
        except ValueError:
            return None
    return found if math.isfinite(found) and abs(found) < 1e9 else None


def integer(value: Any) -> int | None:
    found = number(value)
    return None if found is None else round(found)


def boolean(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    words = text(value)
    if words is None:
        return None
    return {"true": True, "false": False, "on": True, "off": False}.get(words.lower())


def enum_name(value: Any, prefix: str) -> str | None:
    """`DetailedChargeStateCharging` and `Charging` are both `Charging`."""
    words = text(value)
    if words is None:
        return None
    if words.startswith(prefix) and len(words) > len(prefix):
        words = words[len(prefix) :]
    return None if words.lower() in UNSET else words


def position(value: Any) -> tuple[float | None, float | None]:
    """`{"latitude": .., "longitude": ..}` (numbers or strings) -> (lat, lon)."""
    if not isinstance(value, dict):
        return None, None
    lat, lon = number(value.get("latitude")), number(value.get("longitude"))
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None, None
    return lat, lon


def message_about(vin: str, data: str) -> dict[str, Any] | None:
    """A relay's JSON message on `vin`'s own stream; None when it is no JSON object, or
    names another car."""
    try:
        message = json.loads(data)
    except ValueError:
        return None
    if not isinstance(message, dict):
        return None
    about = message.get("vin")
    return None if isinstance(about, str) and about.upper() != vin.upper() else message
