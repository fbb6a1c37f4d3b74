"""The status page's judgements: table-tested, as the page only draws them."""

import pytest

from wallbox.api.page_view import (
    age_words,
    capture_card,
    car_card,
    commands_of,
    cost_card,
    mirror_card,
    quiet_words,
    summary,
    verdict,
)

NOW = 1_000_000.0


@pytest.mark.parametrize(
    "seconds, words",
    [(None, "never"), (-3, "0 s ago"), (0, "0 s ago"), (59.9, "59 s ago"), (60, "1 min ago"),
     (3599, "59 min ago"), (3600, "1 h ago"), (86400 * 2 + 5, "2 d ago")],
)  # fmt: skip
def test_age_words(seconds, words):
    assert age_words(seconds) == words


@pytest.mark.parametrize("seconds, words", [(301, "nothing for 5 min"),
                                            (7199, "nothing for 119 min"),
                                            (7200, "nothing for 2 h")])  # fmt: skip
def test_quiet_words(seconds, words):
    assert quiet_words(seconds) == words


@pytest.mark.parametrize(
    "token, state, headline, teslalogger",
    [
        ({"token": "t"}, "idle", "no upload yet", "nothing to fetch yet"),
        ({"token": "t", "last_upload": NOW - 4, "waiting": 1},
         "ok", "uploading: last 4 s ago", "1 upload waiting for its next poll"),
        ({"token": "t", "last_upload": NOW - 301, "waiting": 0, "fetched_upto": NOW - 301},
         "warn", "nothing for 5 min: last upload 5 min ago",
         "has fetched everything (up to the upload of 5 min ago)"),
        ({"token": "t", "last_upload": NOW - 1, "waiting": 1000, "waiting_more": True},
         "ok", "uploading: last 1 s ago", "1000+ uploads waiting for its next poll"),
        ({"token": "t", "last_upload": NOW - 300, "waiting": 7, "fetched_upto": NOW - 600},
         "ok", "uploading: last 5 min ago",
         "7 uploads waiting for its next poll (up to the upload of 10 min ago)"),
    ],
)  # fmt: skip
def test_a_token_says_whether_the_phone_uploads_and_teslalogger_fetches(
    token, state, headline, teslalogger
):
    card = capture_card(token, NOW)
    assert (card["state"], card["headline"]) == (state, headline)
    assert dict(card["rows"])["TeslaLogger"] == teslalogger
    assert card["chart"] == "capture-t" and card["id"] == "token-t"


@pytest.mark.parametrize(
    "last_poll, words",
    [(None, "not since teslahome started"), (NOW - 40, "40 s ago"), (NOW - 7200, "2 h ago")],
)
def test_a_token_says_when_teslalogger_last_polled(last_poll, words):
    card = capture_card({"token": "t", "last_poll": last_poll}, NOW)
    assert dict(card["rows"])["TeslaLogger's last poll"] == words


@pytest.mark.parametrize(
    "mirror, refused, state, headline, rows",
    [
        (None, None, "idle", "answered here only (smt_upstream=off)", {}),
        ({"waiting": 0, "last_delivered": NOW - 2}, None, "ok", "mirror: nothing waiting",
         {"Delivered": "2 s ago"}),
        ({"waiting": 3, "oldest_waiting": NOW - 10}, None, "ok",
         "mirror: 3 waiting, oldest 10 s ago", {"Delivered": "never"}),
        ({"waiting": 3, "oldest_waiting": NOW - 900, "rejected": 2, "last_error": "timeout",
          "last_error_at": NOW - 60}, None, "warn", "mirror: 3 waiting, oldest 15 min ago",
         {"Delivered": "never", "Refused upstream": "2", "Last error": "1 min ago: timeout"}),
        (None, {"at": NOW - 5, "why": "token x is not accepted here"}, "idle",
         "answered here only (smt_upstream=off)",
         {"Last refused": "5 s ago: token x is not accepted here"}),
    ],
)  # fmt: skip
def test_the_mirror_and_the_last_refusal(mirror, refused, state, headline, rows):
    card = mirror_card(mirror, refused, NOW)
    assert (card["state"], card["headline"], dict(card["rows"])) == (state, headline, rows)


CHARGING = {
    "car": 1, "vin": "5YJ3SIM0000000001", "name": "Sim 1", "status": 3, "evcc_status": "C",
    "status_text": "charging", "soc": 55, "targetsoc": 80, "targetamp": 16, "amps": 16,
    "power": 11040, "phases": 3, "predicted": ["soc"], "intent": {"amps": 16},
    "whereabouts": "at the PV location", "age": 12.0,
    "telemetry": {"source": "teslamate", "reason": "TeslaMate reports (3 s ago)"},
    "pending": [], "next_try_in": None, "last_error": None,
}  # fmt: skip


@pytest.mark.parametrize(
    "change, state, rows",
    [
        ({}, "ok", {"SoC": "55 % (predicted), limit 80 %", "Power": "11.0 kW, 3 phases",
                    "Amps": "asked 16 A, set 16 A, drawing 16 A", "Read": "12 s ago via teslamate",
                    "Telemetry": "TeslaMate reports (3 s ago)"}),
        ({"status": 0, "intent": {}, "soc": None, "power": None, "phases": None, "age": None,
          "predicted": []}, "idle",
         {"SoC": "?, limit 80 %", "Amps": "asked nothing, set 16 A, drawing 16 A",
          "Power": "0.0 kW, 0 phases", "Read": "never via teslamate"}),
        ({"last_error": "the car refused: not plugged in"}, "bad",
         {"Last error": "the car refused: not plugged in"}),
        ({"last_error": "timeout", "last_error_at": "2026-12-07T23:01:02Z"}, "bad",
         {"Last error": "timeout (at 23:01:02 UTC)"}),
        ({"telemetry": {"source": "teslemetry", "report_age": 65.0}}, "ok",
         {"Read": "12 s ago via teslemetry (its last report 1 min ago)"}),
        ({"pending": [{"action": "charge_start", "for_s": 4.2, "waiting_for": "the car to wake"}],
          "next_try_in": 9.6}, "ok",
         {"Pending": "charge_start for 4 s, waiting for the car to wake", "Next try": "in 10 s"}),
    ],
)  # fmt: skip
def test_a_car_card(change, state, rows):
    card = car_card(CHARGING | change, [], NOW)
    assert card["state"] == state and card["chart"] == "car-1" and card["title"] == "Sim 1"
    assert dict(card["rows"]).items() >= rows.items()


def test_a_car_card_names_who_asked_the_last_three_commands():
    asked = [{"at": NOW - i, "car": "1", "what": f"set_amps {i}", "who": "10.0.0.5 (evcc)",
              "answer": 200} for i in (9, 8, 7, 6)]  # fmt: skip
    rows = [v for k, v in car_card(CHARGING, asked, NOW)["rows"] if k == "Asked"]
    assert rows == [f"set_amps {i} {i} s ago by 10.0.0.5 (evcc) (200)" for i in (8, 7, 6)]


@pytest.mark.parametrize("key, mine", [("1", True), ("5yj3sim0000000001", True), ("2", False)])
def test_commands_are_matched_to_a_car_by_number_or_vin(key, mine):
    command = {"car": key, "what": "x", "at": 0, "who": "?", "answer": 200}
    assert commands_of(CHARGING, [command]) == ([command] if mine else [])


def usage(today_usd, month_usd, projected, billed=True):
    return {"api_usage": {"billed": billed, "credit_usd": 10.0, "month_projected_usd": projected,
                          "today": {"data": 3, "commands": 1, "usd": today_usd},
                          "month": {"data": 30, "commands": 5, "usd": month_usd}}}  # fmt: skip


@pytest.mark.parametrize(
    "cars, state, headline, rows",
    [
        ([{}], None, None, None),
        ([usage(0.01, 0.4, 1.5)], "ok", "$0.40 of $10.00 credit this month",
         {"Today": "4 calls, $0.01", "This month": "35 calls, $0.40",
          "Projected": "$1.50 by the month's end"}),
        ([usage(0.5, 6, 8), usage(0.5, 1, 3)], "warn", "$7.00 of $10.00 credit this month",
         {"Today": "8 calls, $1.00", "This month": "70 calls, $7.00",
          "Projected": "$11.00 by the month's end"}),
        ([usage(0, 0, 0, billed=False)], "ok", "not billed",
         {"Today": "4 calls, $0.00", "This month": "35 calls, $0.00",
          "Projected": "$0.00 by the month's end"}),
    ],
)  # fmt: skip
def test_the_cost_against_the_credit(cars, state, headline, rows):
    card = cost_card(cars)
    if state is None:
        assert card is None
        return
    assert (card["state"], card["headline"], dict(card["rows"])) == (state, headline, rows)


@pytest.mark.parametrize(
    "states, expected",
    [
        ([], ("idle", "Waiting: no uploads and no car yet")),
        (["idle", "idle"], ("idle", "Waiting: no uploads and no car yet")),
        (["ok", "idle"], ("ok", "Working")),
        (["ok", "warn", "bad"], ("bad", "card 2: headline 2")),
        (["warn", "ok"], ("warn", "card 0: headline 0")),
    ],
)
def test_the_verdict_is_the_worst_card(states, expected):
    cards = [{"state": s, "title": f"card {i}", "headline": f"headline {i}"}
             for i, s in enumerate(states)]  # fmt: skip
    assert tuple(verdict(cards).values()) == expected


@pytest.mark.parametrize(
    "upstream, words",
    [("passthrough", "teslalogger.de answers, uploads recorded here (smt_upstream=passthrough)"),
     ("other", "smt_upstream=other")],
)  # fmt: skip
def test_the_upstream_mode_without_a_mirror(upstream, words):
    assert mirror_card(None, None, NOW, upstream)["headline"] == words


def test_the_summary_without_cars_says_why():
    page = summary([], {}, [], NOW, not_ready="the car list is being loaded")
    capture, cars = page["sections"]
    assert [c["id"] for c in capture["cards"]] == ["mirror"]
    assert cars["cards"][0]["headline"] == "the car list is being loaded"
    assert page["verdict"]["state"] == "idle"
