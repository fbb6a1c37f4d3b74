"""`make status`: what the store holds and how the mirror to teslalogger.de is doing.

Reads the database read-only, so it works while the proxy runs (WAL).

    python -m storage.status [--data-dir data] [--json]
"""

import argparse
import asyncio
import json
import sqlite3
import sys
import time
from dataclasses import asdict
from pathlib import Path

from storage.database import DB_NAME, Database, StorageError
from storage.outbox import Outbox


async def collect(path: Path) -> dict:
    db = Database(path, read_only=True)
    await db.open()
    try:

        async def tokens(conn) -> list[dict]:
            async with conn.execute(
                "SELECT token, last_seen_ms, last_sample_id, handed_out_upto,"
                " (SELECT count(*) FROM sample WHERE sample.token_id = token.id)"
                " FROM token ORDER BY id"
            ) as cursor:
                return [
                    {
                        "token": token,
                        "samples": count,
                        "last_upload_ms": last_seen,
                        "teslalogger_waiting": bool(last and last > upto),
                    }
                    async for token, last_seen, last, upto, count in cursor
                ]

        return {
            "database": str(path),
            "tokens": await db.read(tokens),
            "mirror": asdict(await Outbox(db).status()),
        }
    finally:
        await db.close()


def _age(ms: int | None) -> str:
    if ms is None:
        return "never"
    seconds = max(0, int(time.time() - ms / 1000))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{seconds} s ago"


def render(status: dict) -> str:
    lines = [f"database: {status['database']}"]
    for t in status["tokens"] or []:
        waiting = ", TeslaLogger has values to fetch" if t["teslalogger_waiting"] else ""
        lines.append(
            f"token {t['token']}: {t['samples']} samples, last upload "
            f"{_age(t['last_upload_ms'])}{waiting}"
        )
    if not status["tokens"]:
        lines.append("no uploads yet")
    m = status["mirror"]
    oldest = f" (oldest from {_age(m['oldest_waiting_ms'])})" if m["waiting"] else ""
    lines.append(
        f"mirror: {m['waiting']} waiting{oldest}, {m['rejected']} rejected, "
        f"last delivery {_age(m['last_delivered_ms'])}"
    )
    if m["last_error"]:
        lines.append(f"mirror: last error {_age(m['last_error_ms'])}: {m['last_error']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m storage.status", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--data-dir", type=Path, default=Path("data"))
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args(argv)
    path = args.data_dir / DB_NAME
    if not path.exists():
        print(f"no database at {path}: has the proxy run with this data_dir?", file=sys.stderr)
        return 1
    try:
        status = asyncio.run(collect(path))
    except (StorageError, sqlite3.Error) as e:
        print(f"cannot read {path}: {e}", file=sys.stderr)
        return 1
    print(json.dumps(status, indent=2) if args.json else render(status))
    return 0


if __name__ == "__main__":
    sys.exit(main())
