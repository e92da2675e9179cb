"""Native histogram transforms against Prometheus 3's own vectors (model/histogram, scrape, textparse).

Vectors marked "Prometheus" are copied from Prometheus's tests (generic_test.go, target_test.go,
convertnhcb_test.go, nhcbparse_test.go); the others are derived by hand in the comment beside them.
"""

import itertools
import math
import random
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from promscrape.exposition.floats import format_go
from promscrape.exposition.model import (
    Exemplar,
    Exposition,
    HistogramSample,
    Metadata,
    NativeHistogram,
    ParseError,
)
from promscrape.exposition.openmetrics import parse_openmetrics
from promscrape.exposition.text import parse_text
from promscrape.histograms import (
    BUCKET_LIMIT_EXCEEDED,
    HistogramError,
    _go_log,
    apply_bucket_limit,
    apply_min_bucket_factor,
    compact,
    compact_buckets,
    convert_classic_to_nhcb,
    pick_schema,
    reduce_resolution,
    validate,
)


def integer(schema: int, spans=(), buckets=(), nspans=(), nbuckets=(), **kw) -> NativeHistogram:
    base = {"zero_threshold": 0.001, "count": 21, "sum": 33.0, "zero_count": 3}
    base.update(kw)
    return NativeHistogram(
        schema=schema,
        positive_spans=tuple(spans),
        positive_buckets=tuple(buckets),
        negative_spans=tuple(nspans),
        negative_buckets=tuple(nbuckets),
        **base,
    )


def to_float(h: NativeHistogram) -> NativeHistogram:
    """Histogram.ToFloat: deltas to absolute counts."""

    def absolute(deltas):
        out, current = [], 0
        for delta in deltas:
            current += delta
            out.append(float(current))
        return tuple(out)

    return NativeHistogram(
        schema=h.schema,
        zero_threshold=h.zero_threshold,
        count=float(h.count),
        sum=h.sum,
        zero_count=float(h.zero_count),
        positive_spans=h.positive_spans,
        positive_buckets=absolute(h.positive_buckets),
        negative_spans=h.negative_spans,
        negative_buckets=absolute(h.negative_buckets),
        is_float=True,
        custom_values=h.custom_values,
    )


# --- reduce_resolution -------------------------------------------------------------------------

# Prometheus TestReduceResolutionHistogram / TestReduceResolutionFloatHistogram.
GENERIC = integer(0, ((0, 4), (0, 0), (3, 2)), (1, 2, -2, 1, -1, 0))


@pytest.mark.parametrize(
    ("h", "target", "spans", "buckets"),
    [
        (GENERIC, -1, ((0, 3), (1, 1)), (1, 3, -2, 0)),
        (to_float(GENERIC), -1, ((0, 3), (1, 1)), (1.0, 4.0, 2.0, 2.0)),
        # schema 0 -> -2 directly: counts 1,3,1,2 | 1,1 at indexes 0..3 | 7,8 go to 0,1,1,1 | 2,2,
        # so 1, 6, 2 as deltas.
        (GENERIC, -2, ((0, 3),), (1, 5, -4)),
        # Negative indexes: counts 1,2,3 at -3,-2,-1; ((-4)>>1)+1 = -1, ((-3)>>1)+1 = -1,
        # ((-2)>>1)+1 = 0: 3 and 3.
        (integer(3, ((-3, 3),), (1, 1, 1)), 2, ((-1, 2),), (3, 0)),
        (integer(2, (), ()), 0, (), ()),
    ],
)
def test_reduce_resolution(h: NativeHistogram, target: int, spans, buckets) -> None:
    got = reduce_resolution(h, target)
    assert (got.schema, got.positive_spans, got.positive_buckets) == (target, spans, buckets)
    assert (got.count, got.sum, got.zero_count, got.zero_threshold) == (h.count, h.sum, h.zero_count, 0.001)


def test_reduce_resolution_both_sides() -> None:
    h = integer(0, ((0, 3),), (3, 0, 0), ((0, 3),), (3, 0, 0))
    got = reduce_resolution(h, -1)
    assert (got.positive_spans, got.positive_buckets) == (((0, 2),), (3, 3))
    assert (got.negative_spans, got.negative_buckets) == (((0, 2),), (3, 3))


SPANS_MISMATCH = "histogram spans specify different number of buckets than provided"


@pytest.mark.parametrize(
    ("h", "target", "message"),
    [
        (integer(-53, ((0, 1),), (1,)), -54, "cannot reduce resolution when there are custom buckets"),
        (integer(3, ((0, 1),), (1,)), -53, "cannot reduce resolution to custom buckets schema"),
        (integer(3, ((0, 1),), (1,)), 3, "cannot reduce resolution from schema 3 to 3"),
        (integer(3, ((0, 1),), (1,)), 4, "cannot reduce resolution from schema 3 to 4"),
        (
            integer(3, ((0, 1), (-1, 1)), (1, 1)),
            2,
            "span number 2 with offset -1: histogram has a span whose offset is negative",
        ),
        (integer(3, ((0, 3),), (1, 1)), 2, f"have 2 buckets but spans need more: {SPANS_MISMATCH}"),
        (integer(3, ((0, 1),), (1, 1)), 2, f"spans need 1 buckets, have 2 buckets: {SPANS_MISMATCH}"),
        (integer(3, (), (), ((0, 1),), (1, 2)), 2, f"spans need 1 buckets, have 2 buckets: {SPANS_MISMATCH}"),
    ],
)
def test_reduce_resolution_errors(h: NativeHistogram, target: int, message: str) -> None:
    with pytest.raises(HistogramError) as caught:
        reduce_resolution(h, target)
    assert str(caught.value) == message


def decode(spans, buckets, deltas: bool) -> dict[int, float]:
    """Bucket index -> absolute count, independently of the code under test."""
    out: dict[int, float] = {}
    index, current, position = 0, 0, 0
    for offset, length in spans:
        index += offset
        for _ in range(length):
            current = current + buckets[position] if deltas else buckets[position]
            out[index] = current
            index += 1
            position += 1
    return out


valid_sides = st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), min_size=0, max_size=5).flatmap(
    lambda spans: st.tuples(
        st.just(tuple(spans)),
        st.integers(-20, 20),
        st.lists(st.integers(0, 50), min_size=sum(n for _, n in spans), max_size=sum(n for _, n in spans)),
    )
)


@settings(max_examples=300, deadline=None)
@given(valid_sides, st.integers(-4, 8), st.integers(1, 12), st.booleans())
def test_reduce_resolution_merges_counts(side, schema: int, drop: int, floats: bool) -> None:
    """Every origin bucket lands in target index ((i-1) >> shift) + 1, counts added, none lost."""
    spans, first, counts = side
    spans = ((first + spans[0][0], spans[0][1]), *spans[1:]) if spans else ()
    deltas = tuple(b - a for a, b in zip([0, *counts], counts, strict=False))
    h = integer(schema, spans, tuple(float(c) for c in counts) if floats else deltas, is_float=floats)
    target = schema - drop
    expected: dict[int, float] = {}
    for index, count in decode(spans, h.positive_buckets, not floats).items():
        key = ((index - 1) >> drop) + 1
        expected[key] = expected.get(key, 0) + count
    got = reduce_resolution(h, target)
    assert decode(got.positive_spans, got.positive_buckets, not floats) == expected
    assert all(length > 0 for _, length in got.positive_spans)
    assert all(offset > 0 for offset, _ in got.positive_spans[1:])


# --- apply_bucket_limit / apply_min_bucket_factor (Prometheus TestBucketLimitAppender) ---------

EXAMPLE = integer(0, ((0, 3),), (3, 0, 0), ((0, 3),), (3, 0, 0))
BIG_GAP = integer(0, ((1, 1), (2, 1)), (1, 0))
CUSTOM = NativeHistogram(
    schema=-53,
    zero_threshold=0.0,
    count=9,
    sum=33.0,
    zero_count=0,
    positive_spans=((0, 3),),
    positive_buckets=(3, 0, 0),
    custom_values=(1.0, 2.0, 3.0),
)


@pytest.mark.parametrize("floats", [False, True])
@pytest.mark.parametrize(
    ("h", "limit", "schema", "spans", "buckets", "nspans", "nbuckets"),
    [
        (EXAMPLE, 3, None, None, None, None, None),
        (EXAMPLE, 4, -1, ((0, 2),), (3, 3), ((0, 2),), (3, 3)),
        (EXAMPLE, 10, 0, ((0, 3),), (3, 0, 0), ((0, 3),), (3, 0, 0)),
        # (1,2] and (8,16]: schema -1 puts them in indexes 1 and 2, schema -2 both in index 1.
        (BIG_GAP, 1, -2, ((1, 1),), (2,), (), ()),
        (BIG_GAP, 2, 0, ((1, 1), (2, 1)), (1, 0), (), ()),
        (CUSTOM, 2, None, None, None, None, None),
        (CUSTOM, 3, -53, ((0, 3),), (3, 0, 0), (), ()),
        (EXAMPLE, 0, 0, ((0, 3),), (3, 0, 0), ((0, 3),), (3, 0, 0)),
    ],
)
def test_apply_bucket_limit(h, limit, schema, spans, buckets, nspans, nbuckets, floats: bool) -> None:
    if floats:
        h = to_float(h)
    if schema is None:
        with pytest.raises(HistogramError) as caught:
            apply_bucket_limit(h, limit)
        assert str(caught.value) == BUCKET_LIMIT_EXCEEDED == "histogram bucket limit exceeded"
        return
    got = apply_bucket_limit(h, limit)
    want = to_float(integer(schema, spans, buckets, nspans, nbuckets)) if floats else None
    assert got.schema == schema
    assert got.positive_spans == spans and got.negative_spans == nspans
    if floats:
        assert (got.positive_buckets, got.negative_buckets) == (want.positive_buckets, want.negative_buckets)
    else:
        assert (got.positive_buckets, got.negative_buckets) == (buckets, nbuckets)


@pytest.mark.parametrize(
    ("h", "message"),
    [
        # Already at the minimum schema and still over the limit.
        (integer(-4, ((0, 1), (5, 1)), (1, 0)), BUCKET_LIMIT_EXCEEDED),
        # A reserved schema above 8 is not exponential for the appender: no reduction, an error.
        (integer(9, ((0, 2),), (1, 0)), BUCKET_LIMIT_EXCEEDED),
    ],
)
def test_apply_bucket_limit_errors(h: NativeHistogram, message: str) -> None:
    with pytest.raises(HistogramError, match=message):
        apply_bucket_limit(h, 1)


@pytest.mark.parametrize(
    ("factor", "schema"),
    [
        # factor <= 1 means 1.00271: floor(-log2(log2(1.00271))) = floor(8.0007) = 8.
        (0.0, 8),
        (1.0, 8),
        (1.00271, 8),
        (1.001, 8),
        (1.01, 6),  # -log2(log2 1.01) = 6.12
        (1.05, 3),  # 3.83
        (1.1, 2),  # 2.86
        (1.2, 1),  # 1.93
        (1.5, 0),  # 0.77
        (2.0, 0),  # exact: log2 2 = 1, -log2 1 = -0
        (3.0, -1),  # -0.66
        (4.0, -1),  # exact
        (16.0, -2),
        (256.0, -3),
        (65536.0, -4),
        (1e300, -4),
        (math.inf, -4),
    ],
)
def test_pick_schema(factor: float, schema: int) -> None:
    assert pick_schema(factor) == schema


def test_pick_schema_nan() -> None:
    with pytest.raises(ValueError, match="NaN"):
        pick_schema(math.nan)


def test_go_log_matches_libm_within_an_ulp() -> None:
    """The fdlibm port agrees with the C library to within one ulp (it differs only there)."""
    rng = random.Random(4)
    for _ in range(20000):
        x = math.exp(rng.uniform(-700, 700))
        assert abs(_go_log(x) - math.log(x)) <= math.ulp(math.log(x))
    assert (_go_log(1.0), _go_log(0.0), _go_log(math.inf)) == (0.0, -math.inf, math.inf)
    assert math.isnan(_go_log(-1.0)) and math.isnan(_go_log(math.nan))


# Prometheus TestMaxSchemaAppender: maxSchema -1 -> -1, 0 -> 0, custom buckets untouched.
@pytest.mark.parametrize("floats", [False, True])
@pytest.mark.parametrize(
    ("h", "factor", "schema"),
    [
        (EXAMPLE, 4.0, -1),
        (EXAMPLE, 2.0, 0),
        (CUSTOM, 4.0, -53),
        (integer(5, ((0, 1),), (1,)), 1.1, 2),
        (integer(12, ((0, 1),), (1,)), 1.1, 2),
        # A factor that allows schema 8 installs no appender: even schema 12 stays.
        (integer(12, ((0, 1),), (1,)), 0.0, 12),
        (integer(-2, ((0, 1),), (1,)), 1.1, -2),
    ],
)
def test_apply_min_bucket_factor(h: NativeHistogram, factor: float, schema: int, floats: bool) -> None:
    if floats:
        h = to_float(h)
    got = apply_min_bucket_factor(h, factor)
    assert got.schema == schema
    assert got == (h if schema == h.schema else reduce_resolution(h, schema))


# --- compact -----------------------------------------------------------------------------------


def sides(pspans, pbuckets, nspans=(), nbuckets=(), schema=0) -> NativeHistogram:
    return integer(schema, pspans, pbuckets, nspans, nbuckets)


# Prometheus TestHistogramCompact (integer; the float cases share the layouts).
COMPACT_CASES = {
    "empty histogram": (sides((), ()), 0, sides((), ())),
    "nothing should happen": (
        sides(((-2, 1), (2, 3)), (1, 3, -3, 42), ((3, 2), (3, 2)), (5, 3, 123400, 1000)),
        0,
        sides(((-2, 1), (2, 3)), (1, 3, -3, 42), ((3, 2), (3, 2)), (5, 3, 123400, 1000)),
    ),
    "eliminate zero offsets": (
        sides(
            ((-2, 1), (0, 3), (0, 1)),
            (1, 3, -3, 42, 3),
            ((0, 2), (0, 2), (2, 1), (0, 1)),
            (5, 3, 123400, 1000, 3, 4),
        ),
        0,
        sides(((-2, 5),), (1, 3, -3, 42, 3), ((0, 4), (2, 2)), (5, 3, 123400, 1000, 3, 4)),
    ),
    "eliminate zero length": (
        sides(
            ((-2, 2), (2, 0), (3, 3)),
            (1, 3, -3, 42, 3),
            ((0, 2), (0, 0), (2, 0), (1, 4)),
            (5, 3, 123400, 1000, 3, 4),
        ),
        0,
        sides(((-2, 2), (5, 3)), (1, 3, -3, 42, 3), ((0, 2), (3, 4)), (5, 3, 123400, 1000, 3, 4)),
    ),
    "eliminate multiple zero length spans": (
        sides(((-2, 2), (2, 0), (2, 0), (2, 0), (3, 3)), (1, 3, -3, 42, 3)),
        0,
        sides(((-2, 2), (9, 3)), (1, 3, -3, 42, 3)),
    ),
    "cut empty buckets at start or end": (
        sides(((-4, 4), (5, 3)), (0, 0, 1, 3, -3, 42, 3), ((0, 2), (3, 5)), (5, 3, -4, -2, 3, 4, -9)),
        0,
        sides(((-2, 2), (5, 3)), (1, 3, -3, 42, 3), ((0, 2), (3, 4)), (5, 3, -4, -2, 3, 4)),
    ),
    "cut empty buckets at start and end": (
        sides(
            ((-4, 4), (5, 6)),
            (0, 0, 1, 3, -3, 42, 3, -46, 0, 0),
            ((-2, 4), (3, 5)),
            (0, 0, 5, 3, -4, -2, 3, 4, -9),
        ),
        0,
        sides(((-2, 2), (5, 3)), (1, 3, -3, 42, 3), ((0, 2), (3, 4)), (5, 3, -4, -2, 3, 4)),
    ),
    "cut empty buckets at start or end of spans, even in the middle": (
        sides(
            ((-4, 6), (3, 6)),
            (0, 0, 1, 3, -4, 0, 1, 42, 3, -46, 0, 0),
            ((0, 2), (2, 6)),
            (5, 3, -8, 4, -2, 3, 4, -9),
        ),
        0,
        sides(((-2, 2), (5, 3)), (1, 3, -3, 42, 3), ((0, 2), (3, 4)), (5, 3, -4, -2, 3, 4)),
    ),
    "cut empty buckets at start or end but merge spans due to maxEmptyBuckets": (
        sides(((-4, 4), (5, 3)), (0, 0, 1, 3, -3, 42, 3), ((0, 2), (3, 5)), (5, 3, -4, -2, 3, 4, -9)),
        10,
        sides(((-2, 10),), (1, 3, -4, 0, 0, 0, 0, 1, 42, 3), ((0, 9),), (5, 3, -8, 0, 0, 4, -2, 3, 4)),
    ),
    "cut empty buckets from the middle of a span": (
        sides(((-4, 6), (3, 3)), (0, 0, 1, -1, 0, 3, -2, 42, 3), ((0, 2), (3, 5)), (5, 3, -4, -2, -2, 3, 4)),
        0,
        sides(((-2, 1), (2, 1), (3, 3)), (1, 2, -2, 42, 3), ((0, 2), (3, 2), (1, 2)), (5, 3, -4, -2, 1, 4)),
    ),
    "cut out a span containing only empty buckets": (
        sides(((-4, 3), (2, 2), (3, 4)), (0, 0, 1, -1, 0, 3, -2, 42, 3)),
        0,
        sides(((-2, 1), (7, 4)), (1, 2, -2, 42, 3)),
    ),
    "cut empty buckets from the middle of a span, avoiding some due to maxEmptyBuckets": (
        sides(((-4, 6), (3, 3)), (0, 0, 1, -1, 0, 3, -2, 42, 3), ((0, 2), (3, 5)), (5, 3, -4, -2, -2, 3, 4)),
        1,
        sides(((-2, 1), (2, 1), (3, 3)), (1, 2, -2, 42, 3), ((0, 2), (3, 5)), (5, 3, -4, -2, -2, 3, 4)),
    ),
    "avoiding all cutting of empty buckets from the middle of a chunk due to maxEmptyBuckets": (
        sides(((-4, 6), (3, 3)), (0, 0, 1, -1, 0, 3, -2, 42, 3), ((0, 2), (3, 5)), (5, 3, -4, -2, -2, 3, 4)),
        2,
        sides(((-2, 4), (3, 3)), (1, -1, 0, 3, -2, 42, 3), ((0, 2), (3, 5)), (5, 3, -4, -2, -2, 3, 4)),
    ),
    "everything merged into one span due to maxEmptyBuckets": (
        sides(((-4, 6), (3, 3)), (0, 0, 1, -1, 0, 3, -2, 42, 3), ((0, 2), (3, 5)), (5, 3, -4, -2, -2, 3, 4)),
        3,
        sides(((-2, 10),), (1, -1, 0, 3, -3, 0, 0, 1, 42, 3), ((0, 10),), (5, 3, -8, 0, 0, 4, -2, -2, 3, 4)),
    ),
    "only empty buckets and maxEmptyBuckets greater zero": (
        sides(((-4, 6), (3, 3)), (0,) * 9, ((0, 7),), (0,) * 7),
        3,
        sides((), ()),
    ),
    "multiple spans of only empty buckets": (
        sides(
            ((-10, 2), (2, 1), (3, 3)), (0, 0, 0, 0, 2, 3), ((-10, 2), (2, 1), (3, 3)), (2, 3, -5, 0, 0, 0)
        ),
        0,
        sides(((-1, 2),), (2, 3), ((-10, 2),), (2, 3)),
    ),
    "eliminate zero offsets with custom buckets": (
        sides(((-2, 1), (0, 3), (0, 1)), (1, 3, -3, 42, 3), schema=-53),
        0,
        sides(((-2, 5),), (1, 3, -3, 42, 3), schema=-53),
    ),
    "cut empty buckets at start or end of spans, even in the middle, with custom buckets": (
        sides(((-4, 6), (3, 6)), (0, 0, 1, 3, -4, 0, 1, 42, 3, -46, 0, 0), schema=-53),
        0,
        sides(((-2, 2), (5, 3)), (1, 3, -3, 42, 3), schema=-53),
    ),
}


@pytest.mark.parametrize("floats", [False, True])
@pytest.mark.parametrize("name", list(COMPACT_CASES))
def test_compact(name: str, floats: bool) -> None:
    h, max_empty, expected = COMPACT_CASES[name]
    if floats:
        h, expected = to_float(h), to_float(expected)
    assert compact(h, max_empty) == expected


@pytest.mark.parametrize(
    ("h", "max_empty", "spans", "buckets"),
    [
        # NHCB shapes: absolute 0,1,0,0,0,2,0 -> leading and trailing empties cut, a run of 3 > 2 splits.
        (integer(-53, ((0, 7),), (0, 1, -1, 0, 0, 2, -2)), 2, ((1, 1), (3, 1)), (1, 1)),
        # Absolute 1,0,0,1: a run of 2 stays with Compact(2), goes with Compact(0).
        (integer(-53, ((0, 4),), (1, -1, 0, 1)), 2, ((0, 4),), (1, -1, 0, 1)),
        (integer(-53, ((0, 4),), (1, -1, 0, 1)), 0, ((0, 1), (2, 1)), (1, 0)),
        (to_float(integer(-53, ((0, 3),), (1, -1, 2))), 0, ((0, 1), (1, 1)), (1.0, 2.0)),
        # Spans that do not cover the buckets (an invalid histogram) are left as they are.
        (integer(0, ((0, 3),), (1, 0)), 0, ((0, 3),), (1, 0)),
        (integer(0, ((0, 1), (-1, 1)), (0, 0)), 0, ((0, 1), (-1, 1)), (0, 0)),
    ],
)
def test_compact_shapes(h: NativeHistogram, max_empty: int, spans, buckets) -> None:
    got = compact(h, max_empty)
    assert (got.positive_spans, got.positive_buckets) == (spans, buckets)


# compact_buckets, one side as lists (the protobuf parser's Compact(0) uses it through compact).
BUCKET_CASES = [
    ("nothing to do", [1, 2], [[1, 2]], 0, True, [1, 2], [[1, 2]]),
    ("empty span removed", [], [[0, 0]], 0, True, [], []),
    ("zero-offset spans merged", [1, 1], [[-1, 1], [0, 1]], 0, True, [1, 1], [[-1, 2]]),
    (
        "zero-length span carries its offset",
        [1, 1],
        [[1, 1], [2, 0], [3, 1]],
        0,
        True,
        [1, 1],
        [[1, 1], [5, 1]],
    ),
    ("empty bucket inside splits the span", [2, -2, 5], [[1, 3]], 0, True, [2, 3], [[1, 1], [1, 1]]),
    ("leading and trailing empties cut", [0, 0, 3, -3], [[0, 4]], 0, True, [3], [[2, 1]]),
    ("whole empty span dropped", [3, -3, 0, 4], [[0, 1], [1, 2], [1, 1]], 0, True, [3, 1], [[0, 1], [4, 1]]),
    ("floats", [0.0, 1.5, 0.0, 0.0, 2.0], [[0, 5]], 0, False, [1.5, 2.0], [[1, 1], [2, 1]]),
    ("few empties kept with max 2", [2, -2, 0, 5], [[0, 4]], 2, True, [2, -2, 0, 5], [[0, 4]]),
    ("spans closer than max merged", [2, 3], [[0, 1], [2, 1]], 2, True, [2, -2, 0, 5], [[0, 4]]),
    ("mismatched spans left alone", [1, 2, 3], [[0, 2]], 0, True, [1, 2, 3], [[0, 2]]),
    ("negative later offset left alone", [0, 1], [[0, 1], [-1, 1]], 0, True, [0, 1], [[0, 1], [-1, 1]]),
    (
        "offsets add up as Go's int32",
        [1, 1],
        [[0, 1], [2**31 - 1, 0], [1, 1]],
        0,
        True,
        [1, 1],
        [[0, 1], [-(2**31), 1]],
    ),
]


@pytest.mark.parametrize(
    ("buckets", "spans", "max_empty", "deltas", "want_buckets", "want_spans"),
    [case[1:] for case in BUCKET_CASES],
    ids=[case[0] for case in BUCKET_CASES],
)
def test_compact_buckets(
    buckets: list[int] | list[float],
    spans: list[list[int]],
    max_empty: int,
    deltas: bool,
    want_buckets: list[int] | list[float],
    want_spans: list[list[int]],
) -> None:
    copied = [list(span) for span in spans]  # compact_buckets edits its arguments
    assert compact_buckets(list(buckets), copied, max_empty, deltas) == (want_buckets, want_spans)


@settings(max_examples=300, deadline=None)
@given(valid_sides, st.integers(0, 3), st.booleans())
def test_compact_keeps_every_populated_bucket(side, max_empty: int, floats: bool) -> None:
    spans, first, counts = side
    spans = ((first + spans[0][0], spans[0][1]), *spans[1:]) if spans else ()
    deltas = tuple(b - a for a, b in zip([0, *counts], counts, strict=False))
    h = integer(0, spans, tuple(float(c) for c in counts) if floats else deltas, is_float=floats)
    got = compact(h, max_empty)
    before = {i: c for i, c in decode(spans, h.positive_buckets, not floats).items() if c}
    after = decode(got.positive_spans, got.positive_buckets, not floats)
    assert {i: c for i, c in after.items() if c} == before
    assert all(length > 0 for _, length in got.positive_spans)
    if max_empty == 0:
        assert all(after.values())


# --- convert_classic_to_nhcb ------------------------------------------------------------------


def nhcb(count, sum_, spans, buckets, custom, floats: bool = False) -> NativeHistogram:
    return NativeHistogram(
        schema=-53,
        zero_threshold=0.0,
        count=count,
        sum=sum_,
        zero_count=0.0 if floats else 0,
        positive_spans=spans,
        positive_buckets=buckets,
        is_float=floats,
        custom_values=custom,
    )


def lines(exposition: Exposition) -> list[str]:
    return [
        f"{k} {v}" + ("" if t is None else f" {t}")
        for k, v, t in zip(exposition.keys, exposition.values, exposition.timestamps, strict=True)
    ]


# Prometheus TestNHCBParserOMParser_MultipleHistograms.
OM_MULTI = b"""# HELP something Histogram with _created between buckets and summary
# TYPE something histogram
something_count 18
something_sum 324789.4
something_bucket{le="0.0"} 1 # {id="something-test"} -2.0
something_bucket{le="1.0"} 16 # {id="something-test"} 0.5
something_bucket{le="+Inf"} 18 # {id="something-test"} 8
something_count{a="b"} 9
something_sum{a="b"} 42123.0
something_bucket{a="b",le="0.0"} 8 # {id="something-test"} 0.0 123.321
something_bucket{a="b",le="1.0"} 8
something_bucket{a="b",le="+Inf"} 9 # {id="something-test"} 2e100 123.000
# EOF
"""
TEST_ID = (("id", "something-test"),)


def test_openmetrics_multiple_histograms() -> None:
    got = convert_classic_to_nhcb(parse_openmetrics(OM_MULTI), keep_classic=False)
    assert got.keys == [] and got.exemplars == {}
    assert [
        (h.key, h.histogram, h.timestamp_ms, h.exemplars, h.start_timestamp_ms) for h in got.histograms
    ] == [
        (
            "something",
            nhcb(18, 324789.4, ((0, 3),), (1, 14, -13), (0.0, 1.0)),
            None,
            (Exemplar(TEST_ID, -2.0), Exemplar(TEST_ID, 0.5), Exemplar(TEST_ID, 8.0)),
            None,
        ),
        (
            'something{a="b"}',
            nhcb(9, 42123.0, ((0, 3),), (8, -8, 1), (0.0, 1.0)),
            None,
            (Exemplar(TEST_ID, 0.0, 123321), Exemplar(TEST_ID, 2e100, 123000)),
            None,
        ),
    ]
    assert got.series["something"] == ("something", ())
    assert got.series['something{a="b"}'] == ("something", (("a", "b"),))


def test_keep_classic_keeps_series_but_moves_exemplars() -> None:
    """The wrapped parser hands an exemplar out once: it goes to the NHCB, not the kept series."""
    source = parse_openmetrics(OM_MULTI)
    got = convert_classic_to_nhcb(source, keep_classic=True)
    assert got.keys == source.keys and got.values == source.values
    assert got.exemplars == {}
    assert [h.key for h in got.histograms] == ["something", 'something{a="b"}']


# Prometheus TestNhcbParserOnOpenMetricsParser (the histogram parts).
OM_TYPES = b"""# TYPE hh histogram
hh_bucket{le="+Inf"} 1
# TYPE gh gaugehistogram
gh_bucket{le="+Inf"} 1
# TYPE hhh histogram
hhh_bucket{le="+Inf"} 1 # {id="histogram-bucket-test"} 4
hhh_count 1 # {id="histogram-count-test"} 4
# TYPE ggh gaugehistogram
ggh_bucket{le="+Inf"} 1 # {id="gaugehistogram-bucket-test",xx="yy"} 4 123.123
ggh_count 1 # {id="gaugehistogram-count-test",xx="yy"} 4 123.123
# TYPE smr_seconds summary
smr_seconds_count 2.0 # {id="summary-count-test"} 1 123.321
smr_seconds_sum 42.0 # {id="summary-sum-test"} 1 123.321
# HELP baz Histogram with the same objective as above's summary
# TYPE baz histogram
baz_bucket{le="0.0"} 0
baz_bucket{le="+Inf"} 17
baz_count 17
baz_sum 324789.3
# EOF
"""


def test_openmetrics_types() -> None:
    got = convert_classic_to_nhcb(parse_openmetrics(OM_TYPES), keep_classic=False)
    assert lines(got) == [
        'gh_bucket{le="+Inf"} 1.0',
        'ggh_bucket{le="+Inf"} 1.0',
        "ggh_count 1.0",
        "smr_seconds_count 2.0",
        "smr_seconds_sum 42.0",
    ]
    # The gauge histogram and summary keep their exemplars, re-indexed.
    assert sorted(got.exemplars) == [1, 2, 3, 4]
    assert got.exemplars[1].labels == (("id", "gaugehistogram-bucket-test"), ("xx", "yy"))
    assert [(h.key, h.histogram, h.exemplars) for h in got.histograms] == [
        ("hh", nhcb(1, 0.0, ((0, 1),), (1,), ()), ()),
        (
            "hhh",
            nhcb(1, 0.0, ((0, 1),), (1,), ()),
            (
                Exemplar((("id", "histogram-bucket-test"),), 4.0),
                Exemplar((("id", "histogram-count-test"),), 4.0),
            ),
        ),
        # The empty first bucket is cut: offset 1, custom value 0 kept.
        ("baz", nhcb(17, 324789.3, ((1, 1),), (17,), (0.0,)), ()),
    ]


def test_openmetrics_created_line_splits_the_histogram() -> None:
    """`_created` is an ordinary series by default (no CT skipping): it ends the histogram being
    collected, so count/sum and the buckets after it become two NHCBs of one series, as in
    Prometheus's NHCBParser over an OpenMetrics parser that does not skip `_created`."""
    body = b"""# TYPE something histogram
something_count 18
something_sum 324789.4
something_created 1520430001
something_bucket{le="0.0"} 1
something_bucket{le="+Inf"} 18
# EOF
"""
    got = convert_classic_to_nhcb(parse_openmetrics(body), keep_classic=False)
    assert lines(got) == ["something_created 1520430001.0"]
    assert [(h.key, h.histogram) for h in got.histograms] == [
        ("something", nhcb(18, 324789.4, ((0, 1),), (18,), ())),
        ("something", nhcb(18, 0.0, ((0, 2),), (1, 16), (0.0,))),
    ]


# Prometheus createTestPromHistogram, and convertnhcb_test.go's TempHistogram cases.
PROM_TEXT = b"""# HELP test_histogram1 Test histogram 1
# TYPE test_histogram1 histogram
test_histogram1_count 175 1234568
test_histogram1_sum 0.0008280461746287094 1234568
test_histogram1_bucket{le="-0.0004899999999999998"} 2 1234568
test_histogram1_bucket{le="-0.0003899999999999998"} 4 1234568
test_histogram1_bucket{le="-0.0002899999999999998"} 16 1234568
test_histogram1_bucket{le="+Inf"} 175 1234568
"""


def classic(*series: str) -> bytes:
    return ("# TYPE h histogram\n" + "\n".join(series) + "\n# TYPE other gauge\nother 1\n").encode()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            PROM_TEXT,
            nhcb(
                175,
                0.0008280461746287094,
                ((0, 4),),
                (2, 0, 10, 147),
                (-0.0004899999999999998, -0.0003899999999999998, -0.0002899999999999998),
            ),
        ),
        # Prometheus "single integer bucket" / "single float bucket".
        (
            classic("h_sum 1000.25", 'h_bucket{le="0.5"} 1000'),
            nhcb(1000, 1000.25, ((0, 1),), (1000,), (0.5,)),
        ),
        (
            classic("h_sum 1000.25", 'h_bucket{le="0.5"} 1337.42'),
            nhcb(1337.42, 1000.25, ((0, 1),), (1337.42,), (0.5,), floats=True),
        ),
        # Prometheus "happy case integer bucket" / "happy case float bucket" / "mixed order".
        (
            classic(
                "h_count 1000",
                "h_sum 1000.25",
                'h_bucket{le="0.5"} 50',
                'h_bucket{le="1"} 950',
                'h_bucket{le="+Inf"} 1000',
            ),
            nhcb(1000, 1000.25, ((0, 3),), (50, 850, -850), (0.5, 1.0)),
        ),
        (
            classic(
                "h_count 1000",
                "h_sum 1000.25",
                'h_bucket{le="0.5"} 50',
                'h_bucket{le="1"} 950.5',
                'h_bucket{le="+Inf"} 1000',
            ),
            nhcb(1000.0, 1000.25, ((0, 3),), (50.0, 900.5, 49.5), (0.5, 1.0), floats=True),
        ),
        (
            classic(
                'h_bucket{le="0.5"} 50',
                'h_bucket{le="+Inf"} 1000',
                'h_bucket{le="1"} 950',
                "h_count 1000",
                "h_sum 1000.25",
            ),
            nhcb(1000, 1000.25, ((0, 3),), (50, 850, -850), (0.5, 1.0)),
        ),
        # REFERENCE §5: le=1:2, le=2:5, no +Inf, count 7 -> custom [1,2], span {0,3}, deltas [2,1,-1].
        (
            classic('h_bucket{le="1"} 2', 'h_bucket{le="2"} 5', "h_count 7"),
            nhcb(7, 0.0, ((0, 3),), (2, 1, -1), (1.0, 2.0)),
        ),
        # A duplicate le is ignored (the first wins).
        (
            classic('h_bucket{le="1"} 2', 'h_bucket{le="1"} 3', "h_count 2"),
            nhcb(2, 0.0, ((0, 1),), (2,), (1.0,)),
        ),
        # Compact(2): absolute 0,1,0,0,0,2,0 -> spans {1,1},{3,1}; all bounds stay in custom_values.
        (
            classic(
                'h_bucket{le="1"} 0',
                'h_bucket{le="2"} 1',
                'h_bucket{le="3"} 1',
                'h_bucket{le="4"} 1',
                'h_bucket{le="5"} 1',
                'h_bucket{le="6"} 3',
                'h_bucket{le="+Inf"} 3',
                "h_count 3",
            ),
            nhcb(3, 0.0, ((1, 1), (3, 1)), (1, 1), (1.0, 2.0, 3.0, 4.0, 5.0, 6.0)),
        ),
        # Compact(0) for floats: every empty bucket goes.
        (
            classic('h_bucket{le="1"} 0.5', 'h_bucket{le="2"} 0.5', 'h_bucket{le="+Inf"} 1.5', "h_count 1.5"),
            nhcb(1.5, 0.0, ((0, 1), (1, 1)), (0.5, 1.0), (1.0, 2.0), floats=True),
        ),
        # All zero: no spans.
        (classic('h_bucket{le="1"} 0', 'h_bucket{le="+Inf"} 0', "h_count 0"), nhcb(0, 0.0, (), (), (1.0,))),
        # A count that int64 cannot hold exactly takes the float path (Go's conversion overflows).
        (
            classic('h_bucket{le="+Inf"} 9.223372036854775807e18', "h_count 9.223372036854775807e18"),
            nhcb(2.0**63, 0.0, ((0, 1),), (2.0**63,), (), floats=True),
        ),
        # A -Inf bound is a finite-looking custom value Prometheus accepts.
        (
            classic('h_bucket{le="-Inf"} 1', 'h_bucket{le="+Inf"} 1'),
            nhcb(1, 0.0, ((0, 1),), (1,), (-math.inf,)),
        ),
    ],
)
def test_conversion(body: bytes, expected: NativeHistogram) -> None:
    got = convert_classic_to_nhcb(parse_text(body), keep_classic=False)
    assert lines(got) == (["other 1.0"] if b"other" in body else [])
    assert len(got.histograms) == 1
    assert got.histograms[0].histogram == expected
    assert got.histograms[0].key == ("test_histogram1" if body is PROM_TEXT else "h")


@pytest.mark.parametrize(
    "series",
    [
        # Prometheus "non cumulative bucket", "negative count".
        ("h_count 1000", 'h_bucket{le="0.5"} 50', 'h_bucket{le="1"} 950', 'h_bucket{le="+Inf"} 900'),
        ("h_count -1000", 'h_bucket{le="0.5"} 50'),
        ('h_bucket{le="0.5"} -1',),
        # Inserted out of order but not cumulative with its neighbours.
        ('h_bucket{le="1"} 5', 'h_bucket{le="3"} 9', 'h_bucket{le="2"} 10'),
        ('h_bucket{le="1"} 5', 'h_bucket{le="3"} 9', 'h_bucket{le="2"} 4'),
        # count mismatch (integer and float), no count and no bucket, NaN counts.
        ('h_bucket{le="+Inf"} 5', "h_count 6"),
        ('h_bucket{le="+Inf"} 5.5', "h_count 6"),
        ("h_sum 1000.25",),
        ('h_bucket{le="+Inf"} NaN',),
        # Converted, but Validate refuses it (the added +Inf bucket holds the lower _count: a
        # negative bucket) and the NHCBParser does not emit it; integer and float.
        ('h_bucket{le="2"} 1', "h_count 0"),
        ('h_bucket{le="1"} 0', 'h_bucket{le="2"} 1.5', "h_count 0.5"),
    ],
)
def test_failed_conversion_drops_the_histogram(series: tuple[str, ...]) -> None:
    source = parse_text(classic(*series))
    dropped = convert_classic_to_nhcb(source, keep_classic=False)
    assert lines(dropped) == ["other 1.0"] and dropped.histograms == []
    kept = convert_classic_to_nhcb(source, keep_classic=True)
    assert lines(kept) == lines(source) and kept.histograms == []


def test_series_that_are_not_classic_pass_through() -> None:
    """A `le` Go cannot parse, or NaN, or no `le`: not a bucket; the histogram goes on around it."""
    body = classic(
        'h_bucket{le="1"} 1',
        'h_bucket{le="x"} 7',
        'h_bucket{le="NaN"} 8',
        "h_bucket 9",
        "h 10",
        'h_bucket{le="+Inf"} 2',
    )
    got = convert_classic_to_nhcb(parse_text(body), keep_classic=False)
    assert lines(got) == [
        'h_bucket{le="x"} 7.0',
        'h_bucket{le="NaN"} 8.0',
        "h_bucket 9.0",
        "h 10.0",
        "other 1.0",
    ]
    assert [h.histogram for h in got.histograms] == [nhcb(2, 0.0, ((0, 2),), (1, 0), (1.0,))]


def test_grouping_by_labels() -> None:
    body = classic(
        'h_bucket{b="2",a="1",le="+Inf"} 1',
        'h_count{a="1",b="2"} 1',
        'h_bucket{a="2",le="+Inf"} 3',
        'h_bucket{a="",le="+Inf"} 4',
        "h_count 4",
        'h_bucket{a="1",b="2",le="+Inf"} 5',
    )
    got = convert_classic_to_nhcb(parse_text(body), keep_classic=False)
    assert [(h.key, got.series[h.key], h.histogram.count) for h in got.histograms] == [
        # Labels in exposed order in the series, sorted in the key.
        ('h{a="1",b="2"}', ("h", (("b", "2"), ("a", "1"))), 1),
        ('h{a="2"}', ("h", (("a", "2"),)), 3),
        # An empty value is a label of its own for the grouping (Prometheus hashes it).
        ('h{a=""}', ("h", ()), 4),
        ("h", ("h", ()), 4),
        # The same series again later is a new histogram.
        ('h{a="1",b="2"}', ("h", (("b", "2"), ("a", "1"))), 5),
    ]
    assert got.empty_labels['h{a=""}'] == frozenset({"a"})
    assert "h" not in got.empty_labels


def test_key_quotes_like_go() -> None:
    body = classic('h_bucket{"a.b"="x\\\\y\\n",le="+Inf"} 1')
    got = convert_classic_to_nhcb(parse_text(body), keep_classic=False)
    assert [h.key for h in got.histograms] == ['h{"a.b"="x\\\\y\\n"}']
    assert got.series['h{"a.b"="x\\\\y\\n"}'] == ("h", (("a.b", "x\\y\n"),))


def test_timestamps_follow_what_prometheus_read_last() -> None:
    """NHCBParser emits with the timestamp of the last series it read: the next histogram's first
    series when it follows directly; after a TYPE line, the histogram's own last one."""
    body = b"""# TYPE h histogram
h_bucket{a="1",le="+Inf"} 1 1000
h_count{a="1"} 1 1001
h_bucket{a="2",le="+Inf"} 2 2000
h_count{a="2"} 2 2001
# TYPE g gauge
g 1 3000
h_bucket{a="3",le="+Inf"} 3
untyped_after 1 4000
"""
    source = parse_text(body)
    got = convert_classic_to_nhcb(source, keep_classic=False)
    assert [(h.key, h.timestamp_ms) for h in got.histograms] == [
        ('h{a="1"}', 2000),
        ('h{a="2"}', 2001),
        ('h{a="3"}', 4000),
    ]
    protobuf = convert_classic_to_nhcb(source, keep_classic=False, protobuf=True)
    assert [h.timestamp_ms for h in protobuf.histograms] == [1001, 2001, None]
    assert lines(got) == ["g 1.0 3000", "untyped_after 1.0 4000"]


def test_last_histogram_at_the_end() -> None:
    got = convert_classic_to_nhcb(parse_text(b'# TYPE h histogram\nh_bucket{le="+Inf"} 1 7\n'), False)
    assert [(h.key, h.timestamp_ms) for h in got.histograms] == [("h", 7)]


def test_parse_error_loses_the_histogram_being_collected() -> None:
    body = b'# TYPE h histogram\nh_bucket{a="1",le="+Inf"} 1\nh_bucket{a="2",le="+Inf"} 2\nbad{ 1\n'
    source = parse_text(body)
    assert source.error is not None
    got = convert_classic_to_nhcb(source, keep_classic=False)
    assert [h.key for h in got.histograms] == ['h{a="1"}']
    assert got.keys == [] and got.error is source.error


def hand_exposition(names: list[str], histograms: list[HistogramSample], **meta: str) -> Exposition:
    """An Exposition as the protobuf parser fills it (keys synthesised, values 1.. in order)."""
    series = {}
    keys = []
    for text in names:
        name, _, label = text.partition("|")
        labels = tuple(tuple(pair.split("=")) for pair in label.split(",")) if label else ()
        key = name + ("{" + ",".join(f'{k}="{v}"' for k, v in labels) + "}" if labels else "")
        series[key] = (name, labels)
        keys.append(key)
    for sample in histograms:
        series.setdefault(sample.key, (sample.key.partition("{")[0], ()))
    return Exposition(
        keys=keys,
        values=[float(n) for n in range(1, len(keys) + 1)],
        timestamps=[None] * len(keys),
        series=series,
        metadata={name: Metadata(kind) for name, kind in meta.items()},
        exemplars={1: Exemplar((("t", "x"),), 0.5, 5)},
        start_timestamps=dict.fromkeys(range(len(keys)), 1000),
        histograms=histograms,
    )


def test_no_nhcb_beside_a_native_histogram() -> None:
    """Prometheus inhibits the conversion after an exponential histogram of the same series
    (protobuf with scrape_classic_histograms: native first, then its classic series)."""
    native = HistogramSample("h", integer(3, ((0, 1),), (1,)))
    source = hand_exposition(
        ["h_count", "h_sum", "h_bucket|le=+Inf", "h_count|a=1", "h_bucket|a=1,le=+Inf"],
        [native],
        h="histogram",
    )
    source.values = [1.0, 2.0, 1.0, 5.0, 5.0]
    got = convert_classic_to_nhcb(source, keep_classic=False, protobuf=True)
    assert got.keys == ["h_count", "h_sum", 'h_bucket{le="+Inf"}']
    assert got.exemplars == {1: source.exemplars[1]}
    assert got.start_timestamps == {0: 1000, 1: 1000, 2: 1000}
    assert [(h.key, h.histogram, h.start_timestamp_ms) for h in got.histograms] == [
        ("h", native.histogram, None),
        ('h{a="1"}', nhcb(5, 0.0, ((0, 1),), (5,), ()), 1000),
    ]


def test_start_timestamp_and_reindexing() -> None:
    source = hand_exposition(["g", "h_count", "h_sum", "h_bucket|le=+Inf", "g2"], [], h="histogram")
    source.values = [1.0, 2.0, 3.0, 2.0, 5.0]
    source.start_timestamps = {1: 111, 2: 222, 4: 444}
    source.exemplars = {0: Exemplar((), 1.0), 2: Exemplar((("s", "1"),), 2.0, 9), 4: Exemplar((), 4.0)}
    got = convert_classic_to_nhcb(source, keep_classic=False, protobuf=True)
    assert got.keys == ["g", "g2"] and got.values == [1.0, 5.0] and got.timestamps == [None, None]
    assert got.start_timestamps == {1: 444}
    assert got.exemplars == {0: Exemplar((), 1.0), 1: Exemplar((), 4.0)}
    [sample] = got.histograms
    assert (sample.key, sample.start_timestamp_ms, sample.exemplars) == (
        "h",
        111,
        (Exemplar((("s", "1"),), 2.0, 9),),
    )
    assert sample.histogram == nhcb(2, 3.0, ((0, 1),), (2,), ())
    assert got.series["h"] == ("h", ())


def test_nothing_to_convert_returns_the_exposition() -> None:
    source = parse_text(
        b'# TYPE s summary\ns_count 1\ns_sum 2\n# TYPE g gaugehistogram\ng_bucket{le="+Inf"} 1\n'
    )
    assert convert_classic_to_nhcb(source, keep_classic=False) is source


def test_conformance_files(conformance_dir) -> None:
    """1histogram.om.txt: three classic histograms, each becomes one NHCB, nothing else is left."""
    source = parse_openmetrics((conformance_dir / "prometheus" / "1histogram.om.txt").read_bytes())
    got = convert_classic_to_nhcb(source, keep_classic=False)
    assert got.keys == []
    bounds = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
    assert [(h.key, h.histogram) for h in got.histograms] == [
        (
            f'golang_manual_histogram_seconds{{address="0.0.0.0",generation="20",port="500{n}"}}',
            nhcb(1, 10.0, ((10, 1),), (1,), bounds),
        )
        for n in (1, 2, 3)
    ]
    # alltypes.237mfs.prom.txt: 15 histogram families, 105 label sets (105 `_count` lines),
    # 1209 classic lines of 1857 (counted with grep); each NHCB has its own `_count` and `_sum`.
    prom = parse_text((conformance_dir / "prometheus" / "alltypes.237mfs.prom.txt").read_bytes())
    converted = convert_classic_to_nhcb(prom, keep_classic=False)
    families = {name for name, meta in prom.metadata.items() if meta.type == "histogram"}
    assert (len(families), len(converted.histograms), len(converted.keys)) == (15, 105, 648)
    suffixed = {family + suffix for family in families for suffix in ("_bucket", "_count", "_sum")}
    assert not any(converted.series[key][0] in suffixed for key in converted.keys)
    original = {
        (prom.series[key][0], frozenset(prom.series[key][1])): value
        for key, value in zip(prom.keys, prom.values, strict=True)
    }
    for sample in converted.histograms:
        name, labels = converted.series[sample.key]
        assert sample.histogram.count == original[(name + "_count", frozenset(labels))]
        assert sample.histogram.sum == original[(name + "_sum", frozenset(labels))]


# --- hostile input -----------------------------------------------------------------------------

side = st.tuples(
    st.lists(st.tuples(st.integers(-(2**31), 2**31 - 1), st.integers(0, 2**32 - 1)), max_size=4),
    st.lists(st.integers(-(2**63), 2**63 - 1), max_size=6),
)


@settings(max_examples=300, deadline=None)
@given(st.integers(-60, 60), side, side, st.integers(-60, 60), st.integers(-2, 20), st.floats())
def test_hostile_histograms(schema: int, positive, negative, target: int, limit: int, factor: float) -> None:
    """Any shape: a result or HistogramError (ValueError for a NaN factor), never anything else."""
    h = integer(schema, positive[0], positive[1], negative[0], negative[1])
    for call in (
        lambda: reduce_resolution(h, target),
        lambda: apply_bucket_limit(h, limit),
        lambda: apply_min_bucket_factor(h, factor),
        lambda: compact(h, limit),
    ):
        try:
            assert isinstance(call(), NativeHistogram)
        except HistogramError:
            pass
        except ValueError:
            assert math.isnan(factor)


values = st.one_of(st.floats(), st.integers(-5, 50).map(float))
classic_line = st.tuples(
    st.sampled_from(["h_bucket", "h_count", "h_sum", "h", "g_bucket"]),
    st.sampled_from(["", 'a="1",', 'a="",']),
    st.sampled_from(['le="1"', 'le="+Inf"', 'le="-Inf"', 'le="NaN"', 'le="x"', 'le="0x1p-2"', 'le="2"', ""]),
    values,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(classic_line, max_size=12), st.booleans(), st.booleans())
def test_hostile_classic_histograms(series, keep: bool, protobuf: bool) -> None:
    body = "# TYPE h histogram\n# TYPE g histogram\n" + "".join(
        f"{name}{{{labels}{le}}} {format_go(value)}\n" for name, labels, le, value in series
    )
    source = parse_text(body.encode())
    assert source.error is None or isinstance(source.error, ParseError)
    got = convert_classic_to_nhcb(source, keep_classic=keep, protobuf=protobuf)
    assert len(got.keys) == len(got.values) == len(got.timestamps)
    for key in got.keys:
        got.series[key]
    for sample in got.histograms:
        name, _ = got.series[sample.key]
        assert name in ("h", "g")
        h = sample.histogram
        assert h.schema == -53 and sum(n for _, n in h.positive_spans) == len(h.positive_buckets)


# --- validate ----------------------------------------------------------------------------------


def go_histogram(
    schema: int = 0,
    count: int = 0,
    zero_count: int = 0,
    zero_threshold: float = 0.0,
    sum_: float = 0.0,
    spans=(),
    buckets=(),
    nspans=(),
    nbuckets=(),
    custom=(),
) -> NativeHistogram:
    """A histogram.Histogram literal: Go's zero values for every field left out."""
    return NativeHistogram(
        schema=schema,
        zero_threshold=zero_threshold,
        count=count,
        sum=sum_,
        zero_count=zero_count,
        positive_spans=tuple(spans),
        positive_buckets=tuple(buckets),
        negative_spans=tuple(nspans),
        negative_buckets=tuple(nbuckets),
        custom_values=tuple(custom),
    )


def go_float_histogram(
    schema: int = 0,
    count: float = 0.0,
    zero_count: float = 0.0,
    zero_threshold: float = 0.0,
    sum_: float = 0.0,
    spans=(),
    buckets=(),
    nspans=(),
    nbuckets=(),
    custom=(),
) -> NativeHistogram:
    """A histogram.FloatHistogram literal (absolute counts)."""
    return NativeHistogram(
        schema=schema,
        zero_threshold=zero_threshold,
        count=count,
        sum=sum_,
        zero_count=zero_count,
        positive_spans=tuple(spans),
        positive_buckets=tuple(buckets),
        negative_spans=tuple(nspans),
        negative_buckets=tuple(nbuckets),
        is_float=True,
        custom_values=tuple(custom),
    )


def go_to_float(h: NativeHistogram) -> NativeHistogram:
    """Histogram.ToFloat, as TestHistogramValidation uses it: absolute counts; custom buckets lose the
    zero bucket and the negative side, exponential ones their custom values."""
    custom = h.schema == -53

    def absolute(deltas):
        out, current = [], 0
        for delta in deltas:
            current += delta
            out.append(float(current))
        return tuple(out)

    return NativeHistogram(
        schema=h.schema,
        zero_threshold=0.0 if custom else h.zero_threshold,
        count=float(h.count),
        sum=h.sum,
        zero_count=0.0 if custom else float(h.zero_count),
        positive_spans=h.positive_spans,
        positive_buckets=absolute(h.positive_buckets),
        negative_spans=() if custom else h.negative_spans,
        negative_buckets=() if custom else absolute(h.negative_buckets),
        is_float=True,
        custom_values=h.custom_values if custom else (),
    )


MISMATCH = "histogram spans specify different number of buckets than provided"
NEGATIVE_OFFSET = "histogram has a span whose offset is negative"
NEGATIVE_BUCKET = "histogram has a bucket whose observation count is negative"
COUNT_MISMATCH = (
    "histogram's observation count should equal the number of observations found in the buckets "
    "(in absence of NaN)"
)
NOT_BIG_ENOUGH = (
    "histogram's observation count should be at least the number of observations found in the buckets"
)
TOO_FEW = "histogram custom bounds are too few"
ORDER = "histogram custom bounds must be in strictly increasing order"
EXPLICIT_INF = (
    "custom buckets: last +Inf bound must not be explicitly defined: histogram custom bounds must be finite"
)
INVALID_SCHEMA = (
    "histogram has an invalid schema, which must be between -4 and 8 for exponential buckets, "
    "or -53 for custom buckets, got schema "
)
TWO_SPANS = ((0, 2), (1, 2))

# Prometheus TestHistogramValidation (model/histogram/histogram_test.go), every case: name ->
# (histogram, error text or None, skip_float). Cases without skip_float also run through ToFloat
# and FloatHistogram.Validate with the same expectation, as the Go test does.
GO_VALIDATION = {
    "valid histogram": (
        go_histogram(1, 12, 2, 0.001, 19.4, TWO_SPANS, (1, 1, -1, 0), TWO_SPANS, (1, 1, -1, 0)),
        None,
        False,
    ),
    "valid histogram with NaN observations that has its Count (4) higher than the actual total of "
    "buckets (2 + 1)": (go_histogram(0, 4, 2, 0.0, math.nan, ((0, 1),), (1,)), None, False),
    "rejects histogram without NaN observations that has its Count (4) higher than the actual total of "
    "buckets (2 + 1)": (
        go_histogram(0, 4, 2, 0.0, 333.0, ((0, 1),), (1,)),
        f"3 observations found in buckets, but the Count field is 4: {COUNT_MISMATCH}",
        True,
    ),
    "rejects histogram that has too few negative buckets": (
        go_histogram(nspans=((0, 1),), nbuckets=()),
        f"negative side: spans need 1 buckets, have 0 buckets: {MISMATCH}",
        False,
    ),
    "rejects histogram that has too few positive buckets": (
        go_histogram(spans=((0, 1),), buckets=()),
        f"positive side: spans need 1 buckets, have 0 buckets: {MISMATCH}",
        False,
    ),
    "rejects histogram that has too many negative buckets": (
        go_histogram(nspans=((0, 1),), nbuckets=(1, 2)),
        f"negative side: spans need 1 buckets, have 2 buckets: {MISMATCH}",
        False,
    ),
    "rejects histogram that has too many positive buckets": (
        go_histogram(spans=((0, 1),), buckets=(1, 2)),
        f"positive side: spans need 1 buckets, have 2 buckets: {MISMATCH}",
        False,
    ),
    "rejects a histogram that has a negative span with a negative offset": (
        go_histogram(nspans=((-1, 1), (-1, 1)), nbuckets=(1, 2)),
        f"negative side: span number 2 with offset -1: {NEGATIVE_OFFSET}",
        False,
    ),
    "rejects a histogram which has a positive span with a negative offset": (
        go_histogram(spans=((-1, 1), (-1, 1)), buckets=(1, 2)),
        f"positive side: span number 2 with offset -1: {NEGATIVE_OFFSET}",
        False,
    ),
    "rejects a histogram that has a negative bucket with a negative count": (
        go_histogram(nspans=((-1, 1),), nbuckets=(-1,)),
        f"negative side: bucket number 1 has observation count of -1: {NEGATIVE_BUCKET}",
        False,
    ),
    "rejects a histogram that has a positive bucket with a negative count": (
        go_histogram(spans=((-1, 1),), buckets=(-1,)),
        f"positive side: bucket number 1 has observation count of -1: {NEGATIVE_BUCKET}",
        False,
    ),
    "rejects a histogram that has a lower count than count in buckets": (
        go_histogram(0, 0, spans=((-1, 1),), buckets=(1,), nspans=((-1, 1),), nbuckets=(1,)),
        f"2 observations found in buckets, but the Count field is 0: {COUNT_MISMATCH}",
        True,
    ),
    "rejects a histogram that doesn't count the zero bucket in its count": (
        go_histogram(0, 2, 1, spans=((-1, 1),), buckets=(1,), nspans=((-1, 1),), nbuckets=(1,)),
        f"3 observations found in buckets, but the Count field is 2: {COUNT_MISMATCH}",
        True,
    ),
    "rejects an exponential histogram with custom buckets schema": (
        go_histogram(-53, 12, 2, 0.001, 19.4, TWO_SPANS, (1, 1, -1, 0), TWO_SPANS, (1, 1, -1, 0)),
        f"custom buckets: only 0 custom bounds defined which is insufficient to cover total span length "
        f"of 5: {TOO_FEW}",
        False,
    ),
    "rejects a custom buckets histogram with exponential schema": (
        go_histogram(0, 5, 0, 0.0, 19.4, TWO_SPANS, (1, 1, -1, 0), custom=(1.0, 2.0, 3.0, 4.0)),
        "histogram with exponential schema must not have custom bounds",
        True,
    ),
    "rejects a custom buckets histogram with zero/negative buckets": (
        go_histogram(
            -53, 12, 2, 0.001, 19.4, TWO_SPANS, (1, 1, -1, 0), TWO_SPANS, (1, 1, -1, 0), (1.0, 2.0, 3.0, 4.0)
        ),
        "custom buckets: must have zero count of 0",
        True,
    ),
    "rejects a custom buckets histogram with negative offset in first span": (
        go_histogram(-53, 5, 0, 0.0, 19.4, ((-1, 2), (1, 2)), (1, 1, -1, 0), custom=(1.0, 2.0, 3.0, 4.0)),
        f"custom buckets: span number 1 with offset -1: {NEGATIVE_OFFSET}",
        False,
    ),
    "rejects a custom buckets histogram with negative offset in subsequent spans": (
        go_histogram(-53, 5, 0, 0.0, 19.4, ((0, 2), (-1, 2)), (1, 1, -1, 0), custom=(1.0, 2.0, 3.0, 4.0)),
        f"custom buckets: span number 2 with offset -1: {NEGATIVE_OFFSET}",
        False,
    ),
    "rejects a custom buckets histogram with non-matching bucket counts": (
        go_histogram(-53, 5, 0, 0.0, 19.4, TWO_SPANS, (1, 1, -1), custom=(1.0, 2.0, 3.0, 4.0)),
        f"custom buckets: spans need 4 buckets, have 3 buckets: {MISMATCH}",
        False,
    ),
    "rejects a custom buckets histogram with too few bounds": (
        go_histogram(-53, 5, 0, 0.0, 19.4, TWO_SPANS, (1, 1, -1, 0), custom=(1.0, 2.0, 3.0)),
        f"custom buckets: only 3 custom bounds defined which is insufficient to cover total span length "
        f"of 5: {TOO_FEW}",
        False,
    ),
    "valid custom buckets histogram": (
        go_histogram(-53, 5, 0, 0.0, 19.4, TWO_SPANS, (1, 1, -1, 0), custom=(1.0, 2.0, 3.0, 4.0)),
        None,
        False,
    ),
    "valid custom buckets histogram with extra bounds": (
        go_histogram(-53, 5, 0, 0.0, 19.4, TWO_SPANS, (1, 1, -1, 0), custom=tuple(map(float, range(1, 9)))),
        None,
        False,
    ),
    "reject custom buckets histogram with non-increasing bound": (
        go_histogram(-53, custom=(0.0, 0.0)),
        f"custom buckets: previous bound is 0.000000 and current is 0.000000: {ORDER}",
        False,
    ),
    "reject custom buckets histogram with explicit +Inf bound": (
        go_histogram(-53, custom=(1.0, math.inf)),
        EXPLICIT_INF,
        False,
    ),
    "valid custom buckets histogram with explicit -Inf bound": (
        go_histogram(-53, custom=(-math.inf, 1.0)),
        None,
        False,
    ),
    "reject custom buckets histogram with NaN bound": (
        go_histogram(-53, custom=(1.0, math.nan, 3.0)),
        "custom buckets: histogram custom bounds must not be NaN",
        False,
    ),
    "schema too high": (go_histogram(10), INVALID_SCHEMA + "10", False),
    "schema too low": (go_histogram(-10), INVALID_SCHEMA + "-10", False),
}


def outcome(h: NativeHistogram) -> str | None:
    """validate's answer: None, or the error text."""
    try:
        validate(h)
    except HistogramError as exc:
        return str(exc)
    return None


@pytest.mark.parametrize("name", list(GO_VALIDATION))
def test_validate_prometheus_table(name: str) -> None:
    h, message, skip_float = GO_VALIDATION[name]
    assert outcome(h) == message
    if not skip_float:
        assert outcome(go_to_float(h)) == message


# Beyond Prometheus's table, derived from Validate's code (histogram.go, float_histogram.go,
# generic.go) step by step; Go's %v of a float64 is strconv's shortest 'g' (-1e+06, -1e-07), %f
# has six decimals and prints infinities as +Inf/-Inf, sums of counts wrap as Go's int64/uint64.
MORE_VALIDATION = {
    # Order: positive spans before negative spans, negative buckets before positive buckets.
    "both sides' spans wrong: positive first": (
        go_histogram(spans=((0, 1),), nspans=((0, 1),)),
        f"positive side: spans need 1 buckets, have 0 buckets: {MISMATCH}",
    ),
    "both sides' buckets negative: negative first": (
        go_histogram(spans=((0, 1),), buckets=(-2,), nspans=((0, 1),), nbuckets=(-3,)),
        f"negative side: bucket number 1 has observation count of -3: {NEGATIVE_BUCKET}",
    ),
    "a negative offset of the first span is fine": (go_histogram(0, 1, spans=((-5, 1),), buckets=(1,)), None),
    "a negative absolute count from deltas": (
        go_histogram(0, 1, spans=((0, 3),), buckets=(2, -1, -2)),
        f"positive side: bucket number 3 has observation count of -1: {NEGATIVE_BUCKET}",
    ),
    "span lengths of zero count for nothing": (
        go_histogram(0, 3, spans=((0, 0), (2, 1), (0, 0)), buckets=(3,)),
        None,
    ),
    "schemas -4 and 8 are exponential": (go_histogram(-4, 1, spans=((0, 1),), buckets=(1,)), None),
    "schema 8": (go_histogram(8, 1, spans=((0, 1),), buckets=(1,)), None),
    "schema 9 (reserved) is invalid": (go_histogram(9), INVALID_SCHEMA + "9"),
    "schema 52 (reserved) is invalid": (go_histogram(52), INVALID_SCHEMA + "52"),
    "schema -5 is invalid": (go_histogram(-5), INVALID_SCHEMA + "-5"),
    "schema -9 (reserved) is invalid": (go_histogram(-9), INVALID_SCHEMA + "-9"),
    "schema -52": (go_histogram(-52), INVALID_SCHEMA + "-52"),
    # The count: exact without NaN, a lower bound with a NaN sum.
    "NaN sum, count below the buckets": (
        go_histogram(0, 2, 2, 0.0, math.nan, ((0, 1),), (1,)),
        f"3 observations found in buckets, but the Count field is 2: {NOT_BIG_ENOUGH}",
    ),
    "NaN sum, count equal to the buckets": (go_histogram(0, 3, 2, 0.0, math.nan, ((0, 1),), (1,)), None),
    "an infinite sum is no NaN": (
        go_histogram(0, 4, 2, 0.0, math.inf, ((0, 1),), (1,)),
        f"3 observations found in buckets, but the Count field is 4: {COUNT_MISMATCH}",
    ),
    "empty histogram": (go_histogram(), None),
    # Go's integer arithmetic: an absolute count past int64 wraps negative, the total wraps at 2^64.
    "int64 overflow of a running count": (
        go_histogram(0, 0, spans=((0, 2),), buckets=(2**62, 2**62)),
        f"positive side: bucket number 2 has observation count of -9223372036854775808: {NEGATIVE_BUCKET}",
    ),
    "uint64 total wraps to the count": (
        go_histogram(0, 0, 2, spans=((0, 2),), buckets=(2**63 - 1, 0)),
        None,
    ),
    "uint64 count at its maximum": (
        go_histogram(0, 2**64 - 1, 2**63, spans=((0, 1),), buckets=(2**63 - 1,)),
        None,
    ),
    "uint64 totals in the message": (
        go_histogram(0, 5, 2**63, spans=((0, 1),), buckets=(2**63 - 1,)),
        f"18446744073709551615 observations found in buckets, but the Count field is 5: {COUNT_MISMATCH}",
    ),
    # Custom buckets: bounds first (NaN per bound before its order), then spans, then the rest.
    "bounds out of order before a later NaN": (
        go_histogram(-53, custom=(2.0, 1.0, math.nan)),
        f"custom buckets: previous bound is 2.000000 and current is 1.000000: {ORDER}",
    ),
    "NaN first bound": (
        go_histogram(-53, custom=(math.nan, 1.0)),
        "custom buckets: histogram custom bounds must not be NaN",
    ),
    "two -Inf bounds": (
        go_histogram(-53, custom=(-math.inf, -math.inf)),
        f"custom buckets: previous bound is -Inf and current is -Inf: {ORDER}",
    ),
    "+Inf before 1": (
        go_histogram(-53, custom=(math.inf, 1.0)),
        f"custom buckets: previous bound is +Inf and current is 1.000000: {ORDER}",
    ),
    "%f of a large bound": (
        go_histogram(-53, custom=(1e20, 5.0)),
        f"custom buckets: previous bound is 100000000000000000000.000000 and current is 5.000000: {ORDER}",
    ),
    "%f of a negative zero": (
        go_histogram(-53, custom=(0.1, -0.0)),
        f"custom buckets: previous bound is 0.100000 and current is -0.000000: {ORDER}",
    ),
    "0 after -0 is not increasing": (
        go_histogram(-53, custom=(-0.0, 0.0)),
        f"custom buckets: previous bound is -0.000000 and current is 0.000000: {ORDER}",
    ),
    "a single +Inf bound": (
        go_histogram(-53, custom=(math.inf,)),
        EXPLICIT_INF,
    ),
    "spans reaching one past the last bound (the +Inf bucket)": (
        go_histogram(-53, 2, spans=((0, 2),), buckets=(1, 0), custom=(1.0,)),
        None,
    ),
    "spans reaching two past the last bound": (
        go_histogram(-53, 2, spans=((1, 2),), buckets=(1, 0), custom=(1.0,)),
        f"custom buckets: only 1 custom bounds defined which is insufficient to cover total span length "
        f"of 3: {TOO_FEW}",
    ),
    "custom zero threshold": (
        go_histogram(-53, zero_threshold=0.5, custom=(1.0,)),
        "custom buckets: must have zero threshold of 0",
    ),
    "custom NaN zero threshold": (
        go_histogram(-53, zero_threshold=math.nan, custom=(1.0,)),
        "custom buckets: must have zero threshold of 0",
    ),
    "custom zero count before zero threshold": (
        go_histogram(-53, zero_count=1, zero_threshold=0.5, custom=(1.0,)),
        "custom buckets: must have zero count of 0",
    ),
    "custom negative spans": (
        go_histogram(-53, nspans=((0, 1),), nbuckets=(1,), custom=(1.0,)),
        "custom buckets: must not have negative spans",
    ),
    "custom negative buckets without spans": (
        go_histogram(-53, nbuckets=(1,), custom=(1.0,)),
        "custom buckets: must not have negative buckets",
    ),
    "custom count checked too": (
        go_histogram(-53, 2, spans=((0, 1),), buckets=(3,), custom=(1.0,)),
        f"3 observations found in buckets, but the Count field is 2: {COUNT_MISMATCH}",
    ),
    "custom negative bucket": (
        go_histogram(-53, 0, spans=((0, 2),), buckets=(1, -2), custom=(1.0,)),
        f"positive side: bucket number 2 has observation count of -1: {NEGATIVE_BUCKET}",
    ),
    # FloatHistogram.Validate: no count comparison; count, zero count and buckets at least 0.
    "float count is not compared with the buckets": (
        go_float_histogram(0, 1000.0, spans=((0, 1),), buckets=(1.0,)),
        None,
    ),
    "float negative count (Go's double space)": (
        go_float_histogram(0, -1.0),
        "observation count is  -1: histogram's observation count is negative",
    ),
    "float negative zero count": (
        go_float_histogram(0, 1.0, -2.5),
        f"zero bucket has observation count of -2.5: {NEGATIVE_BUCKET}",
    ),
    "float negative buckets before the zero count": (
        go_float_histogram(0, 1.0, -1.0, nspans=((0, 1),), nbuckets=(-0.5,)),
        f"negative side: bucket number 1 has observation count of -0.5: {NEGATIVE_BUCKET}",
    ),
    "float zero count before custom bounds": (
        go_float_histogram(0, 1.0, -1.0, custom=(1.0,)),
        f"zero bucket has observation count of -1: {NEGATIVE_BUCKET}",
    ),
    "float exponential with custom bounds": (
        go_float_histogram(0, 1.0, custom=(1.0,)),
        "histogram with exponential schema must not have custom bounds",
    ),
    "float count before positive buckets": (
        go_float_histogram(0, -1e-07, spans=((0, 1),), buckets=(-1.0,)),
        "observation count is  -1e-07: histogram's observation count is negative",
    ),
    "float %v of a large count": (
        go_float_histogram(0, 1.0, spans=((0, 1),), buckets=(-1e6,)),
        f"positive side: bucket number 1 has observation count of -1e+06: {NEGATIVE_BUCKET}",
    ),
    "float -Inf bucket": (
        go_float_histogram(0, 1.0, spans=((0, 2),), buckets=(1.0, -math.inf)),
        f"positive side: bucket number 2 has observation count of -Inf: {NEGATIVE_BUCKET}",
    ),
    "float NaN count, zero count and buckets pass": (
        go_float_histogram(0, math.nan, math.nan, spans=((0, 1),), buckets=(math.nan,)),
        None,
    ),
    "float negative zero passes": (go_float_histogram(0, -0.0, -0.0, spans=((0, 1),), buckets=(-0.0,)), None),
    "float schema 9": (go_float_histogram(9), INVALID_SCHEMA + "9"),
    "float custom NaN zero count": (
        go_float_histogram(-53, zero_count=math.nan, custom=(1.0,)),
        "custom buckets: must have zero count of 0",
    ),
    "float custom negative count after the custom checks": (
        go_float_histogram(-53, -3.0, spans=((0, 1),), buckets=(1.0,), custom=(1.0,)),
        "observation count is  -3: histogram's observation count is negative",
    ),
    "float custom spans before the count": (
        go_float_histogram(-53, -3.0, spans=((0, 1),), custom=(1.0,)),
        f"custom buckets: spans need 1 buckets, have 0 buckets: {MISMATCH}",
    ),
}


@pytest.mark.parametrize("name", list(MORE_VALIDATION))
def test_validate(name: str) -> None:
    h, message = MORE_VALIDATION[name]
    assert outcome(h) == message


@st.composite
def valid_integer(draw) -> NativeHistogram:
    """A histogram Validate accepts: spans covering the buckets (only the first offset negative),
    absolute counts >= 0 as deltas, the count their total plus the zero count."""

    def side():
        spans = draw(
            st.lists(st.tuples(st.integers(0, 5), st.integers(0, 4)), max_size=4).map(
                lambda spans: [
                    (draw(st.integers(-200, 200)) if i == 0 else o, n) for i, (o, n) in enumerate(spans)
                ]
            )
        )
        counts = draw(
            st.lists(
                st.integers(0, 10**6), min_size=sum(n for _, n in spans), max_size=sum(n for _, n in spans)
            )
        )
        deltas = [b - a for a, b in zip([0, *counts], counts, strict=False)]
        return tuple(spans), tuple(deltas), sum(counts)

    pspans, pdeltas, ptotal = side()
    nspans, ndeltas, ntotal = side()
    zero = draw(st.integers(0, 1000))
    nan_sum = draw(st.booleans())
    return go_histogram(
        draw(st.integers(-4, 8)),
        ptotal + ntotal + zero + (draw(st.integers(0, 5)) if nan_sum else 0),
        zero,
        draw(st.floats(0, 1, allow_nan=False)),
        math.nan if nan_sum else draw(st.floats(allow_nan=False)),
        pspans,
        pdeltas,
        nspans,
        ndeltas,
    )


@settings(max_examples=300, deadline=None)
@given(valid_integer(), st.integers(0, 3), st.data())
def test_valid_histograms_stay_valid(h: NativeHistogram, max_empty: int, data) -> None:
    """What Prometheus relies on: a valid histogram stays valid as float (ToFloat), compacted, and
    reduced to any lower schema (the bucket limit and min bucket factor appenders)."""
    validate(h)
    validate(go_to_float(h))
    validate(compact(h, max_empty))
    if h.schema > -4:
        target = data.draw(st.integers(-4, h.schema - 1))
        validate(reduce_resolution(h, target))
        validate(reduce_resolution(go_to_float(h), target))


def observations(h: NativeHistogram) -> int:
    """The buckets' total plus the zero count of an integer histogram (absolute counts from deltas)."""
    return (
        sum(itertools.accumulate(h.positive_buckets))
        + sum(itertools.accumulate(h.negative_buckets))
        + h.zero_count
    )


@settings(max_examples=300, deadline=None)
@given(valid_integer(), st.sampled_from(["count", "bucket", "span", "custom", "schema"]), st.data())
def test_broken_histograms_are_refused(h: NativeHistogram, damage: str, data) -> None:
    """One thing broken in a valid histogram: refused, with the matching Prometheus error."""
    found = observations(h)
    if damage == "count":
        if h.sum == h.sum:
            count = found + data.draw(st.sampled_from([-1, 1, 7])) if found else found + 1
            assert outcome(replace(h, count=count)) == (
                f"{found} observations found in buckets, but the Count field is {count}: {COUNT_MISMATCH}"
            )
        elif found:
            assert outcome(replace(h, count=found - 1)) == (
                f"{found} observations found in buckets, but the Count field is {found - 1}: {NOT_BIG_ENOUGH}"
            )
    elif damage == "bucket":
        broken = replace(
            h, positive_spans=(*h.positive_spans, (0, 1)), positive_buckets=(*h.positive_buckets, -(10**7))
        )
        assert outcome(broken).endswith(NEGATIVE_BUCKET)
    elif damage == "span":
        assert outcome(replace(h, negative_spans=(*h.negative_spans, (0, 1)))).endswith(MISMATCH)
    elif damage == "custom":
        assert (
            outcome(replace(h, custom_values=(1.0,)))
            == "histogram with exponential schema must not have custom bounds"
        )
    else:
        schema = data.draw(st.one_of(st.integers(9, 60), st.integers(-60, -5)).filter(lambda s: s != -53))
        assert outcome(replace(h, schema=schema)) == INVALID_SCHEMA + str(schema)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(-60, 60),
    side,
    side,
    st.one_of(st.integers(-(2**64), 2**64), st.floats()),
    st.one_of(st.integers(-(2**64), 2**64), st.floats()),
    st.floats(),
    st.lists(st.floats(), max_size=4),
    st.booleans(),
)
def test_hostile_validate(schema, positive, negative, count, zero_count, sum_, custom, floats) -> None:
    """Any shape and any counts: None or HistogramError, nothing else."""
    h = integer(schema, positive[0], positive[1], negative[0], negative[1], custom_values=tuple(custom))
    if floats:
        h = replace(
            to_float(h),
            count=float(count),
            zero_count=float(zero_count),
            sum=sum_,
        )
    elif isinstance(count, int) and isinstance(zero_count, int):
        h = replace(h, count=count, zero_count=zero_count, sum=sum_)
    assert outcome(h) is None or isinstance(outcome(h), str)


@settings(max_examples=200, deadline=None)
@given(st.lists(classic_line, max_size=12), st.booleans())
def test_nhcb_conversions_validate(series, keep: bool) -> None:
    """Whatever the conversion emits validates: Prometheus's NHCBParser drops a conversion that
    Validate refuses instead of emitting it."""
    body = "# TYPE h histogram\n" + "".join(
        f"{name}{{{labels}{le}}} {format_go(value)}\n" for name, labels, le, value in series
    )
    for sample in convert_classic_to_nhcb(parse_text(body.encode()), keep_classic=keep).histograms:
        validate(sample.histogram)
