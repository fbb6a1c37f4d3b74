"""The vehicle back-end on teslapy: Owner API, Fleet API, tesla-http-proxy, TeslaBleHttpProxy.

teslapy's session does what is hard to get right: the OAuth tokens in its cache
format, their automatic refresh, and `make login`. The few requests themselves
are built here, for two reasons: teslapy's `Vehicle` fetches the account's
order list when it is created (one more billed call per car) and reports every
failure as a generic HTTPError, while the controller needs to tell 408 from
429 from 401.

teslapy is blocking (requests), so every call runs in this back-end's own
single worker thread: never on the event loop, and never two at once on one
session (a token refresh then happens once).

The base URL decides how a car is named in paths: the Owner API takes its id,
everything else (Fleet API, tesla-http-proxy, TeslaBleHttpProxy) the VIN.
Plain `http://` is only for local proxies and the simulator, which need no
Tesla token: the token is never sent over http.

A read-only token source (TeslaMate's database) is never written and its
tokens are never refreshed here: teslapy's refresh is switched off, and the
source is read again every `reread_s`, when the access token has expired, and
after a 401 (then the request is tried once more with the new token).
"""

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urljoin

import requests
import teslapy
from oauthlib.oauth2.rfc6749.errors import OAuth2Error
from requests_oauthlib import OAuth2Session

from wallbox.vehicle.backend import (
    Command,
    CommandRefused,
    NotConfigured,
    NotFound,
    Unauthorized,
    Unavailable,
    Vehicle,
    command_body,
    error_from_http,
)
from wallbox.vehicle.charge_state import ChargeState, from_vehicle_data
from wallbox.vehicle.tokens import TokenSource, account_email, for_teslapy, has_token, missing_login
from wallbox.vehicle.wire import (
    DATA_ENDPOINTS,
    normalize_api_url,
    payload_of,
    reason_of,
    short_error,
    vin_in_path,
)

logger = logging.getLogger(__name__)
# requests_oauthlib logs the whole token at debug level: never let it.
logging.getLogger("requests_oauthlib").setLevel(logging.INFO)


class TeslapyBackend:
    def __init__(
        self,
        api_url: str,
        tokens: TokenSource,
        email: str = "",
        *,
        vin_path: str = "auto",
        ca_file: str = "",
        timeout: float = 15.0,
    ) -> None:
        self.api_url = normalize_api_url(api_url)
        self.tokens = tokens
        self.email = email
        self.by_vin = vin_in_path(self.api_url, vin_path)
        self.ca_file = ca_file
        self.timeout = timeout
        self.secure = self.api_url.startswith("https://")
        self.read_only = bool(getattr(tokens, "read_only", False))
        self._session: teslapy.Tesla | None = None
        self._tokens_read_at = 0.0
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tesla-api")
        self._closed = False

    # --- the VehicleBackend protocol ------------------------------------------

    async def vehicles(self) -> list[Vehicle]:
        try:
            listed = await self._call("GET", "api/1/vehicles", what="list the cars")
        except NotFound:
            if self.by_vin:
                return []  # TeslaBleHttpProxy has no list: the cars come from wallbox_cars
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
            json=command_body(command, value),
            what=command.value,
        )
        if not isinstance(answer, dict) or "result" not in answer:
            raise Unavailable(f"{command.value}: the answer has no result")
        if not answer["result"]:
            raise CommandRefused(command.value, str(answer.get("reason") or "no reason given"))

    def close(self) -> None:
        self._closed = True
        self._executor.shutdown(wait=False, cancel_futures=True)

    # --- plumbing ---------------------------------------------------------------

    def _path(self, car: Vehicle, tail: str = "") -> str:
        key = car.vin if self.by_vin or car.id is None else car.id
        return f"api/1/vehicles/{key}" + (f"/{tail}" if tail else "")

    async def _call(self, method: str, path: str, *, what: str, **kwargs: Any) -> Any:
        if self._closed:
            raise Unavailable(f"{what}: the back-end is shut down")
        call: Callable[[], Any] = lambda: self._request(method, path, what, **kwargs)  # noqa: E731
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, call)
        except RuntimeError as e:  # the executor was shut down while we waited
            raise Unavailable(f"{what}: {e}") from None

    def _session_for_thread(self) -> teslapy.Tesla:
        """Create the session in the worker thread: loading tokens touches files."""
        if self._session is not None:
            return self._session
        cache = for_teslapy(self.tokens.load()) if self.secure else {}
        email = account_email(cache, self.email)
        if self.secure and not has_token(cache, email):
            raise NotConfigured(
                missing_login(cache, self.email, self.tokens.describe())
                + " (or point tesla_api_url at a local proxy that needs no token)"
            )

        def nowhere(cache: dict) -> None:
            return None

        session = teslapy.Tesla(
            email or "local-proxy",
            cache_loader=(lambda: cache) if self.secure else dict,
            cache_dumper=self.tokens.save if self.secure and not self.read_only else nowhere,
            timeout=self.timeout,
            verify=self.ca_file or True,
            retry=0,
        )
        if self.read_only:
            session.auto_refresh_url = None  # never refresh someone else's tokens
            session.cache_loader = self.tokens.load
            self._tokens_read_at = time.monotonic()
        else:
            session.cache_loader = self.tokens.load if self.secure else dict
        self._session = session
        return session

    def _reread_tokens(self, session: teslapy.Tesla, what: str, *, force: bool) -> bool:
        """Read a read-only source again when due (or forced); True if the token changed."""
        expires_at = session.token.get("expires_at") or 0
        expired = 0 < expires_at < time.time() + 60
        if not (force or expired or time.monotonic() - self._tokens_read_at >= self.reread_s):
            return False
        self._tokens_read_at = time.monotonic()
        try:
            cache = for_teslapy(self.tokens.load())
        except NotConfigured:
            if force or expired:
                raise
            return False  # a routine re-read failed (logged by the source): the token still works
        entry = cache.get(session.email) or next(iter(cache.values()), {})
        sso = entry.get("sso") if isinstance(entry, dict) else None
        if not isinstance(sso, dict) or not sso.get("access_token"):
            raise NotConfigured(f"{what}: no token in {self.tokens.describe()}")
        expires_at = sso.get("expires_at") or 0
        if 0 < expires_at < time.time():
            raise Unauthorized(
                f"{what}: the access token in {self.tokens.describe()} expired at "
                f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(expires_at))}: TeslaMate "
                "refreshes it while it runs; check that TeslaMate is running and signed in"
            )
        if sso.get("access_token") == session.token.get("access_token"):
            return False
        session.token = sso
        return True

    def _refused(self, session: teslapy.Tesla, status: int) -> str:
        """Why a read-only source's newest token was refused, in its owner's words."""
        says = getattr(self.tokens, "refused", None)  # TeslaMate's: which host it is for
        if callable(says):
            return says(str(session.token.get("access_token") or ""), status)
        return f"HTTP {status}: the Tesla API refused the token from {self.tokens.describe()}"

    @property
    def reread_s(self) -> float:
        return float(getattr(self.tokens, "reread_s", 600.0))

    def _request(self, method: str, path: str, what: str, **kwargs: Any) -> Any:
        session = self._session_for_thread()
        read_only = self.read_only and self.secure
        if read_only:
            self._reread_tokens(session, what, force=False)
        response = self._send(session, method, path, what, **kwargs)
        if read_only and response.status_code == 401:
            if self._reread_tokens(session, what, force=True):  # TeslaMate has a new one
                response = self._send(session, method, path, what, **kwargs)
            if response.status_code in (401, 403):
                raise Unauthorized(f"{what}: {self._refused(session, response.status_code)}")
        try:
            body = response.json()
        except ValueError:
            body = None
        if not response.ok:
            raise error_from_http(
                response.status_code,
                reason_of(body, response.reason),
                response.headers.get("Retry-After"),
                time.time(),
                what,
            )
        if body is None:
            raise Unavailable(f"{what}: the answer is not JSON")
        return payload_of(body)

    def _send(
        self, session: teslapy.Tesla, method: str, path: str, what: str, **kwargs: Any
    ) -> requests.Response:
        url = urljoin(self.api_url, path)
        kwargs.setdefault("timeout", self.timeout)
        if self.ca_file:  # per request: REQUESTS_CA_BUNDLE would override the session's
            kwargs.setdefault("verify", self.ca_file)
        try:
            if self.secure:  # adds the bearer token and refreshes it when it expired
                return OAuth2Session.request(session, method, url, **kwargs)
            return requests.Session.request(session, method, url, **kwargs)
        except OAuth2Error as e:
            advice = (
                f"check that TeslaMate is running and signed in ({self.tokens.describe()})"
                if self.read_only
                else "run `make login` again"
            )
            raise Unauthorized(
                f"{what}: the Tesla login is no longer valid ({e.description or e.error}): {advice}"
            ) from None
        except requests.RequestException as e:
            raise Unavailable(
                f"{what}: {self.api_url} is not reachable ({short_error(e)})"
            ) from None
