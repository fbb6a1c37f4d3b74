"""Marks and comments the teslalogger.de flows in mitmweb's flow list, so what
teslahome did with each is visible at a glance.

The addons that answer a flow record what they did in flow.metadata[ACTION]
and usually a comment; this addon turns the action into a mark through a
table. Actions it does not know (added later by other addons) get a generic
mark and keep their comment. teslalogger.de flows nobody answered
went to the real server: they are marked "forwarded" with the upstream's
status, or its failure.

A mark the user changes by hand is left alone (and keeps the flow in mitmweb
past smt_keep_flows, see flowlimit.py).
"""

from mitmproxy import flow as mflow
from mitmproxy import http

from addons.intercept import is_teslalogger
from addons.scanmytesla import ACTION

MARK = "teslahome.mark"  # metadata: the mark this addon set, to tell a user's own mark apart

# action -> mitmweb mark (GitHub emoji names, rendered by mitmweb).
MARKS = {
    "accepted": ":key:",
    "unknown token": ":grey_question:",
    "stored": ":floppy_disk:",
    "served": ":outbox_tray:",
    "nothing waiting": ":zzz:",
    "refused": ":no_entry:",
    "storage failed": ":boom:",
    "recorded": ":inbox_tray:",  # passthrough mode: upstream answered, the upload was stored too
    "not recorded": ":warning:",
    "forwarded": ":arrow_right:",
    "forward failed": ":x:",
    "killed": ":scissors:",
}
OTHER_MARK = ":house:"


def outcome(flow: http.HTTPFlow) -> tuple[str, str] | None:
    """What teslahome did with a finished flow, and a sentence saying so; None
    for flows that are none of teslahome's business."""
    action = flow.metadata.get(ACTION)
    if isinstance(action, str) and action:
        return action, flow.comment or action
    if not is_teslalogger(flow.request):
        return None
    request = flow.request
    upstream = f"{request.scheme}://{request.host}:{request.port}"
    if flow.error is not None:
        if flow.error.msg == mflow.Error.KILLED_MESSAGE:
            return "killed", flow.comment or "closed by the proxy before it was answered"
        return "forward failed", f"forwarding to {upstream} failed: {flow.error.msg}"
    if flow.response is not None:
        response = flow.response
        return "forwarded", f"forwarded to {upstream}: {response.status_code} {response.reason}"
    return None


def mark(flow: http.HTTPFlow) -> None:
    found = outcome(flow)
    if found is None:
        return
    action, comment = found
    ours = flow.metadata.get(MARK)
    if flow.marked and flow.marked != ours:
        return  # the user's own mark
    flow.marked = flow.metadata[MARK] = MARKS.get(action, OTHER_MARK)
    flow.comment = comment


class FlowMarks:
    """Runs in `response` and `error`, before mitmweb's view sends the flow's
    final state to the browser."""

    def response(self, flow: http.HTTPFlow) -> None:
        mark(flow)

    def error(self, flow: http.HTTPFlow) -> None:
        mark(flow)
