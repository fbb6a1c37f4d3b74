"""Whether TeslaMate's telemetry can stand in for Tesla API reads: a pure rule.

TeslaMate publishes on change only, and nothing at all when it stops working,
so silence has to be judged: a parked, sleeping car is legitimately quiet for
hours, while a charging car changes its values every few seconds, and a car
that just accepted a command (start, stop, amps, limit) changes at least the
value the command set. Silence longer than the limit in one of those two
situations means TeslaMate no longer sees the car. The first rule that
matches decides:

  broker not connected                      fall back
  healthy=false (TeslaMate's API fuse)      fall back
  nothing heard about the car yet           fall back
  no charge state among what was heard      fall back
  charging, silent longer than the limit    fall back
  a command, nothing heard since, longer    fall back
  than the limit
  otherwise                                 fresh
"""

from dataclasses import dataclass

TESLAMATE = "teslamate"
TESLA_API = "tesla_api"


@dataclass(frozen=True, slots=True)
class TelemetryFacts:
    now: float
    silence_s: float
    connected: bool
    healthy: bool | None  # None: not heard since the connect (TeslaMate may not retain it)
    last_report_at: float | None  # the newest message about this car
    has_charge_data: bool  # plugged_in or charging_state known
    charging: bool  # as TeslaMate last said
    commanded_at: float | None = None  # the newest command the car accepted


@dataclass(frozen=True, slots=True)
class Verdict:
    fresh: bool
    reason: str

    @property
    def source(self) -> str:
        return TESLAMATE if self.fresh else TESLA_API


def judge(f: TelemetryFacts) -> Verdict:
    limit = f"{f.silence_s:.0f} s"
    if not f.connected:
        return Verdict(False, "not connected to TeslaMate's MQTT broker")
    if f.healthy is False:
        return Verdict(False, "TeslaMate reports healthy=false (its Tesla API access is failing)")
    if f.last_report_at is None:
        return Verdict(False, "nothing from TeslaMate about this car yet")
    if not f.has_charge_data:
        return Verdict(False, "TeslaMate has not published the charge state yet")
    silent = f.now - f.last_report_at
    if f.charging and silent > f.silence_s:
        return Verdict(False, f"TeslaMate silent for {silent:.0f} s while charging (limit {limit})")
    if f.commanded_at is not None and f.last_report_at < f.commanded_at:
        waited = f.now - f.commanded_at
        if waited > f.silence_s:
            why = f"TeslaMate reported nothing in {waited:.0f} s after a command (limit {limit})"
            return Verdict(False, why)
    if f.charging:
        return Verdict(True, "TeslaMate reports while charging")
    return Verdict(True, "TeslaMate is healthy; a parked car is quiet")
