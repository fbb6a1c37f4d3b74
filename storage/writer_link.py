"""The proxy's end of the writer process (writer_process.py): one request at a time.

The process starts with the first request and again after it ended for any
reason; a request it did not answer fails with StorageError (nothing of it is
acknowledged, so nothing acknowledged is lost). Its stdin and stdout are pipes
the event loop reads and writes without blocking; its stderr is the proxy's.
"""

import asyncio
import logging
import marshal
import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from storage.errors import StorageError
from storage.sample_batch import Upload, to_wire
from storage.writer_process import FRAME_HEAD, code_version, frame, frame_length

logger = logging.getLogger(__name__)

CLOSE_WAIT_S = 30.0  # a commit stuck on a stalled disk longer than this is left behind
ROOT = Path(__file__).resolve().parent.parent  # where `storage` is importable from
VERSION = code_version()  # of the code this process loaded, not what is on disk later


class WriterProcess:
    def __init__(self, path: Path, turn: asyncio.Lock | None = None) -> None:
        """`turn`: held while a request commits, shared with the database's own writer."""
        self.path = path.resolve()
        self.commits = 0  # requests committed, for statistics and tests
        self._process: subprocess.Popen[bytes] | None = None
        self._requests: asyncio.WriteTransport | None = None
        self._answers: asyncio.StreamReader | None = None
        self._reading: asyncio.ReadTransport | None = None  # of `_answers`
        self._turn = turn or asyncio.Lock()
        self._closed = False
        self._ending: list[subprocess.Popen[bytes]] = []  # told to end, exit not yet collected

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    async def store(
        self, batch: Sequence[Upload], known_tokens: Mapping[str, int], next_id: int | None
    ) -> tuple[list[int], dict[str, int]]:
        """Commit a batch of uploads; their sample ids and token ids, once on disk."""
        tokens = {u.sample.token for u in batch}  # not every token a community instance knows
        known = {t: known_tokens[t] for t in tokens if t in known_tokens}
        ids, token_ids = await self.run("store", next_id, known, [to_wire(u) for u in batch])
        return ids, token_ids

    async def run(self, operation: str, *args: object) -> Any:
        """Commit `operation(conn, *args)` (writer_process.OPERATIONS); its result,
        once on disk. Raises StorageError with nothing of it stored."""
        request = marshal.dumps((operation, args))
        async with self._turn:
            if self._closed:
                raise StorageError("the database was closed")
            self._ended()
            if self._process is not None and self._process.poll() is not None:
                self._end()  # it died between requests: this one need not fail with it
            if self._process is None:
                await self._start()
            requests, answers = self._requests, self._answers  # stop() may drop them meanwhile
            assert requests is not None and answers is not None
            try:
                requests.write(frame(request))
                head = await answers.readexactly(FRAME_HEAD)
                answer = await answers.readexactly(frame_length(head))
            except (asyncio.IncompleteReadError, ConnectionError) as e:
                process = self._process
                self._end()
                raise StorageError(f"the writer process ended ({await _exit(process)})") from e
            except BaseException:
                # Cancelled mid-exchange: its answer would be read as the next
                # request's. This process commits it and exits; a new one follows.
                self._end()
                raise
        ok, result = marshal.loads(answer)
        if not ok:
            raise StorageError(result)
        self.commits += 1
        return result

    async def _start(self) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        command = [sys.executable, "-m", "storage.writer_process", str(self.path), VERSION]
        try:  # not asyncio's subprocess: closing it kills the process, mid-commit or not
            process = subprocess.Popen(  # noqa: ASYNC220 - once per process: a vfork, no wait
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
            )
        except OSError as e:
            raise StorageError(f"cannot start the writer process: {e}") from e
        assert process.stdin is not None and process.stdout is not None
        loop = asyncio.get_running_loop()
        answers = asyncio.StreamReader()
        try:
            reading, _ = await loop.connect_read_pipe(
                lambda: asyncio.StreamReaderProtocol(answers), process.stdout
            )
            requests, _ = await loop.connect_write_pipe(asyncio.Protocol, process.stdin)
        except BaseException:
            process.kill()
            raise
        self._process, self._requests, self._answers = process, requests, answers
        self._reading = reading
        if self._closed:  # stop() came while the pipes were being connected
            self._end()
            raise StorageError("the database was closed")

    def _end(self) -> None:
        """Close the pipes: the process commits what it read, then exits."""
        process, self._process = self._process, None
        transports = (self._requests, self._reading)
        self._requests, self._answers, self._reading = None, None, None
        for transport in transports:
            try:
                if transport is not None:
                    transport.close()
            except RuntimeError:  # the loop is closed already, and its transports with it
                pass
        if process is None:
            return
        # A transport closes its pipe only on a later turn of the loop, which at
        # exit never comes: closed here, the process sees the end of its input now.
        for pipe in (process.stdin, process.stdout):
            if pipe is not None:
                pipe.close()
        self._ending.append(process)

    def _ended(self) -> None:
        """Collect the exit of processes that were told to end (no zombies)."""
        self._ending = [p for p in self._ending if p.poll() is None]

    def stop(self, *, wait: float = 0.0) -> None:
        """Let the process finish its request and exit; block up to `wait` seconds for that."""
        self._closed = True
        self._end()
        deadline = time.monotonic() + wait
        for process in self._ending:
            try:
                process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                logger.warning("the writer process did not exit within %g s", wait)
        self._ended()

    async def close(self) -> None:
        """Like stop, waiting for the process to exit without blocking the loop."""
        self._closed = True
        self._end()
        for process in self._ending:
            try:
                await asyncio.to_thread(process.wait, CLOSE_WAIT_S)
            except subprocess.TimeoutExpired:
                logger.warning("the writer process did not exit within %g s", CLOSE_WAIT_S)
        self._ended()


async def _exit(process: subprocess.Popen[bytes] | None) -> str:
    """How `process` ended, once it has (it closed its output as it exited)."""
    for _ in range(100):
        if process is None or process.poll() is not None:
            break
        await asyncio.sleep(0.01)
    code = None if process is None else process.returncode
    return "still running" if code is None else f"exit code {code}"
