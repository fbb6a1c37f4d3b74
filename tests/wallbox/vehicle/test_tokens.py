"""Where the Tesla API's tokens come from, and what to say when there is none."""

import pytest
import teslapy

from wallbox.vehicle.tokens import for_teslapy, missing_login, with_expiry

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
