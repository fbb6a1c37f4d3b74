"""Publishing that never holds up the proxy: the newest payload per topic, sent when it can be.

`put` is a dict update on the event loop, whatever the broker does. Topics
waiting to be sent keep only their newest payload, and at most `window`
messages are handed to paho without the broker's acknowledgement (QoS 1), so
a broker that is down or stalls costs neither memory beyond one payload per
topic nor time. Waiting messages go out together every `interval_s` seconds:
a phone that uploads ten times a second does not make ten messages a second
per value. After every (re)connect the whole retained state is sent again: a
broker that restarted without persistence has forgotten it.
"""

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

logger = logging.getLogger(__name__)

Send = Callable[[str, str, bool], int]  # topic, payload, retain -> message id


@dataclass(slots=True)
class PublisherStats:
    sent: int = 0
    acknowledged: int = 0
    superseded: int = 0  # payloads replaced by a newer one before they went out


class Publisher:
    def __init__(
        self, send: Send | None = None, *, interval_s: float = 1.0, window: int = 500
    ) -> None:
        self._send = send  # or given later by `bind`, once the link exists
        self.interval_s = interval_s
        self.window = window
        self.connected = False
        self.retained: dict[str, str] = {}  # what the broker should hold
        self.waiting: dict[str, tuple[str, bool]] = {}
        self.in_flight: set[int] = set()
        self.stats = PublisherStats()
        self._timer: asyncio.TimerHandle | asyncio.Handle | None = None

    def bind(self, send: Send) -> None:
        self._send = send

    def put(self, topic: str, payload: str, *, retain: bool = True) -> None:
        if retain:
            if self.retained.get(topic) == payload and topic not in self.waiting:
                return  # the broker has it already
            self.retained[topic] = payload
        if topic in self.waiting:
            self.stats.superseded += 1
        self.waiting[topic] = (payload, retain)
        self._schedule()

    def put_all(self, messages: dict[str, str], *, retain: bool = True) -> None:
        for topic, payload in messages.items():
            self.put(topic, payload, retain=retain)

    def refresh(self, topics: Iterable[str]) -> None:
        """Send retained topics again although unchanged (a subscriber that forgot them)."""
        for topic in topics:
            if topic in self.retained:
                self.waiting[topic] = (self.retained[topic], True)
        self._schedule()

    def clear(self, topic: str) -> None:
        """Delete a retained topic (an empty retained message)."""
        self.retained.pop(topic, None)
        self.waiting[topic] = ("", True)
        self._schedule()

    # --- from the link --------------------------------------------------------

    def connection(self, connected: bool) -> None:
        self.connected = connected
        self.in_flight.clear()  # what paho still holds it sends again by itself
        if connected:
            resend = {topic: (payload, True) for topic, payload in self.retained.items()}
            self.waiting = resend | self.waiting
            self._flush()
        elif self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def acknowledged(self, mid: int) -> None:
        if mid in self.in_flight:
            self.in_flight.discard(mid)
            self.stats.acknowledged += 1
            if self.waiting and self._timer is None and len(self.in_flight) <= self.window // 2:
                self._flush()  # a backlog drains at the broker's pace, not the interval's

    # --- sending --------------------------------------------------------------

    def _schedule(self) -> None:
        if not self.connected or self._timer is not None:
            return
        loop = asyncio.get_running_loop()
        if self.interval_s > 0:
            self._timer = loop.call_later(self.interval_s, self._flush)
        else:
            self._timer = loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._timer = None
        if self._send is None:
            return
        while self.connected and self.waiting and len(self.in_flight) < self.window:
            topic = next(iter(self.waiting))
            payload, retain = self.waiting.pop(topic)
            try:
                mid = self._send(topic, payload, retain)
            except Exception as e:  # paho refuses only what can never be sent
                logger.warning("MQTT: not publishing %s: %s", topic, e)
                continue
            self.in_flight.add(mid)
            self.stats.sent += 1
