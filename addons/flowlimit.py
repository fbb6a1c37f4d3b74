"""Bounded memory for mitmweb: keep at most `smt_keep_flows` flows in its view.

mitmweb holds every flow (with both bodies) in its `view` addon until the user
clears it, so a proxy left running for days grows without end. Whenever a flow
finishes, the oldest flows beyond the limit leave the view (and the browser's
list); the samples themselves are in the database. mitmdump keeps no flows and
has no view: there this does nothing.

Never dropped: flows still in progress (dropping one would kill it) and flows
the user marked by hand (a mark flowmarks.py did not set). mitmweb's event log
needs nothing from us: mitmproxy caps it at 10,000 entries.
"""

from collections.abc import Iterable

from mitmproxy import ctx, exceptions
from mitmproxy import flow as mflow

from addons.flowmarks import MARK

DEFAULT_KEEP = 2000


def kept_by_user(flow: mflow.Flow) -> bool:
    return bool(flow.marked) and flow.marked != flow.metadata.get(MARK)


def to_drop(oldest_first: Iterable[mflow.Flow], count: int, limit: int) -> list[mflow.Flow]:
    """The flows to drop so that `count` comes down to `limit` (0: no limit)."""
    excess = count - limit
    if limit <= 0 or excess <= 0:
        return []
    drop: list[mflow.Flow] = []
    for flow in oldest_first:
        if not flow.live and not kept_by_user(flow):
            drop.append(flow)
            if len(drop) == excess:
                break
    return drop


class FlowLimit:
    def load(self, loader) -> None:
        loader.add_option(
            "smt_keep_flows",
            int,
            DEFAULT_KEEP,
            "Flows mitmweb keeps in its list; beyond that the oldest leave it, so memory "
            "stays flat over days (the samples stay in the database). 0 keeps every flow. "
            "No effect in mitmdump, which keeps none.",
        )

    def configure(self, updated: set[str]) -> None:
        if "smt_keep_flows" in updated:
            if ctx.options.smt_keep_flows < 0:
                raise exceptions.OptionsError("smt_keep_flows must be 0 (keep all) or more")
            self.trim()

    def trim(self) -> None:
        view = ctx.master.addons.get("view")
        if view is None:
            return
        # The view's store is ordered by arrival; mitmproxy offers no public
        # oldest-first access short of copying all of it (view.resolve("@all")).
        for flow in to_drop(view._store.values(), view.store_count(), ctx.options.smt_keep_flows):
            view.remove([flow])  # one at a time: a batch logs "Removed n flows" every time

    def response(self, flow: mflow.Flow) -> None:
        self.trim()

    def error(self, flow: mflow.Flow) -> None:
        self.trim()

    def tcp_end(self, flow: mflow.Flow) -> None:
        self.trim()

    def udp_end(self, flow: mflow.Flow) -> None:
        self.trim()

    def dns_response(self, flow: mflow.Flow) -> None:
        self.trim()
