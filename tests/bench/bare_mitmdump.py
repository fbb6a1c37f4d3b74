"""The baseline: mitmdump answering the ScanMyTesla endpoints with a trivial script
(no decoding, no storage), so a benchmark shows what teslahome's addons cost."""

from mitmproxy import http


class Bare:
    def request(self, flow: http.HTTPFlow) -> None:
        if flow.request.pretty_host == "teslalogger.de":
            flow.response = http.Response.make(200, b"OK", {"Content-Type": "text/html"})


addons = [Bare()]
