"""Property-based fuzzing of the ScanMyTesla decoder and the TeslaLogger format."""

import json
import math
import re
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from addons import smt_wire as wire
from storage.records import Handout, handout_stamp, parse_device_time

pytestmark = pytest.mark.fault

value_ids = st.integers(min_value=0, max_value=999_999_999)
finite = st.floats(allow_nan=False, allow_infinity=False)
offsets = st.sampled_from(["+01:00", "+02:00", "Z", "-05:00", "+05:30", ""])
device_times = st.builds(
    lambda dt, off: dt.isoformat(timespec="microseconds") + off,
    st.datetimes(
        min_value=parse_device_time("2000-01-01T00:00:00"),
        max_value=parse_device_time("2099-12-31T00:00:00"),
    ),
    offsets,
)
tokens = st.from_regex(wire.TOKEN_RE, fullmatch=True)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048))
@example(b"t=a&m=%7B%22d%22%3A%22x%22%7D")
@example(b"\xff\xfe=&&==%")
def test_any_bytes_are_decoded_or_refused_with_a_reason(body):
    try:
        sample = wire.decode_upload(body)
    except wire.WireError as e:
        assert e.reason and 400 <= e.status < 500
    else:
        assert all(math.isfinite(v) for v in sample.values.values())


@settings(max_examples=300)
@given(st.text(max_size=300))
def test_any_text_in_m_is_decoded_or_refused_with_a_reason(m):
    try:
        wire.decode_upload(f"t=tok&v=1&m={quote(m, safe='')}".encode())
    except wire.WireError as e:
        assert e.reason


@settings(max_examples=300)
@given(tokens, device_times, st.dictionaries(value_ids, finite, max_size=40))
def test_what_the_app_sends_comes_back_to_teslalogger_unchanged(token, d, values):
    m = json.dumps({"d": d, "dict": {str(k): v for k, v in values.items()}})
    sample = wire.decode_upload(f"t={quote(token)}&v=1&m={quote(m, safe='')}".encode())
    assert (sample.token, sample.device_time, sample.values) == (token, d, values)

    body = wire.encode_handout(Handout(1, d, dict(sample.values)))
    # TeslaLogger: two lines up to CRLF it skips, then JSON it deserialises.
    first = body.index(b"\r\n")
    second = body.index(b"\r\n", first + 2)
    doc = json.loads(body[second + 2 :])
    assert doc["d"] == d
    assert all(key.isdigit() for key in doc["dict"])  # safe to splice into SQL
    assert {int(k): v for k, v in doc["dict"].items()} == values
    assert b"NaN" not in body and b"Infinity" not in body


@settings(max_examples=300)
@given(st.lists(device_times, min_size=1, max_size=20))
def test_handout_stamps_never_repeat_a_second(times):
    last = None
    for d in times:
        stamp, second = handout_stamp(d, last)
        assert last is None or second > last
        assert parse_device_time(stamp).timestamp() // 1 == second or stamp == d
        last = second


@settings(max_examples=500)
@given(st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=127), max_size=200))
@example("a%5Cx41\\x41\\n+%2B%25%5c%7E")
def test_percent_decoding_is_unquote_plus_and_refuses_broken_escapes(text):
    from urllib.parse import unquote_to_bytes

    raw = text.encode()
    if re.search(rb"%(?![0-9A-Fa-f]{2})", raw):  # unquote would keep such a % as it is
        with pytest.raises(ValueError):
            wire.percent_decode(raw)
    else:
        assert wire.percent_decode(raw) == unquote_to_bytes(text.replace("+", " "))
