"""MQTT for home automation: ScanMyTesla values, wallbox status, discovery, commands.

Fed from three sides, all on the event loop: samples once they are stored
(SampleStore.on_stored), status changes of the wallbox controller
(Controller.follow), and messages from the broker (commands, and the
discovery configs retained under our node, to find stale ones). It only ever
calls `Publisher.put`, which never waits. Topics: wallbox/mqtt/topics.py;
Home Assistant configs: wallbox/mqtt/ha_discovery.py.
"""

import asyncio
import json
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from storage.catalogue import Catalogue, catalogue
from storage.records import Sample
from storage.samples import SampleStore
from wallbox.control.controller import Controller
from wallbox.control.intent import IntentError, parse_change
from wallbox.control.outcomes import CarError
from wallbox.mqtt.ha_discovery import Discovery, announced_amps_max, stale_configs
from wallbox.mqtt.ha_entities import TESLAMATE
from wallbox.mqtt.publisher import Publisher
from wallbox.mqtt.topics import (
    car_of_token,
    command_topic,
    counted_energy,
    home_energy,
    parse_command,
    smt_messages,
    text,
    wallbox_messages,
)
from wallbox.supervisor import Crash, Jobs, guarded

logger = logging.getLogger(__name__)

SWEEP_AFTER_S = 3.0  # retained configs arrive right after subscribing; then clean up


class MqttBridge:
    def __init__(
        self,
        publisher: Publisher,
        prefix: str,
        *,
        token_cars: Mapping[str, int],
        discovery: Discovery | None,
        clean_discovery: Discovery,
        values: Catalogue | None = None,
        wallbox_on: bool = True,
        amps_max: int = 0,
        car_names: Mapping[int, str] | None = None,
        skip_teslamate: bool = False,
    ) -> None:
        self.publisher = publisher
        self.prefix = prefix
        self.token_cars = dict(token_cars)
        self.discovery = discovery  # None: discovery off, and what we left is cleared
        self.clean_discovery = clean_discovery
        self.catalogue = values or catalogue()
        self.wallbox_on = wallbox_on  # False: no wallbox entities are wanted
        self.controller: Controller | None = None
        self.controller_ready = False
        self.found_configs: set[str] = set()  # retained under our node, as the broker says
        self.wanted_configs: dict[str, str] = {}
        self.seen_ids: dict[int, set[int]] = {}  # car -> value ids it has sent
        self.cars: dict[int, tuple[str | None, str | None]] = {}  # car -> device name, VIN
        self.named = dict(car_names or {})  # the user's names, before the back-end's
        self.configured_amps_max = amps_max  # 0: the car's own maximum at this charge point
        self.amps_max: dict[int, int] = {}
        self.skip = TESLAMATE if skip_teslamate else frozenset()
        self.statuses: dict[int, dict[str, Any]] = {}
        self.foreign_energy: dict[int, float | None] = {}  # home_energy's state
        self._unmapped_logged: set[str] = set()
        self._jobs = Jobs()  # commands, and following the controller
        self._sweep: asyncio.TimerHandle | None = None

    @property
    def subscriptions(self) -> tuple[str, ...]:
        return (
            command_topic(self.prefix),
            self.clean_discovery.subscription,
            self.clean_discovery.birth_topic,
        )

    @property
    def status_topic(self) -> str:
        return f"{self.prefix}/status"

    # --- ScanMyTesla ----------------------------------------------------------

    async def load(self, samples: SampleStore) -> None:
        """Publish the newest value of every id, as stored: retained state from the start."""
        for token in await samples.tokens():
            car = car_of_token(token, self.token_cars)
            if car is None:
                continue
            latest = await samples.latest(token)
            if latest:
                values = {vid: v.value for vid, v in latest.items()}
                self._publish_values(car, values, "")

    def sample_stored(self, sample: Sample) -> None:
        car = car_of_token(sample.token, self.token_cars)
        if car is None:
            if sample.token not in self._unmapped_logged:
                self._unmapped_logged.add(sample.token)
                logger.warning(
                    "MQTT: a ScanMyTesla token (%s…) has no car in mqtt_smt_cars: not published",
                    sample.token[:3],
                )
            return
        self._publish_values(car, sample.values, sample.device_time)

    def _publish_values(self, car: int, values: Mapping[int, float], device_time: str) -> None:
        self.publisher.put_all(smt_messages(self.prefix, car, values, device_time, self.catalogue))
        seen = self.seen_ids.setdefault(car, set())
        new = values.keys() - seen
        if new:
            seen.update(new)
            self._want_smt(car, new)

    def _want_smt(self, car: int, value_ids: Iterable[int]) -> None:
        if self.discovery is not None:
            name, vin = self.cars.get(car, (self.named.get(car), None))
            self._want(
                self.discovery.smt_configs(car, sorted(value_ids), self.catalogue, name, vin)
            )

    # --- the wallbox ------------------------------------------------------------

    def bind(self, controller: Controller) -> None:
        """Follow the controller's cars: status changes out, commands in."""
        self.controller = controller
        self._jobs.spawn("MQTT bridge: following the wallbox", self._follow(controller))

    async def _follow(self, controller: Controller) -> None:
        # guarded: a failure here must neither reach the car's worker nor end the follow
        await controller.follow(guarded("MQTT bridge: publishing a status", self.status_changed))
        self.controller_ready = True
        self._schedule_sweep(0)

    def status_changed(self, status: dict[str, Any]) -> None:
        car = int(status["car"])
        self.statuses[car] = status
        self.publisher.put_all(wallbox_messages(self.prefix, status))
        here = status.get("at_charge_point")
        energy, self.foreign_energy[car] = home_energy(
            counted_energy(status), here, self.foreign_energy.get(car)
        )
        if energy is not None:
            self.publisher.put(f"{self.prefix}/{car}/wallbox/energy_here", text(energy))
        if self.configured_amps_max:
            self.amps_max[car] = self.configured_amps_max
        elif status.get("carmaxamp") and here is not False:  # this charge point's, not another's
            self.amps_max[car] = int(status["carmaxamp"])
        device = (self.named.get(car) or status.get("name"), status.get("vin"))
        if self.cars.get(car) != device:
            self.cars[car] = device
            self._want_smt(car, self.seen_ids.get(car, ()))  # the same device name everywhere
        self._want_wallbox(car)

    def _want_wallbox(self, car: int) -> None:
        status = self.statuses.get(car)
        if self.discovery is not None and status is not None:
            self._want(
                self.discovery.wallbox_configs(
                    status,
                    self.amps_max.get(car),
                    name=self.cars[car][0],
                    skip=self.skip,
                )
            )

    # --- from the broker ----------------------------------------------------------

    def connection(self, connected: bool, why: str) -> None:
        self.publisher.connection(connected)
        if connected:
            self.publisher.put(self.status_topic, "online")
            self._schedule_sweep(SWEEP_AFTER_S)

    def message(self, topic: str, payload: bytes, retained: bool) -> None:
        if self.clean_discovery.owns(topic):
            if payload:
                self.found_configs.add(topic)
                self._remember_amps_max(topic, payload)
            else:
                self.found_configs.discard(topic)
            return
        if topic == self.clean_discovery.birth_topic:
            if payload == b"online" and not retained:  # HA (re)started: announce again
                self.publisher.refresh(self.wanted_configs)
            return
        command = parse_command(self.prefix, topic, payload)
        if command is None:
            return
        if retained:  # a retained command would be carried out again at every start
            logger.warning("MQTT: ignoring a retained command on %s: publish it unretained", topic)
            return
        car, name, value = command.car, command.name, command.value

        def failed(crash: Crash) -> None:  # a bug: the caller still gets an answer
            answer = {"command": name, "value": value[:40], "ok": False, "error": crash.message}
            self._publish_result(car, answer)

        self._jobs.spawn(f"MQTT command {name}", self._carry_out(car, name, value), on_crash=failed)

    async def _carry_out(self, car_id: str, name: str, value: str) -> None:
        result: dict[str, Any] = {"command": name, "value": value[:40]}
        try:
            if self.controller is None:
                raise CarError("the wallbox API is off (wallbox_port=0)")
            car = self.controller.car(car_id)
            changes = {"wake": True} if name == "wake" else parse_change(name, value, car.max_amps)
            outcome = await car.set_intent(**changes)
            result |= {"ok": True, "pending": [p["goal"] for p in outcome.status["pending"]]}
        except (IntentError, CarError) as e:
            result |= {"ok": False, "error": str(e)}
            logger.info("MQTT command %s=%r for car %s refused: %s", name, value[:40], car_id, e)
        self._publish_result(car_id, result)

    def _publish_result(self, car_id: str, result: dict[str, Any]) -> None:
        topic = f"{self.prefix}/{car_id}/wallbox/result"
        self.publisher.put(topic, json.dumps(result), retain=False)

    # --- discovery -------------------------------------------------------------------

    def _remember_amps_max(self, topic: str, payload: bytes) -> None:
        """The range announced before a restart stays until the car tells its own."""
        car = self.clean_discovery.car_of_amps_config(topic)
        if car is not None and car not in self.amps_max:
            announced = announced_amps_max(payload)
            if announced is not None:
                self.amps_max[car] = announced
                self._want_wallbox(car)

    def _want(self, configs: dict[str, str]) -> None:
        for topic, config in configs.items():
            if self.wanted_configs.get(topic) != config:
                self.wanted_configs[topic] = config
                self.publisher.put(topic, config)

    def _schedule_sweep(self, delay: float) -> None:
        if self._sweep is not None:
            self._sweep.cancel()
        self._sweep = asyncio.get_running_loop().call_later(delay, self.sweep)

    def sweep(self) -> None:
        """Clear the configs under our node that nobody wants (a car gone, discovery off)."""
        self._sweep = None
        if not self.publisher.connected:
            return
        keep_wallbox = self.wallbox_on and not self.controller_ready  # car list not known yet
        for topic in stale_configs(
            self.found_configs, self.wanted_configs, keep_wallbox=keep_wallbox
        ):
            logger.info("MQTT: removing the stale discovery config %s", topic)
            self.publisher.clear(topic)
            self.found_configs.discard(topic)

    # --- lifetime --------------------------------------------------------------------

    def stop(self) -> None:
        if self._sweep is not None:
            self._sweep.cancel()
        self._jobs.cancel()
