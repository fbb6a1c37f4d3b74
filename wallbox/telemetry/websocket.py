"""Following a relay's WebSocket, one per car: Tessie's stream, kept as sse.py keeps
Teslemetry's (connect, read, reopen at once when a steady one ends, back off when
one cannot be opened, the token read from its file at every connect).

Only the reading differs: `GET <url>/<VIN>` upgraded to a WebSocket, each text
message one event. aiohttp's heartbeat pings every 30 s, so a connection that
died without a close is noticed and reopened.
"""

import asyncio
import logging

import aiohttp

from wallbox.telemetry.sse import Refused, SseStreams
from wallbox.telemetry.tessie import stream_path

logger = logging.getLogger(__name__)

HEARTBEAT_S = 30.0


class WebSocketStreams(SseStreams):
    async def _read(self, vin: str) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        token = await asyncio.to_thread(self.token)
        headers = {"Authorization": f"Bearer {token}"}
        try:
            socket = await self._session.ws_connect(
                self.url + stream_path(vin), headers=headers, heartbeat=HEARTBEAT_S
            )
        except aiohttp.WSServerHandshakeError as e:
            raise Refused(f"HTTP {e.status}" + (
                ": check the token file" if e.status in (401, 403) else "")) from None  # fmt: skip
        async with socket:
            self._opened[vin] = self.clock.now()
            self.on_stream(vin, True, "open")
            logger.info("%s: %s stream open", vin, self.what)
            async for message in socket:
                if message.type == aiohttp.WSMsgType.TEXT:
                    self.on_event(vin, message.data)
                elif message.type == aiohttp.WSMsgType.BINARY:
                    self.on_event(vin, message.data.decode("utf-8", errors="replace"))
                elif message.type == aiohttp.WSMsgType.ERROR:
                    raise socket.exception() or aiohttp.ClientError("WebSocket error")
