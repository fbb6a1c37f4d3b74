import re

import pytest
from mitmproxy import contentviews, http
from mitmproxy.contentviews import Metadata
from mitmproxy.test import taddons, tflow, tutils

from addons.smt_view import (
    PRIORITY,
    RULE,
    WIDTH,
    ScanMyTeslaContentview,
    SmtView,
    render_handout,
    render_token,
    render_upload,
)
from storage.catalogue import catalogue
from support.seed import captured_requests

SEED = captured_requests()
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def smt_flow(path: str, body: bytes, response: bytes | None = None) -> http.HTTPFlow:
    request = tutils.treq(host="teslalogger.de", port=443, path=path.encode(), method=b"POST")
    request.headers.update(FORM)
    request.content = body
    flow = tflow.tflow(req=request)
    if response is not None:
        flow.response = http.Response.make(200, response, {"Content-Type": "text/html"})
    return flow


@pytest.fixture
def view():
    with taddons.context(SmtView()):
        yield


def shown(message: http.Message, flow: http.HTTPFlow) -> contentviews.ContentviewResult:
    return contentviews.prettify_message(message, flow)


def row(text: str, value_id: int) -> str:
    (line,) = [line for line in text.splitlines() if re.match(rf"\s+{value_id}\s", line)]
    return " ".join(line.split())


def test_the_seed_upload_shows_names_units_and_values(view):
    flow = smt_flow("/insert_scanmytesla.php", SEED["/insert_scanmytesla.php"].body)
    result = shown(flow.request, flow)
    assert result.view_name == "ScanMyTesla"  # it wins over the URL-encoded form view
    text = result.text
    assert "token        ggdfghjizffc" in text
    assert "version      1" in text
    assert "device time  2025-02-09T19:33:19.697553+01:00" in text
    assert "values       7" in text
    assert row(text, 43).startswith("43 Battery power 1.1858 kW SMTBatteryPower")
    assert row(text, 442).startswith("442 Speed -1.76 km/h SMTSpeed")
    assert row(text, 415).startswith("415 Rr mech power 458.5 kW")
    assert row(text, 426).startswith("426 Consumption -673.7568 Wh/km")
    assert row(text, 404) == "404 Accelerator pedal 6.4 %"
    assert row(text, 444).startswith("444 Powertrain flow 6.3 L/min")
    assert row(text, 445).startswith("445 Battery flow 6.3 L/min")
    # grouped, in catalogue order: battery first, thermal last
    titles = [line for line in text.splitlines() if line and not line[0].isspace()]
    assert titles[-3:] == ["Battery", "Drive", "Thermal"]


def test_token_check_and_poll_show_the_token(view):
    check = smt_flow("/check_token.php", b"t=1a2b3c4d")
    assert shown(check.request, check).text == "ScanMyTesla token check\ntoken  1a2b3c4d\n"
    poll = smt_flow("/get_scanmytesla.php?x=1", b"t=1a2b3c4d")
    assert shown(poll.request, poll).text == "TeslaLogger poll\ntoken  1a2b3c4d\n"


def test_the_handout_is_decoded_with_names(view):
    body = (
        b"12\r\n2025-02-09 19:33:19\r\n"
        b'{"d":"2025-02-09T19:33:19+01:00","dict":{"2":21.5,"71":78.2}}'
    )
    flow = smt_flow("/get_scanmytesla.php", b"t=abc", response=body)
    result = shown(flow.response, flow)
    assert result.view_name == "ScanMyTesla"
    assert "up to sample  12" in result.text
    assert "filed under   2025-02-09 19:33:19 (TeslaLogger's second)" in result.text
    assert row(result.text, 2).startswith("2 Cell temp avg 21.5 °C SMTCellTempAvg")
    assert row(result.text, 71).startswith("71 Nominal full pack 78.2 kWh SMTNominalFullPack")


@pytest.mark.parametrize("body", [b"not found", b"OK", b"ERROR: missing token"])
def test_plain_answers_are_left_to_the_raw_view(view, body):
    flow = smt_flow("/get_scanmytesla.php", b"t=abc", response=body)
    assert shown(flow.response, flow).view_name != "ScanMyTesla"


def test_other_endpoints_and_hosts_keep_the_built_in_views(view):
    flow = smt_flow("/wakefile.php", b"t=abc")
    assert shown(flow.request, flow).view_name == "URL-encoded"


@pytest.mark.parametrize(
    "body, reason",
    [
        (b"t=abc&m=%7Bnope", "field m is not JSON"),
        (b"t=abc&v=1", "missing field m"),
        (b"m=%7B%7D", "missing token"),
        (b"t=abc&m=%zz", "broken percent-escape"),
        (b"t=abc&m=%5B%5D", "must be a JSON object"),
        (b"t=abc&m=" + b"7" * (2 << 20), "over the 1048576 byte limit"),
        (b"\xff\xfe", "not percent-encoded ASCII"),
    ],
)
def test_malformed_uploads_show_the_reason_instead_of_failing(view, body, reason):
    flow = smt_flow("/insert_scanmytesla.php", body)
    result = shown(flow.request, flow)
    assert result.view_name == "ScanMyTesla"
    assert result.text.startswith("ScanMyTesla upload: cannot be decoded\n")
    assert reason in result.text
    assert "The body as sent:" in result.text


def test_a_long_malformed_body_is_cut_short():
    text = render_upload(b"t=abc&m=" + b"7" * 5000, catalogue())
    assert "... (3008 more bytes)" in text
    assert len(text) < 2300


@pytest.mark.parametrize(
    "body, reason",
    [
        (b"12\r\nno json", "three CRLF-separated parts"),
        (b"12\r\n2025\r\n{", "not JSON"),
        (b"1\r\n\xff\r\n{}", "not UTF-8"),
    ],
)
def test_malformed_handouts_show_the_reason(body, reason):
    text = render_handout(body, catalogue())
    assert text.startswith("Hand-out to TeslaLogger: cannot be decoded\n")
    assert reason in text


def test_malformed_token_body():
    assert "missing token" in render_token("TeslaLogger poll", b"x=1")


def test_dropped_nan_values_are_listed():
    body = b"t=abc&m=" + (
        b"%7B%22d%22%3A%222025-02-09T19%3A33%3A19Z%22%2C%22dict%22%3A%7B%222%22%3ANaN%2C"
        b"%2243%22%3A1.5%7D%7D"
    )
    text = render_upload(body, catalogue())
    assert "dropped      ids 2: NaN/Infinity" in text
    assert "values       1" in text


def test_priority_beats_the_form_view_only_for_these_bodies():
    view = ScanMyTeslaContentview()
    flow = smt_flow("/insert_scanmytesla.php", b"t=a")
    meta = Metadata(flow=flow, http_message=flow.request)
    assert view.render_priority(b"t=a", meta) == PRIORITY > 1
    assert view.render_priority(b"", meta) < 0
    assert view.render_priority(b"t=a", Metadata()) < 0


def test_chosen_by_hand_without_a_flow_it_guesses_from_the_shape():
    view = ScanMyTeslaContentview()
    upload = SEED["/insert_scanmytesla.php"].body
    assert view.prettify(upload, Metadata()).startswith("ScanMyTesla upload\n")
    handout = b'1\r\n2025-02-09 19:33:19\r\n{"d":"2025-02-09T19:33:19Z","dict":{}}'
    assert view.prettify(handout, Metadata()).startswith("Hand-out to TeslaLogger\n")


def test_the_addon_registers_the_view():
    contentviews.registry._by_name.pop("scanmytesla", None)
    with taddons.context(SmtView()):
        assert "scanmytesla" in contentviews.registry


def every_catalogue_value() -> bytes:
    values = ",".join(f"%22{info.id}%22%3A{info.id}.125" for info in catalogue().values())
    d = "%222025-02-09T19%3A33%3A19Z%22"
    return f"t=abc&m=%7B%22d%22%3A{d}%2C%22dict%22%3A%7B{values}%2C%229999%22%3A1%7D%7D".encode()


@pytest.mark.parametrize(
    "text",
    [
        render_upload(every_catalogue_value(), catalogue()),
        render_upload(b"t=abc&m=%7Bnope", catalogue()),
        render_upload(b"", catalogue()),
        render_upload(b"t=abc&m=" + b"\r\n\r\n" * 600, catalogue()),
        render_handout(b"12\r\n\r\n{", catalogue()),
        render_token("TeslaLogger poll", b"t=abc"),
    ],
)
def test_no_line_is_empty_or_wider_than_mitmwebs_pane(text):
    """mitmweb drops empty (and blank) lines and hides long ones behind a scroll bar."""
    lines = text.splitlines()
    assert all(line.strip() for line in lines), text
    assert max(len(line) for line in lines) <= WIDTH, text


def test_groups_are_set_apart_by_a_rule_and_long_notes_wrap_under_their_column():
    text = render_upload(SEED["/insert_scanmytesla.php"].body, catalogue())
    lines = text.splitlines()
    assert lines.count(RULE) == 3  # above Battery, Drive, Thermal
    assert lines[lines.index("Battery") - 1] == RULE
    (first,) = [line for line in lines if line.startswith("   43  Battery power")]
    more = lines[lines.index(first) + 1]
    assert more.strip() and more.index(more.strip()) == first.index("SMTBatteryPower")
