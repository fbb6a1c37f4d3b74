"""The teslalogger.de wire format that ScanMyTesla and TeslaLogger speak.

Pure functions: request bodies in, samples out; hand-outs in, response bodies
out. Facts from shared/PROTOCOL.md sections 1 and 2; where TeslaLogger's
parser (ScanMyTesla.cs) would choke on something, it is refused or dropped
here, at the door, instead of breaking TeslaLogger later.
"""

import codecs
import json
import math
import re
from collections.abc import Collection, Mapping

from storage.records import Handout, Sample, parse_device_time

CHECK_TOKEN = "/check_token.php"
INSERT = "/insert_scanmytesla.php"
GET = "/get_scanmytesla.php"
ENDPOINTS = frozenset({CHECK_TOKEN, INSERT, GET})

OK = b"OK"
NOT_FOUND = b"not found"  # TeslaLogger compares for string equality: no newline, ever
MAX_BODY = 1 << 20  # a 300-value upload is about 6 KiB
MAX_UNREAD_BODY = 8 * MAX_BODY  # larger bodies are not even read (see ScanMyTesla.requestheaders)

# TeslaLogger tokens are hex CRC32s with optional `<prefix>_` and `_<n>`; the app
# accepts whatever the user types, so anything printable and URL-safe goes.
TOKEN_RE = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
_NON_FINITE_SPELLINGS = frozenset({"NaN", "Infinity", "-Infinity"})
_CLIENT_ERROR = 400


class WireError(ValueError):
    """A request the endpoint refuses; `reason` follows `ERROR: ` in the answer."""

    def __init__(self, reason: str, status: int = _CLIENT_ERROR) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def error_body(reason: str) -> bytes:
    return f"ERROR: {reason}".encode()


def parse_form(body: bytes) -> dict[str, str]:
    """An application/x-www-form-urlencoded body, strictly: a broken escape,
    non-UTF-8 text or a field given twice is an error, not a guess."""
    if len(body) > MAX_BODY:
        raise WireError(f"body of {len(body)} bytes is over the {MAX_BODY} byte limit", 413)
    form: dict[str, str] = {}
    for pair in body.split(b"&"):
        if not pair:
            continue
        raw_name, _, raw_value = pair.partition(b"=")
        name = _unquote(raw_name, "a field name")
        if name in form:
            raise WireError(f"field {name} is given twice")
        form[name] = _unquote(raw_value, f"field {name}")
    return form


def _unquote(raw: bytes, what: str) -> str:
    try:
        decoded = percent_decode(raw)
    except ValueError:
        raise WireError(
            f"{what} has a broken percent-escape (% not followed by two hex digits)"
        ) from None
    if not raw.isascii():
        raise WireError(f"{what} is not percent-encoded ASCII")
    try:
        return decoded.decode("utf-8")
    except UnicodeDecodeError:
        raise WireError(f"{what} is not UTF-8 after percent-decoding") from None


def percent_decode(raw: bytes) -> bytes:
    """What unquote_plus does, in C: `%HH` is rewritten as Python's `\\xHH` and
    decoded by codecs.escape_decode, with literal backslashes escaped first, so
    ours are the only escapes. A `%` not followed by two hex digits raises
    ValueError. unquote_plus loops in Python (19 us for the ~150 escapes of the
    seed upload); a regex that looked for broken escapes first took 21 us of
    the 47 a 300-value upload cost."""
    escaped = raw.replace(b"\\", b"\\\\").replace(b"+", b" ").replace(b"%", b"\\x")
    return codecs.escape_decode(escaped)[0]


def parse_token(form: Mapping[str, str]) -> str:
    token = form.get("t", "")
    if not token:
        raise WireError("missing token: send the TeslaLogger token as field t")
    if not TOKEN_RE.fullmatch(token):
        raise WireError("malformed token: use 1-64 letters, digits, '_', '-' or '.'")
    return token


def token_accepted(token: str, allowed: Collection[str]) -> bool:
    """With no tokens configured every well-formed token is accepted."""
    return not allowed or token in allowed


def decode_upload(body: bytes) -> Sample:
    """insert_scanmytesla.php: `t`, `v` and `m`, the percent-encoded JSON
    `{"d": <device time>, "dict": {"<id>": <number>, ...}}`.

    NaN and Infinity are dropped and reported in `skipped`, as TeslaLogger
    drops them; anything else that is not a finite number is an error, since
    TeslaLogger writes keys into SQL verbatim and converts values blindly.
    """
    form = parse_form(body)
    token = parse_token(form)
    if "m" not in form:
        raise WireError("missing field m (the percent-encoded JSON sample)")
    return decode_sample(form["m"], token=token, version=form.get("v", ""))


def decode_sample(text: str, *, token: str = "", version: str = "") -> Sample:
    """The JSON of field `m` (a hand-out's JSON too, which has no token)."""
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as e:
        raise WireError(f"field m is not JSON ({_short(e)})") from None
    if not isinstance(doc, dict):
        raise WireError("field m must be a JSON object with d and dict")
    device_time = doc.get("d")
    if not isinstance(device_time, str):
        raise WireError("field m has no device time d (an ISO-8601 string)")
    try:
        parse_device_time(device_time)
    except ValueError:
        raise WireError(f"device time d {device_time[:40]!r} is not ISO-8601") from None
    raw_values = doc.get("dict")
    if not isinstance(raw_values, dict):
        raise WireError("field m has no dict of values (an object of id: number)")
    values: dict[int, float] = {}
    skipped: list[int] = []
    for key, value in raw_values.items():
        if not (len(key) <= 9 and key.isascii() and key.isdigit()):  # 1 to 9 ASCII digits
            raise WireError(f"value id {key[:20]!r} is not a number")
        number = value if type(value) is float else _number(value)  # json.loads: mostly floats
        if number is None:
            raise WireError(f"value of id {key} is {_kind(value)}, not a number")
        if math.isfinite(number):
            values[int(key)] = number
        else:
            skipped.append(int(key))
    return Sample(token, device_time, values, version, tuple(skipped))


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            return float(value)
        except OverflowError:
            return math.inf
    if isinstance(value, str) and value in _NON_FINITE_SPELLINGS:
        return float(value)
    return None


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list) else "an object"


def _short(error: BaseException) -> str:
    return str(error).split(":")[0][:60] or type(error).__name__


def encode_sample(device_time: str, values: Mapping[int, float]) -> str:
    """The JSON TeslaLogger expects, in the app's own shape."""
    return json.dumps(
        {"d": device_time, "dict": {str(k): v for k, v in values.items()}},
        separators=(",", ":"),
        allow_nan=False,
    )


def encode_handout(handout: Handout) -> bytes:
    """get_scanmytesla.php's answer: `<id>\\r\\n<date>\\r\\n<json>`. TeslaLogger
    skips the first two lines; the date line is the second TeslaLogger will
    file the values under."""
    stamp = parse_device_time(handout.device_time)
    return (
        f"{handout.sample_id}\r\n{stamp:%Y-%m-%d %H:%M:%S}\r\n"
        f"{encode_sample(handout.device_time, handout.values)}"
    ).encode()
