"""One transaction of plain operations on a sqlite3 connection: all of them, or
none. Shared by the database's writer thread (database.py) and the writer
process (writer_process.py); nothing here needs aiosqlite or an event loop."""

import logging
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

logger = logging.getLogger("storage.database")


def transaction(
    ops: Sequence[Callable[[sqlite3.Connection], Any]], conn: sqlite3.Connection
) -> list[Any]:
    """Run `ops` between BEGIN IMMEDIATE and COMMIT; their results. Rolled back
    and re-raised if one fails."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        results = [op(conn) for op in ops]
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error as e:  # the error that got us here is the one to report
                logger.debug("rollback failed: %s", e)
        raise
    return results
