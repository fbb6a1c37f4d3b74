"""The rule that decides whether TeslaMate's telemetry stands in for API reads."""

import pytest

from wallbox.telemetry.teslamate_health import TelemetryFacts, judge

LIMIT = 300.0
NOW = 10_000.0


def facts(**changes) -> TelemetryFacts:
    base = dict(
        now=NOW,
        silence_s=LIMIT,
        connected=True,
        healthy=True,
        last_report_at=NOW - 10,
        has_charge_data=True,
        charging=False,
        commanded_at=None,
    )
    return TelemetryFacts(**{**base, **changes})


@pytest.mark.parametrize(
    "changes, fresh, words",
    [
        ({}, True, "a parked car is quiet"),
        # a parked (asleep or idle) car may be silent for hours: still fresh
        ({"last_report_at": NOW - 36_000}, True, "quiet"),
        ({"healthy": None}, True, "healthy"),  # not heard since the connect: no objection
        ({"connected": False}, False, "not connected"),
        ({"connected": False, "healthy": False}, False, "not connected"),  # first rule wins
        ({"healthy": False}, False, "healthy=false"),
        ({"healthy": False, "last_report_at": NOW}, False, "healthy=false"),
        ({"last_report_at": None}, False, "nothing from TeslaMate"),
        ({"has_charge_data": False}, False, "not published the charge state"),
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
def test_judge(changes, fresh, words):
    verdict = judge(facts(**changes))
    assert verdict.fresh is fresh
    assert words in verdict.reason
    assert verdict.source == ("teslamate" if fresh else "tesla_api")


def test_the_limit_is_in_the_reason():
    verdict = judge(facts(charging=True, last_report_at=NOW - 1000, silence_s=60))
    assert verdict.reason == "TeslaMate silent for 1000 s while charging (limit 60 s)"
