"""Where PV charging makes sense: the PV location(s), by coordinates or geofence name.

`wallbox_pv_location` is one or more `lat,lon[,radius_m]` separated by `;`
(e.g. `48.1374,11.5755,80; 47.0,11.0`). A car counts as "at the PV location"
when it is within the radius of any of them, or when TeslaMate names the
geofence it is in and that name is one of `wallbox_pv_geofences`.
"""

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass

DEFAULT_RADIUS_M = 100.0
EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG)


@dataclass(frozen=True, slots=True)
class PvLocation:
    latitude: float
    longitude: float
    radius_m: float = DEFAULT_RADIUS_M


def parse_pv_locations(text: str) -> tuple[PvLocation, ...]:
    """Parse `lat,lon[,radius_m]; ...`; raises ValueError naming the bad part."""
    locations = []
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        fields = [f.strip() for f in part.split(",")]
        if len(fields) not in (2, 3):
            raise ValueError(f"{part!r} is not lat,lon or lat,lon,radius_m")
        try:
            numbers = [float(f) for f in fields]
        except ValueError:
            raise ValueError(f"{part!r} must be numbers, e.g. 48.1374,11.5755,80") from None
        if not all(math.isfinite(n) for n in numbers):
            raise ValueError(f"{part!r} must be finite numbers")
        lat, lon = numbers[0], numbers[1]
        if not -90 <= lat <= 90:
            raise ValueError(f"{part!r}: latitude {lat} is outside -90..90")
        if not -180 <= lon <= 180:
            raise ValueError(f"{part!r}: longitude {lon} is outside -180..180")
        radius = numbers[2] if len(numbers) == 3 else DEFAULT_RADIUS_M
        if not 1 <= radius <= 100_000:
            raise ValueError(f"{part!r}: radius {radius} m is outside 1..100000")
        locations.append(PvLocation(lat, lon, radius))
    return tuple(locations)


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine): plenty exact for a radius of metres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def at_pv_location(
    latitude: float | None,
    longitude: float | None,
    geofence: str | None,
    locations: Sequence[PvLocation],
    geofence_names: Collection[str],
) -> bool:
    """Whether the car is where PV charging makes sense.

    A known geofence name decides alone when it is one of the PV geofences;
    otherwise the coordinates must lie within a PV location's radius. No
    position and no matching geofence: not there.
    """
    if geofence and geofence.strip().casefold() in {g.strip().casefold() for g in geofence_names}:
        return True
    if latitude is None or longitude is None:
        return False
    return any(
        distance_m(latitude, longitude, loc.latitude, loc.longitude) <= loc.radius_m
        for loc in locations
    )
