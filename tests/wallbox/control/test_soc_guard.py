"""The SoC guard's rules, and whole charging sessions against the simulator on fake time."""

import pytest

from support.controller_rig import make_rig
from wallbox.control.soc_guard import (
    LATENCY_S,
    SAFETY,
    SMALLEST_KWH_PER_PERCENT,
    UNKNOWN_RATE_READ_S,
    SessionStart,
    guard_read_in,
    kwh_per_percent,
    session_start,
    soc_rate,
)
from wallbox.vehicle.charge_state import ChargeState


def car(**fields) -> ChargeState:
    base = dict(
        read_at=0.0,
        car_state="online",
        plugged_in=True,
        charging_state="Charging",
        battery_level=35,
        charge_limit_soc=50,
        charge_energy_added=1.0,
    )
    return ChargeState(**{**base, **fields})


AC_11KW = dict(charger_voltage=230, charger_actual_current=16, charger_power=11.0)


@pytest.mark.parametrize(
    "before, snapshot, after",
    [
        (None, car(), SessionStart(35, 1.0)),  # the first charging reading starts it
        (None, car(charging_state="Stopped"), None),  # not charging: nothing to learn from
        (SessionStart(30, 0.5), car(), SessionStart(30, 0.5)),  # kept while it goes on
        (SessionStart(30, 5.0), car(), SessionStart(35, 1.0)),  # energy restarted: new session
        (SessionStart(30, 0.5), car(plugged_in=False, charging_state="Disconnected"), None),
    ],
)
def test_session_start(before, snapshot, after):
    assert session_start(before, snapshot) == after


@pytest.mark.parametrize(
    "start, snapshot, expected",
    [
        (None, car(), None),
        (SessionStart(35, 1.0), car(), None),  # no gain yet
        (SessionStart(30, 1.0), car(charge_energy_added=4.75), 0.625),  # 3.75 kWh / (5 + 1)
        (SessionStart(30, 1.0), car(charge_energy_added=1.0), None),
    ],
)
def test_kwh_per_percent_is_taken_at_its_smallest(start, snapshot, expected):
    assert kwh_per_percent(start, snapshot) == expected


@pytest.mark.parametrize(
    "snapshot, learnt, expected",
    [
        (car(), None, None),  # neither power nor time: unknown
        (car(time_to_full_charge=1.5), None, 15 / 5400),  # 15 points to the limit in 1.5 h
        (car(**AC_11KW), 0.75, 11.04 / 0.75 / 3600),  # 3 x 230 V x 16 A over 0.75 kWh/%
        (car(**AC_11KW), None, 11.04 / SMALLEST_KWH_PER_PERCENT / 3600),  # errs fast
        # with the car's own time, power alone does not override it
        (car(time_to_full_charge=1.5, **AC_11KW), None, 15 / 5400),
        # a learnt figure does, when it says faster (amps went up since the estimate)
        (car(time_to_full_charge=1.5, **AC_11KW), 0.5, 11.04 / 0.5 / 3600),
        (car(time_to_full_charge=0.0, **AC_11KW), 0.75, 11.04 / 0.75 / 3600),
    ],
)
def test_soc_rate_is_the_fastest_estimate_with_a_margin(snapshot, learnt, expected):
    rate = soc_rate(snapshot, learnt)
    assert rate == (None if expected is None else pytest.approx(expected * SAFETY))


@pytest.mark.parametrize(
    "snapshot, target, expected",
    [
        (car(battery_level=40), 40, 0.0),
        (car(battery_level=41), 40, 0.0),
        (car(), 40, UNKNOWN_RATE_READ_S),  # nothing to estimate from: once a minute
        (car(battery_level=None), 40, UNKNOWN_RATE_READ_S),
        # 5 points away at 15 points per 1.5 h: 1800 s at the estimate, less the margins
        (car(time_to_full_charge=1.5), 40, 5 / (15 / 5400 * SAFETY) - LATENCY_S),
        (car(battery_level=39, time_to_full_charge=0.01), 40, 30.0),  # the floor
    ],
)
def test_guard_read_in(snapshot, target, expected):
    assert guard_read_in(snapshot, target, None, 30.0) == pytest.approx(expected)


RATES = {  # amps, phases, pack kWh
    "PV trickle 1.4 kW": (6, 1, 75.0),
    "11 kW": (16, 3, 75.0),
    "22 kW, small pack": (32, 3, 50.0),
}


@pytest.mark.parametrize("eta", [True, False], ids=["time to full", "no time to full"])
@pytest.mark.parametrize("rate", list(RATES))
@pytest.mark.parametrize("start", [30.0, 30.5, 30.95])
async def test_a_session_stops_within_one_point_of_the_target(rate, eta, start):
    amps, phases, pack = RATES[rate]
    rig = await make_rig(
        soc=start,
        amps_max=amps,
        amps_request=amps,
        pilot=amps,
        phases=phases,
        capacity_kwh=pack,
        reports_time_to_full=eta,
    )
    try:
        await rig.car.set_intent(charging=True, target_soc=40)
        await rig.settle()
        rig.fleet.calls.clear()
        took = await rig.clock.run_until(lambda: not rig.sim.charging, 12 * 3600, step=5)
        assert 40 <= rig.sim.soc < 41, rig.sim.soc
        # at most the 2-minute polling of a charging car, and two reads near the target
        assert rig.calls("vehicle_data") <= took / 120 + 3
    finally:
        rig.controller.stop()
