"""The baseline: mitmdump answering the ScanMyTesla endpoints with a trivial script
(no decoding, no storage), so a benchmark shows what teslahome's addons cost."""

from mitmproxy import http


class Bare:
    def request(self, flow: http.HTTPFlow) -> None:
        if flow.request.pretty_host == "teslalogger.de":
            answer = b"not found" if flow.request.path == "/get_scanmytesla.php" else b"OK"
            flow.response = http.Response.make(200, answer, {"Content-Type": "text/html"})


addons = [Bare()]
