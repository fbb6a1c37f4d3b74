import pytest

from wallbox.control.status import (
    StatusFacts,
    WallboxStatus,
    charging_power_w,
    derive_status,
    evcc_enabled,
    evcc_status,
    limit_reached,
    phases,
    power_w,
)
from wallbox.vehicle.charge_state import ChargeState, from_vehicle_data

S = WallboxStatus


def facts(plugged=True, charging=False, full=False, charged=False, stop=False, pv=False):
    return StatusFacts(plugged, charging, full, charged, stop, pv)


@pytest.mark.parametrize(
    "f, expected, rule",
    [
        (facts(plugged=False), S.NOT_READY, "no cable"),
        (facts(plugged=None), S.NOT_READY, "not known whether plugged in"),
        (facts(plugged=False, charged=True, stop=True, pv=True), S.NOT_READY, "unplugged wins"),
        (facts(), S.PLUGGED_IN, "plugged in, idle, elsewhere"),
        (facts(pv=True), S.READY_FOR_PV, "plugged in, idle, at the PV location"),
        (facts(charging=True), S.CHARGING, "charging"),
        (facts(charging=True, full=True, pv=True), S.CHARGING, "charging beats everything"),
        (facts(full=True), S.STOPPED, "the limit is reached"),
        (facts(full=True, charged=True), S.STOPPED, "limit reached after charging"),
        (facts(charged=True, stop=True), S.STOPPED, "stopped on request"),
        (facts(charged=True), S.INTERRUPTED, "stopped, nobody asked"),
        (facts(charged=True, pv=True), S.INTERRUPTED, "interrupted at the PV location too"),
        (facts(stop=True), S.PLUGGED_IN, "a stop wish with no charging yet is just plugged in"),
        (facts(stop=True, pv=True), S.READY_FOR_PV, "... at the PV location"),
    ],
)
def test_status_rules(f, expected, rule):
    assert derive_status(f) is expected, rule


def test_status_texts_exist_for_every_status():
    assert [s.text for s in S] == [
        "not ready",
        "plugged in",
        "plugged in at the PV location",
        "charging",
        "charging stopped",
        "charging interrupted",
    ]


def car(**fields):
    base = dict(read_at=0.0, plugged_in=True, charging_state="Stopped")
    return ChargeState(**{**base, **fields})


@pytest.mark.parametrize(
    "state, guard, expected",
    [
        (car(charging_state="Complete"), None, True),
        (car(battery_level=80, charge_limit_soc=80), None, True),
        (car(battery_level=79, charge_limit_soc=80), None, False),
        (car(battery_level=40, charge_limit_soc=50), 40, True),
        (car(battery_level=39, charge_limit_soc=50), 40, False),
        (car(battery_level=None, charge_limit_soc=50), 40, False),
        (car(battery_level=45, charge_limit_soc=None), None, False),
    ],
)
def test_limit_reached(state, guard, expected):
    assert limit_reached(state, guard) is expected


@pytest.mark.parametrize(
    "kw, volts, amps, expected",
    [
        (11, 230, 16, 3),  # 3 phases, 11.04 kW reported as 11
        (4, 230, 6, 3),  # 3 phases at 6 A: 4.14 -> 4
        (3, 230, 5, 3),  # 3 phases at 5 A: 3.45 -> 3
        (2, 230, 3, 3),  # 3 phases at 3 A: 2.07 -> 2 (the seed's +500 formula says 3 too)
        (1, 230, 1, 3),  # 0.69 kW -> 1: a ratio of 4.3 is clamped
        (7, 230, 16, 2),  # 2 phases: 7.36 -> 7
        (3, 230, 6, 2),  # 2 phases at 6 A: 2.76 -> 3
        (4, 230, 16, 1),  # 1 phase: 3.68 -> 4
        (1, 230, 6, 1),  # 1 phase at 6 A: 1.38 -> 1
        (1, 230, 3, 1),  # 1 phase at 3 A: 0.69 -> 1 (the seed's formula says 2)
        (0, 230, 1, 1),  # 0.23 kW reported as 0: current flows, so at least 1
        (8, 240, 32, 1),  # US split phase: 7.68 -> 8
        (12, 240, 48, 1),
        (11, 0, 16, 3),  # no voltage (TeslaBle2Mqtt streams none): judged at 230 V
        (7, None, 16, 2),
        (4, None, 16, 1),
        (8, None, 32, 1),  # US split phase at 240 V still rounds to one phase
        (None, None, 16, 0),  # neither voltage nor power: no phase count
        (0, None, 16, 0),
        (11, 230, 0, 0),  # no current: not charging
        (None, 230, 16, 1),  # power unknown while current flows
        (float("nan"), 230, 16, 1),
        (-3, 230, 16, 1),
        (11, None, None, 0),
    ],
)
def test_phases(kw, volts, amps, expected):
    assert phases(kw, volts, amps) == expected


@pytest.mark.parametrize(
    "n, volts, amps, kw, expected",
    [
        (3, 230, 16, 11, 11040),  # phases x volts x amps, finer than the car's whole kW
        (1, 230, 6, None, 1380),
        (0, 230, 16, 11, 0),
        (3, 230, -1, 11, 0),
        (3, None, 16, 11, 11000),  # no voltage: the car's own power, not 0
        (2, None, 16, 7.4, 7400),
        (3, None, 16, None, 0),  # neither: nothing to show
        (3, None, 0, 11, 0),
        (3, None, 16, float("nan"), 0),
    ],
)
def test_power(n, volts, amps, kw, expected):
    assert power_w(n, volts, amps, kw) == expected


@pytest.mark.parametrize(
    "fields, expected",
    [
        ({"charger_voltage": 230, "charger_actual_current": 16, "charger_power": 11}, 11040),
        ({"charger_voltage": None, "charger_actual_current": 16, "charger_power": 11}, 11000),
        ({"charger_voltage": 2, "charger_actual_current": 0, "charger_power": 0}, 0),  # idle
        ({}, 0),
    ],
)
def test_charging_power(fields, expected):
    assert charging_power_w(car(**fields)) == expected


@pytest.mark.parametrize(
    "status, letter",
    [
        (S.NOT_READY, "A"),
        (S.PLUGGED_IN, "B"),
        (S.READY_FOR_PV, "B"),
        (S.CHARGING, "C"),
        (S.STOPPED, "B"),
        (S.INTERRUPTED, "B"),
    ],
)
def test_evcc_status(status, letter):
    assert evcc_status(status) == letter


@pytest.mark.parametrize(
    "wish, charging, expected",
    [(None, True, True), (None, False, False), (True, False, True), (False, True, False)],
)
def test_evcc_enabled_echoes_the_wish(wish, charging, expected):
    assert evcc_enabled(wish, charging) is expected


def test_vehicle_data_is_read_tolerantly():
    data = {
        "state": "online",
        "charge_state": {
            "battery_level": 55,
            "charge_limit_soc": 80.0,
            "charging_state": "Charging",
            "charge_current_request": "16",  # a string: not trusted
            "charger_actual_current": 15.6,
            "charger_power": 11,
            "charger_voltage": True,  # a bool is not a number
            "charge_energy_added": 3.5,
        },
        "drive_state": {"latitude": 48.1, "longitude": None},
    }
    state = from_vehicle_data(data, read_at=5.0)
    assert (state.battery_level, state.charge_limit_soc, state.charging) == (55, 80, True)
    assert state.charge_current_request is None and state.charger_voltage is None
    assert state.charger_actual_current == 16 and state.charger_power == 11.0
    assert (state.latitude, state.longitude, state.plugged_in) == (48.1, None, True)
    disconnected = from_vehicle_data({"charge_state": {"charging_state": "Disconnected"}}, 0)
    assert disconnected.plugged_in is False and disconnected.car_state == "online"
    assert from_vehicle_data({"charge_state": "junk"}, 0).plugged_in is None


def test_a_sleeping_car_keeps_its_data_but_is_not_charging():
    charging = car(charging_state="Charging", charger_actual_current=16, charger_power=11.0)
    asleep = charging.with_car_state("asleep", 100.0)
    assert not asleep.charging and asleep.plugged_in and asleep.read_at == 100.0
    assert asleep.charger_actual_current == 0 and asleep.charger_power == 0
    online = car().with_car_state("online", 100.0)
    assert online.read_at == 0.0 and online.state_age(100.0) == 0.0 and online.age(100.0) == 100
