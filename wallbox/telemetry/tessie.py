"""Tessie's streaming WebSocket: the car's fleet-telemetry stream through a relay, pure
wire rules.

`<url>/<VIN>` (wss://streaming.tessie.com/<VIN>) with `Authorization: Bearer
<token>` sends JSON messages in Tesla's own shape, not flattened as Teslemetry's
are (PROTOCOL.md 9; developer.tessie.com, "Access Tesla Fleet Telemetry"):
`{"data": [{"key": "<Field>", "value": {"stringValue": "0.000"}}, {"key":
"Location", "value": {"locationValue": {"latitude": .., "longitude": ..}}}],
"createdAt": .., "vin": ..}`. A value is one of the proto's typed members
(`stringValue`, `intValue`, `doubleValue`, `booleanValue`, `locationValue`,
enums such as `detailedChargeStateValue: "DetailedChargeStateCharging"`), or
`invalid: true` when the car has none. The fields are fleet-telemetry's, so
fleet.py reads them. A message in the shape of fleet-telemetry's connectivity
record (`status` CONNECTED/DISCONNECTED) is read as the car's state; any other
message still shows the stream is alive.
"""

from typing import Any

from wallbox.telemetry import fleet
from wallbox.telemetry.model import Heard, Report
from wallbox.telemetry.wire import message_about
from wallbox.vehicle.charge_state import ASLEEP, ONLINE, UNKNOWN, ChargeState

SOURCE = "tessie"
LABEL = "Tessie"
_CONNECTIVITY = {"CONNECTED": ONLINE, "DISCONNECTED": ASLEEP}


def stream_path(vin: str) -> str:
    return f"/{vin}"


def value_of(value: Any) -> Any:
    """The one member of Tesla's typed `Value`, as fleet-telemetry's MQTT would send it."""
    if not isinstance(value, dict) or value.get("invalid") is True or len(value) != 1:
        return None
    [(kind, found)] = value.items()
    return found if kind.endswith("Value") else None


def heard(vin: str, data: str) -> Heard | None:
    """One message about `vin` (the stream's own car); None when it is not a JSON object."""
    message = message_about(vin, data)
    if message is None:
        return None
    listed = message.get("data")
    values = {
        item["key"]: value_of(item.get("value"))
        for item in (listed if isinstance(listed, list) else [])
        if isinstance(item, dict) and item.get("key") in fleet.FIELDS
    }
    status = message.get("status")
    car_state = _CONNECTIVITY.get(status.upper(), UNKNOWN) if isinstance(status, str) else None
    return Heard(vin.upper(), values=values, car_state=car_state)


def snapshot(report: Report, read_at: float) -> ChargeState:
    return fleet.snapshot(report, read_at, SOURCE)
