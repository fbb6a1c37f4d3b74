"""Whether the car is at this charge point, and what may be sent to it: pure rules.

A PV controller drives this API as if it were a wallbox at home. A car DC fast
charging 250 km away is not at that wallbox: stopping it there (because the sun
went behind a cloud at home) is the failure that made evcc drop its
TeslaLogger-based charger. So, first match wins:

  wallbox_control_everywhere        here: the user asked for control anywhere
  on a DC fast charger              not here (fast_charger_present), wherever
  no PV location or geofence set    here: nothing tells home from away
  at a PV location or geofence      here
  position known, elsewhere         not here ("250 km from the PV location")
  position unknown (no GPS yet)     unknown

Not here: the charge point has no car (status 0, evcc `A`) and no start, stop,
amps or limit is sent; the caller gets 409 saying why. Unknown: everything but
a stop goes through; a stop (a caller's, or the SoC guard's own) could end a
session somewhere else, so it waits for a position. A wake-up is always fine.
"""

from dataclasses import dataclass

from wallbox.control.geo import PvLocation, at_pv_location, distance_m
from wallbox.vehicle.backend import Command
from wallbox.vehicle.charge_state import ChargeState

EVERYWHERE_HINT = "set wallbox_control_everywhere=true to control the car anywhere"


@dataclass(frozen=True, slots=True)
class Whereabouts:
    here: bool | None  # at this charge point; None: not known yet
    reason: str


@dataclass(frozen=True, slots=True)
class ChargePoint:
    """Where this charge point is (wallbox_pv_location, wallbox_pv_geofences)."""

    locations: tuple[PvLocation, ...] = ()
    geofences: frozenset[str] = frozenset()
    everywhere: bool = False  # wallbox_control_everywhere

    @property
    def located(self) -> bool:
        return bool(self.locations or self.geofences)

    def where(self, car: ChargeState | None) -> Whereabouts:
        if self.everywhere:
            return Whereabouts(True, "controlled wherever it is (wallbox_control_everywhere)")
        if car is not None and car.fast_charger_present:
            kind = f" ({car.fast_charger_type})" if car.fast_charger_type else ""
            return Whereabouts(False, f"the car is DC fast charging{kind}")
        if not self.located:
            return Whereabouts(True, "no PV location set: every place counts")
        if car is None:
            return Whereabouts(None, "nothing read from the car yet")
        if car.nearby:  # read over Bluetooth: within metres of TeslaBleHttpProxy, at home
            return Whereabouts(True, "within Bluetooth range of TeslaBleHttpProxy, at home")
        if at_pv_location(
            car.latitude, car.longitude, car.geofence, self.locations, self.geofences
        ):
            return Whereabouts(True, "at the PV location")
        if self.locations and car.latitude is not None and car.longitude is not None:
            away = min(
                distance_m(car.latitude, car.longitude, loc.latitude, loc.longitude)
                for loc in self.locations
            )
            return Whereabouts(False, f"the car is {_distance(away)} from the PV location")
        if car.geofence:
            return Whereabouts(False, f"TeslaMate puts the car in geofence {car.geofence!r}")
        return Whereabouts(None, "the car's position is not known yet (no GPS reading)")

    def refusal(self, car: ChargeState | None, command: Command | None) -> str | None:
        """Why `command` must not be sent (None: it may); `command` None is a wake-up."""
        if command is None:
            return None
        where = self.where(car)
        if where.here is False:
            return (
                f"no car at this charge point: {where.reason}; nothing was sent ({EVERYWHERE_HINT})"
            )
        if where.here is None and command is Command.CHARGE_STOP:
            return (
                f"not stopping: {where.reason}, and the car may be charging somewhere else "
                f"({EVERYWHERE_HINT})"
            )
        return None


ANYWHERE = ChargePoint()  # no PV location: only a DC fast charger is elsewhere


def _distance(metres: float) -> str:
    return f"{metres / 1000:.0f} km" if metres >= 10_000 else f"{metres:.0f} m"
