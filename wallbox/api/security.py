"""Who may use the wallbox API: loopback clients freely, every other client with the secret.

The secret is `wallbox_token`, or one generated into the data directory at the
first start (mode 0600), never logged. Clients send it as
`Authorization: Bearer <secret>`; tools that can only put credentials into the
URL may use HTTP Basic with any user name and the secret as the password
(`http://x:<secret>@host:5000/...`).

A loopback client is trusted only when it is not teslahome's own proxy: the
proxy refuses to connect to this host at all (addons/host_guard.py), and a
connection it made anyway (host_guard_allow) is known by its socket and asked
for the secret (server.py). Behind another reverse proxy on this host every
request looks local: set up that proxy's own authentication, or bind the API
to another address.
"""

import base64
import binascii
import hmac
import ipaddress
import os
import secrets
from pathlib import Path

TOKEN_FILE = "wallbox_token"


def is_local_client(peer: str | None) -> bool:
    """Loopback only (127.0.0.0/8, ::1, and IPv4 loopback mapped into IPv6)."""
    if not peer:
        return False
    try:
        ip = ipaddress.ip_address(peer.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def presented_secret(authorization: str | None) -> str | None:
    """The secret in an Authorization header: Bearer, or Basic's password."""
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and value:
        return value
    if scheme.lower() == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        _, sep, password = decoded.partition(":")
        return password if sep and password else None
    return None


def authorized(authorization: str | None, secret: str) -> bool:
    given = presented_secret(authorization)
    return given is not None and hmac.compare_digest(given.encode(), secret.encode())


def load_or_create_secret(data_dir: Path) -> tuple[str, bool]:
    """The stored secret, or a new one written with mode 0600; (secret, created)."""
    path = data_dir / TOKEN_FILE
    try:
        secret = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        secret = ""
    if secret:
        return secret, False
    secret = secrets.token_urlsafe(24)
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(secret + "\n")
    os.chmod(path, 0o600)  # O_CREAT's mode does not apply to an existing empty file
    return secret, True


def check_secret(secret: str) -> str:
    """A configured `wallbox_token` must be usable in a header; raises ValueError."""
    if len(secret) < 8:
        raise ValueError("wallbox_token must be at least 8 characters (or empty to generate one)")
    if not secret.isascii() or not secret.isprintable() or " " in secret:
        raise ValueError("wallbox_token must be printable ASCII without spaces")
    return secret
