import pytest
from mitmproxy import exceptions
from mitmproxy.addons import view as mview
from mitmproxy.test import taddons, tflow

from addons.flowlimit import DEFAULT_KEEP, FlowLimit, kept_by_user, to_drop
from addons.flowmarks import MARK


def finished(n: int = 1) -> list:
    flows = [tflow.tflow(resp=True) for _ in range(n)]
    for flow in flows:
        flow.live = False
    return flows


def test_to_drop_takes_the_oldest_beyond_the_limit():
    flows = finished(5)
    assert to_drop(flows, 5, 3) == flows[:2]
    assert to_drop(flows, 5, 5) == []
    assert to_drop(flows, 5, 9) == []
    assert to_drop(flows, 5, 0) == []  # 0: no limit


def test_to_drop_skips_live_and_user_marked_flows():
    flows = finished(6)
    flows[0].live = True
    flows[1].marked = ":star:"
    flows[2].marked = flows[2].metadata[MARK] = ":floppy_disk:"  # our own mark: droppable
    assert to_drop(flows, 6, 3) == [flows[2], flows[3], flows[4]]


def test_to_drop_gives_up_when_nothing_else_can_go():
    flows = finished(3)
    for flow in flows:
        flow.live = True
    assert to_drop(flows, 3, 1) == []


def test_kept_by_user():
    flow = finished()[0]
    assert not kept_by_user(flow)
    flow.marked = ":default:"
    assert kept_by_user(flow)
    flow.metadata[MARK] = ":default:"
    assert not kept_by_user(flow)


@pytest.fixture
def web():
    """The view addon as mitmweb has it, and the limit."""
    view, limit = mview.View(), FlowLimit()
    with taddons.context(view, limit) as tctx:
        yield tctx, view, limit


def test_the_view_keeps_only_the_newest_flows(web):
    tctx, view, limit = web
    tctx.configure(limit, smt_keep_flows=10)
    flows = finished(25)
    for flow in flows:
        view.add([flow])
        limit.response(flow)
        assert view.store_count() <= 10
    assert list(view) == flows[-10:]


def test_lowering_the_limit_trims_at_once_and_zero_keeps_all(web):
    tctx, view, limit = web
    tctx.configure(limit, smt_keep_flows=0)
    view.add(finished(30))
    limit.response(view[0])
    assert view.store_count() == 30
    tctx.configure(limit, smt_keep_flows=4)
    assert view.store_count() == 4


def test_every_finishing_hook_trims(web):
    tctx, view, limit = web
    tctx.configure(limit, smt_keep_flows=1)
    for hook in (limit.error, limit.tcp_end, limit.udp_end, limit.dns_response):
        view.add(finished(2))
        hook(view[0])
        assert view.store_count() == 1


def test_without_a_view_it_does_nothing():
    limit = FlowLimit()
    with taddons.context(limit) as tctx:
        tctx.configure(limit, smt_keep_flows=1)
        limit.response(finished()[0])  # mitmdump: no view, no error


def test_the_default_and_a_negative_limit():
    limit = FlowLimit()
    with taddons.context(limit) as tctx:
        assert tctx.options.smt_keep_flows == DEFAULT_KEEP
        with pytest.raises(exceptions.OptionsError, match="0 \\(keep all\\) or more"):
            tctx.configure(limit, smt_keep_flows=-1)
