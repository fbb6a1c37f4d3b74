"""The Fleet API back-end, with the user's own developer app (PROTOCOL.md 5a).

- Tokens: `make login FLEET_CLIENT_ID=...` (fleet_login.py) stores them with the
  app's client id in teslapy's cache format; they are refreshed at the Fleet auth
  host with that client id when they expire, and after a 401 (auth.py).
- Region: at the first call the back-end asks `GET /api/1/users/region`
  (`tesla_api_url`, by default Tesla's na host, which answers for every region)
  and sends everything after to the `fleet_api_base_url` it names. A 421 "user
  out of region, use base URL: ..." moves it there and the call is made again.
- Commands go to `tesla_command_url`, Tesla's tesla-http-proxy, which signs
  them (VIN in the path); without it they go unsigned to the Fleet API, which
  answers modern cars 403 "Vehicle Command Protocol required": that becomes an
  error saying to set it up.
- Billing: every answer under 500 is billed (billing.py). This back-end adds no
  call of its own beyond the one region look-up per start.
"""

import logging
from typing import Any

from wallbox.vehicle.auth import OAuthAuth
from wallbox.vehicle.errors import Misdirected, NotFound
from wallbox.vehicle.fleet_wire import REGION_PATH, region_base_url
from wallbox.vehicle.rest_backend import RestBackend
from wallbox.vehicle.tokens import TokenSource

logger = logging.getLogger(__name__)


class FleetBackend(RestBackend):
    def __init__(
        self,
        api_url: str,
        tokens: TokenSource,
        email: str = "",
        *,
        command_url: str = "",
        ca_file: str = "",
        timeout: float = 15.0,
    ) -> None:
        self.tokens = tokens
        self.oauth = OAuthAuth(tokens, email, ca_file=ca_file, timeout=timeout, fleet=True)
        super().__init__(
            api_url,
            self.oauth,
            by_vin=True,
            command_url=command_url,
            ca_file=ca_file,
            timeout=timeout,
        )
        self.region_url: str | None = None  # the account's region, once asked

    def _base(self, what: str) -> str:
        if self.region_url is None:
            self.region_url = self._find_region()
        return self.region_url

    def _find_region(self) -> str:
        what = "find the account's region"
        try:
            payload = super()._request("GET", REGION_PATH, what, base=self.api_url)
        except NotFound:
            logger.info("Fleet API: %s has no region endpoint; using it as it is", self.api_url)
            return self.api_url
        url = region_base_url(payload)
        if url is None:
            logger.warning("Fleet API: the region answer names no base URL; using %s", self.api_url)
            return self.api_url
        region = payload.get("region") if isinstance(payload, dict) else None
        logger.info("Fleet API: the account's region is %s, at %s", region or "?", url)
        return url

    def _request(self, method: str, path: str, what: str, base: str = "", **kwargs: Any) -> Any:
        try:
            return super()._request(method, path, what, base, **kwargs)
        except Misdirected as e:
            if base or e.base_url is None or e.base_url == self.region_url:
                raise  # the signing proxy finds the region itself
            logger.info("Fleet API: the account moved to %s", e.base_url)
            self.region_url = e.base_url
            return super()._request(method, path, what, base, **kwargs)
