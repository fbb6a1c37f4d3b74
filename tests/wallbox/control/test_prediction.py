import pytest

from wallbox.control.prediction import Prediction, predict
from wallbox.vehicle.charge_state import ChargeState

CHARGING = dict(
    read_at=0.0,
    car_state="online",
    plugged_in=True,
    charging_state="Charging",
    battery_level=40,
    charge_limit_soc=80,
    charger_actual_current=16,
    charger_voltage=230,
    charger_power=11.0,  # 3 x 230 V x 16 A = 11.04 kW
    charge_energy_added=5.0,
)


def car(**changes):
    return ChargeState(**{**CHARGING, **changes})


@pytest.mark.parametrize(
    "state, now, measured_at, learnt, expected",
    [
        (None, 900, None, None, None),
        (car(charging_state="Stopped"), 900, None, None, None),  # not charging: as read
        (car(), 59, None, 0.7, None),  # a fresh read stands
        (car(charger_actual_current=0), 900, None, 0.7, None),  # no power known
        (car(), 900, None, 0.69, Prediction(44, 7.76)),  # 2.76 kWh in 15 min: +4 %
        (car(), 900, None, None, Prediction(None, 7.76)),  # no rate yet
        (car(charger_voltage=None), 900, None, 0.69, Prediction(43, 7.75)),  # no voltage: 11 kW
        (car(time_to_full_charge=4.0), 3600, None, None, Prediction(50, 16.04)),  # the car's pace
        (car(battery_level=79), 3600, None, 0.69, Prediction(80, 16.04)),  # never past the limit
        # a command's answer came at 800 s: the time still counts from the read at 0
        (car(read_at=800.0), 900, 0.0, 0.69, Prediction(44, 7.76)),
    ],
)
def test_what_a_charging_car_has_most_likely_reached(state, now, measured_at, learnt, expected):
    assert predict(state, now, measured_at, learnt) == expected
