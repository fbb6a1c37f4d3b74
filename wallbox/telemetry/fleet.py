"""Tesla's fleet-telemetry server, through its MQTT dispatcher: pure wire rules.

The car streams its fields to the user's own fleet-telemetry server, which
publishes each one as `<topic_base>/<VIN>/v/<Field>` (the proto `Field`
name), its value JSON-encoded: numbers bare, strings quoted, `null` when
invalid, `Location` as `{"latitude", "longitude"}`, enums by name. The server
publishes the car's connection as `<topic_base>/<VIN>/connectivity`
(`{"Status": "CONNECTED"|"DISCONNECTED"|...}`); the car has no sleep field,
so DISCONNECTED is its word for asleep (PROTOCOL.md 9, fleet-telemetry
`datastore/mqtt/`).
"""

import json
from typing import Any

from wallbox.telemetry.model import Heard, Report
from wallbox.telemetry.wire import boolean, enum_name, integer, number, position, text
from wallbox.vehicle.charge_state import (
    ASLEEP,
    ONLINE,
    UNKNOWN,
    ChargeState,
    plugged_in_from,
)

SOURCE = "fleet_telemetry"
LABEL = "fleet-telemetry"

FIELDS = (
    "Soc", "BatteryLevel", "ChargeLimitSoc", "ChargeAmps", "ChargeCurrentRequest",
    "ChargeCurrentRequestMax", "ChargerVoltage", "ACChargingPower", "DCChargingPower",
    "ACChargingEnergyIn", "DetailedChargeState", "ChargeState", "FastChargerPresent",
    "FastChargerType", "TimeToFullCharge", "Location",
)  # fmt: skip

CHARGE_STATES = ("Disconnected", "NoPower", "Starting", "Charging", "Complete", "Stopped")
_CONNECTIVITY = {"CONNECTED": ONLINE, "DISCONNECTED": ASLEEP}


def base_of(topic_base: str) -> str:
    return topic_base.strip().strip("/") or "telemetry"


def subscriptions(topic_base: str) -> list[str]:
    base = base_of(topic_base)
    return [f"{base}/+/v/{name}" for name in FIELDS] + [f"{base}/+/connectivity"]


def _decoded(payload: bytes) -> Any:
    words = payload.decode("utf-8", errors="replace")
    try:
        return json.loads(words)
    except ValueError:
        return words  # a bare word: read as text, like a quoted one


def heard(topic: str, payload: bytes, topic_base: str) -> Heard | None:
    """The message on one of our topics, decoded; None for anything else."""
    base = base_of(topic_base) + "/"
    if not topic.startswith(base):
        return None
    parts = topic[len(base) :].split("/")
    vin = parts[0].upper()
    if len(vin) != 17 or not vin.isalnum():
        return None
    if parts[1:] == ["connectivity"]:
        event = _decoded(payload)
        status = text(event.get("Status")) if isinstance(event, dict) else None
        return Heard(vin, car_state=_CONNECTIVITY.get((status or "").upper(), UNKNOWN))
    if len(parts) == 3 and parts[1] == "v" and parts[2] in FIELDS:
        return Heard(vin, values={parts[2]: _decoded(payload)})
    return None


def charging_state(values: dict[str, Any]) -> str | None:
    """DetailedChargeState; the deprecated ChargeState only where it says the same words
    (it also sends `Idle`, `Enable`, `Startup`, which say nothing about the cable)."""
    for name in ("DetailedChargeState", "ChargeState"):
        state = enum_name(values.get(name), name)
        if state in CHARGE_STATES:
            return state
    return None


def snapshot(report: Report, read_at: float, source: str = SOURCE) -> ChargeState:
    """The car's state from the newest fields (Teslemetry's stream names them the same)."""
    values = report.values
    state = charging_state(values)
    dc = boolean(values.get("FastChargerPresent"))
    power = number(values.get("DCChargingPower" if dc else "ACChargingPower"))
    latitude, longitude = position(values.get("Location"))
    hours = number(values.get("TimeToFullCharge"))
    soc = values.get("BatteryLevel") if "BatteryLevel" in values else values.get("Soc")
    return ChargeState(
        read_at=read_at,
        # a live connection: the feed says DISCONNECTED the moment it ends, and a car
        # that streams values is awake even before its connectivity was heard
        car_state=ONLINE if report.car_state == UNKNOWN and values else report.car_state,
        plugged_in=plugged_in_from({"charging_state": state}),
        charging_state=state,
        battery_level=integer(soc),
        charge_limit_soc=integer(values.get("ChargeLimitSoc")),
        charge_current_request=integer(values.get("ChargeCurrentRequest")),
        charge_current_request_max=integer(values.get("ChargeCurrentRequestMax")),
        charger_actual_current=integer(values.get("ChargeAmps")),
        charger_voltage=integer(values.get("ChargerVoltage")),
        charger_power=power,
        charge_energy_added=number(values.get("ACChargingEnergyIn")),
        time_to_full_charge=hours,
        fast_charger_present=dc,
        fast_charger_type=enum_name(values.get("FastChargerType"), "FastCharger") if dc else None,
        latitude=latitude,
        longitude=longitude,
        source=source,
        reported_at=report.last_report_at,
    )
