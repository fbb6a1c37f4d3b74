"""Where the Tesla API's tokens come from, and what to say when there is none."""

import pytest

from wallbox.vehicle.tokens import missing_login

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
