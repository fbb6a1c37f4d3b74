"""Whether the car is at this charge point, and what may be sent to it: one table each."""

import pytest

from wallbox.control.charge_point import ChargePoint
from wallbox.control.geo import PvLocation
from wallbox.vehicle.backend import Command
from wallbox.vehicle.charge_state import ChargeState

HOME = PvLocation(48.1374, 11.5755, 100.0)
AT_HOME = dict(latitude=48.1375, longitude=11.5756)
MUNICH_AIRPORT = dict(latitude=48.3538, longitude=11.7861)  # 29 km away
DC = dict(fast_charger_present=True, fast_charger_type="Tesla", charging_state="Charging")

AT_LOCATION = ChargePoint((HOME,))
AT_GEOFENCE = ChargePoint(geofences=frozenset({"Home"}))
ANYWHERE = ChargePoint()
EVERYWHERE = ChargePoint((HOME,), everywhere=True)


def car(**fields) -> ChargeState:
    return ChargeState(
        **{"read_at": 0.0, "plugged_in": True, "charging_state": "Stopped", **fields}
    )


@pytest.mark.parametrize(
    "point, state, here, words",
    [
        (AT_LOCATION, car(**AT_HOME), True, "at the PV location"),
        (AT_LOCATION, car(**MUNICH_AIRPORT), False, "29 km from the PV location"),
        (AT_LOCATION, car(latitude=48.1400, longitude=11.5755), False, "289 m from"),
        (AT_LOCATION, car(**AT_HOME, **DC), False, "DC fast charging (Tesla)"),
        (AT_LOCATION, car(), None, "not known yet (no GPS reading)"),
        (AT_LOCATION, car(nearby=True), True, "within Bluetooth range"),  # BLE: no GPS
        (AT_LOCATION, car(nearby=True, **DC), False, "DC fast charging"),
        (AT_LOCATION, None, None, "nothing read"),
        (AT_GEOFENCE, car(geofence="home"), True, "at the PV location"),
        (AT_GEOFENCE, car(geofence="Work"), False, "geofence 'Work'"),
        (AT_GEOFENCE, car(**AT_HOME), None, "not known yet"),  # no geofence from the API
        (ANYWHERE, car(**MUNICH_AIRPORT), True, "no PV location set"),
        (ANYWHERE, car(**DC), False, "DC fast charging"),  # never a wallbox
        (EVERYWHERE, car(**MUNICH_AIRPORT, **DC), True, "wallbox_control_everywhere"),
    ],
)
def test_where(point, state, here, words):
    where = point.where(state)
    assert where.here is here
    assert words in where.reason


AWAY = car(**MUNICH_AIRPORT, charging_state="Charging")
UNKNOWN = car(charging_state="Charging")
ALL = [Command.CHARGE_START, Command.CHARGE_STOP, Command.SET_CHARGING_AMPS,
       Command.SET_CHARGE_LIMIT]  # fmt: skip


@pytest.mark.parametrize("command", ALL)
def test_nothing_is_sent_to_a_car_elsewhere(command):
    why = AT_LOCATION.refusal(AWAY, command)
    assert why is not None and why.startswith("no car at this charge point: the car is 29 km")
    assert "wallbox_control_everywhere" in why
    assert AT_LOCATION.refusal(car(**AT_HOME), command) is None
    assert EVERYWHERE.refusal(AWAY, command) is None


@pytest.mark.parametrize("command", ALL)
def test_an_unknown_position_only_stops_a_stop(command):
    why = AT_LOCATION.refusal(UNKNOWN, command)
    if command is Command.CHARGE_STOP:
        assert why is not None and why.startswith("not stopping: the car's position")
    else:
        assert why is None


def test_a_wake_up_is_always_fine():
    assert AT_LOCATION.refusal(AWAY, None) is None
