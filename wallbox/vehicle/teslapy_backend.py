"""The Owner API back-end, on teslapy's tokens: `make login`'s token file, or
TeslaMate's tokens read-only.

Since June 2026 the Owner API answers third parties 403 "forbidden, see
developer.tesla.com" (PROTOCOL.md 5a): that becomes one clear error naming the
back-ends that work, asked again only hourly. It stays selectable
(`tesla_backend=owner`) for whoever it still serves, and it is what
`tesla_backend=auto` takes for any other Owner/Fleet-shaped URL: the
simulator, a local proxy; there the URL decides how cars are named in paths
(the Owner API: by id; anywhere else: by VIN, `tesla_api_vin_in_path`).
"""

from wallbox.vehicle.auth import OAuthAuth
from wallbox.vehicle.rest_backend import RestBackend
from wallbox.vehicle.tokens import TokenSource
from wallbox.vehicle.wire import normalize_api_url, vin_in_path


class TeslapyBackend(RestBackend):
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
        url = normalize_api_url(api_url)
        self.tokens = tokens
        self.email = email
        self.oauth = OAuthAuth(tokens, email, ca_file=ca_file, timeout=timeout)
        super().__init__(
            url, self.oauth, by_vin=vin_in_path(url, vin_path), ca_file=ca_file, timeout=timeout
        )

    @property
    def secure(self) -> bool:
        """Whether tokens are used at all: only over https."""
        return self.api_url.startswith("https://")

    @property
    def read_only(self) -> bool:
        return self.oauth.read_only

    @property
    def _tokens_read_at(self) -> float:  # when a read-only source was last read
        return self.oauth.tokens_read_at

    @_tokens_read_at.setter
    def _tokens_read_at(self, value: float) -> None:
        self.oauth.tokens_read_at = value
