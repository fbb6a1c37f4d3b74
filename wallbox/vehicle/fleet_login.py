"""`make login FLEET_CLIENT_ID=...`: sign in to the Fleet API with your own developer app.

teslapy's sign-in is hard-wired to the client id `ownerapi`, so this one is built
on requests-oauthlib (which teslapy brings): the authorization-code flow with
PKCE and the Fleet scopes at auth.tesla.com, the code exchanged at the Fleet auth
host with the app's client id (and its secret, when it has one), then
`GET /api/1/users/region` once, to say where the account lives. The tokens go
into teslapy's cache format with the app's client id beside them (tokens.py),
mode 0600; the proxy refreshes them there from then on (auth.py).

The client secret is never an argument (shell histories and process lists keep
those): it comes from TESLA_CLIENT_SECRET, or is asked for without echo.
"""

import base64
import getpass
import json
import os
import sys
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from oauthlib.oauth2.rfc6749.errors import OAuth2Error
from requests_oauthlib import OAuth2Session

from wallbox.vehicle.fleet_wire import (
    AUTH_HOST,
    AUTHORIZE_URL,
    DISCOVERY_URL,
    REGION_PATH,
    SCOPES,
    TOKEN_PATH,
    region_base_url,
)
from wallbox.vehicle.tokens import TokenFile

DEFAULT_REDIRECT_URI = "http://localhost/callback"
SECRET_ENV = "TESLA_CLIENT_SECRET"


class LoginFailed(Exception):
    """The sign-in did not work; `str()` says why and what to do."""


def code_from(redirected_to: str, state: str) -> str:
    """The authorization code in the URL the browser was sent to; checks the state.

    Parsed here rather than by oauthlib, which refuses an http:// redirect URI,
    and a plain http://localhost/... is what most apps register."""
    query = parse_qs(urlsplit(redirected_to.strip()).query)
    if "error" in query:
        detail = query.get("error_description", query["error"])[0]
        raise LoginFailed(f"Tesla refused the sign-in: {detail}")
    if query.get("state", [""])[0] != state:
        raise LoginFailed("that URL is not from this sign-in (its state differs): start again")
    code = query.get("code", [""])[0]
    if not code:
        raise LoginFailed("that URL holds no `code`: paste the whole address of the page")
    return code


def email_of(id_token: Any) -> str | None:
    """The `email` claim of an id_token, unverified: only to name the account."""
    if not isinstance(id_token, str) or id_token.count(".") != 2:
        return None
    payload = id_token.split(".")[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, TypeError):
        return None
    email = claims.get("email") if isinstance(claims, dict) else None
    return email if isinstance(email, str) and email else None


def sign_in(
    client_id: str,
    secret: str,
    ask: Callable[[str], str],
    *,
    redirect_uri: str = DEFAULT_REDIRECT_URI,
    authorize_url: str = AUTHORIZE_URL,
    auth_host: str = AUTH_HOST,
    api_url: str = DISCOVERY_URL,
    verify: str | bool = True,
) -> tuple[dict[str, Any], str | None]:
    """(the token, the region's base URL or None); `ask(url)` returns where the browser went."""
    session = OAuth2Session(client_id, redirect_uri=redirect_uri, scope=list(SCOPES), pkce="S256")
    url, state = session.authorization_url(authorize_url, prompt_missing_scopes="true")
    code = code_from(ask(url), state)
    try:
        token = session.fetch_token(
            urljoin(auth_host, TOKEN_PATH),
            code=code,
            client_secret=secret or None,
            include_client_id=True,
            audience=api_url.rstrip("/"),
            verify=verify,
            timeout=30,
        )
    except OAuth2Error as e:
        raise LoginFailed(f"the code exchange failed: {e.description or e.error}") from None
    except requests.RequestException as e:
        raise LoginFailed(f"{auth_host} is not reachable: {e}") from None
    try:
        reply = session.get(urljoin(api_url, REGION_PATH), verify=verify, timeout=30)
        region = region_base_url(reply.json().get("response")) if reply.ok else None
    except (requests.RequestException, ValueError, AttributeError):
        region = None
    return dict(token), region


def main(args: Any, browser: Callable[[str], str] | None = None) -> int:
    """The Fleet branch of `python -m wallbox.vehicle.login` (login.py parses `args`);
    `browser(url)` returns where the browser went (by default: the user pastes it)."""
    secret = os.environ.get(SECRET_ENV)
    if secret is None:
        secret = getpass.getpass("The app's client secret (Enter if it has none): ").strip()

    def person(url: str) -> str:
        print("Open this URL in a browser and sign in with your Tesla account:")
        print(url)
        print(f"The browser then goes to {args.redirect_uri}?code=... (the page may not load).")
        return input("Paste the whole address of that page here: ")

    try:
        token, region = sign_in(
            args.client_id,
            secret,
            browser or person,
            redirect_uri=args.redirect_uri,
            authorize_url=args.authorize_url,
            auth_host=args.auth_host,
            api_url=args.api_url,
            verify=args.ca_file or True,
        )
    except LoginFailed as e:
        print(f"Sign-in failed: {e}", file=sys.stderr)
        return 1
    account = args.email or email_of(token.get("id_token")) or "fleet"
    entry: dict[str, Any] = {"url": args.auth_host, "sso": token, "client_id": args.client_id}
    if region:
        entry["api_url"] = region
    tokens = TokenFile(args.token_file)
    tokens.save({**tokens.load(), account: entry})
    where = f"; the account's region is at {region}" if region else ""
    print(f"Fleet API tokens for {account} stored in {tokens.path} (mode 0600){where}.")
    print(
        "Start the proxy (make run) with tesla_command_url pointing at your tesla-http-proxy; "
        "it refreshes the tokens itself."
    )
    return 0
