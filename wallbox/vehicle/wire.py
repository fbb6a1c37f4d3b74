"""The vehicle API's wire, as pure rules: base URLs, how cars are named in paths,
and the shapes of its answers (the Owner and Fleet APIs' `{"response": ...}`,
TeslaBleHttpProxy's one level deeper, tesla-http-proxy's refusals, and their
error texts)."""

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from wallbox.vehicle.errors import Unavailable

OWNER_API_URL = "https://owner-api.teslamotors.com/"
OWNER_API_HOST = "owner-api.teslamotors.com"
DATA_ENDPOINTS = "charge_state;location_data"  # location_data: Fleet API needs it for GPS


def normalize_api_url(url: str) -> str:
    """Check and normalize `tesla_api_url`; raises ValueError saying what is wrong."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not an http:// or https:// URL")
    if parts.query or parts.fragment:
        raise ValueError(f"{url!r} must not have a query or fragment")
    return url.strip().rstrip("/") + "/"


def vin_in_path(api_url: str, setting: str = "auto") -> bool:
    """Whether cars are addressed by VIN: everywhere but the Owner API, unless set."""
    if setting in ("yes", "true"):
        return True
    if setting in ("no", "false"):
        return False
    return urlsplit(api_url).hostname != OWNER_API_HOST


def is_loopback(url: str) -> bool:
    """Whether `url` stays on this host (a bearer token may go there over plain http)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def command_result(answer: Any) -> tuple[bool, str] | None:
    """(result, reason) of a command's `response`; None when it has no result.

    tesla-http-proxy sends a car's refusal as `{"result": false, "string": ...}`
    (its carResponse struct names the field `string`), the Fleet and Owner APIs
    and TeslaBleHttpProxy as `reason`."""
    if not isinstance(answer, dict) or "result" not in answer:
        return None
    reason = answer.get("reason") or answer.get("string") or ""
    return bool(answer["result"]), str(reason)


def reason_of(body: Any, status_text: str) -> str:
    """The API's own words for a failure (`body`: the parsed JSON, None if it was
    not JSON), else the HTTP status text."""
    if isinstance(body, dict):
        if isinstance(body.get("error"), str) and body["error"]:
            return body["error"]
        inner = body.get("response")
        if isinstance(inner, dict):
            for key in ("reason", "string"):
                if isinstance(inner.get(key), str) and inner[key]:
                    return inner[key]
    return status_text or ""


def payload_of(body: Any) -> Any:
    """`response` of an answer; TeslaBleHttpProxy nests the data one level deeper."""
    if not isinstance(body, dict) or "response" not in body:
        raise Unavailable("the vehicle API answered without a `response` field")
    inner = body["response"]
    if isinstance(inner, dict) and isinstance(inner.get("response"), dict) and "vin" in inner:
        if "charge_state" in inner["response"]:
            return inner["response"]
    return inner


def short_error(error: Exception) -> str:
    text = str(error)
    if "Connection refused" in text:
        return "connection refused"
    if "timed out" in text.lower():
        return "timed out"
    return text if len(text) < 160 else text[:157] + "..."
