"""Where the Tesla API's OAuth tokens come from and go to.

The format is teslapy's cache: `{email: {"url": <SSO base URL>, "sso": {"access_token",
"refresh_token", "expires_at", ...}}}`. `TokenFile` keeps it in a file (what
`make login` writes) and is written back when teslapy refreshes them.
`TeslaMateTokens` (wallbox/vehicle/teslamate_tokens.py) reads TeslaMate's tokens from its
PostgreSQL database read-only: teslapy's refresh is off for it and nothing is
written back, since TeslaMate refreshes its own tokens.

A Fleet API login (`make login FLEET_CLIENT_ID=...`) is the same entry with two
more fields: `client_id` (the developer app's, which every refresh needs) and
`api_url` (the region's base URL); its `url` is the Fleet auth host, where
teslapy then sends the refreshes.
"""

import json
import logging
import os
from pathlib import Path
from typing import Any, Protocol

logger = logging.getLogger(__name__)


class TokenSource(Protocol):
    def load(self) -> dict[str, Any]:
        """The whole cache; {} when there is none yet. Runs in a worker thread."""
        ...

    def save(self, cache: dict[str, Any]) -> None:
        """Store a refreshed cache. Runs in a worker thread."""
        ...

    def describe(self) -> str:
        """Where the tokens live, for messages."""
        ...


class TokenFile:
    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, Any]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as e:
            logger.warning("cannot read the Tesla token file %s: %s", self.path, e.strerror)
            return {}
        try:
            cache = json.loads(text)
        except ValueError:
            logger.warning("the Tesla token file %s is not JSON: run `make login` again", self.path)
            return {}
        return cache if isinstance(cache, dict) else {}

    def save(self, cache: dict[str, Any]) -> None:
        """Write atomically with mode 0600: the file holds a long-lived refresh token."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(cache, f)
        os.replace(tmp, self.path)

    def describe(self) -> str:
        return str(self.path)


def for_teslapy(cache: dict[str, Any]) -> dict[str, Any]:
    """`cache` as teslapy requires it: every account's token with a numeric `expires_at`.

    teslapy writes `expires_at` with every token it gets and compares it whenever it
    reads its cache (`0 < expires_at < now` in `Tesla.__init__`): a token without one
    raises TypeError there. Other sources may not know the expiry (TeslaMate stores
    none, and its token need not be a JWT); 0 is "unknown" to teslapy and oauthlib
    alike, so such a token is sent until the API refuses it.
    """
    fixed: dict[str, Any] = {}
    for email, entry in cache.items():
        sso = entry.get("sso") if isinstance(entry, dict) else None
        if isinstance(sso, dict):
            entry = {**entry, "sso": with_expiry(sso)}
        fixed[email] = entry
    return fixed


def with_expiry(sso: dict[str, Any]) -> dict[str, Any]:
    """One token as teslapy requires it: `expires_at` a number, 0 when unknown."""
    expires_at = sso.get("expires_at")
    if isinstance(expires_at, int | float) and not isinstance(expires_at, bool):
        return sso
    return {**sso, "expires_at": 0}


def account_email(cache: dict[str, Any], email: str) -> str | None:
    """The account to use: the configured one, or the only one in the cache."""
    if email:
        return email
    accounts = [k for k, v in cache.items() if isinstance(v, dict) and v.get("sso")]
    return accounts[0] if len(accounts) == 1 else None


def has_token(cache: dict[str, Any], email: str | None) -> bool:
    entry = cache.get(email) if email else None
    sso = entry.get("sso") if isinstance(entry, dict) else None
    return isinstance(sso, dict) and bool(sso.get("access_token") or sso.get("refresh_token"))


def missing_login(cache: dict[str, Any], email: str, where: str, login: str = "make login") -> str:
    """What to do when `cache` holds no usable token for `email` (empty: the only account);
    `login` is the command that signs in (the Fleet API's takes the app's client id)."""
    accounts = sorted(k for k, v in cache.items() if isinstance(v, dict) and v.get("sso"))
    if email:
        return f"no Tesla login for {email} in {where}: run `{login} TESLA_EMAIL={email}`"
    if len(accounts) > 1:
        return (
            f"{where} holds {len(accounts)} Tesla accounts ({', '.join(accounts)}): "
            "set tesla_email to the one to use"
        )
    return f"no Tesla login in {where} yet: run `{login}`"


# What a login entry holds besides teslapy's own `url` and `sso`: a Fleet login keeps
# the app's client id (its refreshes need it) and the region's base URL there.
TESLAPY_KEYS = ("url", "sso")


def login_kind(cache: dict[str, Any], email: str | None) -> str | None:
    """ "fleet" for a login with a developer app's client id, "owner" for teslapy's own,
    None when there is no usable login for `email`."""
    if not has_token(cache, email):
        return None
    entry = cache[email] if email else {}
    return "fleet" if isinstance(entry, dict) and entry.get("client_id") else "owner"


def extras_of(cache: dict[str, Any], email: str) -> dict[str, Any]:
    """The entry's fields teslapy does not know (it drops them when it saves a refresh)."""
    entry = cache.get(email)
    if not isinstance(entry, dict):
        return {}
    return {k: v for k, v in entry.items() if k not in TESLAPY_KEYS}


def with_extras(cache: dict[str, Any], email: str, extras: dict[str, Any]) -> dict[str, Any]:
    """`cache` with `extras` put back into `email`'s entry."""
    entry = cache.get(email)
    if not extras or not isinstance(entry, dict):
        return cache
    return {**cache, email: {**extras, **entry}}
