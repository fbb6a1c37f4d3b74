"""The addon's options: checked at configure time with messages that say what is wrong."""

import pytest
from mitmproxy import exceptions
from mitmproxy.test import taddons

from addons.store import Store
from addons.wallbox_api import WallboxApi


@pytest.mark.parametrize(
    "option, value, words",
    [
        ("wallbox_port", -1, "wallbox_port must be"),
        ("wallbox_port", 70000, "wallbox_port must be"),
        ("wallbox_token", "short", "at least 8"),
        ("wallbox_cars", ["5YJ3"], "not a 17-character VIN"),
        ("wallbox_pv_location", "48.1;x", "wallbox_pv_location"),
        ("wallbox_poll_charging", 5, "30 s or more"),
        ("wallbox_poll_idle", 10, "60 s or more"),
        ("wallbox_poll_asleep", 10, "60 s or more"),
        ("wallbox_time_factor", 0, "1..1000"),
        ("tesla_api_url", "owner-api.teslamotors.com", "tesla_api_url"),
        ("tesla_api_ca_file", "/no/such/ca.pem", "no such file"),
    ],
)
def test_bad_options_are_refused(option, value, words):
    store, wallbox = Store(), WallboxApi(Store())
    with taddons.context(store, wallbox) as tctx:
        with pytest.raises(exceptions.OptionsError, match=words):
            tctx.configure(wallbox, **{option: value})


def test_good_options_pass():
    store, wallbox = Store(), WallboxApi(Store())
    with taddons.context(store, wallbox) as tctx:
        tctx.configure(
            wallbox,
            wallbox_port=5001,
            wallbox_token="a-long-enough-secret",
            wallbox_cars=["5YJ3E7EA1KF000001"],
            wallbox_pv_location="48.1374,11.5755,80",
            tesla_api_url="http://127.0.0.1:8080",
            tesla_api_vin_in_path="yes",
        )
        settings = wallbox._settings()
        assert settings.cars == ("5YJ3E7EA1KF000001",)
        assert settings.pv_locations[0].radius_m == 80
