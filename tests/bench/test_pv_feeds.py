"""The PV day's push feeds: what the fakes publish reads back, through the product's
dialects, as the simulated car's charge state (no broker, no stream)."""

import json
from functools import partial

import pytest

from bench import pv_feeds
from support.fake_push_feeds import fleet_topics, tb2m_topics
from support.fake_teslemetry import events
from wallbox.clock import ScaledClock
from wallbox.telemetry import teslemetry
from wallbox.telemetry.model import Report
from wallbox.vehicle.simulator.fleet import Fleet


def online_car() -> tuple[Fleet, dict]:
    clock = ScaledClock(600)
    fleet = Fleet.with_cars(1, clock, soc=40.0, limit=85, capacity_kwh=75.0, state="online")
    return fleet, fleet.cars[0].vehicle_data(clock.wall())


@pytest.mark.parametrize("kind", ["fleet", "tb2m"])
def test_an_mqtt_feed_reads_back_as_the_car(kind):
    fleet, data = online_car()
    vin = fleet.cars[0].vin
    shape = partial(fleet_topics, strings=True) if kind == "fleet" else tb2m_topics
    dialect = pv_feeds._mqtt_dialect(kind, "bench-x")
    report = Report()
    for name, payload in shape(data).items():
        heard = dialect.heard(f"bench-x/{vin}/{name}", payload.encode())
        if heard is not None:
            report.take(heard, 0.0)
    snap = dialect.snapshot(report, 0.0)
    assert dialect.source == pv_feeds.SOURCES[kind]
    assert snap.battery_level == data["charge_state"]["usable_battery_level"]
    assert snap.charge_limit_soc == 85


def test_the_sse_feed_reads_back_as_the_car():
    fleet, data = online_car()
    vin = fleet.cars[0].vin
    report = Report()
    for event in events(data, vin, {}):
        heard = teslemetry.heard(vin, json.dumps(event))
        assert heard is not None
        report.take(heard, 0.0)
    snap = teslemetry.snapshot(report, 0.0)
    assert snap.charge_limit_soc == 85


def test_every_choice_has_a_title_and_a_source():
    assert set(pv_feeds.TITLES) == set(pv_feeds.SOURCES) == set(pv_feeds.CHOICES)
