"""What a Fleet API call costs, as pure rules (PROTOCOL.md 5a; developer.tesla.com
Billing and Limits).

Tesla bills every answer with a status below 500, a 408 "asleep" and a 429
included, by kind: about 1,000 commands, 500 data requests or 50 wake-ups per
US dollar. Sign-in and token refreshes (oauth2/...) are free. TeslaBleHttpProxy
never reaches Tesla's servers, so nothing there is billed; relays (Teslemetry,
MyTeslaMate, Tessie) charge by their own plans.
"""

from collections.abc import Mapping

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
