"""What a status code and Tesla's words with it mean: one table, every kind of answer."""

import pytest

from wallbox.vehicle.answers import (
    CLOSED_API_WAIT_S,
    EXCEEDED_LIMIT_WAIT_S,
    error_from_http,
    refusal_reason,
)
from wallbox.vehicle.errors import (
    ApiClosed,
    Asleep,
    Misdirected,
    NotConfigured,
    NotFound,
    RateLimited,
    Unauthorized,
    Unavailable,
)

NOW = 1_800_000_000.0
CLOSED = "forbidden, see https://developer.tesla.com/docs/fleet-api"


@pytest.mark.parametrize(
    "status, reason, retry_after, kind, says",
    [
        (408, "vehicle unavailable: vehicle is offline or asleep", None, Asleep, "asleep"),
        (503, "vehicle is sleeping", None, Asleep, "asleep"),  # TeslaBleHttpProxy
        (503, "upstream busy", None, Unavailable, "retrying"),
        (429, "", "42", RateLimited, "retrying in 42 s"),
        (403, "account disabled: EXCEEDED_LIMIT", None, RateLimited, "limit is used up"),
        (429, "EXCEEDED_LIMIT", "7200", RateLimited, "in 60 min"),  # capped at an hour
        (403, CLOSED, None, ApiClosed, "TeslaBleHttpProxy"),
        (403, "Tesla Vehicle Command Protocol required, please refer to ...", None,
         NotConfigured, "tesla_command_url"),
        (401, "invalid bearer token", None, Unauthorized, "make login"),
        (403, "forbidden", None, Unauthorized, "refused the token"),  # not the closed text
        (404, "not found", None, NotFound, "no such endpoint"),
        (421, "user out of region, use base URL: https://fleet-api.prd.eu.vn.cloud.tesla.com",
         None, Misdirected, "another region"),
        (500, "", None, Unavailable, "not answering properly"),
        (502, "Bad Gateway", None, Unavailable, "HTTP 502 (Bad Gateway)"),
    ],
)  # fmt: skip
def test_a_status_and_its_words_make_one_typed_error(status, reason, retry_after, kind, says):
    error = error_from_http(status, reason, retry_after, NOW, "list the cars")
    assert type(error) is kind
    assert says in str(error) and str(error).startswith("list the cars")


def test_a_closed_api_is_final_and_asked_again_only_hourly():
    error = error_from_http(403, CLOSED, None, NOW, "list the cars")
    assert isinstance(error, Unauthorized) and isinstance(error, RateLimited)
    assert error.retry_after == CLOSED_API_WAIT_S
    for backend in ("TeslaBleHttpProxy", "Fleet API", "Teslemetry", "Which back-end?"):
        assert backend in str(error)


def test_exceeded_limit_waits_15_minutes_unless_asked_longer():
    short = error_from_http(403, "account disabled: EXCEEDED_LIMIT", None, NOW, "x")
    longer = error_from_http(429, "EXCEEDED_LIMIT", "1800", NOW, "x")
    assert (short.retry_after, longer.retry_after) == (EXCEEDED_LIMIT_WAIT_S, 1800)


def test_a_misdirected_answer_names_the_region():
    reason = "user out of region, use base URL: https://fleet-api.prd.eu.vn.cloud.tesla.com"
    error = error_from_http(421, reason, None, NOW, "x")
    assert error.base_url == "https://fleet-api.prd.eu.vn.cloud.tesla.com/"
    assert error_from_http(421, "", None, NOW, "x").base_url is None


def test_the_login_advice_is_the_back_ends_own():
    error = error_from_http(401, "", None, NOW, "x", advice="copy a new token into t.txt")
    assert str(error).endswith("copy a new token into t.txt")


@pytest.mark.parametrize(
    "text, reason",
    [
        ("is_charging", "is_charging"),
        ("car could not execute command: is_charging", "is_charging"),
        ("failed to start charge: car could not execute command: disconnected", "disconnected"),
        ("failed to set charge limit to 80 %: car could not execute command: already_set.",
         "already_set"),
        ("could_not_wake_buses", "could_not_wake_buses"),
        ("  ", "no reason given"),
    ],
)  # fmt: skip
def test_the_cars_own_word_inside_a_refusal(text, reason):
    assert refusal_reason(text) == reason
