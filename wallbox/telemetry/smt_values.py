"""ScanMyTesla's CAN values as the car's charge state: pure rules.

The app uploads only the values that changed (PROTOCOL.md 1), so the uploads
are folded into the newest value per id (`fold`). The ids read here
(PROTOCOL.md 3, storage/catalogue.csv):

  23, 24  SoC (BMS), SoC as the car shows it: 24 first, as the API's battery_level
  43      battery power, kW: negative while energy flows into the pack
  44      battery current, A: negative while charging (shown, not decided on)
  9, 11   AC and DC charge totals, kWh: the one that rises tells AC from DC
  79      energy still to charge, kWh: with the power, the time to the limit

What the values say, first match wins:

  the pack takes no more than FLOW_KW      nothing about charging: plug state unknown
  it takes more than AC_MAX_KW             DC (no onboard charger takes that much)
  the DC total rose since the flow began   DC
  the AC total rose since the flow began   AC
  neither total has risen yet              charging, but where is not known yet

Charging on AC or DC is charge data (plugged in, charging); anything else
leaves the plug state unknown (None), so the health rule does not trust the
source and the Tesla API tells: the car's plug state, limit, amps request and
position are not in the data, and none of them is ever taken as known here
(the controller keeps the API's last limit and amps request while the cable
stays in: wallbox/control/knowledge.py).
SoC is in whole percent rounded down, as the SoC guard reads it (a reading
of s means [s, s + 1)).
"""

import math
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from wallbox.telemetry.model import Heard, Report
from wallbox.vehicle.charge_state import ONLINE, ChargeState

SOURCE = "scanmytesla"
LABEL = "ScanMyTesla"

AC_TOTAL, DC_TOTAL, SOC, SOC_UI, POWER, CURRENT, TO_CHARGE = 9, 11, 23, 24, 43, 44, 79
IDS = frozenset({AC_TOTAL, DC_TOTAL, SOC, SOC_UI, POWER, CURRENT, TO_CHARGE})

FLOW_KW = 0.3  # the pack takes more than this: energy flows in (an awake car draws ~0.3 kW)
AC_MAX_KW = 22.0  # the largest onboard charger (old S/X, dual); more is DC

AC, DC = "AC", "DC"


@dataclass(frozen=True, slots=True)
class Flow:
    """What one car's uploads said so far: the newest value per id, and the charge flow."""

    values: Mapping[int, float] = field(default_factory=dict)
    flowing_since: float | None = None  # when energy began to flow into the pack
    start: Mapping[int, float] = field(default_factory=dict)  # the totals when it began
    rose: Mapping[int, float] = field(default_factory=dict)  # total id -> when it last rose


def fold(flow: Flow, upload: Mapping[int, float], now: float) -> Flow:
    """The flow after one upload (its values that changed: the deltas)."""
    changed = {i: v for i, v in upload.items() if i in IDS and _finite(v)}
    if not changed:
        return flow  # the same values say the same (and `is` tells the caller so)
    values = {**flow.values, **changed}
    flowing = _taken_kw(values) > FLOW_KW
    if not flowing:
        return Flow(values)
    if flow.flowing_since is None:  # the flow begins: the totals' baseline
        start = {i: values[i] for i in (AC_TOTAL, DC_TOTAL) if i in values}
        return Flow(values, now, start)
    rose = dict(flow.rose)
    start = dict(flow.start)
    for total in (AC_TOTAL, DC_TOTAL):
        before, after = flow.values.get(total), values.get(total)
        if after is None:
            continue
        if total not in start:
            start[total] = after  # its first value since the flow began
        elif before is not None and after > before:
            rose[total] = now
    return Flow(values, flow.flowing_since, start, rose)


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _taken_kw(values: Mapping[int, float]) -> float:
    """The power into the pack, kW (0 when it gives, or when not known)."""
    power = values.get(POWER)
    return max(0.0, -power) if power is not None else 0.0


def kind(flow: Flow) -> str | None:
    """AC or DC while energy flows into the pack; None: not flowing, or not told yet."""
    if flow.flowing_since is None:
        return None
    if _taken_kw(flow.values) > AC_MAX_KW:
        return DC
    ac, dc = flow.rose.get(AC_TOTAL), flow.rose.get(DC_TOTAL)
    if dc is not None and (ac is None or dc >= ac):
        return DC
    return AC if ac is not None else None


def heard(vin: str, flow: Flow) -> Heard:
    """What the source reports about the car after an upload: every field, each time
    (an upload shows the car awake, whatever it carried)."""
    values = flow.values
    taken = _taken_kw(values)
    soc = values.get(SOC_UI, values.get(SOC))
    current = values.get(CURRENT)
    way = kind(flow)
    total = {AC: AC_TOTAL, DC: DC_TOTAL}.get(way or "")
    added = None
    if total is not None and total in values and total in flow.start:
        added = max(0.0, values[total] - flow.start[total])
    to_charge = values.get(TO_CHARGE)
    return Heard(
        vin.upper(),
        values={
            "soc": None if soc is None else math.floor(soc),
            "kind": way,
            "power_kw": round(taken, 3) if flow.flowing_since is not None else 0.0,
            "current_a": None if current is None else -current,
            "energy_added": added,
            "hours_to_limit": to_charge / taken if to_charge is not None and taken > 0 else None,
            "soc_id": SOC_UI if SOC_UI in values else (SOC if SOC in values else None),
        },
        car_state=ONLINE,
    )


def snapshot(report: Report, read_at: float) -> ChargeState:
    values = report.values
    way = values.get("kind")
    charging = way in (AC, DC)
    return ChargeState(
        read_at=read_at,
        car_state=report.car_state,
        plugged_in=True if charging else None,  # not in the data: unknown unless it charges
        charging_state="Charging" if charging else None,
        battery_level=values.get("soc"),
        charger_power=values.get("power_kw") if charging else None,
        charge_energy_added=values.get("energy_added") if charging else None,
        time_to_full_charge=values.get("hours_to_limit") if charging else None,
        fast_charger_present=way == DC if charging else None,
        source=SOURCE,
        reported_at=report.last_report_at,
    )


MISSING = "not in ScanMyTesla's data"
# wallbox/control/knowledge.py keeps these while the cable stays in
API_WORD = "the Tesla API's last word while plugged in (a read, a command's answer), if any"


def origins(report: Report | None) -> dict[str, str]:
    """Where each of the status's fields comes from while this source is used."""
    values = report.values if report else {}
    way = values.get("kind")
    said = {
        "soc": f"ScanMyTesla id {values['soc_id']}" if values.get("soc_id") else MISSING,
        "power": "ScanMyTesla id 43 (at the pack)" if way else MISSING,
        "charging_state": f"ScanMyTesla id 43 and the {way} total rising"
        if way
        else "ScanMyTesla id 43: no energy flows, or AC/DC not told yet",
        "at_charge_point": "ScanMyTesla: the DC total rising (DC)" if way == DC else MISSING,
        "energy": f"ScanMyTesla id {AC_TOTAL if way == AC else DC_TOTAL} since the flow began"
        if way
        else MISSING,
    }
    said["plugged_in"] = "ScanMyTesla: energy flows" if way else MISSING
    for name in ("amps", "volts"):
        said[name] = MISSING
    for name in ("limitsoc", "targetamp", "maxamp", "carmaxamp", "position"):
        said[name] = f"{MISSING}: {API_WORD}"
    return said


def teslalogger_token(vin: str, name: str) -> str:
    """TeslaLogger's token for a car: the lowercase hex CRC32 of UTF-8 VIN + name
    (TeslaLogger ScanMyTesla.cs; PROTOCOL.md 2)."""
    return format(zlib.crc32((vin + name).encode("utf-8")), "08x")


def is_teslalogger_token(token: str, vin: str, name: str) -> bool:
    """Whether `token` is TeslaLogger's for this car: its CRC32 part (with or without
    leading zeros), `<prefix>_` in front and `_<n>` behind allowed."""
    parts = token.lower().split("_")
    if len(parts) > 1 and parts[-1].isdigit() and len(parts[-1]) < 3:
        parts = parts[:-1]
    core = parts[-1]
    if not core or len(core) > 8 or any(c not in "0123456789abcdef" for c in core):
        return False
    return int(core, 16) == zlib.crc32((vin + name).encode("utf-8"))
