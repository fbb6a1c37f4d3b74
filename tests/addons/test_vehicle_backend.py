"""The tesla_* options: checked at configure time, and the back-end they build."""

import json

import pytest
from mitmproxy import exceptions
from mitmproxy.test import taddons

from addons.store import Store
from addons.wallbox_api import WallboxApi
from wallbox.vehicle.ble_backend import BleBackend
from wallbox.vehicle.fleet_backend import FleetBackend
from wallbox.vehicle.relay_backend import RelayBackend
from wallbox.vehicle.teslapy_backend import TeslapyBackend
from wallbox.vehicle.unconfigured import Unconfigured


@pytest.mark.parametrize(
    "options, words",
    [
        ({"tesla_backend": "bluetooth"}, "tesla_backend"),
        ({"tesla_command_url": "http://localhost:4443"}, "https:// only"),
        ({"tesla_command_url": "localhost:4443"}, "tesla_command_url"),
        ({"tesla_api_token_file": "/no/such/token"}, "no such file"),
        ({"tesla_api_url": "http://192.168.1.5:8080", "tesla_api_token": "t0ken"},
         "only over https"),
    ],
)  # fmt: skip
def test_bad_vehicle_options_are_refused(options, words):
    wallbox = WallboxApi(Store())
    with taddons.context(Store(), wallbox) as tctx:
        with pytest.raises(exceptions.OptionsError, match=words):
            tctx.configure(wallbox, **options)


def test_a_token_to_this_host_over_http_is_fine():
    wallbox = WallboxApi(Store())
    with taddons.context(Store(), wallbox) as tctx:
        tctx.configure(wallbox, tesla_api_url="http://127.0.0.1:8081", tesla_api_token="t0ken")


def fleet_login(path):
    sso = {"access_token": "a", "refresh_token": "r"}
    entry = {"url": "https://fleet-auth.prd.vn.cloud.tesla.com/", "sso": sso, "client_id": "app"}
    path.write_text(json.dumps({"me@example.org": entry}))


@pytest.mark.parametrize(
    "options, kind, cls",
    [
        ({}, "none", Unconfigured),
        ({"tesla_backend": "ble", "tesla_api_url": "http://192.168.1.5:8080"}, "ble", BleBackend),
        ({"tesla_api_url": "https://api.teslemetry.com", "tesla_api_token": "t"}, "relay",
         RelayBackend),
        ({"tesla_backend": "owner"}, "owner", TeslapyBackend),
        ({"tesla_api_url": "http://127.0.0.1:5010"}, "owner", TeslapyBackend),
        ({"login": True, "tesla_command_url": "https://localhost:4443"}, "fleet", FleetBackend),
    ],
)  # fmt: skip
async def test_the_options_build_the_back_end(tmp_path, options, kind, cls):
    options = dict(options)
    if options.pop("login", False):
        fleet_login(tmp_path / "tesla_token.json")
    wallbox = WallboxApi(Store())
    with taddons.context(Store(), wallbox) as tctx:
        tctx.configure(wallbox, data_dir=str(tmp_path), **options)
        backend, choice, tokens = await wallbox.vehicle.build(tmp_path, None)
        try:
            assert (choice.kind, type(backend)) == (kind, cls)
            assert "t0ken" not in tokens
            if kind == "fleet":
                assert backend.command_url == "https://localhost:4443/"
        finally:
            backend.close()
