"""TeslaBleHttpProxy's answers from the controller's status: table tests, and evcc's
`tesla-ble` template's own jq expressions evaluated on them."""

import pytest

from wallbox.api import ble_shapes as shapes
from wallbox.vehicle.charge_state import ChargeState

jq = pytest.importorskip("jq")

VIN = "5YJ3SIM0000000001"
WALL = 1_800_000_000.0

# evcc's templates/definition/vehicle/tesla-ble.yaml, its reads as it defines them
EVCC_JQ = {
    "soc": ".response.response.charge_state.battery_level",
    "getmaxcurrent": ".response.response.charge_state.charge_amps",
    "limitsoc": ".response.response.charge_state.charge_limit_soc",
    "range": ".response.response.charge_state.battery_range",
    "status": '(if (.response.response.charge_state.charging_state == "Charging") then "C"'
    ' elif (.response.response.charge_state.charging_state == "Stopped") then "B"'
    ' elif (.response.response.charge_state.charging_state == "NoPower") then "B"'
    ' elif (.response.response.charge_state.charging_state == "Complete") then "B"'
    ' else "A" end)',
}


def evcc_reads(body: dict) -> dict:
    return {name: jq.compile(expr).input_value(body).first() for name, expr in EVCC_JQ.items()}


def status(**changes) -> dict:
    base = {
        "vin": VIN,
        "soc": 55,
        "targetamp": 10,
        "maxamp": 16,
        "amps": 0,
        "volts": 2,
        "power": 0,
        "phases": 0,
        "energy": 1.5,
        "limitsoc": 80,
        "carmaxamp": 16,
        "plugged_in": True,
        "charging_state": "Stopped",
        "car_state": "online",
        "at_charge_point": True,
        "age": 30.0,
    }
    return base | changes


def car(**changes) -> ChargeState:
    known = {"plugged_in": True, "charging_state": "Stopped", "battery_range": 170.5}
    return ChargeState(read_at=0.0, **(known | changes))


CHARGING = {"charging_state": "Charging", "amps": 16, "volts": 230, "power": 11040, "phases": 3}


@pytest.mark.parametrize(
    "situation, known, snapshot, evcc",
    [
        ("plugged in, idle", status(), car(), {"status": "B"}),
        ("charging", status(**CHARGING), car(charging_state="Charging", charger_power=11.0),
         {"status": "C"}),
        ("contactors closing", status(charging_state="Starting"), car(), {"status": "C"}),
        ("complete", status(charging_state="Complete", soc=80), car(), {"status": "B", "soc": 80}),
        ("no power", status(charging_state="NoPower"), car(), {"status": "B"}),
        ("asleep, plugged in", status(car_state="asleep"), car(car_state="asleep"),
         {"status": "B"}),
        ("unplugged", status(plugged_in=False, charging_state="Disconnected"),
         car(plugged_in=False, charging_state="Disconnected"), {"status": "A"}),
        ("charging elsewhere", status(**CHARGING, at_charge_point=False),
         car(charging_state="Charging", fast_charger_present=True, fast_charger_type="Tesla"),
         {"status": "A"}),
    ],
)  # fmt: skip
def test_evcc_reads_the_right_values_in_every_situation(situation, known, snapshot, evcc):
    code, body = shapes.vehicle_data(known, snapshot, ("charge_state",), WALL)
    assert code == 200 and body["response"]["result"] is True, situation
    expected = {"soc": 55, "getmaxcurrent": 10, "limitsoc": 80, "range": 170.5} | evcc
    assert evcc_reads(body) == expected, situation


def test_a_car_elsewhere_shows_no_session_here_but_its_true_soc():
    known = status(**CHARGING, at_charge_point=False, soc=63)
    snapshot = car(charging_state="Charging", fast_charger_present=True, fast_charger_type="Tesla")
    charge = shapes.vehicle_data(known, snapshot, ("charge_state",), WALL)[1]["response"][
        "response"
    ]["charge_state"]
    assert charge["charging_state"] == "Disconnected" and charge["battery_level"] == 63
    assert (charge["charger_actual_current"], charge["charger_power"]) == (0, 0)
    assert (charge["fast_charger_present"], charge["fast_charger_type"]) == (False, "<invalid>")


def test_charging_fields_have_teslas_names_and_units():
    known = status(**CHARGING)
    snapshot = car(charging_state="Charging", charger_power=11.0, time_to_full_charge=1.5)
    _, body = shapes.vehicle_data(known, snapshot, ("charge_state", "climate_state"), WALL)
    inner = body["response"]["response"]
    charge = inner["charge_state"]
    assert (charge["charger_actual_current"], charge["charger_voltage"]) == (16, 230)
    assert (charge["charger_power"], charge["charger_phases"]) == (11.0, 3)
    assert (charge["time_to_full_charge"], charge["minutes_to_full_charge"]) == (1.5, 90)
    assert inner["climate_state"] == {}
    assert body["response"]["vin"] == VIN and body["response"]["command"] == "vehicle_data"


def test_a_sleeping_car_answers_with_its_last_known_state():
    code, body = shapes.vehicle_data(
        status(car_state="asleep"), car(car_state="asleep"), ("charge_state",), WALL
    )
    assert code == 200 and body["response"]["response"]["state"] == "asleep"
    assert "asleep: its last known state" in body["response"]["reason"]


@pytest.mark.parametrize(
    "car_state, reason",
    [("asleep", "vehicle is sleeping"), ("offline", "vehicle is sleeping"),
     ("online", "no charge data yet")],
)  # fmt: skip
def test_nothing_known_is_503_in_the_envelope(car_state, reason):
    summary = ChargeState(read_at=0.0, car_state=car_state, source="summary")
    code, body = shapes.vehicle_data(status(car_state=car_state), summary, ("charge_state",), WALL)
    assert code == 503 and body["response"]["result"] is False
    assert body["response"]["reason"].startswith(reason) and "response" not in body["response"]


@pytest.mark.parametrize(
    "raw, wanted",
    [(None, ("charge_state", "climate_state")), ("charge_state", ("charge_state",)),
     ("charge_state;climate_state", ("charge_state", "climate_state"))],
)  # fmt: skip
def test_endpoints(raw, wanted):
    assert shapes.wanted_endpoints(raw) == wanted


def test_other_endpoints_are_refused_as_the_proxy_does():
    with pytest.raises(shapes.Refused, match='endpoint "location_data" is not supported'):
        shapes.wanted_endpoints("charge_state;location_data")


@pytest.mark.parametrize(
    "car_state, plugged_in, sleep",
    [("online", True, "VEHICLE_SLEEP_STATUS_AWAKE"),
     ("asleep", True, "VEHICLE_SLEEP_STATUS_ASLEEP"),
     ("unknown", None, "VEHICLE_SLEEP_STATUS_UNKNOWN")],
)  # fmt: skip
def test_body_controller_state(car_state, plugged_in, sleep):
    code, body = shapes.body_controller_state(status(car_state=car_state, plugged_in=plugged_in))
    inner = body["response"]["response"]
    assert code == 200 and inner["vehicle_sleep_status"] == sleep
    assert ("closure_statuses" in inner) is bool(plugged_in)


@pytest.mark.parametrize(
    "command, body, change",
    [
        ("charge_start", None, {"charging": True}),
        ("charge_stop", None, {"charging": False}),
        ("wake_up", None, {"wake": True}),
        ("set_charging_amps", {"charging_amps": 12}, {"amps": 12}),
        ("set_charging_amps", {"charging_amps": 12.0}, {"amps": 12}),
        ("set_charging_amps", {"charging_amps": "8"}, {"amps": 8}),
        ("set_charge_limit", {"percent": 85}, {"target_soc": 85}),
    ],
)
def test_commands_become_intent_changes(command, body, change):
    assert shapes.intent_change(command, body) == change


@pytest.mark.parametrize(
    "command, body, words",
    [
        ("honk_horn", None, "unrecognized command"),
        ("set_charging_amps", None, '{"charging_amps": <whole number>}'),
        ("set_charging_amps", {"charging_amps": 6.5}, "got 6.5"),
        ("set_charging_amps", {"charging_amps": True}, "got True"),
        ("set_charge_limit", {"charging_amps": 80}, '{"percent": <whole number>}'),
    ],
)
def test_bad_commands_are_refused_with_what_to_send(command, body, words):
    with pytest.raises(shapes.Refused) as refused:
        shapes.intent_change(command, body)
    assert words in str(refused.value)


@pytest.mark.parametrize("value, wait", [("true", True), ("1", True), (None, False),
                                         ("false", False)])  # fmt: skip
def test_wait(value, wait):
    assert shapes.waits(value) is wait


def test_envelope_is_200_only_for_a_result():
    assert shapes.envelope(VIN, "x", True, "ok") == (
        200, {"response": {"result": True, "reason": "ok", "vin": VIN, "command": "x"}}
    )  # fmt: skip
    assert shapes.envelope(VIN, "x", False, "no", {"a": 1})[0] == 503


# the proxy's int32 fields (its models/states.go): a Go client decodes 11.0 as an error
PROXY_INTS = ("battery_level", "usable_battery_level", "charge_limit_soc", "charge_amps",
              "charge_current_request", "charge_current_request_max", "charger_pilot_current",
              "charger_actual_current", "charger_voltage", "charger_power", "charger_phases",
              "minutes_to_full_charge", "timestamp")  # fmt: skip


@pytest.mark.parametrize("kw", [11.0, 7.36, None])
def test_whole_numbers_where_the_proxy_has_them(kw):
    snapshot = car(charging_state="Charging", charger_power=kw, time_to_full_charge=1.5)
    _, body = shapes.vehicle_data(status(**CHARGING), snapshot, ("charge_state",), WALL)
    charge = body["response"]["response"]["charge_state"]
    assert {n: type(charge[n]) for n in PROXY_INTS} == dict.fromkeys(PROXY_INTS, int)
    assert charge["charger_power"] == {11.0: 11, 7.36: 7, None: 11}[kw]


def test_timestamp_is_unix_seconds_as_the_proxy_sends_it():
    charge = shapes.charge_state(status(), car(), WALL)
    assert charge["timestamp"] == WALL - 30


def evcc_parses(value) -> float:
    """evcc's http plugin: jq's result printed with Go's %v, then ParseFloat (null fails)."""
    return float("<nil>" if value is None else value)


def test_evcc_parses_every_read_without_a_range_known():
    # telemetry brings no range: the proxy's zero value, which evcc's UI shows as none
    _, body = shapes.vehicle_data(status(), car(battery_range=None), ("charge_state",), WALL)
    reads = evcc_reads(body)
    assert {n: evcc_parses(reads[n]) for n in ("soc", "getmaxcurrent", "limitsoc", "range")} == {
        "soc": 55, "getmaxcurrent": 10, "limitsoc": 80, "range": 0
    }  # fmt: skip


@pytest.mark.parametrize("enabled", [True, False])
def test_charge_enable_request_is_what_teslable2mqtt_switches_on(enabled):
    assert shapes.charge_state(status(enabled=enabled), car(), WALL)["charge_enable_request"] is (
        enabled
    )


def test_body_controller_state_names_user_presence_as_unknown():
    inner = shapes.body_controller_state(status())[1]["response"]["response"]
    assert inner["user_presence"] == "VEHICLE_USER_PRESENCE_UNKNOWN"
