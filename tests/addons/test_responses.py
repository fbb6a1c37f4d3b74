"""Answers built without Response.make: the same response, checked as mitmproxy would."""

import dataclasses

import pytest
from mitmproxy import http
from mitmproxy.utils import typecheck

from addons.responses import text_response


@pytest.mark.parametrize(
    ("status", "body"), [(200, b"OK"), (200, b"not found"), (403, b"ERROR: token x"), (599, b"")]
)
def test_answers_are_what_mitmproxys_make_would_build(status, body):
    ours = text_response(status, body)
    made = http.Response.make(status, body, {"Content-Type": "text/html; charset=UTF-8"})
    ours.timestamp_start = ours.timestamp_end = made.timestamp_start
    made.timestamp_end = made.timestamp_start
    assert ours.get_state() == made.get_state()
    assert list(vars(ours.data)) == list(vars(made.data))  # every field, in mitmproxy's order
    for field in dataclasses.fields(ours.data):  # what mitmproxy checks in debug mode
        typecheck.check_option_type(field.name, getattr(ours.data, field.name), field.type)
    assert ours.content == body
