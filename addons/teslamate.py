"""TeslaMate for the wallbox API: its MQTT telemetry and its Tesla API tokens.

Options only, checked in `configure`; the wallbox API (addons/wallbox_api.py)
asks this addon for the telemetry feed and the token source when it starts.
Both are optional and independent:

- `teslamate_mqtt_url`: charge state, location and geofence from TeslaMate's
  broker instead of Tesla API reads, while TeslaMate is healthy and reporting
  (wallbox/telemetry/teslamate_feed.py, judged by wallbox/telemetry/health.py).
- `teslamate_db_url` + `teslamate_encryption_key`: the Tesla API tokens from
  TeslaMate's database, read-only (wallbox/vehicle/teslamate_tokens.py).
"""

import logging
from collections.abc import Sequence

from mitmproxy import ctx, exceptions

from addons.options import check_file, check_range, checked
from wallbox.clock import Clock
from wallbox.mqtt.link import MqttLink, parse_broker_url
from wallbox.telemetry.teslamate import parse_car_map
from wallbox.telemetry.teslamate_feed import TeslaMateFeed
from wallbox.vehicle.teslamate_tokens import TeslaMateTokens, describe_dsn

logger = logging.getLogger(__name__)


class TeslaMate:
    def __init__(self) -> None:
        self.feed: TeslaMateFeed | None = None
        self.link: MqttLink | None = None
        self.started = False

    def load(self, loader) -> None:
        loader.add_option(
            "teslamate_mqtt_url",
            str,
            "",
            "TeslaMate's MQTT broker, mqtt://[user:password@]host[:1883] or mqtts://... (TLS): "
            "the car's state comes from TeslaMate while it is healthy. Empty: off.",
        )
        loader.add_option(
            "teslamate_mqtt_ca_file",
            str,
            "",
            "CA file for an mqtts:// broker's own certificate; empty: the system's CAs.",
        )
        loader.add_option(
            "teslamate_namespace",
            str,
            "",
            "TeslaMate's MQTT_NAMESPACE, if it has one (topics teslamate/<namespace>/cars/...).",
        )
        loader.add_option(
            "teslamate_cars",
            Sequence[str],
            [],
            "TeslaMate car id = car number or VIN, e.g. 1=5YJ3E7EA1KF000001; a TeslaMate id "
            "without an entry is the car with the same number.",
        )
        loader.add_option(
            "teslamate_silence_s",
            int,
            300,
            "Seconds TeslaMate may stay silent while the car charges, or after a command, "
            "before the Tesla API is read instead.",
        )
        loader.add_option(
            "teslamate_db_url",
            str,
            "",
            "TeslaMate's PostgreSQL database, postgresql://user:password@host:5432/teslamate: "
            "use the Tesla API tokens TeslaMate manages (read-only). Empty: off.",
        )
        loader.add_option(
            "teslamate_encryption_key",
            str,
            "",
            "TeslaMate's ENCRYPTION_KEY, which encrypts the tokens in its database.",
        )

    def configure(self, updated: set[str]) -> None:
        o = ctx.options
        checked(updated, "teslamate_mqtt_url", parse_broker_url, unless_empty=True)
        check_file(updated, "teslamate_mqtt_ca_file")
        checked(updated, "teslamate_cars", parse_car_map)
        check_range(updated, "teslamate_silence_s", 10, 86400, "10..86400 seconds")
        checked(updated, "teslamate_db_url", describe_dsn, unless_empty=True)
        if o.teslamate_db_url and not o.teslamate_encryption_key:
            raise exceptions.OptionsError(
                "teslamate_db_url needs teslamate_encryption_key: TeslaMate's ENCRYPTION_KEY"
            )
        if self.started and any(name.startswith("teslamate_") for name in updated):
            logger.warning("TeslaMate: restart the proxy to apply %s", ", ".join(sorted(updated)))

    def start_feed(self, clock: Clock) -> TeslaMateFeed | None:
        """The telemetry feed, connecting in the background; None when not set up."""
        self.started = True
        o = ctx.options
        if not o.teslamate_mqtt_url:
            return None
        self.feed = TeslaMateFeed(
            clock,
            namespace=o.teslamate_namespace,
            cars=parse_car_map(o.teslamate_cars),
            silence_s=float(o.teslamate_silence_s),
        )
        self.link = MqttLink(
            parse_broker_url(o.teslamate_mqtt_url),
            topics=self.feed.topics,
            on_message=self.feed.on_message,
            on_connection=self.feed.on_connection,
            ca_file=o.teslamate_mqtt_ca_file,
            what="TeslaMate MQTT",
        )
        self.link.start()
        return self.feed

    def token_source(self) -> TeslaMateTokens | None:
        o = ctx.options
        if not o.teslamate_db_url:
            return None
        return TeslaMateTokens(
            o.teslamate_db_url,
            o.teslamate_encryption_key,
            account=o.tesla_email or "teslamate",
            api_url=o.tesla_api_url,  # the host they go to must be TeslaMate's
        )

    def done(self) -> None:
        if self.feed is not None:
            self.feed.stop()
        if self.link is not None:
            self.link.close()
            self.link = None
