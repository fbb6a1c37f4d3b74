"""ScanMyTesla's CAN values read as the car's charge state: AC against DC from the totals."""

import zlib

import pytest

from wallbox.telemetry import smt_values as smt
from wallbox.telemetry.model import Report
from wallbox.telemetry.smt_values import AC, DC, Flow
from wallbox.vehicle.charge_state import ONLINE

VIN = "5YJ3E7EA1KF000001"


def flow_of(*uploads: dict[int, float], step: float = 1.0) -> Flow:
    flow = Flow()
    for n, upload in enumerate(uploads):
        flow = smt.fold(flow, upload, 100.0 + n * step)
    return flow


def report_of(flow: Flow) -> Report:
    report = Report()
    report.take(smt.heard(VIN, flow), 200.0)
    return report


IDLE = {23: 44.9, 24: 44.6, 43: 0.4, 44: 1.2, 9: 1000.0, 11: 200.0}
AC_IN = {43: -10.6, 44: -28.0}
DC_IN = {43: -18.0, 44: -50.0}


@pytest.mark.parametrize(
    "uploads, expected",
    [
        ([IDLE], None),  # the pack gives: nothing about charging
        ([IDLE, {43: -0.2}], None),  # a trickle under FLOW_KW: not a flow
        ([IDLE, AC_IN], None),  # flowing, but neither total has risen yet
        ([IDLE, AC_IN, {9: 1000.1}], AC),
        ([IDLE, DC_IN, {11: 200.3}], DC),
        ([IDLE, {43: -60.0}], DC),  # more than any onboard charger takes
        ([IDLE, AC_IN, {9: 1000.1}, {11: 200.1}], DC),  # the newest rise tells
        ([IDLE, AC_IN, {9: 1000.1}, {43: 0.3}], None),  # the flow ended
        ([IDLE, AC_IN, {9: 1000.1}, {43: 0.3}, AC_IN], None),  # a new flow: told again
        ([IDLE, AC_IN, {9: 999.0}], None),  # a total that falls is no rise
        ([{43: -10.0}, {9: 5.0}, {9: 5.1}], AC),  # a total first seen during the flow
        ([IDLE, AC_IN, {11: 200.0}], None),  # sent again unchanged
    ],
)  # fmt: skip
def test_which_way_energy_flows(uploads, expected):
    assert smt.kind(flow_of(*uploads)) == expected


def test_only_the_ids_read_here_are_kept_and_nan_is_dropped():
    flow = flow_of({23: 50.0, 442: 30.0, 43: float("nan")})
    assert dict(flow.values) == {23: 50.0}


def test_a_car_charging_on_ac():
    flow = flow_of(IDLE, AC_IN | {79: 21.2}, {9: 1000.5, 24: 45.2})
    snap = smt.snapshot(report_of(flow), 300.0)
    assert (snap.charging_state, snap.plugged_in, snap.fast_charger_present) == (
        "Charging", True, False,
    )  # fmt: skip
    assert (snap.battery_level, snap.charger_power, snap.charge_energy_added) == (45, 10.6, 0.5)
    assert snap.time_to_full_charge == pytest.approx(2.0)
    assert (snap.car_state, snap.source, snap.reported_at, snap.read_at) == (
        ONLINE, "scanmytesla", 200.0, 300.0,
    )  # fmt: skip
    # never in the data, so never known
    assert snap.charge_limit_soc is None and snap.charge_current_request is None
    assert snap.latitude is None and snap.longitude is None and not snap.nearby
    assert snap.charger_actual_current is None and snap.charger_voltage is None


def test_a_dc_session_is_told_as_a_fast_charger():
    snap = smt.snapshot(report_of(flow_of(IDLE, DC_IN, {11: 201.0})), 300.0)
    assert snap.fast_charger_present is True and snap.charging
    assert snap.charge_energy_added == pytest.approx(1.0)


@pytest.mark.parametrize(
    "uploads",
    [[IDLE], [IDLE, AC_IN], [IDLE, AC_IN, {9: 1000.1}, {43: 0.2}]],
    ids=["idle", "ac-or-dc-not-told", "flow-ended"],
)
def test_without_a_known_flow_the_plug_state_is_unknown(uploads):
    snap = smt.snapshot(report_of(flow_of(*uploads)), 300.0)
    assert snap.plugged_in is None and not snap.has_charge_data and snap.charging_state is None
    assert snap.fast_charger_present is None and snap.charger_power is None


@pytest.mark.parametrize(
    "values, soc",
    [({23: 44.99}, 44), ({24: 45.01, 23: 44.2}, 45), ({43: 1.0}, None)],
)
def test_soc_is_the_shown_one_first_rounded_down(values, soc):
    assert smt.snapshot(report_of(flow_of(values)), 1.0).battery_level == soc


def test_origins_name_the_ids_and_what_is_missing():
    said = smt.origins(report_of(flow_of(IDLE, AC_IN, {9: 1000.1})))
    assert said["soc"] == "ScanMyTesla id 24" and "AC total rising" in said["charging_state"]
    assert said["volts"] == smt.MISSING
    for name in ("limitsoc", "targetamp", "position"):
        assert said[name].startswith(smt.MISSING) and "Tesla API's last word" in said[name]
    assert said["plugged_in"] == "ScanMyTesla: energy flows"
    assert smt.origins(None)["plugged_in"] == smt.MISSING


NAME = "Model 3"
CRC = zlib.crc32((VIN + NAME).encode())


@pytest.mark.parametrize(
    "token, matches",
    [
        (format(CRC, "08x"), True),
        (format(CRC, "x"), True),
        (format(CRC, "X"), True),
        (f"home_{CRC:x}", True),  # a prefix
        (f"{CRC:x}_2", True),  # several cars in one account
        (f"{CRC + 1:x}", False),
        ("notatoken", False),
        ("", False),
    ],
)
def test_teslaloggers_token_is_the_crc32_of_vin_and_name(token, matches):
    assert smt.is_teslalogger_token(token, VIN, NAME) is matches
