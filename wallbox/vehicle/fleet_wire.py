"""The Fleet API's sign-in and region, as pure rules (developer.tesla.com: Third-Party
Tokens, Base URLs by Region; PROTOCOL.md 5a; teslamotors/vehicle-command
pkg/proxy/proxy.go for the 421 text).

- Sign-in: the authorization-code flow at auth.tesla.com with the app's own
  client id; the code and every refresh go to the Fleet auth host. Refresh
  tokens rotate: each refresh answers a new one, the old one is then spent.
- Region: `GET /api/1/users/region` answers `{"response": {"region": "eu",
  "fleet_api_base_url": "https://fleet-api.prd.eu.vn.cloud.tesla.com"}}`.
  A call to another region's host answers 421 "user out of region, use base
  URL: https://...".
"""

import re
from typing import Any
from urllib.parse import urlsplit

AUTHORIZE_URL = "https://auth.tesla.com/oauth2/v3/authorize"
AUTH_HOST = "https://fleet-auth.prd.vn.cloud.tesla.com/"  # + oauth2/v3/token
TOKEN_PATH = "oauth2/v3/token"
SCOPES = (
    "openid",
    "offline_access",
    "vehicle_device_data",
    "vehicle_charging_cmds",
    "vehicle_cmds",
)
# Where to ask for the region: any region's host answers; na is Tesla's first.
DISCOVERY_URL = "https://fleet-api.prd.na.vn.cloud.tesla.com/"
REGION_PATH = "api/1/users/region"
REGION_HOSTS = (
    "fleet-api.prd.na.vn.cloud.tesla.com",
    "fleet-api.prd.eu.vn.cloud.tesla.com",
    "fleet-api.prd.cn.vn.cloud.tesla.cn",
)

_BASE_URL_IN_TEXT = re.compile(r"use base URL: (https://[-A-Za-z0-9.:]+[-A-Za-z0-9/._]*)")


def is_fleet_host(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host in REGION_HOSTS or host.startswith("fleet-api.")


def region_base_url(payload: Any) -> str | None:
    """`fleet_api_base_url` of the region answer, with one trailing slash; None if absent."""
    if not isinstance(payload, dict):
        return None
    url = payload.get("fleet_api_base_url")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        return None
    return url.rstrip("/") + "/"


def misdirected_base_url(reason: str) -> str | None:
    """The base URL a 421 "user out of region" names, if it names one."""
    found = _BASE_URL_IN_TEXT.search(reason)
    return found.group(1).rstrip("/") + "/" if found else None
