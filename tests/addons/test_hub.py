"""The hub: which features each hook reaches."""

import gc

import pytest
from mitmproxy.addons import view as mview
from mitmproxy.addons.save import Save
from mitmproxy.test import taddons, tflow, tutils

from addons.flowlimit import FlowLimit
from addons.flowmarks import FlowMarks
from addons.host_guard import HostGuard
from addons.hub import Teslahome
from addons.intercept import TeslaloggerIntercept
from addons.mirror import Mirror
from addons.scanmytesla import ScanMyTesla
from addons.store import Store
from support.seed import captured_requests

SEED = captured_requests()["/insert_scanmytesla.php"].body


class Recorder:
    """A feature that notes every hook it is handed."""

    def __init__(self, name: str, calls: list[str]) -> None:
        self.name, self.calls = name, calls

    def load(self, loader) -> None:
        self.calls.append(f"{self.name}.load")

    def configure(self, updated) -> None:
        self.calls.append(f"{self.name}.configure")

    def running(self) -> None:
        self.calls.append(f"{self.name}.running")

    def done(self) -> None:
        self.calls.append(f"{self.name}.done")

    def request(self, flow) -> None:  # a flow hook the hub must not call
        self.calls.append(f"{self.name}.request")


class CountingIntercept(TeslaloggerIntercept):
    def __init__(self) -> None:
        super().__init__()
        self.requests = 0

    def request(self, flow) -> None:
        self.requests += 1
        super().request(flow)


async def run(hook_result) -> None:
    """As mitmproxy does: await what a hook returns, if anything."""
    if hook_result is not None:
        await hook_result


async def dispatch(addon, hook: str, flow) -> None:
    """As mitmproxy does: the hook by name, if the addon has one now."""
    if method := getattr(addon, hook, None):
        await run(method(flow))


def flow_to(host: str, path: str = "/insert_scanmytesla.php", body: bytes = SEED):
    request = tutils.treq(host=host, port=443, scheme=b"https", path=path.encode(), method=b"POST")
    request.headers["Host"] = host
    request.content = body
    return tflow.tflow(req=request)


@pytest.fixture
async def hub(tmp_path):
    calls: list[str] = []
    store = Store()
    smt, intercept = ScanMyTesla(store, Mirror(store)), CountingIntercept()
    marks, limit = FlowMarks(), FlowLimit()
    guard = HostGuard(intercept)
    features = [Recorder("first", calls), smt, smt.mirror, intercept, guard, marks, limit, store]
    features.append(Recorder("last", calls))
    hub = Teslahome(
        features, smt=smt, intercept=intercept, marks=marks, limit=limit, guard=HostGuard(intercept)
    )
    with taddons.context(Save(), hub) as tctx:
        tctx.configure(hub, data_dir=str(tmp_path / "data"))
        hub.running()
        await store.samples()  # opened, so that done() closes it
        yield tctx, hub, calls
        hub.done()


async def test_lifecycle_hooks_reach_every_feature_in_order_and_flow_hooks_only_some(hub):
    _, teslahome, calls = hub
    assert calls[:2] == ["first.load", "last.load"]
    assert "first.configure" in calls and calls[-1] == "last.running"
    teslahome.done()
    assert calls[-2:] == ["first.done", "last.done"]
    assert not any(call.endswith(".request") for call in calls)


async def test_once_running_the_long_lived_objects_leave_the_collectors_view(tmp_path):
    store = Store()
    smt, intercept = ScanMyTesla(store, Mirror(store)), TeslaloggerIntercept()
    marks, limit = FlowMarks(), FlowLimit()
    features = [smt, intercept, marks, limit, store]
    hub = Teslahome(
        features,
        smt=smt,
        intercept=intercept,
        marks=marks,
        limit=limit,
        guard=HostGuard(intercept),
        freeze_gc=True,
    )
    with taddons.context(hub) as tctx:
        tctx.configure(hub, data_dir=str(tmp_path / "data"))
        try:
            hub.running()
            assert gc.get_freeze_count() > 0
        finally:
            gc.unfreeze()  # the test process goes on
            hub.done()


async def test_other_hosts_reach_no_feature_but_the_host_guard(hub):
    _, teslahome, _ = hub
    other = flow_to("203.0.113.7")
    await run(teslahome.request(other))
    await dispatch(teslahome, "response", other)
    assert other.response is None and teslahome.intercept.requests == 0
    assert not other.marked and not other.metadata
    this_host = flow_to("127.0.0.1")
    await run(teslahome.request(this_host))
    assert this_host.response.status_code == 403 and teslahome.intercept.requests == 0


async def test_an_upload_is_answered_and_not_forwarded(hub):
    _, teslahome, _ = hub
    upload = flow_to("teslalogger.de")
    await run(teslahome.request(upload))
    assert upload.response.content == b"OK"
    assert (upload.request.host, teslahome.intercept.requests) == ("teslalogger.de", 1)
    await dispatch(teslahome, "response", upload)
    assert not upload.marked  # mitmdump, nothing saved: nobody sees marks


async def test_under_plain_mitmdump_the_hub_has_no_hooks_nobody_needs(hub, tmp_path):
    tctx, teslahome, _ = hub
    unneeded = ("response", "error", "tcp_end", "udp_end", "dns_response")
    assert all(getattr(teslahome, hook) is None for hook in unneeded)
    assert teslahome.request is not None and teslahome.requestheaders is not None
    tctx.options.update(smt_upstream="passthrough")
    teslahome.configure({"smt_upstream"})
    assert teslahome.response is not None and teslahome.error is None  # recording
    tctx.options.update(smt_upstream="off", save_stream_file=str(tmp_path / "flows.mitm"))
    teslahome.configure({"smt_upstream", "save_stream_file"})
    assert teslahome.response is not None and teslahome.error is not None  # marks
    assert teslahome.tcp_end is None  # no view to trim


async def test_marks_are_set_when_flows_are_saved(hub, tmp_path):
    tctx, teslahome, _ = hub
    tctx.options.update(save_stream_file=str(tmp_path / "flows.mitm"))
    teslahome.configure({"save_stream_file"})
    upload = flow_to("teslalogger.de")
    await run(teslahome.request(upload))
    await dispatch(teslahome, "response", upload)
    assert upload.marked == ":floppy_disk:"


async def test_under_mitmweb_marks_and_the_flow_limit_are_on(tmp_path):
    view = mview.View()
    marks, limit, intercept = FlowMarks(), FlowLimit(), TeslaloggerIntercept()
    store = Store()
    smt = ScanMyTesla(store, Mirror(store))
    teslahome = Teslahome(
        [smt, intercept, marks, limit, store],
        smt=smt,
        intercept=intercept,
        marks=marks,
        limit=limit,
        guard=HostGuard(intercept),
    )
    with taddons.context(view, teslahome) as tctx:
        tctx.configure(teslahome, data_dir=str(tmp_path / "data"))
        teslahome.running()
        await store.samples()
        assert teslahome.has_view and teslahome.marking
        tctx.configure(limit, smt_keep_flows=2)
        for _ in range(4):
            finished = tflow.tflow(resp=True)
            finished.live = False
            view.add([finished])
            teslahome.error(finished)
        assert len(view) == 2
        teslahome.done()
