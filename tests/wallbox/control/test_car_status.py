"""Where the car is, for the status: by position, by TeslaMate's geofence, or because
TeslaBleHttpProxy reached it over Bluetooth (no position, but within metres)."""

import pytest

from wallbox.control.car_status import car_at_pv_location
from wallbox.control.geo import PvLocation
from wallbox.vehicle.charge_state import ChargeState

HOME = (PvLocation(48.1374, 11.5755, 100.0),)


@pytest.mark.parametrize(
    "car, at_home",
    [
        (None, False),
        (ChargeState(read_at=0, latitude=48.1374, longitude=11.5755), True),
        (ChargeState(read_at=0, latitude=48.2, longitude=11.5755), False),
        (ChargeState(read_at=0), False),  # no position: not there
        (ChargeState(read_at=0, geofence="Home"), True),
        (ChargeState(read_at=0, nearby=True), True),  # read over Bluetooth
    ],
)
def test_the_car_at_the_pv_location(car, at_home):
    assert car_at_pv_location(car, HOME, frozenset({"Home"})) is at_home
