"""What the controller needs from outside, as protocols: telemetry that can stand in
for API reads (TeslaMate), and a place to keep intents across restarts. The
implementations (wallbox/telemetry/ (the feeds), storage/intents.py) need not
import anything from here: the shapes are enough."""

from collections.abc import Mapping
from typing import Any, Protocol

from wallbox.vehicle.charge_state import ChargeState


class StateFeed(Protocol):
    """External telemetry (TeslaMate): a snapshot while it is healthy and fresh."""

    def fresh(self, vin: str, now: float) -> ChargeState | None:
        """The car's state with read_at=now, or None: then the API is read."""
        ...

    def commanded(self, vin: str, now: float) -> None:
        """The car accepted a command: the telemetry should report soon."""
        ...

    def describe(self, vin: str, now: float) -> dict[str, Any]:
        """The status JSON's `telemetry`: source, reason, since, teslamate_report_age."""
        ...


NO_FEED = {
    "source": "tesla_api",
    "reason": "TeslaMate is not set up (teslamate_mqtt_url)",
    "since": None,
    "teslamate_report_age": None,
}


class IntentStorage(Protocol):
    async def load_all(self) -> Mapping[str, Any]: ...

    async def save(self, vin: str, intent: Any) -> None: ...
