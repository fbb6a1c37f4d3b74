"""What a command's answer tells about the car: pure rules.

An accepted command (`result: true`) is the car's own word that it now does
what it was told; a refusal's reason says where it stands (`not_charging`,
`disconnected`, `complete`, `is_charging`). Both are taken as news, so no
confirming read follows a command: each read is a billed call, and the answer
already said it. `refusal_verdict` says what a refusal means for the goal.
"""

from dataclasses import replace

from wallbox.control.status import phases
from wallbox.vehicle.backend import Command
from wallbox.vehicle.charge_state import ONLINE, ChargeState

MET, RETRY, FAILED = "met", "retry", "failed"
_TRANSIENT = ("could_not_wake_buses", "vehicle_unavailable", "timeout", "busy")


def accepted(
    car: ChargeState | None, command: Command, value: int | None, now: float
) -> ChargeState:
    """The car as it is once it accepted `command`: awake, and doing what it was told."""
    base = _awake(car, now)
    if not base.has_charge_data:
        return base
    if command is Command.SET_CHARGING_AMPS and value is not None:
        base = replace(base, charge_current_request=value)
        if base.charging:
            offer = base.charger_pilot_current
            return _drawing(base, min(value, offer) if offer else value)
        return base
    if command is Command.SET_CHARGE_LIMIT and value is not None:
        return replace(base, charge_limit_soc=value)
    if command is Command.CHARGE_START and not base.charging:
        # The car's own word for closing contactors; a read tells how much it draws.
        return replace(base, charging_state="Starting")
    if command is Command.CHARGE_STOP and base.charging:
        return _drawing(replace(base, charging_state="Stopped"), 0)
    return base


def refused(car: ChargeState | None, reason: str, now: float) -> ChargeState | None:
    """The car as a refusal's reason describes it; None: the reason tells nothing."""
    r = reason.strip().lower()
    base = _awake(car, now)
    if r == "disconnected":
        return _drawing(replace(base, plugged_in=False, charging_state="Disconnected"), 0)
    if r == "complete":
        return _drawing(replace(base, plugged_in=True, charging_state="Complete"), 0)
    if r == "not_charging" and base.has_charge_data:
        state = "Stopped" if base.charging else base.charging_state
        return _drawing(replace(base, charging_state=state), 0)
    if r == "is_charging":
        state = base.charging_state if base.charging else "Charging"
        return replace(base, plugged_in=True, charging_state=state)
    return None


def _awake(car: ChargeState | None, now: float) -> ChargeState:
    """An answer came from the car itself: it is awake, and it spoke now."""
    if car is None:
        return ChargeState(read_at=now, car_state=ONLINE, state_at=now, source="command")
    return replace(
        car, car_state=ONLINE, state_at=now, read_at=now, source="command", reported_at=None
    )


def _drawing(car: ChargeState, amps: int) -> ChargeState:
    """The car draws `amps` now: the power follows on the phases it used (none known: none)."""
    if car.charger_actual_current is None and amps == 0:
        return car
    volts, before = car.charger_voltage, car.charger_actual_current
    count = phases(car.charger_power, volts, before)
    power = None if not (count and volts) else count * volts * amps / 1000.0
    if power is None and count and car.charger_power and before:  # no voltage: scale the kW
        power = car.charger_power * amps / before
    if amps == 0:
        power = 0.0 if car.charger_power is not None else None
    return replace(car, charger_actual_current=amps, charger_power=power)


def refusal_verdict(command: Command, reason: str) -> tuple[str, str]:
    """What a refusal (`result: false`) means for the goal: met, retry, or failed.

    Several refusals say the car is already where it should be; a few are
    passing states of the car; the rest are final and say what to do.
    """
    r = reason.strip().lower()
    if command is Command.CHARGE_START:
        if r == "is_charging":
            return MET, "already charging"
        if r == "complete":
            return MET, "the limit is reached, nothing to charge"
        if r == "disconnected":
            return FAILED, "the car is not plugged in: plug it in, then ask to charge again"
    if command is Command.CHARGE_STOP and r in ("not_charging", "disconnected"):
        return MET, "not charging"
    if command is Command.SET_CHARGE_LIMIT and r == "already_set":
        return MET, "the car already has this limit"
    if any(t in r for t in _TRANSIENT):
        return RETRY, f"the car could not do {command.value} yet ({reason}); retrying"
    return FAILED, f"the car refused {command.value}: {reason}"
