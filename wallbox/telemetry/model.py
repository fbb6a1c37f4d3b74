"""What one push source knows about one car: a pure model shared by every source.

A source's wire rules (fleet.py, tb2m.py) turn each message into `Heard`; a
`Report` keeps the newest of it per car: the values, when the source last said
anything, and the car's sleep state *by the source's own word* (a car the feed
calls asleep is known, not silent: health.py).
"""

from dataclasses import dataclass, field
from typing import Any

from wallbox.vehicle.charge_state import UNKNOWN


@dataclass(frozen=True, slots=True)
class Heard:
    """One message, decoded: about which car, and what it said."""

    vin: str
    values: dict[str, Any] = field(default_factory=dict)  # field name -> value, None: unknown
    car_state: str | None = None  # online / asleep / offline / unknown, when the message says
    bridge_online: bool | None = None  # the bridge's own availability (TeslaBle2Mqtt's status)


@dataclass(slots=True)
class Report:
    """The newest of everything a source said about one car."""

    values: dict[str, Any] = field(default_factory=dict)  # the newest value per field
    known: dict[str, Any] = field(default_factory=dict)  # the newest value that was not None
    last_report_at: float | None = None
    car_state: str = UNKNOWN
    state_at: float | None = None
    bridge_online: bool | None = None

    def take(self, heard: Heard, now: float) -> None:
        for name, value in heard.values.items():
            self.values[name] = value
            if value is not None:
                self.known[name] = value
        if heard.car_state is not None:
            self.car_state, self.state_at = heard.car_state, now
        if heard.bridge_online is not None:
            self.bridge_online = heard.bridge_online
        if heard.values or heard.car_state is not None:  # news of the car, not of the bridge
            self.last_report_at = now
