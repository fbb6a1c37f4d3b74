"""evcc's loop as the bench plays it, and the ledger's sums."""

import pytest

from bench.pv_ledger import EvccLoop, Ledger
from bench.pv_model import kw


def play(loop: EvccLoop, surplus: list[float], full_from: int | None = None) -> list:
    """Rounds every 30 s; (round, actions) for the rounds that sent something."""
    sent = []
    for n, amps in enumerate(surplus):
        actions = loop.round(n * 30.0, amps, full_from is not None and n >= full_from)
        if actions:
            sent.append((n, actions))
    return sent


@pytest.mark.parametrize(
    ("surplus", "sent"),
    [
        ([5.9] * 10, []),  # never enough
        # enough for a minute (rounds 0 and 2 are 60 s apart): the amps first, then enable
        ([7.5] * 4, [(2, [("maxcurrent", 7), ("enable", 1)])]),
        # a dip under 6 A resets the enable timer
        ([8, 8, 5, 8, 8, 8], [(5, [("maxcurrent", 8), ("enable", 1)])]),
        # amps only on change, clamped to 16
        (
            [9, 9, 9, 9, 20, 20],
            [(2, [("maxcurrent", 9), ("enable", 1)]), (4, [("maxcurrent", 16)])],
        ),
    ],
)
def test_enable_and_amps(surplus, sent):
    assert play(EvccLoop(), surplus) == sent


def test_below_the_minimum_it_charges_at_6_a_for_3_minutes_then_disables():
    surplus = [10.0] * 12 + [3.0] * 12  # enabled at round 2 (t=60), the dip from t=360
    sent = play(EvccLoop(), surplus)
    assert sent[1] == (12, [("maxcurrent", 6)])
    assert sent[2] == (18, [("enable", 0)])  # 180 s after the dip began


def test_the_guard_keeps_switches_5_minutes_apart():
    surplus = [10.0] * 3 + [3.0] * 20  # enabled at t=60; below from t=90; due at t=270
    sent = play(EvccLoop(), surplus)
    assert sent[-1] == (12, [("enable", 0)])  # held until t=360, 300 s after the enable


def test_a_full_car_is_disabled_at_once_and_stays_so():
    sent = play(EvccLoop(), [10.0] * 10, full_from=5)
    assert sent == [(2, [("maxcurrent", 10), ("enable", 1)]), (5, [("enable", 0)])]


def test_asked_is_the_current_only_while_enabled():
    loop = EvccLoop()
    assert loop.asked_a() == 0.0
    loop.round(0, 9.0, False)
    loop.round(60, 9.0, False)
    assert loop.asked_a() == 9.0


@pytest.mark.parametrize(
    ("surplus", "car_kw", "asked", "below", "imported", "unused"),
    [
        (10.0, kw(10), 10.0, True, 0.0, 0.0),  # a perfect follower
        (10.0, kw(6), 10.0, True, 0.0, kw(4)),  # lagging below: surplus left
        (4.0, kw(6), 6.0, True, kw(2), 0.0),  # at the minimum in a cloud: import
        (20.0, kw(16), 16.0, True, 0.0, 0.0),  # capped at 16 A: nothing more usable
        (10.0, 0.0, 0.0, False, 0.0, 0.0),  # full: nothing usable
        (5.0, 0.0, 0.0, True, 0.0, 0.0),  # under 6 A: no follower could use it
    ],
)
def test_one_hour_of_the_ledger(surplus, car_kw, asked, below, imported, unused):
    ledger = Ledger(need_kwh=100.0)
    ledger.add(3600.0, surplus, car_kw, asked, below)
    assert ledger.kwh["charged"] == pytest.approx(car_kw)
    assert ledger.kwh["import"] == pytest.approx(imported)
    assert ledger.kwh["unused"] == pytest.approx(unused)
    assert ledger.kwh["asked_import"] == pytest.approx(max(0.0, kw(asked) - kw(surplus)) * below)


def test_the_ideal_follower_stops_at_its_limit():
    ledger = Ledger(need_kwh=5.0)
    for _ in range(4):
        ledger.add(900.0, 10.0, 0.0, 0.0, True)  # 6.9 kW for an hour: 6.9 kWh on offer
    assert ledger.kwh["ideal"] == pytest.approx(5.0)


def test_awake_without_charging_and_wakeups():
    ledger = Ledger(need_kwh=1.0)
    for awake, charging in [(False, False), (True, False), (True, True), (False, False),
                            (True, False)]:  # fmt: skip
        ledger.car(60.0, awake, charging)
    assert ledger.awake_idle_s == 120.0
    assert ledger.wakeups == 2


def test_the_longest_a_session_end_kept_the_car_up():
    ledger = Ledger(need_kwh=1.0)
    day = [(True, True)] * 2 + [(True, False)] * 3 + [(False, False)] * 2  # up 3 min after
    day += [(True, True)] + [(True, False)] * 5  # ... and 5 min, still up when the day ends
    for awake, charging in day:
        ledger.car(60.0, awake, charging)
    assert ledger.to_sleep_s == 180.0 and ledger.longest_to_sleep_s() == 300.0
