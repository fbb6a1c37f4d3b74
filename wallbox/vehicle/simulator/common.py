"""What every simulated API shape shares: the account on the app, Tesla's error
envelope, the bearer-token check, and the count of what Tesla would bill."""

import math
from collections.abc import Callable
from typing import Any

from aiohttp import web

from wallbox.vehicle.billing import billed, kind_of
from wallbox.vehicle.simulator.fleet import Fleet, SimError

FLEET = web.AppKey("fleet", Fleet)
SITE = web.AppKey("site", str)  # which shape this app plays, for `via` in the call report


def fail(error: SimError) -> web.Response:
    """Tesla's error envelope (Owner and Fleet APIs, tesla-http-proxy)."""
    headers = {}
    if error.retry_after is not None:
        headers["Retry-After"] = str(math.ceil(error.retry_after))
    body = {"response": None, "error": error.reason, "error_description": ""}
    return web.json_response(body, status=error.status, headers=headers)


def api(handler: Callable[[Fleet, web.Request], Any]):
    """A GET/POST handler answering `{"response": handler(...)}`, or the error envelope."""

    async def wrapped(request: web.Request) -> web.Response:
        try:
            return web.json_response({"response": handler(request.app[FLEET], request)})
        except SimError as e:
            return fail(e)

    return wrapped


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object ({} when empty); SimError 400 otherwise."""
    try:
        body = await request.json() if request.can_read_body else {}
    except ValueError:
        raise SimError(400, "the body is not JSON") from None
    if not isinstance(body, dict):
        raise SimError(400, "the body must be a JSON object")
    return body


def bearer_of(request: web.Request) -> str:
    auth = request.headers.get("Authorization", "")
    return auth[7:] if auth.lower().startswith("bearer ") else ""


@web.middleware
async def bearer_and_billing(request: web.Request, handler) -> web.StreamResponse:
    """Record the token of every API call and refuse tokens not accepted (401, as Tesla);
    count each answer Tesla would bill (a status under 500) by kind."""
    if "/api/" not in request.path:
        return await handler(request)
    fleet = request.app[FLEET]
    token = bearer_of(request)
    if token:
        fleet.bearer[token] += 1
    if fleet.accepted_tokens and token not in fleet.accepted_tokens:
        fleet.calls["unauthorized"] += 1
        response: web.StreamResponse = fail(SimError(401, "invalid bearer token"))
    else:
        response = await handler(request)
    kind = kind_of(request.method, request.path)
    if kind is not None and billed(response.status):
        fleet.billed[kind] += 1
    return response
