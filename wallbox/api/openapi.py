"""The OpenAPI 3.1 description of the wallbox API, served at `/openapi.json`.

Kept next to the handlers and checked against real answers by the tests, so
the schemathesis fuzz test (tests/wallbox/api/test_openapi_fuzz.py) can rely
on it. The bare-value form (`set_amps?16`) cannot be written in OpenAPI; it is
described in words and the named form (`set_amps?value=16`) is the documented
parameter.
"""

from functools import cache
from typing import Any

from wallbox.control.intent import AMPS_CEILING, SWITCH_OFF, SWITCH_ON
from wallbox.control.planner import Goal
from wallbox.control.settings import WAIT_MAX_S
from wallbox.telemetry import fleet, smt_values, tb2m, teslamate, teslemetry, tessie
from wallbox.telemetry.health import TESLA_API

SOURCES = [m.SOURCE for m in (teslamate, fleet, teslemetry, tessie, tb2m, smt_values)] + [TESLA_API]


def _nullable(kind: str, **extra: Any) -> dict[str, Any]:
    return {"type": [kind, "null"], **extra}


_USAGE = {
    "type": "object",
    "description": "billed calls by kind, and their price at Tesla's rates",
    "properties": {k: {"type": "integer"} for k in ("data", "command", "wake")}
    | {"usd": {"type": "number"}},
}

STATUS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "The car as a wallbox sees it (shared/seeds/001), plus what a caller "
    "needs to trust it: the data's age, the car's own state, open actions, the last error.",
    "properties": {
        "car": {"type": "integer", "minimum": 1, "description": "car number"},
        "vin": {"type": "string"},
        "name": {"type": "string"},
        "status": {
            "type": "integer",
            "enum": [0, 1, 2, 3, 4, 5],
            "description": "0 not ready, 1 plugged in, 2 plugged in at the PV location, "
            "3 charging, 4 charging stopped (on request or limit reached), "
            "5 charging interrupted (stopped by anything else)",
        },
        "status_text": {"type": "string"},
        "soc": _nullable("integer", minimum=0, maximum=100, description="battery_level, %"),
        "targetsoc": _nullable(
            "integer",
            minimum=1,
            maximum=100,
            description="target SoC: 1-49 held by this controller, else the car's limit",
        ),
        "targetamp": _nullable("integer", description="charge_current_request, A"),
        "maxamp": _nullable("integer", description="charger_pilot_current, A"),
        "amps": _nullable("integer", description="charger_actual_current, A"),
        "volts": _nullable("integer", description="charger_voltage, V"),
        "power": {"type": "integer", "minimum": 0, "description": "phases x volts x amps, W"},
        "phases": {
            "type": "integer",
            "minimum": 0,
            "maximum": 3,
            "description": "from charger_power / (volts x amps); 0 when no current flows",
        },
        "energy": _nullable("number", description="charge_energy_added, kWh"),
        "predicted": {"type": "array", "items": {"type": "string", "enum": ["soc", "energy"]}},
        "limitsoc": _nullable("integer", description="the car's own charge limit, %"),
        "carmaxamp": _nullable("integer", description="charge_current_request_max, A"),
        "plugged_in": _nullable("boolean"),
        "charging_state": _nullable("string", description="the car's charging_state"),
        "car_state": {"type": "string", "description": "online, asleep, offline or unknown"},
        "at_pv_location": {"type": "boolean"},
        "at_charge_point": _nullable(
            "boolean",
            description="at this charge point; false: elsewhere or on a DC fast charger (then "
            "status 0, commands 409); null: the position is not known yet",
        ),
        "whereabouts": {"type": "string", "description": "why at_charge_point is what it is"},
        "connected": {
            "type": "boolean",
            "description": "plugged in at this charge point (what openWB and Home Assistant show)",
        },
        "evcc_status": {"type": "string", "enum": ["A", "B", "C"]},
        "enabled": {"type": "boolean", "description": "evcc's enabled: the last charging wish"},
        "intent": {
            "type": "object",
            "required": ["charging", "amps", "soc"],
            "properties": {
                "charging": _nullable("boolean"),
                "amps": _nullable("integer"),
                "soc": _nullable("integer"),
            },
        },
        "pending": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["goal", "action", "for_s", "waiting_for"],
                "properties": {
                    "goal": {"type": "string", "enum": sorted(goal.value for goal in Goal)},
                    "action": {"type": "string"},
                    "for_s": {"type": "number", "minimum": 0},
                    "waiting_for": _nullable("string"),
                },
            },
        },
        "next_try_in": _nullable("number", description="s until the next try after a failure"),
        "age": _nullable("number", minimum=0, description="s since the car was read"),
        "updated": _nullable("string", description="when the car was read (UTC)"),
        "last_error": _nullable("string"),
        "last_error_at": _nullable("string"),
        "telemetry": {
            "type": "object",
            "description": "where the car's state comes from: a trusted push source, else the API",
            "required": ["source", "reason", "since", "teslamate_report_age"],
            "properties": {
                "source": {
                    "type": "string",
                    "enum": SOURCES,
                },
                "reason": {"type": "string", "description": "why this source, in words"},
                "since": _nullable("string", description="when the source last switched (UTC)"),
                "teslamate_report_age": _nullable(
                    "number", minimum=0, description="s since TeslaMate's newest message"
                ),
                "report_age": _nullable("number", minimum=0, description="the source's age, s"),
                "sources": {"type": "object", "description": "each push source's verdict"},
            },
        },
        "api_usage": {
            "type": "object",
            "description": "this car's vehicle API calls as Tesla bills them, by the local "
            "calendar, since the process started; billed false: Bluetooth or the Owner API",
            "properties": {"billed": {"type": "boolean"}, "today": _USAGE, "month": _USAGE}
            | {"month_projected_usd": {"type": "number"}, "credit_usd": {"type": "number"}},
        },
    },
}

STATUS_SCHEMA["required"] = list(STATUS_SCHEMA["properties"])  # every field, null when unknown

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {"type": "string", "description": "what went wrong and what to do"},
        "status": {"$ref": "#/components/schemas/Status"},
    },
}

CAR = {
    "name": "car",
    "in": "path",
    "required": True,
    "description": "car number (1 = first car) or VIN",
    "schema": {"type": "string", "examples": ["1", "5YJ3E7EA1KF000001"]},
}
WAIT = {
    "name": "wait",
    "in": "query",
    "required": False,
    "description": "answer once the car confirmed (200), or after this many seconds "
    "with the action still under way (202)",
    "schema": {"type": "number", "minimum": 0, "maximum": WAIT_MAX_S},
}
SWITCH = {"type": "string", "enum": sorted(SWITCH_ON | SWITCH_OFF)}
AMPS = {"type": "integer", "minimum": 1, "maximum": AMPS_CEILING}
SOC = {"type": "integer", "minimum": 1, "maximum": 100}


def _value(schema: dict[str, Any], what: str) -> dict[str, Any]:
    return {
        "name": "value",
        "in": "query",
        "required": True,
        "description": f"{what}; may also be sent bare: `?<value>`",
        "schema": schema,
    }


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(name: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(name)}}}


COMMON_ERRORS = {
    "401": _json("Error", "a host other than this one without the secret"),
    "404": _json("Error", "no such car"),
    "503": _json("Error", "the car list is not loaded yet (vehicle API down or not set up)"),
}
COMMAND_ANSWERS = {
    "200": _json("Status", "the whole status; with wait: the car confirmed"),
    "202": _json("Status", "with wait: the action is still under way"),
    "400": _json("Error", "a value out of range or not a number"),
    **COMMON_ERRORS,
    "409": _json(
        "Error",
        "no car at this charge point (elsewhere, or DC fast charging), or a stop while its "
        "position is unknown: nothing was sent; with wait: the car refused (not plugged in)",
    ),
    "502": _json("Error", "with wait: the car accepted but did not act"),
}


def _get(summary: str, parameters: list[dict[str, Any]], answers: dict[str, Any]) -> dict:
    return {"get": {"summary": summary, "parameters": [CAR, *parameters], "responses": answers}}


@cache
def openapi_document() -> dict[str, Any]:
    status_answers = {"200": _json("Status", "the whole status"), **COMMON_ERRORS}
    paths: dict[str, Any] = {
        "/tlwb": {
            "get": {
                "summary": "every car's status",
                "responses": {
                    "200": {
                        "description": "all cars",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["cars"],
                                    "properties": {
                                        "cars": {"type": "array", "items": _ref("Status")}
                                    },
                                }
                            }
                        },
                    },
                    "401": COMMON_ERRORS["401"],
                    "503": COMMON_ERRORS["503"],
                },
            }
        },
        "/tlwb/{car}/status": _get("the car's status", [], status_answers),
        "/tlwb/{car}/control": _get(
            "start (1) or stop (0) charging",
            [_value(SWITCH, "1 start, 0 stop"), WAIT],
            COMMAND_ANSWERS,
        ),
        "/tlwb/{car}/set_amps": _get(
            "set the charging current",
            [_value(AMPS, "amps, within the car's maximum on this charger"), WAIT],
            COMMAND_ANSWERS,
        ),
        "/tlwb/{car}/set_soc": _get(
            "set the target SoC (1-49: held by this controller, the car's limit is 50)",
            [_value(SOC, "target SoC, %"), WAIT],
            COMMAND_ANSWERS,
        ),
        "/tlwb/{car}": _get(
            "any of control, set_amps, set_soc in one request; none: the status",
            [
                {"name": "control", "in": "query", "required": False, "schema": SWITCH},
                {"name": "set_amps", "in": "query", "required": False, "schema": AMPS},
                {"name": "set_soc", "in": "query", "required": False, "schema": SOC},
                WAIT,
            ],
            COMMAND_ANSWERS,
        ),
    }
    for name, summary in (
        ("charge_start", "TeslaLogger: start charging"),
        ("charge_stop", "TeslaLogger: stop charging"),
        ("wake_up", "TeslaLogger: wake the car"),
    ):
        paths[f"/command/{{car}}/{name}"] = _get(summary, [WAIT], COMMAND_ANSWERS)
    for name, summary, schema, what in (
        ("charge_start_stop", "TeslaLogger: start (1) or stop (0)", SWITCH, "1 start, 0 stop"),
        ("set_charging_amps", "TeslaLogger: set the charging current", AMPS, "amps"),
        ("set_charge_limit", "TeslaLogger: set the target SoC", SOC, "target SoC, %"),
    ):
        paths[f"/command/{{car}}/{name}"] = _get(
            summary, [_value(schema, what), WAIT], COMMAND_ANSWERS
        )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "teslahome wallbox API",
            "version": "1",
            "description": "A wallbox-style API for a Tesla: status 0-5, start/stop, amps, "
            "target SoC. Requests from other hosts need the secret (Bearer, or Basic with the "
            "secret as password); requests from this host do not.",
        },
        "paths": paths,
        "components": {
            "schemas": {"Status": STATUS_SCHEMA, "Error": ERROR_SCHEMA},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "basic": {"type": "http", "scheme": "basic"},
            },
        },
        "security": [{}, {"bearer": []}, {"basic": []}],
    }
