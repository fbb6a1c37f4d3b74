"""The status JSON every answer of the wallbox API carries, from what the controller
knows: pure, so the HTTP API, MQTT and openWB all show the same thing."""

from collections.abc import Mapping
from typing import Any

from wallbox.control.charge_point import Whereabouts
from wallbox.control.geo import PvLocation, at_pv_location
from wallbox.control.intent import Intent
from wallbox.control.planner import Goal
from wallbox.control.prediction import Prediction
from wallbox.control.status import (
    StatusFacts,
    WallboxStatus,
    derive_status,
    evcc_enabled,
    evcc_status,
    limit_reached,
    phases,
    power_w,
)
from wallbox.iso_time import iso_at
from wallbox.vehicle.backend import Vehicle
from wallbox.vehicle.charge_state import UNKNOWN, ChargeState

_GOAL_ACTION = {
    Goal.WAKE: lambda i: "wake_up",
    Goal.LIMIT: lambda i: f"set_charge_limit {i.car_limit}",
    Goal.AMPS: lambda i: f"set_charging_amps {i.amps}",
    Goal.CHARGING: lambda i: "charge_start" if i.charging else "charge_stop",
}


def car_at_pv_location(
    car: ChargeState | None, locations: tuple[PvLocation, ...], geofences: frozenset[str]
) -> bool:
    if car is None:
        return False
    if car.nearby:  # read over Bluetooth: within metres of TeslaBleHttpProxy, at home
        return True
    return at_pv_location(car.latitude, car.longitude, car.geofence, locations, geofences)


def wallbox_status(
    car: ChargeState | None,
    intent: Intent,
    charged_this_session: bool,
    at_pv: bool,
    where: Whereabouts,
) -> WallboxStatus:
    if car is None or not car.has_charge_data:
        return WallboxStatus.NOT_READY
    return derive_status(
        StatusFacts(
            plugged_in=car.plugged_in,
            charging=car.charging,
            limit_reached=limit_reached(car, intent.guard_soc),
            charged_this_session=charged_this_session,
            stop_wanted=intent.charging is False,
            at_pv_location=at_pv,
            at_charge_point=where.here is not False,
        )
    )


def status_text(status: WallboxStatus, car: ChargeState | None, where: Whereabouts) -> str:
    """The status in words, and why when the car is not (known to be) here."""
    if where.here is False:
        return f"no car at this charge point: {where.reason}"
    if where.here is None and car is not None and car.plugged_in:
        return f"{status.text} ({where.reason}: a stop waits for it)"
    return status.text


def status_json(
    *,
    number: int,
    vehicle: Vehicle,
    known: ChargeState | None,
    intent: Intent,
    goals: Mapping[Goal, float],
    held: Mapping[Goal, str],
    status: WallboxStatus,
    at_pv: bool,
    where: Whereabouts,
    next_try_at: float,
    last_error: str | None,
    last_error_at: float | None,
    telemetry: dict[str, Any],
    wall_now: float,
    now: float,
    prediction: Prediction | None = None,
    api_usage: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """`goals`: the open goals with the time each was opened; `wall_now`: `now` in
    epoch seconds, for the times shown; `prediction`: the SoC and energy a charging
    car has most likely reached since it was read (prediction.py), shown in `soc`
    and `energy` and named in `predicted`."""
    car = known or ChargeState(read_at=now)
    data = car.has_charge_data
    amps = car.charger_actual_current if data else None
    volts = car.charger_voltage if data else None
    phase_count = phases(car.charger_power, volts, amps)
    if intent.target_soc is not None and (
        intent.guard_soc is not None or Goal.LIMIT in goals or car.charge_limit_soc is None
    ):
        target_soc = intent.target_soc
    else:
        target_soc = car.charge_limit_soc
    asked_amps = Goal.AMPS in goals or car.charge_current_request is None
    if intent.amps is not None and asked_amps:
        target_amps = intent.amps
    else:
        target_amps = car.charge_current_request
    soc, energy, predicted = car.battery_level, car.charge_energy_added, []
    if prediction is not None and prediction.soc is not None:
        soc, predicted = prediction.soc, [*predicted, "soc"]
    if prediction is not None and prediction.energy is not None:
        energy, predicted = prediction.energy, [*predicted, "energy"]
    return {
        "car": number,
        "vin": vehicle.vin,
        "name": vehicle.name,
        "status": int(status),
        "status_text": status_text(status, known, where),
        "soc": soc,
        "targetsoc": target_soc,
        "targetamp": target_amps,
        "maxamp": car.charger_pilot_current,
        "amps": amps,
        "volts": volts,
        "power": power_w(phase_count, volts, amps, car.charger_power),
        "phases": phase_count,
        "energy": energy,
        "predicted": predicted,
        "limitsoc": car.charge_limit_soc,
        "carmaxamp": car.charge_current_request_max,
        "plugged_in": car.plugged_in,
        "charging_state": car.charging_state,
        "car_state": car.car_state if known else UNKNOWN,
        "at_pv_location": at_pv,
        "at_charge_point": where.here,
        "whereabouts": where.reason,
        "connected": bool(car.plugged_in) and where.here is not False,
        "evcc_status": evcc_status(status),
        "enabled": evcc_enabled(intent.charging, car.charging),
        "intent": {"charging": intent.charging, "amps": intent.amps, "soc": intent.target_soc},
        "pending": [
            {
                "goal": goal.value,
                "action": _GOAL_ACTION[goal](intent),
                "for_s": round(now - since, 1),
                "waiting_for": held.get(goal),
            }
            for goal, since in sorted(goals.items())
        ],
        "next_try_in": round(next_try_at - now, 1) if goals and next_try_at > now else None,
        "age": round(car.age(now), 1) if data else None,
        "updated": iso_at(wall_now, now - car.age(now), now) if data else None,
        "last_error": last_error,
        "last_error_at": iso_at(wall_now, last_error_at, now)
        if last_error_at is not None
        else None,
        "telemetry": telemetry,
        "api_usage": api_usage,
    }
