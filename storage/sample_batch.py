"""One transaction's worth of uploads: the statements and their rows.

A plain function of the sqlite3 connection, run by the writer process
(writer_process.py): however many uploads queued up, their samples, the newest
values and the mirror's outbox rows are each one multi-row statement. Not
`executemany`, which steps through its rows one call at a time: merging 20
uploads of 7 values took 160-200 us that way and 92-95 us as one statement
(in a thread beside a busy event loop, where this ran before, 90-140 ms
against 18 ms for 49 values). Uploads cross to that process as plain tuples
(`to_wire`), which `marshal` packs.
"""

import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from storage.codec import encode_values
from storage.records import Sample, epoch_us, parse_device_time

INSERT_SAMPLE = (
    "INSERT INTO sample (id, token_id, received_ms, device_us, device_offset_min, version, vals)"
    " VALUES {rows}",
    "(?, ?, ?, ?, ?, ?, ?)",
)
# Rows in sample order: a value id that comes twice in a batch ends with the newest.
MERGE_LATEST = (
    "INSERT INTO latest (token_id, value_id, value, sample_id) VALUES {rows}"
    " ON CONFLICT (token_id, value_id)"
    " DO UPDATE SET value = excluded.value, sample_id = excluded.sample_id",
    "(?, ?, ?, ?)",
)
# The mirror's outbox (outbox.py): an upload enters it in the transaction that stores it.
ENQUEUE = (
    "INSERT INTO outbox (sample_id, created_ms, path, headers, body) VALUES {rows}",
    "(?, ?, ?, ?, ?)",
)
ROWS_PER_STATEMENT = 1000  # at most 7000 parameters, far below sqlite's 32766
UPDATE_TOKEN = (
    "UPDATE token SET last_seen_ms = max(last_seen_ms, ?),"
    " last_sample_id = coalesce(?, last_sample_id),"
    " last_device_time = coalesce(?, last_device_time) WHERE id = ?"
)


@dataclass(frozen=True, slots=True)
class Forward:
    """The upload as the phone sent it, for the mirror's outbox (storage/outbox.py)."""

    path: str
    headers: Sequence[tuple[str, str]]
    body: bytes


@dataclass(frozen=True, slots=True)
class Upload:
    """What one upload stores: the sample, when it arrived, and the outbox parcel."""

    sample: Sample
    received_ms: int
    forward: Forward | None


type WireUpload = tuple[object, ...]


def to_wire(upload: Upload) -> WireUpload:
    """`upload` as plain values, for marshal."""
    s, f = upload.sample, upload.forward
    values = s.values if type(s.values) is dict else dict(s.values)
    forward = None if f is None else (f.path, [tuple(h) for h in f.headers], f.body)
    return (s.token, s.device_time, values, s.version, s.skipped, upload.received_ms, forward)


def from_wire(wire: WireUpload) -> Upload:
    token, device_time, values, version, skipped, received_ms, forward = wire
    return Upload(
        Sample(token, device_time, values, version, tuple(skipped)),  # type: ignore[arg-type]
        received_ms,  # type: ignore[arg-type]
        None if forward is None else Forward(*forward),  # type: ignore[misc]
    )


def sample_row(upload: Upload) -> tuple[int, int, int | None, str, bytes]:
    """The `sample` row's received_ms, device_us, device_offset_min, version and vals.
    Built here, in the writer process, not on the proxy's busy core."""
    moment = parse_device_time(upload.sample.device_time)
    offset = moment.utcoffset()
    return (
        upload.received_ms,
        epoch_us(moment),
        None if offset is None else int(offset.total_seconds() // 60),
        upload.sample.version,
        encode_values(upload.sample.values),
    )


def insert(
    batch: Sequence[Upload],
    known_tokens: Mapping[str, int],
    next_id: int | None,
    conn: sqlite3.Connection,
) -> tuple[list[int], dict[str, int]]:
    """Insert `batch`; return its sample ids and the ids of its tokens. Changes
    nothing but the database, so the writer may run it again after a failure."""
    token_ids = _token_ids(conn, batch, known_tokens)
    if next_id is None:
        (next_id,) = conn.execute(
            "SELECT coalesce(max(seq), 0) + 1 FROM sqlite_sequence WHERE name = 'sample'"
        ).fetchone()
    ids = list(range(next_id, next_id + len(batch)))
    pairs = list(zip(ids, batch, strict=True))
    insert_rows(
        conn, INSERT_SAMPLE, [(sid, token_ids[u.sample.token], *sample_row(u)) for sid, u in pairs]
    )
    insert_rows(
        conn,
        MERGE_LATEST,
        [
            (token_ids[u.sample.token], value_id, value, sid)
            for sid, u in pairs
            for value_id, value in u.sample.values.items()
        ],
    )
    conn.executemany(UPDATE_TOKEN, _token_updates(pairs, token_ids))  # one row per token
    insert_rows(
        conn,
        ENQUEUE,
        [
            parcel_row(sid, u.received_ms, u.forward.path, u.forward.headers, u.forward.body)
            for sid, u in pairs
            if u.forward is not None
        ],
    )
    return ids, token_ids


def parcel_row(
    sample_id: int | None,
    created_ms: int,
    path: str,
    headers: Sequence[tuple[str, str]],
    body: bytes,
) -> tuple[int | None, int, str, str, bytes]:
    """ENQUEUE's parameters: the upload exactly as the phone sent it."""
    return sample_id, created_ms, path, json.dumps([list(h) for h in headers]), body


def insert_rows(conn: sqlite3.Connection, statement: tuple[str, str], rows: list[tuple]) -> None:
    """`rows` with as few statements as sqlite allows (see the module docstring)."""
    sql, row = statement
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        chunk = rows[start : start + ROWS_PER_STATEMENT]
        conn.execute(sql.format(rows=", ".join([row] * len(chunk))), [v for r in chunk for v in r])


def _token_ids(
    conn: sqlite3.Connection, batch: Sequence[Upload], known: Mapping[str, int]
) -> dict[str, int]:
    """Ids of the batch's tokens, creating rows for new ones (two statements, and only then)."""
    tokens = {u.sample.token for u in batch}
    ids = {t: known[t] for t in tokens if t in known}
    new = sorted(tokens - ids.keys())
    if new:
        first_seen = {u.sample.token: u.received_ms for u in reversed(batch)}
        conn.executemany(
            "INSERT OR IGNORE INTO token (token, first_seen_ms, last_seen_ms) VALUES (?, ?, ?)",
            [(t, first_seen[t], first_seen[t]) for t in new],
        )
        marks = ",".join("?" * len(new))
        ids.update(conn.execute(f"SELECT token, id FROM token WHERE token IN ({marks})", new))
    return ids


def _token_updates(
    pairs: list[tuple[int, Upload]], token_ids: Mapping[str, int]
) -> list[tuple[int, int | None, str | None, int]]:
    """Per token: the newest arrival, and the newest upload that carried values."""
    seen: dict[str, int] = {}
    valued: dict[str, tuple[int, str]] = {}
    for sid, upload in pairs:
        token = upload.sample.token
        seen[token] = max(seen.get(token, 0), upload.received_ms)
        if upload.sample.values:
            valued[token] = (sid, upload.sample.device_time)
    return [
        (received, *valued.get(token, (None, None)), token_ids[token])
        for token, received in seen.items()
    ]
