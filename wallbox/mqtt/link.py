"""A connection to an MQTT broker, for the event loop: URL, connect, reconnect, thread bridge.

paho-mqtt runs its network loop in a thread of its own (`loop_start`): it
connects in the background, reconnects by itself when the broker goes away
(1 s, 2 s, ... at most 30 s apart) and subscribes again after every connect,
so retained values arrive anew. Every message and every connection change is
handed to the asyncio loop with `call_soon_threadsafe`; the callbacks run on
the loop and must not block. TeslaMate's telemetry reads with it; the
home-automation and openWB bridges publish with it, possibly to other brokers.

    mqtt://user:password@host:1883      plain (port 1883 if left out)
    mqtts://user:password@host:8883     TLS (port 8883 if left out); the system's
                                        CAs, or a CA file for a home broker's own certificate
"""

import asyncio
import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as paho

from wallbox.supervisor import guarded

logger = logging.getLogger(__name__)

RECONNECT_MIN_S = 1
RECONNECT_MAX_S = 30


@dataclass(frozen=True, slots=True)
class BrokerUrl:
    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None

    def __str__(self) -> str:
        """The URL without the password, for messages."""
        user = f"{self.username}@" if self.username else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{host}:{self.port}"


def parse_broker_url(url: str) -> BrokerUrl:
    """`mqtt://user:pass@host:port` or `mqtts://...`; raises ValueError saying what is wrong."""
    text = url.strip()
    parts = urlsplit(text)
    if parts.scheme not in ("mqtt", "mqtts"):
        raise ValueError(f"{_redacted(text)!r} must start with mqtt:// or mqtts://")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"{_redacted(text)!r} has an invalid port") from None
    if not parts.hostname:
        raise ValueError(f"{_redacted(text)!r} has no host, e.g. mqtt://192.168.1.10:1883")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"{_redacted(text)!r}: only mqtt[s]://[user:password@]host[:port]")
    tls = parts.scheme == "mqtts"
    return BrokerUrl(
        host=parts.hostname,
        port=port or (8883 if tls else 1883),
        tls=tls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )


def _redacted(url: str) -> str:
    """The URL with any password replaced, so an error message never shows it."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


MessageHandler = Callable[[str, bytes, bool], None]  # topic, payload, retained
ConnectionHandler = Callable[[bool, str], None]  # connected, why
PublishedHandler = Callable[[int], None]  # the message id the broker acknowledged


class MqttLink:
    """One client: subscribes to `topics` after every connect and reports to the loop."""

    def __init__(
        self,
        broker: BrokerUrl,
        *,
        topics: Sequence[str] = (),
        on_message: MessageHandler | None = None,
        on_connection: ConnectionHandler | None = None,
        on_published: PublishedHandler | None = None,
        will: tuple[str, str] | None = None,
        ca_file: str = "",
        client_id: str = "",
        keepalive: int = 30,
        what: str = "MQTT",
    ) -> None:
        self.broker = broker
        self.topics = tuple(topics)
        # guarded: a handler's failure is logged, and its next call still comes
        self.on_message = _guarded(f"{what}: handling a message", on_message)
        self.on_connection = _guarded(f"{what}: handling a connection change", on_connection)
        self.on_published = _guarded(f"{what}: handling an acknowledgement", on_published)
        self.what = what
        self.connected = False  # as the loop knows it
        self._loop: asyncio.AbstractEventLoop | None = None
        self._last_problem: str | None = None
        self._client = paho.Client(
            paho.CallbackAPIVersion.VERSION2,
            client_id=client_id or f"teslahome-{secrets.token_hex(4)}",
            protocol=paho.MQTTv311,
        )
        self._keepalive = keepalive
        if broker.username is not None:
            self._client.username_pw_set(broker.username, broker.password)
        if broker.tls:
            self._client.tls_set(ca_certs=ca_file or None)
        if will is not None:  # the broker publishes it (retained) when we vanish
            self._client.will_set(will[0], will[1], qos=1, retain=True)
        self._client.reconnect_delay_set(RECONNECT_MIN_S, RECONNECT_MAX_S)
        # paho's thread ends when a callback raises: ours log instead, and it lives on
        thread = f"{what}: paho's network thread"
        self._client.on_connect = guarded(thread, self._connected)
        self._client.on_disconnect = guarded(thread, self._disconnected)
        self._client.on_connect_fail = guarded(thread, self._unreachable)
        self._client.on_message = guarded(thread, self._received)
        self._client.on_publish = guarded(thread, self._published)

    def start(self) -> None:
        """Connect in the background; call on the event loop that gets the callbacks."""
        self._loop = asyncio.get_running_loop()
        self._client.connect_async(self.broker.host, self.broker.port, self._keepalive)
        self._client.loop_start()  # paho's thread; retries the first connect too

    def close(self) -> None:
        """Disconnect and end paho's thread (it wakes at once: milliseconds)."""
        self._loop = None
        self._client.disconnect()
        self._client.loop_stop()

    def publish(
        self, topic: str, payload: str | bytes, *, qos: int = 1, retain: bool = False
    ) -> int:
        """Hand a message to paho (thread-safe, never blocks); returns its message id,
        which `on_published` reports once the broker has it (QoS 1)."""
        return self._client.publish(topic, payload, qos=qos, retain=retain).mid

    # --- paho's thread -----------------------------------------------------------

    def _to_loop(self, callback: Callable[..., None], *args: object) -> None:
        loop = self._loop
        if loop is None:
            return
        try:
            loop.call_soon_threadsafe(callback, *args)
        except RuntimeError:  # the loop is closed: the process is shutting down
            pass

    def _connected(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            self._to_loop(self._report, False, f"the broker refused the connection: {reason_code}")
            return
        for topic in self.topics:
            client.subscribe(topic, qos=1)
        self._to_loop(self._report, True, "connected")

    def _unreachable(self, client, userdata) -> None:
        self._to_loop(self._report, False, "cannot reach the broker")

    def _disconnected(self, client, userdata, flags, reason_code, properties) -> None:
        why = "disconnected" if not reason_code.is_failure else f"connection lost: {reason_code}"
        self._to_loop(self._report, False, why)

    def _received(self, client, userdata, message: paho.MQTTMessage) -> None:
        if self.on_message is not None:
            self._to_loop(self.on_message, message.topic, message.payload, bool(message.retain))

    def _published(self, client, userdata, mid, reason_code, properties) -> None:
        if self.on_published is not None:
            self._to_loop(self.on_published, mid)

    # --- the loop ------------------------------------------------------------------

    def _report(self, connected: bool, why: str) -> None:
        if self._loop is None:
            return  # closed meanwhile
        self.connected = connected
        if connected:
            logger.info("%s: connected to %s", self.what, self.broker)
            self._last_problem = None
        elif why != self._last_problem:
            # once per kind of trouble: a broker that is down is retried quietly
            logger.warning("%s: %s (%s); reconnecting by itself", self.what, why, self.broker)
            self._last_problem = why
        if self.on_connection is not None:
            self.on_connection(connected, why)


def _guarded[F: Callable[..., None]](name: str, handler: F | None) -> F | None:
    return None if handler is None else guarded(name, handler)  # type: ignore[return-value]
