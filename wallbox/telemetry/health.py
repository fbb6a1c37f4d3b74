"""Whether a push source can stand in for Tesla API reads: one pure rule for every source.

Push feeds publish on change (or at their own interval), and nothing at all
when they stop working, so silence has to be judged against the source's own
rhythm: a parked car is legitimately quiet for hours, a charging car changes
its values every interval, and a car that just accepted a command changes at
least what the command set. A car the feed itself calls asleep or offline is
known (it cannot charge, nor be plugged in without waking), not silent. The
first rule that matches decides:

  not connected to the source's broker          not trusted
  the bridge is offline, its stream closed,     not trusted
  or TeslaMate says healthy=false
  nothing heard about the car yet               not trusted
  no charge state among what was heard          not trusted
  charging, silent past the rhythm              not trusted
  a command, nothing heard since, past rhythm   not trusted
  asleep/offline by the feed's word, and not    trusted
  charging by it (a charging car does not
  sleep: its link dropped, and the silence
  rule above judged it)
  otherwise                                     trusted

TeslaMate's rules were these before the sources shared them: its `healthy`
flag is the bridge's own word (`offline_reason` says it in TeslaMate's words).
"""

from dataclasses import dataclass

from wallbox.vehicle.charge_state import ASLEEP, OFFLINE

TESLA_API = "tesla_api"
OFFLINE_REASON = "is offline (its own word, or its stream closed)"


@dataclass(frozen=True, slots=True)
class SourceFacts:
    label: str  # the source's name in messages: "fleet-telemetry"
    now: float
    rhythm_s: float  # the longest silence the source's own cadence allows
    connected: bool
    bridge_online: bool | None  # TeslaBle2Mqtt's status; a relay's stream open
    last_report_at: float | None
    car_state: str
    has_charge_data: bool
    charging: bool
    commanded_at: float | None = None
    offline_reason: str = OFFLINE_REASON


@dataclass(frozen=True, slots=True)
class Verdict:
    trusted: bool
    reason: str


def judge(f: SourceFacts) -> Verdict:
    who, limit = f.label, f"limit {f.rhythm_s:.0f} s"
    if not f.connected:
        return Verdict(False, f"not connected to {who}'s MQTT broker")
    if f.bridge_online is False:
        return Verdict(False, f"{who} {f.offline_reason}")
    if f.last_report_at is None:
        return Verdict(False, f"nothing from {who} about this car yet")
    if not f.has_charge_data:
        return Verdict(False, f"{who} has not told the charge state yet")
    silent = f.now - f.last_report_at
    if f.charging and silent > f.rhythm_s:
        return Verdict(False, f"{who} silent for {silent:.0f} s while charging ({limit})")
    if f.commanded_at is not None and f.last_report_at < f.commanded_at:
        waited = f.now - f.commanded_at
        if waited > f.rhythm_s:
            why = f"{who} reported nothing in {waited:.0f} s after a command ({limit})"
            return Verdict(False, why)
    if f.car_state in (ASLEEP, OFFLINE) and not f.charging:
        return Verdict(True, f"{who} says the car is {f.car_state}: known, not silent")
    if f.charging:
        return Verdict(True, f"{who} reports while charging")
    return Verdict(True, f"{who} is connected; a parked car is quiet")
