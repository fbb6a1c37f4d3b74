"""An MQTT client for tests: sees what the proxy publishes, sends what HA or openWB would."""

import threading
import time
from collections.abc import Callable

import paho.mqtt.client as paho

from wallbox.mqtt.link import BrokerUrl


class Watcher:
    """Keeps the newest payload of every topic under `topics` (a retained empty
    payload deletes it, as on the broker); clears what it saw retained at exit."""

    def __init__(self, broker: BrokerUrl, *topics: str) -> None:
        self.broker = broker
        self.topics = topics
        self.latest: dict[str, bytes] = {}
        self.messages: list[tuple[str, bytes, bool]] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2)
        self.client.on_connect = self._connected
        self.client.on_subscribe = lambda *args: self._subscribed.set()
        self.client.on_message = self._received

    def __enter__(self) -> "Watcher":
        self.client.connect(self.broker.host, self.broker.port)
        self.client.loop_start()
        assert self._subscribed.wait(10), "the test broker did not answer"
        return self

    def __exit__(self, *exc) -> None:
        with self._lock:
            retained = [t for t, payload in self.latest.items() if payload]
        for topic in retained:  # leave the shared broker as it was
            self.client.publish(topic, b"", qos=1, retain=True).wait_for_publish(5)
        self.client.disconnect()
        self.client.loop_stop()

    def _connected(self, client, userdata, flags, reason_code, properties) -> None:
        for topic in self.topics:
            client.subscribe(topic, qos=1)

    def _received(self, client, userdata, message) -> None:
        with self._lock:
            self.messages.append((message.topic, message.payload, bool(message.retain)))
            if message.payload or not message.retain:
                self.latest[message.topic] = message.payload
            else:
                self.latest.pop(message.topic, None)

    def forget(self) -> None:
        """Drop what was seen, e.g. when the broker restarted and lost it too."""
        with self._lock:
            self.latest.clear()

    def get(self, topic: str) -> bytes | None:
        with self._lock:
            return self.latest.get(topic)

    def under(self, prefix: str) -> dict[str, bytes]:
        with self._lock:
            return {t: p for t, p in self.latest.items() if t.startswith(prefix) and p}

    def wait(self, topic: str, check: Callable[[bytes], bool] = bool, timeout: float = 20.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            payload = self.get(topic)
            if payload is not None and check(payload):
                return payload
            time.sleep(0.05)
        raise AssertionError(f"{topic}: {self.get(topic)!r} after {timeout} s")

    def publish(self, topic: str, payload: str | bytes, *, retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)
