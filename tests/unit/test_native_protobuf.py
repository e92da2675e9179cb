"""The C readers of the protobuf parser's common shapes (native/native.c `pb_*`) against Python.

exposition/protobuf.py without them (`_NATIVE = None`) and its table-driven decoder are the
reference: every body here parses to the same columns, series, metadata and error with the C
readers on. The readers take exactly the metrics of the common shape, hand back the others (which
Python then reads and words the errors of), check every length and range, and never crash on
hostile bodies or arguments.
"""

import math
import struct
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from promscrape import native
from promscrape.exposition import protobuf
from promscrape.exposition.model import Exposition
from protowire import (
    COUNTER,
    GAUGE,
    GAUGE_HISTOGRAM,
    HISTOGRAM,
    UNTYPED,
    delimited,
    double,
    family,
    field,
    label,
)
from test_protobuf_parser import FAMILY2, FAMILY3, bits, changed, comparable, forget, generic_parse

C = protobuf._NATIVE


def test_the_readers_are_built() -> None:
    """`make venv` (pip install -e) builds them with the rest of promscrape._native."""
    assert native.ACCELERATOR is not None, "promscrape._native is missing: run `make venv`"
    assert C is native.ACCELERATOR, "promscrape._native predates the pb_* readers: rebuild it"


# ---- Metric fields (on tests/protowire.py) -------------------------------------------------------


def value(number: int, value: float) -> bytes:
    """A gauge (2), counter (3) or untyped (5) message holding `value`."""
    return field(number, 2, double(1, value))


def timestamp(ms: int) -> bytes:
    return field(6, 0, ms)


def bucket(count: int, bound: float, *extra: bytes) -> bytes:
    return field(3, 2, field(1, 0, count) + double(2, bound) + b"".join(extra))


def histogram(*fields: bytes) -> bytes:
    return field(7, 2, b"".join(fields))


def parse(data: bytes, readers: Any, native_histograms: bool = False, classic: bool = False) -> Exposition:
    """A parse with the C readers (`C`) or without (None), memos emptied first."""
    forget()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(protobuf, "_NATIVE", readers)
        return protobuf.parse_protobuf(data, native_histograms=native_histograms, classic_histograms=classic)


def assert_same(data: bytes) -> Exposition:
    """C readers and Python paths agree under every option; with both on, the generic decoder too."""
    for native_histograms in (False, True):
        for classic in (False, True):
            ours = parse(data, C, native_histograms, classic)
            assert comparable(ours) == comparable(parse(data, None, native_histograms, classic))
    assert comparable(ours) == comparable(generic_parse(data))
    return parse(data, C)


# ---- which metrics the readers take ---------------------------------------------------------------

CANONICAL = label(b"a", b"1") + label(b"b", b"x") + value(3, 1.5)
VALUE_CASES = [
    ("canonical", [CANONICAL], 1),
    ("no labels", [value(3, 2.0)], 1),
    ("no fields at all", [b""], 1),
    ("timestamp before and after the value", [label(b"a", b"1") + timestamp(5) + value(3, 1.0)], 1),
    ("negative timestamp", [label(b"a", b"1") + value(3, 1.0) + timestamp(-7)], 1),
    ("timestamp 0 is none", [label(b"a", b"1") + value(3, 1.0) + timestamp(0)], 1),
    ("empty value message", [label(b"a", b"1") + field(3, 2, b"")], 1),
    ("value messages merged", [label(b"a", b"1") + value(3, 1.0) + field(3, 2, b"") + value(3, 4.0)], 1),
    ("another type's value ignored", [label(b"a", b"1") + value(2, 9.0) + value(5, 8.0)], 1),
    ("two doubles in one message", [label(b"a", b"1") + field(3, 2, double(1, 1.0) + double(1, 2.0))], 1),
    (
        "stale marker NaN",
        [label(b"a", b"1") + field(3, 2, b"\x09" + struct.pack("<Q", 0x7FF0000000000002))],
        1,
    ),
    ("quoted and escaped", [label(b"a.b", b'q"\\\n') + label("é".encode(), "ü".encode()) + value(3, 1.0)], 1),
    ("label over 127 bytes", [label(b"a", b"v" * 300) + value(3, 1.0)], 1),
    ("64 labels", [b"".join(label(b"l%d" % n, b"v") for n in range(64)) + value(3, 1.0)], 1),
    ("65 labels", [b"".join(label(b"l%d" % n, b"v") for n in range(65)) + value(3, 1.0)], 0),
    ("__name__ label", [label(b"__name__", b"x") + value(3, 1.0)], 1),
    ("repeated label name", [label(b"a", b"1") + label(b"a", b"2") + value(3, 1.0)], 1),
    ("empty label value", [label(b"a", b"") + value(3, 1.0)], 0),
    ("label value missing", [field(1, 2, field(1, 2, b"a")) + value(3, 1.0)], 0),
    ("empty label name", [label(b"", b"1") + value(3, 1.0)], 0),
    ("label name not UTF-8", [label(b"\xff", b"1") + value(3, 1.0)], 0),
    ("label value not UTF-8", [label(b"a", b"\xed\xa0\x80") + value(3, 1.0)], 0),
    ("label value then name", [field(1, 2, field(2, 2, b"1") + field(1, 2, b"a")) + value(3, 1.0)], 0),
    (
        "label pair with an unknown field",
        [field(1, 2, field(1, 2, b"a") + field(2, 2, b"1") + field(3, 0, 1))],
        0,
    ),
    ("label after the value", [value(3, 1.0) + label(b"a", b"1")], 0),
    ("counter exemplar", [label(b"a", b"1") + field(3, 2, double(1, 1.0) + field(2, 2, double(2, 1.0)))], 0),
    ("created timestamp", [label(b"a", b"1") + field(3, 2, double(1, 1.0) + field(3, 2, field(1, 0, 5)))], 0),
    ("value as fixed32", [label(b"a", b"1") + field(3, 2, b"\x0d\x00\x00\x80\x3f")], 0),
    ("double cut short", [label(b"a", b"1") + field(3, 2, b"\x09\x00\x00")], 0),
    ("timestamp varint of 11 bytes", [label(b"a", b"1") + b"\x30" + b"\xff" * 10 + b"\x01"], 0),
    ("timestamp cut short", [label(b"a", b"1") + b"\x30\xff"], 0),
    ("value length past the end", [label(b"a", b"1") + b"\x1a\x09\x09\x00"], 0),
    ("label length past the end", [b"\x0a\x7f\x0a\x01a"], 0),
    ("unknown field", [label(b"a", b"1") + value(3, 1.0) + field(99, 0, 1)], 0),
    ("summary field", [label(b"a", b"1") + field(4, 2, field(1, 0, 1))], 0),
    ("second of three handed back", [CANONICAL, label(b"a", b"") + value(3, 1.0), CANONICAL], 1),
]


def ranges_of(metrics: list[bytes]) -> tuple[bytes, list[tuple[int, int]]]:
    data = b"".join(metrics)
    ranges = []
    start = 0
    for metric in metrics:
        ranges.append((start, start + len(metric)))
        start += len(metric)
    return data, ranges


def columns() -> tuple[list[str], list[float], list[int | None], dict[str, Any]]:
    return [], [], [], {}


@pytest.mark.parametrize(
    ("metrics", "taken"), [case[1:] for case in VALUE_CASES], ids=[case[0] for case in VALUE_CASES]
)
def test_value_readers_take_the_common_shape(metrics: list[bytes], taken: int) -> None:
    data, ranges = ranges_of(metrics)
    keys, values, timestamps, series = columns()
    got = C.pb_values(data, ranges, 0, protobuf._Name("c").parts, 0x1A, keys, values, timestamps, series)
    assert got == taken
    assert len(keys) == len(values) == len(timestamps) == taken
    assert_same(family(b"c_total", COUNTER, *metrics))


def test_value_readers_start_at_the_index() -> None:
    data, ranges = ranges_of([label(b"a", b"") + value(3, 1.0), CANONICAL, CANONICAL])
    keys, values, timestamps, series = columns()
    assert (
        C.pb_values(data, ranges, 1, protobuf._Name("c").parts, 0x1A, keys, values, timestamps, series) == 3
    )
    assert (
        C.pb_values(data, ranges, 3, protobuf._Name("c").parts, 0x1A, keys, values, timestamps, series) == 3
    )
    assert keys == ['c{a="1",b="x"}'] * 2
    assert series == {'c{a="1",b="x"}': ("c", (("a", "1"), ("b", "x")))}


SAMPLE_CASES = [
    (
        "legacy",
        family(b"c_total", COUNTER, label(b"a", b"1") + value(3, 2.5) + timestamp(9), value(3, 1.0)),
        [('c_total{a="1"}', 2.5, 9, ("c_total", (("a", "1"),))), ("c_total", 1.0, None, ("c_total", ()))],
    ),
    (
        "quoted names, escaped values",
        family(b"g.x", GAUGE, label(b"a.b", b'q"\\\n') + label(b"c", "é".encode()) + value(2, 1.0)),
        [('{"g.x","a.b"="q\\"\\\\\\n",c="é"}', 1.0, None, ("g.x", (("a.b", 'q"\\\n'), ("c", "é"))))],
    ),
    (
        "untyped reads its own field",
        family(b"u", UNTYPED, value(5, 3.0) + value(2, 4.0), value(3, 4.0)),
        [("u", 3.0, None, ("u", ())), ("u", 0.0, None, ("u", ()))],
    ),
    (
        "non-legacy family, no labels",
        family(b"u.v", UNTYPED, value(5, 1.0)),
        [('{"u.v"}', 1.0, None, ("u.v", ()))],
    ),
]


@pytest.mark.parametrize(
    ("data", "expected"), [case[1:] for case in SAMPLE_CASES], ids=[c[0] for c in SAMPLE_CASES]
)
def test_samples_and_series(data: bytes, expected: list[tuple[str, float, int | None, Any]]) -> None:
    result = assert_same(data)
    assert [
        (key, value, ts, result.series[key])
        for key, value, ts in zip(result.keys, result.values, result.timestamps, strict=True)
    ] == expected


LABELS = label(b"a", b"1")
CLASSIC = LABELS + histogram(
    field(1, 0, 5), double(2, 2.5), bucket(1, 0.5), bucket(3, 1.0), bucket(5, math.inf)
)
CLASSIC_CASES = [
    ("canonical", [CLASSIC], 1),
    ("no +Inf bucket", [LABELS + histogram(field(1, 0, 5), bucket(1, 0.5))], 1),
    ("buckets after +Inf", [LABELS + histogram(bucket(1, math.inf), bucket(2, 9.0))], 1),
    ("float counts", [LABELS + histogram(double(4, 2.5), bucket(0, 1.0, double(4, 1.5)))], 1),
    ("NaN float count", [LABELS + histogram(double(4, math.nan), field(1, 0, 3))], 1),
    ("-0 float count", [LABELS + histogram(double(4, -0.0), field(1, 0, 3))], 1),
    (
        "histograms merged",
        [LABELS + histogram(bucket(1, 0.5)) + histogram(field(1, 0, 4), bucket(2, 1.0))],
        1,
    ),
    ("no histogram field", [LABELS], 1),
    ("no labels, timestamp", [histogram(field(1, 0, 1), bucket(1, 2.0)) + timestamp(77)], 1),
    ("empty bucket", [LABELS + histogram(field(3, 2, b""))], 1),
    ("256 buckets", [LABELS + histogram(*(bucket(n, float(n)) for n in range(256)))], 1),
    ("257 buckets", [LABELS + histogram(*(bucket(n, float(n)) for n in range(257)))], 0),
    ("schema field", [LABELS + histogram(field(5, 0, 2), bucket(1, 0.5))], 0),
    (
        "span: native",
        [LABELS + histogram(field(12, 2, field(1, 0, 0) + field(2, 0, 1)), field(13, 2, b"\x02"))],
        0,
    ),
    ("bucket exemplar", [LABELS + histogram(bucket(1, 0.5, field(3, 2, double(2, 1.0))))], 0),
    ("created timestamp", [LABELS + histogram(field(15, 2, field(1, 0, 3)))], 0),
    ("bucket bound cut short", [LABELS + histogram(field(3, 2, b"\x11\x00\x00"))], 0),
    ("count varint cut short", [LABELS + histogram(b"\x08\xff")], 0),
    ("gauge field in a histogram", [LABELS + value(2, 1.0)], 0),
    ("empty label value", [label(b"a", b"") + histogram(bucket(1, 0.5))], 0),
    ("second handed back", [CLASSIC, LABELS + histogram(field(5, 0, 1)), CLASSIC], 1),
]


def classic_parts(name: str = "h") -> tuple[tuple[str, str, str], ...]:
    base = protobuf._Name(name)
    return tuple(base.suffixed(suffix).parts for suffix in ("_count", "_sum", "_bucket"))


@pytest.mark.parametrize(
    ("metrics", "taken"), [case[1:] for case in CLASSIC_CASES], ids=[case[0] for case in CLASSIC_CASES]
)
def test_classic_readers_take_the_common_shape(metrics: list[bytes], taken: int) -> None:
    data, ranges = ranges_of(metrics)
    keys, values, timestamps, series = columns()
    assert (
        C.pb_classic(data, ranges, 0, classic_parts(), keys, values, timestamps, series, protobuf._bound)
        == taken
    )
    for kind in (HISTOGRAM, GAUGE_HISTOGRAM):
        assert_same(family(b"h", kind, *metrics))


def test_classic_samples_and_series() -> None:
    more = label(b"a", b"2") + histogram(double(4, 1.5), field(1, 0, 9), bucket(1, 0.25, double(4, 0.5)))
    result = assert_same(family(b"h.x", HISTOGRAM, CLASSIC + timestamp(3), more))
    got = [
        (key, value, ts, result.series[key])
        for key, value, ts in zip(result.keys, result.values, result.timestamps, strict=True)
    ]
    one, two = (("a", "1"),), (("a", "2"),)
    assert got == [
        ('{"h.x_count",a="1"}', 5.0, 3, ("h.x_count", one)),
        ('{"h.x_sum",a="1"}', 2.5, 3, ("h.x_sum", one)),
        ('{"h.x_bucket",a="1",le="0.5"}', 1.0, 3, ("h.x_bucket", (*one, ("le", "0.5")))),
        ('{"h.x_bucket",a="1",le="1.0"}', 3.0, 3, ("h.x_bucket", (*one, ("le", "1.0")))),
        ('{"h.x_bucket",a="1",le="+Inf"}', 5.0, 3, ("h.x_bucket", (*one, ("le", "+Inf")))),
        ('{"h.x_count",a="2"}', 1.5, None, ("h.x_count", two)),
        ('{"h.x_sum",a="2"}', 0.0, None, ("h.x_sum", two)),
        ('{"h.x_bucket",a="2",le="0.25"}', 0.5, None, ("h.x_bucket", (*two, ("le", "0.25")))),
        ('{"h.x_bucket",a="2",le="+Inf"}', 1.5, None, ("h.x_bucket", (*two, ("le", "+Inf")))),
    ]


def test_native_and_classic_metrics_in_turn() -> None:
    """A metric is native when the one before it was read as native (Prometheus's rule): the
    readers take only metrics read as classic, so they wait while that holds."""
    native_metric = LABELS + histogram(
        field(1, 0, 2), field(12, 2, field(1, 0, 0) + field(2, 0, 1)), field(13, 2, b"\x04")
    )
    data = family(b"h", HISTOGRAM, CLASSIC, native_metric, CLASSIC, CLASSIC)
    assert_same(data)
    assert len(parse(data, C).histograms) == 0
    native_only = parse(data, C, native_histograms=True)
    assert len(native_only.histograms) == 2  # the 3rd and 4th: each after one read as native
    assert len(native_only.keys) == 5 + 3  # the 1st, and the 2nd read as classic (no buckets)
    both = parse(data, C, native_histograms=True, classic=True)
    assert len(both.histograms) == 1  # the 3rd also gives its classic samples: the 4th is classic
    assert len(both.keys) == 5 + 3 + 5 + 5


# ---- the run of metric fields -------------------------------------------------------------------

FIELD_CASES = [
    ("all", b"\x22\x01a\x22\x00\x22\x02bc", 0, [(2, 3), (5, 5), (7, 9)], 9),
    ("stops at another tag", b"\x22\x01a\x0a\x01n\x22\x00", 0, [(2, 3)], 3),
    ("stops at a length past the end", b"\x22\x01a\x22\x05ab", 0, [(2, 3)], 3),
    ("stops at a cut length", b"\x22\x00\x22\x80", 0, [(2, 2)], 2),
    ("two-byte length", b"\x22\x80\x01" + b"x" * 128, 0, [(3, 131)], 131),
    ("from the middle", b"\x0a\x01n\x22\x01a", 3, [(5, 6)], 6),
    ("nothing", b"\x0a\x01n", 0, [], 0),
]


@pytest.mark.parametrize(
    ("data", "start", "ranges", "after"),
    [case[1:] for case in FIELD_CASES],
    ids=[case[0] for case in FIELD_CASES],
)
def test_metric_fields(data: bytes, start: int, ranges: list[tuple[int, int]], after: int) -> None:
    out: list[tuple[int, int]] = []
    assert C.pb_fields(data, start, len(data), 0x22, out) == after
    assert out == ranges


def test_the_readers_do_the_per_metric_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the readers on, Python decodes only each family and its first metric."""
    calls = []
    decode = protobuf._decode

    def counted(*args: Any) -> dict[str, Any]:
        calls.append(args[0].name)
        return decode(*args)

    metrics = [label(b"a", b"%d" % n) + label(b"b", b"x") + value(2, float(n)) for n in range(50)]
    histograms = [label(b"a", b"%d" % n) + histogram(field(1, 0, n), bucket(n, 1.0)) for n in range(50)]
    data = family(b"g", GAUGE, *metrics) + family(b"h", HISTOGRAM, *histograms)
    monkeypatch.setattr(protobuf, "_decode", counted)
    result = parse(data, C)
    assert calls == ["MetricFamily", "Metric", "MetricFamily", "Metric"]
    assert len(result.keys) == 50 + 50 * 4


# ---- differential fuzzing -------------------------------------------------------------------------

names = st.text(alphabet='ab_:.é"\\\n', min_size=0, max_size=5)
texts = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=6)
stored = st.floats() | st.sampled_from([math.inf, -math.inf, -0.0])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([0, 1, 3, 4, 5]),
            names.filter(bool),
            st.lists(
                st.tuples(
                    st.lists(st.tuples(names, texts), max_size=4),
                    stored,
                    st.integers(-(2**63), 2**63 - 1),
                    st.lists(st.tuples(st.integers(0, 2**64 - 1), stored), max_size=4),
                ),
                min_size=1,
                max_size=4,
            ),
        ),
        max_size=4,
    ),
    st.sampled_from([FAMILY3, FAMILY2]),
)
def test_fuzz_protobuf_package_bodies(families: list[tuple[int, str, list[Any]]], family_class: Any) -> None:
    """Random families as the protobuf package writes them (labels of any text): C equals Python."""
    data = b""
    for kind, name, metrics in families:
        message = family_class(name=name, type=kind)
        for pairs, number, ms, buckets in metrics:
            metric = message.metric.add(timestamp_ms=ms)
            for label_name, label_value in pairs:
                metric.label.add(name=label_name, value=label_value)
            if kind >= HISTOGRAM:
                metric.histogram.sample_sum = number
                for count, bound in buckets:
                    metric.histogram.bucket.add(cumulative_count=count, upper_bound=bound)
            else:
                getattr(metric, {0: "counter", 1: "gauge", 3: "untyped"}[kind]).value = number
        data += delimited(message.SerializeToString())
    assert_same(data)


FUZZ_BASE = (
    family(
        b"c_total", COUNTER, CANONICAL + timestamp(4), label(b"a.b", b'"\\\n') + value(3, 2.0), value(3, 3.0)
    )
    + family(b"g", GAUGE, label(b"a", b"1") + value(2, 1.0), label(b"a", b"2") + value(2, 2.0))
    + family(
        b"h", HISTOGRAM, CLASSIC, label(b"a", b"2") + histogram(field(1, 0, 1), bucket(1, 0.5)) + timestamp(5)
    )
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=4), st.integers(0, 10_000))
def test_fuzz_mutated_bodies(changes: list[tuple[int, int]], cut: int) -> None:
    """Bytes changed and the body cut: the same samples, series and error (text and offset)."""
    mutated = changed(FUZZ_BASE, changes)
    assert_same(mutated[: len(mutated) - cut % 30])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=200), st.lists(st.tuples(st.integers(0, 200), st.integers(0, 200)), max_size=6))
def test_fuzz_random_metrics(data: bytes, spans: list[tuple[int, int]]) -> None:
    """Any bytes in any in-bounds ranges: an index back, columns in step, nothing else."""
    ranges = [(min(a, b) % (len(data) + 1), max(a, b) % (len(data) + 1)) for a, b in spans]
    ranges = [(start, end) for start, end in ranges if start <= end]
    for read in (
        lambda cols: C.pb_values(data, ranges, 0, protobuf._Name("c").parts, 0x12, *cols),
        lambda cols: C.pb_classic(data, ranges, 0, classic_parts(), *cols, protobuf._bound),
    ):
        cols = columns()
        taken = read(cols)
        keys, values, timestamps, series = cols
        assert 0 <= taken <= len(ranges)
        assert len(keys) == len(values) == len(timestamps)
        assert all(key in series for key in keys)
    out: list[tuple[int, int]] = []
    after = C.pb_fields(data, 0, len(data), 0x22, out)
    assert 0 <= after <= len(data)
    assert all(0 <= start <= end <= len(data) for start, end in out)


# ---- hostile arguments ----------------------------------------------------------------------------

DATA, RANGES = ranges_of([CANONICAL, CANONICAL])


def call_values(**changes: Any) -> Any:
    args = {
        "data": DATA, "ranges": RANGES, "index": 0, "name": protobuf._Name("c").parts, "tag": 0x1A,
        "keys": [], "values": [], "timestamps": [], "series": {},
    }  # fmt: skip
    args.update(changes)
    return C.pb_values(*args.values())


def call_classic(**changes: Any) -> Any:
    args = {
        "data": DATA, "ranges": RANGES, "index": 0, "names": classic_parts(), "keys": [], "values": [],
        "timestamps": [], "series": {}, "bound": protobuf._bound,
    }  # fmt: skip
    args.update(changes)
    return C.pb_classic(*args.values())


BAD_ARGUMENTS: list[tuple[str, Callable[[], Any], type[Exception]]] = [
    ("range past the data", lambda: call_values(ranges=[(0, len(DATA) + 1)]), ValueError),
    ("negative start", lambda: call_values(ranges=[(-1, 3)]), ValueError),
    ("start after end", lambda: call_values(ranges=[(5, 3)]), ValueError),
    ("range not a tuple", lambda: call_values(ranges=[[0, 3]]), TypeError),
    ("range of three", lambda: call_values(ranges=[(0, 1, 2)]), TypeError),
    ("range of str", lambda: call_values(ranges=[("0", 3)]), TypeError),
    ("huge range", lambda: call_values(ranges=[(0, 1 << 80)]), OverflowError),
    ("index past ranges", lambda: call_values(index=3), IndexError),
    ("negative index", lambda: call_values(index=-1), IndexError),
    ("bad tag", lambda: call_values(tag=0x22), ValueError),
    ("name not a tuple", lambda: call_values(name="c"), TypeError),
    ("name of bytes", lambda: call_values(name=(b"c", b"c{", b"c")), TypeError),
    ("data not bytes", lambda: call_values(data=bytearray(DATA)), TypeError),
    ("series not a dict", lambda: call_values(series=[]), TypeError),
    ("classic: range past the data", lambda: call_classic(ranges=[(0, len(DATA) + 9)]), ValueError),
    ("classic: two names", lambda: call_classic(names=classic_parts()[:2]), TypeError),
    ("classic: bound not callable", lambda: call_classic(bound=None), TypeError),
    ("fields: end past the data", lambda: C.pb_fields(b"\x22\x00", 0, 3, 0x22, []), ValueError),
    ("fields: start after end", lambda: C.pb_fields(b"\x22\x00", 2, 1, 0x22, []), ValueError),
    ("fields: varint tag", lambda: C.pb_fields(b"\x22\x00", 0, 2, 0x20, []), ValueError),
    ("fields: two-byte tag", lambda: C.pb_fields(b"\x22\x00", 0, 2, 0x82, []), ValueError),
]


@pytest.mark.parametrize(
    ("call", "error"), [case[1:] for case in BAD_ARGUMENTS], ids=[case[0] for case in BAD_ARGUMENTS]
)
def test_bad_arguments_raise(call: Callable[[], Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        call()


def test_a_failing_bound_leaves_the_metric_out() -> None:
    data, ranges = ranges_of([CLASSIC, CLASSIC])

    def broken(value: float) -> str:
        raise ZeroDivisionError

    keys: list[str] = []
    with pytest.raises(ZeroDivisionError):
        call_classic(data=data, ranges=ranges, keys=keys, bound=broken)
    assert keys == []
    with pytest.raises(TypeError, match="bound must return a str"):
        call_classic(data=data, ranges=ranges, bound=lambda value: 0.5)


def test_a_bound_that_empties_the_ranges() -> None:
    """A callback may change the list under the reader: it reads the list as it is then."""
    data, ranges = ranges_of([CLASSIC, CLASSIC])

    def emptying(value: float) -> str:
        ranges.clear()
        return protobuf._bound(value)

    keys: list[str] = []
    assert call_classic(data=data, ranges=ranges, keys=keys, bound=emptying) == 1
    assert len(keys) == 5


def big_body() -> bytes:
    metrics = [label(b"pod", b"p%d" % n) + label(b"job", b"j") + value(3, float(n)) for n in range(300)]
    histograms = [label(b"pod", b"p%d" % n) + histogram(field(1, 0, n), bucket(n, 0.5)) for n in range(100)]
    return family(b"c_total", COUNTER, *metrics) + family(b"h", HISTOGRAM, *histograms)


def test_no_memory_is_kept_across_parses() -> None:
    """A reference the readers forgot to drop would keep every parse's objects: none stays."""
    data = big_body()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(protobuf, "_NATIVE", C)
        for _ in range(3):
            protobuf.parse_protobuf(data)
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            for _ in range(20):
                protobuf.parse_protobuf(data)
            grown = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
    assert grown < 20_000, f"{grown} bytes kept by 20 parses of {len(data)} bytes"


def test_values_keep_their_bits() -> None:
    stale = struct.pack("<Q", 0x7FF0000000000002)
    data = family(b"g", GAUGE, field(2, 2, b"\x09" + stale), value(2, -0.0))
    result = parse(data, C)
    assert [bits(number) for number in result.values] == [0x7FF0000000000002, bits(-0.0)]
