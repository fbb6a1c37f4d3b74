"""Handing out to TeslaLogger: the transaction that builds one hand-out and
marks it as given, so a value is never given twice nor skipped.

What goes into it is decided by handout_rule.py; this reads what it needs
(the waiting values, the seconds earlier hand-outs took) and records the
result: the mark in `token`, the second in `handout_second`.
"""

import math
import sqlite3

from storage.handout_rule import Plan, fold_start, plan_handout
from storage.records import FiledSeconds, device_second

# How far back from the newest hand-out the seconds it took are remembered: a
# phone clock that goes back further than this is filed after the newest one.
HANDOUT_LOG_S = 2 * 86_400


def take_handout(token: str, conn: sqlite3.Connection) -> Plan | None:
    """Build the hand-out of everything waiting for `token` and mark it as
    given; None when nothing is waiting. Runs in the writer's thread, in its transaction."""
    row = conn.execute(
        "SELECT id, last_sample_id, last_device_time, handed_out_upto, handed_out_second,"
        " handout_log_from FROM token WHERE token = ?",
        (token,),
    ).fetchone()
    if row is None:
        return None
    token_id, newest, device_time, upto, last_second, log_from = row
    if newest is None or newest <= upto:
        return None
    waiting = dict(
        conn.execute(
            "SELECT value_id, value FROM latest WHERE token_id = ? AND sample_id > ?",
            (token_id, upto),
        )
    )
    known_from = -math.inf if log_from is None else log_from
    own = device_second(device_time)
    low = own  # the clock went back (own <= last_second): the seconds since own
    if (fold := fold_start(own)) is not None:  # the wall clock went back: the hour before too
        low = max(fold, known_from)
    used: frozenset[int] = frozenset()
    if last_second is not None and known_from <= low <= last_second:
        used = frozenset(
            second
            for (second,) in conn.execute(
                "SELECT second FROM handout_second WHERE token_id = ? AND second BETWEEN ? AND ?",
                (token_id, low, last_second),
            )
        )
    plan = plan_handout(newest, device_time, waiting, FiledSeconds(last_second, used, known_from))
    if plan.second is None:  # nothing TeslaLogger can store: given all the same
        conn.execute("UPDATE token SET handed_out_upto = ? WHERE id = ?", (newest, token_id))
        return plan
    last = plan.second if last_second is None else max(last_second, plan.second)
    log_floor = last - HANDOUT_LOG_S
    conn.execute(
        "INSERT INTO handout_second (token_id, second) VALUES (?, ?)", (token_id, plan.second)
    )
    conn.execute(
        "DELETE FROM handout_second WHERE token_id = ? AND second < ?", (token_id, log_floor)
    )
    conn.execute(
        "UPDATE token SET handed_out_upto = ?, handed_out_second = ?,"
        " handout_log_from = max(coalesce(handout_log_from, ?), ?) WHERE id = ?",
        (newest, last, log_floor, log_floor, token_id),
    )
    return plan
