"""The openWB 2.x charge point bridge: the wallbox controller's cars on openWB's broker.

Rules and topics: wallbox/mqtt/openwb.py. State goes out through a Publisher
(never blocking); openWB's `set/current` comes in and goes through the same
controller as the HTTP API. openWB keeps `set/current` retained, as the
current wish, so a retained one is carried out too (repeating a wish already
in force sends the car nothing). The imported-energy counter is kept in
`data_dir/openwb_meters.json` so it never runs backwards across restarts.
"""

import asyncio
import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from wallbox.control.controller import Controller
from wallbox.control.intent import IntentError
from wallbox.control.outcomes import CarError
from wallbox.mqtt.openwb import (
    ImportedMeter,
    chargepoint_messages,
    current_changes,
    point_of_topic,
    set_current_topic,
)
from wallbox.mqtt.publisher import Publisher
from wallbox.supervisor import Jobs, guarded

logger = logging.getLogger(__name__)


class OpenWbBridge:
    def __init__(self, publisher: Publisher, points: Mapping[int, int], meters_file: Path) -> None:
        self.publisher = publisher
        self.points = dict(points)  # openWB charge point -> car number
        self.meters_file = meters_file
        self.meters: dict[int, ImportedMeter] = {}
        self.controller: Controller | None = None
        self._jobs = Jobs()  # set/current wishes, and following the controller
        self._saving: asyncio.Task[None] | None = None

    @property
    def subscriptions(self) -> tuple[str, ...]:
        return tuple(set_current_topic(point) for point in self.points)

    async def load(self) -> None:
        try:
            text = await asyncio.to_thread(self.meters_file.read_text, encoding="utf-8")
            stored = json.loads(text)
        except FileNotFoundError:
            return
        except (OSError, ValueError) as e:
            logger.warning("openWB: %s unreadable (%s); counters start at 0", self.meters_file, e)
            return
        if isinstance(stored, dict):
            for car, data in stored.items():
                if str(car).isdigit():
                    self.meters[int(car)] = ImportedMeter.from_json(data)

    def bind(self, controller: Controller) -> None:
        self.controller = controller
        # guarded: a failure here must neither reach the car's worker nor end the follow
        listener = guarded("openWB bridge: publishing a status", self.status_changed)
        self._jobs.spawn("openWB bridge: following the wallbox", controller.follow(listener))

    def status_changed(self, status: dict[str, Any]) -> None:
        car = int(status["car"])
        meter = self.meters.setdefault(car, ImportedMeter())
        before = meter.reading
        here = status.get("at_charge_point") is not False
        imported = meter.update(status.get("energy"), here)
        if imported != before:
            self._save_soon()
        for point, point_car in self.points.items():
            if point_car == car:
                self.publisher.put_all(chargepoint_messages(point, status, imported))

    def connection(self, connected: bool, why: str) -> None:
        self.publisher.connection(connected)

    def message(self, topic: str, payload: bytes, retained: bool) -> None:
        point = point_of_topic(topic)
        if point is None or point not in self.points:
            return
        self._jobs.spawn(
            f"openWB set/current of charge point {point}", self._carry_out(point, payload)
        )

    async def _carry_out(self, point: int, payload: bytes) -> None:
        car_number = self.points[point]
        try:
            if self.controller is None:
                raise CarError("the wallbox API is off (wallbox_port=0)")
            car = self.controller.car(str(car_number))
            await car.set_intent(**current_changes(payload, car.max_amps))
        except (IntentError, CarError) as e:
            logger.warning(
                "openWB: set/current %r for car %d refused: %s", payload[:20], car_number, e
            )

    def _save_soon(self) -> None:
        if self._saving is None or self._saving.done():
            self._saving = self._jobs.spawn("openWB: saving the counters", self._save())

    async def _save(self) -> None:
        await asyncio.sleep(1.0)  # one write for a burst of changes
        data = {str(car): meter.to_json() for car, meter in self.meters.items()}
        try:
            await asyncio.to_thread(_write_atomically, self.meters_file, json.dumps(data))
        except OSError as e:
            logger.warning("openWB: counters not saved to %s: %s", self.meters_file, e)

    def stop(self) -> None:
        saving = self._saving is not None and not self._saving.done()
        self._jobs.cancel()
        if saving:
            data = {str(car): meter.to_json() for car, meter in self.meters.items()}
            try:  # at exit, written here: a few hundred bytes
                _write_atomically(self.meters_file, json.dumps(data))
            except OSError as e:
                logger.warning("openWB: counters not saved to %s: %s", self.meters_file, e)


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_suffix(".tmp")
    with temporary.open("w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)
