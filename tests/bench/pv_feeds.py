"""The PV day's telemetry choices beyond TeslaMate: the push feeds, each a fake
publisher mirroring the simulated car in that feed's wire shape, and the feed the
controller gets wired as the product wires it (addons/telemetry.py,
addons/telemetry_relay.py): one `PushSource` per feed inside a `CompositeFeed`.

    fleet       fleet-telemetry's MQTT dispatcher, <base>/<VIN>/v/<Field> (numbers as
                strings, as tests/e2e/test_push_feeds.py publishes them)
    tb2m        TeslaBle2Mqtt, <prefix>/<VIN>/<name>/state
    teslemetry  Teslemetry's SSE stream, /sse/<VIN> behind a bearer token
    smt         ScanMyTesla's uploads as this proxy captures them: a phone in the car
                (support/fake_phone.py's values) handed to the source as the store's
                stored-upload listener hands them (addons/telemetry_smt.py), every
                PHONE_EVERY_S while the car is awake; no proxy, no database here

The wire shapes are the tests' own (support/fake_push_feeds.py,
support/fake_teslemetry.py); here they are published on the bench's scaled clock,
every `every` simulated seconds, only what changed (as the fakes do), under a
topic prefix of each run's own on the shared Mosquitto.
"""

import asyncio
import json
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import partial

from aiohttp import web

from bench.pv_session import serve
from support.fake_phone import PhoneModel
from support.fake_push_feeds import fleet_topics, tb2m_topics
from support.fake_teslemetry import events
from wallbox.clock import ScaledClock
from wallbox.mqtt.link import MqttLink, parse_broker_url
from wallbox.telemetry import fleet as fleet_wire
from wallbox.telemetry import smt_values, tb2m, teslemetry
from wallbox.telemetry.composite import CompositeFeed, Named
from wallbox.telemetry.scanmytesla import CarRef, ScanMyTeslaSource
from wallbox.telemetry.source import Dialect, PushSource
from wallbox.telemetry.sse import SseStreams
from wallbox.vehicle.simulator.fleet import Fleet

FEEDS = ("fleet", "tb2m", "teslemetry", "smt")
CHOICES = ("none", "teslamate", *FEEDS)
TITLES = {"none": "-", "teslamate": "TeslaMate", "fleet": fleet_wire.LABEL,
          "tb2m": tb2m.LABEL, "teslemetry": teslemetry.LABEL,
          "smt": smt_values.LABEL}  # fmt: skip
# the status's telemetry.source while the feed is trusted
SOURCES = {"none": "tesla_api", "teslamate": "teslamate", "fleet": fleet_wire.SOURCE,
           "tb2m": tb2m.SOURCE, "teslemetry": teslemetry.SOURCE,
           "smt": smt_values.SOURCE}  # fmt: skip
# the product's default silence limits (addons/telemetry.py KINDS, telemetry_relay.SILENCE)
# (addons/telemetry_smt.SILENCE)
SILENCE_S = {"fleet": 180.0, "tb2m": 120.0, "teslemetry": 180.0, "smt": 20.0}
PHONE_EVERY_S = 1.0  # the app uploads every second or so while the car is awake
TOKEN = "bench-teslemetry-token"


class FakeMqttFeed:
    """The simulated car published under `<base>/<VIN>/` in one feed's shape, retained."""

    def __init__(self, broker: str, fleet: Fleet, clock: ScaledClock, every: float,
                 topics: Callable[[dict], dict[str, str]]) -> None:  # fmt: skip
        self.base = f"bench-{uuid.uuid4().hex[:10]}"
        self.fleet, self.clock, self.every, self.topics = fleet, clock, every, topics
        self.link = MqttLink(parse_broker_url(broker), what="fake push feed")
        self.published: set[str] = set()
        self.bursts = 0
        self._last: dict[str, str] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.link.start()
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        car = self.fleet.cars[0]
        while True:
            self.fleet.advance()
            values = self.topics(car.vehicle_data(self.clock.wall()))  # uncounted
            changed = {k: v for k, v in values.items() if self._last.get(k) != v}
            if changed:
                self._last.update(changed)
                self.bursts += 1
                for name, payload in changed.items():
                    topic = f"{self.base}/{car.vin}/{name}"
                    self.published.add(topic)
                    self.link.publish(topic, payload, retain=True)
            await self.clock.sleep(self.every)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        for topic in self.published:  # leave the broker as it was
            self.link.publish(topic, b"", retain=True)
        await asyncio.sleep(0.5)
        self.link.close()


class FakeSseFeed:
    """Teslemetry's `/sse/<VIN>`: the car's changes as data and state events."""

    def __init__(self, fleet: Fleet, clock: ScaledClock, every: float) -> None:
        self.fleet, self.clock, self.every = fleet, clock, every
        self.streams = self.bursts = 0
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/sse/{vin}", self._stream)
        self._runner, port = await serve(app)
        self.url = f"http://127.0.0.1:{port}"

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.json_response({"error": "invalid token"}, status=401)
        car = self.fleet.car(request.match_info["vin"])
        answer = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await answer.prepare(request)
        self.streams += 1
        last: dict = {}
        while True:
            self.fleet.advance()
            said = events(car.vehicle_data(self.clock.wall()), car.vin, last)  # uncounted
            self.bursts += bool(said)
            for event in said:
                await answer.write(f"data: {json.dumps(event)}\n\n".encode())
            await self.clock.sleep(self.every)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.shutdown()
            await self._runner.cleanup()


class FakePhone:
    """ScanMyTesla in the car: what changed, every `every` simulated s while it is awake."""

    def __init__(self, fleet: Fleet, clock: ScaledClock, source: ScanMyTeslaSource,
                 every: float) -> None:  # fmt: skip
        self.fleet, self.clock, self.source, self.every = fleet, clock, source, every
        self.model, self.bursts = PhoneModel(), 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        car = self.fleet.cars[0]
        while True:
            self.fleet.advance()
            if car.state == "online":  # the CAN bus sleeps, and the app with it
                self.source.uploaded("bench-phone", self.model.values(asdict(car)))
                self.bursts += 1
            await self.clock.sleep(self.every)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()


@dataclass
class PushFeed:
    """One run's push feed: the controller's feed, its fake publisher, what to close."""

    kind: str
    feed: CompositeFeed
    fake: FakeMqttFeed | FakeSseFeed | FakePhone
    closers: list[Callable[[], None]] = field(default_factory=list)

    def ready(self, status: dict) -> bool:
        """The wallbox is up and the feed connected (an asleep car tells it no charge
        state yet: the Tesla API is read until it wakes, and that is billed)."""
        if status.get("error") or "telemetry" not in status:
            return False
        if isinstance(self.fake, FakeSseFeed):
            return self.fake.streams > 0
        said = status["telemetry"].get("sources", {}).get(SOURCES[self.kind], {})
        return bool(said) and not said["reason"].startswith("not connected")

    async def stop(self) -> None:
        for close in self.closers:
            close()
        self.feed.stop()
        await self.fake.stop()


def _mqtt_dialect(kind: str, where: str) -> Dialect:
    wire = fleet_wire if kind == "fleet" else tb2m  # as addons/telemetry.py's _dialect
    return Dialect(
        source=wire.SOURCE,
        label=wire.LABEL,
        topics=wire.subscriptions(where),
        heard=lambda topic, payload: wire.heard(topic, payload, where),
        snapshot=wire.snapshot,
    )


async def start(kind: str, broker: str, fleet: Fleet, clock: ScaledClock,
                every: float) -> PushFeed:  # fmt: skip
    """The fake publisher for `kind` running, and the composite feed over its source."""
    if kind == "smt":
        smt = ScanMyTeslaSource(clock, {"bench-phone": CarRef(number=1)}, rhythm_s=SILENCE_S[kind])
        phone = FakePhone(fleet, clock, smt, PHONE_EVERY_S)
        phone.start()
        return PushFeed(kind, CompositeFeed(clock, [Named(smt.source, smt)]), phone)
    if kind == "teslemetry":
        fake_sse = FakeSseFeed(fleet, clock, every)
        await fake_sse.start()
        dialect = Dialect(  # as addons/telemetry_relay.start
            source=teslemetry.SOURCE,
            label=teslemetry.LABEL,
            topics=(),
            heard=lambda vin, data: teslemetry.heard(vin, data.decode("utf-8", errors="replace")),
            snapshot=teslemetry.snapshot,
        )
        source = PushSource(clock, dialect, rhythm_s=SILENCE_S[kind])
        streams = SseStreams(
            clock,
            fake_sse.url,
            lambda: TOKEN,
            vins=source.vins,
            on_event=lambda vin, data: source.on_message(vin, data.encode(), False),
            on_stream=lambda vin, up, why: source.on_heard(teslemetry.stream_state(vin, up)),
        )
        source.on_connection(True, "streams are per car")
        streams.start()
        feed = CompositeFeed(clock, [Named(source.source, source)])
        return PushFeed(kind, feed, fake_sse, [streams.close])
    shape = partial(fleet_topics, strings=True) if kind == "fleet" else tb2m_topics
    fake = FakeMqttFeed(broker, fleet, clock, every, shape)
    fake.start()
    dialect = _mqtt_dialect(kind, fake.base)
    source = PushSource(clock, dialect, rhythm_s=SILENCE_S[kind])
    link = MqttLink(
        parse_broker_url(broker),
        topics=source.topics,
        on_message=source.on_message,
        on_connection=source.on_connection,
        what=f"{dialect.label} MQTT",
    )
    link.start()
    feed = CompositeFeed(clock, [Named(dialect.source, source)])
    return PushFeed(kind, feed, fake, [link.close])
