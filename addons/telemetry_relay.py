"""The relays' streams as push sources: Teslemetry's SSE and Tessie's WebSocket, their
options, checked, and the sources started.

Part of the telemetry addon (addons/telemetry.py), kept apart because a relay's
stream is HTTP, not MQTT: a URL, a token file, one stream per car. Both relay
the car's own fleet-telemetry stream, in two shapes (teslemetry.py, tessie.py).
"""

from dataclasses import dataclass
from types import ModuleType
from urllib.parse import urlsplit

from mitmproxy import ctx, exceptions

from addons.options import check_range
from wallbox.clock import Clock
from wallbox.telemetry import teslemetry, tessie
from wallbox.telemetry.source import Dialect, PushSource
from wallbox.telemetry.sse import SseStreams
from wallbox.telemetry.websocket import WebSocketStreams
from wallbox.vehicle.relay_backend import token_reader

LOOPBACK = ("127.0.0.1", "::1", "localhost")


@dataclass(frozen=True)
class Relay:
    key: str  # telemetry_<key>_*
    wire: ModuleType
    schemes: tuple[str, str]  # (with TLS, plain: loopback only)
    example: str
    stream: str  # what it opens per car, for the option's help
    streams: type[SseStreams]

    def option(self, name: str) -> str:
        return f"telemetry_{self.key}_{name}"


RELAYS = {
    "teslemetry": Relay("teslemetry", teslemetry, ("https", "http"), "https://api.teslemetry.com",
                        "its SSE stream (/sse/<VIN>)", SseStreams),
    "tessie": Relay("tessie", tessie, ("wss", "ws"), "wss://streaming.tessie.com",
                    "its WebSocket (/<VIN>)", WebSocketStreams),
}  # fmt: skip


def declare(loader) -> None:
    for relay in RELAYS.values():
        label = relay.wire.LABEL
        loader.add_option(
            relay.option("url"), str, "",
            f"{label}'s streaming host, e.g. {relay.example}: the car's state comes from "
            f"{relay.stream} while it reports. Empty: off.",
        )  # fmt: skip
        loader.add_option(
            relay.option("token_file"), str, "",
            f"A file whose first line is {label}'s access token (read at every connect).",
        )  # fmt: skip
        loader.add_option(
            relay.option("silence_s"), int, 180,
            f"Seconds {label}'s stream may stay silent while the car charges, or after a "
            "command, before the Tesla API is read instead.",
        )  # fmt: skip


def check(updated: set[str]) -> None:
    for relay in RELAYS.values():
        _check(relay, updated)


def _check(relay: Relay, updated: set[str]) -> None:
    url_option, token_option = relay.option("url"), relay.option("token_file")
    check_range(updated, relay.option("silence_s"), 10, 86400, "10..86400 seconds")
    url = getattr(ctx.options, url_option)
    if not updated & {url_option, token_option} or not url:
        return
    parts = urlsplit(url)
    secure, plain = relay.schemes
    if parts.scheme not in relay.schemes or not parts.hostname:
        raise exceptions.OptionsError(f"{url_option}: {secure}://<host>, e.g. {relay.example}")
    if parts.scheme == plain and parts.hostname not in LOOPBACK:
        raise exceptions.OptionsError(
            f"{url_option}: {secure}:// only; the token must not travel in clear"
        )
    if not getattr(ctx.options, token_option):
        raise exceptions.OptionsError(
            f"{url_option} needs {token_option}: a file with {relay.wire.LABEL}'s token"
        )


def start(clock: Clock, key: str = "teslemetry") -> tuple[PushSource, SseStreams] | None:
    relay, o = RELAYS[key], ctx.options
    url = getattr(o, relay.option("url"))
    if not url:
        return None
    wire = relay.wire
    dialect = Dialect(
        source=wire.SOURCE,
        label=wire.LABEL,
        topics=(),
        heard=lambda vin, data: wire.heard(vin, data.decode("utf-8", errors="replace")),
        snapshot=wire.snapshot,
    )
    source = PushSource(clock, dialect, rhythm_s=float(getattr(o, relay.option("silence_s"))))
    token, _ = token_reader("", getattr(o, relay.option("token_file")))
    streams = relay.streams(
        clock,
        url,
        token,
        vins=source.vins,
        on_event=lambda vin, data: source.on_message(vin, data.encode(), False),
        on_stream=lambda vin, up, why: source.on_heard(teslemetry.stream_state(vin, up)),
        what=wire.LABEL,
    )
    source.on_connection(True, "streams are per car")
    streams.start()
    return source, streams
