"""Schema migrations, versioned with sqlite's `user_version`.

Each entry of MIGRATIONS moves the schema one version up and runs in a single
transaction together with the version bump, so a crash mid-migration leaves
the previous version intact. Never edit a released entry: append a new one.
"""

import aiosqlite

MIGRATIONS: list[str] = [
    # 1: ScanMyTesla tokens, the sample history, and the newest value of every id.
    """
    CREATE TABLE token (
        id                INTEGER PRIMARY KEY,
        token             TEXT NOT NULL UNIQUE,
        first_seen_ms     INTEGER NOT NULL,
        last_seen_ms      INTEGER NOT NULL,
        last_sample_id    INTEGER,          -- newest sample that carried values
        last_device_time  TEXT,             -- its `d`, exactly as the app sent it
        handed_out_upto   INTEGER NOT NULL DEFAULT 0,  -- newest sample id TeslaLogger was given
        handed_out_second INTEGER           -- epoch second of the last hand-out's stamp
    );
    -- Every accepted upload. Ids only ever grow (AUTOINCREMENT: never reused after
    -- the history is trimmed), which the hand-out marks and retention rely on.
    CREATE TABLE sample (
        id                INTEGER PRIMARY KEY AUTOINCREMENT,
        token_id          INTEGER NOT NULL REFERENCES token(id),
        received_ms       INTEGER NOT NULL,
        device_us         INTEGER NOT NULL, -- device time, UTC epoch microseconds
        device_offset_min INTEGER,          -- its UTC offset; NULL when the app sent none
        version           TEXT NOT NULL,
        vals              BLOB NOT NULL     -- storage.codec
    );
    -- Newest value of every id per token, merged from the deltas the app sends.
    -- Rows newer than token.handed_out_upto are what TeslaLogger has not been given yet.
    CREATE TABLE latest (
        token_id  INTEGER NOT NULL REFERENCES token(id),
        value_id  INTEGER NOT NULL,
        value     REAL NOT NULL,
        sample_id INTEGER NOT NULL,
        PRIMARY KEY (token_id, value_id)
    ) WITHOUT ROWID;
    CREATE INDEX latest_by_sample ON latest(token_id, sample_id);
    """,
    # 2: uploads waiting to be mirrored to the real teslalogger.de, exactly as received.
    """
    CREATE TABLE outbox (
        id         INTEGER PRIMARY KEY,   -- delivery order
        sample_id  INTEGER,               -- the local copy in `sample`
        created_ms INTEGER NOT NULL,
        path       TEXT NOT NULL,
        headers    TEXT NOT NULL,         -- JSON [[name, value], ...] as the phone sent them
        body       BLOB NOT NULL,         -- byte for byte as the phone sent it
        rejected   TEXT                   -- upstream's final "no"; kept for inspection only
    );
    CREATE INDEX outbox_waiting ON outbox(id) WHERE rejected IS NULL;
    CREATE TABLE upstream_status (
        id                INTEGER PRIMARY KEY CHECK (id = 1),
        last_delivered_ms INTEGER,
        last_error        TEXT,
        last_error_ms     INTEGER
    );
    INSERT INTO upstream_status (id) VALUES (1);
    """,
    # 3: the wallbox API's intent per car: what the caller last asked for, so a
    # target SoC below 50 % (held by the controller, not the car) survives a restart.
    """
    CREATE TABLE charge_intent (
        vin        TEXT PRIMARY KEY,
        charging   INTEGER,                 -- 1 on, 0 off, NULL never asked
        amps       INTEGER,
        target_soc INTEGER,                 -- 1-100; under 50 the controller stops charging
        open_goals TEXT NOT NULL DEFAULT '', -- goals not yet met, comma-separated
        updated_ms INTEGER NOT NULL
    ) WITHOUT ROWID;
    """,
    # 4: the seconds TeslaLogger filed each token's hand-outs under, so that a phone
    # clock that goes back files at its own time where that is free (handout.py).
    # Complete from token.handout_log_from up (NULL: complete); older databases
    # know only the newest second, so their log starts after it.
    """
    CREATE TABLE handout_second (
        token_id INTEGER NOT NULL REFERENCES token(id),
        second   INTEGER NOT NULL,
        PRIMARY KEY (token_id, second)
    ) WITHOUT ROWID;
    ALTER TABLE token ADD COLUMN handout_log_from INTEGER;
    UPDATE token SET handout_log_from = handed_out_second + 1 WHERE handed_out_second IS NOT NULL;
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)


class SchemaError(Exception):
    pass


async def migrate(conn: aiosqlite.Connection) -> int:
    """Bring the database to SCHEMA_VERSION; return the version it had before."""
    async with conn.execute("PRAGMA user_version") as cursor:
        (found,) = await cursor.fetchone()  # type: ignore[misc]
    if found > SCHEMA_VERSION:
        raise SchemaError(
            f"the database has schema version {found}, newer than this program knows "
            f"({SCHEMA_VERSION}): update teslahome or use another data directory"
        )
    for version in range(found + 1, SCHEMA_VERSION + 1):
        await conn.executescript(
            f"BEGIN IMMEDIATE; {MIGRATIONS[version - 1]}; PRAGMA user_version={version}; COMMIT;"
        )
    return found
