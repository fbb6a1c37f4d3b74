"""Which API host a TeslaMate token is for (pure): read from its claims, used to refuse a
request that cannot work and to say what to do when the API refuses the token."""

import pytest

from support.teslamate_db import jwt
from wallbox.vehicle.token_audience import api_hosts, described, refused, wrong_host

USERINFO = "https://auth.tesla.com/oauth2/v3/userinfo"
OWNER = jwt({"azp": "ownerapi", "aud": ["https://owner-api.teslamotors.com/", USERINFO]})
FLEET = jwt(
    {
        "azp": "c0ffee-app",
        "aud": [
            "https://fleet-api.prd.na.vn.cloud.tesla.com",
            "https://fleet-api.prd.eu.vn.cloud.tesla.com",
            USERINFO,
        ],
    }
)
OPAQUE = "qts-0123456789abcdef"


@pytest.mark.parametrize(
    "token, hosts",
    [
        (OWNER, ("owner-api.teslamotors.com",)),
        (FLEET, ("fleet-api.prd.na.vn.cloud.tesla.com", "fleet-api.prd.eu.vn.cloud.tesla.com")),
        (jwt({"aud": "https://Owner-Api.TeslaMotors.com"}), ("owner-api.teslamotors.com",)),
        (jwt({"aud": [USERINFO, "https://fleet-auth.prd.vn.cloud.tesla.com/x"]}), ()),
        (jwt({"aud": 7}), ()),
        (jwt({"sub": "no audience"}), ()),
        (OPAQUE, ()),
        ("a.!!!.c", ()),
    ],
)
def test_the_api_hosts_a_token_names(token, hosts):
    assert api_hosts(token) == hosts


@pytest.mark.parametrize(
    "api_url, token, refused_for",
    [
        ("https://owner-api.teslamotors.com/", OWNER, None),
        ("https://fleet-api.prd.eu.vn.cloud.tesla.com/", FLEET, None),
        ("https://owner-api.teslamotors.com/", FLEET, "fleet-api.prd.na.vn.cloud.tesla.com"),
        ("https://fleet-api.prd.eu.vn.cloud.tesla.com/", OWNER, "owner-api.teslamotors.com"),
        ("https://owner-api.vn.cloud.tesla.cn/", OWNER, "owner-api.teslamotors.com"),
        ("https://localhost:4443/", FLEET, None),  # tesla-http-proxy forwards where it likes
        ("https://api.myteslamate.com/", OWNER, None),  # a relay: its own business
        ("https://owner-api.teslamotors.com/", OPAQUE, None),  # says nothing: may work
    ],
)
def test_only_a_tesla_host_the_token_is_not_for_is_refused(api_url, token, refused_for):
    problem = wrong_host(api_url, token)
    if refused_for is None:
        assert problem is None
    else:
        assert problem is not None and f"https://{refused_for}/" in problem
        assert "TESLA_API_HOST" in problem and "README: TeslaMate, Tokens" in problem


def test_the_messages_say_what_the_token_is_for_and_what_to_do():
    assert wrong_host("https://owner-api.teslamotors.com/", FLEET) == (
        "TeslaMate's token (client c0ffee-app) is for fleet-api.prd.na.vn.cloud.tesla.com, "
        "fleet-api.prd.eu.vn.cloud.tesla.com, not owner-api.teslamotors.com: set tesla_api_url "
        "to the API host TeslaMate uses (its TESLA_API_HOST), "
        "https://fleet-api.prd.na.vn.cloud.tesla.com/, or to a tesla-http-proxy that forwards "
        "there (README: TeslaMate, Tokens)"
    )
    assert described(OPAQUE) == "TeslaMate's token does not say which API host it is for"
    # its own host refuses it: TeslaMate's sign-in is gone
    own = refused("https://owner-api.teslamotors.com/", OWNER, 401)
    assert own.startswith("owner-api.teslamotors.com refused TeslaMate's token (HTTP 401), and")
    assert own.endswith("sign in to TeslaMate again")
    # another host refuses it: the host is the likelier mistake
    other = refused("https://localhost:4443/", OPAQUE, 401)
    assert other.startswith(
        "localhost refused TeslaMate's token (HTTP 401); TeslaMate's token does not say"
    )
    assert "TESLA_API_HOST" in other and "TOKEN" in other and "sign in to TeslaMate" in other
    for message in (own, other, wrong_host("https://owner-api.teslamotors.com/", FLEET)):
        assert OWNER not in message and FLEET not in message and OPAQUE not in message
