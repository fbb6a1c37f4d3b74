"""The controller's settings: how often to read, how long to trust what was read,
how hard to try. Defaults are what a real car and Tesla's billing call for;
tests and `make demo` shorten them."""

from dataclasses import dataclass, field

from wallbox.control.charge_point import ChargePoint
from wallbox.control.coalescing import Coalescing
from wallbox.control.geo import PvLocation
from wallbox.control.planner import PollPolicy
from wallbox.vehicle.billing import CREDIT_USD

WAIT_MAX_S = 120.0  # the longest a caller may wait for a command's confirmation


@dataclass(frozen=True, slots=True)
class Settings:
    policy: PollPolicy = field(default_factory=PollPolicy)
    pv_locations: tuple[PvLocation, ...] = ()
    pv_geofences: frozenset[str] = frozenset()
    cars: tuple[str, ...] = ()  # VINs in car-number order (wallbox_cars); empty: the API's order
    wake_timeout_s: float = 90.0
    awake_trust_s: float = 60.0  # "online" learnt this recently needs no new check
    max_attempts: int = 6  # transient failures in a row before the open goals are given up
    max_sends: int = 3  # accepted sends of one goal that the car did not act on
    backoff_s: float = 5.0
    backoff_max_s: float = 300.0
    resume_within_s: float = 600.0  # stored open goals younger than this resume after a restart
    # at start, how long to wait for retained telemetry before the first API read
    feed_start_wait_s: float = 5.0
    control_everywhere: bool = False  # wallbox_control_everywhere: no charge-point guard
    coalescing: Coalescing = field(default_factory=Coalescing)  # wallbox_amps_*
    billed: bool = True  # the back-end bills calls (Fleet API, relays); BLE, Owner API: no
    credit_usd: float = CREDIT_USD  # wallbox_api_credit: the month's free credit

    @property
    def charge_point(self) -> ChargePoint:
        return ChargePoint(self.pv_locations, self.pv_geofences, self.control_everywhere)
