"""The push feeds' options: checked at configure time; the feed the wallbox API gets."""

import pytest
from mitmproxy import exceptions
from mitmproxy.test import taddons

from addons.telemetry import Telemetry
from wallbox.clock import FakeClock
from wallbox.telemetry.composite import CompositeFeed


@pytest.mark.parametrize(
    "options, words",
    [
        ({"telemetry_fleet_mqtt_url": "tcp://host:1883"}, "telemetry_fleet_mqtt_url: .*mqtt://"),
        ({"telemetry_tb2m_mqtt_url": "mqtt://u:secret@host/x"}, "only mqtt"),
        ({"telemetry_fleet_mqtt_ca_file": "/no/such/ca.pem"}, "no such file"),
        ({"telemetry_tb2m_silence_s": 5}, "telemetry_tb2m_silence_s must be 10..86400"),
        ({"telemetry_fleet_silence_s": 90000}, "10..86400"),
    ],
)
def test_bad_options_are_refused(options, words):
    telemetry = Telemetry()
    with taddons.context(telemetry) as tctx:
        with pytest.raises(exceptions.OptionsError, match=words) as e:
            tctx.configure(telemetry, **options)
        assert "secret" not in str(e.value)


class TeslaMateFeed:
    """Stands in for TeslaMate's feed: the addon only passes it on."""

    def stop(self) -> None: ...


async def test_without_push_feeds_teslamates_feed_is_the_composites_one_source():
    telemetry, teslamate = Telemetry(), TeslaMateFeed()
    with taddons.context(telemetry) as tctx:
        tctx.configure(telemetry)  # the defaults: off
        feed = telemetry.start_feed(FakeClock(), teslamate)
        assert isinstance(feed, CompositeFeed)
        assert [(n.name, n.feed, n.label) for n in feed.sources] == [
            ("teslamate", teslamate, "TeslaMate")  # the switches logged in TeslaMate's name
        ]
        assert telemetry.start_feed(FakeClock(), None) is None
        assert telemetry.described() == []


async def test_the_feeds_set_up_come_in_order_stream_teslamate_bridge():
    telemetry, teslamate = Telemetry(), TeslaMateFeed()
    with taddons.context(telemetry) as tctx:
        tctx.configure(
            telemetry,
            telemetry_fleet_mqtt_url="mqtt://127.0.0.1:1",  # never reached: closed at once
            telemetry_fleet_topic_base="home/telemetry",
            telemetry_tb2m_mqtt_url="mqtt://user:pw@127.0.0.1:1",
            telemetry_tb2m_silence_s=60,
        )
        try:
            feed = telemetry.start_feed(FakeClock(), teslamate)
            assert isinstance(feed, CompositeFeed)
            assert [n.name for n in feed.sources] == ["fleet_telemetry", "teslamate", "tb2m"]
            assert feed.sources[0].feed.topics[-1] == "home/telemetry/+/connectivity"
            assert feed.sources[2].feed.rhythm_s == 60.0
            assert telemetry.described() == [
                "fleet-telemetry at mqtt://127.0.0.1:1",
                "TeslaBle2Mqtt at mqtt://user@127.0.0.1:1",  # never the password
            ]
        finally:
            telemetry.done()


@pytest.mark.parametrize(
    "options, words",
    [
        ({"telemetry_teslemetry_url": "ftp://api.teslemetry.com"}, "https://<host>"),
        ({"telemetry_teslemetry_url": "http://api.teslemetry.com"}, "https:// only"),
        ({"telemetry_teslemetry_url": "https://api.teslemetry.com"}, "needs .*token_file"),
        ({"telemetry_teslemetry_silence_s": 1}, "10..86400"),
        ({"telemetry_tessie_url": "https://streaming.tessie.com"}, "wss://<host>"),
        ({"telemetry_tessie_url": "ws://streaming.tessie.com"}, "wss:// only"),
        ({"telemetry_tessie_url": "wss://streaming.tessie.com"}, "needs .*tessie_token_file"),
        ({"telemetry_tessie_silence_s": 5}, "telemetry_tessie_silence_s must be 10..86400"),
    ],
)
def test_bad_relay_options_are_refused(options, words):
    telemetry = Telemetry()
    with taddons.context(telemetry) as tctx:
        with pytest.raises(exceptions.OptionsError, match=words):
            tctx.configure(telemetry, **options)


async def test_the_relays_come_after_the_cars_own_stream_teslemetry_first(tmp_path):
    telemetry = Telemetry()
    with taddons.context(telemetry) as tctx:
        tctx.configure(
            telemetry,
            telemetry_fleet_mqtt_url="mqtt://127.0.0.1:1",
            telemetry_tessie_url="ws://127.0.0.1:2",  # loopback: plain ws allowed
            telemetry_tessie_token_file=str(tmp_path / "token"),
            telemetry_teslemetry_url="http://127.0.0.1:1",  # loopback: plain http allowed
            telemetry_teslemetry_token_file=str(tmp_path / "token"),
        )
        try:
            feed = telemetry.start_feed(FakeClock(), None)
            names = [n.name for n in feed.sources]
            assert names == ["fleet_telemetry", "teslemetry", "tessie"]
            assert telemetry.described()[-2:] == [
                "Teslemetry at http://127.0.0.1:1",
                "Tessie at ws://127.0.0.1:2",
            ]
        finally:
            telemetry.done()
