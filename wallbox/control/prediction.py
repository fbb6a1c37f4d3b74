"""The SoC and energy of a charging car between reads, from its power and the time
passed: pure rules.

Reads are billed, so a charging car is read every 15 minutes, not every two;
in between the status shows what the charge has most likely added, marked as
predicted. The energy is the charge power times the time since the read; the
SoC rises by that energy over what one percent took this session (or, before
it has moved, at the car's own pace to its limit), in whole percent rounded
down, never past the car's limit. Nothing is predicted for the first minute
after a read, nor without a known power: then the read's values stand.
"""

import math
from dataclasses import dataclass

from wallbox.control.status import charging_power_w
from wallbox.vehicle.charge_state import ChargeState

FRESH_S = 60.0  # a reading this young is shown as read


@dataclass(frozen=True, slots=True)
class Prediction:
    soc: int | None  # None: the rate is not known
    energy: float | None


def predict(
    car: ChargeState | None, now: float, measured_at: float | None, kwh_per_percent: float | None
) -> Prediction | None:
    if car is None or not car.has_charge_data or not car.charging:
        return None
    elapsed = now - (car.read_at if measured_at is None else measured_at)
    kilowatts = charging_power_w(car) / 1000.0
    if elapsed < FRESH_S or kilowatts <= 0:
        return None
    added = kilowatts * elapsed / 3600.0
    energy = None if car.charge_energy_added is None else round(car.charge_energy_added + added, 2)
    return Prediction(_soc(car, elapsed, added, kwh_per_percent), energy)


def _soc(
    car: ChargeState, elapsed: float, added_kwh: float, kwh_per_percent: float | None
) -> int | None:
    soc, limit, hours = car.battery_level, car.charge_limit_soc, car.time_to_full_charge
    if soc is None:
        return None
    if kwh_per_percent:
        gained = added_kwh / kwh_per_percent
    elif limit is not None and hours and hours > 0 and limit > soc:
        gained = (limit - soc) * elapsed / (hours * 3600.0)
    else:
        return None
    ceiling = limit if limit is not None and limit > soc else soc
    return min(ceiling, math.floor(soc + gained))
