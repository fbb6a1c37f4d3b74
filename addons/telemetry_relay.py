"""Teslemetry's SSE stream as a push source: its options, checked, and the source started.

Part of the telemetry addon (addons/telemetry.py), kept apart because a relay's
stream is HTTP, not MQTT: a URL, a token file, one stream per car.
"""

from urllib.parse import urlsplit

from mitmproxy import ctx, exceptions

from addons.options import check_range
from wallbox.clock import Clock
from wallbox.telemetry import teslemetry
from wallbox.telemetry.source import Dialect, PushSource
from wallbox.telemetry.sse import SseStreams
from wallbox.vehicle.relay_backend import token_reader

URL = "telemetry_teslemetry_url"
TOKEN_FILE = "telemetry_teslemetry_token_file"
SILENCE = "telemetry_teslemetry_silence_s"
LOOPBACK = ("127.0.0.1", "::1", "localhost")


def declare(loader) -> None:
    loader.add_option(
        URL, str, "",
        "Teslemetry's streaming host, e.g. https://api.teslemetry.com (or na./eu.): the car's "
        "state comes from its SSE stream (/sse/<VIN>) while it reports. Empty: off.",
    )  # fmt: skip
    loader.add_option(
        TOKEN_FILE, str, "",
        "A file whose first line is Teslemetry's access token (read at every connect).",
    )  # fmt: skip
    loader.add_option(
        SILENCE, int, 180,
        "Seconds Teslemetry's stream may stay silent while the car charges, or after a "
        "command, before the Tesla API is read instead.",
    )  # fmt: skip


def check(updated: set[str]) -> None:
    o = ctx.options
    check_range(updated, SILENCE, 10, 86400, "10..86400 seconds")
    if not updated & {URL, TOKEN_FILE} or not o.telemetry_teslemetry_url:
        return
    parts = urlsplit(o.telemetry_teslemetry_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise exceptions.OptionsError(f"{URL}: https://<host>, e.g. https://api.teslemetry.com")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK:
        raise exceptions.OptionsError(f"{URL}: https:// only; the token must not travel in clear")
    if not o.telemetry_teslemetry_token_file:
        raise exceptions.OptionsError(f"{URL} needs {TOKEN_FILE}: a file with Teslemetry's token")


def start(clock: Clock) -> tuple[PushSource, SseStreams] | None:
    o = ctx.options
    if not o.telemetry_teslemetry_url:
        return None
    dialect = Dialect(
        source=teslemetry.SOURCE,
        label=teslemetry.LABEL,
        topics=(),
        heard=lambda vin, data: teslemetry.heard(vin, data.decode("utf-8", errors="replace")),
        snapshot=teslemetry.snapshot,
    )
    source = PushSource(clock, dialect, rhythm_s=float(o.telemetry_teslemetry_silence_s))
    token, _ = token_reader("", o.telemetry_teslemetry_token_file)
    streams = SseStreams(
        clock,
        o.telemetry_teslemetry_url,
        token,
        vins=source.vins,
        on_event=lambda vin, data: source.on_message(vin, data.encode(), False),
        on_stream=lambda vin, up, why: source.on_heard(teslemetry.stream_state(vin, up)),
    )
    source.on_connection(True, "streams are per car")
    streams.start()
    return source, streams
