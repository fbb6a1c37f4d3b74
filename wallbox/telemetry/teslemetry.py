"""Teslemetry's server-sent events: the car's fleet-telemetry stream through a relay,
pure wire rules.

`GET <url>/sse/<VIN>` with `Authorization: Bearer <token>` answers an event
stream whose `data:` lines are JSON (PROTOCOL.md 9): data events
`{"data": {"<Field>": value, ...}, "createdAt": ..., "vin": ...}` with
fleet-telemetry's field names (numbers often as strings, enums with their
prefix), and state events `{"vin": ..., "state": "online"|"asleep"|"offline"}`.
Any other event still shows the stream is alive.
"""

from wallbox.telemetry import fleet
from wallbox.telemetry.model import Heard, Report
from wallbox.telemetry.wire import message_about
from wallbox.vehicle.charge_state import ASLEEP, OFFLINE, ONLINE, UNKNOWN, ChargeState

SOURCE = "teslemetry"
LABEL = "Teslemetry"
_STATES = {"online": ONLINE, "asleep": ASLEEP, "offline": OFFLINE}


def stream_path(vin: str) -> str:
    return f"/sse/{vin}"


def data_of(line: str) -> str | None:
    """The payload of an SSE `data:` line; None for comments, ids, event names."""
    if not line.startswith("data:"):
        return None
    return line[5:].removeprefix(" ")


def heard(vin: str, data: str) -> Heard | None:
    """One event about `vin` (the stream's own car); None when it is not JSON."""
    event = message_about(vin, data)
    if event is None:
        return None
    fields = event.get("data")
    values = (
        {k: v for k, v in fields.items() if k in fleet.FIELDS} if isinstance(fields, dict) else {}
    )
    state = event.get("state")
    car_state = _STATES.get(state.lower(), UNKNOWN) if isinstance(state, str) else None
    return Heard(vin.upper(), values=values, car_state=car_state)


def snapshot(report: Report, read_at: float) -> ChargeState:
    return fleet.snapshot(report, read_at, SOURCE)


def stream_state(vin: str, open_: bool) -> Heard:
    """A car's stream opened or closed: the relay's own availability for that car."""
    return Heard(vin.upper(), bridge_online=open_)
