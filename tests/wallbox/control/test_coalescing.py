import pytest

from wallbox.control.coalescing import (
    EVERY_CHANGE,
    Coalescing,
    Drift,
    amps_due_in,
    drift,
    why_held,
)

RULE = Coalescing(step_a=3, short_wait_s=60, long_wait_s=300, deadband_a=1)
BELOW, ABOVE = Drift(-1, 100.0), Drift(1, 100.0)


@pytest.mark.parametrize(
    ("before", "wanted", "asked", "now", "after"),
    [
        (None, 10, 10, 5.0, None),  # the car does what is wanted
        (None, None, 10, 5.0, None),  # nothing wanted
        (None, 10, None, 5.0, None),  # the car's current unknown
        (None, 8, 10, 5.0, Drift(-1, 5.0)),  # a fall starts
        (None, 12, 10, 5.0, Drift(1, 5.0)),  # a rise starts
        (BELOW, 7, 10, 200.0, BELOW),  # still below, whatever the value: the drift goes on
        (BELOW, 12, 10, 200.0, Drift(1, 200.0)),  # crossed over: a new drift
        (ABOVE, 10, 10, 200.0, None),  # back: over
    ],
)
def test_the_drift(before, wanted, asked, now, after):
    assert drift(before, wanted, asked, now) == after


@pytest.mark.parametrize(
    ("wanted", "asked", "since", "now", "due"),
    [
        (10, 10, None, 100.0, 0.0),  # nothing to change
        (10, None, None, 100.0, 0.0),  # the car's current unknown: at once
        (7, 10, BELOW, 100.0, 0.0),  # a fall of 3 A: import otherwise, at once
        (6, 16, BELOW, 100.0, 0.0),  # a big fall: at once
        (8, 10, BELOW, 100.0, 60.0),  # a fall of 2 A waits a minute
        (8, 10, BELOW, 130.0, 30.0),  # ... counted from the drift's start
        (8, 10, BELOW, 160.0, 0.0),  # ... then it goes
        (8, 10, None, 100.0, 60.0),  # no drift yet: it starts now
        (12, 10, ABOVE, 100.0, 300.0),  # a small rise waits five minutes
        (12, 10, ABOVE, 399.0, 1.0),
        (12, 10, ABOVE, 400.0, 0.0),
        (12, 10, ABOVE, 500.0, 0.0),  # long due
        (13, 10, ABOVE, 100.0, 60.0),  # a big rise (a cloud passed) waits a minute
        (13, 10, ABOVE, 160.0, 0.0),
        (11, 10, ABOVE, 100.0, 300.0),  # jitter up: the dead-band's wait
        (9, 10, BELOW, 100.0, 300.0),  # jitter down: as long
        (9, 10, BELOW, 400.0, 0.0),  # a lasting fall of 1 A goes in the end
    ],
)
def test_when_an_amps_change_goes_out(wanted, asked, since, now, due):
    assert amps_due_in(wanted, asked, since, now, RULE) == pytest.approx(due)


@pytest.mark.parametrize(("wanted", "asked"), [(6, 16), (15, 16), (17, 16), (32, 6), (5, 6)])
def test_every_change_sends_at_once(wanted, asked):
    assert (
        amps_due_in(wanted, asked, Drift(1 if wanted > asked else -1, 0.0), 0.0, EVERY_CHANGE) == 0
    )


def test_why_a_change_waits_is_told():
    assert why_held(13, 10, RULE) == (
        "13 A goes to the car once wanted for 60 s (a rise from 10 A)"
    )
    assert why_held(11, 10, RULE).startswith("11 A goes to the car once wanted for 300 s")
    assert "a fall from 10 A" in why_held(8, 10, RULE)
