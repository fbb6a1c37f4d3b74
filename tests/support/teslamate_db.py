"""TeslaMate's tokens table in a throwaway PostgreSQL database, encrypted as TeslaMate does.

`cloak_encrypt` writes the format Cloak's AES-GCM cipher produces with
TeslaMate's settings (tag "AES.GCM.V1", 12-byte IV, key = SHA-256 of the
ENCRYPTION_KEY, AAD "AES256GCM"), written here from Cloak's description and
independently of wallbox/vehicle/teslamate_tokens.py, which has to read it.
"""

import base64
import hashlib
import json
import os
import time
import uuid

import psycopg
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SERVER = "host=127.0.0.1 port=5432 user=postgres connect_timeout=3"


def cloak_encrypt(plaintext: str, encryption_key: str, iv: bytes | None = None) -> bytes:
    key = hashlib.sha256(encryption_key.encode()).digest()
    iv = iv if iv is not None else os.urandom(12)
    sealed = AESGCM(key).encrypt(iv, plaintext.encode(), b"AES256GCM")  # ciphertext || tag
    ciphertext, tag = sealed[:-16], sealed[-16:]
    return bytes([1, len(b"AES.GCM.V1")]) + b"AES.GCM.V1" + iv + tag + ciphertext


def jwt(claims: dict) -> str:
    """A token shaped like Tesla's (a JWT; the signature is not checked by anyone here)."""

    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


def access_token(name: str, valid_s: float = 8 * 3600) -> str:
    return jwt({"sub": name, "exp": int(time.time() + valid_s), "jti": uuid.uuid4().hex})


class TeslaMateDatabase:
    """A database of its own per test, dropped afterwards."""

    def __init__(self) -> None:
        self.name = f"teslahome_test_{uuid.uuid4().hex[:12]}"
        try:
            with psycopg.connect(SERVER, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{self.name}"')
        except psycopg.OperationalError as e:
            pytest.skip(f"no PostgreSQL on 127.0.0.1:5432 for user postgres: {e}")
        self.dsn = f"postgresql://postgres@127.0.0.1:5432/{self.name}"

    def create_tokens_table(self, schema: str = "private") -> None:
        """The table as TeslaMate's migrations leave it (tokens; 2.2+ in schema private)."""
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            conn.execute(
                f"CREATE TABLE {schema}.tokens (id bigserial PRIMARY KEY, "
                "access bytea NOT NULL, refresh bytea NOT NULL, "
                "inserted_at timestamp(0) NOT NULL DEFAULT now(), "
                "updated_at timestamp(0) NOT NULL DEFAULT now())"
            )

    def store_tokens(self, access: str, refresh: str, encryption_key: str,
                     schema: str = "private", updated: str = "now()") -> None:  # fmt: skip
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(
                f"INSERT INTO {schema}.tokens (access, refresh, updated_at) "
                f"VALUES (%s, %s, {updated})",
                (cloak_encrypt(access, encryption_key), cloak_encrypt(refresh, encryption_key)),
            )

    def rows(self, schema: str = "private") -> list[tuple]:
        """The table as it is, byte for byte: to show nobody else wrote it."""
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            return conn.execute(
                f"SELECT id, access, refresh, inserted_at, updated_at FROM {schema}.tokens "
                "ORDER BY id"
            ).fetchall()

    def drop(self) -> None:
        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
