"""The PV-day bench's two pure parts: evcc's loop as a rule, and the ledger that
integrates what the car drew against the surplus.

`EvccLoop` is evcc's PV mode as far as a wallbox sees it (core/loadpoint.go):
every round it takes the surplus, asks for `floor(surplus)` amps between the
minimum and maximum current, and sends `maxcurrent` only when that changes.
Charging is enabled once the surplus has reached the minimum for `enable_s`
(1 minute) and disabled once it has stayed below for `disable_s` (3 minutes);
until then it charges at the minimum. Two switches are at least `guard_s`
(5 minutes) apart, and a car at its limit is disabled at once.

`Ledger` adds up, step by step: the energy the car drew, the part of it above
the surplus (grid import), the usable surplus it left (unused: min(surplus,
max) whenever the surplus reaches the minimum and the car is below its limit),
the same two for evcc's own wishes obeyed at once (what a wallbox that passed
every wish through instantly would give: the rest is the controller's doing),
an ideal follower's day (its own car, from the same SoC), the time the car was
awake without charging, and its wake-ups.
"""

import math
from dataclasses import dataclass, field

from bench.pv_model import kw


@dataclass
class EvccLoop:
    min_a: int = 6
    max_a: int = 16
    enable_s: float = 60.0
    disable_s: float = 180.0
    guard_s: float = 300.0
    enabled: bool = False
    current: int | None = None
    timer: float | None = None  # since when the surplus has been on the other side
    switched: float = -math.inf

    def round(self, now: float, surplus_a: float, full: bool) -> list[tuple[str, int]]:
        """What evcc sends this round: ("enable", 0|1) and ("maxcurrent", amps), in order."""
        if full:
            return self._switch(now, False) if self.enabled else []
        target = math.floor(surplus_a)
        wants = target >= self.min_a
        if wants == self.enabled:
            self.timer = None
        elif self.timer is None:
            self.timer = now
        delay = self.disable_s if self.enabled else self.enable_s
        due = self.timer is not None and now - self.timer >= delay
        if due and now - self.switched >= self.guard_s:
            if self.enabled:
                return self._switch(now, False)
            return self._amps(target) + self._switch(now, True)
        if not self.enabled:
            return []
        return self._amps(target)

    def asked_a(self) -> float:
        return float(self.current or 0) if self.enabled else 0.0

    def _amps(self, target: int) -> list[tuple[str, int]]:
        amps = min(self.max_a, max(self.min_a, target))
        if amps == self.current:
            return []
        self.current = amps
        return [("maxcurrent", amps)]

    def _switch(self, now: float, on: bool) -> list[tuple[str, int]]:
        self.enabled, self.switched, self.timer = on, now, None
        return [("enable", int(on))]


@dataclass
class Ledger:
    need_kwh: float  # what the ideal follower's car takes to reach its limit
    min_a: float = 6.0
    max_a: float = 16.0
    kwh: dict[str, float] = field(default_factory=dict)
    awake_idle_s: float = 0.0
    wakeups: int = 0
    to_sleep_s: float = 0.0  # the longest a session's end took to let the car sleep
    _awake: bool | None = None
    _ended_at: float | None = None  # the last session's end, while the car is still up
    _t: float = 0.0

    def add(
        self, dt: float, surplus_a: float, car_kw: float, asked_a: float, below_limit: bool
    ) -> None:
        """One step of `dt` seconds: the surplus, the car's power, evcc's wish."""
        hours = dt / 3600.0
        surplus = kw(surplus_a)
        reachable = surplus_a >= self.min_a
        usable = kw(min(surplus_a, self.max_a)) if reachable and below_limit else 0.0
        asked = kw(asked_a) if below_limit else 0.0
        ideal = kw(min(surplus_a, self.max_a)) if reachable else 0.0
        ideal = min(ideal, (self.need_kwh - self.kwh.get("ideal", 0.0)) / hours)
        for name, value in (
            ("charged", car_kw),
            ("import", max(0.0, car_kw - surplus)),
            ("unused", max(0.0, usable - car_kw)),
            ("asked_import", max(0.0, asked - surplus)),
            ("asked_unused", max(0.0, usable - asked)),
            ("ideal", max(0.0, ideal)),
        ):
            self.kwh[name] = self.kwh.get(name, 0.0) + value * hours

    def longest_to_sleep_s(self) -> float:
        """The longest a car stayed up after a session; one still up at the end counts."""
        still = self._t - self._ended_at if self._ended_at is not None else 0.0
        return max(self.to_sleep_s, still)

    def car(self, dt: float, awake: bool, charging: bool) -> None:
        """The car's own state over `dt` seconds, as the simulator saw it."""
        self._t += dt
        if awake and not charging:
            self.awake_idle_s += dt
        if awake and self._awake is False:
            self.wakeups += 1
        if charging:
            self._ended_at = self._t
        elif not awake and self._ended_at is not None:  # asleep after a session
            self.to_sleep_s = max(self.to_sleep_s, self._t - dt - self._ended_at)
            self._ended_at = None
        self._awake = awake
