"""Remote write 1.0 exemplars, native histograms and metadata: exact bytes, the protobuf package's
serialization of the same content, and the independent decoder."""

import math
import struct
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from promscrape.exposition.model import NativeHistogram
from promscrape.remote_write import decode, v1


def double(value: float) -> str:
    return struct.pack("<d", value).hex()


def from_bits(bits: int) -> float:
    return float(struct.unpack("<d", struct.pack("<Q", bits))[0])


STALE_BITS = 0x7FF0000000000002

INT_HISTOGRAM = NativeHistogram(
    schema=-1,
    zero_threshold=0.001,
    count=5,
    sum=3.5,
    zero_count=1,
    positive_spans=((-2, 2), (1, 1)),
    positive_buckets=(1, 1, -1),
)
FLOAT_HISTOGRAM = NativeHistogram(
    schema=3,
    zero_threshold=0.0,
    count=2.5,
    sum=-1.25,
    zero_count=0.5,
    positive_spans=((0, 2),),
    positive_buckets=(1.5, 0.5),
    negative_spans=((-1, 1),),
    negative_buckets=(0.25,),
    is_float=True,
)
NHCB = NativeHistogram(
    schema=-53,
    zero_threshold=0.0,
    count=7,
    sum=12.0,
    zero_count=0,
    positive_spans=((0, 3),),
    positive_buckets=(2, 1, -1),
    custom_values=(1.0, 2.0),
)
EMPTY_INT = NativeHistogram(schema=0, zero_threshold=0.0, count=0, sum=0.0, zero_count=0)
EMPTY_FLOAT = NativeHistogram(schema=0, zero_threshold=0.0, count=0.0, sum=0.0, zero_count=0.0, is_float=True)


@pytest.mark.parametrize(
    ("histogram", "ts_ms", "hint", "body_hex"),
    [
        pytest.param(
            INT_HISTOGRAM,
            1000,
            v1.RESET_HINT_UNKNOWN,
            "0805"  # count_int 5
            + "19"
            + double(3.5)  # sum
            + "2001"  # schema -1, zigzag 1
            + "29"
            + double(0.001)  # zero_threshold
            + "3001"  # zero_count_int 1
            + "5a0408031002"  # positive span {-2, 2}: offset zigzag 3
            + "5a0408021001"  # positive span {1, 1}
            + "6203020201"  # positive_deltas [1, 1, -1] packed zigzag
            + "78e807",  # timestamp 1000
            id="integer",
        ),
        pytest.param(
            FLOAT_HISTOGRAM,
            5,
            v1.RESET_HINT_GAUGE,
            "11"
            + double(2.5)  # count_float
            + "19"
            + double(-1.25)
            + "2006"  # schema 3
            + "39"
            + double(0.5)  # zero_count_float; zero_threshold 0 omitted
            + "420408011001"  # negative span {-1, 1}
            + "5208"
            + double(0.25)  # negative_counts packed
            + "5a021002"  # positive span {0, 2}: offset 0 omitted
            + "6a10"
            + double(1.5)
            + double(0.5)  # positive_counts packed
            + "7003"  # reset_hint GAUGE
            + "7805",
            id="float gauge",
        ),
        pytest.param(
            NHCB,
            1,
            v1.RESET_HINT_UNKNOWN,
            "0807"
            + "19"
            + double(12.0)
            + "2069"  # schema -53: zigzag 105
            + "3000"
            + "5a021003"
            + "6203040201"
            + "7801"
            + "820110"
            + double(1.0)
            + double(2.0),  # custom_values: field 16, two-byte tag
            id="nhcb",
        ),
        # the set member of each oneof is written even at zero; nothing else is
        pytest.param(EMPTY_INT, 0, v1.RESET_HINT_UNKNOWN, "08003000", id="empty integer"),
        pytest.param(
            EMPTY_FLOAT, 0, v1.RESET_HINT_UNKNOWN, "11" + double(0.0) + "39" + double(0.0), id="empty float"
        ),
        # a span of zeros is still a span; a negative timestamp takes 10 bytes
        pytest.param(
            NativeHistogram(0, 0.0, 0, 0.0, 0, positive_spans=((0, 0),), positive_buckets=()),
            -1,
            v1.RESET_HINT_NO,
            "08003000" + "5a00" + "7002" + "78ffffffffffffffffff01",
            id="zero span",
        ),
        # a stale marker's NaN payload survives in the sum; -0.0 is omitted like Go's `!= 0`
        pytest.param(
            NativeHistogram(8, -0.0, 1, from_bits(STALE_BITS), 1),
            0,
            v1.RESET_HINT_UNKNOWN,
            "0801" + "19" + "020000000000f07f" + "2010" + "3001",
            id="stale sum",
        ),
        pytest.param(
            NativeHistogram(-4, 0.0, 2**64 - 1, 0.0, 0, positive_spans=((-(2**31), 2**32 - 1),)),
            0,
            v1.RESET_HINT_UNKNOWN,
            "08ffffffffffffffffff01" + "2007" + "3000" + "5a0c08ffffffff0f10ffffffff0f",
            id="extremes",
        ),
    ],
)
def test_histogram_bytes(histogram: NativeHistogram, ts_ms: int, hint: int, body_hex: str) -> None:
    assert v1.histogram_message(histogram, ts_ms, hint).hex() == body_hex
    body = bytes.fromhex(body_hex)
    assert v1.encode_histogram(histogram, ts_ms, hint) == b"\x22" + v1.varint(len(body)) + body


def fill_histogram(message: Any, h: NativeHistogram, ts_ms: int, hint: int) -> None:
    """The protobuf message of h as Prometheus's FromIntHistogram/FromFloatHistogram fill it."""
    if h.is_float:
        message.count_float = h.count
        message.zero_count_float = h.zero_count
        message.negative_counts.extend(h.negative_buckets)
        message.positive_counts.extend(h.positive_buckets)
    else:
        message.count_int = h.count
        message.zero_count_int = h.zero_count
        message.negative_deltas.extend(h.negative_buckets)
        message.positive_deltas.extend(h.positive_buckets)
    # Go omits a -0.0 scalar (`!= 0`); upb writes it: give upb the +0.0 Go sends
    message.sum = h.sum if h.sum != 0.0 else 0.0
    message.schema = h.schema
    message.zero_threshold = h.zero_threshold if h.zero_threshold != 0.0 else 0.0
    for offset, length in h.negative_spans:
        message.negative_spans.add(offset=offset, length=length)
    for offset, length in h.positive_spans:
        message.positive_spans.add(offset=offset, length=length)
    message.reset_hint = hint
    message.timestamp = ts_ms
    message.custom_values.extend(h.custom_values)


@pytest.mark.parametrize(
    "histogram", [INT_HISTOGRAM, FLOAT_HISTOGRAM, NHCB, EMPTY_INT, EMPTY_FLOAT], ids=lambda h: str(h.schema)
)
def test_histogram_same_bytes_as_protobuf_and_decodes_back(histogram: NativeHistogram) -> None:
    labels = [("__name__", "rpc_seconds"), ("job", "api")]
    ours = v1.encode_series(v1.encode_labels(labels), v1.encode_histogram(histogram, 1234, v1.RESET_HINT_NO))
    message = decode.write_request_class()()
    series = message.timeseries.add()
    for name, value in labels:
        series.labels.add(name=name, value=value)
    fill_histogram(series.histograms.add(), histogram, 1234, v1.RESET_HINT_NO)
    assert ours == message.SerializeToString()
    assert decode.parse_write_request(ours, compressed=False) == message
    (decoded,) = decode.decode_write_request(ours, compressed=False)
    assert decoded.labels == labels
    assert decoded.samples == []
    assert decoded.histograms == [decode.DecodedHistogram(histogram, 1234, v1.RESET_HINT_NO)]
    assert decoded.histogram_count == 1


@pytest.mark.parametrize(
    ("labels", "value", "ts_ms", "entry_hex"),
    [
        (
            [("trace_id", "abc")],
            1.0,
            5,
            "1a1c" + "0a0f0a0874726163655f6964120361626" + "3" + "11" + double(1.0) + "1805",
        ),
        # labels sorted by name; zero value and timestamp omitted
        ([("b", "2"), ("a", "1")], 0.0, 0, "1a10" + "0a060a0161120131" + "0a060a0162120132"),
        ([], -0.0, 0, "1a00"),
        ([], math.inf, -1, "1a14" + "11" + double(math.inf) + "18ffffffffffffffffff01"),
    ],
)
def test_exemplar_bytes(labels: list[tuple[str, str]], value: float, ts_ms: int, entry_hex: str) -> None:
    assert v1.encode_exemplar(labels, value, ts_ms).hex() == entry_hex


def test_sample_exemplar_and_histogram_in_one_series() -> None:
    labels = [("__name__", "rpc_seconds_count"), ("job", "api")]
    body = (
        v1.encode_sample(3.0, 1000)
        + v1.encode_exemplar([("trace_id", "t1"), ("span_id", "s1")], 0.25, 990)
        + v1.encode_histogram(INT_HISTOGRAM, 1000)
    )
    ours = v1.encode_series(v1.encode_labels(labels), body)
    message = decode.write_request_class()()
    series = message.timeseries.add()
    for name, value in labels:
        series.labels.add(name=name, value=value)
    series.samples.add(value=3.0, timestamp=1000)
    exemplar = series.exemplars.add(value=0.25, timestamp=990)
    exemplar.labels.add(name="span_id", value="s1")
    exemplar.labels.add(name="trace_id", value="t1")
    fill_histogram(series.histograms.add(), INT_HISTOGRAM, 1000, v1.RESET_HINT_UNKNOWN)
    assert ours == message.SerializeToString()
    (decoded,) = decode.decode_write_request(v1.compress(ours))
    assert [(s.value, s.timestamp) for s in decoded.samples] == [(3.0, 1000)]
    assert decoded.exemplars == [decode.DecodedExemplar([("span_id", "s1"), ("trace_id", "t1")], 0.25, 990)]
    assert decoded.exemplar_count == 1
    assert [h.histogram for h in decoded.histograms] == [INT_HISTOGRAM]


@pytest.mark.parametrize(
    ("type_name", "number"),
    [
        ("counter", 1),
        ("gauge", 2),
        ("histogram", 3),
        ("gaugehistogram", 4),
        ("summary", 5),
        ("info", 6),
        ("stateset", 7),
        ("unknown", 0),
        ("untyped", 0),
        ("COUNTER", 1),
        ("", 0),
    ],
)
def test_metric_type_numbers(type_name: str, number: int) -> None:
    assert v1.metric_type(type_name) == number


@pytest.mark.parametrize(
    ("type_name", "hint"),
    [
        ("gaugehistogram", v1.RESET_HINT_GAUGE),
        ("histogram", v1.RESET_HINT_UNKNOWN),
        ("unknown", v1.RESET_HINT_UNKNOWN),
    ],
)
def test_reset_hint_of_family_type(type_name: str, hint: int) -> None:
    assert v1.reset_hint(type_name) == hint


@pytest.mark.parametrize(
    ("histogram", "expected"), [(INT_HISTOGRAM, True), (FLOAT_HISTOGRAM, True), (NHCB, False)]
)
def test_nhcb_is_not_sendable_over_1_0(histogram: NativeHistogram, expected: bool) -> None:
    assert v1.sendable(histogram) is expected


@pytest.mark.parametrize(
    ("family", "type_name", "help_text", "unit", "entry_hex"),
    [
        (
            "http_requests",
            "counter",
            "Total requests.",
            None,
            "1a22" + "0801" + "120d" + b"http_requests".hex() + "220f" + b"Total requests.".hex(),
        ),
        ("x", "unknown", None, None, "1a03" + "120178"),
        ("x", "untyped", "", "", "1a03" + "120178"),
        (
            "rpc_seconds",
            "gaugehistogram",
            "h",
            "seconds",
            "1a1b" + "0804" + "120b" + b"rpc_seconds".hex() + "220168" + "2a07" + b"seconds".hex(),
        ),
        ("", "info", "é", None, "1a06" + "0806" + "2202c3a9"),
    ],
)
def test_metadata_bytes(
    family: str, type_name: str, help_text: str | None, unit: str | None, entry_hex: str
) -> None:
    assert v1.encode_metadata(family, type_name, help_text, unit).hex() == entry_hex


def test_metadata_requests_decode_and_batch_by_2000() -> None:
    families = [(f"m{i}", ("counter", "gauge", "summary")[i % 3], f"help {i}", "") for i in range(2001)]
    entries = [v1.encode_metadata(*family) for family in families]
    requests = v1.build_requests(entries)
    assert [count for _, count in requests] == [2000, 1]
    decoded = [m for body, _ in requests for m in decode.decode_metadata(v1.compress(body))]
    assert decoded == [
        decode.DecodedMetadata(v1.metric_type(kind), name, help_text, unit)
        for name, kind, help_text, unit in families
    ]
    assert decode.decode_write_request(requests[1][0], compressed=False) == []


def test_series_then_metadata_in_one_request() -> None:
    body = v1.encode_timeseries([("__name__", "up")], [(1.0, 5)]) + v1.encode_metadata("up", "gauge", "", "")
    message = decode.write_request_class()()
    series = message.timeseries.add()
    series.labels.add(name="__name__", value="up")
    series.samples.add(value=1.0, timestamp=5)
    message.metadata.add(type=2, metric_family_name="up")
    assert body == message.SerializeToString()


def int64s() -> st.SearchStrategy[int]:
    return st.integers(min_value=-(2**63), max_value=2**63 - 1)


spans = st.lists(
    st.tuples(st.integers(min_value=-(2**31), max_value=2**31 - 1), st.integers(0, 2**32 - 1)), max_size=4
)
any_double = st.integers(0, 2**64 - 1).map(from_bits)


@st.composite
def histograms(draw: st.DrawFn) -> NativeHistogram:
    is_float = draw(st.booleans())
    count: st.SearchStrategy[Any] = any_double if is_float else st.integers(0, 2**64 - 1)
    buckets: st.SearchStrategy[Any] = any_double if is_float else int64s()
    return NativeHistogram(
        schema=draw(st.sampled_from([-53, *range(-4, 9)])),
        zero_threshold=draw(any_double),
        count=draw(count),
        sum=draw(any_double),
        zero_count=draw(count),
        positive_spans=tuple(draw(spans)),
        positive_buckets=tuple(draw(st.lists(buckets, max_size=5))),
        negative_spans=tuple(draw(spans)),
        negative_buckets=tuple(draw(st.lists(buckets, max_size=5))),
        is_float=is_float,
        custom_values=tuple(draw(st.lists(any_double, max_size=3))),
    )


label_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)


@settings(max_examples=300, deadline=None)
@given(
    histogram=histograms(),
    ts_ms=int64s(),
    hint=st.integers(0, 3),
    exemplar_labels=st.dictionaries(label_text, label_text, max_size=3),
    exemplar_value=any_double,
    exemplar_ts=int64s(),
)
def test_same_bytes_as_protobuf_serializer(
    histogram: NativeHistogram,
    ts_ms: int,
    hint: int,
    exemplar_labels: dict[str, str],
    exemplar_value: float,
    exemplar_ts: int,
) -> None:
    ours = v1.encode_series(
        b"",
        v1.encode_exemplar(list(exemplar_labels.items()), exemplar_value, exemplar_ts)
        + v1.encode_histogram(histogram, ts_ms, hint),
    )
    message = decode.write_request_class()()
    series = message.timeseries.add()
    exemplar = series.exemplars.add(
        value=exemplar_value if exemplar_value != 0.0 else 0.0, timestamp=exemplar_ts
    )
    for name, value in sorted(exemplar_labels.items()):
        exemplar.labels.add(name=name, value=value)
    fill_histogram(series.histograms.add(), histogram, ts_ms, hint)
    assert ours == message.SerializeToString()
    assert decode.parse_write_request(ours, compressed=False) == message
    (decoded,) = decode.decode_write_request(ours, compressed=False)
    assert v1.histogram_message(decoded.histograms[0].histogram, ts_ms, hint) == v1.histogram_message(
        histogram, ts_ms, hint
    )
