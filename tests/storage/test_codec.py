import math
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.codec import decode_values, encode_values


def test_seed_values_round_trip_exactly():
    values = {415: 458.5, 442: -1.759999999999998, 426: -673.75681818182375, 43: 1.1858120000000085}
    assert decode_values(encode_values(values)) == values


def test_narrow_ids_cost_ten_bytes_per_value():
    assert len(encode_values({i: float(i) for i in range(300)})) == 1 + 300 * 10


def test_ids_beyond_16_bits_switch_to_wide_format():
    values = {5: 1.0, 70_000: 2.5}
    blob = encode_values(values)
    assert blob[0] == 2 and len(blob) == 1 + 2 * 12
    assert decode_values(blob) == values


def test_empty_sample_is_one_byte():
    assert decode_values(encode_values({})) == {}


@pytest.mark.parametrize(
    "blob, reason",
    [(b"", "empty"), (b"\x09", "unknown"), (b"\x01\x00", "truncated")],
)
def test_corrupt_blobs_are_refused(blob, reason):
    with pytest.raises(ValueError, match=reason):
        decode_values(blob)


@given(
    st.dictionaries(
        st.integers(0, 2**32 - 1),
        st.floats(allow_nan=False, allow_infinity=False),
        max_size=50,
    )
)
def test_any_finite_values_round_trip(values):
    decoded = decode_values(encode_values(values))
    assert decoded == values
    assert all(struct.pack("<d", decoded[k]) == struct.pack("<d", v) for k, v in values.items())
    assert not any(math.isnan(v) for v in decoded.values())
