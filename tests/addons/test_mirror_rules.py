import pytest

from addons.mirror_rules import (
    MAX_BACKOFF_S,
    Verdict,
    backoff,
    judge_check_token,
    judge_insert,
)


@pytest.mark.parametrize(
    "status, body, verdict, reason",
    [
        (200, b"OK", Verdict.DELIVERED, "OK"),
        (200, b"", Verdict.DELIVERED, "empty answer"),
        (None, b"", Verdict.RETRY, "no answer"),
        (200, b"<html>Resource Limit Is Reached</html>", Verdict.RETRY, "overloaded"),
        (503, b"Resource Limit Is Reached", Verdict.RETRY, "overloaded"),
        (500, b"boom", Verdict.RETRY, "HTTP 500"),
        (502, b"", Verdict.RETRY, "HTTP 502"),
        (429, b"", Verdict.RETRY, "HTTP 429"),
        (408, b"", Verdict.RETRY, "HTTP 408"),
        (301, b"", Verdict.RETRY, "smt_upstream_url"),
        (200, b"ERROR: bad json", Verdict.REJECTED, "ERROR: bad json"),
        (400, b"ERROR: x", Verdict.REJECTED, "ERROR: x"),
        (200, b"not found", Verdict.REJECTED, "does not know this token"),
        (404, b"nope", Verdict.REJECTED, "HTTP 404"),
        (403, b"", Verdict.REJECTED, "HTTP 403"),
    ],
)
def test_upstream_answers(status, body, verdict, reason):
    outcome = judge_insert(status, body, "refused")
    assert outcome.verdict is verdict
    assert reason in outcome.reason


def test_resource_limit_waits_at_least_as_long_as_teslalogger_does():
    outcome = judge_insert(200, b"Resource Limit Is Reached")
    assert backoff(1, outcome.min_delay) == 25.0


def test_backoff_doubles_up_to_the_cap():
    assert [backoff(n) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 8.0]
    assert backoff(50) == MAX_BACKOFF_S


def test_backoff_follows_the_configured_cap_for_any_length_of_outage():
    assert backoff(20, cap=3600) == 3600  # smt_upstream_retry_max above the default counts
    assert backoff(10**6) == MAX_BACKOFF_S  # days of outage: no float overflow
    assert backoff(3, min_delay=25.0, cap=10) == 25.0  # the server's own wait wins


@pytest.mark.parametrize(
    "status, body, relayed",
    [
        (200, b"OK", b"OK"),
        (200, b"not found\n", b"not found"),
        (200, b"Resource Limit Is Reached", None),
        (200, b"ERROR: db", None),
        (500, b"OK", None),
        (None, b"", None),
    ],
)
def test_check_token_answers_relayed_only_when_meaningful(status, body, relayed):
    assert judge_check_token(status, body) == relayed
