"""What a Fleet API call costs, as pure rules (PROTOCOL.md 5a; developer.tesla.com
Billing and Limits).

Tesla bills every answer with a status below 500, a 408 "asleep" and a 429
included, by kind: about 1,000 commands, 500 data requests or 50 wake-ups per
US dollar. Sign-in and token refreshes (oauth2/...) are free. TeslaBleHttpProxy
never reaches Tesla's servers, so nothing there is billed; relays (Teslemetry,
MyTeslaMate, Tessie) charge by their own plans.
"""

from collections.abc import Mapping
from typing import Any

from wallbox.vehicle.errors import (
    Asleep,
    CommandRefused,
    Misdirected,
    NotFound,
    RateLimited,
    Unauthorized,
)

PER_DOLLAR = {"data": 500, "command": 1000, "wake": 50}
KINDS = tuple(PER_DOLLAR)


def kind_of(method: str, path: str) -> str | None:
    """ "data", "command" or "wake" for a vehicle API path; None for what is never billed."""
    path = path.split("?", 1)[0]
    at = path.find("api/1/")
    if at < 0:
        return None
    rest = path[at + len("api/1/") :].strip("/")
    parts = rest.split("/")
    if parts[-1] == "wake_up":  # the Fleet API's .../wake_up, TeslaBleHttpProxy's command/wake_up
        return "wake"
    if len(parts) >= 2 and parts[-2] == "command" and method.upper() == "POST":
        return "command"
    return "data"


def billed(status: int) -> bool:
    return 100 <= status < 500


def cost_usd(calls_by_kind: Mapping[str, int]) -> float:
    """The Fleet API price of billed calls counted by kind."""
    return sum(n / PER_DOLLAR[kind] for kind, n in calls_by_kind.items() if kind in PER_DOLLAR)


CREDIT_USD = 10.0  # Tesla's monthly credit per developer account (wallbox_api_credit)


def billed_failure(error: BaseException) -> bool:
    """Whether a call that failed was billed: Tesla answered it with a status below
    500 (408 asleep, 429, 401/403, 404, 421, a refusal). Timeouts, refused
    connections and 5xx are not."""
    return isinstance(
        error, Asleep | RateLimited | CommandRefused | Unauthorized | NotFound | Misdirected
    )


def month_projection(month_usd: float, elapsed_days: float, days_in_month: int) -> float:
    """The month's bill at this pace; the first day counts as a whole one, so one
    morning's wake-up does not project a month of them."""
    return month_usd / max(1.0, elapsed_days) * days_in_month


def usage_report(
    today: Mapping[str, int],
    month: Mapping[str, int],
    *,
    billed: bool,
    elapsed_days: float,
    days_in_month: int,
    credit_usd: float = CREDIT_USD,
) -> dict[str, Any]:
    """The status JSON's `api_usage`: calls by kind and dollars, today and this month,
    against the credit. `billed` False (Bluetooth, the Owner API): calls, no dollars."""

    def period(counts: Mapping[str, int]) -> dict[str, Any]:
        usd = cost_usd(counts) if billed else 0.0
        return {kind: counts.get(kind, 0) for kind in KINDS} | {"usd": round(usd, 4)}

    month_usd = cost_usd(month) if billed else 0.0
    return {
        "billed": billed,
        "today": period(today),
        "month": period(month),
        "month_projected_usd": round(month_projection(month_usd, elapsed_days, days_in_month), 2),
        "credit_usd": credit_usd,
    }
