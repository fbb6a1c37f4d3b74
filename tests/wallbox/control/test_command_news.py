"""What a command's answer tells about the car, one table each for accepted
commands, refusals' news and refusals' verdicts."""

from dataclasses import replace

import pytest

from wallbox.control.command_news import (
    FAILED,
    MET,
    RETRY,
    accepted,
    refusal_verdict,
    refused,
)
from wallbox.vehicle.backend import Command
from wallbox.vehicle.charge_state import ChargeState

C = Command
NOW = 500.0
IDLE = ChargeState(
    read_at=100.0,
    car_state="online",
    plugged_in=True,
    charging_state="Stopped",
    battery_level=45,
    charge_limit_soc=80,
    charge_current_request=16,
    charger_pilot_current=16,
    charger_actual_current=0,
    charger_voltage=230,
    charger_power=0.0,
)
THREE_PHASE = ChargeState(
    **{
        **{f: getattr(IDLE, f) for f in IDLE.__slots__},
        "charging_state": "Charging",
        "charge_current_request": 16,
        "charger_actual_current": 16,
        "charger_power": 11.0,
    }
)


def fields(state, *names):
    return tuple(getattr(state, n) for n in names)


@pytest.mark.parametrize(
    "before, command, value, expected",
    [
        (IDLE, C.SET_CHARGING_AMPS, 10, dict(charge_current_request=10, charger_actual_current=0)),
        (
            THREE_PHASE,
            C.SET_CHARGING_AMPS,
            10,
            dict(charge_current_request=10, charger_actual_current=10, charger_power=6.9),
        ),
        (
            THREE_PHASE,
            C.SET_CHARGING_AMPS,
            32,  # the charger offers 16: the car draws 16
            dict(charge_current_request=32, charger_actual_current=16, charger_power=11.04),
        ),
        (  # TeslaBle2Mqtt streams no voltage: the car's kW scale with the amps
            replace(THREE_PHASE, charger_voltage=None),
            C.SET_CHARGING_AMPS,
            8,
            dict(charger_actual_current=8, charger_power=5.5),
        ),
        (IDLE, C.SET_CHARGE_LIMIT, 90, dict(charge_limit_soc=90)),
        (IDLE, C.CHARGE_START, None, dict(charging_state="Starting", battery_level=45)),
        (THREE_PHASE, C.CHARGE_START, None, dict(charging_state="Charging")),
        (
            THREE_PHASE,
            C.CHARGE_STOP,
            None,
            dict(charging_state="Stopped", charger_actual_current=0, charger_power=0.0),
        ),
    ],
)
def test_an_accepted_command_is_the_new_state(before, command, value, expected):
    after = accepted(before, command, value, NOW)
    assert (after.car_state, after.read_at, after.state_at) == ("online", NOW, NOW)
    got = {name: getattr(after, name) for name in expected}
    assert got == pytest.approx(expected)


def test_an_answer_without_anything_read_says_only_that_the_car_is_awake():
    after = accepted(None, C.SET_CHARGING_AMPS, 10, NOW)
    assert after.car_state == "online" and not after.has_charge_data


@pytest.mark.parametrize(
    "before, reason, expected",
    [
        (THREE_PHASE, "disconnected", (False, "Disconnected", 0)),
        (None, "disconnected", (False, "Disconnected", None)),
        (IDLE, "complete", (True, "Complete", 0)),
        (THREE_PHASE, "not_charging", (True, "Stopped", 0)),
        (IDLE, "not_charging", (True, "Stopped", 0)),
        (IDLE, "is_charging", (True, "Charging", 0)),
        (THREE_PHASE, "is_charging", (True, "Charging", 16)),
    ],
)
def test_a_refusal_tells_where_the_car_stands(before, reason, expected):
    after = refused(before, reason, NOW)
    assert fields(after, "plugged_in", "charging_state", "charger_actual_current") == expected
    assert after.read_at == NOW


@pytest.mark.parametrize("reason", ["could_not_wake_buses", "already_set", "whatever"])
def test_other_refusals_tell_nothing(reason):
    assert refused(IDLE, reason, NOW) is None


@pytest.mark.parametrize(
    "command, reason, verdict",
    [
        (C.CHARGE_START, "is_charging", MET),
        (C.CHARGE_START, "complete", MET),
        (C.CHARGE_START, "disconnected", FAILED),
        (C.CHARGE_STOP, "not_charging", MET),
        (C.CHARGE_STOP, "disconnected", MET),
        (C.SET_CHARGE_LIMIT, "already_set", MET),
        (C.CHARGE_START, "could_not_wake_buses", RETRY),
        (C.SET_CHARGING_AMPS, "vehicle_unavailable", RETRY),
        (C.SET_CHARGE_LIMIT, "invalid charge limit", FAILED),
        (C.CHARGE_STOP, "complete", FAILED),
    ],
)
def test_refusals(command, reason, verdict):
    assert refusal_verdict(command, reason)[0] == verdict
