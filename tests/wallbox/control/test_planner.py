"""The planner's rules, one table per goal."""

import pytest

from wallbox.control.coalescing import Coalescing, Drift
from wallbox.control.intent import Intent
from wallbox.control.planner import Goal, PollPolicy, Step, next_read_in, plan
from wallbox.control.soc_guard import LATENCY_S, SAFETY
from wallbox.vehicle.backend import Command
from wallbox.vehicle.charge_state import ChargeState

NOW = 10_000.0
POLICY = PollPolicy(charging_s=120, idle_s=900, min_s=30, doubt_s=15)
G = Goal
C = Command


def car(age=0.0, **fields):
    base = dict(
        read_at=NOW - age,
        car_state="online",
        plugged_in=True,
        charging_state="Stopped",
        battery_level=60,
        charge_limit_soc=80,
        charge_current_request=16,
        charge_current_request_max=16,
    )
    return ChargeState(**{**base, **fields})


FULL = "the limit is reached, nothing to charge"
AT_TARGET = "the target SoC 40 % is reached"
CHARGING = dict(charging_state="Charging", charger_actual_current=16)
ASLEEP = dict(car_state="asleep")


def run(intent, goals, state):
    return plan(intent, goals, state, NOW, POLICY)


@pytest.mark.parametrize(
    "state, met, failed, steps, read_first, wake",
    [
        # fresh and plugged in: start
        (car(), {}, {}, [Step(C.CHARGE_START, goal=G.CHARGING)], False, True),
        # data as old as the idle interval allows is still current
        (car(age=900), {}, {}, [Step(C.CHARGE_START, goal=G.CHARGING)], False, True),
        # older: read first (waking the car, since a command will follow)
        (car(age=1000), {}, {}, [], True, True),
        (None, {}, {}, [], True, True),
        (car(**CHARGING), {G.CHARGING: "already charging"}, {}, [], False, False),
        # not plugged in, seen within the last minute: refuse without asking the car
        (
            car(plugged_in=False, charging_state="Disconnected"),
            {},
            {G.CHARGING: "the car is not plugged in: plug it in, then ask to charge again"},
            [],
            False,
            False,
        ),
        # ... seen longer ago: do not trust it to say no, ask the car
        (
            car(age=120, plugged_in=False, charging_state="Disconnected"),
            {},
            {},
            [Step(C.CHARGE_START, goal=G.CHARGING)],
            False,
            True,
        ),
        (car(battery_level=80), {G.CHARGING: FULL}, {}, [], 0, 0),
        (car(charging_state="Complete"), {G.CHARGING: FULL}, {}, [], 0, 0),
        # asleep, charge data from before: wake for the start
        (car(**ASLEEP), {}, {}, [Step(C.CHARGE_START, goal=G.CHARGING)], False, True),
    ],
)
def test_charging_on(state, met, failed, steps, read_first, wake):
    p = run(Intent(charging=True), {G.CHARGING}, state)
    assert (p.met, p.failed, p.steps) == (met, failed, steps)
    assert (p.read_first, p.wake) == (bool(read_first), bool(wake))


@pytest.mark.parametrize(
    "state, met, steps, read_first, wake",
    [
        (car(**CHARGING), {}, [Step(C.CHARGE_STOP, goal=G.CHARGING)], False, True),
        (car(), {G.CHARGING: "not charging"}, [], False, False),
        (car(**ASLEEP), {G.CHARGING: "the car is asleep, so not charging"}, [], False, False),
        # unknown or stale: read, which never wakes: a sleeping car is not charging
        (None, {}, [], True, False),
        (car(age=200, **CHARGING), {}, [], True, False),
    ],
)
def test_charging_off(state, met, steps, read_first, wake):
    p = run(Intent(charging=False), {G.CHARGING}, state)
    assert (p.met, p.steps, p.read_first, p.wake) == (met, steps, read_first, wake)


@pytest.mark.parametrize(
    "target, state, met, steps",
    [
        (80, car(), {G.LIMIT: "the car's limit is 80 %"}, []),
        (90, car(), {}, [Step(C.SET_CHARGE_LIMIT, 90, G.LIMIT)]),
        (40, car(), {}, [Step(C.SET_CHARGE_LIMIT, 50, G.LIMIT)]),  # below 50: the car gets 50
        (45, car(charge_limit_soc=50), {G.LIMIT: "the car's limit is 50 %"}, []),
        # asleep: the limit matters even when not charging, so it wakes the car
        (90, car(**ASLEEP), {}, [Step(C.SET_CHARGE_LIMIT, 90, G.LIMIT)]),
    ],
)
def test_limit(target, state, met, steps):
    p = run(Intent(target_soc=target), {G.LIMIT}, state)
    assert (p.met, p.steps, p.wake) == (met, steps, bool(steps))


@pytest.mark.parametrize(
    "amps, state, met, held, steps",
    [
        (16, car(), {G.AMPS: "the car already asks for 16 A"}, {}, []),
        (10, car(), {}, {}, [Step(C.SET_CHARGING_AMPS, 10, G.AMPS)]),
        (10, car(**CHARGING), {}, {}, [Step(C.SET_CHARGING_AMPS, 10, G.AMPS)]),
        # under 5 A: twice, and only while charging
        (3, car(**CHARGING), {}, {}, [Step(C.SET_CHARGING_AMPS, 3, G.AMPS, repeat=2)]),
        (3, car(), {}, {G.AMPS: "3 A is sent once charging runs (under 5 A only then)"}, []),
        # a sleeping car is not woken for amps alone
        (
            10,
            car(**ASLEEP),
            {},
            {G.AMPS: "10 A is sent when the car is awake (not worth a wake-up)"},
            [],
        ),
    ],
)
def test_amps(amps, state, met, held, steps):
    p = run(Intent(amps=amps), {G.AMPS}, state)
    assert (p.met, p.held, p.steps) == (met, held, steps)


def test_one_request_orders_limit_then_amps_then_start_then_low_amps():
    p = run(Intent(charging=True, amps=10, target_soc=90), {G.CHARGING, G.AMPS, G.LIMIT}, car())
    assert p.steps == [
        Step(C.SET_CHARGE_LIMIT, 90, G.LIMIT),
        Step(C.SET_CHARGING_AMPS, 10, G.AMPS),
        Step(C.CHARGE_START, goal=G.CHARGING),
    ]
    p = run(Intent(charging=True, amps=3), {G.CHARGING, G.AMPS}, car())
    assert p.steps == [
        Step(C.CHARGE_START, goal=G.CHARGING),
        Step(C.SET_CHARGING_AMPS, 3, G.AMPS, repeat=2),
    ]


def test_raising_the_limit_lets_a_full_car_start():
    full = car(battery_level=80, charging_state="Complete")
    p = run(Intent(charging=True, target_soc=90), {G.CHARGING, G.LIMIT}, full)
    assert p.steps == [
        Step(C.SET_CHARGE_LIMIT, 90, G.LIMIT),
        Step(C.CHARGE_START, goal=G.CHARGING),
    ]


def test_stop_comes_first_and_amps_of_a_sleeping_car_wait_for_the_start():
    p = run(Intent(charging=False, amps=10), {G.CHARGING, G.AMPS}, car(**CHARGING))
    assert p.steps == [Step(C.CHARGE_STOP, goal=G.CHARGING), Step(C.SET_CHARGING_AMPS, 10, G.AMPS)]
    p = run(Intent(charging=True, amps=10), {G.CHARGING, G.AMPS}, car(**ASLEEP))
    assert p.steps == [Step(C.SET_CHARGING_AMPS, 10, G.AMPS), Step(C.CHARGE_START, goal=G.CHARGING)]


@pytest.mark.parametrize(
    "state, asleep_known",
    [
        (car(age=1800, **ASLEEP), True),  # plugged in: last asked half an hour ago
        (car(age=3700, **ASLEEP), False),  # past the hourly sleep check
        (car(age=1800, plugged_in=False, **ASLEEP), False),  # unplugged: the idle interval
    ],
)
def test_a_sleeping_car_counts_as_asleep_until_its_sleep_check_is_due(state, asleep_known):
    p = run(Intent(charging=False, amps=10), {G.CHARGING, G.AMPS}, state)
    if asleep_known:  # nothing read, nothing woken: the stop is met, the amps wait
        assert not p.read_first and G.CHARGING in p.met and "awake" in p.held[G.AMPS]
    else:
        assert p.read_first and not p.wake


@pytest.mark.parametrize(
    "soc, charging, goals, steps, met",
    [
        (40, True, set(), [Step(C.CHARGE_STOP)], {}),
        (41, True, set(), [Step(C.CHARGE_STOP)], {}),
        (39, True, set(), [], {}),
        (45, False, set(), [], {}),  # not charging: nothing to stop
        # a start wish while the target is reached: nothing to do (status 4)
        (40, True, {G.CHARGING}, [Step(C.CHARGE_STOP)], {G.CHARGING: AT_TARGET}),
        (42, False, {G.CHARGING}, [], {G.CHARGING: FULL}),
    ],
)
def test_the_soc_guard_stops_at_a_target_below_50(soc, charging, goals, steps, met):
    state = car(battery_level=soc, charge_limit_soc=50, **(CHARGING if charging else {}))
    p = run(Intent(charging=True, target_soc=40), goals, state)
    assert (p.steps, p.met) == (steps, met)


def test_the_guard_waits_for_current_data():
    stale = car(age=200, battery_level=45, charge_limit_soc=50, **CHARGING)
    assert run(Intent(target_soc=40), set(), stale).steps == []


@pytest.mark.parametrize(
    "state, met, read_first",
    [
        (car(), {G.WAKE: "the car is awake"}, False),
        (car(age=30), {G.WAKE: "the car is awake"}, False),
        (car(age=61), {}, True),
        (car(**ASLEEP), {}, True),
        (None, {}, True),
    ],
)
def test_wake(state, met, read_first):
    p = run(Intent(), {G.WAKE}, state)
    assert (p.met, p.read_first, p.wake) == (met, read_first, read_first)


def test_no_wish_is_met_at_once():
    p = run(Intent(), {G.CHARGING, G.AMPS, G.LIMIT}, None)
    assert set(p.met) == {G.CHARGING, G.AMPS, G.LIMIT} and p.idle


@pytest.mark.parametrize(
    "state, intent, expected",
    [
        (None, Intent(), 0),
        (car(**CHARGING), Intent(), 120),
        (car(age=100, **CHARGING), Intent(), 20),
        (car(), Intent(), 900),
        # asleep: asked whether it sleeps every hour while plugged in (a command would
        # learn more at once); unplugged, as often as an idle car (a plug-in wakes it)
        (car(**ASLEEP), Intent(), 3600),
        (car(age=600, **ASLEEP), Intent(), 3000),
        (car(plugged_in=False, **ASLEEP), Intent(), 900),
        (car(plugged_in=None, **ASLEEP), Intent(), 900),
        (car(age=1000), Intent(), 0),
        # near a target below 50 %: sooner, never closer than 30 s
        (
            car(battery_level=40, charge_limit_soc=50, time_to_full_charge=1.0, **CHARGING),
            Intent(target_soc=45),
            120,
        ),  # 30 min away
        (
            car(battery_level=44, charge_limit_soc=50, time_to_full_charge=0.15, **CHARGING),
            Intent(target_soc=45),
            1 / (6 / 540 * SAFETY) - LATENCY_S,
        ),  # 1 of 6 % in 9 min: 90 s at the car's rate, read before the fastest could pass it
        (
            car(battery_level=44, charge_limit_soc=50, time_to_full_charge=0.05, **CHARGING),
            Intent(target_soc=45),
            30,
        ),  # 30 s away -> the 30 s floor
        (car(battery_level=44, charge_limit_soc=50, **CHARGING), Intent(target_soc=45), 60),
    ],
)
def test_next_read(state, intent, expected):
    assert next_read_in(state, intent, NOW, POLICY) == pytest.approx(expected)


def test_a_start_the_car_accepted_is_read_once_soon_and_polls_count_from_the_read():
    starting = car(age=5, charging_state="Starting", source="command")
    assert next_read_in(starting, Intent(), NOW, POLICY, measured_at=NOW - 50) == 10
    # ... and until then the start is not taken for done
    p = plan(Intent(charging=True), {G.CHARGING}, starting, NOW, POLICY)
    assert p.idle and "a read tells" in p.held[G.CHARGING] and not p.met
    read = car(charging_state="Starting")  # the car itself says so: done
    assert plan(Intent(charging=True), {G.CHARGING}, read, NOW, POLICY).met
    told = car(**CHARGING)  # a command's answer just now; the last read was 100 s ago
    assert next_read_in(told, Intent(), NOW, POLICY, measured_at=NOW - 100) == 20


RULE = Coalescing(step_a=3, short_wait_s=60, long_wait_s=300, deadband_a=1)
AT_10 = dict(charge_current_request=10, **CHARGING)


@pytest.mark.parametrize(
    "state, amps, drift, sent, due",
    [
        (car(**AT_10), 6, Drift(-1, NOW), True, None),  # a big fall: at once
        (car(**AT_10), 8, Drift(-1, NOW), False, 60),  # a small one waits
        (car(**AT_10), 8, Drift(-1, NOW - 60), True, None),  # ... and then goes
        (car(**AT_10), 12, Drift(1, NOW - 100), False, 200),  # a small rise waits longer
        (car(charge_current_request=10), 14, None, True, None),  # not charging: at once
    ],
)
def test_amps_to_a_charging_car_are_coalesced(state, amps, drift, sent, due):
    p = plan(Intent(amps=amps), {G.AMPS}, state, NOW, POLICY, coalescing=RULE, drift=drift)
    assert (p.steps == [Step(C.SET_CHARGING_AMPS, amps, G.AMPS)]) is sent
    assert p.due_in == due and (G.AMPS in p.held) is not sent
