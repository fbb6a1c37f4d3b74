"""The ScanMyTesla capture's options, and its source fed from the store's stored uploads."""

import asyncio

import pytest
from mitmproxy import exceptions
from mitmproxy.test import taddons

from addons import telemetry_smt
from addons.telemetry import Telemetry
from storage.database import StorageError
from storage.records import Sample
from wallbox.clock import FakeClock
from wallbox.telemetry.composite import CompositeFeed


@pytest.mark.parametrize(
    "options, words",
    [
        ({"telemetry_smt_cars": ["token"]}, "telemetry_smt_cars: 'token': use token=VIN"),
        ({"telemetry_smt_cars": ["t=SHORT"]}, "neither a VIN"),
        ({"telemetry_smt_silence_s": 4}, "telemetry_smt_silence_s must be 5..86400"),
    ],
)
def test_bad_options_are_refused(options, words):
    telemetry = Telemetry()
    with taddons.context(telemetry) as tctx:
        with pytest.raises(exceptions.OptionsError, match=words):
            tctx.configure(telemetry, **options)


class FakeSamples:
    def __init__(self) -> None:
        self.listeners = []

    def on_stored(self, listener):
        self.listeners.append(listener)
        return lambda: self.listeners.remove(listener)


class FakeStore:
    def __init__(self, fails: bool = False) -> None:
        self.samples_ = FakeSamples()
        self.fails = fails

    async def samples(self):
        if self.fails:
            raise StorageError("disk gone")
        return self.samples_


async def test_off_without_cars_and_fed_from_stored_uploads_with_them():
    store = FakeStore()
    telemetry = Telemetry(store)
    with taddons.context(telemetry) as tctx:
        tctx.configure(telemetry)
        assert telemetry.start_feed(FakeClock(), None) is None
        tctx.configure(telemetry, telemetry_smt_cars=["phone=5YJ3E7EA1KF000001"])
        feed = telemetry.start_feed(FakeClock(), None)
        assert isinstance(feed, CompositeFeed) and telemetry.capture is not None
        assert "ScanMyTesla's captured uploads" in telemetry.described()
        await asyncio.sleep(0)
        (listener,) = store.samples_.listeners
        listener(Sample("phone", "2026-12-07T20:00:00+01:00", {24: 61.5, 43: 0.4}))
        report = telemetry.capture.source._reports["5YJ3E7EA1KF000001"]
        assert report.values["soc"] == 61 and report.last_report_at is not None
        listener(Sample("someone-else", "2026-12-07T20:00:00+01:00", {24: 10.0}))
        assert set(telemetry.capture.source._reports) == {"5YJ3E7EA1KF000001"}
        telemetry.done()
        assert store.samples_.listeners == [] and telemetry.capture is None


async def test_without_the_store_the_source_says_why(caplog):
    telemetry = Telemetry(FakeStore(fails=True))
    with taddons.context(telemetry) as tctx:
        tctx.configure(telemetry, telemetry_smt_cars=["auto"])
        telemetry.start_feed(FakeClock(), None)
        await asyncio.sleep(0)
        assert "ScanMyTesla telemetry: no uploads without the store: disk gone" in caplog.text
        telemetry.done()


def test_no_store_no_source():
    telemetry = Telemetry()
    with taddons.context(telemetry) as tctx:
        tctx.configure(telemetry, telemetry_smt_cars=["auto"])
        assert telemetry_smt.start(FakeClock(), None) is None
