import pytest
from mitmproxy import flow as mflow
from mitmproxy import http
from mitmproxy.test import taddons, tflow, tutils
from mitmproxy.utils.emoji import emoji

from addons.flowmarks import MARK, MARKS, OTHER_MARK, FlowMarks, mark, outcome
from addons.scanmytesla import ACTION


def tl_flow(path: str = "/insert_scanmytesla.php", host: str = "teslalogger.de") -> http.HTTPFlow:
    request = tutils.treq(host=host, port=443, scheme=b"https", path=path.encode())
    request.headers["Host"] = host
    return tflow.tflow(req=request, resp=True)


def answered(action: str, comment: str = "") -> http.HTTPFlow:
    flow = tl_flow()
    flow.metadata[ACTION] = action
    flow.comment = comment
    return flow


@pytest.mark.parametrize(
    "action, expected",
    [
        ("accepted", ":key:"),
        ("unknown token", ":grey_question:"),
        ("stored", ":floppy_disk:"),
        ("served", ":outbox_tray:"),
        ("nothing waiting", ":zzz:"),
        ("refused", ":no_entry:"),
        ("storage failed", ":boom:"),
        ("recorded", ":inbox_tray:"),
        ("not recorded", ":warning:"),
    ],
)
def test_every_action_of_the_scanmytesla_addon_has_its_own_mark(action, expected):
    flow = answered(action, f"{action}: because")
    mark(flow)
    assert (flow.marked, flow.comment) == (expected, f"{action}: because")
    assert flow.metadata[MARK] == expected


def test_marks_are_distinct_and_mitmweb_knows_them():
    assert len(set(MARKS.values())) == len(MARKS)
    assert OTHER_MARK not in MARKS.values()
    assert all(name in emoji for name in [*MARKS.values(), OTHER_MARK])  # else a red dot


def test_unknown_actions_get_a_generic_mark_and_keep_their_comment():
    flow = answered("relabelled", "some later addon did something")
    mark(flow)
    assert (flow.marked, flow.comment) == (OTHER_MARK, "some later addon did something")


def test_an_action_without_comment_is_its_own_comment():
    flow = answered("something new")
    mark(flow)
    assert flow.comment == "something new"


def test_forwarded_flows_say_where_and_what_came_back():
    flow = tl_flow("/wakefile.php")
    flow.response = http.Response.make(404, b"", {})
    mark(flow)
    assert flow.marked == MARKS["forwarded"]
    assert flow.comment == "forwarded to https://teslalogger.de:443: 404 Not Found"


def test_a_failed_forward_says_why():
    flow = tl_flow("/wakefile.php")
    flow.response = None
    flow.error = mflow.Error("Connect call failed")
    mark(flow)
    assert flow.marked == MARKS["forward failed"]
    assert flow.comment == "forwarding to https://teslalogger.de:443 failed: Connect call failed"


def test_a_killed_flow_is_marked_as_such():
    flow = tl_flow()
    flow.response = None
    flow.error = mflow.Error(mflow.Error.KILLED_MESSAGE)
    mark(flow)
    assert (flow.marked, flow.comment) == (
        MARKS["killed"],
        "closed by the proxy before it was answered",
    )


def test_other_hosts_are_left_alone():
    flow = tl_flow("/", host="example.org")
    mark(flow)
    assert (flow.marked, flow.comment, outcome(flow)) == ("", "", None)


def test_an_unfinished_teslalogger_flow_has_no_outcome():
    flow = tl_flow()
    flow.response = None
    assert outcome(flow) is None


def test_a_users_own_mark_is_kept_ours_is_updated():
    flow = answered("stored", "stored sample 1")
    flow.marked = ":star:"
    mark(flow)
    assert flow.marked == ":star:"

    ours = answered("stored", "stored sample 1")
    mark(ours)
    ours.metadata[ACTION] = "refused"
    mark(ours)
    assert ours.marked == MARKS["refused"]


async def test_the_addon_marks_in_response_and_error():
    addon = FlowMarks()
    with taddons.context(addon) as tctx:
        done = answered("served", "served 3 values")
        await tctx.cycle(addon, done)
        assert done.marked == MARKS["served"]
        failed = tl_flow("/share_x.php")
        failed.response = None
        failed.error = mflow.Error("TLS handshake failed")
        addon.error(failed)
        assert failed.marked == MARKS["forward failed"]
