"""The HTTP plumbing every HTTP back-end shares, written once.

requests is blocking, so each back-end owns one worker thread and every call
runs there: never on the event loop, and never two at once on one session (a
token refresh then happens once, and TeslaBleHttpProxy's queue sees one
request at a time). Transport failures become `Unavailable`, OAuth failures
`Unauthorized`, and non-2xx answers the typed error `answers.error_from_http`
names, with the API's own words; no token ever appears in a message.
"""

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import requests
from oauthlib.oauth2.rfc6749.errors import OAuth2Error
from requests_oauthlib import OAuth2Session

from wallbox.vehicle.answers import LOGIN_ADVICE, error_from_http
from wallbox.vehicle.errors import BackendError, Unauthorized, Unavailable
from wallbox.vehicle.wire import reason_of, short_error

logger = logging.getLogger(__name__)
# requests_oauthlib logs the whole token at debug level: never let it.
logging.getLogger("requests_oauthlib").setLevel(logging.INFO)

T = TypeVar("T")
Failure = Callable[[int, str, str | None, float, str], BackendError]


class ApiHttp:
    def __init__(self, *, timeout: float = 15.0, ca_file: str = "", name: str = "tesla-api"):
        self.timeout = timeout
        self.ca_file = ca_file
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._closed = False

    async def run(self, call: Callable[[], T], what: str) -> T:
        """`call()` in the worker thread."""
        if self._closed:
            raise Unavailable(f"{what}: the back-end is shut down")
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, call)
        except RuntimeError as e:  # the executor was shut down while we waited
            raise Unavailable(f"{what}: {e}") from None

    def send(
        self,
        session: requests.Session,
        method: str,
        url: str,
        what: str,
        *,
        oauth: bool = False,
        advice: str = LOGIN_ADVICE,
        **kwargs: Any,
    ) -> requests.Response:
        """One request; `oauth`: through the OAuth session, which adds its bearer token."""
        kwargs.setdefault("timeout", self.timeout)
        if self.ca_file:  # per request: REQUESTS_CA_BUNDLE would override the session's
            kwargs.setdefault("verify", self.ca_file)
        try:
            if oauth:
                return OAuth2Session.request(session, method, url, **kwargs)
            return requests.Session.request(session, method, url, **kwargs)
        except OAuth2Error as e:
            raise Unauthorized(
                f"{what}: the Tesla login is no longer valid ({e.description or e.error}): {advice}"
            ) from None
        except requests.RequestException as e:
            base = url.split("/api/", 1)[0]
            raise Unavailable(f"{what}: {base} is not reachable ({short_error(e)})") from None

    def close(self) -> None:
        self._closed = True
        self._executor.shutdown(wait=False, cancel_futures=True)


def body_of(response: requests.Response) -> Any:
    """The parsed JSON, or None when the body is not JSON."""
    try:
        return response.json()
    except ValueError:
        return None


def words_of(response: requests.Response, body: Any) -> str:
    """The API's own words for a failure: its JSON error, a short text body, the status text."""
    reason = reason_of(body, "")
    if not reason and body is None:
        text = response.text.strip()
        reason = text if 0 < len(text) <= 200 else ""
    return reason or response.reason or ""


def checked(
    response: requests.Response,
    what: str,
    advice: str = LOGIN_ADVICE,
    failure: Failure | None = None,
) -> Any:
    """The JSON body of a 2xx answer; the typed error for anything else."""
    body = body_of(response)
    if not response.ok:
        reason = words_of(response, body)
        retry_after = response.headers.get("Retry-After")
        if failure is not None:
            raise failure(response.status_code, reason, retry_after, time.time(), what)
        raise error_from_http(
            response.status_code, reason, retry_after, time.time(), what, advice=advice
        )
    if body is None:
        raise Unavailable(f"{what}: the answer is not JSON")
    return body
