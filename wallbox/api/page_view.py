"""What the status page shows, in words: pure rules from the car statuses, the
capture's state and the commands asked, to cards the page only has to draw.

The browser gets text and a state per card (ok, warn, bad, idle) and draws it
as it comes: every judgement ("is it working?") is made here, where it is
table-tested, and not again in JavaScript.
"""

from collections.abc import Mapping, Sequence
from typing import Any

QUIET_S = 300.0  # a phone that uploads sends every few seconds: 5 min of nothing is news
STALE_READ_S = 3600.0  # a car status older than this says little about now

Row = list[str]
Card = dict[str, Any]


def age_words(seconds: float | None) -> str:
    """How long ago, in the largest unit that fits: "never", "4 s ago", "12 min ago"."""
    if seconds is None:
        return "never"
    s = max(0, int(seconds))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if s >= size:
            return f"{s // size} {unit} ago"
    return f"{s} s ago"


def quiet_words(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes >= 120:
        return f"nothing for {minutes // 60} h"
    return f"nothing for {minutes} min"


def capture_card(token: Mapping[str, Any], now: float) -> Card:
    """One ScanMyTesla token: is the phone uploading, is TeslaLogger fetching."""
    last = token.get("last_upload")
    age = None if last is None else now - last
    if age is None:
        state, headline = "idle", "no upload yet"
    elif age > QUIET_S:
        state, headline = "warn", f"{quiet_words(age)}: last upload {age_words(age)}"
    else:
        state, headline = "ok", f"uploading: last {age_words(age)}"
    waiting = token.get("waiting", 0)
    fetched = token.get("fetched_upto")
    if waiting:
        more = "+" if token.get("waiting_more") else ""
        plural = "" if waiting == 1 and not more else "s"
        teslalogger = f"{waiting}{more} upload{plural} waiting for its next poll"
    elif fetched is not None:
        teslalogger = "has fetched everything"
    else:
        teslalogger = "nothing to fetch yet"
    if fetched is not None:
        teslalogger += f" (up to the upload of {age_words(now - fetched)})"
    polled = token.get("last_poll")
    poll = "not since teslahome started" if polled is None else age_words(now - polled)
    return {
        "id": f"token-{token['token']}",
        "title": f"Token {token['token']}",
        "state": state,
        "headline": headline,
        "rows": [
            ["Uploads today", str(token.get("uploads_today", 0))],
            ["Last upload", age_words(age)],
            ["TeslaLogger", teslalogger],
            ["TeslaLogger's last poll", poll],
        ],
        "chart": f"capture-{token['token']}",
    }


UPSTREAM_WORDS = {
    "off": "answered here only (smt_upstream=off)",
    "passthrough": "teslalogger.de answers, uploads recorded here (smt_upstream=passthrough)",
}


def mirror_card(
    mirror: Mapping[str, Any] | None,
    refused: Mapping[str, Any] | None,
    now: float,
    upstream: str = "off",
) -> Card:
    """teslalogger.de's part (the mirror's backlog), and the last request refused here."""
    rows: list[Row] = []
    state = "ok"
    if mirror is None:
        headline = UPSTREAM_WORDS.get(upstream, f"smt_upstream={upstream}")
        state = "idle"
    else:
        waiting = mirror.get("waiting", 0)
        oldest = mirror.get("oldest_waiting")
        headline = f"mirror: {waiting} waiting" if waiting else "mirror: nothing waiting"
        if waiting and oldest is not None:
            headline += f", oldest {age_words(now - oldest)}"
            state = "warn" if now - oldest > QUIET_S else "ok"
        rows.append(["Delivered", age_words(_ago(mirror.get("last_delivered"), now))])
        if mirror.get("rejected"):
            rows.append(["Refused upstream", str(mirror["rejected"])])
        if mirror.get("last_error"):
            when = age_words(_ago(mirror.get("last_error_at"), now))
            rows.append(["Last error", f"{when}: {mirror['last_error']}"])
    if refused:
        rows.append(["Last refused", f"{age_words(now - refused['at'])}: {refused['why']}"])
    return {"id": "mirror", "title": "teslalogger.de", "state": state,
            "headline": headline, "rows": rows}  # fmt: skip


def _ago(at: float | None, now: float) -> float | None:
    return None if at is None else now - at


def _num(value: Any, unit: str, digits: int = 0, *, none: str = "?") -> str:
    if value is None:
        return none
    return f"{value:.{digits}f} {unit}" if digits else f"{round(value)} {unit}"


def car_state(status: Mapping[str, Any]) -> str:
    """0 not ready or no car here is idle, an error is bad, anything charging-ready ok."""
    if status.get("last_error"):
        return "bad"
    if status.get("status", 0) == 0:
        return "idle"
    return "ok"


def car_card(status: Mapping[str, Any], commands: Sequence[Mapping[str, Any]], now: float) -> Card:
    """One car: what the wallbox sees, why, what it is about to do, and who asked."""
    intent = status.get("intent") or {}
    soc = _num(status.get("soc"), "%")
    if "soc" in (status.get("predicted") or ()):
        soc += " (predicted)"
    asked, drawing = _num(intent.get("amps"), "A", none="nothing"), _num(status.get("amps"), "A")
    rows: list[Row] = [
        ["SoC", f"{soc}, limit {_num(status.get('targetsoc'), '%')}"],
        ["Power", f"{_num((status.get('power') or 0) / 1000, 'kW', 1)}, "
                  f"{status.get('phases') or 0} phases"],
        ["Amps", f"asked {asked}, set {_num(status.get('targetamp'), 'A')}, drawing {drawing}"],
        ["Where", status.get("whereabouts") or "unknown"],
    ]  # fmt: skip
    telemetry = status.get("telemetry") or {}
    read = status.get("age")
    source = telemetry.get("source", "tesla_api")
    reported = telemetry.get("report_age")
    heard = "" if reported is None else f" (its last report {age_words(reported)})"
    rows.append(["Read", f"{age_words(read)} via {source}{heard}"])
    if telemetry.get("reason"):
        rows.append(["Telemetry", telemetry["reason"]])
    for goal in status.get("pending") or ():
        why = f", waiting for {goal['waiting_for']}" if goal.get("waiting_for") else ""
        rows.append(["Pending", f"{goal['action']} for {goal['for_s']:.0f} s{why}"])
    if status.get("next_try_in") is not None:
        rows.append(["Next try", f"in {status['next_try_in']:.0f} s"])
    if status.get("last_error"):
        at = status.get("last_error_at") or ""  # ISO, UTC: the controller's clock, not ours
        when = f" (at {at[11:19]} UTC)" if len(at) >= 19 else ""
        rows.append(["Last error", status["last_error"] + when])
    for command in commands[-3:]:
        rows.append(["Asked", command_words(command, now)])
    letter = status.get("evcc_status", "?")
    return {
        "id": f"car-{status['car']}",
        "title": status.get("name") or f"Car {status['car']}",
        "state": car_state(status),
        "headline": f"{status.get('status', 0)} {letter} · {status.get('status_text', '')}",
        "rows": rows,
        "chart": f"car-{status['car']}",
    }


def command_words(command: Mapping[str, Any], now: float) -> str:
    when = age_words(now - command["at"])
    return f"{command['what']} {when} by {command['who']} ({command['answer']})"


def commands_of(car: Mapping[str, Any], commands: Sequence[Mapping[str, Any]]) -> list:
    """The commands asked of `car`, by number or VIN (the paths name it either way)."""
    keys = {str(car.get("car")), str(car.get("vin", "")).upper()}
    return [c for c in commands if str(c["car"]).upper() in keys]


def cost_card(cars: Sequence[Mapping[str, Any]]) -> Card | None:
    """The Tesla API's calls and dollars, today and this month, against the credit."""
    usages = [c["api_usage"] for c in cars if c.get("api_usage")]
    if not usages:
        return None

    def calls(period: str) -> int:
        return sum(v for u in usages for k, v in u[period].items() if k != "usd")

    def usd(period: str) -> float:
        return sum(u[period]["usd"] for u in usages)

    credit = max(u.get("credit_usd", 0.0) for u in usages)
    projected = sum(u.get("month_projected_usd", 0.0) for u in usages)
    billed = any(u.get("billed") for u in usages)
    state = "warn" if billed and projected > credit else "ok"
    headline = f"${usd('month'):.2f} of ${credit:.2f} credit this month" if billed else "not billed"
    return {
        "id": "cost",
        "title": "Tesla API cost",
        "state": state,
        "headline": headline,
        "rows": [
            ["Today", f"{calls('today')} calls, ${usd('today'):.2f}"],
            ["This month", f"{calls('month')} calls, ${usd('month'):.2f}"],
            ["Projected", f"${projected:.2f} by the month's end"],
        ],
    }


WORST = {"bad": 3, "warn": 2, "ok": 1, "idle": 0}


def verdict(cards: Sequence[Card]) -> dict[str, str]:
    """The one line at the top: the worst card's headline, or that all is well."""
    worst = max(cards, key=lambda c: WORST[c["state"]], default=None)
    if worst is None or worst["state"] == "idle":
        return {"state": "idle", "text": "Waiting: no uploads and no car yet"}
    if worst["state"] == "ok":
        return {"state": "ok", "text": "Working"}
    return {"state": worst["state"], "text": f"{worst['title']}: {worst['headline']}"}


def summary(
    cars: Sequence[Mapping[str, Any]],
    capture: Mapping[str, Any],
    commands: Sequence[Mapping[str, Any]],
    now: float,
    *,
    not_ready: str | None = None,
) -> dict[str, Any]:
    """The page's whole text: a verdict and sections of cards."""
    captured = [capture_card(t, now) for t in capture.get("tokens", ())]
    upstream = capture.get("upstream", "off")
    captured.append(mirror_card(capture.get("mirror"), capture.get("refused"), now, upstream))
    car_cards = [car_card(c, commands_of(c, commands), now) for c in cars]
    if not cars:
        car_cards = [{"id": "no-car", "title": "Cars", "state": "idle",
                      "headline": not_ready or "no car yet", "rows": []}]  # fmt: skip
    cost = cost_card(cars)
    sections = [
        {"id": "capture", "title": "ScanMyTesla", "cards": captured},
        {"id": "cars", "title": "Wallbox", "cards": car_cards + ([cost] if cost else [])},
    ]
    return {"verdict": verdict(captured + car_cards), "sections": sections}
