import base64
import stat

import pytest

from wallbox.api.security import (
    authorized,
    check_secret,
    is_local_client,
    load_or_create_secret,
    presented_secret,
)


@pytest.mark.parametrize(
    "peer, local",
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),  # IPv4 loopback on a dual-stack socket
        ("192.168.1.20", False),
        ("::ffff:192.168.1.20", False),
        ("fe80::1%eth0", False),
        ("10.0.0.1", False),
        ("", False),
        (None, False),
        ("not an ip", False),
    ],
)
def test_only_loopback_is_local(peer, local):
    assert is_local_client(peer) is local


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize(
    "header, secret",
    [
        ("Bearer s3cret-value", "s3cret-value"),
        ("bearer   s3cret-value ", "s3cret-value"),
        (basic("evcc", "s3cret-value"), "s3cret-value"),
        (basic("", "s3cret-value"), "s3cret-value"),
        ("Bearer", None),
        ("Basic !!!", None),
        (basic("user", ""), None),
        ("Token s3cret-value", None),
        ("", None),
        (None, None),
    ],
)
def test_presented_secret(header, secret):
    assert presented_secret(header) == secret


def test_authorized_compares_the_whole_secret():
    assert authorized("Bearer right-secret", "right-secret")
    assert not authorized("Bearer right-secre", "right-secret")
    assert not authorized("Bearer wrong", "right-secret")
    assert not authorized(None, "right-secret")


def test_a_secret_is_generated_once_with_mode_0600(tmp_path):
    secret, created = load_or_create_secret(tmp_path / "data")
    assert created and len(secret) >= 24
    path = tmp_path / "data" / "wallbox_token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_secret(tmp_path / "data") == (secret, False)


@pytest.mark.parametrize("bad", ["short", "has space inside", "tab\tinside!", "ünïcödé-secret"])
def test_configured_secrets_must_fit_a_header(bad):
    with pytest.raises(ValueError):
        check_secret(bad)
    assert check_secret("a-good-secret") == "a-good-secret"
