import json
from urllib.parse import quote

import pytest

from addons import smt_wire as wire
from storage.records import Handout
from support.seed import captured_requests

SEED = captured_requests()["/insert_scanmytesla.php"].body
SEED_VALUES = {
    415: 458.5,
    442: -1.759999999999998,
    426: -673.75681818182375,
    43: 1.1858120000000085,
    404: 6.4,
    445: 6.3000000000000007,
    444: 6.3000000000000007,
}


def upload(m: str | dict, **fields: str) -> bytes:
    text = m if isinstance(m, str) else json.dumps(m)
    form = {"t": "abc123", "v": "1", **fields, "m": quote(text, safe="")}
    return "&".join(f"{k}={v}" for k, v in form.items()).encode()


def test_seed_upload_decodes_to_its_values():
    sample = wire.decode_upload(SEED)
    assert sample.token == "ggdfghjizffc"
    assert sample.version == "1"
    assert sample.device_time == "2025-02-09T19:33:19.697553+01:00"
    assert sample.values == SEED_VALUES
    assert sample.skipped == ()


def test_form_parsing_is_content_type_agnostic_and_decodes_plus():
    assert wire.parse_form(b"t=a+b&v=&m=%7B%7D&&") == {"t": "a b", "v": "", "m": "{}"}


def test_nan_and_infinity_are_dropped_as_teslalogger_drops_them():
    body = upload(
        '{"d":"2025-02-09T19:33:19+01:00","dict":{"1":NaN,"2":"Infinity","3":-Infinity,'
        '"4":1e999,"5":2}}'
    )
    sample = wire.decode_upload(body)
    assert sample.values == {5: 2.0}
    assert sample.skipped == (1, 2, 3, 4)


def test_ids_are_canonical_integers_and_the_last_duplicate_wins():
    sample = wire.decode_sample('{"d":"2025-02-09T19:33:19Z","dict":{"0415":1,"415":2}}')
    assert sample.values == {415: 2.0}


@pytest.mark.parametrize(
    "body, status, reason",
    [
        (b"", 400, "missing token"),
        (b"t=&m=%7B%7D", 400, "missing token"),
        (b"t=abc%2", 400, "broken percent-escape"),
        (b"t=abc&m=%7B%zz", 400, "broken percent-escape"),
        (b"t=abc&m=%FF%FE", 400, "not UTF-8"),
        ("t=abc&m=\u00e4".encode(), 400, "not percent-encoded ASCII"),
        (b"t=abc&t=def&m=x", 400, "given twice"),
        (b"t=a%20b&m=x", 400, "malformed token"),
        (b"t=" + b"x" * 65 + b"&m=x", 400, "malformed token"),
        (b"t=abc&v=1", 400, "missing field m"),
        (upload("{not json"), 400, "not JSON"),
        (upload("[1, 2]"), 400, "JSON object"),
        (upload("[" * 100000 + "]" * 100000), 400, "not JSON"),
        (upload({"dict": {"1": 2}}), 400, "no device time"),
        (upload({"d": 5, "dict": {"1": 2}}), 400, "no device time"),
        (upload({"d": "yesterday", "dict": {"1": 2}}), 400, "not ISO-8601"),
        (upload({"d": "2025-02-30T10:00:00", "dict": {"1": 2}}), 400, "not ISO-8601"),
        (upload({"d": "2025-02-09T19:33:19+01:00"}), 400, "no dict"),
        (upload({"d": "2025-02-09T19:33:19+01:00", "dict": [1]}), 400, "no dict"),
        (
            upload({"d": "2025-02-09T19:33:19+01:00", "dict": {"speed": 2}}),
            400,
            "'speed' is not a number",
        ),
        (upload({"d": "2025-02-09T19:33:19+01:00", "dict": {"-1": 2}}), 400, "not a number"),
        (
            upload({"d": "2025-02-09T19:33:19+01:00", "dict": {"1; DROP TABLE can": 2}}),
            400,
            "not a number",
        ),
        (upload({"d": "2025-02-09T19:33:19+01:00", "dict": {"1": "2.5"}}), 400, "is a string"),
        (upload({"d": "2025-02-09T19:33:19+01:00", "dict": {"1": None}}), 400, "is null"),
        (upload({"d": "2025-02-09T19:33:19+01:00", "dict": {"1": True}}), 400, "is a boolean"),
        (upload({"d": "2025-02-09T19:33:19+01:00", "dict": {"1": [2]}}), 400, "is a list"),
        (upload({"d": "2025-02-09T19:33:19+01:00", "dict": {"1": {}}}), 400, "is an object"),
        (
            upload('{"d":"2025-02-09T19:33:19+01:00","dict":{"1":' + "9" * 5000 + "}}"),
            400,
            "not JSON",
        ),
        (b"t=abc&m=" + b"x" * (wire.MAX_BODY + 1), 413, "over the"),
    ],
)
def test_malformed_uploads_are_refused_with_a_reason(body, status, reason):
    with pytest.raises(wire.WireError) as refused:
        wire.decode_upload(body)
    assert reason in refused.value.reason
    assert refused.value.status == status
    assert wire.error_body(refused.value.reason).startswith(b"ERROR: ")


def test_token_rule():
    assert wire.token_accepted("anything", ())
    assert wire.token_accepted("a1", {"a1"})
    assert not wire.token_accepted("b2", {"a1"})
    assert wire.parse_token({"t": "prefix_1a2b3c4d_2"}) == "prefix_1a2b3c4d_2"


def test_handout_is_exactly_what_teslalogger_parses():
    body = wire.encode_handout(Handout(17, "2025-02-09T19:33:19.697553+01:00", SEED_VALUES))
    # TeslaLogger: two CRLF-terminated lines it skips, then the JSON it deserialises.
    first = body.index(b"\r\n")
    second = body.index(b"\r\n", first + 2)
    assert body[:first] == b"17"
    assert body[first + 2 : second] == b"2025-02-09 19:33:19"
    doc = json.loads(body[second + 2 :])
    assert doc["d"] == "2025-02-09T19:33:19.697553+01:00"
    assert {int(k): v for k, v in doc["dict"].items()} == SEED_VALUES
    assert all(k.isdigit() for k in doc["dict"])
    assert b"\n" not in body[second + 2 :]


def test_handout_json_never_carries_nan():
    with pytest.raises(ValueError):
        wire.encode_sample("2025-02-09T19:33:19Z", {1: float("nan")})


def test_not_found_is_exactly_the_string_teslalogger_compares():
    assert wire.NOT_FOUND == b"not found"
