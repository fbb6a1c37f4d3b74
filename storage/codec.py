"""Compact encoding of a sample's values for the history table.

A sample maps value ids (small integers) to doubles. JSON would spend 15-25
bytes per value; this packs each into a 2-byte id and an 8-byte double
(4-byte ids when an id does not fit in 16 bits), which keeps every double
exact and halves the disk a day of 1 Hz uploads needs.

Layout: one format byte, then all ids, then all values, little-endian.
"""

import functools
import struct
from collections.abc import Mapping

_NARROW = 1  # ids as uint16
_WIDE = 2  # ids as uint32
_ID_CODES = {_NARROW: "H", _WIDE: "I"}
_ID_SIZES = {_NARROW: 2, _WIDE: 4}


def encode_values(values: Mapping[int, float]) -> bytes:
    fmt = _NARROW if max(values, default=0) <= 0xFFFF else _WIDE
    return _layout(fmt, len(values)).pack(fmt, *values, *values.values())


@functools.lru_cache(maxsize=1024)  # every count up to a full 300-value upload, in both widths
def _layout(fmt: int, n: int) -> struct.Struct:
    return struct.Struct(f"<B{n}{_ID_CODES[fmt]}{n}d")


def decode_values(blob: bytes) -> dict[int, float]:
    if not blob:
        raise ValueError("empty value blob")
    fmt = blob[0]
    if fmt not in _ID_CODES:
        raise ValueError(f"unknown value blob format {fmt}")
    n, rest = divmod(len(blob) - 1, _ID_SIZES[fmt] + 8)
    if rest:
        raise ValueError("truncated value blob")
    fields = _layout(fmt, n).unpack(blob)
    return dict(zip(fields[1 : n + 1], fields[n + 1 :], strict=True))
