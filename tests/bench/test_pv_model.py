"""The PV day's surplus model: seeded, bounded, and moving every loop."""

import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.pv_model import Cloud, PvDay, kw

DAY = 12 * 3600.0
times = st.floats(min_value=0.0, max_value=DAY)
seeds = st.integers(min_value=0, max_value=2**31)


@pytest.mark.parametrize(
    ("t", "arc"),
    [
        (-1.0, 0.0),  # before sunrise
        (0.0, -1.5),  # sunrise: the house's load only
        (DAY / 2, 11.0),  # noon: 12.5 A less 1.5
        (DAY / 6, 12.5 * 0.5**1.5 - 1.5),  # 09:00
        (DAY + 1, 0.0),  # after sunset
    ],
)
def test_the_arc_at_known_times(t, arc):
    assert PvDay().arc_a(t) == pytest.approx(arc, abs=1e-9)


@pytest.mark.parametrize(
    ("cloud", "t", "covered"),
    [
        (Cloud(100.0, 60.0, 3.0), 99.9, False),
        (Cloud(100.0, 60.0, 3.0), 100.0, True),
        (Cloud(100.0, 60.0, 3.0), 159.9, True),
        (Cloud(100.0, 60.0, 3.0), 160.0, False),
    ],
)
def test_a_cloud_covers_its_own_minutes(cloud, t, covered):
    assert cloud.covers(t) is covered


def test_kw_is_three_phases_at_230_v():
    assert kw(16) == pytest.approx(11.04)
    assert kw(6) == pytest.approx(4.14)


@given(seeds)
def test_clouds_are_1_to_4_minutes_taking_2_to_6_a_never_overlapping(seed):
    clouds = PvDay(seed=seed).clouds
    assert clouds, "a cloudy day has clouds"
    for cloud in clouds:
        assert 60.0 <= cloud.length_s <= 240.0
        assert 2.0 <= cloud.depth_a <= 6.0
    for before, after in itertools.pairwise(clouds):
        assert after.start_s - (before.start_s + before.length_s) >= 60.0


@given(seeds, times)
def test_the_same_seed_gives_the_same_surplus(seed, t):
    assert PvDay(seed=seed).surplus_a(t) == PvDay(seed=seed).surplus_a(t)


@given(seeds, times)
def test_the_surplus_stays_between_zero_and_the_peak(seed, t):
    for cloudy in (True, False):
        day = PvDay(seed=seed, cloudy=cloudy)
        surplus = day.surplus_a(t)
        assert 0.0 <= surplus <= day.peak_a - day.house_a + day.jitter_a
        assert math.isfinite(surplus)


@given(seeds, times)
def test_a_cloud_takes_its_depth_and_the_jitter_stays_within_1_a(seed, t):
    cloudy, clear = PvDay(seed=seed), PvDay(seed=seed, cloudy=False)
    assert abs(clear.surplus_a(t) - max(0.0, clear.arc_a(t))) <= 1.0 + 1e-9
    if cloudy.arc_a(t) > 8.0:  # well above zero: nothing is cut off at 0
        taken = clear.surplus_a(t) - cloudy.surplus_a(t)
        assert taken == pytest.approx(cloudy.cloud_a_at(t))
        assert taken == 0.0 or 2.0 <= taken <= 6.0


@given(seeds)
def test_the_surplus_moves_every_loop_while_the_sun_is_up(seed):
    day = PvDay(seed=seed)
    loops = [day.surplus_a(t) for t in range(4 * 3600, 8 * 3600, 30)]  # never cut off at 0
    unchanged = sum(a == b for a, b in itertools.pairwise(loops))
    assert unchanged == 0


def test_the_jitter_holds_for_one_loop():
    day = PvDay()
    assert day.jitter_at(3600.0) == day.jitter_at(3629.9)
    assert day.jitter_at(3600.0) != day.jitter_at(3630.0)


def test_another_seed_gives_another_day():
    assert PvDay(seed=1).clouds != PvDay(seed=2).clouds


def test_the_cloudy_day_offers_less_than_the_clear_one():
    """The bench's day: the clear one fills 40 -> 85 % of 75 kWh, the cloudy one does not."""

    def usable_kwh(day: PvDay) -> float:
        return sum(
            kw(min(s, 16.0)) * 10 / 3600
            for t in range(0, int(day.length_s), 10)
            if (s := day.surplus_a(t)) >= 6.0
        )

    assert usable_kwh(PvDay(cloudy=False)) > 33.75 > 30.0 > usable_kwh(PvDay())
