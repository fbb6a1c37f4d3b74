"""Following a relay's server-sent events, one stream per car: connect, read, reconnect.

Each car's stream is `GET <url>/sse/<VIN>` with the bearer token, read again
from its file at every connect (a new token takes effect without a restart;
never logged). Every complete event's data goes to `on_event(vin, data)`, and
each stream's opening and loss to `on_stream(vin, open, why)`, on the loop.
An open stream that ends is reopened at once, and reported closed only if
that fails; a stream that cannot be opened is tried again after 1, 2, 4 ...
s, at most a minute apart, its reason logged once until it opens again.
"""

import asyncio
import logging
from collections.abc import Callable, Iterable

import aiohttp

from wallbox.clock import Clock
from wallbox.supervisor import Supervised
from wallbox.telemetry.teslemetry import data_of, stream_path

logger = logging.getLogger(__name__)

RETRY_MAX_S = 60.0
STEADY_S = 10.0  # a stream open this long that ends is reopened at once


class SseStreams:
    def __init__(
        self,
        clock: Clock,
        url: str,
        token: Callable[[], str],
        *,
        vins: Callable[[], Iterable[str]],
        on_event: Callable[[str, str], None],
        on_stream: Callable[[str, bool, str], None],
        what: str = "Teslemetry",
    ) -> None:
        self.clock, self.url, self.token = clock, url.rstrip("/"), token
        self.on_event, self.on_stream, self.what = on_event, on_stream, what
        self.vins = vins
        self._streams: dict[str, Supervised] = {}
        self._opened: dict[str, float] = {}  # vin -> when its stream opened
        self._session: aiohttp.ClientSession | None = None
        self._following = Supervised(f"{what} streams", self._follow, clock=clock)

    def start(self) -> None:
        self._following.start()

    async def _follow(self) -> None:
        """Keep one stream open per car, once the controller's cars are known."""
        while True:
            for vin in self.vins():
                self._open(vin)
            await self.clock.sleep(5.0)

    def _open(self, vin: str) -> None:
        if vin not in self._streams:
            stream = Supervised(
                f"{self.what} stream of {vin}", lambda: self._run(vin), clock=self.clock
            )
            self._streams[vin] = stream
            stream.start()

    def close(self) -> None:
        self._following.stop()
        for stream in self._streams.values():
            stream.stop()
        self._streams.clear()
        session, self._session = self._session, None
        if session is not None and not session.closed:
            try:
                asyncio.get_running_loop().create_task(session.close())
            except RuntimeError:  # no loop any more: the process is ending
                pass

    async def _run(self, vin: str) -> None:
        delay, complained = 1.0, None
        while True:
            self._opened.pop(vin, None)
            try:
                await self._read(vin)
                why = "the stream ended"
            except _Refused as e:
                why = str(e)
            except (aiohttp.ClientError, TimeoutError, OSError) as e:
                why = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
            opened = self._opened.get(vin)
            if opened is not None and self.clock.now() - opened >= STEADY_S:
                # An open stream that ends (a relay's restart, a read timeout) is
                # reopened at once, unannounced: only a stream that cannot be opened
                # is closed for the source, so a reconnect costs no read.
                delay, complained = 1.0, None
                logger.info("%s: %s stream ended (%s); reopening", vin, self.what, why)
                continue
            self.on_stream(vin, False, why)
            if why != complained:
                logger.warning("%s: %s stream lost (%s); retrying", vin, self.what, why)
                complained = why
            await self.clock.sleep(delay)
            delay = min(RETRY_MAX_S, delay * 2)

    async def _read(self, vin: str) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(sock_read=300))
        token = await asyncio.to_thread(self.token)
        headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
        async with self._session.get(self.url + stream_path(vin), headers=headers) as answer:
            if answer.status != 200:
                raise _Refused(f"HTTP {answer.status}" + (
                    ": check the token file" if answer.status in (401, 403) else ""))  # fmt: skip
            self._opened[vin] = self.clock.now()
            self.on_stream(vin, True, "open")
            logger.info("%s: %s stream open", vin, self.what)
            lines: list[str] = []
            async for raw in answer.content:
                line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
                if line:
                    data = data_of(line)
                    if data is not None:
                        lines.append(data)
                elif lines:  # a blank line ends the event
                    self.on_event(vin, "\n".join(lines))
                    lines = []


class _Refused(Exception):
    pass


Refused = _Refused  # the relay refused the stream (websocket.py raises it too)
