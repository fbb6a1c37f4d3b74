"""What the controller knows about one car, merged from Tesla API reads and telemetry.

Two sources speak about the same car: the API (a read, a sleep-state check, a
408, a command's answer) and TeslaMate's reports. Whoever spoke last about a
thing wins, with three refinements: healthy telemetry that has reported no
change since an API read vouches for that read being current; telemetry that
arrives within NEWS_GRACE_S of a command's answer waits for the next look (it
may predate the command); and telemetry without the charger's offer (TeslaMate
has no pilot-current topic), or without the limit and amps request (ScanMyTesla
carries neither), keeps what the API said while the cable stays in. A charge
a command stopped keeps its predicted SoC and energy until the next measurement.
No I/O here: the worker does the reading and hands the results in.
"""

from dataclasses import replace

from wallbox.control.prediction import Prediction, predict
from wallbox.control.soc_guard import SessionStart, kwh_per_percent, session_start
from wallbox.vehicle.charge_state import ASLEEP, OFFLINE, ONLINE, ChargeState

# Telemetry received this soon after a command's answer may have left before the car
# acted on it (TeslaMate polled just before): it is not taken over the answer.
NEWS_GRACE_S = 10.0

# What a plugged-in car keeps from the API's last word when telemetry does not carry it.
KEPT_WHILE_PLUGGED = (
    "latitude",  # a car plugged in since cannot have moved (ScanMyTesla has no position)
    "longitude",
    "charger_pilot_current",
    "charge_limit_soc",
    "charge_current_request",
    "charge_current_request_max",
)


class CarKnowledge:
    def __init__(self, listed_state: str, now: float) -> None:
        self.car: ChargeState | None = None
        if listed_state in (ONLINE, ASLEEP, OFFLINE):
            self.car = ChargeState(read_at=now, car_state=listed_state, source="summary")
        self.charged_this_session = False  # seen charging since the cable went in
        self.session: SessionStart | None = None  # where this session's charging began
        # When the API last told the charge data / the sleep state: telemetry older
        # than that does not overwrite it.
        self.api_data_at: float | None = None
        self.api_state_at: float | None = None
        # When the charge data was last measured (a read, or telemetry), not told by a
        # command's answer: polls and the SoC guard count from here.
        self.measured_at: float | None = None
        self.told_at: float | None = None  # the last command's answer
        # What a charge had most likely reached when a command stopped it: the status
        # keeps showing it (as predicted) until the car is measured again, so a SoC
        # at the limit does not fall back to the last read's after the stop.
        self.stopped_at: Prediction | None = None

    def take(self, snapshot: ChargeState, now: float) -> ChargeState | None:
        """Adopt a snapshot (an API read, or telemetry); returns what was taken, if anything."""
        if snapshot.reported_at is not None:
            if self.told_at is not None and now < self.told_at + NEWS_GRACE_S:
                return None  # may have left before the command's effect: wait for the next
            newer = self._newer_of(snapshot)
            if newer is None:
                return None
            snapshot = newer
        if not snapshot.has_charge_data:
            self.note_state(snapshot.car_state, now)
            return snapshot
        self.car = snapshot
        if snapshot.source != "command":
            self.measured_at = snapshot.read_at
            self.stopped_at = None
        self.session = session_start(self.session, snapshot)
        if snapshot.plugged_in is False:
            self.charged_this_session = False
        elif snapshot.charging:
            self.charged_this_session = True
        return snapshot

    @property
    def kwh_per_percent(self) -> float | None:
        """What one percent of SoC has taken this session, when it has moved."""
        return kwh_per_percent(self.session, self.car) if self.car is not None else None

    def read_from_api(self, snapshot: ChargeState, now: float) -> ChargeState | None:
        taken = self.take(snapshot, now)
        self.api_data_at = now
        return taken

    def told(self, snapshot: ChargeState, now: float) -> None:
        """A command's answer (command_news.py): the API's word, though nothing was read."""
        measured, before, rate = self.measured_at, self.car, self.kwh_per_percent
        self.read_from_api(replace(snapshot, source="command"), now)
        self.measured_at, self.told_at = measured, now
        if before is not None and before.charging and self.car is not None:
            if not self.car.charging:
                self.stopped_at = predict(before, now, measured, rate)

    def api_said(self, state: str, now: float) -> None:
        """The API told the sleep state (a summary, a wake-up, a 408)."""
        self.api_state_at = now
        self.note_state(state, now)

    def note_state(self, state: str, now: float) -> None:
        if self.car is None:
            self.car = ChargeState(read_at=now, car_state=state, source="summary")
        else:
            self.car = self.car.with_car_state(state, now)

    def _newer_of(self, fed: ChargeState) -> ChargeState | None:
        """Telemetry, unless the API spoke after its newest report (a read, an answer,
        a 408): then the API's word stands, and healthy telemetry that has reported
        no change since vouches for it being current. None: nothing to take."""
        car, reported = self.car, fed.reported_at or 0.0
        if car is not None and self.api_data_at is not None and reported <= self.api_data_at:
            if car.has_charge_data:
                self.car = replace(car, read_at=fed.read_at, state_at=fed.read_at)
                return None
        if car is not None and self.api_state_at is not None and reported < self.api_state_at:
            fed = fed.with_car_state(car.car_state, fed.read_at)
        return self._completed(fed)

    def _completed(self, fed: ChargeState) -> ChargeState:
        """Telemetry without the charger's offer (TeslaMate), or without the car's limit,
        amps request and position (ScanMyTesla): keep what the API last said (a read, a command's
        answer) for as long as the cable stays in; never more than was said."""
        car = self.car
        if car is None or not (fed.plugged_in and car.plugged_in):
            return fed
        kept = {
            name: getattr(car, name)
            for name in KEPT_WHILE_PLUGGED
            if getattr(fed, name) is None and getattr(car, name) is not None
        }
        return replace(fed, **kept) if kept else fed
