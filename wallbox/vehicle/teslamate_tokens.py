"""The Tesla API tokens TeslaMate already manages, read from its PostgreSQL database.

TeslaMate keeps one row per account in `private.tokens` (TeslaMate 2.2+;
`public.tokens` before), columns `access` and `refresh`, each encrypted with
Cloak's AES-GCM cipher (PROTOCOL.md 6; TeslaMate `lib/teslamate/vault.ex`):

    0x01, len(tag), tag "AES.GCM.V1", IV (12 bytes), GCM tag (16 bytes), ciphertext

with key = SHA-256 of TeslaMate's ENCRYPTION_KEY and the additional data
`AES256GCM`. `decrypt` is that, as a pure function.

`TeslaMateTokens` is a read-only `TokenSource` for the teslapy back-end: it
never writes a token back and never refreshes one (TeslaMate does, and a
refresh here would invalidate TeslaMate's refresh token). The tokens belong
to the API host TeslaMate uses (token_audience.py): a token for another Tesla host
is not handed out, and a refusal says which host the token is for. The back-end reads
the newest row again every `REREAD_S`, when the access token has expired, and
after a 401. `load` runs in the back-end's worker thread, so a synchronous
driver (psycopg) is right there and never touches the event loop. Each kind
of trouble (unreachable database, missing table, wrong key) is one clear
error, logged once, and it is what the wallbox API's 503 answers say.
"""

import hashlib
import logging
from typing import Any

import psycopg
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from psycopg.conninfo import conninfo_to_dict

from wallbox.vehicle.backend import NotConfigured
from wallbox.vehicle.token_audience import claims, refused, wrong_host

logger = logging.getLogger(__name__)

CLOAK_TAG = b"AES.GCM.V1"
CLOAK_AAD = b"AES256GCM"
IV_BYTES = 12
GCM_TAG_BYTES = 16
TABLES = ("private.tokens", "public.tokens")  # TeslaMate 2.2+, then older ones
REREAD_S = 600.0
CONNECT_TIMEOUT_S = 5


class WrongKey(ValueError):
    """The value is Cloak AES-GCM, but this key does not open it."""


class NotCloak(ValueError):
    """The value is not in Cloak's AES-GCM format."""


def cloak_key(encryption_key: str) -> bytes:
    """TeslaMate's vault key: SHA-256 of the ENCRYPTION_KEY string."""
    return hashlib.sha256(encryption_key.encode("utf-8")).digest()


def decrypt(value: bytes, key: bytes) -> str:
    """One Cloak AES-GCM value (a token) as text; raises WrongKey or NotCloak."""
    if len(value) < 2 or value[0] != 1:
        raise NotCloak("it does not start with Cloak's key tag (type 1)")
    tag_end = 2 + value[1]
    if value[2:tag_end] != CLOAK_TAG:
        raise NotCloak(f"its key tag is {value[2:tag_end]!r}, not {CLOAK_TAG.decode()}")
    body = value[tag_end:]
    if len(body) < IV_BYTES + GCM_TAG_BYTES:
        raise NotCloak("it is too short for an IV and a GCM tag")
    iv, tag = body[:IV_BYTES], body[IV_BYTES : IV_BYTES + GCM_TAG_BYTES]
    ciphertext = body[IV_BYTES + GCM_TAG_BYTES :]
    try:
        plain = AESGCM(key).decrypt(iv, ciphertext + tag, CLOAK_AAD)
    except InvalidTag:
        raise WrongKey("the key does not decrypt it") from None
    try:
        return plain.decode("utf-8")
    except UnicodeDecodeError:
        raise NotCloak("it decrypts to something that is not text") from None


def token_expiry(access_token: str) -> float | None:
    """The `exp` claim of a JWT access token (epoch seconds), unverified; None if unreadable.

    teslapy refreshes a token it believes expired; telling it the real expiry
    lets this back-end re-read TeslaMate's row instead, at the right time.
    """
    exp = (claims(access_token) or {}).get("exp")
    return float(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None


def describe_dsn(dsn: str) -> str:
    """host:port/dbname as user, without the password; raises ValueError for a bad DSN."""
    try:
        parts = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as e:
        raise ValueError(f"not a PostgreSQL DSN: {str(e).splitlines()[0]}") from None
    host = parts.get("host") or "localhost"
    where = f"{host}:{parts.get('port') or 5432}/{parts.get('dbname') or '?'}"
    return f"{where} as {parts['user']}" if parts.get("user") else where


class TeslaMateTokens:
    """A read-only TokenSource: the newest row of TeslaMate's tokens table."""

    read_only = True
    reread_s = REREAD_S

    def __init__(
        self, dsn: str, encryption_key: str, account: str = "teslamate", api_url: str = ""
    ) -> None:
        self.dsn = dsn
        self.where = describe_dsn(dsn)
        self.key = cloak_key(encryption_key)
        self.account = account
        self.api_url = api_url  # where the back-end sends them: it must be their host
        self._problem: str | None = None
        self._table: str | None = None

    def describe(self) -> str:
        return f"TeslaMate's database ({self.where})"

    def save(self, cache: dict[str, Any]) -> None:
        """Never: TeslaMate owns these tokens."""

    def refused(self, access_token: str, status: int) -> str:
        """What to do when the API refused the newest of these tokens (401, 403)."""
        return refused(self.api_url, access_token, status)

    def load(self) -> dict[str, Any]:
        """teslapy's cache with TeslaMate's tokens; raises NotConfigured saying what to do.

        Runs in the back-end's worker thread (it blocks on the database)."""
        access, refresh, table = self._newest_row()
        try:
            sso: dict[str, Any] = {
                "access_token": self._open(access, "access"),
                "refresh_token": self._open(refresh, "refresh"),
                "token_type": "Bearer",
            }
        except (WrongKey, NotCloak) as e:
            raise self._fail(e) from None
        if self.api_url and (problem := wrong_host(self.api_url, sso["access_token"])):
            raise self._fail(problem)  # never sent where it cannot work
        expiry = token_expiry(sso["access_token"])
        if expiry is not None:
            sso["expires_at"] = expiry
        if self._problem is not None or self._table != table:
            logger.info("Tesla API tokens: read from %s, table %s", self.describe(), table)
        self._problem, self._table = None, table
        return {self.account: {"sso": sso}}

    def _open(self, value: Any, column: str) -> str:
        if isinstance(value, str):
            return value  # TeslaMate before 1.27 stored them unencrypted
        if not isinstance(value, bytes | bytearray | memoryview):
            raise NotCloak(f"the {column} column holds {type(value).__name__}")
        try:
            return decrypt(bytes(value), self.key)
        except WrongKey:
            raise WrongKey(
                f"teslamate_encryption_key does not decrypt TeslaMate's {column} token: "
                "set it to TeslaMate's ENCRYPTION_KEY (its docker-compose environment)"
            ) from None
        except NotCloak as e:
            raise NotCloak(f"TeslaMate's {column} token is not Cloak AES-GCM: {e}") from None

    def _newest_row(self) -> tuple[Any, Any, str]:
        try:
            with psycopg.connect(
                self.dsn, connect_timeout=CONNECT_TIMEOUT_S, autocommit=True
            ) as conn:
                found = conn.execute(
                    "SELECT to_regclass(%s) IS NOT NULL, to_regclass(%s) IS NOT NULL", TABLES
                ).fetchone()
                table = next((t for t, ok in zip(TABLES, found or (), strict=False) if ok), None)
                if table is None:
                    raise self._fail(
                        f"{self.describe()} has no table private.tokens or public.tokens: "
                        "point teslamate_db_url at TeslaMate's own database"
                    )
                row = conn.execute(
                    f"SELECT access, refresh FROM {table} "  # table: one of TABLES
                    "ORDER BY updated_at DESC NULLS LAST, id DESC LIMIT 1"
                ).fetchone()
        except psycopg.OperationalError as e:
            raise self._fail(
                f"cannot reach {self.describe()}: {_first_line(e)}; check teslamate_db_url and "
                "that PostgreSQL accepts this host (README: TeslaMate)"
            ) from None
        except psycopg.Error as e:
            raise self._fail(
                f"cannot read the tokens in {self.describe()}: {_first_line(e)}"
            ) from None
        if row is None:
            raise self._fail(f"{table} in {self.describe()} is empty: sign in to TeslaMate first")
        return row[0], row[1], table

    def _fail(self, problem: Exception | str) -> NotConfigured:
        message = str(problem)
        if message != self._problem:  # once per kind of trouble; retries stay quiet
            logger.error("Tesla API tokens: %s", message)
            self._problem = message
        return NotConfigured(message)


def _first_line(error: Exception) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__
