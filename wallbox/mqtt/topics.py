"""What teslahome publishes on MQTT and which commands it takes: pure rules.

    <prefix>/status                      online | offline (retained; offline is the last will)
    <prefix>/<car>/smt/<key>             a ScanMyTesla value by its catalogue key (retained)
    <prefix>/<car>/smt/time              the phone's time of the newest upload (retained)
    <prefix>/<car>/wallbox/<field>       a field of the wallbox status JSON (retained)
    <prefix>/<car>/wallbox/state         the whole status JSON (retained)
    <prefix>/<car>/wallbox/api_usage     billed calls and dollars, today and this month (JSON)
    <prefix>/<car>/wallbox/power_here    `power` at this charge point (0 while the car is elsewhere)
    <prefix>/<car>/wallbox/energy_here   the session's energy at this charge point (home_energy)
    <prefix>/<car>/wallbox/set/control   command: 1 | 0 (also ON/OFF, true/false)
    <prefix>/<car>/wallbox/set/amps      command: whole amps, as set_amps
    <prefix>/<car>/wallbox/set/soc       command: percent, as set_soc (1-49 guarded)
    <prefix>/<car>/wallbox/set/wake      command: wake the car (any payload, e.g. PRESS)
    <prefix>/<car>/wallbox/result        the answer to the latest command (not retained)

`<car>` is the car number, as in /tlwb/<car>/. Payloads are plain text: numbers
as the wallbox API writes them, booleans `true`/`false`, and a value nobody
knows is `None`: Home Assistant's own word for "unknown", which its numeric
sensors, numbers, switches and binary sensors all accept (an empty retained
payload would delete the topic, and a word such as `unknown` is refused).
Until the car's data has been read once after a start, its fields are not
published at all: the broker keeps the last known values, retained.
"""

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from storage.catalogue import Catalogue

UNKNOWN = "None"  # Home Assistant's PAYLOAD_NONE
COMMANDS = ("control", "amps", "soc", "wake")
CHARGING_STATES = frozenset({"Charging", "Starting"})

# Status fields published one by one: what automations and HA entities read.
# `age`, `updated` and `next_try_in` change every second and stay in `state`.
WALLBOX_FIELDS = (
    "status",
    "status_text",
    "soc",
    "targetsoc",
    "targetamp",
    "maxamp",
    "amps",
    "volts",
    "power",
    "phases",
    "energy",
    "limitsoc",
    "carmaxamp",
    "plugged_in",
    "connected",
    "charging_state",
    "car_state",
    "at_pv_location",
    "at_charge_point",
    "whereabouts",
    "evcc_status",
    "enabled",
    "last_error",
    "api_usage",  # JSON: {"billed", "today", "month", "month_projected_usd", "credit_usd"}
)
# Published even before the car's data was read: they are not the car's values.
NOT_FROM_THE_CAR = frozenset({"last_error", "api_usage"})

_TOPIC_LEVEL = re.compile(r"[^#+/\x00]+")


def check_prefix(prefix: str) -> str:
    """A topic prefix without wildcards or empty levels; raises ValueError."""
    levels = prefix.split("/")
    if not prefix or not all(_TOPIC_LEVEL.fullmatch(level) for level in levels):
        raise ValueError(f"{prefix!r} is not a topic prefix such as teslahome or home/tesla")
    return prefix


def parse_token_cars(entries: Iterable[str]) -> dict[str, int]:
    """`token=car` entries (car number 1..99); raises ValueError naming the bad one."""
    cars: dict[str, int] = {}
    for entry in entries:
        token, sep, car = entry.rpartition("=")
        token = token.strip()
        if not sep or not token or not car.strip().isdigit() or not 1 <= int(car) <= 99:
            raise ValueError(f"{_hide_token(entry)!r} must be token=car number, e.g. abc123=1")
        cars[token] = int(car)
    return cars


def parse_car_names(entries: Iterable[str]) -> dict[int, str]:
    """`car=name` entries (car number 1..99); raises ValueError naming the bad one."""
    names: dict[int, str] = {}
    for entry in entries:
        car, sep, name = entry.partition("=")
        car, name = car.strip(), name.strip()
        if not sep or not name or not car.isdigit() or not 1 <= int(car) <= 99:
            raise ValueError(f"{entry[:40]!r} must be car number=name, e.g. 1=Blue")
        names[int(car)] = name
    return names


def _hide_token(entry: str) -> str:
    token, sep, rest = entry.rpartition("=")
    return f"{token[:3]}…{sep}{rest}" if sep else f"{entry[:3]}…"


def car_of_token(token: str, cars: Mapping[str, int]) -> int | None:
    """The car a ScanMyTesla token's values belong to. Without a mapping every
    token is car 1 (one car, the common case); with one, unmapped tokens are
    not published."""
    if not cars:
        return 1
    return cars.get(token)


def text(value: Any) -> str:
    """A value as an MQTT payload."""
    if value is None:
        return UNKNOWN
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if not math.isfinite(value):
            return UNKNOWN
        return format(value, ".10g")  # the value, without float noise (0.1+0.2)
    if isinstance(value, (int, str)):
        return str(value)
    return json.dumps(value, separators=(",", ":"))


def smt_messages(
    prefix: str, car: int, values: Mapping[int, float], device_time: str, catalogue: Catalogue
) -> dict[str, str]:
    """Topic -> payload for one upload's values (a delta: only what changed)."""
    base = f"{prefix}/{car}/smt"
    messages = {f"{base}/{catalogue.info(vid).key}": text(float(v)) for vid, v in values.items()}
    if device_time:
        messages[f"{base}/time"] = device_time
    return messages


def wallbox_messages(prefix: str, status: Mapping[str, Any]) -> dict[str, str]:
    """Topic -> payload for a car's wallbox status, and the derived `charging`
    (the car charges), `charging_switch` (see `charging_switch`) and `power_here`."""
    base = f"{prefix}/{status['car']}/wallbox"
    values = {field: status.get(field) for field in WALLBOX_FIELDS}
    if values["car_state"] == "unknown":
        values["car_state"] = None
    values["charging"] = status.get("charging_state") in CHARGING_STATES
    values["charging_switch"] = charging_switch(status)
    # a wallbox's power: none while the car draws at another charger (as for openWB)
    values["power_here"] = 0 if status.get("at_charge_point") is False else status.get("power")
    if status.get("updated") is None:  # not read since the start: keep what the broker has
        values = {f: v for f, v in values.items() if f in NOT_FROM_THE_CAR}
        if status.get("car_state") not in (None, "unknown"):
            values["car_state"] = status["car_state"]  # asleep, learnt without a read
    messages = {f"{base}/{field}": text(value) for field, value in values.items()}
    messages[f"{base}/state"] = json.dumps(status, separators=(",", ":"), default=str)
    return messages


def charging_switch(status: Mapping[str, Any]) -> bool:
    """What a charging switch shows: the caller's wish while a start or stop is
    still on its way to the car, otherwise whether the car charges here. So a
    stop from the Tesla app turns it off, and a request shows at once."""
    pending = any(p.get("goal") == "charging" for p in status.get("pending") or ())
    wish = (status.get("intent") or {}).get("charging")
    if pending and wish is not None:
        return bool(wish)
    return status.get("status") == 3


def counted_energy(status: Mapping[str, Any]) -> float | None:
    """The session energy as the car counted it, None while it is only predicted.
    A prediction (wall power x time) runs ahead of the car's counter: shown on a
    total_increasing sensor, the next read falls back, and HA warns of a dip or,
    10 % down, books a new meter reading and counts the session twice."""
    return None if "energy" in (status.get("predicted") or ()) else status.get("energy")


def home_energy(
    energy: float | None, here: bool | None, foreign: float | None
) -> tuple[float | None, float | None]:
    """The session energy to show for this charge point, and what stays foreign.

    `foreign` is the session energy last seen while the car was elsewhere (a
    Supercharger): that session is not this charge point's, and stays foreign
    back home until the car's counter falls (a new session). Returns (energy to
    publish, or None to publish nothing and keep the last value; foreign)."""
    if energy is None or not math.isfinite(energy):
        return None, foreign
    if here is False:
        return None, energy
    if foreign is not None and energy >= foreign:
        return None, foreign
    return energy, None


def command_topic(prefix: str) -> str:
    """The subscription that catches every car's commands."""
    return f"{prefix}/+/wallbox/set/+"


@dataclass(frozen=True, slots=True)
class Command:
    car: str
    name: str  # control | amps | soc
    value: str


def parse_command(prefix: str, topic: str, payload: bytes) -> Command | None:
    """The command a message carries, or None when the topic is not a command."""
    head = f"{prefix}/"
    if not topic.startswith(head):
        return None
    levels = topic[len(head) :].split("/")
    if len(levels) != 4 or levels[1:3] != ["wallbox", "set"] or levels[3] not in COMMANDS:
        return None
    try:
        value = payload.decode("utf-8").strip()
    except UnicodeDecodeError:
        value = payload.decode("latin-1").strip()
    return Command(levels[0], levels[3], value)
