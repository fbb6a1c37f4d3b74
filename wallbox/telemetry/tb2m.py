"""TeslaBle2Mqtt: TeslaBleHttpProxy's view of the car on MQTT, pure wire rules.

It polls the car over Bluetooth and publishes `<prefix>/<VIN>/<name>/state`
(retained, on change, plain text), `<prefix>/<VIN>/sleep_status/state`
(`VEHICLE_SLEEP_STATUS_AWAKE|ASLEEP|UNKNOWN`) and its own availability as
`<prefix>/<VIN>/status` (`online`/`offline`, its last will). A value is the
text `None` while the car sleeps or is out of range (PROTOCOL.md 9).

While the car sleeps by the bridge's word, its last real values stand (a car
cannot be plugged in or out without waking); otherwise `None` is unknown.
Whatever it reads came over Bluetooth, so a car it can hear is nearby.
"""

from typing import Any

from wallbox.telemetry.model import Heard, Report
from wallbox.telemetry.wire import boolean, enum_name, integer, number, text
from wallbox.vehicle.charge_state import (
    ASLEEP,
    ONLINE,
    UNKNOWN,
    ChargeState,
    plugged_in_from,
)

SOURCE = "tb2m"
LABEL = "TeslaBle2Mqtt"

NAMES = (
    "charge_enable", "charging_amps", "charging_limit", "battery_level", "charging_state",
    "charger_actual_current", "charge_power", "charge_energy_added", "time_to_charge_limit",
    "charge_cable_connected",
)  # fmt: skip
_SLEEP = {"AWAKE": ONLINE, "ASLEEP": ASLEEP}
CHARGE_STATES = ("Disconnected", "NoPower", "Starting", "Charging", "Complete", "Stopped")


def prefix_of(prefix: str) -> str:
    return prefix.strip().strip("/") or "tb2m"


def subscriptions(prefix: str) -> list[str]:
    base = prefix_of(prefix)
    names = [*NAMES, "sleep_status"]
    return [f"{base}/+/{name}/state" for name in names] + [f"{base}/+/status"]


def heard(topic: str, payload: bytes, prefix: str) -> Heard | None:
    base = prefix_of(prefix) + "/"
    if not topic.startswith(base):
        return None
    parts = topic[len(base) :].split("/")
    vin = parts[0].upper()
    if len(vin) != 17 or not vin.isalnum():
        return None
    words = payload.decode("utf-8", errors="replace").strip()
    if parts[1:] == ["status"]:
        online = {"online": True, "offline": False}.get(words.lower())
        return None if online is None else Heard(vin, bridge_online=online)
    if len(parts) != 3 or parts[2] != "state":
        return None
    if parts[1] == "sleep_status":
        sleep = enum_name(words, "VEHICLE_SLEEP_STATUS_")
        return Heard(vin, car_state=_SLEEP.get((sleep or "").upper(), UNKNOWN))
    if parts[1] in NAMES:
        return Heard(vin, values={parts[1]: text(words)})  # None, null: unknown
    return None


def _values(report: Report) -> dict[str, Any]:
    return report.known if report.car_state == ASLEEP else report.values


def _charging_state(values: dict[str, Any]) -> str | None:
    state = text(values.get("charging_state"))
    return state if state in CHARGE_STATES else None


def snapshot(report: Report, read_at: float) -> ChargeState:
    values = _values(report)
    state = _charging_state(values)
    plugged = plugged_in_from({"charging_state": state})
    if plugged is None:
        plugged = boolean(values.get("charge_cable_connected"))
    minutes = number(values.get("time_to_charge_limit"))
    return ChargeState(
        read_at=read_at,
        car_state=report.car_state,  # as of now: the bridge polls it while it is online
        plugged_in=plugged,
        charging_state=state,
        battery_level=integer(values.get("battery_level")),
        charge_limit_soc=integer(values.get("charging_limit")),
        charge_current_request=integer(values.get("charging_amps")),
        charger_actual_current=integer(values.get("charger_actual_current")),
        charger_power=number(values.get("charge_power")),
        charge_energy_added=number(values.get("charge_energy_added")),
        time_to_full_charge=None if minutes is None else minutes / 60,
        nearby=report.car_state in (ONLINE, ASLEEP),
        source=SOURCE,
        reported_at=report.last_report_at,
    )
