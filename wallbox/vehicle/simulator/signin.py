"""Tesla's token endpoint, `POST /oauth2/v3/token`, as the Fleet auth host plays it:
the authorization-code grant of a sign-in and the refresh grant, each for the
one client id set (`--client-id`; empty: any). Refresh tokens rotate: a refresh
spends the one it was given (a second use answers 401 login_required), and a
new access token is accepted from then on."""

import base64
import json

from aiohttp import web

from wallbox.vehicle.simulator.common import FLEET
from wallbox.vehicle.simulator.fleet import Fleet

EMAIL = "sim@example.org"  # the id_token's email claim


def _id_token() -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none'})}.{part({'email': EMAIL, 'sub': 'sim-user'})}.sig"


def _refused(error: str, description: str) -> web.Response:
    return web.json_response({"error": error, "error_description": description}, status=401)


def issue(fleet: Fleet) -> dict:
    """A new token pair; the access token is accepted wherever tokens are checked."""
    n = fleet.calls["token"]
    access, refresh = f"sim-access-{n}", f"sim-refresh-{n}"
    if fleet.accepted_tokens:
        fleet.accepted_tokens.add(access)
    fleet.refresh_tokens.add(refresh)
    return {
        "access_token": access,
        "refresh_token": refresh,
        "id_token": _id_token(),
        "expires_in": 28800,
        "token_type": "Bearer",
    }


async def token(request: web.Request) -> web.Response:
    fleet = request.app[FLEET]
    fleet.calls["token"] += 1
    form = await request.post() if request.can_read_body else {}
    grant = str(form.get("grant_type") or "")
    client_id = str(form.get("client_id") or "")
    extra = "".join(f" +{k}" for k in ("client_secret", "code_verifier", "audience") if form.get(k))
    fleet.via[("token", f"{grant} client_id={client_id}{extra}")] += 1
    if fleet.client_id and client_id != fleet.client_id:
        return _refused("invalid_client", f"unknown client_id {client_id!r}")
    if grant == "refresh_token":
        given = str(form.get("refresh_token") or "")
        tracked = bool(fleet.refresh_tokens) or fleet.client_id
        if tracked and given not in fleet.refresh_tokens:
            return _refused("login_required", "The refresh_token is invalid")
        fleet.refresh_tokens.discard(given)
    elif grant == "authorization_code":
        if not form.get("code"):
            return _refused("invalid_request", "code is missing")
    else:
        return _refused("unsupported_grant_type", f"grant_type {grant!r}")
    return web.json_response(issue(fleet))


def add_routes(app: web.Application) -> None:
    app.router.add_post("/oauth2/v3/token", token)
