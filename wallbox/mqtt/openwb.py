"""openWB 2.x "generic MQTT" charge point: the car as a charge point openWB controls.

openWB reads a charge point's state from retained topics on its own broker
and writes the current it wants (PROTOCOL.md section 7):

    openWB/mqtt/chargepoint/<id>/get/power          W, float
    .../get/imported                                Wh charged, a counter that never falls
    .../get/currents, .../get/voltages              per phase, [L1, L2, L3]
    .../get/plug_state, .../get/charge_state        true | false
    .../get/phases_in_use                           1..3
    .../get/soc                                     %
    .../get/max_evse_current                        A the charge cable allows
    .../set/current                                 A openWB wants; 0 means stop

Payloads are JSON, as openWB decodes them. `set/current` maps onto the same
intent as the HTTP API: 0 stops charging, anything else starts it at that
current, capped at what the car takes (openWB asks for a ceiling, not an
exact value the car must refuse).
"""

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from wallbox.control.intent import AMPS_CEILING, IntentError

ROOT = "openWB/mqtt/chargepoint"


def parse_chargepoints(entries: Iterable[str]) -> dict[int, int]:
    """`<openWB charge point id>=<car number>` entries; raises ValueError."""
    points: dict[int, int] = {}
    for entry in entries:
        point, sep, car = entry.partition("=")
        if not (sep and point.strip().isdigit() and car.strip().isdigit() and int(car) >= 1):
            raise ValueError(f"{entry!r} must be <charge point id>=<car number>, e.g. 3=1")
        points[int(point)] = int(car)
    return points


def set_current_topic(point: int) -> str:
    return f"{ROOT}/{point}/set/current"


def point_of_topic(topic: str) -> int | None:
    """The charge point a `set/current` message is for."""
    head, _, rest = topic.partition(f"{ROOT}/")
    point, _, tail = rest.partition("/")
    if head or tail != "set/current" or not point.isdigit():
        return None
    return int(point)


def current_changes(payload: bytes, car_max: int | None) -> dict[str, Any]:
    """The intent a `set/current` payload asks for; raises IntentError."""
    try:
        current = float(json.loads(payload))
    except (ValueError, TypeError, RecursionError):
        raise IntentError(f"set/current must be a number of amps, got {payload[:20]!r}") from None
    if not math.isfinite(current) or current < 0:
        raise IntentError(f"set/current must be 0 or more amps, got {current:g}")
    amps = round(current)
    if amps == 0:
        return {"charging": False}
    ceiling = car_max if car_max and car_max > 0 else AMPS_CEILING
    return {"charging": True, "amps": min(amps, ceiling)}


def chargepoint_messages(
    point: int, status: Mapping[str, Any], imported_wh: float
) -> dict[str, str]:
    """Topic -> JSON payload for the car's state as charge point `point`."""
    amps = status.get("amps") or 0
    volts = status.get("volts") or 0
    phases = status.get("phases") or 1
    here = status.get("at_charge_point") is not False  # a car elsewhere is not plugged in here
    charging = status.get("charging_state") == "Charging" and here
    currents = [float(amps) if i < phases and charging else 0.0 for i in range(3)]
    voltages = [float(volts) if i < phases else 0.0 for i in range(3)]
    state = {
        "power": float(status.get("power") or 0) if charging else 0.0,
        "imported": round(imported_wh, 1),
        "exported": 0,
        "currents": currents,
        "voltages": voltages,
        "plug_state": bool(status.get("plugged_in")) and here,
        "charge_state": charging,
        "phases_in_use": phases,
    }
    if status.get("plugged_in") is None and here:
        del state["plug_state"]  # not read yet: "false" would tell openWB the car left
    if status.get("soc") is not None:
        state["soc"] = status["soc"]
    if status.get("maxamp") is not None:
        state["max_evse_current"] = status["maxamp"]
    return {f"{ROOT}/{point}/get/{name}": json.dumps(value) for name, value in state.items()}


@dataclass(slots=True)
class ImportedMeter:
    """A charge counter in Wh that only grows, from the car's `energy` (kWh added in
    the current session, which starts again at 0 with the next session). Only
    energy added at this charge point counts: a session at a Supercharger is not
    this charge point's. Kept across restarts (`to_json`)."""

    wh: float = 0.0  # counted so far
    last_kwh: float = 0.0  # the car's session energy when last seen

    def update(self, energy_kwh: float | None, here: bool = True) -> float:
        if energy_kwh is not None and math.isfinite(energy_kwh) and energy_kwh >= 0:
            # less than before: a new session began, and all of it is new
            gained = energy_kwh - self.last_kwh if energy_kwh >= self.last_kwh else energy_kwh
            if here:
                self.wh += gained * 1000
            self.last_kwh = energy_kwh
        return self.reading

    @property
    def reading(self) -> float:
        return self.wh

    def to_json(self) -> dict[str, float]:
        return {"wh": self.wh, "last_kwh": self.last_kwh}

    @classmethod
    def from_json(cls, data: Any) -> "ImportedMeter":
        try:
            if "wh" in data:
                return cls(float(data["wh"]), float(data["last_kwh"]))
            # before 2026-12: the sessions before this one, and this one's energy
            total, session = float(data["total_wh"]), float(data["session_kwh"])
            return cls(total + session * 1000, session)
        except (KeyError, TypeError, ValueError):
            return cls()
