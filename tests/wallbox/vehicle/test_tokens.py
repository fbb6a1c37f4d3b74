"""Where the Tesla API's tokens come from, and what to say when there is none."""

import pytest
import teslapy

from wallbox.vehicle.tokens import (
    extras_of,
    for_teslapy,
    login_kind,
    missing_login,
    with_expiry,
    with_extras,
)

ONE = {"me@example.org": {"sso": {"access_token": "a"}}}
TWO = {**ONE, "b@example.org": {"sso": {"refresh_token": "r"}}}


@pytest.mark.parametrize(
    "cache, email, says",
    [
        ({}, "", "no Tesla login in data/t.json yet: run `make login`"),
        (
            ONE,
            "x@example.org",
            "no Tesla login for x@example.org in data/t.json: "
            "run `make login TESLA_EMAIL=x@example.org`",
        ),
        (
            TWO,
            "",
            "data/t.json holds 2 Tesla accounts (b@example.org, me@example.org): "
            "set tesla_email to the one to use",
        ),
        ({"junk": "not an account"}, "", "no Tesla login in data/t.json yet: run `make login`"),
    ],
)
def test_a_missing_login_says_what_is_missing(cache, email, says):
    assert missing_login(cache, email, "data/t.json") == says


@pytest.mark.parametrize(
    "expires_at, becomes",
    [
        (1_900_000_000.5, 1_900_000_000.5),
        (1_900_000_000, 1_900_000_000),
        (0, 0),
        (None, 0),  # TeslaMate stores no expiry
        ("1900000000", 0),
        (True, 0),
    ],
)
def test_every_token_gets_the_numeric_expiry_teslapy_compares(expires_at, becomes):
    sso = {"access_token": "a", "expires_at": expires_at}
    assert with_expiry(sso)["expires_at"] == becomes
    assert with_expiry({"access_token": "a"})["expires_at"] == 0


def test_teslapy_accepts_a_cache_whose_token_has_no_expiry():
    cache = {"me@example.org": {"sso": {"access_token": "qts-opaque", "token_type": "Bearer"}}}
    with pytest.raises(TypeError):  # teslapy 2.9: `0 < None` while it reads its cache
        teslapy.Tesla("me@example.org", cache_loader=lambda: cache, cache_dumper=dict)
    fixed = for_teslapy(cache)
    session = teslapy.Tesla("me@example.org", cache_loader=lambda: fixed, cache_dumper=dict)
    assert session.token["access_token"] == "qts-opaque" and session.authorized
    assert cache["me@example.org"]["sso"].get("expires_at") is None  # the source is not changed
    assert for_teslapy({"junk": "not an account"}) == {"junk": "not an account"}


FLEET = {"me@example.org": {"url": "https://fleet-auth/", "sso": {"refresh_token": "r"},
                            "client_id": "app", "api_url": "https://eu/"}}  # fmt: skip


@pytest.mark.parametrize(
    "cache, email, kind",
    [(FLEET, "me@example.org", "fleet"), (ONE, "me@example.org", "owner"),
     ({}, "me@example.org", None), (ONE, None, None)],
)  # fmt: skip
def test_the_kind_of_login(cache, email, kind):
    assert login_kind(cache, email) == kind


def test_a_fleet_logins_own_fields_survive_teslapys_save():
    extras = extras_of(FLEET, "me@example.org")
    assert extras == {"client_id": "app", "api_url": "https://eu/"}
    rewritten = {"me@example.org": {"url": "https://fleet-auth/", "sso": {"refresh_token": "r2"}}}
    kept = with_extras(rewritten, "me@example.org", extras)
    assert kept["me@example.org"]["client_id"] == "app"
    assert kept["me@example.org"]["sso"] == {"refresh_token": "r2"}
    assert with_extras(rewritten, "other@x", extras) == rewritten


def test_a_fleet_login_is_asked_for_with_its_own_command():
    says = missing_login({}, "", "t.json", "make login FLEET_CLIENT_ID=<id>")
    assert says == "no Tesla login in t.json yet: run `make login FLEET_CLIENT_ID=<id>`"
