"""What Tesla bills: the kind of each path, which statuses count, the price."""

import pytest

from wallbox.vehicle.billing import billed, cost_usd, kind_of

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
