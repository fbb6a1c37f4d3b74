"""What an answer of a vehicle API means, as pure rules: which typed error a status
code (and Tesla's own words with it) stands for, how long a Retry-After asks to
wait, and the short reason inside a refusal's text.

Tesla's words that change the meaning of a status (PROTOCOL.md 5, 5a):
- 403 `forbidden, see https://developer.tesla.com/docs/fleet-api`: the Owner API
  is closed to third parties (since June 2026). One clear error naming the
  back-ends that work, asked again only after an hour.
- `account disabled: EXCEEDED_LIMIT` (a 403, without Retry-After): the Fleet
  app's limit is used up; TeslaMate 4.1 waits 15 minutes, so do we.
- 403 `Tesla Vehicle Command Protocol required`: the command went unsigned to
  the Fleet API; it must go through tesla-http-proxy.
- 503 `vehicle is sleeping` (TeslaBleHttpProxy, its issue #151): asleep, not down.
"""

from email.utils import parsedate_to_datetime

from wallbox.vehicle.errors import (
    ApiClosed,
    Asleep,
    BackendError,
    Misdirected,
    NotConfigured,
    NotFound,
    RateLimited,
    Unauthorized,
    Unavailable,
)
from wallbox.vehicle.fleet_wire import misdirected_base_url

DEFAULT_RETRY_AFTER_S = 60.0
EXCEEDED_LIMIT_WAIT_S = 900.0
CLOSED_API_WAIT_S = 3600.0
LOGIN_ADVICE = "run `make login` again (or check tesla_token_file / tesla_email)"

WORKING_BACKENDS = (
    "TeslaBleHttpProxy over Bluetooth (free, local: tesla_backend=ble, tesla_api_url=http://"
    "<its host>:8080, wallbox_cars=<VIN>), the Fleet API with your own developer app "
    "(`make login FLEET_CLIENT_ID=<your app's client id>` and tesla_command_url=<your "
    "tesla-http-proxy>), or a Fleet-compatible relay such as Teslemetry, MyTeslaMate or "
    "Tessie (tesla_api_url=<its API URL>, tesla_api_token_file=<a file with its token>); "
    'see "Which back-end?" in the README'
)


def parse_retry_after(value: str | None, now_epoch: float) -> float:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date);
    60 s when absent or unreadable, kept within 1 s..1 h."""
    seconds = DEFAULT_RETRY_AFTER_S
    if value:
        value = value.strip()
        try:
            seconds = float(value)
        except ValueError:
            try:
                seconds = parsedate_to_datetime(value).timestamp() - now_epoch
            except (TypeError, ValueError, IndexError, OverflowError):
                seconds = DEFAULT_RETRY_AFTER_S
        if seconds != seconds:  # NaN
            seconds = DEFAULT_RETRY_AFTER_S
    return min(3600.0, max(1.0, seconds))


def is_closed_api(status: int, reason: str) -> bool:
    """The Owner API's 403 to third parties since June 2026."""
    text = reason.lower()
    return status == 403 and "forbidden" in text and "developer.tesla.com" in text


def is_exceeded_limit(reason: str) -> bool:
    return "exceeded_limit" in reason.lower()


def needs_signing(status: int, reason: str) -> bool:
    return status == 403 and "command protocol required" in reason.lower()


def is_sleeping(status: int, reason: str) -> bool:
    """TeslaBleHttpProxy's answer to a data request while the car sleeps."""
    return status == 503 and "vehicle is sleeping" in reason.lower()


def error_from_http(
    status: int,
    reason: str,
    retry_after: str | None,
    now_epoch: float,
    what: str,
    *,
    advice: str = LOGIN_ADVICE,
) -> BackendError:
    """The typed error for a non-2xx answer of the vehicle API to `what`;
    `advice` says how to get a token the API accepts."""
    detail = f"{what}: HTTP {status}" + (f" ({reason})" if reason else "")
    if status == 408 or is_sleeping(status, reason):
        return Asleep(f"{detail}: the car is asleep or offline")
    if is_exceeded_limit(reason):
        wait = max(EXCEEDED_LIMIT_WAIT_S, parse_retry_after(retry_after, now_epoch))
        return RateLimited(
            f"{detail}: the Fleet API app's limit is used up (raise it at developer.tesla.com); "
            f"asking again in {wait / 60:.0f} min",
            wait,
        )
    if status == 429:
        wait = parse_retry_after(retry_after, now_epoch)
        return RateLimited(f"{detail}: rate limited, retrying in {wait:.0f} s", wait)
    if is_closed_api(status, reason):
        return ApiClosed(
            f"{what}: the Tesla Owner API no longer serves third-party apps (HTTP 403, "
            f"{reason}); set up a back-end that works: {WORKING_BACKENDS}. Asking again in "
            f"{CLOSED_API_WAIT_S / 60:.0f} min",
            CLOSED_API_WAIT_S,
        )
    if needs_signing(status, reason):
        return NotConfigured(
            f"{detail}: this car takes only signed commands: run Tesla's tesla-http-proxy "
            "and set tesla_command_url to it (README: Which back-end?)"
        )
    if status in (401, 403):
        return Unauthorized(f"{detail}: the vehicle API refused the token; {advice}")
    if status == 421:
        return Misdirected(
            f"{detail}: the account is served in another region", misdirected_base_url(reason)
        )
    if status == 404:
        return NotFound(f"{detail}: the vehicle API has no such endpoint or car; retrying")
    return Unavailable(f"{detail}: the vehicle API is not answering properly; retrying")


def refusal_reason(text: str) -> str:
    """The car's own word inside a refusal: vehicle-command's nominal errors read
    "car could not execute command: is_charging", TeslaBleHttpProxy adds
    "failed to start charge: " in front; the Owner/Fleet APIs send the word alone."""
    text = text.strip()
    for marker in ("could not execute command:", "could not execute command"):
        if marker in text:
            word = text.rsplit(marker, 1)[1].strip(" :.")
            return word or text
    return text or "no reason given"
