"""The protobuf exposition parser against Prometheus's ProtobufParser behaviour (REFERENCE §5).

Vectors are MetricFamily messages written in protobuf text format and serialised by the `protobuf`
package from a metrics.proto schema built here (proto3: packed repeated scalars, proto2: unpacked),
plus raw bytes from the tiny independent encoder of tests/protowire.py for what no encoder writes
(bad wire data). Every test runs twice: with the C readers of the common shapes
(native/native.c `pb_*`) and without (the Python paths alone); tests/unit/test_native_protobuf.py
checks the C readers further.
"""

import gzip
import math
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, text_format, timestamp_pb2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from promscrape.exposition import fast, protobuf
from promscrape.exposition.model import Exemplar, Exposition, NativeHistogram
from promscrape.exposition.protobuf import ProtobufParser, parse_protobuf
from promscrape.exposition.render import render_samples
from protowire import delimited, field, uvarint

F = descriptor_pb2.FieldDescriptorProto
TS = ".google.protobuf.Timestamp"
REP = True
# metrics.proto (io.prometheus.client), field by field: (name, number, type or message, repeated).
SCHEMA: dict[str, list[tuple[Any, ...]]] = {
    "LabelPair": [("name", 1, F.TYPE_STRING), ("value", 2, F.TYPE_STRING)],
    "Gauge": [("value", 1, F.TYPE_DOUBLE)],
    "Counter": [("value", 1, F.TYPE_DOUBLE), ("exemplar", 2, "Exemplar"), ("created_timestamp", 3, TS)],
    "Quantile": [("quantile", 1, F.TYPE_DOUBLE), ("value", 2, F.TYPE_DOUBLE)],
    "Summary": [
        ("sample_count", 1, F.TYPE_UINT64),
        ("sample_sum", 2, F.TYPE_DOUBLE),
        ("quantile", 3, "Quantile", REP),
        ("created_timestamp", 4, TS),
    ],
    "Untyped": [("value", 1, F.TYPE_DOUBLE)],
    "Histogram": [
        ("sample_count", 1, F.TYPE_UINT64),
        ("sample_count_float", 4, F.TYPE_DOUBLE),
        ("sample_sum", 2, F.TYPE_DOUBLE),
        ("bucket", 3, "Bucket", REP),
        ("created_timestamp", 15, TS),
        ("schema", 5, F.TYPE_SINT32),
        ("zero_threshold", 6, F.TYPE_DOUBLE),
        ("zero_count", 7, F.TYPE_UINT64),
        ("zero_count_float", 8, F.TYPE_DOUBLE),
        ("negative_span", 9, "BucketSpan", REP),
        ("negative_delta", 10, F.TYPE_SINT64, REP),
        ("negative_count", 11, F.TYPE_DOUBLE, REP),
        ("positive_span", 12, "BucketSpan", REP),
        ("positive_delta", 13, F.TYPE_SINT64, REP),
        ("positive_count", 14, F.TYPE_DOUBLE, REP),
        ("exemplars", 16, "Exemplar", REP),
    ],
    "Bucket": [
        ("cumulative_count", 1, F.TYPE_UINT64),
        ("cumulative_count_float", 4, F.TYPE_DOUBLE),
        ("upper_bound", 2, F.TYPE_DOUBLE),
        ("exemplar", 3, "Exemplar"),
    ],
    "BucketSpan": [("offset", 1, F.TYPE_SINT32), ("length", 2, F.TYPE_UINT32)],
    "Exemplar": [("label", 1, "LabelPair", REP), ("value", 2, F.TYPE_DOUBLE), ("timestamp", 3, TS)],
    "Metric": [
        ("label", 1, "LabelPair", REP),
        ("gauge", 2, "Gauge"),
        ("counter", 3, "Counter"),
        ("summary", 4, "Summary"),
        ("untyped", 5, "Untyped"),
        ("histogram", 7, "Histogram"),
        ("timestamp_ms", 6, F.TYPE_INT64),
    ],
    "MetricFamily": [
        ("name", 1, F.TYPE_STRING),
        ("help", 2, F.TYPE_STRING),
        ("type", 3, "MetricType"),
        ("metric", 4, "Metric", REP),
        ("unit", 5, F.TYPE_STRING),
    ],
}
TYPES = ["COUNTER", "GAUGE", "SUMMARY", "UNTYPED", "HISTOGRAM", "GAUGE_HISTOGRAM"]


def message_class(syntax: str) -> Any:
    """MetricFamily of a metrics.proto in `syntax` (proto3 packs repeated scalars, proto2 does not)."""
    pool = descriptor_pool.DescriptorPool()
    timestamp = descriptor_pb2.FileDescriptorProto()
    timestamp_pb2.DESCRIPTOR.CopyToProto(timestamp)
    pool.Add(timestamp)
    package = f"io.prometheus.client.{syntax}"
    proto = descriptor_pb2.FileDescriptorProto(
        name=f"metrics_{syntax}.proto", package=package, syntax=syntax, dependency=[timestamp.name]
    )
    enum = proto.enum_type.add(name="MetricType")
    for number, name in enumerate(TYPES):
        enum.value.add(name=name, number=number)
    for message_name, fields in SCHEMA.items():
        message = proto.message_type.add(name=message_name)
        for name, number, kind, *repeated in fields:
            field = message.field.add(name=name, number=number)
            field.label = F.LABEL_REPEATED if repeated else F.LABEL_OPTIONAL
            if kind == "MetricType":
                field.type = F.TYPE_ENUM
                field.type_name = f".{package}.MetricType"
            elif isinstance(kind, str):
                field.type = F.TYPE_MESSAGE
                field.type_name = kind if kind.startswith(".") else f".{package}.{kind}"
            else:
                field.type = kind
    pool.Add(proto)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{package}.MetricFamily"))


FAMILY3 = message_class("proto3")
FAMILY2 = message_class("proto2")
C_READERS = protobuf._NATIVE


@pytest.fixture(autouse=True, scope="module", params=["c", "python"])
def readers(request: pytest.FixtureRequest) -> Iterator[str]:
    """The module's tests with the C readers of the common shapes (when built) and without them."""
    protobuf._NATIVE = C_READERS if request.param == "c" else None
    yield request.param
    protobuf._NATIVE = C_READERS


def encode(*texts: str, family: Any = FAMILY3) -> bytes:
    """Families in protobuf text format, serialised and length-delimited."""
    return delimited(*(text_format.Parse(text, family()).SerializeToString() for text in texts))


def changed(body: bytes, changes: list[tuple[int, int]]) -> bytes:
    """`body` with each (position, byte) change made, positions wrapping around (fuzzing)."""
    mutated = bytearray(body)
    for position, value in changes:
        mutated[position % len(mutated)] = value
    return bytes(mutated)


def samples(result: Exposition) -> list[tuple[str, float, int | None]]:
    return list(zip(result.keys, result.values, result.timestamps, strict=True))


def bits(value: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", value))[0]


# ---- conformance payloads -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "count", "families"),
    [("expfmt-protobuf", 248, 37), ("expfmt-protobuf.gz", 248, 37), ("expfmt-protobuf-multimessage", 6, 6)],
)
def test_conformance_payloads_parse(conformance_dir: Path, name: str, count: int, families: int) -> None:
    body = (conformance_dir / "prometheus" / name).read_bytes()
    if name.endswith(".gz"):
        body = gzip.decompress(body)
    result = parse_protobuf(body)
    assert result.error is None
    assert len(result.keys) == count
    assert len(result.metadata) == families
    assert all(result.series[key] for key in result.keys)


def test_multimessage_exact(conformance_dir: Path) -> None:
    result = parse_protobuf((conformance_dir / "prometheus" / "expfmt-protobuf-multimessage").read_bytes())
    assert samples(result) == [
        ('swap_free{host="omsk"}', 9.77911808e08, None),
        ('swap_in{host="omsk"}', 2.031616e06, None),
        ('swap_out{host="omsk"}', 1.579008e07, None),
        ('swap_total{host="omsk"}', 9.93185792e08, None),
        ('swap_used{host="omsk"}', 1.5273984e07, None),
        ('swap_used_percent{host="omsk"}', 1.5378778193395661, None),
    ]
    assert result.series['swap_in{host="omsk"}'] == ("swap_in", (("host", "omsk"),))
    assert result.metadata["swap_in"].type == "counter"
    assert result.metadata["swap_free"].help == "Telegraf collected metric"


def test_protobuf_and_text_payloads_give_the_same_samples(conformance_dir: Path) -> None:
    folder = conformance_dir / "prometheus"
    from_protobuf = parse_protobuf((folder / "expfmt-protobuf").read_bytes())
    from_text = fast.parse((folder / "expfmt-text").read_bytes())
    assert from_text.error is None
    assert sorted(render_samples(from_protobuf)) == sorted(render_samples(from_text))
    assert from_protobuf.metadata == from_text.metadata


def test_parser_class() -> None:
    body = encode(
        'name: "h" type: HISTOGRAM metric { histogram { schema: 1 zero_threshold: 0.5 bucket {} } }'
    )
    assert ProtobufParser.media_type == "application/vnd.google.protobuf"
    assert len(ProtobufParser(body).parse().keys) == 4
    native = ProtobufParser(body, native_histograms=True).parse()
    assert (len(native.keys), len(native.histograms)) == (0, 1)
    both = ProtobufParser(body, native_histograms=True, classic_histograms=True).parse()
    assert (len(both.keys), len(both.histograms)) == (4, 1)
    classic_only = ProtobufParser(body, classic_histograms=True).parse()
    assert (len(classic_only.keys), len(classic_only.histograms)) == (4, 0)


# ---- samples per type -----------------------------------------------------------------------------

SAMPLE_CASES = [
    (
        "gauge with labels in exposed order, escaped",
        [
            'name: "g" type: GAUGE metric { label { name: "z" value: "1" }'
            ' label { name: "a" value: "q\\"\\\\\\n" } gauge { value: 2.5 } }'
        ],
        [('g{z="1",a="q\\"\\\\\\n"}', 2.5, None)],
    ),
    (
        "counter name kept as exposed, timestamp",
        ['name: "c_total" type: COUNTER metric { counter { value: 7 } timestamp_ms: 1700000000000 }'],
        [("c_total", 7.0, 1700000000000)],
    ),
    (
        "timestamp 0 means none, negative timestamps kept",
        [
            'name: "u" type: UNTYPED metric { untyped { value: 1 } timestamp_ms: 0 }'
            ' metric { label { name: "x" value: "y" } untyped { value: 2 } timestamp_ms: -5 }'
        ],
        [("u", 1.0, None), ('u{x="y"}', 2.0, -5)],
    ),
    (
        "type default COUNTER, missing value field is 0",
        ['name: "d" metric { gauge { value: 3 } }'],
        [("d", 0.0, None)],
    ),
    (
        "summary: count, sum, quantiles in canonical form",
        [
            'name: "s" type: SUMMARY metric { label { name: "a" value: "b" } summary { sample_count: 10'
            " sample_sum: 2.5 quantile { quantile: 0.5 value: 1 } quantile { quantile: 1 value: 3 }"
            " quantile { quantile: 1e-05 value: 4 } } }"
        ],
        [
            ('s_count{a="b"}', 10.0, None),
            ('s_sum{a="b"}', 2.5, None),
            ('s{a="b",quantile="0.5"}', 1.0, None),
            ('s{a="b",quantile="1.0"}', 3.0, None),
            ('s{a="b",quantile="1e-05"}', 4.0, None),
        ],
    ),
    (
        "summary without quantiles",
        ['name: "s" type: SUMMARY metric { summary { sample_count: 42 sample_sum: 1.234 } }'],
        [("s_count", 42.0, None), ("s_sum", 1.234, None)],
    ),
    (
        "classic histogram: +Inf synthesised from the count",
        [
            'name: "h" type: HISTOGRAM metric { histogram { sample_count: 6 sample_sum: 50'
            " bucket { cumulative_count: 2 upper_bound: -20 }"
            " bucket { cumulative_count: 4 upper_bound: 1000000 } } }"
        ],
        [
            ("h_count", 6.0, None),
            ("h_sum", 50.0, None),
            ('h_bucket{le="-20.0"}', 2.0, None),
            ('h_bucket{le="1e+06"}', 4.0, None),
            ('h_bucket{le="+Inf"}', 6.0, None),
        ],
    ),
    (
        "classic histogram: buckets stop at the first +Inf one",
        [
            'name: "h" type: HISTOGRAM metric { label { name: "a" value: "1" } histogram { sample_count: 3'
            " bucket { cumulative_count: 1 upper_bound: 0 } bucket { cumulative_count: 2 upper_bound: inf }"
            " bucket { cumulative_count: 9 upper_bound: 5 } } }"
        ],
        [
            ('h_count{a="1"}', 3.0, None),
            ('h_sum{a="1"}', 0.0, None),
            ('h_bucket{a="1",le="0.0"}', 1.0, None),
            ('h_bucket{a="1",le="+Inf"}', 2.0, None),
        ],
    ),
    (
        "float counts win when not zero; gauge histogram uses _count and _sum",
        [
            'name: "gh" type: GAUGE_HISTOGRAM metric { histogram { sample_count: 9 sample_count_float: 4.5'
            " sample_sum: 1 bucket { cumulative_count: 3 cumulative_count_float: 1.5 upper_bound: 0.25 }"
            " bucket { cumulative_count: 4 upper_bound: 1 } } timestamp_ms: 10 }"
        ],
        [
            ("gh_count", 4.5, 10),
            ("gh_sum", 1.0, 10),
            ('gh_bucket{le="0.25"}', 1.5, 10),
            ('gh_bucket{le="1.0"}', 4.0, 10),
            ('gh_bucket{le="+Inf"}', 4.5, 10),
        ],
    ),
    (
        "histogram family without a histogram field",
        ['name: "h" type: HISTOGRAM metric { gauge { value: 1 } }'],
        [("h_count", 0.0, None), ("h_sum", 0.0, None), ('h_bucket{le="+Inf"}', 0.0, None)],
    ),
    (
        "names outside the legacy set are quoted, text 1.0.0 style",
        [
            'name: "my.metric" type: SUMMARY'
            ' metric { label { name: "a.b" value: "v" } summary { sample_count: 1 } }',
            'name: "1x" type: GAUGE metric { gauge { value: 1 } }',
        ],
        [
            ('{"my.metric_count","a.b"="v"}', 1.0, None),
            ('{"my.metric_sum","a.b"="v"}', 0.0, None),
            ('{"1x"}', 1.0, None),
        ],
    ),
    (
        "empty families are skipped unchecked; families follow each other",
        ['name: "" type: GAUGE', 'name: "a" metric { counter { value: 1 } }', 'name: "b" type: GAUGE'],
        [("a", 1.0, None)],
    ),
]


@pytest.mark.parametrize(
    ("texts", "expected"), [case[1:] for case in SAMPLE_CASES], ids=[c[0] for c in SAMPLE_CASES]
)
@pytest.mark.parametrize("family", [FAMILY3, FAMILY2], ids=["proto3", "proto2"])
def test_samples(texts: list[str], expected: list[tuple[str, float, int | None]], family: Any) -> None:
    result = parse_protobuf(encode(*texts, family=family))
    assert result.error is None
    assert samples(result) == expected
    assert not result.histograms


def test_series_entries_and_empty_labels() -> None:
    result = parse_protobuf(
        encode(
            'name: "g" type: GAUGE metric { label { name: "checksum" value: "" }'
            ' label { name: "path" value: "p" } gauge { value: 1 } }'
            ' metric { label { name: "a" value: "1" } label { name: "a" value: "2" } }',
            'name: "h" type: HISTOGRAM metric { label { name: "le" value: "x" } histogram {} }',
        )
    )
    assert result.keys[:2] == ['g{checksum="",path="p"}', 'g{a="1",a="2"}']
    assert result.series['g{checksum="",path="p"}'] == ("g", (("path", "p"),))
    assert result.empty_labels == {'g{checksum="",path="p"}': frozenset({"checksum"})}
    assert result.series['g{a="1",a="2"}'] == ("g", (("a", "1"), ("a", "2")))
    assert result.series['h_bucket{le="x",le="+Inf"}'] == ("h_bucket", (("le", "x"), ("le", "+Inf")))


def test_metadata() -> None:
    result = parse_protobuf(
        encode(
            'name: "a_seconds_total" help: "Help \\"text\\"\\n" type: COUNTER unit: "seconds"'
            " metric { counter {} }",
            'name: "b" type: GAUGE_HISTOGRAM metric { histogram {} }',
            'name: "c" type: UNTYPED metric {}',
            'name: "d_bytes" type: SUMMARY unit: "bytes" metric { summary {} }',
        )
    )
    assert result.error is None
    assert {name: (m.type, m.help, m.unit) for name, m in result.metadata.items()} == {
        "a_seconds_total": ("counter", 'Help "text"\n', "seconds"),
        "b": ("gaugehistogram", None, None),
        "c": ("unknown", None, None),
        "d_bytes": ("summary", None, "bytes"),
    }


def test_values_keep_their_bits() -> None:
    stale = struct.unpack("<d", struct.pack("<Q", 0x7FF0000000000002))[0]
    gauge = b"".join(field(1, 1, struct.pack("<d", value)) for value in [stale])
    metric = field(2, 2, gauge)
    body = delimited(field(1, 2, b"g") + field(3, 0, 1) + field(4, 2, metric) + field(4, 2, field(2, 2, b"")))
    result = parse_protobuf(body)
    assert bits(result.values[0]) == 0x7FF0000000000002
    assert result.values[1] == 0.0
    assert math.isinf(
        parse_protobuf(encode('name: "g" type: GAUGE metric { gauge { value: -inf } }')).values[0]
    )


# ---- start timestamps and exemplars ---------------------------------------------------------------


def test_start_timestamps() -> None:
    result = parse_protobuf(
        encode(
            'name: "c" metric { counter { value: 1'
            " created_timestamp { seconds: 1625851153 nanos: 146848499 } } }",
            'name: "s" type: SUMMARY metric { summary { quantile { quantile: 0.5 }'
            " created_timestamp { seconds: 1 nanos: 999999 } } }",
            'name: "h" type: HISTOGRAM'
            " metric { histogram { created_timestamp { seconds: -1 nanos: -1500000 } } }",
            'name: "z" metric { counter { value: 1 created_timestamp {} } }',
            'name: "g" type: GAUGE metric { gauge { value: 1 } }',
        )
    )
    assert result.start_timestamps == {
        0: 1625851153146,
        1: 1000,
        2: 1000,
        3: 1000,
        4: -1001,
        5: -1001,
        6: -1001,
    }
    assert len(result.keys) == 9


def test_exemplars_on_float_samples() -> None:
    long_value = "x" * 126
    result = parse_protobuf(
        encode(
            'name: "c_total" metric { counter { value: 1 exemplar { label { name: "b" value: "2" }'
            ' label { name: "a" value: "1" } value: 12'
            " timestamp { seconds: 1625851151 nanos: 233181499 } } } }"
            ' metric { label { name: "x" value: "y" } counter { value: 2 exemplar { value: 3 } } }'
            f' metric {{ counter {{ exemplar {{ label {{ name: "idx" value: "{long_value}" }} }} }} }}'
            f' metric {{ counter {{ exemplar {{ label {{ name: "id" value: "{long_value}" }} }} }} }}',
            'name: "h" type: HISTOGRAM metric { histogram { sample_count: 2'
            " bucket { cumulative_count: 1 upper_bound: 1"
            ' exemplar { label { name: "t" value: "1" } value: 0.5 } }'
            " bucket { cumulative_count: 2 upper_bound: 2"
            " exemplar { value: 1.5 timestamp { seconds: 2 } } } } }",
            'name: "g" type: GAUGE metric { gauge { value: 1 } }',
        )
    )
    assert result.exemplars == {
        0: Exemplar((("b", "2"), ("a", "1")), 12.0, 1625851151233),
        1: Exemplar((), 3.0, None),
        3: Exemplar((("id", long_value),), 0.0, None),
        6: Exemplar((("t", "1"),), 0.5, None),
        7: Exemplar((), 1.5, 2000),
    }
    assert result.keys[6:9] == ['h_bucket{le="1.0"}', 'h_bucket{le="2.0"}', 'h_bucket{le="+Inf"}']


# ---- native histograms ----------------------------------------------------------------------------

NATIVE = (
    "sample_count: 175 sample_sum: 0.0008280461746287094 schema: 3 zero_threshold: 2.938735877055719e-39"
    " zero_count: 2 negative_span { offset: -162 length: 1 } negative_span { offset: 23 length: 4 }"
    " negative_delta: [1, 3, -2, -1, 1] positive_span { offset: -161 length: 1 }"
    " positive_span { offset: 8 length: 3 } positive_delta: [1, 2, -1, -1]"
    " bucket { cumulative_count: 2 upper_bound: -0.0004899999999999998 }"
    ' bucket { cumulative_count: 4 upper_bound: -0.0003899999999999998 exemplar { label { name: "dummyID"'
    ' value: "59727" } value: -0.00039 timestamp { seconds: 1625851155 nanos: 146848499 } } }'
    ' bucket { cumulative_count: 16 upper_bound: -0.0002899999999999998 exemplar { label { name: "dummyID"'
    ' value: "5617" } value: -0.00029 } }'
)
NATIVE_HISTOGRAM = NativeHistogram(
    schema=3,
    zero_threshold=2.938735877055719e-39,
    count=175,
    sum=0.0008280461746287094,
    zero_count=2,
    positive_spans=((-161, 1), (8, 3)),
    positive_buckets=(1, 2, -1, -1),
    negative_spans=((-162, 1), (23, 4)),
    negative_buckets=(1, 3, -2, -1, 1),
)
BUCKET_EXEMPLAR = Exemplar((("dummyID", "59727"),), -0.00039, 1625851155146)


@pytest.mark.parametrize("family", [FAMILY3, FAMILY2], ids=["packed", "unpacked"])
def test_native_integer_histogram(family: Any) -> None:
    body = encode(
        f'name: "h" type: HISTOGRAM metric {{ histogram {{ {NATIVE} }} timestamp_ms: 1234568 }}',
        family=family,
    )
    result = parse_protobuf(body, native_histograms=True)
    assert result.error is None
    assert result.keys == []
    [sample] = result.histograms
    assert (sample.key, sample.timestamp_ms, sample.start_timestamp_ms) == ("h", 1234568, None)
    assert sample.histogram == NATIVE_HISTOGRAM
    assert sample.exemplars == (BUCKET_EXEMPLAR,)
    assert result.series["h"] == ("h", ())


def test_native_float_gauge_histogram() -> None:
    text = NATIVE.replace("sample_count: 175", "sample_count_float: 175").replace(
        "zero_count: 2", "zero_count_float: 2"
    )
    text = text.replace("negative_delta:", "negative_count:").replace("positive_delta:", "positive_count:")
    body = encode(
        'name: "h" type: GAUGE_HISTOGRAM'
        f' metric {{ label {{ name: "a" value: "b" }} histogram {{ {text} }} }}'
    )
    [sample] = parse_protobuf(body, native_histograms=True).histograms
    assert sample.key == 'h{a="b"}'
    assert sample.histogram == NativeHistogram(
        schema=3,
        zero_threshold=2.938735877055719e-39,
        count=175.0,
        sum=0.0008280461746287094,
        zero_count=2.0,
        positive_spans=((-161, 1), (8, 3)),
        positive_buckets=(1.0, 2.0, -1.0, -1.0),
        negative_spans=((-162, 1), (23, 4)),
        negative_buckets=(1.0, 3.0, -2.0, -1.0, 1.0),
        is_float=True,
    )


def test_native_histogram_with_classic_kept() -> None:
    body = encode(
        f'name: "h" type: HISTOGRAM metric {{ histogram {{ {NATIVE} }} timestamp_ms: 7 }}'
        ' metric { label { name: "x" value: "1" } histogram { schema: 3 positive_span { offset: 8 length: 2 }'
        " positive_delta: [2, 1] sample_count: 5 sample_sum: 12.1 } }"
    )
    result = parse_protobuf(body, native_histograms=True, classic_histograms=True)
    assert [sample.key for sample in result.histograms] == ["h", 'h{x="1"}']
    assert samples(result) == [
        ("h_count", 175.0, 7),
        ("h_sum", 0.0008280461746287094, 7),
        ('h_bucket{le="-0.0004899999999999998"}', 2.0, 7),
        ('h_bucket{le="-0.0003899999999999998"}', 4.0, 7),
        ('h_bucket{le="-0.0002899999999999998"}', 16.0, 7),
        ('h_bucket{le="+Inf"}', 175.0, 7),
    ]
    assert result.exemplars == {
        3: BUCKET_EXEMPLAR,
        4: Exemplar((("dummyID", "5617"),), -0.00029, None),
    }
    assert result.histograms[1].histogram.positive_buckets == (2, 1)


def test_native_histograms_off_reads_them_as_classic() -> None:
    body = encode(
        f'name: "h" type: HISTOGRAM metric {{ histogram {{ {NATIVE} }} }}',
        'name: "e" type: HISTOGRAM metric { histogram { positive_span { offset: 0 length: 0 }'
        " created_timestamp { seconds: 1 } } }",
    )
    result = parse_protobuf(body)
    assert not result.histograms
    assert [key for key in result.keys if key.startswith("e")] == ["e_count", "e_sum", 'e_bucket{le="+Inf"}']
    assert len(result.keys) == 9
    assert result.start_timestamps == {6: 1000, 7: 1000, 8: 1000}


@pytest.mark.parametrize(
    ("histogram", "native"),
    [
        ("positive_span { offset: 0 length: 0 }", True),
        ("negative_span {}", True),
        ("zero_threshold: 1e-128", True),
        ("zero_count: 1", True),
        ("zero_count_float: 1 schema: 3 sample_count_float: 1", False),
        ("schema: 3 sample_count: 1 bucket { upper_bound: 1 }", False),
    ],
)
def test_what_makes_a_histogram_native(histogram: str, native: bool) -> None:
    result = parse_protobuf(
        encode(f'name: "h" type: HISTOGRAM metric {{ histogram {{ {histogram} }} }}'), native_histograms=True
    )
    assert len(result.histograms) == int(native)


def test_empty_native_histogram() -> None:
    body = encode('name: "e" type: HISTOGRAM metric { histogram { positive_span { offset: 0 length: 0 } } }')
    [sample] = parse_protobuf(body, native_histograms=True).histograms
    assert sample.histogram == NativeHistogram(schema=0, zero_threshold=0.0, count=0, sum=0.0, zero_count=0)


def test_first_metric_decides_native_or_classic() -> None:
    native_first = encode(
        'name: "h" type: HISTOGRAM metric { label { name: "i" value: "1" } histogram { zero_threshold: 1 } }'
        ' metric { label { name: "i" value: "2" } histogram { sample_count: 3 bucket { upper_bound: 1 } } }'
    )
    result = parse_protobuf(native_first, native_histograms=True)
    assert [sample.key for sample in result.histograms] == ['h{i="1"}', 'h{i="2"}']
    assert result.histograms[1].histogram.count == 3
    classic_first = encode(
        'name: "h" type: HISTOGRAM metric { label { name: "i" value: "1" } histogram { sample_count: 1 } }'
        ' metric { label { name: "i" value: "2" } histogram { zero_threshold: 1 } }'
        ' metric { label { name: "i" value: "3" } histogram { zero_threshold: 1 } }'
    )
    result = parse_protobuf(classic_first, native_histograms=True)
    assert [sample.key for sample in result.histograms] == ['h{i="3"}']
    assert result.keys == [
        'h_count{i="1"}', 'h_sum{i="1"}', 'h_bucket{i="1",le="+Inf"}',
        'h_count{i="2"}', 'h_sum{i="2"}', 'h_bucket{i="2",le="+Inf"}',
    ]  # fmt: skip


def test_native_exemplars() -> None:
    with_field = NATIVE + (
        ' exemplars { label { name: "dummyID" value: "59780" } value: -0.00039'
        " timestamp { seconds: 1625851155 nanos: 146848499 } }"
        ' exemplars { label { name: "dummyID" value: "5617" } value: -0.00029 }'
        ' exemplars { label { name: "dummyID" value: "59772" } value: -0.00052'
        " timestamp { seconds: 1625851160 nanos: 156848499 } }"
    )
    body = encode(
        f'name: "h" type: HISTOGRAM metric {{ histogram {{ {with_field} }} }}'
        f' metric {{ label {{ name: "n" value: "2" }} histogram {{ {with_field} }} }}'
        f' metric {{ label {{ name: "n" value: "3" }} histogram {{ {NATIVE} }} }}'
    )
    result = parse_protobuf(body, native_histograms=True)
    expected = (
        Exemplar((("dummyID", "59780"),), -0.00039, 1625851155146),
        Exemplar((("dummyID", "59772"),), -0.00052, 1625851160156),
    )
    assert [sample.exemplars for sample in result.histograms] == [expected, expected, (BUCKET_EXEMPLAR,)]


# ---- errors ---------------------------------------------------------------------------------------

GAUGE_METRIC = field(2, 2, field(1, 1, struct.pack("<d", 1.0)))
GOOD = field(1, 2, b"g") + field(3, 0, 1) + field(4, 2, GAUGE_METRIC)


def family(*fields: bytes) -> bytes:
    return delimited(b"".join(fields))


ERROR_CASES = [
    ("length varint cut short", delimited(GOOD) + b"\x80", "clientpb: invalid varint encountered", 19, 1),
    ("length varint of 6 bytes", b"\x80\x80\x80\x80\x80\x00", "clientpb: invalid varint encountered", 0, 0),
    (
        "message longer than the body",
        b"\x0a" + GOOD[:5],
        "clientpb: insufficient length of buffer, expected at least 11 bytes, got 6 bytes",
        0,
        0,
    ),
    ("wrong wire type", family(field(1, 0, 5)), "proto: wrong wireType = 0 for field Name", 1, 0),
    ("illegal tag", family(b"\x02\x00"), "proto: MetricFamily: illegal tag 0 (wire type 2)", 1, 0),
    (
        "field number 2^32 is 0",
        family(field(1 << 32, 0, 1)),
        "proto: MetricFamily: illegal tag 0 (wire type 34359738368)",
        1,
        0,
    ),
    ("end group", family(b"\x0c"), "proto: MetricFamily: wiretype end group for non-group", 1, 0),
    ("group never ended", family(field(9, 3, b"")), "unexpected EOF", 2, 0),
    ("illegal wire type in unknown field", family(b"\x4e"), "proto: illegal wireType 6", 1, 0),
    ("string past the end", family(b"\x0a\x05ab"), "unexpected EOF", 3, 0),
    ("varint past the end", family(b"\x18\x80"), "unexpected EOF", 3, 0),
    ("varint of 11 bytes", family(b"\x18" + b"\xff" * 10 + b"\x01"), "proto: integer overflow", 12, 0),
    (
        "negative length",
        family(b"\x0a" + b"\xff" * 9 + b"\x01"),
        "proto: negative length found during unmarshaling",
        12,
        0,
    ),
    ("double cut short", family(GOOD, field(4, 2, field(2, 2, b"\x09\x00\x00"))), "unexpected EOF", 24, 1),
    (
        "error inside a metric",
        family(GOOD, field(4, 2, field(6, 2, b""))),
        "proto: wrong wireType = 2 for field TimestampMs",
        21,
        1,
    ),
    (
        "error in a sub-message",
        family(GOOD, field(4, 2, field(3, 2, b"\x10"))),
        "proto: wrong wireType = 0 for field Exemplar",
        23,
        1,
    ),
    (
        "packed varint cut short",
        family(field(1, 2, b"h"), field(3, 0, 4), field(4, 2, field(7, 2, field(13, 2, b"\x80")))),
        "unexpected EOF",
        13,
        0,
    ),
    ("empty name", family(field(4, 2, GAUGE_METRIC)), "invalid metric name: ", 0, 0),
    (
        "name not UTF-8",
        family(field(1, 2, b"a\xff"), field(4, 2, GAUGE_METRIC)),
        "invalid metric name: a\ufffd",
        0,
        0,
    ),
    (
        "help not UTF-8",
        family(GOOD, field(2, 2, b"\xc3")),
        'invalid help for metric "g": \ufffd',
        0,
        0,
    ),
    (
        "unknown type",
        family(field(1, 2, b"g"), field(3, 0, 6), field(4, 2, b"")),
        'unknown metric type for metric "g": 6',
        0,
        0,
    ),
    (
        "negative type",
        family(field(1, 2, b"g"), field(3, 0, (1 << 64) - 1), field(4, 2, b"")),
        'unknown metric type for metric "g": -1',
        0,
        0,
    ),
    (
        "unit not a suffix",
        family(field(1, 2, b"a_seconds"), field(4, 2, b""), field(5, 2, b"bytes")),
        'unit "bytes" not a suffix of metric "a_seconds"',
        0,
        0,
    ),
    (
        "unit not after an underscore",
        family(field(1, 2, b"aseconds"), field(4, 2, b""), field(5, 2, b"seconds")),
        'unit "seconds" not a suffix of metric "aseconds"',
        0,
        0,
    ),
    (
        "counter unit before _total",
        family(field(1, 2, b"a_total"), field(4, 2, b""), field(5, 2, b"total")),
        'unit "total" not a suffix of counter "a_total"',
        0,
        0,
    ),
    (
        "the first metric is decoded before the family is checked",
        family(field(4, 2, b"\x30")),
        "unexpected EOF",
        4,
        0,
    ),
    (
        "empty label name",
        family(GOOD, field(4, 2, field(1, 2, field(1, 2, b"")))),
        "invalid label name: ",
        23,
        1,
    ),
    (
        "label name not UTF-8",
        family(GOOD, field(4, 2, field(1, 2, field(1, 2, b"\xff")))),
        "invalid label name: \ufffd",
        23,
        1,
    ),
    (
        "label value not UTF-8",
        family(GOOD, field(4, 2, field(1, 2, field(2, 2, b"\xfe")))),
        "invalid label value: \ufffd",
        23,
        1,
    ),
    (
        "label wire type",
        family(GOOD, field(4, 2, field(1, 2, field(2, 0, 1)))),
        "proto: wrong wireType = 0 for field Value",
        23,
        1,
    ),
    (
        "label end group",
        family(GOOD, field(4, 2, field(1, 2, b"\x0c"))),
        "proto: LabelPair: wiretype end group for non-group",
        23,
        1,
    ),
]


@pytest.mark.parametrize(
    ("body", "message", "offset", "kept"),
    [case[1:] for case in ERROR_CASES],
    ids=[case[0] for case in ERROR_CASES],
)
def test_errors(body: bytes, message: str, offset: int, kept: int) -> None:
    result = parse_protobuf(body)
    assert result.error is not None
    assert (result.error.message, result.error.offset) == (message, offset)
    assert str(result.error) == f"byte {offset}: {message}"
    assert len(result.keys) == kept


def test_error_after_samples_keeps_them() -> None:
    body = encode('name: "a" type: GAUGE metric { gauge { value: 1 } }') + b"\x03\x0a\x01"
    result = parse_protobuf(body)
    assert samples(result) == [("a", 1.0, None)]
    assert result.error is not None


def test_empty_body() -> None:
    result = parse_protobuf(b"")
    assert (result.keys, result.error, result.metadata) == ([], None, {})


# ---- wire details ---------------------------------------------------------------------------------


def test_unknown_fields_are_skipped() -> None:
    unknown = field(20, 0, 300) + field(21, 1, b"12345678") + field(22, 2, b"xyz") + field(23, 5, b"1234")
    group = field(24, 3, b"") + field(1, 0, 1) + field(24, 4, b"")
    gauge = field(2, 2, unknown + field(1, 1, struct.pack("<d", 4.0)) + group)
    label = field(1, 2, field(1, 2, b"a") + unknown + field(2, 2, b"b"))
    body = family(field(1, 2, b"g"), unknown, field(3, 0, 1), group, field(4, 2, label + unknown + gauge))
    result = parse_protobuf(body)
    assert result.error is None
    assert samples(result) == [('g{a="b"}', 4.0, None)]


def test_repeated_messages_merge_and_scalars_take_the_last() -> None:
    first = field(
        3, 2, field(1, 1, struct.pack("<d", 1.0)) + field(2, 2, field(2, 1, struct.pack("<d", 9.0)))
    )
    second = field(3, 2, field(1, 1, struct.pack("<d", 2.0)) + field(2, 2, field(1, 2, field(1, 2, b"k"))))
    body = family(field(1, 2, b"c"), field(1, 2, b"c_total"), field(4, 2, first + second + field(6, 0, 5)))
    result = parse_protobuf(body)
    assert samples(result) == [("c_total", 2.0, 5)]
    assert result.exemplars == {0: Exemplar((("k", ""),), 9.0, None)}


def test_sint_and_int_fields_truncate_like_go() -> None:
    span = field(1, 0, (1 << 32) | 3) + field(2, 0, (1 << 32) | 2)  # sint32 3 -> -2, uint32 -> 2
    histogram = field(5, 0, (1 << 33) | 1) + field(12, 2, span) + field(13, 2, uvarint(2) + uvarint(3))
    body = family(field(1, 2, b"h"), field(3, 0, 4), field(4, 2, field(7, 2, histogram)))
    [sample] = parse_protobuf(body, native_histograms=True).histograms
    assert sample.histogram.schema == -1
    assert sample.histogram.positive_spans == ((-2, 2),)
    assert sample.histogram.positive_buckets == (1, -2)


def test_packed_and_unpacked_mixed() -> None:
    deltas = field(13, 0, 2) + field(13, 2, uvarint(4) + uvarint(1)) + field(13, 0, 1)
    counts = field(14, 1, struct.pack("<d", 1.5)) + field(14, 2, struct.pack("<2d", 2.5, 3.5))
    span = field(12, 2, field(2, 0, 4))
    body = family(
        field(1, 2, b"h"), field(3, 0, 4), field(4, 2, field(7, 2, field(7, 0, 1) + span + deltas + counts))
    )
    [sample] = parse_protobuf(body, native_histograms=True).histograms
    assert sample.histogram.positive_buckets == (1, 2, -1, -1)
    float_body = family(
        field(1, 2, b"h"),
        field(3, 0, 4),
        field(4, 2, field(7, 2, field(4, 1, struct.pack("<d", 7.5)) + span + counts)),
    )
    [sample] = parse_protobuf(float_body, native_histograms=True).histograms
    assert sample.histogram.positive_buckets == (1.5, 2.5, 3.5)


# ---- fast paths and memos: the same result as the generic decoder, warm or cold -----------------


def forget() -> None:
    """Empty the parser's memos (label pairs, label blocks, bounds)."""
    for cache in (protobuf._LABEL_CACHE, protobuf._LABEL_HEADS, protobuf._BLOCK_CACHE, protobuf._BOUND_CACHE):
        cache.clear()


def comparable(result: Exposition) -> tuple[Any, ...]:
    return (
        [(key, bits(value), ts) for key, value, ts in samples(result)],
        result.series,
        result.empty_labels,
        result.exemplars,
        result.start_timestamps,
        result.histograms,
        result.metadata,
        None if result.error is None else (result.error.message, result.error.offset),
    )


def with_unknown_fields(body: bytes) -> bytes:
    """The same families with an unknown field after every metric: the generic decoder's path."""
    families = []
    position = 0
    while position < len(body):
        length = shift = 0
        while True:
            byte = body[position]
            position += 1
            length |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                break
        family = FAMILY3.FromString(body[position : position + length])
        position += length
        metrics = [metric.SerializeToString() + field(99, 0, 1) for metric in family.metric]
        family.ClearField("metric")
        families.append(family.SerializeToString() + b"".join(field(4, 2, metric) for metric in metrics))
    return delimited(*families)


SHAPES = encode(
    'name: "c_total" type: COUNTER metric { label { name: "a" value: "1" } counter { value: 1 } }'
    ' metric { label { name: "a" value: "2" } counter { value: 0 } }'
    ' metric { label { name: "a" value: "1" } label { name: "b" value: "" } counter { value: 2 } }'
    ' metric { label { name: "a" value: "3" } counter { value: 3 } timestamp_ms: 9 }'
    ' metric { gauge { value: 4 } label { name: "z" value: "late" } }',
    'name: "g" type: GAUGE metric { label { name: "a.b" value: "\\"\\n" } gauge { value: 5 } }'
    ' metric { label { name: "a.b" value: "\\"\\n" } gauge { value: 6 } }',
)


def test_fast_path_matches_the_generic_decoder() -> None:
    forget()
    cold = comparable(parse_protobuf(SHAPES))
    warm = comparable(parse_protobuf(SHAPES))
    generic = with_unknown_fields(SHAPES)
    assert generic != SHAPES
    assert cold == warm == comparable(parse_protobuf(generic))
    assert cold[0] == [
        ('c_total{a="1"}', bits(1.0), None),
        ('c_total{a="2"}', bits(0.0), None),
        ('c_total{a="1",b=""}', bits(2.0), None),
        ('c_total{a="3"}', bits(3.0), 9),
        ('c_total{z="late"}', bits(0.0), None),
        ('g{"a.b"="\\"\\n"}', bits(5.0), None),
        ('g{"a.b"="\\"\\n"}', bits(6.0), None),
    ]


def test_a_tail_that_looks_like_a_value_inside_a_label() -> None:
    """The repeat-scrape check reads the last 11 bytes as a value only when the block before them is
    a known run of labels; here they are the end of a label value."""
    tail = b"\x1a\x09\x09" + struct.pack("<d", 7.0)
    label = field(1, 2, field(1, 2, b"a") + field(2, 2, b"x" + tail))
    value = field(3, 2, field(1, 1, struct.pack("<d", 1.0)))
    known = field(1, 2, field(1, 2, b"a") + field(2, 2, b"x"))
    body = family(
        field(1, 2, b"c"), field(4, 2, known + value), field(4, 2, known + value), field(4, 2, label)
    )
    forget()
    for _ in range(2):
        result = parse_protobuf(body)
        assert result.error is None
        assert result.values == [1.0, 1.0, 0.0]
        assert result.series[result.keys[2]] == ("c", (("a", "x" + tail.decode("latin-1")),))


@pytest.mark.parametrize(
    "metric",
    [b"\x0a\x7f", b"\x0a\x03\x0a\x7f\x61", b"\x0a\x05\x0a\x01\x61\x12\x7f", b"\x0a\x7f" + b"\x0a" * 20],
)
def test_lengths_past_the_end_of_the_body(metric: bytes) -> None:
    """Lookahead past a length byte at the end of a metric stays an ordinary decode error, whether
    the body ends there or an empty family (a 0 byte) follows."""
    for body in (family(GOOD, field(4, 2, metric)), family(GOOD, field(4, 2, metric)) + b"\x00"):
        result = parse_protobuf(body)
        assert result.error is not None
        assert result.error.message == "unexpected EOF"
        assert len(result.keys) == 1


@pytest.mark.parametrize("tag", [b"\x12", b"\x1a", b"\x2a", b"\x30"])
def test_a_field_cut_at_the_end_of_a_metric(tag: bytes) -> None:
    labelled = field(4, 2, field(1, 2, field(1, 2, b"a") + field(2, 2, b"b")) + tag)
    body = family(GOOD, labelled) + b"\x00"
    result = parse_protobuf(body)
    assert result.error is not None
    assert result.error.message == "unexpected EOF"
    assert len(result.keys) == 1


def generic_parse(body: bytes) -> Exposition:
    """The reference: every fast path, C reader and memo switched off, only the table-driven decoder."""

    def values(
        parser: Any, name: Any, first: dict[str, Any], ranges: list[tuple[int, int]], field: str
    ) -> None:
        for metric in protobuf._metrics(parser.data, first, ranges):
            parser._value_metric(name, metric, field)

    def labels(parser: Any, metric: dict[str, Any]) -> tuple[Any, str]:
        pairs = [protobuf._label_pair(parser.data, s, e) for s, e in metric.get("Label", ())]
        return tuple(pairs), ",".join(protobuf._fragment(*pair) for pair in pairs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(protobuf, "_NATIVE", None)
        for message in (protobuf._FAMILY, protobuf._METRIC, protobuf._HISTOGRAM_MSG, protobuf._BUCKET):
            patch.setattr(message, "fast", None)
        patch.setattr(protobuf._Parser, "_values", values)
        patch.setattr(protobuf._Parser, "_labels", labels)
        return parse_protobuf(body, native_histograms=True, classic_histograms=True)


DIFFERENTIAL_BODY = encode(
    'name: "c_total" metric { label { name: "a" value: "1" } counter { value: 1 } }'
    ' metric { label { name: "a" value: "2" } label { name: "b" value: "x" } counter { } timestamp_ms: 3 }'
    ' metric { label { name: "a" value: "1" } counter { value: 2 } }',
    'name: "g" type: GAUGE metric { label { name: "a" value: "1" } gauge { value: 1 } }'
    ' metric { label { name: "a" value: "1" } gauge { value: 2 } }',
    f'name: "h" type: HISTOGRAM metric {{ label {{ name: "a" value: "1" }} histogram {{ {NATIVE} }} }}',
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=4), st.integers(1, 10_000))
def test_fuzz_fast_paths_against_the_generic_decoder(changes: list[tuple[int, int]], cut: int) -> None:
    body = changed(DIFFERENTIAL_BODY, changes)
    body = body[: len(body) - cut % 20]
    reference = comparable(generic_parse(body))
    forget()
    assert comparable(parse_protobuf(body, native_histograms=True, classic_histograms=True)) == reference
    assert comparable(parse_protobuf(body, native_histograms=True, classic_histograms=True)) == reference


# ---- Compact(0) (promscrape.histograms.compact_buckets: tests/unit/test_histograms.py) ------------------


def test_native_histogram_is_compacted() -> None:
    body = encode(
        'name: "h" type: HISTOGRAM metric { histogram { sample_count: 7 schema: 0'
        " positive_span { offset: 0 length: 4 } positive_delta: [0, 2, -2, 5] } }"
    )
    [sample] = parse_protobuf(body, native_histograms=True).histograms
    assert (sample.histogram.positive_spans, sample.histogram.positive_buckets) == (((1, 1), (1, 1)), (2, 3))


# ---- hostile input --------------------------------------------------------------------------------

VALID_BODIES = [
    encode(
        f'name: "h" type: HISTOGRAM metric {{ label {{ name: "a" value: "b" }} histogram {{ {NATIVE} }} }}',
        'name: "s" type: SUMMARY metric { summary { sample_count: 1 quantile { quantile: 0.5 value: 1 } } }',
        'name: "c_total" metric { counter { value: 1 exemplar { value: 2 timestamp { seconds: 1 } } } }',
    ),
    encode(f'name: "h" type: GAUGE_HISTOGRAM metric {{ histogram {{ {NATIVE} }} }}', family=FAMILY2),
]


def check_contract(body: bytes) -> None:
    for native in (False, True):
        result = parse_protobuf(body, native_histograms=native, classic_histograms=native)
        assert result.error is None or result.error.offset is not None
        assert len(result.keys) == len(result.values) == len(result.timestamps)
        assert all(key in result.series for key in result.keys)
        assert all(sample.key in result.series for sample in result.histograms)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_fuzz_random_bytes(body: bytes) -> None:
    check_contract(body)


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(VALID_BODIES),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=6),
    st.integers(0, 10_000),
)
def test_fuzz_mutated_bodies(body: bytes, changes: list[tuple[int, int]], cut: int) -> None:
    mutated = changed(body, changes)
    check_contract(mutated)
    check_contract(mutated[: cut % len(mutated)])


names = st.text(alphabet="abc_:.é", min_size=1, max_size=6)
label_pairs = st.lists(st.tuples(names, st.text(alphabet='ab"\\\n', max_size=4)), max_size=3)
floats = st.floats(allow_nan=False) | st.sampled_from([math.nan, math.inf, -0.0])


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([0, 1, 3]),
            names,
            st.lists(
                st.tuples(label_pairs, floats, st.integers(-(2**63), 2**63 - 1)), min_size=1, max_size=3
            ),
        ),
        max_size=4,
    ),
    st.sampled_from([FAMILY3, FAMILY2]),
)
def test_fuzz_against_the_protobuf_package(
    families: list[tuple[int, str, list[Any]]], family_class: Any
) -> None:
    """Random counter/gauge/untyped families: what we read is what the protobuf package wrote."""
    body = b""
    expected = []
    for kind, name, metrics in families:
        message = family_class(name=name, type=kind)
        for pairs, value, timestamp in metrics:
            metric = message.metric.add(timestamp_ms=timestamp)
            for label, label_value in pairs:
                metric.label.add(name=label, value=label_value)
            getattr(metric, {0: "counter", 1: "gauge", 3: "untyped"}[kind]).value = value
            empty = {label for label, label_value in pairs if not label_value}  # as text.make_series
            shown = [(label, label_value) for label, label_value in pairs if label not in empty]
            expected.append((name, tuple(shown), value, timestamp or None))
        body += delimited(message.SerializeToString())
    forget()
    result = parse_protobuf(body)
    assert comparable(parse_protobuf(body)) == comparable(result)
    assert result.error is None
    got = [
        (*result.series[key], value, ts)
        for key, value, ts in zip(result.keys, result.values, result.timestamps, strict=True)
    ]
    assert [(n, labels, bits(v), ts) for n, labels, v, ts in got] == [
        (n, labels, bits(v), ts) for n, labels, v, ts in expected
    ]
