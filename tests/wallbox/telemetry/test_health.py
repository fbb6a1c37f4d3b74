"""The one health rule every push source is judged by: the first matching line decides."""

import pytest

from wallbox.telemetry.health import SourceFacts, judge
from wallbox.telemetry.teslamate import UNHEALTHY
from wallbox.vehicle.charge_state import ASLEEP, OFFLINE, ONLINE, UNKNOWN

BASE = dict(
    label="fleet-telemetry",
    now=1000.0,
    rhythm_s=180.0,
    connected=True,
    bridge_online=None,
    last_report_at=990.0,
    car_state=ONLINE,
    has_charge_data=True,
    charging=False,
    commanded_at=None,
)


@pytest.mark.parametrize(
    "changes, trusted, words",
    [
        ({}, True, "a parked car is quiet"),
        ({"connected": False}, False, "not connected to fleet-telemetry's MQTT broker"),
        ({"bridge_online": False}, False, "is offline (its own word"),
        ({"bridge_online": True}, True, "a parked car is quiet"),
        ({"last_report_at": None}, False, "nothing from fleet-telemetry"),
        ({"has_charge_data": False}, False, "has not told the charge state"),
        # parked and silent for hours: quiet, not lost
        ({"last_report_at": -50000.0}, True, "a parked car is quiet"),
        ({"charging": True}, True, "reports while charging"),
        ({"charging": True, "last_report_at": 820.0}, True, "reports while charging"),
        ({"charging": True, "last_report_at": 819.0}, False, "silent for 181 s while charging"),
        # asleep or offline by the feed's own word: known, not silent
        ({"car_state": ASLEEP, "last_report_at": 0.0}, True, "the car is asleep: known"),
        ({"car_state": OFFLINE, "last_report_at": 0.0}, True, "the car is offline: known"),
        ({"car_state": ASLEEP, "has_charge_data": False}, False, "has not told the charge"),
        # "disconnected" while its last values say charging: the link dropped, not sleep
        ({"car_state": ASLEEP, "charging": True}, True, "reports while charging"),
        ({"car_state": ASLEEP, "charging": True, "last_report_at": 0.0}, False, "silent for"),
        ({"car_state": UNKNOWN}, True, "a parked car is quiet"),
        # a command must be answered within the rhythm
        ({"commanded_at": 995.0}, True, "a parked car is quiet"),
        ({"commanded_at": 995.0, "now": 1175.0}, True, "a parked car is quiet"),
        ({"commanded_at": 995.0, "now": 1176.0}, False, "nothing in 181 s after a command"),
        ({"commanded_at": 980.0, "now": 5000.0}, True, "a parked car is quiet"),  # heard since
        # a command wakes the car: "asleep" after it is no excuse
        ({"commanded_at": 995.0, "now": 1176.0, "car_state": ASLEEP}, False, "after a command"),
    ],
)
def test_judge(changes, trusted, words):
    verdict = judge(SourceFacts(**(BASE | changes)))
    assert verdict.trusted is trusted
    assert words in verdict.reason


# TeslaMate's rules before the sources shared one, every case kept: `healthy` is the
# bridge's own word, in TeslaMate's words.
LIMIT = 300.0
NOW = 10_000.0
TESLAMATE = BASE | dict(
    label="TeslaMate", now=NOW, rhythm_s=LIMIT, bridge_online=True, last_report_at=NOW - 10,
    offline_reason=UNHEALTHY,
)  # fmt: skip


@pytest.mark.parametrize(
    "changes, trusted, words",
    [
        ({}, True, "a parked car is quiet"),
        # a parked (asleep or idle) car may be silent for hours: still trusted
        ({"last_report_at": NOW - 36_000}, True, "quiet"),
        ({"bridge_online": None}, True, "quiet"),  # not heard since the connect: no objection
        ({"connected": False}, False, "not connected to TeslaMate's MQTT broker"),
        ({"connected": False, "bridge_online": False}, False, "not connected"),  # first wins
        ({"bridge_online": False}, False, "TeslaMate reports healthy=false"),
        ({"bridge_online": False, "last_report_at": NOW}, False, "healthy=false"),
        ({"last_report_at": None}, False, "nothing from TeslaMate"),
        ({"has_charge_data": False}, False, "TeslaMate has not told the charge state"),
        # charging: silence beyond the limit means TeslaMate no longer sees the car
        ({"charging": True, "last_report_at": NOW - 10}, True, "while charging"),
        ({"charging": True, "last_report_at": NOW - LIMIT}, True, "while charging"),
        ({"charging": True, "last_report_at": NOW - LIMIT - 1}, False, "silent for 301 s"),
        # after a command the car changes something: a report is due within the limit
        ({"commanded_at": NOW - 100, "last_report_at": NOW - 200}, True, "quiet"),
        ({"commanded_at": NOW - 301, "last_report_at": NOW - 400}, False, "after a command"),
        ({"commanded_at": NOW - 301, "last_report_at": NOW - 250}, True, "quiet"),  # reported
        ({"commanded_at": NOW - 5000, "last_report_at": NOW - 4000}, True, "quiet"),
        (
            {"commanded_at": NOW - 301, "last_report_at": NOW - 302, "charging": True},
            False,
            "while charging",
        ),
    ],
)
def test_teslamates_rules(changes, trusted, words):
    verdict = judge(SourceFacts(**(TESLAMATE | changes)))
    assert verdict.trusted is trusted
    assert words in verdict.reason


def test_the_limit_is_in_the_reason():
    facts = TESLAMATE | dict(charging=True, last_report_at=NOW - 1000, rhythm_s=60)
    verdict = judge(SourceFacts(**facts))
    assert verdict.reason == "TeslaMate silent for 1000 s while charging (limit 60 s)"
