"""A tiny protobuf wire encoder for the tests' and benchmarks' MetricFamily bodies.

Written by hand and independent of promscrape (and of the `protobuf` package), so that bodies can
hold exactly the bytes a test needs, bad wire data included: any field (`field`), varints of any
64-bit value, packed or unpacked repeated scalars, and the io.prometheus.client shapes the tests
build most (`label`, `family`), with the field numbers of metrics.proto (REFERENCE §5).
"""

import struct

# MetricType of metrics.proto.
COUNTER, GAUGE, SUMMARY, UNTYPED, HISTOGRAM, GAUGE_HISTOGRAM = range(6)


def uvarint(value: int) -> bytes:
    """A base-128 varint of the low 64 bits (a negative int64 as Go's uint64 of it: 10 bytes)."""
    value &= (1 << 64) - 1
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def zigzag(value: int) -> int:
    """The sint32/sint64 encoding of a signed value."""
    return (value << 1) ^ (value >> 63)


def field(number: int, wire_type: int, payload: bytes | int) -> bytes:
    """One field by hand: a varint value, or raw bytes (length-prefixed for wire type 2)."""
    tag = uvarint(number << 3 | wire_type)
    if isinstance(payload, int):
        return tag + uvarint(payload)
    if wire_type == 2:
        return tag + uvarint(len(payload)) + payload
    return tag + payload


def uint(number: int, value: int) -> bytes:
    """A varint field (uint64, int64, enum)."""
    return field(number, 0, value)


def sint(number: int, value: int) -> bytes:
    """A zigzag varint field (sint32, sint64)."""
    return field(number, 0, zigzag(value))


def double(number: int, value: float) -> bytes:
    """A double field (wire type 1)."""
    return field(number, 1, struct.pack("<d", value))


def message(number: int, *parts: bytes | str) -> bytes:
    """A length-delimited field: a sub-message, string (str parts are UTF-8 encoded) or packed run."""
    return field(number, 2, b"".join(part.encode() if isinstance(part, str) else part for part in parts))


def delimited(*messages: bytes) -> bytes:
    """Messages each after its length varint, as a delimited exposition body holds them."""
    return b"".join(uvarint(len(message)) + message for message in messages)


def label(name: str | bytes, value: str | bytes) -> bytes:
    """A Metric's LabelPair (Metric field 1)."""
    return message(1, message(1, name), message(2, value))


def family(
    name: str | bytes, kind: int, *metrics: bytes, help_text: str | bytes = "", unit: str | bytes = ""
) -> bytes:
    """A delimited MetricFamily: name (1), help (2) when not empty, type (3), metrics (4), unit (5)
    when not empty, in that order."""
    body = message(1, name) + (message(2, help_text) if help_text else b"") + uint(3, kind)
    body += b"".join(message(4, metric) for metric in metrics) + (message(5, unit) if unit else b"")
    return delimited(body)
