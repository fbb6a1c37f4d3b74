"""The MQTT and openWB options: checked at configure time with messages that say what is wrong."""

import pytest
from mitmproxy import exceptions
from mitmproxy.test import taddons

from addons.mqtt import Mqtt
from addons.store import Store
from addons.wallbox_api import WallboxApi


def addon() -> Mqtt:
    store = Store()
    return Mqtt(store, WallboxApi(store))


@pytest.mark.parametrize(
    "options, words",
    [
        ({"mqtt_url": "http://host:1883"}, "must start with mqtt://"),
        ({"openwb_mqtt_url": "mqtt://u:secret@"}, "openwb_mqtt_url"),
        ({"mqtt_ca_file": "/no/such/ca.pem"}, "no such file"),
        ({"mqtt_prefix": "home/#"}, "not a topic prefix"),
        ({"mqtt_ha_prefix": ""}, "not a topic prefix"),
        ({"mqtt_smt_cars": ["secrettoken"]}, "token=car"),
        ({"openwb_chargepoints": ["cp3=1"]}, "charge point id"),
        ({"mqtt_interval": -1}, "0..3600"),
        ({"mqtt_ha_car_names": ["Blue"]}, "car number=name"),
        ({"mqtt_ha_max_amps": 99}, "0..48 A"),
    ],
)
def test_bad_options_are_refused(options, words):
    mqtt = addon()
    with taddons.context(mqtt) as tctx:
        with pytest.raises(exceptions.OptionsError, match=words) as e:
            tctx.configure(mqtt, **options)
        assert "secret" not in str(e.value)


def test_good_options_pass():
    mqtt = addon()
    with taddons.context(mqtt) as tctx:
        tctx.configure(
            mqtt,
            mqtt_url="mqtts://ha:pw@192.168.1.10",
            mqtt_prefix="home/tesla",
            mqtt_smt_cars=["abc123=1", "def456=2"],
            mqtt_interval=0,
            mqtt_ha_car_names=["1=Blue"],
            mqtt_ha_max_amps=16,
            mqtt_ha_skip_teslamate=True,
            openwb_mqtt_url="mqtt://openwb.local",
            openwb_chargepoints=["3=1"],
        )
