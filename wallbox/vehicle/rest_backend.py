"""The Owner/Fleet-shaped REST API, once for every back-end that speaks it.

`GET api/1/vehicles`, `GET api/1/vehicles/{car}` (the sleep state, never
waking), `GET .../vehicle_data?endpoints=charge_state;location_data`,
`POST .../wake_up` and `POST .../command/{name}`. The Owner API names a car
by its id, everything else (Fleet API, tesla-http-proxy, relays) by its VIN.
Commands may go to another base URL than the rest: tesla-http-proxy, which
signs them (`command_url`).

teslapy's `Vehicle` is not used: it fetches the account's order list when it
is created (one more billed call per car) and reports every failure as a
generic HTTPError, while the controller needs to tell 408 from 429 from 401.

Tokens go only over https, with one exception: a static token to a relay on
loopback (a local forwarder). OAuth tokens are never loaded for an http URL:
plain http is for local proxies and the simulator, which need no Tesla token.
"""

from typing import Any
from urllib.parse import urljoin

from wallbox.vehicle.answers import refusal_reason
from wallbox.vehicle.auth import BearerAuth, NoAuth, OAuthAuth
from wallbox.vehicle.backend import (
    Command,
    CommandRefused,
    NotFound,
    Unauthorized,
    Unavailable,
    Vehicle,
    command_body,
)
from wallbox.vehicle.charge_state import ChargeState, from_vehicle_data
from wallbox.vehicle.http_client import ApiHttp, checked
from wallbox.vehicle.wire import (
    DATA_ENDPOINTS,
    command_result,
    is_loopback,
    normalize_api_url,
    payload_of,
)

Auth = NoAuth | BearerAuth | OAuthAuth


class RestBackend:
    def __init__(
        self,
        api_url: str,
        auth: Auth,
        *,
        by_vin: bool = True,
        command_url: str = "",
        ca_file: str = "",
        timeout: float = 15.0,
    ) -> None:
        self.api_url = normalize_api_url(api_url)
        self.command_url = normalize_api_url(command_url) if command_url else ""
        self.auth = auth
        self.by_vin = by_vin
        self.http = ApiHttp(timeout=timeout, ca_file=ca_file)
        self._plain = NoAuth()
        for url in filter(None, (self.api_url, self.command_url)):
            if isinstance(auth, BearerAuth) and url.startswith("http://") and not is_loopback(url):
                raise ValueError(f"{url}: a token is sent only over https:// (or to loopback)")

    # --- the VehicleBackend protocol ------------------------------------------

    async def vehicles(self) -> list[Vehicle]:
        try:
            listed = await self._call("GET", "api/1/vehicles", what="list the cars")
        except NotFound:
            if self.by_vin:
                return []  # a proxy without a list: the cars come from wallbox_cars
            raise
        if not isinstance(listed, list):
            raise Unavailable("list the cars: the answer is not a list")
        cars = []
        for item in listed:
            if isinstance(item, dict) and isinstance(item.get("vin"), str):
                car_id = item.get("id_s") or item.get("id")
                cars.append(
                    Vehicle(
                        vin=item["vin"],
                        id=str(car_id) if car_id is not None else None,
                        name=str(item.get("display_name") or ""),
                        state=str(item.get("state") or "unknown"),
                    )
                )
        return cars

    async def summary(self, car: Vehicle) -> str:
        try:
            data = await self._call("GET", self._path(car), what="read the sleep state")
        except NotFound:
            return "unknown"  # a proxy without the summary endpoint
        state = data.get("state") if isinstance(data, dict) else None
        return state if isinstance(state, str) and state else "unknown"

    async def charge_state(self, car: Vehicle, read_at: float) -> ChargeState:
        data = await self._call(
            "GET",
            self._path(car, "vehicle_data"),
            params={"endpoints": DATA_ENDPOINTS},
            what="read the charge state",
        )
        if not isinstance(data, dict):
            raise Unavailable("read the charge state: the answer is not an object")
        return from_vehicle_data(data, read_at)

    async def wake_up(self, car: Vehicle) -> str:
        data = await self._call("POST", self._path(car, "wake_up"), what="wake up")
        state = data.get("state") if isinstance(data, dict) else None
        return state if isinstance(state, str) else "unknown"

    async def command(self, car: Vehicle, command: Command, value: int | None = None) -> None:
        answer = await self._call(
            "POST",
            self._path(car, f"command/{command.value}"),
            base=self.command_url,
            json=command_body(command, value),
            what=command.value,
        )
        result = command_result(answer)
        if result is None:
            raise Unavailable(f"{command.value}: the answer has no result")
        ok, reason = result
        if not ok:
            raise CommandRefused(command.value, refusal_reason(reason))

    def close(self) -> None:
        self.http.close()

    # --- plumbing ---------------------------------------------------------------

    def _path(self, car: Vehicle, tail: str = "") -> str:
        key = car.vin if self.by_vin or car.id is None else car.id
        return f"api/1/vehicles/{key}" + (f"/{tail}" if tail else "")

    async def _call(self, method: str, path: str, *, what: str, base: str = "", **kw: Any) -> Any:
        return await self.http.run(lambda: self._request(method, path, what, base, **kw), what)

    def _base(self, what: str) -> str:
        """The base URL for everything but commands (the Fleet back-end finds its region)."""
        return self.api_url

    def _request(self, method: str, path: str, what: str, base: str = "", **kwargs: Any) -> Any:
        """In the worker thread: send, refresh and resend once after a 401, unwrap."""
        url = urljoin(base or self._base(what), path)
        auth: Auth = self.auth
        if isinstance(auth, OAuthAuth) and not url.startswith("https://"):
            auth = self._plain  # never an OAuth token over http
        session = auth.session(what)
        auth.before(session, what)
        advice = self.auth.advice  # over http too: a 401 there is still about the login
        send = dict(oauth=auth.oauth, advice=advice, **kwargs)
        response = self.http.send(session, method, url, what, **send)
        if response.status_code == 401 and auth.after_401(session, what):
            response = self.http.send(session, method, url, what, **send)
        if response.status_code == 401 and isinstance(auth, OAuthAuth):
            if (why := auth.refused(session, response.status_code)) is not None:
                raise Unauthorized(f"{what}: {why}")
        return payload_of(checked(response, what, advice))
