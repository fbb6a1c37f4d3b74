"""Which API host a TeslaMate token is for, and what to say when a request cannot work.

TeslaMate 4.x signs in at its `TESLA_AUTH_HOST` (default auth.tesla.com) with
its `TESLA_AUTH_CLIENT_ID` (default `ownerapi`) and sends the tokens to its
`TESLA_API_HOST` (default the Owner API, owner-api.teslamotors.com; with the
Chinese issuer owner-api.vn.cloud.tesla.cn): teslamate-org/teslamate
`lib/tesla_api/auth.ex`, `auth/refresh.ex`, `vehicle.ex`. A token belongs to
that host: the Owner API refuses a Fleet API token and the other way round.

Tesla's access tokens are JWTs whose `aud` claim lists the API hosts they are
for (besides the sign-in host's userinfo), and whose `azp` names the client.
The claims are read here, not verified: they only decide the words of a
message and stop a request to a Tesla host the token is not for. The API
checks the token. A token that is no JWT (older Owner API tokens `qts-…`,
`eu-…`, `cn-…`; a relay's own) names no host, and nothing is refused for it.
"""

import base64
import binascii
import json
from typing import Any
from urllib.parse import urlsplit

TESLA_DOMAINS = ("tesla.com", "teslamotors.com", "tesla.cn")
SIGN_IN_HOSTS = ("auth.", "fleet-auth.")  # audiences for userinfo, not for API calls
README = "README: TeslaMate, Tokens"


def claims(access_token: str) -> dict[str, Any] | None:
    """The payload of a JWT, unverified; None if the token is no JWT."""
    parts = access_token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, TypeError, binascii.Error):
        return None
    return payload if isinstance(payload, dict) else None


def host_of(url: str) -> str:
    """The host name of a URL (or of a bare host name), lower case."""
    return (urlsplit(url if "//" in url else f"//{url}").hostname or "").lower()


def is_tesla_host(host: str) -> bool:
    return any(host == d or host.endswith("." + d) for d in TESLA_DOMAINS)


def api_hosts(access_token: str) -> tuple[str, ...]:
    """The API hosts the token says it is for, in its order; () when it does not say."""
    payload = claims(access_token) or {}
    audience = payload.get("aud")
    listed = [audience] if isinstance(audience, str) else audience
    if not isinstance(listed, list):
        return ()
    hosts = (host_of(a) for a in listed if isinstance(a, str))
    return tuple(dict.fromkeys(h for h in hosts if h and not h.startswith(SIGN_IN_HOSTS)))


def client_of(access_token: str) -> str | None:
    client = (claims(access_token) or {}).get("azp")
    return client if isinstance(client, str) and client else None


def described(access_token: str) -> str:
    """What the token says about itself, for messages: never the token."""
    hosts, client = api_hosts(access_token), client_of(access_token)
    made = f" (client {client})" if client else ""
    if not hosts:
        return f"TeslaMate's token{made} does not say which API host it is for"
    return f"TeslaMate's token{made} is for {', '.join(hosts)}"


def wrong_host(api_url: str, access_token: str) -> str | None:
    """Why sending this token to `api_url` cannot work, or None when it may.

    Only a Tesla host the token does not name is refused: a local
    tesla-http-proxy or a relay forwards to a host of its own choosing."""
    host, hosts = host_of(api_url), api_hosts(access_token)
    if not hosts or not is_tesla_host(host) or host in hosts:
        return None
    return (
        f"{described(access_token)}, not {host}: set tesla_api_url to the API host "
        f"TeslaMate uses (its TESLA_API_HOST), https://{hosts[0]}/, or to a tesla-http-proxy "
        f"that forwards there ({README})"
    )


def refused(api_url: str, access_token: str, status: int) -> str:
    """What to do when the API answered 401/403 to TeslaMate's newest token."""
    host = host_of(api_url)
    if host in api_hosts(access_token):
        return (
            f"{host} refused TeslaMate's token (HTTP {status}), and it is for {host}: TeslaMate "
            "lost its sign-in (a new password, a revoked app): sign in to TeslaMate again"
        )
    return (
        f"{host} refused TeslaMate's token (HTTP {status}); {described(access_token)}: set "
        "tesla_api_url to the API host TeslaMate uses (its TESLA_API_HOST; with TeslaMate's "
        "TOKEN set, its relay needs that TOKEN, not these tokens), or sign in to TeslaMate "
        f"again ({README})"
    )
