"""The back-end for Fleet-compatible relays: Teslemetry, MyTeslaMate, Tessie.

They serve the Fleet API's REST paths (VINs in them) under their own host, sign
commands themselves and take a static bearer token from their web page
(`tesla_api_token`, or better `tesla_api_token_file`). Nothing is refreshed
here; the file is read again after a 401, so a new token takes effect without
a restart. The token is never logged and never sent over plain http, except to
loopback (a local forwarder). Relays price by their own plans, not per call.
"""

from collections.abc import Callable
from pathlib import Path

from wallbox.vehicle.auth import BearerAuth
from wallbox.vehicle.rest_backend import RestBackend


def token_reader(token: str, path: str) -> tuple[Callable[[], str], str]:
    """(read the token, where it is for messages): the option's value, or the file's first line."""
    if token:
        return (lambda: token), "tesla_api_token"

    def from_file() -> str:
        try:
            lines = Path(path).read_text(encoding="utf-8").strip().splitlines()
        except OSError:
            return ""
        return lines[0].strip() if lines else ""

    return from_file, f"tesla_api_token_file {path}"


class RelayBackend(RestBackend):
    def __init__(
        self,
        api_url: str,
        token: Callable[[], str],
        where: str,
        *,
        ca_file: str = "",
        timeout: float = 15.0,
    ) -> None:
        super().__init__(
            api_url, BearerAuth(token, where), by_vin=True, ca_file=ca_file, timeout=timeout
        )
