"""The relay back-end (Teslemetry, MyTeslaMate, Tessie): a static token, never refreshed,
never over plain http except to loopback; the simulator plays the relay."""

import logging

import pytest
from aiohttp import web

from wallbox.vehicle.backend import Command, NotConfigured, Unauthorized
from wallbox.vehicle.relay_backend import RelayBackend, token_reader
from wallbox.vehicle.simulator.fleet import Fleet
from wallbox.vehicle.simulator.server import make_app

TOKEN = "relay-token-0123456789"


@pytest.fixture
async def relay():
    fleet = Fleet.with_cars(1)
    fleet.accepted_tokens = {TOKEN}
    runner = web.AppRunner(make_app(fleet, "relay"))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield fleet, f"http://127.0.0.1:{runner.addresses[0][1]}/"
    await runner.cleanup()


async def test_the_token_reaches_the_relay_and_commands_need_no_proxy(relay, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    fleet, url = relay
    path = tmp_path / "relay_token"
    path.write_text(TOKEN + "\n")
    backend = RelayBackend(url, *token_reader("", str(path)), timeout=5)
    try:
        car = (await backend.vehicles())[0]
        await backend.command(car, Command.CHARGE_START)
        assert fleet.cars[0].charging
        assert fleet.bearer == {TOKEN: 2} and fleet.calls["token"] == 0
    finally:
        backend.close()
    assert TOKEN not in caplog.text


async def test_a_refused_token_is_read_again_from_its_file(relay, tmp_path):
    fleet, url = relay
    path = tmp_path / "relay_token"
    path.write_text("an-old-token\n")
    backend = RelayBackend(url, *token_reader("", str(path)), timeout=5)
    try:
        with pytest.raises(Unauthorized, match=f"into tesla_api_token_file {path}"):
            await backend.vehicles()
        path.write_text(TOKEN)  # copied from the relay's web page; no restart
        assert len(await backend.vehicles()) == 1
        assert fleet.bearer == {"an-old-token": 2, TOKEN: 1}  # the 401 made it read the file
    finally:
        backend.close()


async def test_no_token_sends_nothing(relay, tmp_path):
    fleet, url = relay
    backend = RelayBackend(url, *token_reader("", str(tmp_path / "missing")), timeout=5)
    try:
        with pytest.raises(NotConfigured, match="no relay token"):
            await backend.vehicles()
        assert sum(fleet.calls.values()) == 0
    finally:
        backend.close()


@pytest.mark.parametrize(
    "url", ["http://192.168.1.5:8080/", "http://relay.example.org/", "http://[::ffff:10.0.0.1]/"]
)
def test_a_token_never_goes_over_plain_http_off_this_host(url):
    with pytest.raises(ValueError, match="only over https"):
        RelayBackend(url, lambda: TOKEN, "tesla_api_token")


@pytest.mark.parametrize(
    "url", ["https://api.teslemetry.com/", "http://127.0.0.1:8080/", "http://localhost:1/"]
)
def test_https_and_loopback_are_fine(url):
    RelayBackend(url, lambda: TOKEN, "tesla_api_token").close()
