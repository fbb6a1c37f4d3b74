"""What the mirror writes about a parcel once upstream answered: plain functions
of the sqlite3 connection, run by the writer process (writer_process.py) in a
transaction of their own, as often as uploads arrive."""

import sqlite3


def delivered(conn: sqlite3.Connection, parcel_id: int, now_ms: int) -> None:
    conn.execute("DELETE FROM outbox WHERE id = ?", (parcel_id,))
    conn.execute("UPDATE upstream_status SET last_delivered_ms = ? WHERE id = 1", (now_ms,))


def rejected(conn: sqlite3.Connection, parcel_id: int, reason: str) -> None:
    conn.execute("UPDATE outbox SET rejected = ? WHERE id = ?", (reason, parcel_id))


def failed(conn: sqlite3.Connection, reason: str, now_ms: int) -> None:
    conn.execute(
        "UPDATE upstream_status SET last_error = ?, last_error_ms = ? WHERE id = 1",
        (reason, now_ms),
    )
