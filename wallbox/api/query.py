"""The wallbox API's query strings: `set_amps?16`, `set_amps?value=16&wait=5`,
`/tlwb/1?control=1&set_amps=16`. Pure: text in, values or a `BadRequest` out."""

from urllib.parse import parse_qsl

from wallbox.control.outcomes import CarError
from wallbox.control.settings import WAIT_MAX_S


class BadRequest(CarError):
    status = 400


# --- query strings ------------------------------------------------------------


def parse_query(raw: str, names: frozenset[str]) -> tuple[str | None, dict[str, str]]:
    """Split `1&wait=5` into the bare value ("1") and the named ones ({"wait": "5"}).

    Unknown names and repeated ones are refused: a typo such as `set_amp=16`
    must not be silently ignored.
    """
    bare: str | None = None
    named: dict[str, str] = {}
    try:
        pairs = parse_qsl(raw, keep_blank_values=True, strict_parsing=False, max_num_fields=10)
    except ValueError:
        raise BadRequest("too many query parameters: send each one once") from None
    for key, value in pairs:
        if key in names:
            if key in named:
                raise BadRequest(f"{key} is given twice: send it once")
            named[key] = value
        elif value == "" and bare is None and "=" not in key:
            bare = key
        else:
            allowed = ", ".join(sorted(names)) or "none"
            raise BadRequest(f"unknown parameter {key[:40]!r}: allowed here: {allowed}")
    return bare, named


def value_and_wait(raw: str, what: str) -> tuple[str, float | None]:
    """The one value of a single-value command, and its `wait`."""
    bare, named = parse_query(raw, frozenset({"value", "wait"}))
    if bare is not None and "value" in named:
        raise BadRequest(f"give {what} once: either ?<value> or ?value=<value>")
    value = bare if bare is not None else named.get("value")
    if value is None:
        raise BadRequest(f"{what} needs a value, e.g. ?{_EXAMPLE[what]}")
    return value, parse_wait(named.get("wait"))


_EXAMPLE = {"control": "1", "amps": "16", "soc": "80"}


def parse_wait(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        wait = float(text)
    except ValueError:
        raise BadRequest(f"wait must be seconds, 0..{WAIT_MAX_S:.0f}, got {text[:20]!r}") from None
    if not 0 <= wait <= WAIT_MAX_S:  # also refuses NaN
        raise BadRequest(f"wait must be seconds, 0..{WAIT_MAX_S:.0f}, got {text[:20]!r}")
    return wait


def wait_only(raw: str) -> float | None:
    bare, named = parse_query(raw, frozenset({"wait"}))
    if bare is not None:
        raise BadRequest(f"this command takes no value, got {bare[:20]!r}")
    return parse_wait(named.get("wait"))
