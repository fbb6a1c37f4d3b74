"""Export the ScanMyTesla history, or print the current state, from the database.

    python -m storage.export [--token T] [--from 2025-02-01] [--to 2025-02-02] [--format csv]
    python -m storage.export --state [--token T]
    python -m storage.export --catalogue

Runs as its own process beside the proxy: it opens the database read-only
(WAL lets it read while the proxy writes) and never changes it.

History (one row per upload, in arrival order, selected by the time it was
received; --to is exclusive):

- csv: `sample_id, token, device_time, received, version`, then one column
  per value id, headed `<key> [<unit>]` (e.g. `battery_power [kW]`, unknown
  ids `id_999`), in catalogue order. The columns are every id the selected
  tokens ever sent (read from the current state, not from a scan), so some
  may stay empty in a short range. The app sends only what changed, so rows
  are sparse; --fill carries each value forward instead (the car's state at
  every upload).
- jsonl: one object per upload, the same fields, values under "values" keyed
  by catalogue key.

Values are the exact doubles the app sent. A progress bar goes to stderr for
long exports when stderr is a terminal (--progress/--no-progress to force).
"""

import argparse
import asyncio
import csv
import json
import sys
import time
from pathlib import Path
from typing import TextIO

from storage.catalogue import catalogue
from storage.database import DB_NAME, Database, StorageError
from storage.export_format import (
    csv_header,
    csv_row,
    epoch_ms,
    json_line,
    parse_ids,
    parse_moment,
    state_record,
    state_text,
)
from storage.samples import SampleStore

PROGRESS_FROM = 20_000  # samples: shorter exports finish before a bar helps


class Progress:
    """`exporting  42% |########            | 42000/100000` on one terminal line."""

    WIDTH = 30

    def __init__(self, total: int, stream: TextIO, enabled: bool) -> None:
        self.total, self.stream, self.enabled = total, stream, enabled and total > 0
        self.done = 0
        self._shown = 0.0

    def step(self) -> None:
        self.done += 1
        if self.enabled and (time.monotonic() - self._shown > 0.1 or self.done == self.total):
            self._shown = time.monotonic()
            self.stream.write("\r" + self.line())
            self.stream.flush()

    def line(self) -> str:
        share = min(self.done / self.total, 1.0) if self.total else 1.0
        filled = round(share * self.WIDTH)
        bar = "#" * filled + " " * (self.WIDTH - filled)
        return f"exporting {share:4.0%} |{bar}| {self.done}/{self.total}"

    def finish(self) -> None:
        if self.enabled:
            self.stream.write("\r" + self.line() + "\n")
            self.stream.flush()


async def export_history(store: SampleStore, args: argparse.Namespace, out: TextIO) -> int:
    names = catalogue()
    since, until = epoch_ms(args.since), epoch_ms(args.until)
    tokens = [args.token] if args.token else await store.tokens()
    if args.ids:
        ids = args.ids
    else:
        seen: set[int] = set()
        for token in tokens:
            seen.update(await store.latest(token))
        ids = sorted(seen, key=names.order)
    wanted = set(ids)
    total = await store.count(token=args.token, since_ms=since, until_ms=until)
    show = args.progress if args.progress is not None else sys.stderr.isatty()
    progress = Progress(total, sys.stderr, show and (total >= PROGRESS_FROM or args.progress))
    writer = csv.writer(out, lineterminator="\n") if args.format == "csv" else None
    if writer:
        writer.writerow(csv_header(ids, names))
    state: dict[str, dict[int, float]] = {}
    written = 0
    async for sample in store.history(token=args.token, since_ms=since, until_ms=until):
        progress.step()
        values = {i: v for i, v in sample.values.items() if i in wanted}
        if args.fill:
            values = state.setdefault(sample.token, {}) | values
            state[sample.token] = values
        elif args.ids and not values:
            continue  # asked for some ids, and this upload carried none of them
        if writer:
            writer.writerow(csv_row(sample, values, ids))
        else:
            out.write(json_line(sample, values, names) + "\n")
        written += 1
    progress.finish()
    return written


async def print_state(store: SampleStore, args: argparse.Namespace, out: TextIO) -> int:
    names = catalogue()
    tokens = [args.token] if args.token else await store.tokens()
    for n, token in enumerate(tokens):
        current = await store.latest(token)
        if args.format == "jsonl":
            for value_id in sorted(current, key=names.order):
                record = state_record(token, value_id, current[value_id], names)
                out.write(json.dumps(record, ensure_ascii=False))
                out.write("\n")
            continue
        out.write(("\n" if n else "") + state_text(token, current, names))
    return len(tokens)


def print_catalogue(out: TextIO) -> None:
    names = catalogue()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "key", "name", "unit", "group", "teslalogger", "description"])
    for info in names.values():
        row = (info.id, info.key, info.name, info.unit, info.group, info.teslalogger)
        writer.writerow([*row, info.description])


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m storage.export",
        description="Export the ScanMyTesla history or print the current state.",
    )
    p.add_argument("--data-dir", type=Path, default=Path("data"), help="the proxy's data_dir")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--state", action="store_true", help="the newest value of every id")
    what.add_argument("--catalogue", action="store_true", help="list the known value ids")
    p.add_argument("--token", help="one token (default: all)")
    p.add_argument("--from", dest="since", type=parse_moment, help="received at or after")
    p.add_argument("--to", dest="until", type=parse_moment, help="received before")
    p.add_argument(
        "--format",
        choices=["csv", "jsonl", "text"],
        help="history: csv (default) or jsonl; --state: text (default) or jsonl",
    )
    p.add_argument("--ids", type=parse_ids, help="only these value ids, e.g. 43,442")
    p.add_argument("--fill", action="store_true", help="carry values forward between uploads")
    p.add_argument("-o", "--output", default="-", help="file to write (default: stdout)")
    bar = p.add_mutually_exclusive_group()
    bar.add_argument("--progress", action="store_true", default=None, help="always show it")
    bar.add_argument("--no-progress", dest="progress", action="store_false", help="never")
    return p


def open_output(name: str) -> TextIO:
    return sys.stdout if name == "-" else open(name, "w", newline="", encoding="utf-8")


async def run(args: argparse.Namespace) -> None:
    database = Database(args.data_dir / DB_NAME, read_only=True)
    await database.open()  # first: a missing database leaves no empty output file
    out = open_output(args.output)
    try:
        store = SampleStore(database)
        if args.state:
            await print_state(store, args, out)
        else:
            await export_history(store, args, out)
    finally:
        if out is not sys.stdout:
            out.close()
        await database.close()


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    if args.state:
        args.format = args.format or "text"
        if args.format == "csv":
            p.error("--state prints text or jsonl")
    else:
        args.format = args.format or "csv"
        if args.format == "text":
            p.error("the history exports as csv or jsonl")
    if args.since and args.until and args.until <= args.since:
        p.error("--to must be later than --from")
    try:
        if args.catalogue:
            print_catalogue(sys.stdout)
        else:
            asyncio.run(run(args))
    except StorageError as e:
        print(
            f"export: {e}\n(start the proxy once, or point --data-dir at its data_dir)",
            file=sys.stderr,
        )
        return 2
    except BrokenPipeError:  # `... | head`: the reader has seen enough
        sys.stdout = None  # type: ignore[assignment]  # nothing left to flush at exit
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
