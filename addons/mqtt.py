"""MQTT for home automation, and the openWB charge point bridge: options and wiring.

The work is in wallbox/mqtt/bridge.py and wallbox/mqtt/openwb_bridge.py; this addon
checks the options, connects (in the background: a broker that is down only
delays publishing), feeds the bridges with stored samples and the wallbox
controller, and says goodbye (`offline`) at exit. Both are off until their
broker URL is set.
"""

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path

from mitmproxy import ctx

from addons.options import check_file, check_range, checked
from addons.store import Store
from addons.wallbox_api import WallboxApi
from storage.database import StorageError
from wallbox.control.intent import AMPS_CEILING
from wallbox.mqtt.bridge import MqttBridge
from wallbox.mqtt.ha_discovery import Discovery
from wallbox.mqtt.link import MqttLink, parse_broker_url
from wallbox.mqtt.openwb import parse_chargepoints
from wallbox.mqtt.openwb_bridge import OpenWbBridge
from wallbox.mqtt.publisher import Publisher
from wallbox.mqtt.topics import check_prefix, parse_car_names, parse_token_cars
from wallbox.supervisor import spawn

logger = logging.getLogger(__name__)

METERS_FILE = "openwb_meters.json"


class Mqtt:
    def __init__(self, store: Store, wallbox: WallboxApi) -> None:
        self.store = store
        self.wallbox = wallbox
        self.bridge: MqttBridge | None = None
        self.link: MqttLink | None = None
        self.openwb: OpenWbBridge | None = None
        self.openwb_link: MqttLink | None = None
        self._unsubscribe = None
        self._starting: asyncio.Task[None] | None = None

    def load(self, loader) -> None:
        loader.add_option(
            "mqtt_url",
            str,
            "",
            "Broker for home automation, mqtt://[user:password@]host[:1883] or mqtts://...: "
            "ScanMyTesla values, wallbox status and commands, Home Assistant discovery. "
            "Empty: off.",
        )
        loader.add_option(
            "mqtt_ca_file", str, "", "CA file for an mqtts:// broker's own certificate."
        )
        loader.add_option("mqtt_prefix", str, "teslahome", "Topic prefix: <prefix>/<car>/...")
        loader.add_option(
            "mqtt_smt_cars",
            Sequence[str],
            [],
            "ScanMyTesla token=car number, e.g. abc123=1. Empty: every token is car 1; "
            "with entries, tokens not listed are not published.",
        )
        loader.add_option(
            "mqtt_ha_discovery",
            bool,
            True,
            "Announce the cars to Home Assistant (MQTT discovery); off also removes what "
            "was announced.",
        )
        loader.add_option(
            "mqtt_ha_prefix", str, "homeassistant", "Home Assistant's discovery prefix."
        )
        loader.add_option(
            "mqtt_ha_car_names",
            Sequence[str],
            [],
            "Home Assistant device names, car number=name, e.g. 1=Blue. Empty: the car's "
            "name from the back-end, else its VIN.",
        )
        loader.add_option(
            "mqtt_ha_max_amps",
            int,
            0,
            "The most amps Home Assistant's charge current offers. 0: the car's maximum "
            "at this charge point, once it has said (kept across restarts).",
        )
        loader.add_option(
            "mqtt_ha_skip_teslamate",
            bool,
            False,
            "TeslaMate's own Home Assistant discovery is on: leave out the entities it "
            "already shows (battery level, car state, charge limit, current, voltage, phases).",
        )
        loader.add_option(
            "mqtt_interval",
            int,
            1,
            "Seconds over which value changes are gathered into one message per topic; "
            "0: publish at once.",
        )
        loader.add_option(
            "openwb_mqtt_url",
            str,
            "",
            "openWB 2.x's broker, for its generic MQTT charge point (mqtt://openwb:1883). "
            "Empty: off.",
        )
        loader.add_option(
            "openwb_chargepoints",
            Sequence[str],
            ["1=1"],
            "openWB charge point id=car number, e.g. 3=1.",
        )

    def configure(self, updated: set[str]) -> None:
        checked(updated, "mqtt_url", parse_broker_url, unless_empty=True)
        checked(updated, "openwb_mqtt_url", parse_broker_url, unless_empty=True)
        check_file(updated, "mqtt_ca_file")
        checked(updated, "mqtt_prefix", check_prefix)
        checked(updated, "mqtt_ha_prefix", check_prefix)
        checked(updated, "mqtt_smt_cars", parse_token_cars)
        checked(updated, "mqtt_ha_car_names", parse_car_names)
        check_range(updated, "mqtt_ha_max_amps", 0, AMPS_CEILING, f"0..{AMPS_CEILING} A")
        checked(updated, "openwb_chargepoints", parse_chargepoints)
        check_range(updated, "mqtt_interval", 0, 3600, "0..3600 seconds")
        started = self.link is not None or self.openwb_link is not None
        if started and any(n.startswith(("mqtt_", "openwb_")) for n in updated):
            logger.warning("MQTT: restart the proxy to apply %s", ", ".join(sorted(updated)))

    def running(self) -> None:
        if self._starting is None and (ctx.options.mqtt_url or ctx.options.openwb_mqtt_url):
            self._starting = spawn("starting MQTT", self._start())

    async def _start(self) -> None:
        o = ctx.options
        if o.mqtt_url:
            await self._start_home(o)
        if o.openwb_mqtt_url:
            await self._start_openwb(o)

    async def _start_home(self, o) -> None:
        prefix = o.mqtt_prefix
        discovery = Discovery(prefix, o.mqtt_ha_prefix)
        publisher = Publisher(interval_s=float(o.mqtt_interval))
        bridge = MqttBridge(
            publisher,
            prefix,
            token_cars=parse_token_cars(o.mqtt_smt_cars),
            discovery=discovery if o.mqtt_ha_discovery else None,
            clean_discovery=discovery,
            wallbox_on=o.wallbox_port != 0,
            amps_max=o.mqtt_ha_max_amps,
            car_names=parse_car_names(o.mqtt_ha_car_names),
            skip_teslamate=o.mqtt_ha_skip_teslamate,
        )
        link = _connect(
            o.mqtt_url,
            bridge,
            publisher,
            "MQTT",
            will=(bridge.status_topic, "offline"),
            ca_file=o.mqtt_ca_file,
        )
        self.bridge, self.link = bridge, link
        try:
            samples = await self.store.samples()
            await bridge.load(samples)
            self._unsubscribe = samples.on_stored(bridge.sample_stored)
        except StorageError as e:
            logger.error("MQTT: ScanMyTesla values will not be published: %s", e)
        self.wallbox.when_started(bridge.bind)
        link.start()

    async def _start_openwb(self, o) -> None:
        publisher = Publisher(interval_s=float(o.mqtt_interval))
        bridge = OpenWbBridge(
            publisher, parse_chargepoints(o.openwb_chargepoints), Path(o.data_dir) / METERS_FILE
        )
        await bridge.load()
        link = _connect(o.openwb_mqtt_url, bridge, publisher, "openWB MQTT")
        self.openwb, self.openwb_link = bridge, link
        self.wallbox.when_started(bridge.bind)
        link.start()

    def done(self) -> None:
        if self._starting is not None and not self._starting.done():
            self._starting.cancel()
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self.bridge is not None:
            self.bridge.stop()
        if self.openwb is not None:
            self.openwb.stop()
        if self.link is not None:
            # a clean goodbye: the last will only covers a crash
            self.link.publish(f"{ctx.options.mqtt_prefix}/status", "offline", retain=True)
            self.link.close()
            self.link = None
        if self.openwb_link is not None:
            self.openwb_link.close()
            self.openwb_link = None


def _connect(
    url: str, bridge: MqttBridge | OpenWbBridge, publisher: Publisher, what: str, **more
) -> MqttLink:
    """A link (not started) that feeds `bridge` and carries `publisher`'s messages."""
    link = MqttLink(
        parse_broker_url(url),
        topics=bridge.subscriptions,
        on_message=bridge.message,
        on_connection=bridge.connection,
        on_published=publisher.acknowledged,
        what=what,
        **more,
    )
    publisher.bind(lambda topic, payload, retain: link.publish(topic, payload, retain=retain))
    return link
