"""Which vehicle back-end the options ask for, as a pure rule.

`tesla_backend` names it (ble, fleet, relay, owner); `auto` (the default)
reads it from what is set up, first match wins:

| set up | back-end |
| --- | --- |
| a static token (`tesla_api_token`/`_file`), or a relay's host in `tesla_api_url` | relay |
| `tesla_api_url` on owner-api.teslamotors.com | owner |
| a Fleet API login in the token file (`make login FLEET_CLIENT_ID=...`) | fleet |
| `tesla_api_url` on a Fleet API region host, without TeslaMate's tokens | fleet |
| any other `tesla_api_url` (a simulator, an Owner-shaped proxy) | owner (teslapy, as given) |
| an Owner API login, or TeslaMate's tokens, and no URL | owner (the Owner API) |
| nothing | none: the wallbox answers 503 naming the back-ends that work |

TeslaBleHttpProxy is never guessed: its plain `http://` URL looks like any
local proxy, so it takes `tesla_backend=ble`.
"""

from dataclasses import dataclass
from urllib.parse import urlsplit

from wallbox.vehicle.answers import WORKING_BACKENDS
from wallbox.vehicle.fleet_wire import DISCOVERY_URL, is_fleet_host
from wallbox.vehicle.wire import OWNER_API_HOST, OWNER_API_URL

BACKENDS = ("auto", "ble", "fleet", "relay", "owner")
RELAY_HOSTS = {
    "api.teslemetry.com": "Teslemetry",
    "api.myteslamate.com": "MyTeslaMate",
    "api.tessie.com": "Tessie",
}


@dataclass(frozen=True, slots=True)
class Wish:
    backend: str = "auto"  # tesla_backend
    api_url: str = ""  # tesla_api_url, normalized; "" when unset
    static_token: bool = False  # tesla_api_token or tesla_api_token_file is set
    login: str | None = None  # the token file's login: "fleet", "owner" or None
    teslamate_tokens: bool = False  # teslamate_db_url is set


@dataclass(frozen=True, slots=True)
class Choice:
    kind: str  # ble, fleet, relay, owner, none
    api_url: str  # where to send requests ("" for none; Fleet: where to ask for the region)
    why: str  # for the start-up log line, and for `none`, what to do


def relay_name(url: str) -> str | None:
    return RELAY_HOSTS.get(urlsplit(url).hostname or "")


def choose(wish: Wish) -> Choice:
    url = wish.api_url
    if wish.backend == "ble":
        if not url:
            return Choice(
                "none", "", "tesla_backend=ble needs tesla_api_url=http://<TeslaBleHttpProxy's "
                "host>:8080 (and wallbox_cars=<VIN>)",
            )  # fmt: skip
        return Choice("ble", url, "tesla_backend=ble")
    if wish.backend == "relay":
        if not url:
            return Choice("none", "", "tesla_backend=relay needs tesla_api_url=<the relay's URL>")
        return Choice("relay", url, "tesla_backend=relay")
    if wish.backend == "fleet":
        return Choice("fleet", url or DISCOVERY_URL, "tesla_backend=fleet")
    if wish.backend == "owner":
        return Choice("owner", url or OWNER_API_URL, "tesla_backend=owner")
    return _auto(wish)


def _auto(wish: Wish) -> Choice:
    url = wish.api_url
    if wish.static_token or (url and relay_name(url)):
        if not url:
            return Choice(
                "none", "", "tesla_api_token is set, but not tesla_api_url: set it to the "
                "relay's API URL (e.g. https://api.teslemetry.com/)",
            )  # fmt: skip
        return Choice("relay", url, f"a relay ({relay_name(url) or 'static token'})")
    host = urlsplit(url).hostname if url else None
    if host == OWNER_API_HOST:
        return Choice("owner", url, "tesla_api_url is the Owner API")
    if wish.login == "fleet":
        return Choice("fleet", url or DISCOVERY_URL, "the token file holds a Fleet API login")
    if url and is_fleet_host(url) and not wish.teslamate_tokens:
        return Choice("fleet", url, "tesla_api_url is a Fleet API host")
    if url:
        return Choice("owner", url, "tesla_api_url, Owner/Fleet-shaped (teslapy)")
    if wish.login == "owner":
        return Choice("owner", OWNER_API_URL, "the token file holds an Owner API login")
    if wish.teslamate_tokens:
        return Choice("owner", OWNER_API_URL, "TeslaMate's tokens")
    return Choice("none", "", f"no vehicle back-end is set up; choose one: {WORKING_BACKENDS}")
