import pytest

from wallbox.control.geo import PvLocation, at_pv_location, distance_m, parse_pv_locations

HOME = PvLocation(48.1374, 11.5755, 80)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", ()),
        ("  ;  ", ()),
        ("48.1374,11.5755", (PvLocation(48.1374, 11.5755, 100.0),)),
        ("48.1374, 11.5755, 80", (HOME,)),
        ("48.1374,11.5755,80; -33.9,151.2,500", (HOME, PvLocation(-33.9, 151.2, 500))),
    ],
)
def test_parse_pv_locations(text, expected):
    assert parse_pv_locations(text) == expected


@pytest.mark.parametrize(
    "text, message",
    [
        ("48.1", "is not lat,lon"),
        ("1,2,3,4", "is not lat,lon"),
        ("north,11", "must be numbers"),
        ("nan,11", "finite"),
        ("91,11", "latitude"),
        ("48,181", "longitude"),
        ("48,11,0", "radius"),
        ("48,11,100001", "radius"),
    ],
)
def test_bad_pv_locations_say_what_is_wrong(text, message):
    with pytest.raises(ValueError, match=message):
        parse_pv_locations(text)


@pytest.mark.parametrize(
    "a, b, metres",
    [
        ((48.1374, 11.5755), (48.1374, 11.5755), 0),
        ((48.1374, 11.5755), (48.1383, 11.5755), 100),  # 0.0009 deg latitude ~ 100 m
        ((0.0, 0.0), (0.0, 1.0), 111_195),  # one degree at the equator
        ((52.5200, 13.4050), (48.1374, 11.5755), 504_000),  # Berlin - Munich
    ],
)
def test_distance(a, b, metres):
    assert distance_m(*a, *b) == pytest.approx(metres, rel=0.01, abs=1)


@pytest.mark.parametrize(
    "lat, lon, geofence, names, expected",
    [
        (48.1374, 11.5755, None, (), True),  # on the spot
        (48.1380, 11.5755, None, (), True),  # ~67 m: inside 80 m
        (48.1384, 11.5755, None, (), False),  # ~111 m: outside
        (None, None, None, (), False),  # no position
        (None, None, "Home", ("home",), True),  # the geofence name decides alone
        (40.0, 10.0, "Home ", ("Home",), True),
        (40.0, 10.0, "Work", ("Home",), False),
        (40.0, 10.0, "", ("Home",), False),
    ],
)
def test_at_pv_location(lat, lon, geofence, names, expected):
    assert at_pv_location(lat, lon, geofence, [HOME], names) is expected


def test_no_pv_location_configured_is_never_there():
    assert not at_pv_location(48.1374, 11.5755, None, [], [])
