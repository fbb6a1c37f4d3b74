"""The one addon mitmproxy sees: it hands each hook to the features that need it.

mitmproxy looks up every hook on every addon for every event, and sends an
`update` after each flow event; with the features registered one by one, ten
objects were searched five times per upload, and those with flow hooks were
called on every flow of every host (a py-spy profile under wrk put that at a
tenth of an upload's cost). The hub has only the hooks some feature needs:

- load, configure, running, done: every feature, in list order (so the store,
  last, closes after everything that uses it has stopped);
- requestheaders, request, response, error: teslalogger.de flows only; other
  hosts' requests go only to the host guard (below);
- marks (flowmarks.py) only while someone can see them: under mitmweb, or
  when flows are saved (`save_stream_file`); the flow limit (flowlimit.py)
  only under mitmweb, whose view it trims;
- response, error and the ends of other kinds of flows exist on the hub only
  while one of those, or passthrough recording, needs them: mitmproxy calls
  a hook it finds on every flow of every host, and under plain mitmdump
  nothing needs these (measured by deleting them: 0.89 -> 0.91 of bare
  mitmdump's uploads per second, inside the run-to-run noise);
- next_layer and server_connect: the intercept's, per connection;
- http_connect, server_connect and connected/disconnected, and the request of
  every other host: the host guard's (host_guard.py), so that no client
  reaches this host's own services through the proxy.

Once everything is loaded, the objects that live as long as the process are
frozen out of the garbage collector's view (`gc.freeze`): mitmproxy makes
many short-lived objects per flow, and each full collection walked every
module, option and class of mitmproxy, aiohttp and teslapy again, which under
load put the slowest uploads at 1.3-1.5 times bare mitmdump's.

The features keep their hook methods and work the same registered alone,
as their tests register them.
"""

import gc
from collections.abc import Awaitable, Sequence

from mitmproxy import ctx, http
from mitmproxy.proxy import layer, server_hooks

from addons.flowlimit import FlowLimit
from addons.flowmarks import FlowMarks
from addons.host_guard import HostGuard
from addons.intercept import TeslaloggerIntercept, is_teslalogger
from addons.scanmytesla import ScanMyTesla


class Teslahome:
    def __init__(
        self,
        features: Sequence[object],
        *,
        smt: ScanMyTesla,
        intercept: TeslaloggerIntercept,
        marks: FlowMarks,
        limit: FlowLimit,
        guard: HostGuard,
        freeze_gc: bool = False,
    ) -> None:
        """`freeze_gc`: gc.freeze() once running (the real process: entry.py)."""
        self.features = list(features)
        self.smt = smt
        self.intercept = intercept
        self.marks = marks
        self.limit = limit
        self.guard = guard
        self.has_view = False  # mitmweb: its view lists the flows
        self.marking = False  # someone sees the marks: mitmweb, or saved flows
        self.freeze_gc = freeze_gc

    def _each(self, hook: str, *args) -> None:
        for feature in self.features:
            method = getattr(feature, hook, None)
            if method is not None:
                method(*args)

    def load(self, loader) -> None:
        self._each("load", loader)

    def configure(self, updated: set[str]) -> None:
        self._each("configure", updated)
        if "save_stream_file" in updated:
            self._look()
        elif "smt_upstream" in updated:
            self._choose_hooks()

    def running(self) -> None:
        self._each("running")
        self._look()
        if self.freeze_gc:
            # What exists now lives until exit; a script reload leaves its old
            # module behind, which only a developer does.
            gc.collect()
            gc.freeze()

    def done(self) -> None:
        self._each("done")

    def _look(self) -> None:
        self.has_view = ctx.master.addons.get("view") is not None
        saving = "save_stream_file" in ctx.options and bool(ctx.options.save_stream_file)
        self.marking = self.has_view or saving
        self._choose_hooks()

    def _choose_hooks(self) -> None:
        """None hides the class's hook from mitmproxy, which looks hooks up by
        name on every event; deleting the None brings the method back."""
        needed = {
            "response": self.marking or self.smt.records_passthrough(),  # marking: under a view too
            "error": self.marking,
            "tcp_end": self.has_view,
            "udp_end": self.has_view,
            "dns_response": self.has_view,
        }
        for hook, need in needed.items():
            if need:
                self.__dict__.pop(hook, None)
            else:
                setattr(self, hook, None)

    # Per connection.
    def next_layer(self, nextlayer: layer.NextLayer) -> None:
        self.intercept.next_layer(nextlayer)

    async def server_connect(self, data: server_hooks.ServerConnectionHookData) -> None:
        await self.intercept.server_connect(data)  # may point teslalogger.de's upstream elsewhere
        await self.guard.server_connect(data)  # so the guard checks where it really goes

    def server_connected(self, data: server_hooks.ServerConnectionHookData) -> None:
        self.guard.server_connected(data)

    def server_disconnected(self, data: server_hooks.ServerConnectionHookData) -> None:
        self.guard.server_disconnected(data)

    def http_connect(self, flow: http.HTTPFlow) -> Awaitable[None]:
        return self.guard.http_connect(flow)

    # Per flow: teslalogger.de only. Plain methods that return the feature's
    # coroutine when there is one: mitmproxy awaits what a hook returns, and other
    # hosts' flows cost no coroutine at all.
    def requestheaders(self, flow: http.HTTPFlow) -> None:
        if is_teslalogger(flow.request):
            self.smt.requestheaders(flow)

    def request(self, flow: http.HTTPFlow) -> Awaitable[None] | None:
        if is_teslalogger(flow.request):
            return self._request(flow)
        return self.guard.request(flow)

    async def _request(self, flow: http.HTTPFlow) -> None:
        await self.smt.request(flow)  # the local answers first,
        self.intercept.request(flow)  # then what is left goes upstream

    def response(self, flow: http.HTTPFlow) -> Awaitable[None] | None:
        if self.has_view:
            self.limit.response(flow)
        if not is_teslalogger(flow.request):
            return None
        if self.smt.records_passthrough():
            return self._record(flow)
        if self.marking:
            self.marks.response(flow)
        return None

    async def _record(self, flow: http.HTTPFlow) -> None:
        await self.smt.response(flow)
        if self.marking:
            self.marks.response(flow)

    # The hooks below exist only while _choose_hooks says so: error while
    # someone sees marks, the others only under mitmweb.
    def error(self, flow: http.HTTPFlow) -> None:
        if is_teslalogger(flow.request):
            self.marks.error(flow)
        if self.has_view:
            self.limit.error(flow)

    # Other kinds of flows end in mitmweb's list too.
    def tcp_end(self, flow) -> None:
        self.limit.trim()

    def udp_end(self, flow) -> None:
        self.limit.trim()

    def dns_response(self, flow) -> None:
        self.limit.trim()
