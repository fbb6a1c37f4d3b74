"""The capture as the status page sees it, from a real store: counts, the
catch-up after a closed tab, and the last refusal from ScanMyTesla's log."""

import logging
import time

import pytest
from mitmproxy import hooks
from mitmproxy.test import taddons

from addons.capture_state import CHART_IDS, CaptureState
from addons.mirror import Mirror
from addons.scanmytesla import ScanMyTesla
from addons.store import Store
from storage.records import Sample


@pytest.fixture
async def capture(tmp_path):
    store = Store()
    smt = ScanMyTesla(store, Mirror(store))
    with taddons.context(store, smt, smt.mirror) as tctx:
        tctx.master.addons.invoke_addon_sync(store, hooks.ConfigureHook(set(tctx.options.keys())))
        tctx.configure(store, data_dir=str(tmp_path / "data"))
        state = CaptureState(store)
        yield state, await store.samples()
        state.done()
        store.done()


def upload(token: str, i: int, values: dict[int, float]) -> Sample:
    return Sample(token, f"2025-02-09T18:00:{i % 60:02d}.000+00:00", values)


async def test_uploads_are_counted_and_charted_as_they_come(capture):
    state, samples = capture
    assert (await state())["tokens"] == []
    now_ms = int(time.time() * 1000)
    await samples.add(upload("car1", 0, {43: 1.5, 23: 55.0, 999: 1.0}), received_ms=now_ms)
    state._cached = None  # the next look reads again (it is shared for half a second)
    first = await state()
    assert [(t["token"], t["uploads_today"], t["waiting"]) for t in first["tokens"]] == [
        ("car1", 1, 1)
    ]
    await samples.add(upload("car1", 1, {43: -2.0}), received_ms=now_ms + 1)
    await samples.add(upload("car2", 2, {5: 3.9}), received_ms=now_ms + 2)
    state._cached = None
    second = await state()
    assert {t["token"]: t["uploads_today"] for t in second["tokens"]} == {"car1": 2, "car2": 1}
    _, values = second["series"]["car1"].points[-1]
    assert values[CHART_IDS.index(43)] == -2.0 and values[CHART_IDS.index(23)] == 55.0  # carried
    assert second["units"][CHART_IDS.index(43)] == "kW" and second["mirror"] is None


async def test_an_upload_is_news_for_open_pages(capture):
    state, samples = capture
    told = []
    state.news = lambda: told.append(True)
    await state()  # the first look subscribes to stored uploads
    await samples.add(upload("car1", 0, {43: 1.0}))
    assert told == [True] and state._cached is None  # the next look reads again
    state.done()
    await samples.add(upload("car1", 1, {43: 2.0}))
    assert told == [True]


async def test_a_long_closed_tab_starts_afresh_without_reading_every_upload(capture, monkeypatch):
    state, samples = capture
    now_ms = int(time.time() * 1000)
    await samples.add(upload("car1", 0, {43: 1.0}), received_ms=now_ms - 3000)
    await state()
    monkeypatch.setattr("addons.capture_state.CATCH_UP_MAX", 2)
    for i in range(5):  # five uploads in one 15 s bucket: one of them is decoded
        await samples.add(upload("car1", i, {43: float(i)}), received_ms=now_ms + i)
    state._cached = None
    again = await state()
    assert again["tokens"][0]["uploads_today"] == 6
    assert [p[1][0] for p in again["series"]["car1"].points][-1] == 4.0


async def test_the_last_refusal_is_scanmytestas_own_log_line(capture):
    state, _ = capture
    log = logging.getLogger("addons.scanmytesla")
    log.warning("POST /insert_scanmytesla.php from 10.0.0.9 refused: %s", "token x is not accepted")
    log.warning("something else entirely")
    refused = (await state())["refused"]
    assert refused["why"].endswith("refused: token x is not accepted")
    state.done()
    assert state.refusals not in log.handlers
