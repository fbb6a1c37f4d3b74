"""When to read a charging car so that it stops at a target below 50 %: pure rules.

Tesla's limit cannot go below 50, so for a lower target this controller stops
charging itself. The car reports its SoC in whole percent: a reading of `s`
means the true SoC lies in [s, s + 1). To stop within one point, the stop must
come after the true SoC reaches the target and before it reaches target + 1.
Reading every minute whatever the rate overshoots at 22 kW and wastes reads at
a PV trickle; instead the next read is planned from the fastest the SoC can be
rising:

  rate     the charge power (phases x volts x amps) over the energy one percent
           takes, and the car's own time to its limit; the larger, x SAFETY
  read at  (target - s) / rate - LATENCY_S after the reading: by then the true
           SoC cannot yet be at target + 1, even if it was at s + 0.99 when
           read and the rate is at its fastest; the stop that follows takes
           LATENCY_S at most

If the SoC is still below the target at that read, the same rule plans the
next one from there: in all, about two reads near the target per session, at
any rate. The energy one percent takes is learnt during the session (energy
added over SoC gained, taken at its smallest so the rate errs fast); until the
SoC has moved it comes from the car's time to its limit, else from the smallest
pack a Tesla has. With neither power nor time known, the car is read once a
minute, as before this rule.
"""

from dataclasses import dataclass

from wallbox.control.status import charging_power_w
from wallbox.vehicle.charge_state import ChargeState

SAFETY = 1.1  # the rate is taken this much faster than estimated
LATENCY_S = 15.0  # from the read to the car having stopped: plan, send, act
SMALLEST_KWH_PER_PERCENT = 0.45  # a 45 kWh pack: errs towards reading early
UNKNOWN_RATE_READ_S = 60.0


@dataclass(frozen=True, slots=True)
class SessionStart:
    """The first charging reading of this plug-in session."""

    soc: int
    energy_kwh: float


def session_start(before: SessionStart | None, car: ChargeState) -> SessionStart | None:
    """Where this session started, updated with a new snapshot."""
    if car.plugged_in is False:
        return None
    energy, soc = car.charge_energy_added, car.battery_level
    if before is not None and energy is not None and energy < before.energy_kwh:
        before = None  # the car's session count restarted: a new session
    if before is None and car.charging and energy is not None and soc is not None:
        return SessionStart(soc, energy)
    return before


def kwh_per_percent(start: SessionStart | None, car: ChargeState) -> float | None:
    """The energy one percent of SoC took so far, at its smallest: both SoCs are
    whole percent, so the true gain may be up to one point more than shown."""
    if start is None or car.charge_energy_added is None or car.battery_level is None:
        return None
    gained = car.battery_level - start.soc
    energy = car.charge_energy_added - start.energy_kwh
    if gained < 1 or energy <= 0:
        return None
    return energy / (gained + 1)


def soc_rate(car: ChargeState, learnt_kwh_per_percent: float | None) -> float | None:
    """The fastest the SoC can be rising, in percent per second; None if unknown."""
    soc, limit, hours = car.battery_level, car.charge_limit_soc, car.time_to_full_charge
    by_eta = None
    if soc is not None and limit is not None and hours and hours > 0 and limit > soc:
        by_eta = (limit - soc) / (hours * 3600.0)
    kilowatts = charging_power_w(car) / 1000.0
    by_power = None
    if kilowatts > 0 and learnt_kwh_per_percent:
        by_power = kilowatts / learnt_kwh_per_percent / 3600.0
    elif kilowatts > 0 and by_eta is None:
        by_power = kilowatts / SMALLEST_KWH_PER_PERCENT / 3600.0
    rates = [r for r in (by_eta, by_power) if r is not None]
    return max(rates) * SAFETY if rates else None


def guard_read_in(
    car: ChargeState, target: int, learnt_kwh_per_percent: float | None, floor_s: float
) -> float:
    """Seconds after `car` was read to read it again; 0: at the target already."""
    soc = car.battery_level
    if soc is None:
        return UNKNOWN_RATE_READ_S
    if soc >= target:
        return 0.0
    rate = soc_rate(car, learnt_kwh_per_percent)
    if rate is None:
        return UNKNOWN_RATE_READ_S
    return max(floor_s, (target - soc) / rate - LATENCY_S)
