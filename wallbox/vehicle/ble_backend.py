"""The TeslaBleHttpProxy back-end: the car over Bluetooth, on the LAN, free, no token.

Its wire is in ble_wire.py. What this back-end makes of it:
- no car list: `vehicles()` is empty and the cars come from `wallbox_cars`;
- the sleep state from `body_controller_state`, which never wakes the car;
- `vehicle_data?endpoints=charge_state` without `wakeup`: a sleeping car answers
  503 "vehicle is sleeping", which is `Asleep` (the controller keeps the last
  known state and shows `car_state: asleep`), never an error;
- `wake_up` is a command here, sent over Bluetooth like the rest, each with
  `wait=true` so the answer is the car's, not "received";
- a reading says `nearby`: the car is within Bluetooth range of the proxy, so at
  home, though the proxy reports no position.

A Bluetooth round trip (scan, connect, session, up to three tries) takes
seconds and at worst about a minute, hence the long timeout; the proxy queues
requests, and this back-end's single worker thread sends one at a time.
"""

import time
from dataclasses import replace
from typing import Any
from urllib.parse import urljoin

from wallbox.vehicle import ble_wire
from wallbox.vehicle.auth import NoAuth
from wallbox.vehicle.backend import Command, NotFound, Unavailable, Vehicle, command_body
from wallbox.vehicle.charge_state import UNKNOWN, ChargeState, from_vehicle_data
from wallbox.vehicle.http_client import ApiHttp, body_of, words_of
from wallbox.vehicle.wire import normalize_api_url

BLE_TIMEOUT_S = 90.0


class BleBackend:
    def __init__(self, api_url: str, *, timeout: float = BLE_TIMEOUT_S) -> None:
        self.api_url = normalize_api_url(api_url)
        self.http = ApiHttp(timeout=timeout, name="tesla-ble")
        self.auth = NoAuth()

    async def vehicles(self) -> list[Vehicle]:
        return []  # TeslaBleHttpProxy knows no account: wallbox_cars names the cars

    async def summary(self, car: Vehicle) -> str:
        try:
            status = await self._call("GET", car, "body_controller_state", "read the sleep state")
        except NotFound:
            return UNKNOWN  # a proxy from before body_controller_state
        return ble_wire.sleep_state(status)

    async def charge_state(self, car: Vehicle, read_at: float) -> ChargeState:
        data = await self._call(
            "GET",
            car,
            "vehicle_data",
            "read the charge state",
            params={"endpoints": ble_wire.DATA_ENDPOINTS},
        )
        if not isinstance(data, dict) or not isinstance(data.get("charge_state"), dict):
            raise Unavailable("read the charge state: TeslaBleHttpProxy sent no charge_state")
        return replace(from_vehicle_data(data, read_at), nearby=True)

    async def wake_up(self, car: Vehicle) -> str:
        await self._call(
            "POST", car, "command/wake_up", "wake up", params=ble_wire.COMMAND_PARAMS, json={}
        )
        return UNKNOWN  # the proxy says only that the car took it; the sleep state tells more

    async def command(self, car: Vehicle, command: Command, value: int | None = None) -> None:
        await self._call(
            "POST",
            car,
            f"command/{command.value}",
            command.value,
            command=command.value,
            params=ble_wire.COMMAND_PARAMS,
            json=command_body(command, value),
        )

    def close(self) -> None:
        self.http.close()

    async def _call(
        self, method: str, car: Vehicle, tail: str, what: str, command: str | None = None, **kw
    ) -> Any:
        url = urljoin(self.api_url, ble_wire.vehicle_path(car.vin, tail))
        return await self.http.run(lambda: self._request(method, url, what, command, **kw), what)

    def _request(self, method: str, url: str, what: str, command: str | None, **kw: Any) -> Any:
        """In the worker thread: the inner response of a `result: true` answer."""
        response = self.http.send(self.auth.session(what), method, url, what, **kw)
        body = body_of(response)
        if response.ok and body is not None:
            result, reason, inner = ble_wire.unwrap(body)
            if result:
                return inner
        else:
            reason = words_of(response, body)
        raise ble_wire.failure(
            response.status_code,
            reason,
            response.headers.get("Retry-After"),
            time.time(),
            what,
            command,
        )
