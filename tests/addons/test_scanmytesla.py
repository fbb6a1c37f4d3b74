import logging
from urllib.parse import quote

import pytest
from mitmproxy import exceptions, hooks
from mitmproxy.test import taddons, tflow, tutils

from addons import smt_wire as wire
from addons.mirror import Mirror
from addons.scanmytesla import ACTION, ScanMyTesla, endpoint
from addons.store import Store
from storage.database import StorageError
from support.seed import captured_requests

SEED = captured_requests()["/insert_scanmytesla.php"].body


def smt_flow(path: str, body: bytes = b"", method: str = "POST", host: str = "teslalogger.de"):
    request = tutils.treq(
        host=host, port=443, scheme=b"https", path=path.encode(), method=method.encode()
    )
    request.headers["Host"] = host
    request.content = body
    return tflow.tflow(req=request)


@pytest.fixture
def addon(tmp_path):
    store = Store()
    smt = ScanMyTesla(store, Mirror(store))
    with taddons.context(store, smt, smt.mirror) as tctx:
        tctx.master.addons.invoke_addon_sync(store, hooks.ConfigureHook(set(tctx.options.keys())))
        tctx.configure(store, data_dir=str(tmp_path / "data"))
        yield smt
        store.done()


def test_endpoints_are_recognised_by_host_and_path():
    assert endpoint(smt_flow("/check_token.php")) == wire.CHECK_TOKEN
    assert endpoint(smt_flow("/get_scanmytesla.php?x=1")) == wire.GET
    assert endpoint(smt_flow("/insert_scanmytesla.php", host="example.org")) is None
    assert endpoint(smt_flow("/other.php")) is None


async def test_upload_then_poll_in_process(addon):
    upload = smt_flow("/insert_scanmytesla.php", SEED)
    await addon.request(upload)
    assert upload.response.status_code == 200 and upload.response.content == b"OK"
    assert upload.comment.startswith("stored sample 1: 7 values")
    assert upload.metadata[ACTION] == "stored"

    poll = smt_flow("/get_scanmytesla.php", b"t=ggdfghjizffc")
    await addon.request(poll)
    assert poll.response.content.startswith(b"1\r\n2025-02-09 19:33:19\r\n{")
    again = smt_flow("/get_scanmytesla.php", b"t=ggdfghjizffc")
    await addon.request(again)
    assert again.response.content == b"not found"
    assert (poll.metadata[ACTION], again.metadata[ACTION]) == ("served", "nothing waiting")


async def test_dropped_nan_values_are_noted_on_the_flow(addon):
    m = quote('{"d":"2025-02-09T19:33:19Z","dict":{"1":NaN,"2":3}}', safe="")
    body = f"t=abc&m={m}".encode()
    flow = smt_flow("/insert_scanmytesla.php", body)
    await addon.request(flow)
    assert flow.response.content == b"OK"
    assert "dropped NaN/Infinity of ids 1" in flow.comment


async def test_ids_teslalogger_cannot_store_are_kept_noted_and_logged_once(addon, caplog):
    def upload(values: str) -> bytes:
        m = quote('{"d":"2025-02-09T19:33:19Z","dict":{' + values + "}}", safe="")
        return f"t=abc&m={m}".encode()

    first = smt_flow("/insert_scanmytesla.php", upload('"9000000":1,"43":2'))
    with caplog.at_level(logging.WARNING):
        await addon.request(first)
        again = smt_flow("/insert_scanmytesla.php", upload('"9000000":4'))
        await addon.request(again)
    assert (first.response.content, again.response.content) == (b"OK", b"OK")
    assert "ids 9000000 kept but never handed to TeslaLogger" in first.comment
    assert caplog.text.count("9000000") == 1  # once, though the app sends it every time

    poll = smt_flow("/get_scanmytesla.php", b"t=abc")
    await addon.request(poll)
    assert b'"9000000"' not in poll.response.content and b'"43":2' in poll.response.content
    assert "ids 9000000 left out" in poll.comment

    only_big = smt_flow("/insert_scanmytesla.php", upload('"9000000":5'))
    await addon.request(only_big)
    empty = smt_flow("/get_scanmytesla.php", b"t=abc")
    await addon.request(empty)
    assert empty.response.content == b"not found"
    assert "ids 9000000 left out" in empty.comment


async def test_storage_failure_is_a_503_error_and_nothing_is_acknowledged(addon):
    async def broken():
        raise StorageError("the disk is full")

    addon.store.samples = broken
    flow = smt_flow("/insert_scanmytesla.php", SEED)
    await addon.request(flow)
    assert flow.response.status_code == 503
    assert flow.response.content == b"ERROR: not stored, try again: the disk is full"


async def test_foreign_and_answered_flows_are_left_alone(addon):
    foreign = smt_flow("/wakefile.php")
    await addon.request(foreign)
    assert foreign.response is None
    answered = smt_flow("/check_token.php", b"t=x")
    answered.response = tutils.tresp(content=b"upstream")
    await addon.request(answered)
    assert answered.response.content == b"upstream"


async def test_broken_content_encoding_is_refused(addon):
    flow = smt_flow("/check_token.php")
    flow.request.headers["content-encoding"] = "gzip"
    flow.request.raw_content = b"not gzip"
    await addon.request(flow)
    assert flow.response.status_code == 400
    assert b"Content-Encoding" in flow.response.content


def test_a_body_too_large_to_read_is_cut_off(addon):
    flow = smt_flow("/insert_scanmytesla.php")
    flow.request.headers["content-length"] = str(wire.MAX_UNREAD_BODY + 1)
    addon.requestheaders(flow)
    assert flow.error is not None and flow.error.msg == flow.error.KILLED_MESSAGE


def test_bad_token_option_is_refused():
    store = Store()
    smt = ScanMyTesla(store, Mirror(store))
    with taddons.context(store, smt) as tctx:
        with pytest.raises(exceptions.OptionsError, match="smt_tokens"):
            tctx.configure(smt, smt_tokens=["ok", "not ok"])


def test_unusable_data_dir_is_refused(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    store = Store()
    with taddons.context(store) as tctx:
        with pytest.raises(exceptions.OptionsError, match="data_dir"):
            tctx.configure(store, data_dir=str(blocker / "sub"))
        with pytest.raises(exceptions.OptionsError, match="smt_history_days"):
            tctx.configure(store, smt_history_days=-1)
