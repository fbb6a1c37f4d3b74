"""What Tesla bills: the kind of each path, which statuses count, the price."""

import pytest

from wallbox.vehicle.billing import (
    billed,
    billed_failure,
    cost_usd,
    kind_of,
    month_projection,
    usage_report,
)
from wallbox.vehicle.errors import (
    Asleep,
    CommandRefused,
    NotConfigured,
    NotFound,
    RateLimited,
    Unauthorized,
    Unavailable,
)

VIN = "5YJ3E7EA1KF000001"


@pytest.mark.parametrize(
    "method, path, kind",
    [
        ("GET", "/api/1/vehicles", "data"),
        ("GET", f"/api/1/vehicles/{VIN}", "data"),
        ("GET", f"/api/1/vehicles/{VIN}/vehicle_data?endpoints=charge_state", "data"),
        ("GET", "/api/1/users/region", "data"),
        ("GET", f"/eu/api/1/vehicles/{VIN}/vehicle_data", "data"),
        ("POST", f"/api/1/vehicles/{VIN}/wake_up", "wake"),
        ("POST", f"/api/1/vehicles/{VIN}/command/wake_up", "wake"),  # TeslaBleHttpProxy
        ("POST", f"/api/1/vehicles/{VIN}/command/charge_start", "command"),
        ("POST", "/oauth2/v3/token", None),
        ("GET", "/sim/calls", None),
    ],
)
def test_the_kind_of_a_call(method, path, kind):
    assert kind_of(method, path) == kind


@pytest.mark.parametrize(
    "status, is_billed", [(200, True), (401, True), (408, True), (429, True), (499, True),
                          (500, False), (503, False)]
)  # fmt: skip
def test_every_answer_under_500_is_billed(status, is_billed):
    assert billed(status) is is_billed


def test_the_price():
    assert cost_usd({"data": 500, "command": 1000, "wake": 50, "auth": 9}) == pytest.approx(3.0)
    assert cost_usd({}) == 0


@pytest.mark.parametrize(
    ("error", "billed_or_not"),
    [
        (Asleep("408"), True),
        (RateLimited("429", 60), True),
        (CommandRefused("charge_start", "complete"), True),
        (Unauthorized("401"), True),
        (NotFound("404"), True),
        (Unavailable("HTTP 503"), False),  # 5xx and timeouts are free
        (NotConfigured("no login"), False),  # nothing was sent
    ],
)
def test_which_failures_are_billed(error, billed_or_not):
    assert billed_failure(error) is billed_or_not


@pytest.mark.parametrize(
    ("usd", "elapsed", "days", "projected"),
    [
        (0.10, 0.2, 30, 3.0),  # the first morning counts as a whole day
        (0.10, 1.0, 30, 3.0),
        (1.50, 10.0, 31, 4.65),
        (0.0, 5.0, 30, 0.0),
    ],
)
def test_the_month_at_this_pace(usd, elapsed, days, projected):
    assert month_projection(usd, elapsed, days) == pytest.approx(projected)


def test_the_usage_report_shape():
    report = usage_report(
        {"command": 40, "data": 10},
        {"command": 400, "data": 100, "wake": 5},
        billed=True,
        elapsed_days=9.5,
        days_in_month=30,
    )
    assert report == {
        "billed": True,
        "today": {"data": 10, "command": 40, "wake": 0, "usd": 0.06},
        "month": {"data": 100, "command": 400, "wake": 5, "usd": 0.7},
        "month_projected_usd": 2.21,
        "credit_usd": 10.0,
    }
    free = usage_report(
        {"command": 40}, {"command": 40}, billed=False, elapsed_days=1, days_in_month=30
    )
    assert free["today"] == {"data": 0, "command": 40, "wake": 0, "usd": 0.0}
    assert free["month_projected_usd"] == 0.0
