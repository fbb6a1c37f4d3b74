"""Push feeds of the car's state beside TeslaMate: fleet-telemetry, the relays' streams
(Teslemetry, Tessie) and TeslaBle2Mqtt.

Options only, checked in `configure`; the wallbox API (addons/wallbox_api.py)
asks for the feed when it starts and gets one `StateFeed`: a composite of
every source set up (TeslaMate's alone too)
(wallbox/telemetry/composite.py), in the order fleet-telemetry, Teslemetry,
Tessie, TeslaMate, TeslaBle2Mqtt: the car's own stream first, a Bluetooth poll
last. Cars are matched by VIN, which every feed carries (addons/telemetry_relay.py:
the relays' options).
"""

import logging
from dataclasses import dataclass

from mitmproxy import ctx

from addons import telemetry_relay, telemetry_smt
from addons.options import check_file, check_range, checked
from addons.store import Store
from wallbox.clock import Clock
from wallbox.mqtt.link import MqttLink, parse_broker_url
from wallbox.telemetry import fleet, tb2m
from wallbox.telemetry.composite import CompositeFeed, Feed, Named
from wallbox.telemetry.source import Dialect, PushSource
from wallbox.telemetry.sse import SseStreams

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Kind:
    key: str  # telemetry_<key>_*
    label: str
    where: str  # the option naming its topics
    where_default: str
    silence_s: int
    help: str


KINDS = (
    _Kind("fleet", fleet.LABEL, "topic_base", "telemetry", 180,
          "Tesla fleet-telemetry's MQTT dispatcher (topics <topic_base>/<VIN>/v/<Field>)"),
    _Kind("tb2m", tb2m.LABEL, "prefix", "tb2m", 120,
          "TeslaBle2Mqtt (topics <prefix>/<VIN>/<name>/state)"),
)  # fmt: skip


def _dialect(kind: _Kind, where: str) -> Dialect:
    wire = fleet if kind.key == "fleet" else tb2m
    return Dialect(
        source=wire.SOURCE,
        label=kind.label,
        topics=wire.subscriptions(where),
        heard=lambda topic, payload: wire.heard(topic, payload, where),
        snapshot=wire.snapshot,
    )


class Telemetry:
    def __init__(self, store: Store | None = None) -> None:
        self.store = store  # the ScanMyTesla capture's uploads (telemetry_smt.py)
        self.capture: telemetry_smt.Capture | None = None
        self.links: list[MqttLink] = []
        self.sources: list[PushSource] = []
        self.streams: list[SseStreams] = []  # the relays', one stream per car each
        self.started = False

    def load(self, loader) -> None:
        for kind in KINDS:
            name = f"telemetry_{kind.key}"
            loader.add_option(
                f"{name}_mqtt_url", str, "",
                f"{kind.help}: its MQTT broker, mqtt://[user:password@]host[:1883] or "
                "mqtts://...; the car's state comes from it while it reports. Empty: off.",
            )  # fmt: skip
            loader.add_option(
                f"{name}_mqtt_ca_file", str, "", "CA file for an mqtts:// broker; empty: system CAs"
            )
            loader.add_option(
                f"{name}_{kind.where}", str, kind.where_default,
                f"{kind.label}'s {kind.where.replace('_', ' ')} (the start of its topics).",
            )  # fmt: skip
            loader.add_option(
                f"{name}_silence_s", int, kind.silence_s,
                f"Seconds {kind.label} may stay silent while the car charges, or after a "
                "command, before the Tesla API is read instead.",
            )  # fmt: skip

        telemetry_relay.declare(loader)
        telemetry_smt.declare(loader)

    def configure(self, updated: set[str]) -> None:
        telemetry_relay.check(updated)
        telemetry_smt.check(updated)
        for kind in KINDS:
            name = f"telemetry_{kind.key}"
            checked(updated, f"{name}_mqtt_url", parse_broker_url, unless_empty=True)
            check_file(updated, f"{name}_mqtt_ca_file")
            check_range(updated, f"{name}_silence_s", 10, 86400, "10..86400 seconds")
        if self.started and any(n.startswith("telemetry_") for n in updated):
            logger.warning("telemetry: restart the proxy to apply %s", ", ".join(sorted(updated)))

    def start_feed(self, clock: Clock, teslamate: Feed | None) -> Feed | None:
        """TeslaMate's feed with the push sources set up, connecting in the background."""
        self.started = True
        o = ctx.options
        named: dict[str, Named] = {}
        for kind in KINDS:
            name = f"telemetry_{kind.key}"
            url = getattr(o, f"{name}_mqtt_url")
            if not url:
                continue
            dialect = _dialect(kind, getattr(o, f"{name}_{kind.where}"))
            source = PushSource(clock, dialect, rhythm_s=float(getattr(o, f"{name}_silence_s")))
            link = MqttLink(
                parse_broker_url(url),
                topics=source.topics,
                on_message=source.on_message,
                on_connection=source.on_connection,
                ca_file=getattr(o, f"{name}_mqtt_ca_file"),
                what=f"{kind.label} MQTT",
            )
            link.start()
            self.sources.append(source)
            self.links.append(link)
            named[kind.key] = Named(dialect.source, source)
        for key in telemetry_relay.RELAYS:
            if relay := telemetry_relay.start(clock, key):
                self.sources.append(relay[0])
                self.streams.append(relay[1])
                named[key] = Named(relay[0].source, relay[0])
        self.capture = telemetry_smt.start(clock, self.store)
        if self.capture is not None:
            self.sources.append(self.capture.source)
            named["smt"] = Named(self.capture.source.source, self.capture.source)
        if not named and teslamate is None:
            return None
        tm = teslamate and Named("teslamate", teslamate, "TeslaMate")
        order = [named.get("fleet"), named.get("teslemetry"), named.get("tessie"), tm]
        order.append(named.get("tb2m"))
        order.append(named.get("smt"))  # no position nor limit: the others' first
        return CompositeFeed(clock, [n for n in order if n is not None])

    def described(self) -> list[str]:
        """Each push source and where it comes from, for the start-up line."""
        said = [f"{link.what.removesuffix(' MQTT')} at {link.broker}" for link in self.links]
        said += [f"{streams.what} at {streams.url}" for streams in self.streams]
        return said + (["ScanMyTesla's captured uploads"] if self.capture else [])

    def done(self) -> None:
        if self.capture is not None:
            self.capture.close()
            self.capture = None
        for source in self.sources:
            source.stop()
        for link in self.links:
            link.close()
        self.links = []
        for streams in self.streams:
            streams.close()
        self.streams = []
