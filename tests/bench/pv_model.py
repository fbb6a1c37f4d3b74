"""A PV day's surplus at home, as a pure seeded model: what the house does not use of
what the roof makes, in amps per phase on a 3-phase 230 V charger (0 .. 12 A).

    surplus(t) = max(0, arc(t) - cloud(t) + jitter(t))

- the arc: sunrise (t = 0) to sunset (t = length), `peak_a * sin(pi t / length)^1.5`
  less the house's base load, so the surplus passes evcc's 6 A from mid-morning to
  mid-afternoon;
- clouds, on a cloudy day only: one after another, each 1-4 minutes long and taking
  2-6 A away, with 1-7 minutes of sun between them, drawn from `seed`;
- jitter: the house's appliances, +-1 A, a new value every `step_s` (evcc's loop),
  drawn from `seed` and the step's number, so every loop sees a different surplus.

The same seed gives the same day, sample for sample, in every run and process.
"""

import math
import random
from dataclasses import dataclass
from functools import cached_property

VOLTS, PHASES = 230, 3


def kw(amps: float) -> float:
    """Power on the 3-phase charger at `amps` per phase."""
    return PHASES * VOLTS * amps / 1000.0


@dataclass(frozen=True, slots=True)
class Cloud:
    start_s: float
    length_s: float
    depth_a: float

    def covers(self, t: float) -> bool:
        return self.start_s <= t < self.start_s + self.length_s


@dataclass(frozen=True)
class PvDay:
    seed: int = 31
    cloudy: bool = True
    length_s: float = 12 * 3600.0  # 07:00 to 19:00
    peak_a: float = 12.5  # the roof at noon, in amps per phase (8.6 kW)
    house_a: float = 1.5  # the house's base load
    jitter_a: float = 1.0
    step_s: float = 30.0
    cloud_s: tuple[float, float] = (60.0, 240.0)
    cloud_a: tuple[float, float] = (2.0, 6.0)
    gap_s: tuple[float, float] = (60.0, 420.0)

    @cached_property
    def clouds(self) -> tuple[Cloud, ...]:
        if not self.cloudy:
            return ()
        draw = random.Random(self.seed)
        found, t = [], draw.uniform(0.0, self.gap_s[1])
        while t < self.length_s:
            cloud = Cloud(t, draw.uniform(*self.cloud_s), draw.uniform(*self.cloud_a))
            found.append(cloud)
            t += cloud.length_s + draw.uniform(*self.gap_s)
        return tuple(found)

    def arc_a(self, t: float) -> float:
        """The clear sky's surplus, before the jitter."""
        if not 0.0 <= t <= self.length_s:
            return 0.0
        sun = max(0.0, math.sin(math.pi * t / self.length_s))  # not -1e-16 at sunset
        return self.peak_a * sun**1.5 - self.house_a

    def cloud_a_at(self, t: float) -> float:
        clouds = self.clouds
        lo, hi = 0, len(clouds)  # the clouds are sorted and never overlap
        while lo < hi:
            mid = (lo + hi) // 2
            if clouds[mid].start_s + clouds[mid].length_s <= t:
                lo = mid + 1
            else:
                hi = mid
        return clouds[lo].depth_a if lo < len(clouds) and clouds[lo].covers(t) else 0.0

    def jitter_at(self, t: float) -> float:
        step = math.floor(t / self.step_s)
        return random.Random(self.seed * 1_000_003 + step).uniform(-self.jitter_a, self.jitter_a)

    def surplus_a(self, t: float) -> float:
        """The surplus at `t` seconds after sunrise, in amps per phase."""
        if not 0.0 <= t <= self.length_s:
            return 0.0
        return max(0.0, self.arc_a(t) - self.cloud_a_at(t) + self.jitter_at(t))
