"""A mitmproxy content view that shows ScanMyTesla samples with names and units.

Covers the bodies of the teslalogger.de endpoints, recognised by path (so it
also works for saved flows and reverse-mode listeners):

- insert_scanmytesla.php request: token, version, device time, every value
- check_token.php and get_scanmytesla.php requests: the token
- get_scanmytesla.php response: the hand-out TeslaLogger receives

Values appear grouped and in catalogue order (storage/catalogue.csv), ids the
catalogue does not know last, by number. A body that cannot be decoded shows
the decoder's reason and the raw text instead of an error. Its priority (2)
beats mitmproxy's form view (1) for these flows; the Raw and URL-encoded views
stay selectable.
"""

from mitmproxy import contentviews, http
from mitmproxy.contentviews import Contentview, Metadata

from addons import smt_wire as wire
from storage.catalogue import Catalogue, catalogue
from storage.readout import value_lines
from storage.records import Sample

PRIORITY = 2.0  # the built-in URL-encoded view answers 1 for form bodies
RAW_SHOWN = 2000  # bytes of an undecodable body shown under the reason
# mitmweb drops empty lines and cuts long ones off behind a scroll bar: no line is
# empty, sections are set apart by a rule, and lines stay within what its content
# pane shows at 1400 px.
WIDTH = 80
RULE = "  " + "─" * (WIDTH - 4)
# The body as sent, on lines of our own: its own line breaks and control bytes as escapes.
_CONTROL_ESCAPES = {c: f"\\x{c:02x}" for c in (*range(32), 127)} | {
    ord("\r"): "\\r",
    ord("\n"): "\\n",
    ord("\t"): "\\t",
}

HANDOUT = "hand-out"  # get_scanmytesla.php's response, the only response shown


def _render(title: str, fields: list[tuple[str, str]], sample: Sample, names: Catalogue) -> str:
    fields = [*fields, ("device time", sample.device_time), ("values", str(len(sample.values)))]
    if sample.skipped:
        dropped = ", ".join(map(str, sample.skipped))
        fields.append(("dropped", f"ids {dropped}: NaN/Infinity, as TeslaLogger drops them"))
    width = max(len(label) for label, _ in fields)
    head = [f"{label.ljust(width)}  {text}" for label, text in fields]
    values = value_lines(dict(sample.values), names, width=WIDTH, rule=RULE)
    return "\n".join([title, *head, *values]) + "\n"


def _undecodable(title: str, error: wire.WireError, data: bytes) -> str:
    raw = data[:RAW_SHOWN].decode("utf-8", "backslashreplace").translate(_CONTROL_ESCAPES)
    lines = [raw[i : i + WIDTH] for i in range(0, len(raw), WIDTH)] or ["(empty)"]
    if len(data) > RAW_SHOWN:
        lines.append(f"  ... ({len(data) - RAW_SHOWN} more bytes)")
    head = [f"{title}: cannot be decoded", f"  {error.reason}", RULE, "The body as sent:"]
    return "\n".join([*head, *lines]) + "\n"


def render_upload(data: bytes, names: Catalogue) -> str:
    title = "ScanMyTesla upload"
    try:
        sample = wire.decode_upload(data)
    except wire.WireError as e:
        return _undecodable(title, e, data)
    fields = [("token", sample.token), ("version", sample.version or "(none)")]
    return _render(title, fields, sample, names)


def render_token(title: str, data: bytes) -> str:
    try:
        token = wire.parse_token(wire.parse_form(data))
    except wire.WireError as e:
        return _undecodable(title, e, data)
    return f"{title}\ntoken  {token}\n"


def decode_handout(data: bytes) -> tuple[str, str, Sample]:
    """get_scanmytesla.php's `<id>\\r\\n<date>\\r\\n<json>`: the hand-out's
    sample id, the second TeslaLogger files it under, and the sample."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise wire.WireError("the hand-out is not UTF-8") from None
    parts = text.split("\r\n", 2)
    if len(parts) != 3:
        raise wire.WireError("a hand-out has three CRLF-separated parts: id, date, JSON")
    handout_id, second, payload = parts
    return handout_id, second, wire.decode_sample(payload)


def render_handout(data: bytes, names: Catalogue) -> str:
    title = "Hand-out to TeslaLogger"
    try:
        handout_id, second, sample = decode_handout(data)
    except wire.WireError as e:
        return _undecodable(title, e, data)
    fields = [("up to sample", handout_id), ("filed under", f"{second} (TeslaLogger's second)")]
    return _render(title, fields, sample, names)


def looks_like_handout(data: bytes) -> bool:
    """`not found` and `ERROR: ...` are better read raw."""
    return data[:1].isdigit() and b"\r\n" in data[:40]


def body_kind(data: bytes, metadata: Metadata) -> str | None:
    """Which body this is: an endpoint path for requests, HANDOUT, or None."""
    flow = metadata.flow
    if not isinstance(flow, http.HTTPFlow):
        return None
    path = flow.request.path.partition("?")[0]
    if path not in wire.ENDPOINTS:
        return None
    message = metadata.http_message
    if isinstance(message, http.Request):
        return path
    if isinstance(message, http.Response) and path == wire.GET and looks_like_handout(data):
        return HANDOUT
    return None


class ScanMyTeslaContentview(Contentview):
    name = "ScanMyTesla"

    def render_priority(self, data: bytes, metadata: Metadata) -> float:
        return PRIORITY if data and body_kind(data, metadata) else -1

    def prettify(self, data: bytes, metadata: Metadata) -> str:
        kind = body_kind(data, metadata)
        if kind is None:  # chosen by hand for some other body: guess from its shape
            kind = HANDOUT if looks_like_handout(data) else wire.INSERT
        names = catalogue()
        if kind == HANDOUT:
            return render_handout(data, names)
        if kind == wire.INSERT:
            return render_upload(data, names)
        title = "ScanMyTesla token check" if kind == wire.CHECK_TOKEN else "TeslaLogger poll"
        return render_token(title, data)


class SmtView:
    """Registers the content view. mitmproxy 12.2 has no public way to remove
    one again; registering replaces a view of the same name, so a script
    reload just swaps it."""

    def load(self, loader) -> None:
        contentviews.add(ScanMyTeslaContentview)
