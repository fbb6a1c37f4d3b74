"""The addons' background tasks never die silently (issue 18): an unexpected exception in
the mirror's delivery shows in `make status` and delivery goes on; one in the history purge
is logged and the purge goes on; one while an addon starts is logged, not lost."""

import asyncio
import logging
import time

from mitmproxy import hooks
from mitmproxy.test import taddons, tflow, tutils

from addons.intercept import TeslaloggerIntercept
from addons.mirror import Mirror
from addons.scanmytesla import ScanMyTesla
from addons.store import Store
from addons.wallbox_api import WallboxApi
from storage.database import DB_NAME
from storage.status import collect, render
from support.seed import captured_requests

SEED = captured_requests()["/insert_scanmytesla.php"].body


def upload_flow(body: bytes):
    request = tutils.treq(
        host="teslalogger.de", port=443, scheme=b"https", path=b"/insert_scanmytesla.php",
        method=b"POST",
    )  # fmt: skip
    request.headers["Host"] = "teslalogger.de"
    request.content = body
    return tflow.tflow(req=request)


def crashes(caplog, name: str) -> list[logging.LogRecord]:
    return [
        r for r in caplog.records if r.levelno >= logging.ERROR and r.getMessage().startswith(name)
    ]


async def until(condition, within: float = 10.0):
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not met"
        await asyncio.sleep(0.02)


async def test_a_mirror_delivery_that_fails_unexpectedly_shows_in_make_status_and_goes_on(
    tmp_path, upstream, caplog
):
    store = Store()
    mirror = Mirror(store)
    smt = ScanMyTesla(store, mirror)
    with taddons.context(store, smt, mirror, TeslaloggerIntercept()) as tctx:
        tctx.master.addons.invoke_addon_sync(store, hooks.ConfigureHook(set(tctx.options.keys())))
        tctx.configure(store, data_dir=str(tmp_path), smt_upstream="mirror")
        tctx.configure(mirror, smt_upstream_url=upstream.url)
        post, left = mirror.post, [2]

        async def buggy(*args, **kwargs):
            if left[0]:
                left[0] -= 1
                raise AttributeError("a bug on the way upstream")
            return await post(*args, **kwargs)

        mirror.post = buggy
        try:
            store.running()
            mirror.running()
            upload = upload_flow(SEED)
            await smt.request(upload)
            assert upload.response.content == b"OK"  # the phone is answered from the store
            await until(lambda: left[0] == 0)
            await until(lambda: upstream.bodies("/insert_scanmytesla.php") == [SEED])
            for _ in range(500):  # upstream has it; now the outbox learns it was delivered
                status = await collect(tmp_path / DB_NAME)
                if status["mirror"]["waiting"] == 0:
                    break
                await asyncio.sleep(0.02)
        finally:
            mirror.done()
            store.done()
    [logged] = crashes(caplog, "mirror delivery failed unexpectedly")  # once for two
    assert logged.exc_info is not None
    assert status["mirror"]["waiting"] == 0  # delivered after the restarts
    assert status["mirror"]["last_error"] == (
        "mirror delivery failed unexpectedly (AttributeError: a bug on the way upstream); "
        "restarting in 2 s"
    )
    assert "mirror: last error" in render(status)


async def test_a_purge_that_fails_unexpectedly_is_logged_and_goes_on(tmp_path, caplog):
    store = Store()
    with taddons.context(store) as tctx:
        tctx.master.addons.invoke_addon_sync(store, hooks.ConfigureHook(set(tctx.options.keys())))
        tctx.configure(store, data_dir=str(tmp_path))
        samples = await store.samples()
        purge, purges = samples.purge, []

        async def buggy(before_ms: int) -> int:
            purges.append(before_ms)
            if len(purges) == 1:
                raise ZeroDivisionError("a bug in the purge")
            return await purge(before_ms)

        samples.purge = buggy
        store._purging.stop()  # started with the store: start it again on quick time
        await asyncio.sleep(0)
        store._purging.backoff_s = 0.05
        store._purging.start()
        try:
            await until(lambda: len(purges) >= 2)
        finally:
            store.done()
    [logged] = crashes(caplog, "history purge failed unexpectedly (ZeroDivisionError")
    assert logged.exc_info is not None


async def test_an_addon_that_fails_to_start_says_so(tmp_path, caplog):
    store = Store()
    wallbox = WallboxApi(store)
    with taddons.context(store, wallbox) as tctx:
        tctx.master.addons.invoke_addon_sync(store, hooks.ConfigureHook(set(tctx.options.keys())))
        tctx.configure(store, data_dir=str(tmp_path))
        (tmp_path / "wallbox_token").mkdir()  # the secret's file cannot be read: a directory
        wallbox.running()
        await wallbox._starting
        store.done()
    [logged] = crashes(caplog, "starting the wallbox API failed unexpectedly")
    assert logged.exc_info is not None and "not restarted" in logged.getMessage()
