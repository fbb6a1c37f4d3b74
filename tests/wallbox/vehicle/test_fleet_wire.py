"""The Fleet API's region answer and its 421, as pure rules."""

import pytest

from wallbox.vehicle.fleet_wire import is_fleet_host, misdirected_base_url, region_base_url
from wallbox.vehicle.wire import command_result, is_loopback, reason_of

EU = "https://fleet-api.prd.eu.vn.cloud.tesla.com"


@pytest.mark.parametrize(
    "payload, url",
    [
        ({"region": "eu", "fleet_api_base_url": EU}, EU + "/"),
        ({"region": "eu", "fleet_api_base_url": EU + "/"}, EU + "/"),
        ({"region": "eu"}, None),
        ({"fleet_api_base_url": "ftp://x"}, None),
        (None, None),
    ],
)
def test_the_region_answer(payload, url):
    assert region_base_url(payload) == url


@pytest.mark.parametrize(
    "reason, url",
    [
        (f"user out of region, use base URL: {EU}", EU + "/"),
        (
            "user out of region, use base URL: https://localhost:4443/eu",
            "https://localhost:4443/eu/",
        ),
        ("user out of region", None),
    ],
)
def test_a_421_names_the_region(reason, url):
    assert misdirected_base_url(reason) == url


def test_fleet_hosts():
    assert is_fleet_host(EU + "/") and is_fleet_host("https://fleet-api.prd.cn.vn.cloud.tesla.cn/")
    assert not is_fleet_host("https://owner-api.teslamotors.com/")


@pytest.mark.parametrize(
    "answer, result",
    [
        ({"result": True, "reason": ""}, (True, "")),
        ({"result": False, "reason": "is_charging"}, (False, "is_charging")),
        ({"result": False, "string": "car could not execute command: complete"},
         (False, "car could not execute command: complete")),  # tesla-http-proxy
        ({"state": "online"}, None),
        (None, None),
    ],
)  # fmt: skip
def test_a_commands_result(answer, result):
    assert command_result(answer) == result


def test_the_words_of_a_refusal_from_tesla_http_proxy():
    body = {"response": {"result": False, "string": "not_charging"}, "error": ""}
    assert reason_of(body, "OK") == "not_charging"


@pytest.mark.parametrize(
    "url, loopback",
    [("http://127.0.0.1:1/", True), ("http://localhost/", True), ("http://[::1]:8/", True),
     ("http://192.168.1.5/", False), ("https://api.tessie.com/", False)],
)  # fmt: skip
def test_loopback(url, loopback):
    assert is_loopback(url) is loopback
