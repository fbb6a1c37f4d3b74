"""The wallbox status 0-5 and the derived electrical values, as pure rules.

Status (shared/seeds/001, the "tlwb" proposal), first matching rule wins:

  0 not ready      the car is not plugged in, or nobody knows yet whether it is,
                   or it is not at this charge point (charge_point.py)
  3 charging       charging_state is Charging or Starting
  4 stopped        not charging and the limit is reached: the car says Complete,
                   or the SoC is at or above the car's limit or below-50 target
  4 stopped        it charged during this plug-in and the caller's wish is "off"
                   (control?0: stopped on request)
  5 interrupted    it charged during this plug-in and stopped although nobody
                   asked (the Tesla app, a schedule, the charger lost power)
  2 ready for PV   plugged in, idle, at the PV location
  1 ready          plugged in, idle, anywhere else
"""

import math
from dataclasses import dataclass
from enum import IntEnum

from wallbox.vehicle.charge_state import ChargeState


class WallboxStatus(IntEnum):
    NOT_READY = 0
    PLUGGED_IN = 1
    READY_FOR_PV = 2
    CHARGING = 3
    STOPPED = 4
    INTERRUPTED = 5

    @property
    def text(self) -> str:
        return _TEXT[self]


_TEXT = {
    WallboxStatus.NOT_READY: "not ready",
    WallboxStatus.PLUGGED_IN: "plugged in",
    WallboxStatus.READY_FOR_PV: "plugged in at the PV location",
    WallboxStatus.CHARGING: "charging",
    WallboxStatus.STOPPED: "charging stopped",
    WallboxStatus.INTERRUPTED: "charging interrupted",
}


@dataclass(frozen=True, slots=True)
class StatusFacts:
    plugged_in: bool | None
    charging: bool
    limit_reached: bool
    charged_this_session: bool  # seen charging since the cable went in
    stop_wanted: bool  # the caller's current wish is "not charging"
    at_pv_location: bool
    at_charge_point: bool = True  # False: away or on a DC charger, and guarded


def derive_status(f: StatusFacts) -> WallboxStatus:
    if f.plugged_in is not True or not f.at_charge_point:
        return WallboxStatus.NOT_READY
    if f.charging:
        return WallboxStatus.CHARGING
    if f.limit_reached:
        return WallboxStatus.STOPPED
    if f.charged_this_session:
        return WallboxStatus.STOPPED if f.stop_wanted else WallboxStatus.INTERRUPTED
    return WallboxStatus.READY_FOR_PV if f.at_pv_location else WallboxStatus.PLUGGED_IN


def limit_reached(car: ChargeState, guard_soc: int | None) -> bool:
    """The car is as full as it is allowed to get: its own limit, or our target below 50 %."""
    if car.charging_state == "Complete":
        return True
    soc = car.battery_level
    if soc is None:
        return False
    if car.charge_limit_soc is not None and soc >= car.charge_limit_soc:
        return True
    return guard_soc is not None and soc >= guard_soc


# The mains voltage a phase count is judged against when the source gives none
# (TeslaBle2Mqtt streams no voltage); a 240 V split phase still rounds to one phase.
NOMINAL_VOLTS = 230.0


def _known(value: float | None) -> bool:
    return value is not None and math.isfinite(value) and value > 0


def phases(charger_power_kw: float | None, volts: float | None, amps: float | None) -> int:
    """Phases in use, from power / (volts x amps), rounded and kept within 1..3.

    The car's own `charger_phases` is unreliable (it reports 2 on some 3-phase
    chargers). The seed's formula `trunc((P*1000 + 500) / V / A)` intends
    rounding but misjudges low currents (1 phase at 3 A: 1500/690 -> 2), so this
    rounds the ratio itself. The API reports whole kW, so at a few amps the
    ratio is rough; clamping keeps it a phase count. 0 when no current flows,
    or when neither the voltage nor the power is known.
    """
    if not _known(amps):
        return 0
    if not _known(charger_power_kw):
        return 1 if _known(volts) else 0  # current flows on at least one phase
    ratio = charger_power_kw * 1000.0 / ((volts if _known(volts) else NOMINAL_VOLTS) * amps)
    return min(3, max(1, math.floor(ratio + 0.5)))


def power_w(
    phase_count: int, volts: float | None, amps: float | None, charger_power_kw: float | None
) -> int:
    """Charging power in W = phases x volts x amps (the seed's definition); without
    a voltage, the car's own power (whole kW on the API), rather than none."""
    if not phase_count or not _known(amps):
        return 0
    if _known(volts):
        return round(phase_count * volts * amps)
    return round(charger_power_kw * 1000.0) if _known(charger_power_kw) else 0


def charging_power_w(car: ChargeState) -> int:
    """The power `car` draws, in W, by the rules above."""
    volts, amps, kw = car.charger_voltage, car.charger_actual_current, car.charger_power
    return power_w(phases(kw, volts, amps), volts, amps, kw)


def evcc_status(status: WallboxStatus) -> str:
    """evcc's charger status: A no car, B connected, C charging."""
    if status is WallboxStatus.NOT_READY:
        return "A"
    if status is WallboxStatus.CHARGING:
        return "C"
    return "B"


def evcc_enabled(charging_wish: bool | None, charging: bool) -> bool:
    """Whether charging is enabled, as evcc means it: what it last asked for.

    A real wallbox stays "enabled" when the car stops drawing at its limit; evcc
    compares this with its own last `enable` and re-sends on a mismatch, so it
    must echo the wish, not the car's momentary state. Without any wish, the
    car's state answers.
    """
    return charging if charging_wish is None else charging_wish
