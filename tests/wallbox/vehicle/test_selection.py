"""Which back-end the options ask for: the whole table of selection.py."""

import pytest

from wallbox.vehicle.selection import Wish, choose

OWNER = "https://owner-api.teslamotors.com/"
FLEET_EU = "https://fleet-api.prd.eu.vn.cloud.tesla.com/"
NA = "https://fleet-api.prd.na.vn.cloud.tesla.com/"
SIM = "http://127.0.0.1:5010/"
BLE = "http://192.168.1.5:8080/"


@pytest.mark.parametrize(
    "wish, kind, url",
    [
        (Wish(), "none", ""),
        (Wish(backend="ble", api_url=BLE), "ble", BLE),
        (Wish(backend="ble"), "none", ""),
        (Wish(backend="relay", api_url="https://api.tessie.com/"), "relay", "https://api.tessie.com/"),
        (Wish(backend="relay"), "none", ""),
        (Wish(backend="fleet"), "fleet", NA),
        (Wish(backend="fleet", api_url=FLEET_EU), "fleet", FLEET_EU),
        (Wish(backend="owner"), "owner", OWNER),
        (Wish(backend="owner", api_url=SIM), "owner", SIM),
        # auto
        (Wish(api_url="https://api.teslemetry.com/"), "relay", "https://api.teslemetry.com/"),
        (Wish(api_url="https://relay.example/", static_token=True), "relay",
         "https://relay.example/"),
        (Wish(static_token=True), "none", ""),
        (Wish(api_url=OWNER, login="fleet"), "owner", OWNER),
        (Wish(login="fleet"), "fleet", NA),
        (Wish(login="fleet", api_url="https://localhost:4443/"), "fleet", "https://localhost:4443/"),
        (Wish(api_url=FLEET_EU), "fleet", FLEET_EU),
        (Wish(api_url=FLEET_EU, teslamate_tokens=True), "owner", FLEET_EU),
        (Wish(api_url=SIM), "owner", SIM),
        (Wish(api_url=BLE), "owner", BLE),  # never guessed: tesla_backend=ble
        (Wish(login="owner"), "owner", OWNER),
        (Wish(teslamate_tokens=True), "owner", OWNER),
    ],
)  # fmt: skip
def test_the_back_end_chosen(wish, kind, url):
    choice = choose(wish)
    assert (choice.kind, choice.api_url) == (kind, url)
    assert choice.why


def test_nothing_set_up_names_the_back_ends_that_work():
    why = choose(Wish()).why
    for words in ("TeslaBleHttpProxy", "tesla_backend=ble", "FLEET_CLIENT_ID", "Teslemetry",
                  "MyTeslaMate", "Tessie", "Which back-end?"):  # fmt: skip
        assert words in why
