"""Fill a teslahome database with many samples fast, for benchmarks.

Writes the rows the store itself would write (same schema, same value codec),
in large transactions straight through sqlite3, because a million uploads
through the proxy would take an hour.
"""

import asyncio
import random
import sqlite3
import time
from pathlib import Path

from storage.codec import encode_values
from storage.database import Database


async def create(path: Path) -> None:
    db = Database(path)
    await db.open()  # schema and migrations, as the proxy makes them
    await db.close()


def fill(path: Path, samples: int, *, tokens: int = 1, values_per_sample: int = 30) -> float:
    """Append `samples` samples (ids 400.., values drifting), return seconds taken."""
    asyncio.run(create(path))
    started = time.perf_counter()
    rng = random.Random(1)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("BEGIN")
    now_ms = int(time.time() * 1000) - samples * 1000
    for t in range(tokens):
        conn.execute(
            "INSERT OR IGNORE INTO token (token, first_seen_ms, last_seen_ms) VALUES (?, ?, ?)",
            (f"bench{t}", now_ms, now_ms),
        )
    token_ids = dict(conn.execute("SELECT token, id FROM token").fetchall())
    base_us = 1_739_126_000 * 1_000_000
    batch = []
    for n in range(samples):
        ids = rng.sample(range(1, 460), values_per_sample)
        vals = encode_values({i: rng.uniform(-100, 500) for i in ids})
        batch.append(
            (
                token_ids[f"bench{n % tokens}"],
                now_ms + n * 1000,
                base_us + n * 1_000_000,
                60,
                "1",
                vals,
            )
        )
        if len(batch) == 50_000:
            _insert(conn, batch)
            batch = []
    _insert(conn, batch)
    last = conn.execute("SELECT max(id) FROM sample").fetchone()[0]
    for token_id in token_ids.values():
        conn.executemany(
            "INSERT OR REPLACE INTO latest (token_id, value_id, value, sample_id)"
            " VALUES (?, ?, ?, ?)",
            [(token_id, i, float(i), last) for i in range(1, 460)],
        )
        conn.execute(
            "UPDATE token SET last_sample_id = ?, last_device_time = ?, handed_out_upto = ?"
            " WHERE id = ?",
            (last, "2025-02-09T19:33:19.697553+01:00", last, token_id),
        )
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return time.perf_counter() - started


def _insert(conn: sqlite3.Connection, rows: list[tuple]) -> None:
    conn.executemany(
        "INSERT INTO sample (token_id, received_ms, device_us, device_offset_min, version, vals)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )
