"""`make login FLEET_CLIENT_ID=...` against the simulator's Fleet auth host over HTTPS."""

import asyncio
import json
import stat
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest

from support.ports import free_port
from wallbox.vehicle import fleet_login
from wallbox.vehicle.fleet_login import LoginFailed, code_from, email_of
from wallbox.vehicle.simulator.fleet import Fleet
from wallbox.vehicle.simulator.server import make_app, serve


@pytest.fixture
async def auth_host(test_ca):
    fleet = Fleet.with_cars(1)
    fleet.client_id = "my-app"
    port = free_port()
    runner = await serve(
        fleet, "127.0.0.1", port, test_ca.server_context("localhost"), make_app(fleet, "fleet")
    )
    yield fleet, f"https://localhost:{port}/"
    await runner.cleanup()


def browser(asked: list):
    """Signs in at once: the callback URL with a code and the URL's own state."""

    def ask(url: str) -> str:
        asked.append(url)
        state = parse_qs(urlsplit(url).query)["state"][0]
        return f"http://localhost/callback?code=sim-code&state={state}&issuer=x"

    return ask


async def test_the_sign_in_stores_tokens_the_apps_id_and_the_region(
    auth_host, tmp_path, test_ca, monkeypatch
):
    fleet, url = auth_host
    monkeypatch.setenv(fleet_login.SECRET_ENV, "the-app-secret")
    args = SimpleNamespace(
        client_id="my-app",
        redirect_uri="http://localhost/callback",
        authorize_url="https://auth.tesla.com/oauth2/v3/authorize",
        auth_host=url,
        api_url=url,
        ca_file=test_ca.ca_file,
        email="",
        token_file=tmp_path / "tesla_token.json",
    )
    asked: list[str] = []
    prompts = browser(asked)
    # blocking requests: in a thread, while the simulator answers on this loop
    assert await asyncio.to_thread(fleet_login.main, args, prompts) == 0
    query = parse_qs(urlsplit(asked[0]).query)
    assert query["client_id"] == ["my-app"] and query["code_challenge_method"] == ["S256"]
    assert query["scope"] == [
        "openid offline_access vehicle_device_data vehicle_charging_cmds vehicle_cmds"
    ]
    grant = "authorization_code client_id=my-app +client_secret +code_verifier +audience"
    assert fleet.via[("token", grant)] == 1
    saved = json.loads(args.token_file.read_text())
    entry = saved["sim@example.org"]  # named by the id_token's email
    assert entry["client_id"] == "my-app" and entry["url"] == url
    assert entry["api_url"] == url + "eu/" and entry["sso"]["refresh_token"] == "sim-refresh-1"
    assert stat.S_IMODE(args.token_file.stat().st_mode) == 0o600
    assert "the-app-secret" not in args.token_file.read_text()


@pytest.mark.parametrize(
    "url, words",
    [
        ("http://localhost/callback?code=c&state=other", "state differs"),
        ("http://localhost/callback?state=s", "no `code`"),
        ("http://localhost/callback?error=access_denied&error_description=no&state=s", "no"),
    ],
)
def test_a_bad_callback_says_why(url, words):
    with pytest.raises(LoginFailed, match=words):
        code_from(url, "s")


def test_the_code_and_the_account_name():
    assert code_from(" http://localhost/callback?code=abc&state=s\n", "s") == "abc"
    token = "e30.eyJlbWFpbCI6ICJtZUBleGFtcGxlLm9yZyJ9.sig"  # {"email": "me@example.org"}
    assert email_of(token) == "me@example.org"
    assert email_of("not-a-jwt") is None and email_of(None) is None
