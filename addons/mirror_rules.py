"""What an answer from the real teslalogger.de means for a mirrored upload.

Pure rules, table-tested. An upload is retried only when a later attempt can
succeed (the server or the network is down, or overloaded); an answer that
says "no" to this upload itself parks it for inspection instead of retrying
it forever, and delivery moves on to the next one.
"""

from dataclasses import dataclass
from enum import Enum

from addons import smt_wire as wire


class Verdict(Enum):
    DELIVERED = "delivered"
    REJECTED = "rejected"  # final: parked in the outbox, not retried
    RETRY = "retry"  # the same upload again, after a backoff


@dataclass(frozen=True, slots=True)
class Outcome:
    verdict: Verdict
    reason: str
    min_delay: float = 0.0  # seconds the server asked us to wait at least


RESOURCE_LIMIT = b"Resource Limit Is Reached"
MAX_BACKOFF_S = 300.0  # smt_upstream_retry_max's default


def judge_insert(status: int | None, body: bytes, error: str | None = None) -> Outcome:
    """`status` None: no answer at all (`error` says why)."""
    if status is None:
        return Outcome(Verdict.RETRY, f"no answer: {error or 'connection failed'}")
    text = body.strip()
    if RESOURCE_LIMIT in body:
        # The host's process limit: TeslaLogger itself waits 25 s on this.
        return Outcome(Verdict.RETRY, "upstream is overloaded (Resource Limit Is Reached)", 25.0)
    if status in (408, 429) or status >= 500:
        return Outcome(Verdict.RETRY, f"upstream answered HTTP {status}")
    if 300 <= status < 400:
        return Outcome(Verdict.RETRY, f"upstream redirects (HTTP {status}): check smt_upstream_url")
    if text.startswith(b"ERROR"):
        return Outcome(Verdict.REJECTED, text[:200].decode(errors="replace"))
    if text == wire.NOT_FOUND:
        return Outcome(Verdict.REJECTED, "upstream does not know this token (not found)")
    if 200 <= status < 300:
        return Outcome(Verdict.DELIVERED, text[:60].decode(errors="replace") or "empty answer")
    return Outcome(Verdict.REJECTED, f"upstream refused it (HTTP {status})")


def backoff(failures: int, min_delay: float = 0.0, cap: float = MAX_BACKOFF_S) -> float:
    """Seconds to wait after the `failures`-th failure in a row: 1, 2, 4 ... `cap`,
    or longer when the server asked for it. The exponent stops growing long
    before a float would overflow: an outage may last any number of tries."""
    return max(min_delay, min(cap, 2.0 ** min(max(0, failures - 1), 40)))


def judge_check_token(status: int | None, body: bytes) -> bytes | None:
    """Upstream's check_token answer to relay, or None to fall back to the local rule."""
    if status is None or not 200 <= status < 300:
        return None
    text = body.strip()
    return text if text in (wire.OK, wire.NOT_FOUND) else None
