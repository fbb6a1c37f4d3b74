"""The writer process: commits uploads, so the proxy's core never waits on them.

    python -m storage.writer_process <database> <code version>

Started by the proxy (writer_link.py), one per database. It reads requests
from stdin and answers each on stdout, one at a time, as frames: a 4-byte
little-endian length, then `marshal` data (both ends are the same Python).

- request: `(operation, args)`, each committed in a transaction of its own:
  `store` with `(next_id, known_tokens, uploads)`, a batch of uploads as
  sample_batch.to_wire gives them (`next_id` None: read it from the database);
  `delivered`, `rejected` and `failed`, the mirror's marks (outbox_marks.py);
- answer: `(True, result)` once the transaction is on disk (synchronous=FULL:
  fsync'd), `store`'s result being `(sample_ids, token_ids)`; or
  `(False, reason)` when nothing of it was stored.

The proxy passes the version of the code it loaded (`code_version`); a process
started from other code (the checkout was updated under a running proxy)
refuses every request with a reason that says to restart the proxy.

Why a process and not a thread: the event loop and a writer thread share one
GIL. A writer thread that commits while the loop is busy waits for the GIL at
every statement (up to the 5 ms switch interval each time), so batches had to
wait until the loop had nothing left to do, and every upload paid for that
pause. A process commits on the other core while the proxy goes on; measured
with wrk at 20 and 50 connections on a 2-core VM, 0.82-0.92 of bare
mitmdump's uploads per second became 0.97-0.99 (BENCHMARKS.md).

It stops when stdin closes (the proxy closed it, or died): a request it had
read is committed first. It ignores SIGINT and SIGTERM, which a terminal or a
service manager sends the whole process group, so that a commit under way is
never cut short; the proxy's exit is what ends it.
"""

import hashlib
import logging
import marshal
import os
import signal
import sqlite3
import struct
import sys
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from storage import outbox_marks, sample_batch
from storage.errors import describe
from storage.transaction import transaction

logger = logging.getLogger("storage.writer_process")

_LENGTH = struct.Struct("<I")
# The proxy's own writer takes turns with this process (database.py); another
# program holding the write lock, a backup say, is waited for this long.
BUSY_TIMEOUT_MS = 5000


FRAME_HEAD = _LENGTH.size  # bytes before a frame's data


def frame(data: bytes) -> bytes:
    return _LENGTH.pack(len(data)) + data


def frame_length(head: bytes) -> int:
    """The length of the data that follows a frame's FRAME_HEAD bytes."""
    return _LENGTH.unpack(head)[0]


def read_frame(stream: BinaryIO) -> bytes | None:
    """The next frame's data, or None at the end of the stream."""
    head = _read_exactly(stream, FRAME_HEAD)
    if head is None:
        return None
    data = _read_exactly(stream, frame_length(head))
    if data is None:
        raise EOFError("the stream ended inside a frame")
    return data


def _read_exactly(stream: BinaryIO, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = stream.read(left)
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def connect(path: str) -> sqlite3.Connection:
    # The proxy created the file and set WAL and the page size (database.py).
    conn = sqlite3.connect(path, isolation_level=None, cached_statements=1024)
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    return conn


def store(
    conn: sqlite3.Connection, next_id: int | None, known_tokens: dict[str, int], uploads: list
) -> tuple[list[int], dict[str, int]]:
    batch = [sample_batch.from_wire(u) for u in uploads]
    return sample_batch.insert(batch, known_tokens, next_id, conn)


OPERATIONS: dict[str, Callable[..., object]] = {
    "store": store,
    "delivered": outbox_marks.delivered,
    "rejected": outbox_marks.rejected,
    "failed": outbox_marks.failed,
}
_HERE = Path(__file__).resolve().parent
_SOURCES = ("writer_process.py", "writer_link.py", "sample_batch.py", "outbox_marks.py")
_SOURCES += ("transaction.py", "records.py", "codec.py")


def code_version(sources: Path = _HERE) -> str:
    """A digest of the code on both ends of the pipe, as it is in `sources` now."""
    digest = hashlib.sha256()
    for name in _SOURCES:
        digest.update((sources / name).read_bytes())
    return digest.hexdigest()[:16]


def commit(conn: sqlite3.Connection, request: bytes) -> object:
    """One request in one transaction; raises with nothing of it stored."""
    name, args = marshal.loads(request)
    operation = OPERATIONS[name]
    (result,) = transaction([lambda conn: operation(conn, *args)], conn)
    return result


def serve(path: str, requests: BinaryIO, answers: BinaryIO, *, outdated: bool = False) -> None:
    """Answer `requests` until they end; `outdated`: refuse them all (see code_version)."""
    conn: sqlite3.Connection | None = None
    try:
        while (request := read_frame(requests)) is not None:
            answer: tuple[bool, object] = (False, OUTDATED)
            if not outdated:
                try:
                    if conn is None:
                        conn = connect(path)
                    answer = (True, commit(conn, request))
                except Exception as e:
                    if not isinstance(e, sqlite3.Error):
                        logger.exception("the writer process could not commit a request")
                    answer = (False, describe(e))
                    # A connection that failed may stay broken (sqlite keeps a file it
                    # once found read-only read-only): the next request gets a new one.
                    if conn is not None:
                        conn.close()
                        conn = None
            answers.write(frame(marshal.dumps(answer)))
            answers.flush()
    finally:
        if conn is not None:
            conn.close()


OUTDATED = (
    "the writer process was started from other code than the proxy runs (was teslahome "
    "updated while it ran?): restart the proxy"
)


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    logging.basicConfig(stream=sys.stderr, format="%(name)s: %(message)s")
    try:
        path, version = sys.argv[1:3]
        outdated = version != code_version()
        if outdated:
            logger.error("%s", OUTDATED)
        serve(path, sys.stdin.buffer, sys.stdout.buffer, outdated=outdated)
    except EOFError:  # the proxy stopped in the middle of sending: nothing to commit
        pass
    except BrokenPipeError:  # the proxy is gone: nobody waits for the answer
        # Python flushes stdout once more at exit, which would report the same.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


if __name__ == "__main__":
    main()
