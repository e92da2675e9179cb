"""The hand-written remote write 1.0 encoder, checked against exact bytes and an independent decoder."""

import math
import struct

import cramjam
import pytest
from google.protobuf.message import DecodeError
from hypothesis import given
from hypothesis import strategies as st
from promscrape import USER_AGENT
from promscrape.remote_write import decode, v1

STALE_BITS = 0x7FF0000000000002
NAN_BITS = 0x7FF8000000000001


def from_bits(bits: int) -> float:
    return float(struct.unpack("<d", struct.pack("<Q", bits))[0])


def bits(value: float) -> int:
    return int(struct.unpack("<Q", struct.pack("<d", value))[0])


@pytest.mark.parametrize(
    ("value", "ts_ms", "expected_hex"),
    [
        # tag 0x12, len 16, 0x09 + double 1.5, 0x10 + varint(1700000000000) (6 bytes)
        (1.5, 1_700_000_000_000, "121009000000000000f83f1080d095ffbc31"),
        # zero value and zero timestamp are omitted as Go's gogo-protobuf does: an empty Sample
        (0.0, 0, "1200"),
        (-0.0, 5, "12021005"),
        (2.0, 0, "12090900000000000000" + "40"),
        # a negative timestamp is a 10-byte varint
        (1.0, -1, "121409000000000000f03f10ffffffffffffffffff01"),
        (1.0, 1, "120b09000000000000f03f1001"),
        (1.0, 127, "120b09000000000000f03f107f"),
        (1.0, 128, "120c09000000000000f03f108001"),
        # NaN payloads are kept bit-exact: the stale marker and Go's NaN
        (from_bits(STALE_BITS), 5, "120b09020000000000f07f1005"),
        (from_bits(NAN_BITS), 5, "120b09010000000000f87f1005"),
        (math.inf, 5, "120b09000000000000f07f1005"),
        (-math.inf, 5, "120b09000000000000f0ff1005"),
    ],
)
def test_encode_sample_bytes(value: float, ts_ms: int, expected_hex: str) -> None:
    assert v1.encode_sample(value, ts_ms).hex() == expected_hex


@pytest.mark.parametrize(
    ("labels", "expected_hex"),
    [
        ([], ""),
        ([("a", "b")], "0a060a0161120162"),
        ([("job", "node")], "0a0b0a036a6f6212046e6f6465"),
        # an empty value is omitted like proto3 does; the decoder reads it back as ""
        ([("a", "")], "0a030a0161"),
        # UTF-8 lengths are in bytes: "é" is 2 bytes
        ([("a", "é")], "0a070a01611202c3a9"),
    ],
)
def test_encode_labels_bytes(labels: list[tuple[str, str]], expected_hex: str) -> None:
    assert v1.encode_labels(labels).hex() == expected_hex


def test_encode_series_bytes() -> None:
    entry = v1.encode_series(v1.encode_labels([("a", "b")]), v1.encode_sample(1.0, 1))
    assert entry.hex() == "0a15" + "0a060a0161120162" + "120b09000000000000f03f1001"


@pytest.mark.parametrize(
    ("n", "expected_hex"),
    [
        (0, "00"),
        (1, "01"),
        (127, "7f"),
        (128, "8001"),
        (300, "ac02"),
        (16383, "ff7f"),
        (16384, "808001"),
        (1_700_000_000_000, "80d095ffbc31"),
        (2**63 - 1, "ffffffffffffffff7f"),
        (-1, "ffffffffffffffffff01"),
        (-(2**63), "80808080808080808001"),
    ],
)
def test_varint(n: int, expected_hex: str) -> None:
    assert v1.varint(n).hex() == expected_hex


def test_headers_exact() -> None:
    assert v1.HEADERS == {
        "Content-Encoding": "snappy",
        "Content-Type": "application/x-protobuf",
        "X-Prometheus-Remote-Write-Version": "0.1.0",
        "User-Agent": USER_AGENT,
    }


def test_round_trip_through_independent_decoder() -> None:
    labels = [
        ("__name__", "http_requests_total"),
        ("code", "200"),
        ("instance", "localhost:9100"),
        ("job", "node"),
        ("path", "/ünïcødé/日本語"),
    ]
    samples = [(1.0, -1_000), (2.5, 0), (from_bits(STALE_BITS), 1_700_000_000_000), (0.0, 1_700_000_015_000)]
    body = v1.compress(v1.encode_timeseries(labels, samples) + v1.encode_timeseries([("__name__", "up")], []))
    decoded = decode.decode_write_request(body)
    assert [s.labels for s in decoded] == [labels, [("__name__", "up")]]
    assert [(x.value_bits, x.timestamp) for x in decoded[0].samples] == [(bits(v), ts) for v, ts in samples]
    assert decoded[0].samples[2].value_bits == STALE_BITS
    assert decoded[1].samples == []


def test_long_values_take_multi_byte_lengths() -> None:
    # 20000 bytes: beyond the 2-byte varint table, so the slow path is exercised for both lengths
    labels = [("__name__", "x"), ("long", "v" * 20_000)]
    decoded = decode.decode_write_request(v1.encode_timeseries(labels, [(1.0, 1)]), compressed=False)
    assert decoded[0].labels == labels


def test_empty_label_name_and_value_survive() -> None:
    decoded = decode.decode_write_request(v1.encode_timeseries([("", ""), ("a", "")], [(1.0, 1)]), False)
    assert decoded[0].labels == [("", ""), ("a", "")]


label_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=20)
float_bits = st.integers(min_value=0, max_value=2**64 - 1)
timestamps = st.integers(min_value=-(2**63), max_value=2**63 - 1)


@given(
    labels=st.dictionaries(label_text, label_text, max_size=6),
    samples=st.lists(st.tuples(float_bits, timestamps), max_size=5),
)
def test_same_bytes_as_protobuf_serializer(labels: dict[str, str], samples: list[tuple[int, int]]) -> None:
    """Our bytes equal upb's serialization (Go's too), except a -0.0 value that Go and we omit."""
    sorted_labels = sorted(labels.items())
    ordered = sorted(samples, key=lambda s: s[1])
    ours = v1.encode_timeseries(sorted_labels, [(from_bits(b), ts) for b, ts in ordered])
    message = decode.write_request_class()()
    series = message.timeseries.add()
    for name, value in sorted_labels:
        series.labels.add(name=name, value=value)
    for value_bits, ts in ordered:
        series.samples.add(value=0.0 if value_bits == 1 << 63 else from_bits(value_bits), timestamp=ts)
    assert ours == message.SerializeToString()
    decoded = decode.decode_write_request(ours, compressed=False)
    assert decoded[0].labels == sorted_labels
    assert [(s.value_bits, s.timestamp) for s in decoded[0].samples] == [
        (0 if b == 1 << 63 else b, ts) for b, ts in ordered
    ]


def one_sample_series(n: int) -> list[bytes]:
    return [v1.encode_timeseries([("__name__", "m"), ("i", str(i))], [(float(i), 1000)]) for i in range(n)]


@pytest.mark.parametrize(
    ("n_series", "max_samples", "expected_counts"),
    [
        (0, 2000, []),
        (1, 2000, [1]),
        (1999, 2000, [1999]),
        (2000, 2000, [2000]),
        (2001, 2000, [2000, 1]),
        (4000, 2000, [2000, 2000]),
        (4001, 2000, [2000, 2000, 1]),
        (5, 2, [2, 2, 1]),
        (3, 1, [1, 1, 1]),
    ],
)
def test_build_requests_one_sample_each(n_series: int, max_samples: int, expected_counts: list[int]) -> None:
    series = one_sample_series(n_series)
    for counts in (None, [1] * n_series):
        requests = v1.build_requests(series, counts, max_samples=max_samples)
        assert [count for _, count in requests] == expected_counts
        assert b"".join(body for body, _ in requests) == b"".join(series)
        decoded = [decode.decode_write_request(body, compressed=False) for body, _ in requests]
        assert [len(d) for d in decoded] == expected_counts
        names = [s.label_dict["i"] for d in decoded for s in d]
        assert names == [str(i) for i in range(n_series)]


def test_build_requests_default_is_2000() -> None:
    assert [c for _, c in v1.build_requests(one_sample_series(2001))] == [2000, 1]


@pytest.mark.parametrize(
    ("sample_counts", "max_samples", "expected"),
    [
        # a series is never split: it starts a new request when it does not fit
        ([1999, 2], 2000, [[0], [1]]),
        ([1000, 1000, 1], 2000, [[0, 1], [2]]),
        # a series larger than max_samples goes alone
        ([3000], 2000, [[0]]),
        ([1, 3000, 1], 2000, [[0], [1], [2]]),
        ([2, 2, 2], 4, [[0, 1], [2]]),
        ([0, 2, 0], 2, [[0, 1, 2]]),
    ],
)
def test_build_requests_multi_sample(
    sample_counts: list[int], max_samples: int, expected: list[list[int]]
) -> None:
    series = [
        v1.encode_timeseries([("i", str(i))], [(1.0, ts) for ts in range(count)])
        for i, count in enumerate(sample_counts)
    ]
    requests = v1.build_requests(series, sample_counts, max_samples=max_samples)
    assert [count for _, count in requests] == [sum(sample_counts[i] for i in group) for group in expected]
    for (body, _), group in zip(requests, expected, strict=True):
        decoded = decode.decode_write_request(body, compressed=False)
        assert [int(s.label_dict["i"]) for s in decoded] == group
        assert [len(s.samples) for s in decoded] == [sample_counts[i] for i in group]


@pytest.mark.parametrize(
    ("series", "counts", "max_samples", "message"),
    [
        ([b"x"], [1, 1], 2000, "1 series but 2 sample counts"),
        ([b"x"], None, 0, "max_samples must be positive, got 0"),
    ],
)
def test_build_requests_rejects(
    series: list[bytes], counts: list[int] | None, max_samples: int, message: str
) -> None:
    with pytest.raises(ValueError, match=f"^{message}$"):
        v1.build_requests(series, counts, max_samples=max_samples)


def test_compress_is_snappy_block_format_not_framed() -> None:
    body = b"".join(one_sample_series(500))
    compressed = v1.compress(body)
    assert isinstance(compressed, bytes)
    assert bytes(cramjam.snappy.decompress_raw(compressed)) == body
    assert v1.decompress(compressed) == body
    # the framed format starts with its stream identifier chunk; the block format with the
    # uncompressed length as a varint
    assert not compressed.startswith(b"\xff\x06\x00\x00sNaPpY")
    assert compressed.startswith(v1.varint(len(body)))
    with pytest.raises(cramjam.DecompressionError):
        cramjam.snappy.decompress(compressed)
    assert len(compressed) < len(body)


def test_encode_sample_with_interleaved_timestamps() -> None:
    """The last-timestamp cache never leaks one timestamp into another's sample."""
    first = [v1.encode_sample(1.0, ts) for ts in (5, 7, 5, 0, -3, 5)]
    decoded = [
        decode.decode_write_request(v1.encode_series(b"", s), compressed=False)[0].samples[0].timestamp
        for s in first
    ]
    assert decoded == [5, 7, 5, 0, -3, 5]


@pytest.mark.parametrize(
    ("body", "compressed", "error"),
    [
        (b"\x0a\x05ab", False, DecodeError),  # length beyond the end
        (b"\x0b", False, DecodeError),  # wire type 3 (start group) is not in proto3
        (b"\xff\x06\x00\x00sNaPpY", True, cramjam.DecompressionError),  # framed snappy
    ],
)
def test_decoder_rejects_malformed_bodies(body: bytes, compressed: bool, error: type[Exception]) -> None:
    with pytest.raises(error):
        decode.decode_write_request(body, compressed=compressed)
