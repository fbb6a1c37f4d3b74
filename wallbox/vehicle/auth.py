"""How a back-end proves who it is: no token (a local proxy), a static bearer token
(a relay), or OAuth tokens kept by teslapy (the Owner and Fleet APIs).

Every method but `describe` runs in the back-end's worker thread (http_client.py).
A request goes: `session()` (created once), `before()` (refresh or re-read when
due), send, and after a 401 `after_401()`: True means "try once more".

OAuth tokens stay in teslapy's session, for what teslapy does well: its cache
format and the refresh itself (`Tesla.refresh_token`, which saves through the
token source). What teslapy cannot do is set here: a Fleet login's own client
id for the refresh (teslapy's is hard-wired to `ownerapi`), the entry's extra
fields kept across teslapy's saves, and a refresh on a 401 (teslapy refreshes
only when the token's expiry has passed).

A read-only token source (TeslaMate's database) is never written and its
tokens are never refreshed here: the source is read again every `reread_s`,
when the access token has expired, and after a 401 (then the request is
tried once more with the new token).
"""

import time
from collections.abc import Callable
from typing import Any

import requests
import teslapy
from oauthlib.oauth2.rfc6749.errors import OAuth2Error

from wallbox.vehicle.answers import LOGIN_ADVICE
from wallbox.vehicle.errors import NotConfigured, Unauthorized, Unavailable
from wallbox.vehicle.tokens import (
    TokenSource,
    account_email,
    extras_of,
    for_teslapy,
    has_token,
    missing_login,
    with_extras,
)
from wallbox.vehicle.wire import short_error

FLEET_LOGIN = "make login FLEET_CLIENT_ID=<your app's client id>"
FLEET_LOGIN_ADVICE = f"run `{FLEET_LOGIN}` again"


class NoAuth:
    """A local proxy that needs no token (TeslaBleHttpProxy, the simulator over http)."""

    oauth = False
    advice = "the local proxy refused the request: check its own configuration"

    def __init__(self) -> None:
        self._session: requests.Session | None = None

    def session(self, what: str) -> requests.Session:
        if self._session is None:
            self._session = requests.Session()
        return self._session

    def before(self, session: requests.Session, what: str) -> None:
        pass

    def after_401(self, session: requests.Session, what: str) -> bool:
        return False

    def describe(self) -> str:
        return "none needed"


class BearerAuth:
    """A relay's static token: sent as it is, never refreshed; read again (its file may
    hold a new one) only after a 401."""

    oauth = False

    def __init__(self, token: Callable[[], str], where: str) -> None:
        self._token = token
        self.where = where
        self.advice = f"copy a new token from the relay's web page into {where}"
        self._session: requests.Session | None = None

    def session(self, what: str) -> requests.Session:
        if self._session is None:
            token = self._token()
            if not token:
                raise NotConfigured(f"{what}: no relay token in {self.where}")
            self._session = requests.Session()
            self._session.headers["Authorization"] = f"Bearer {token}"
        return self._session

    def before(self, session: requests.Session, what: str) -> None:
        pass

    def after_401(self, session: requests.Session, what: str) -> bool:
        token = self._token()
        if not token or session.headers.get("Authorization") == f"Bearer {token}":
            return False
        session.headers["Authorization"] = f"Bearer {token}"
        return True

    def describe(self) -> str:
        return self.where


class OAuthAuth:
    """OAuth tokens from a token source, in a teslapy session."""

    oauth = True

    def __init__(
        self,
        tokens: TokenSource,
        email: str = "",
        *,
        ca_file: str = "",
        timeout: float = 15.0,
        fleet: bool = False,
    ) -> None:
        self.tokens = tokens
        self.fleet = fleet  # a Fleet API back-end: its login takes the app's client id
        self.email = email
        self.ca_file = ca_file
        self.timeout = timeout
        self.read_only = bool(getattr(tokens, "read_only", False))
        self.extras: dict[str, Any] = {}  # the login entry's own fields (client_id, api_url)
        self.tokens_read_at = 0.0
        self._session: teslapy.Tesla | None = None

    @property
    def advice(self) -> str:
        if self.read_only:
            return (
                f"sign in to TeslaMate again (check that TeslaMate is running and signed in; "
                f"tokens from {self.tokens.describe()})"
            )
        return FLEET_LOGIN_ADVICE if self.fleet or self.extras.get("client_id") else LOGIN_ADVICE

    @property
    def reread_s(self) -> float:
        return float(getattr(self.tokens, "reread_s", 600.0))

    def describe(self) -> str:
        return self.tokens.describe()

    def login(self) -> dict[str, Any]:
        """The login entry's extra fields, loading the session first if need be."""
        self.session("read the login")
        return self.extras

    def session(self, what: str) -> teslapy.Tesla:
        """Created in the worker thread: loading tokens touches files or a database."""
        if self._session is not None:
            return self._session
        cache = self.tokens.load()
        email = account_email(cache, self.email)
        if email is None or not has_token(cache, email):
            login = FLEET_LOGIN if self.fleet else "make login"
            raise NotConfigured(missing_login(cache, self.email, self.tokens.describe(), login))
        self.extras = extras_of(cache, email)
        cache = for_teslapy(cache)  # teslapy compares every expires_at: 0 is unknown

        def save(cache: dict[str, Any]) -> None:
            if not self.read_only:
                self.tokens.save(with_extras(cache, email, self.extras))

        session = teslapy.Tesla(
            email,
            cache_loader=lambda: cache,
            cache_dumper=save,
            timeout=self.timeout,
            verify=self.ca_file or True,
            retry=0,
        )
        session.cache_loader = self.tokens.load
        session.auto_refresh_url = None  # refreshed here, when due (before) or after a 401
        if client_id := self.extras.get("client_id"):
            session.auto_refresh_kwargs = {"client_id": client_id}
            session.scope = None  # a refresh keeps the scopes granted at sign-in
        if self.read_only:
            self.tokens_read_at = time.monotonic()
        self._session = session
        return session

    def before(self, session: teslapy.Tesla, what: str) -> None:
        if self.read_only:
            self._reread(session, what, force=False)
            return
        expires_at = session.token.get("expires_at") or 0
        if 0 < expires_at < time.time() + 60 or not session.token.get("access_token"):
            self.refresh(session, what)  # also a login that holds only a refresh token

    def after_401(self, session: teslapy.Tesla, what: str) -> bool:
        if self.read_only:
            return self._reread(session, what, force=True)  # TeslaMate may have a new one
        if not session.token.get("refresh_token"):
            return False
        self.refresh(session, what)
        return True

    def refused(self, session: teslapy.Tesla, status: int) -> str | None:
        """Why a read-only source's newest token was refused, in its owner's words
        (TeslaMate's: which API host the token is for); None: the usual advice."""
        says = getattr(self.tokens, "refused", None) if self.read_only else None
        if callable(says):
            return says(str(session.token.get("access_token") or ""), status)
        return None

    def refresh(self, session: teslapy.Tesla, what: str) -> None:
        """teslapy's refresh, at the login's own auth host; it saves the new tokens."""
        refresh_token = session.token.get("refresh_token")
        if not refresh_token:
            raise Unauthorized(f"{what}: the login holds no refresh token: {self.advice}")
        try:
            session.refresh_token(
                refresh_token=refresh_token, timeout=self.timeout, verify=self.ca_file or True
            )
        except OAuth2Error as e:
            raise Unauthorized(
                f"{what}: the Tesla login is no longer valid ({e.description or e.error}): "
                f"{self.advice}"
            ) from None
        except requests.RequestException as e:
            raise Unavailable(
                f"{what}: the token cannot be refreshed at {session.sso_base_url} "
                f"({short_error(e)}); retrying"
            ) from None

    def _reread(self, session: teslapy.Tesla, what: str, *, force: bool) -> bool:
        """Read a read-only source again when due (or forced); True if the token changed."""
        expires_at = session.token.get("expires_at") or 0
        expired = 0 < expires_at < time.time() + 60
        if not (force or expired or time.monotonic() - self.tokens_read_at >= self.reread_s):
            return False
        self.tokens_read_at = time.monotonic()
        try:
            cache = self.tokens.load()
        except NotConfigured:
            if force or expired:
                raise
            return False  # a routine re-read failed (logged by the source): the token still works
        entry = cache.get(session.email) or next(iter(cache.values()), {})
        sso = entry.get("sso") if isinstance(entry, dict) else None
        if not isinstance(sso, dict) or not sso.get("access_token"):
            raise NotConfigured(f"{what}: no token in {self.tokens.describe()}")
        expires_at = sso.get("expires_at") or 0
        if 0 < expires_at < time.time():
            raise Unauthorized(
                f"{what}: the access token in {self.tokens.describe()} expired at "
                f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(expires_at))}: TeslaMate "
                "refreshes it while it runs; check that TeslaMate is running and signed in"
            )
        if sso.get("access_token") == session.token.get("access_token"):
            return False
        session.token = sso
        return True
