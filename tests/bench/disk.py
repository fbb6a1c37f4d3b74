"""Bytes on disk per stored value, and growth per day of 1 Hz uploads.

    .venv/bin/python tests/bench/disk.py [--seconds 3600] [--values 300]

Stores --seconds uploads of --values values each through the real store (one
upload per simulated second, every value changing: the worst case, since the
app sends only what changed), then measures the database file.
"""

import argparse
import asyncio
import random
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
# tests/ for `support`, the checkout for the code: tests/wallbox etc. would
# otherwise shadow the packages they mirror.
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent.parent))

from storage.database import Database  # noqa: E402
from storage.records import Sample  # noqa: E402
from storage.samples import SampleStore  # noqa: E402


def file_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


async def store_uploads(path: Path, seconds: int, values: int) -> int:
    db = Database(path)
    await db.open()
    store = SampleStore(db)
    rng = random.Random(7)
    ids = list(range(1, values + 1))
    for start in range(0, seconds, 200):
        batch = []
        for s in range(start, min(start + 200, seconds)):
            minute, second = divmod(s, 60)
            hour, minute = divmod(minute, 60)
            d = f"2025-02-09T{hour % 24:02d}:{minute:02d}:{second:02d}.250000+01:00"
            batch.append(Sample("disk", d, {i: rng.uniform(-400, 400) for i in ids}, "1"))
        await asyncio.gather(*(store.add(sample) for sample in batch))
    await db.close()
    return seconds * values


def measure(seconds: int, values: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "teslahome.sqlite3"
        asyncio.run(store_uploads(path, 1, values))
        empty = file_bytes(path)
        stored = asyncio.run(store_uploads(path, seconds, values))
        import sqlite3

        conn = sqlite3.connect(path)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        grown = file_bytes(path) - empty
    per_value = grown / stored
    return {
        "values": stored,
        "bytes": grown,
        "per_value": per_value,
        "per_day_mb": per_value * values * 86400 / 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=3600)
    parser.add_argument("--values", type=int, default=300)
    args = parser.parse_args()
    r = measure(args.seconds, args.values)
    print(
        f"{r['values']:,} values in {r['bytes'] / 1e6:.1f} MB: "
        f"{r['per_value']:.2f} bytes per value; 1 Hz uploads of {args.values} values "
        f"grow the database by {r['per_day_mb']:.0f} MB per day"
    )


if __name__ == "__main__":
    main()
