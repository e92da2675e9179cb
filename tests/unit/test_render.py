"""The render module: samples, metadata, exemplars and native histograms as exact lines.

Histogram vectors are Prometheus's own (model/histogram tests), so the bucket part of a line is
byte for byte what Prometheus's `Histogram.String()` prints.
"""

import itertools
import math
import sys
from decimal import Decimal, getcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from promscrape.exposition import Exposition
from promscrape.exposition.floats import format_go
from promscrape.exposition.model import Exemplar, HistogramSample, Metadata, NativeHistogram, Spans
from promscrape.exposition.render import (
    bucket_bound,
    escape,
    render_exemplar,
    render_exposition,
    render_histogram,
    render_metadata,
    render_samples,
    render_series,
)
from promscrape.exposition.text import parse_text


@pytest.mark.parametrize(
    ("body", "lines"),
    [
        (b"a 1\n", ["a 1"]),
        (b'a{z="1",b="2"} 3 1700000000000\n', ['a{b="2",z="1"} 3 1700000000000']),
        (b'a{b="x\\\\y\\"z\\nw"} 1\n', ['a{b="x\\\\y\\"z\\nw"} 1']),
        (b'a{b="raw\nline"} 1\n', ['a{b="raw\\nline"} 1']),
        (
            b"a 1000000\nb 1234567\nc 0.00001\nd 100\ne 0.1\n",
            ["a 1e+06", "b 1.234567e+06", "c 1e-05", "d 100", "e 0.1"],
        ),
        (b"a NaN\nb +Inf\nc -Inf\nd -0\n", ["a NaN", "b +Inf", "c -Inf", "d -0"]),
        (b'a{b="",c="1"} 1\n', ['a{c="1"} 1']),
        (b'{"my.metric","label.x"="v",a="1"} 1\n', ['{"my.metric",a="1","label.x"="v"} 1']),
        (b'{"a\\"b"} 1\n', ['{"a\\"b"} 1']),
        (b'a{b="2",b="1"} 1\n', ['a{b="2",b="1"} 1']),
        (b'# TYPE h histogram\nh_bucket{le="1"} 1\n', ['h_bucket{le="1.0"} 1']),
        (b'a{x="1"} 1\na{x="1"} 2\n', ['a{x="1"} 1', 'a{x="1"} 2']),
    ],
)
def test_render_samples(body: bytes, lines: list[str]) -> None:
    result = parse_text(body)
    assert result.error is None
    assert list(render_samples(result)) == lines


def test_render_columns_built_by_hand() -> None:
    result = Exposition(
        keys=["k1", "k2"],
        values=[1.5, math.inf],
        timestamps=[None, 5],
        series={"k1": ("m", (("b", "2"), ("a", "1"))), "k2": ("n", ())},
    )
    assert list(render_samples(result)) == ['m{a="1",b="2"} 1.5', "n +Inf 5"]


@pytest.mark.parametrize(
    ("value", "escaped"),
    [("plain", "plain"), ("a\\b", "a\\\\b"), ('a"b', 'a\\"b'), ("a\nb", "a\\nb"), ("\t\r", "\t\r"), ("", "")],
)
def test_escape(value: str, escaped: str) -> None:
    assert escape(value) == escaped


def test_render_series_without_labels() -> None:
    assert render_series("up", ()) == "up"
    assert render_series("a.b", ()) == '{"a.b"}'


# Prometheus's TestHistogramString (model/histogram/histogram_test.go): our line is its String()
# with `schema`, `zero_threshold` and `zero_count` inserted after the sum.
PROMETHEUS_STRING_VECTORS = [
    (NativeHistogram(schema=0, zero_threshold=0, count=0, sum=0, zero_count=0), "{count:0, sum:0}"),
    (
        NativeHistogram(
            schema=0,
            zero_threshold=0.001,
            count=9,
            sum=-3.1415,
            zero_count=12,
            negative_spans=((0, 5), (1, 1)),
            negative_buckets=(1, 2, -2, 1, -1, 0),
        ),
        "{count:9, sum:-3.1415, [-64,-32):1, [-16,-8):1, [-8,-4):2, [-4,-2):1, [-2,-1):3, [-1,-0.5):1, "
        "[-0.001,0.001]:12}",
    ),
    (
        NativeHistogram(
            schema=0,
            zero_threshold=0,
            count=19,
            sum=2.7,
            zero_count=0,
            positive_spans=((0, 4), (0, 0), (0, 3)),
            positive_buckets=(1, 2, -2, 1, -1, 0, 0),
            negative_spans=((0, 5), (1, 0), (0, 1)),
            negative_buckets=(1, 2, -2, 1, -1, 0),
        ),
        "{count:19, sum:2.7, [-64,-32):1, [-16,-8):1, [-8,-4):2, [-4,-2):1, [-2,-1):3, [-1,-0.5):1, "
        "(0.5,1]:1, (1,2]:3, (2,4]:1, (4,8]:2, (8,16]:1, (16,32]:1, (32,64]:1}",
    ),
    (
        NativeHistogram(
            schema=-53,
            zero_threshold=0,
            count=19,
            sum=2.7,
            zero_count=0,
            positive_spans=((0, 4), (0, 0), (0, 3)),
            positive_buckets=(1, 2, -2, 1, -1, 0, 0),
            custom_values=(1, 2, 5, 10, 15, 20, 25, 50),
        ),
        "{count:19, sum:2.7, [-Inf,1]:1, (1,2]:3, (2,5]:1, (5,10]:2, (10,15]:1, (15,20]:1, (20,25]:1}",
    ),
]


@pytest.mark.parametrize(("histogram", "prometheus"), PROMETHEUS_STRING_VECTORS)
def test_render_histogram_is_prometheus_string(histogram: NativeHistogram, prometheus: str) -> None:
    head = f"{{count:{histogram.count}, sum:{format_go(histogram.sum)}"
    extra = (
        f", schema:{histogram.schema}, zero_threshold:{format_go(histogram.zero_threshold)}, "
        f"zero_count:{histogram.zero_count}"
    )
    assert prometheus.startswith(head)
    assert render_histogram(histogram) == head + extra + prometheus[len(head) :]


# Prometheus's TestRegularBucketIterator: the bounds of each schema, written as Bucket.String() does.
@pytest.mark.parametrize(
    ("schema", "spans", "deltas", "custom", "buckets"),
    [
        (
            3,
            ((-5, 2), (2, 3), (2, 2)),
            (1, 2, -2, 1, -1, 0, 3),
            (),
            "(0.5946035575013605,0.6484197773255048]:1, (0.6484197773255048,0.7071067811865475]:3, "
            "(0.8408964152537144,0.9170040432046711]:1, (0.9170040432046711,1]:2, "
            "(1,1.0905077326652577]:1, (1.2968395546510096,1.414213562373095]:1, "
            "(1.414213562373095,1.5422108254079407]:4",
        ),
        (
            -2,
            ((-2, 4), (2, 2)),
            (1, 2, -2, 1, -1, 0),
            (),
            "(0.000244140625,0.00390625]:1, (0.00390625,0.0625]:3, (0.0625,1]:1, (1,16]:2, "
            "(4096,65536]:1, (65536,1.048576e+06]:1",
        ),
        (
            -1,
            ((-2, 5),),
            (1, 2, -2, 1, -1),
            (),
            "(0.015625,0.0625]:1, (0.0625,0.25]:3, (0.25,1]:1, (1,4]:2, (4,16]:1",
        ),
        (
            -53,
            ((0, 2), (1, 2)),
            (1, 1, -1, 0),
            (5.0, 10, 20, 50),
            "[-Inf,5]:1, (5,10]:2, (20,50]:1, (50,+Inf]:1",
        ),
        (0, ((0, 2), (1, 2)), (1, 1, -1, 0), (), "(0.5,1]:1, (1,2]:2, (4,8]:1, (8,16]:1"),
    ],
)
def test_render_histogram_bucket_bounds(
    schema: int, spans: Spans, deltas: tuple[int, ...], custom: tuple[float, ...], buckets: str
) -> None:
    histogram = NativeHistogram(
        schema=schema,
        zero_threshold=0,
        count=9,
        sum=1,
        zero_count=0,
        positive_spans=spans,
        positive_buckets=deltas,
        custom_values=custom,
    )
    head = f"{{count:9, sum:1, schema:{schema}, zero_threshold:0, zero_count:0, "
    assert render_histogram(histogram) == head + buckets + "}"


@pytest.mark.parametrize(
    ("histogram", "line"),
    [
        # float histograms hold absolute counts and print them in %g
        (
            NativeHistogram(
                schema=1,
                zero_threshold=1e-128,
                count=7.5,
                sum=-2.25,
                zero_count=0.5,
                positive_spans=((0, 2),),
                positive_buckets=(2.5, 0.0),
                negative_spans=((-1, 2),),
                negative_buckets=(1.5, 3.0),
                is_float=True,
            ),
            "{count:7.5, sum:-2.25, schema:1, zero_threshold:1e-128, zero_count:0.5, "
            "[-1,-0.7071067811865475):3, [-0.7071067811865475,-0.5):1.5, [-1e-128,1e-128]:0.5, "
            "(0.7071067811865475,1]:2.5}",
        ),
        # the bucket below the overflow bucket ends at MaxFloat64, the overflow bucket at +Inf
        (
            NativeHistogram(
                schema=0,
                zero_threshold=0,
                count=2,
                sum=math.inf,
                zero_count=0,
                positive_spans=((1024, 2),),
                positive_buckets=(1, 0),
            ),
            "{count:2, sum:+Inf, schema:0, zero_threshold:0, zero_count:0, "
            "(8.98846567431158e+307,1.7976931348623157e+308]:1, (1.7976931348623157e+308,+Inf]:1}",
        ),
        # schema 8 bounds come from Prometheus's table, not from computing 2**(i/256)
        (
            NativeHistogram(
                schema=8,
                zero_threshold=0,
                count=2,
                sum=1,
                zero_count=0,
                positive_spans=((-1, 2),),
                positive_buckets=(1, 0),
            ),
            "{count:2, sum:1, schema:8, zero_threshold:0, zero_count:0, "
            "(0.9945994234836328,0.9972960560854698]:1, (0.9972960560854698,1]:1}",
        ),
        # a schema Prometheus has no bounds for: indices instead of bounds
        (
            NativeHistogram(
                schema=9,
                zero_threshold=0,
                count=3,
                sum=1,
                zero_count=0,
                positive_spans=((-3, 2),),
                positive_buckets=(1, 1),
                negative_spans=((2, 1),),
                negative_buckets=(1,),
            ),
            "{count:3, sum:1, schema:9, zero_threshold:0, zero_count:0, negative[2]:1, positive[-3]:1, "
            "positive[-2]:2}",
        ),
        # spans asking for more buckets than sent: the buckets present are shown, nothing else
        (
            NativeHistogram(
                schema=0,
                zero_threshold=0,
                count=1,
                sum=1,
                zero_count=0,
                positive_spans=((0, 4_000_000_000), (5, 1)),
                positive_buckets=(1,),
            ),
            "{count:1, sum:1, schema:0, zero_threshold:0, zero_count:0, (0.5,1]:1}",
        ),
    ],
)
def test_render_histogram(histogram: NativeHistogram, line: str) -> None:
    assert render_histogram(histogram) == line


@pytest.mark.parametrize(
    ("index", "schema", "bound"),
    [
        (0, 0, 1.0),
        (-1, 0, 0.5),
        (1023, 0, 2.0**1023),
        (1024, 0, sys.float_info.max),
        (1025, 0, math.inf),
        (-1074, 0, 2.0**-1074),
        (-1075, 0, 0.0),
        (1024 << 8, 8, sys.float_info.max),
        ((1024 << 8) + 1, 8, math.inf),
        (64, -4, sys.float_info.max),
        (65, -4, math.inf),
        (-1, -4, 2.0**-16),
        (10**12, 3, math.inf),
        (-(10**12), -2, 0.0),
        (2, 3, 1.189207115002721),
        (5, 3, 1.5422108254079407),
        (1, 2, 1.189207115002721),
        (-1, -53, -math.inf),
        (0, -53, 5.0),
        (1, -53, math.inf),
        (7, -53, math.inf),
        (-9, -53, -math.inf),
    ],
)
def test_bucket_bound(index: int, schema: int, bound: float) -> None:
    assert bucket_bound(index, schema, (5.0,)) == bound


def test_schema_8_table_is_prometheus_table() -> None:
    """256 increasing bounds in [0.5, 1), each within 4 ulps of 2**(i/256)/2 (Go's table is not
    correctly rounded), and the values Prometheus's own tests print for schema 3."""
    table = [bucket_bound(i, 8) for i in range(-256, 0)]
    assert len(table) == 256 and table[0] == 0.5
    assert all(a < b for a, b in itertools.pairwise(table))
    getcontext().prec = 40
    for i, bound in enumerate(table):
        exact = float(Decimal(2) ** (Decimal(i) / 256) / 2)
        assert abs(bound - exact) <= 4 * math.ulp(bound), i
    assert [bucket_bound(i, 3) for i in (-5, -4, -3, -2, -1)] == [
        0.6484197773255048,
        0.7071067811865475,
        0.7711054127039704,
        0.8408964152537144,
        0.9170040432046711,
    ]


@settings(max_examples=300, deadline=None)
@given(
    schema=st.one_of(st.integers(-60, 60), st.integers(-(2**31), 2**31 - 1)),
    spans=st.lists(st.tuples(st.integers(-(2**31), 2**31 - 1), st.integers(0, 2**32 - 1)), max_size=4),
    deltas=st.lists(st.integers(-(2**63), 2**63 - 1), max_size=8),
    counts=st.lists(st.floats(allow_nan=True), max_size=8),
    custom=st.lists(st.floats(), max_size=4),
    is_float=st.booleans(),
    zero=st.floats(),
)
def test_render_histogram_never_fails(
    schema: int,
    spans: list[tuple[int, int]],
    deltas: list[int],
    counts: list[float],
    custom: list[float],
    is_float: bool,
    zero: float,
) -> None:
    """Any histogram a hostile body can produce prints as one line, in bounded time."""
    buckets: tuple[int, ...] | tuple[float, ...] = tuple(counts) if is_float else tuple(deltas)
    histogram = NativeHistogram(
        schema=schema,
        zero_threshold=zero,
        count=zero if is_float else len(deltas),
        sum=zero,
        zero_count=zero if is_float else 1,
        positive_spans=tuple(spans),
        positive_buckets=buckets,
        negative_spans=tuple(spans),
        negative_buckets=buckets,
        is_float=is_float,
        custom_values=tuple(custom),
    )
    line = render_histogram(histogram)
    assert line.startswith("{count:") and line.endswith("}") and "\n" not in line


@pytest.mark.parametrize(
    ("metadata", "lines"),
    [
        (
            {
                "b": Metadata("gauge", "Help.", None),
                "a_seconds": Metadata("counter", "A\\b\nc", "seconds"),
                "c": Metadata(),
            },
            [
                "# TYPE a_seconds counter",
                "# HELP a_seconds A\\\\b\\nc",
                "# UNIT a_seconds seconds",
                "# TYPE b gauge",
                "# HELP b Help.",
                "# TYPE c unknown",
            ],
        ),
        ({"m": Metadata("summary", "", "")}, ["# TYPE m summary", "# HELP m "]),
        (
            {"my.metric": Metadata("gaugehistogram", 'say "hi"')},
            ['# TYPE "my.metric" gaugehistogram', '# HELP "my.metric" say "hi"'],
        ),
        ({}, []),
    ],
)
def test_render_metadata(metadata: dict[str, Metadata], lines: list[str]) -> None:
    assert list(render_metadata(metadata)) == lines


@pytest.mark.parametrize(
    ("exemplar", "line"),
    [
        (Exemplar((("trace_id", "abc"),), 0.5, 1500), '  # {trace_id="abc"} 0.5 1500'),
        (Exemplar((("z", "1"), ("a", 'q"')), 1e6), '  # {a="q\\"",z="1"} 1e+06'),
        (Exemplar((), -math.inf, 0), "  # {} -Inf 0"),
        (Exemplar((("a.b", "1"),), 2), '  # {"a.b"="1"} 2'),
    ],
)
def test_render_exemplar(exemplar: Exemplar, line: str) -> None:
    assert render_exemplar(exemplar) == line


def test_render_exposition_orders_metadata_samples_exemplars_histograms() -> None:
    histogram = NativeHistogram(
        schema=0,
        zero_threshold=0,
        count=1,
        sum=0.75,
        zero_count=0,
        positive_spans=((0, 1),),
        positive_buckets=(1,),
    )
    exposition = Exposition(
        keys=["a_total", "b"],
        values=[1.0, 2.0],
        timestamps=[None, 7],
        series={"a_total": ("a_total", ()), "b": ("b", (("x", "1"),)), "h": ("h", (("y", "2"),))},
        metadata={"h": Metadata("histogram"), "a": Metadata("counter", "Help.")},
        exemplars={0: Exemplar((("id", "1"),), 1.0)},
        start_timestamps={0: 1000},
        histograms=[
            HistogramSample("h", histogram, 9, (Exemplar((("id", "2"),), 0.75, 8), Exemplar((), 0.5)), 500),
            HistogramSample("h", histogram),
        ],
    )
    assert list(render_exposition(exposition)) == [
        "# TYPE a counter",
        "# HELP a Help.",
        "# TYPE h histogram",
        "a_total 1 st=1000",
        '  # {id="1"} 1',
        'b{x="1"} 2 7',
        'h{y="2"} {count:1, sum:0.75, schema:0, zero_threshold:0, zero_count:0, (0.5,1]:1} 9 st=500',
        '  # {id="2"} 0.75 8',
        "  # {} 0.5",
        'h{y="2"} {count:1, sum:0.75, schema:0, zero_threshold:0, zero_count:0, (0.5,1]:1}',
    ]
