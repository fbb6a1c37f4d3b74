"""TeslaMate's MQTT topics and what their values say about a car: pure rules.

TeslaMate publishes every value of a car under `teslamate/cars/<id>/<name>`
(`teslamate/<namespace>/cars/...` with a namespace) as a plain string, on
change, mostly retained; an empty string means "unknown" (PROTOCOL.md 6).
`snapshot` turns the newest values into the `ChargeState` the controller
reads; unknown or malformed values become None.

TeslaMate's car ids are its own (1, 2, ... in the order cars were added);
`teslamate_cars` maps them to this API's cars (`1=5YJ3...` or `1=2`), and an
id without an entry is the car with the same number. `heard` names a car by
that id (teslamate_feed.py maps it to a VIN), and reads `healthy` as the
bridge's own word, as TeslaBle2Mqtt's `status` is (health.py).
"""

import json
from collections.abc import Mapping, Sequence

from wallbox.telemetry.model import Heard, Report
from wallbox.telemetry.wire import boolean, number, position
from wallbox.vehicle.charge_state import (
    ASLEEP,
    CHARGING_STATES,
    OFFLINE,
    ONLINE,
    UNKNOWN,
    ChargeState,
    plugged_in_from,
)

SOURCE = "teslamate"
LABEL = "TeslaMate"
UNHEALTHY = "reports healthy=false (its Tesla API access is failing)"

# The topics read: charging, location, geofence, the car's state and TeslaMate's health.
TOPIC_NAMES = (
    "battery_level",
    "plugged_in",
    "charging_state",
    "charge_energy_added",
    "charge_limit_soc",
    "charger_actual_current",
    "charger_phases",
    "charger_power",
    "charger_voltage",
    "charge_current_request",
    "charge_current_request_max",
    "time_to_full_charge",
    "geofence",
    "location",
    "latitude",
    "longitude",
    "state",
    "healthy",
)

# TeslaMate's `state` -> Tesla's sleep state. "suspended" means TeslaMate stopped
# polling to let the car fall asleep: whether it sleeps yet is unknown.
_CAR_STATES = {
    "online": ONLINE,
    "charging": ONLINE,
    "driving": ONLINE,
    "updating": ONLINE,
    "asleep": ASLEEP,
    "offline": OFFLINE,
    "unavailable": OFFLINE,
}


def topic_prefix(namespace: str) -> str:
    ns = namespace.strip().strip("/")
    return f"teslamate/{ns}/cars/" if ns else "teslamate/cars/"


def subscriptions(namespace: str) -> list[str]:
    prefix = topic_prefix(namespace)
    return [f"{prefix}+/{name}" for name in TOPIC_NAMES]


def parse_topic(topic: str, namespace: str) -> tuple[int, str] | None:
    """(TeslaMate car id, value name) of one of our topics; None for anything else."""
    prefix = topic_prefix(namespace)
    if not topic.startswith(prefix):
        return None
    rest = topic[len(prefix) :].split("/")
    if len(rest) != 2 or not rest[0].isascii() or not rest[0].isdigit() or len(rest[0]) > 6:
        return None
    if rest[1] not in TOPIC_NAMES:
        return None
    return int(rest[0]), rest[1]


def heard(topic: str, payload: bytes, namespace: str) -> Heard | None:
    """One message, about the car TeslaMate numbers (its id as the name); None if not ours."""
    parsed = parse_topic(topic, namespace)
    if parsed is None:
        return None
    car_id, name = parsed
    value = payload.decode("utf-8", errors="replace")
    online = healthy_of({name: value}) if name == "healthy" else None
    return Heard(str(car_id), values={name: value}, bridge_online=online)


def parse_car_map(entries: Sequence[str]) -> dict[int, str]:
    """`teslamate_cars`: `<TeslaMate id>=<car number or VIN>`, one per entry.

    Returns {TeslaMate id: "3" or an upper-case VIN}; raises ValueError naming
    the bad entry.
    """
    mapping: dict[int, str] = {}
    for entry in entries:
        left, sep, right = entry.partition("=")
        left, right = left.strip(), right.strip().upper()
        if not sep or not left.isdigit() or not right:
            raise ValueError(f"{entry!r} is not <TeslaMate car id>=<car number or VIN>, e.g. 1=2")
        if not (right.isdigit() and len(right) <= 3) and not (len(right) == 17 and right.isalnum()):
            raise ValueError(f"{entry!r}: {right!r} is neither a car number nor a 17-character VIN")
        if int(left) in mapping:
            raise ValueError(f"TeslaMate car {left} is mapped twice")
        mapping[int(left)] = str(int(right)) if right.isdigit() else right
    return mapping


def _text(values: Mapping[str, str], name: str) -> str | None:
    value = values.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None  # TeslaMate publishes "" for nil


def _number(values: Mapping[str, str], name: str) -> float | None:
    return number(_text(values, name))


def _integer(values: Mapping[str, str], name: str) -> int | None:
    found = _number(values, name)
    return None if found is None else round(found)


def _boolean(values: Mapping[str, str], name: str) -> bool | None:
    return boolean(_text(values, name))


def _position(values: Mapping[str, str]) -> tuple[float | None, float | None]:
    text = _text(values, "location")
    try:
        where = json.loads(text) if text is not None else None
    except ValueError:
        where = None
    latitude, longitude = position(where)
    if latitude is not None:
        return latitude, longitude
    return position({"latitude": values.get("latitude"), "longitude": values.get("longitude")})


def healthy_of(values: Mapping[str, str]) -> bool | None:
    """TeslaMate's `healthy`: False when its Tesla API access is failing; None if unsaid."""
    return _boolean(values, "healthy")


def car_state_of(values: Mapping[str, str]) -> str:
    state = _text(values, "state")
    return _CAR_STATES.get(state.lower(), UNKNOWN) if state else UNKNOWN


def is_charging(values: Mapping[str, str]) -> bool:
    return _text(values, "charging_state") in CHARGING_STATES or _text(values, "state") == (
        "charging"
    )


def dc_fast_charging(values: Mapping[str, str]) -> bool | None:
    """TeslaMate has no fast-charger topic, but on DC the car reports no phases
    (TeslaMate's "") while it draws power, which it never does on AC."""
    if "charger_phases" not in values or not is_charging(values):
        return None
    power = _number(values, "charger_power")
    return _text(values, "charger_phases") is None and power is not None and power > 0


def snapshot(values: Mapping[str, str], read_at: float, reported_at: float | None) -> ChargeState:
    """A `ChargeState` from TeslaMate's newest values; unknown or malformed ones are None.

    Plugged in follows `charging_state` (anything but Disconnected) as it does
    for API reads, and TeslaMate's own `plugged_in` only when that is unknown.
    """
    charging_state = _text(values, "charging_state")
    if charging_state is None and _text(values, "state") == "charging":
        charging_state = "Charging"  # TeslaMate's own state: its charging process runs
    plugged_in = plugged_in_from({"charging_state": charging_state})
    if plugged_in is None:
        plugged_in = _boolean(values, "plugged_in")
    latitude, longitude = _position(values)
    return ChargeState(
        read_at=read_at,
        car_state=car_state_of(values),
        plugged_in=plugged_in,
        charging_state=charging_state,
        battery_level=_integer(values, "battery_level"),
        charge_limit_soc=_integer(values, "charge_limit_soc"),
        charge_current_request=_integer(values, "charge_current_request"),
        charge_current_request_max=_integer(values, "charge_current_request_max"),
        charger_actual_current=_integer(values, "charger_actual_current"),
        charger_voltage=_integer(values, "charger_voltage"),
        charger_power=_number(values, "charger_power"),
        charge_energy_added=_number(values, "charge_energy_added"),
        time_to_full_charge=_number(values, "time_to_full_charge"),
        fast_charger_present=dc_fast_charging(values),
        latitude=latitude,
        longitude=longitude,
        geofence=_text(values, "geofence"),
        source=SOURCE,
        reported_at=reported_at,
    )


def report_snapshot(report: Report, read_at: float) -> ChargeState:
    """`snapshot` of a source's report (teslamate_feed.py)."""
    return snapshot(report.values, read_at, report.last_report_at)
