"""Query strings of the wallbox API."""

import pytest

from wallbox.api.query import BadRequest, parse_query


@pytest.mark.parametrize(
    "raw, bare, named",
    [
        ("1", "1", {}),
        ("1&wait=5", "1", {"wait": "5"}),
        ("value=16", None, {"value": "16"}),
        ("%31%36", "16", {}),
        ("", None, {}),
    ],
)
def test_parse_query(raw, bare, named):
    assert parse_query(raw, frozenset({"value", "wait"})) == (bare, named)


def test_parse_query_refuses_floods():
    with pytest.raises(BadRequest):
        parse_query("&".join(f"x{i}=1" for i in range(20)), frozenset({"wait"}))
