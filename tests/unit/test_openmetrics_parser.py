"""The OpenMetrics parser: Prometheus's own parser test vectors (errors word for word), the model it
fills, and fuzzing that the line shortcut never changes a result and hostile input never raises."""

import math
import struct
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from promscrape.exposition import fast
from promscrape.exposition.floats import NORMAL_NAN
from promscrape.exposition.model import Exemplar, Exposition, Metadata
from promscrape.exposition.openmetrics import MEDIA_TYPE, OpenMetricsParser, parse_openmetrics

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import payloads

INT64_MIN = -(1 << 63)

# Prometheus model/textparse/openmetricsparse_test.go: TestOpenMetricsParseErrors and
# TestOMNullByteHandling (None: the body parses).
PROMETHEUS_ERRORS: list[tuple[str, str | None]] = [
    ("# EOF", None),
    ("# EOF\n", None),
    ("", "data does not end with # EOF"),
    ("\n", 'expected a valid start token, got "\\n" ("INVALID") while parsing: "\\n"'),
    ("metric", 'expected value after metric, got "metric" ("EOF") while parsing: "metric"'),
    ("metric 1", "data does not end with # EOF"),
    ("metric 1\n", "data does not end with # EOF"),
    ('metric_total 1 # {aa="bb"} 4', "data does not end with # EOF"),
    ("a\n#EOF\n", 'expected value after metric, got "\\n" ("INVALID") while parsing: "a\\n"'),
    ("\n\n#EOF\n", 'expected a valid start token, got "\\n" ("INVALID") while parsing: "\\n"'),
    (" a 1\n#EOF\n", 'expected a valid start token, got " " ("INVALID") while parsing: " "'),
    ("9\n#EOF\n", 'expected a valid start token, got "9" ("INVALID") while parsing: "9"'),
    ("# TYPE u untyped\n#EOF\n", 'invalid metric type "untyped"'),
    ("# TYPE c counter \n#EOF\n", 'invalid metric type "counter "'),
    ("#  TYPE c counter\n#EOF\n", 'expected a valid start token, got "#  " ("INVALID") while parsing: "#  "'),
    ("# TYPE \n#EOF\n", 'expected metric name after TYPE, got "\\n" ("INVALID") while parsing: "# TYPE \\n"'),
    ("# TYPE m\n#EOF\n", "expected text in TYPE"),
    ("# UNIT metric suffix\n#EOF\n", 'unit "suffix" not a suffix of metric "metric"'),
    ("# UNIT metricsuffix suffix\n#EOF\n", 'unit "suffix" not a suffix of metric "metricsuffix"'),
    ("# UNIT m suffix\n#EOF\n", 'unit "suffix" not a suffix of metric "m"'),
    ("# UNIT \n#EOF\n", 'expected metric name after UNIT, got "\\n" ("INVALID") while parsing: "# UNIT \\n"'),
    ("# UNIT m\n#EOF\n", "expected text in UNIT"),
    ("# HELP \n#EOF\n", 'expected metric name after HELP, got "\\n" ("INVALID") while parsing: "# HELP \\n"'),
    ("# HELP m\n#EOF\n", "expected text in HELP"),
    ("a\t1\n#EOF\n", 'expected value after metric, got "\\t" ("INVALID") while parsing: "a\\t"'),
    ("a 1\t2\n#EOF\n", 'strconv.ParseFloat: parsing "1\\t2": invalid syntax while parsing: "a 1\\t2"'),
    (
        "a 1 2 \n#EOF\n",
        'expected next entry after timestamp, got " \\n" ("INVALID") while parsing: "a 1 2 \\n"',
    ),
    (
        "a 1 2 #\n#EOF\n",
        'expected next entry after timestamp, got " #\\n" ("TIMESTAMP") while parsing: "a 1 2 #\\n"',
    ),
    ("a 1 1z\n#EOF\n", 'strconv.ParseFloat: parsing "1z": invalid syntax while parsing: "a 1 1z"'),
    (" # EOF\n", 'expected a valid start token, got " " ("INVALID") while parsing: " "'),
    ("# EOF\na 1", "unexpected data after # EOF"),
    ("# EOF\n\n", "unexpected data after # EOF"),
    ("# EOFa 1", "unexpected data after # EOF"),
    ("#\tTYPE c counter\n", 'expected a valid start token, got "#\\t" ("INVALID") while parsing: "#\\t"'),
    ("# TYPE c  counter\n", 'invalid metric type " counter"'),
    (
        "a 1 1 1\n# EOF\n",
        'expected next entry after timestamp, got " 1\\n" ("TIMESTAMP") while parsing: "a 1 1 1\\n"',
    ),
    ("a{b='c'} 1\n# EOF\n", 'expected label value, got "\'" ("INVALID") while parsing: "a{b=\'"'),
    ('a{,b="c"} 1\n# EOF\n', 'expected label name, got ",b" ("COMMA") while parsing: "a{,b"'),
    (
        'a{b="c"d="e"} 1\n# EOF\n',
        'expected comma or brace close, got "d=" ("LNAME") while parsing: "a{b=\\"c\\"d="',
    ),
    ('a{b="c",,d="e"} 1\n# EOF\n', 'expected label name, got ",d" ("COMMA") while parsing: "a{b=\\"c\\",,d"'),
    ("a{b=\n# EOF\n", 'expected label value, got "\\n" ("INVALID") while parsing: "a{b=\\n"'),
    ('a{\udcff="foo"} 1\n# EOF\n', 'expected label name, got "\\xff" ("INVALID") while parsing: "a{\\xff"'),
    ('a{b="\udcff"} 1\n# EOF\n', 'invalid UTF-8 label value: "\\"\\xff\\""'),
    (
        '{"a","b = "c"}\n# EOF\n',
        'expected equal, got "c\\"" ("LNAME") while parsing: "{\\"a\\",\\"b = \\"c\\""',
    ),
    ('{"a",b\\nc="d"} 1\n# EOF\n', 'expected equal, got "\\\\" ("INVALID") while parsing: "{\\"a\\",b\\\\"'),
    ("a true\n", 'strconv.ParseFloat: parsing "true": invalid syntax while parsing: "a true"'),
    (
        'something_weird{problem="\n# EOF\n',
        'expected label value, got "\\"\\n" ("INVALID") while parsing: "something_weird{problem=\\"\\n"',
    ),
    (
        'empty_label_name{=""} 0\n# EOF\n',
        'expected label name, got "=\\"" ("EQUAL") while parsing: "empty_label_name{=\\""',
    ),
    ("foo 1_2\n\n# EOF\n", 'unsupported character in float while parsing: "foo 1_2"'),
    ("foo 0x1p-3\n\n# EOF\n", 'unsupported character in float while parsing: "foo 0x1p-3"'),
    ("foo 0x1P-3\n\n# EOF\n", 'unsupported character in float while parsing: "foo 0x1P-3"'),
    ("foo 0 1_2\n\n# EOF\n", 'unsupported character in float while parsing: "foo 0 1_2"'),
    (
        "custom_metric_total 1 # {aa=bb}\n# EOF\n",
        'expected label value, got "b" ("INVALID") while parsing: "custom_metric_total 1 # {aa=b"',
    ),
    (
        'custom_metric_total 1 # {aa="bb"}\n# EOF\n',
        'expected value after exemplar labels, got "\\n" ("INVALID") while parsing: '
        '"custom_metric_total 1 # {aa=\\"bb\\"}\\n"',
    ),
    (
        'custom_metric_total 1 # {aa="bb"}',
        'expected value after exemplar labels, got "}" ("EOF") while parsing: '
        '"custom_metric_total 1 # {aa=\\"bb\\"}"',
    ),
    (
        "custom_metric_total 1 # {bb}",
        'expected label name, got "}" ("BCLOSE") while parsing: "custom_metric_total 1 # {bb}"',
    ),
    (
        'custom_metric_total 1 # {bb, a="dd"}',
        'expected label name, got ", " ("COMMA") while parsing: "custom_metric_total 1 # {bb, "',
    ),
    (
        'custom_metric_total 1 # {aa="bb",,cc="dd"} 1',
        'expected label name, got ",c" ("COMMA") while parsing: "custom_metric_total 1 # {aa=\\"bb\\",,c"',
    ),
    (
        'custom_metric_total 1 # {aa="bb"} 1_2',
        'unsupported character in float while parsing: "custom_metric_total 1 # {aa=\\"bb\\"} 1_2"',
    ),
    (
        'custom_metric_total 1 # {aa="bb"} 0x1p-3',
        'unsupported character in float while parsing: "custom_metric_total 1 # {aa=\\"bb\\"} 0x1p-3"',
    ),
    (
        'custom_metric_total 1 # {aa="bb"} true',
        'strconv.ParseFloat: parsing "true": invalid syntax while parsing: '
        '"custom_metric_total 1 # {aa=\\"bb\\"} true"',
    ),
    (
        'custom_metric_total 1 # {aa="bb",cc=}',
        'expected label value, got "}" ("INVALID") while parsing: '
        '"custom_metric_total 1 # {aa=\\"bb\\",cc=}"',
    ),
    (
        'custom_metric_total 1 # {aa=\\"\udcff\\"} 9.0',
        'expected label value, got "\\\\" ("INVALID") while parsing: "custom_metric_total 1 # {aa=\\\\"',
    ),
    ('{b="c",} 1', 'metric name not set while parsing: "{b=\\"c\\",} 1"'),
    ("a 1 NaN", "invalid timestamp NaN"),
    ("a 1 -Inf", "invalid timestamp -Inf"),
    ("a 1 Inf", "invalid timestamp +Inf"),
    ('# TYPE hhh histogram\nhhh_bucket{le="+Inf"} 1 # {aa="bb"} 4 NaN', "invalid exemplar timestamp NaN"),
    ('# TYPE hhh histogram\nhhh_bucket{le="+Inf"} 1 # {aa="bb"} 4 -Inf', "invalid exemplar timestamp -Inf"),
    # TestOMNullByteHandling
    ('null_byte_metric{a="abc\x00"} 1\n# EOF\n', None),
    ('a{b="\x00ss"} 1\n# EOF\n', None),
    ('a{b="\x00"} 1\n# EOF\n', None),
    ('a{b="\x00"} 1\n# EOF', None),
    (
        'a{b=\x00"ssss"} 1\n# EOF\n',
        'expected label value, got "\\x00" ("INVALID") while parsing: "a{b=\\x00"',
    ),
    ('a{b="\x00', 'expected label value, got "\\"\\x00" ("INVALID") while parsing: "a{b=\\"\\x00"'),
    ('a{b\x00="hiih"}\t1', 'expected equal, got "\\x00" ("INVALID") while parsing: "a{b\\x00"'),
    ('a\x00{b="ddd"} 1', 'expected value after metric, got "\\x00" ("INVALID") while parsing: "a\\x00"'),
    ("#", 'expected a valid start token, got "#" ("INVALID") while parsing: "#"'),
    ("# H", 'expected a valid start token, got "# H" ("INVALID") while parsing: "# H"'),
    (
        'custom_metric_total 1 # {b=\x00"ssss"} 1\n',
        'expected label value, got "\\x00" ("INVALID") while parsing: "custom_metric_total 1 # {b=\\x00"',
    ),
    (
        'custom_metric_total 1 # {b="\x00ss"} 1\n',
        'expected label value, got "\\"\\x00" ("INVALID") while parsing: '
        '"custom_metric_total 1 # {b=\\"\\x00"',
    ),
]


def encode(text: str) -> bytes:
    """Test bodies are written as str; U+DCxx stands for the invalid byte 0xXX."""
    return text.encode("utf-8", "surrogateescape")


def both(body: bytes) -> Exposition:
    """Parse with and without the canonical path and the line shortcut; insist on the same result.

    The canonical path's series are resolved in bulk too, by C (series_entries, when built) and by
    the column-wise Python that stands in for it without the extension: the same entries again.
    """
    result = parse_openmetrics(body)
    shortcut = parse_openmetrics(body, canonical=False)
    careful = parse_openmetrics(body, canonical=False, line_shortcut=False)
    assert snapshot(result) == snapshot(shortcut) == snapshot(careful)
    if isinstance(result.series, fast.Series):
        items = list(result.series.items())
        assert list(parse_openmetrics(body).series.items()) == items == python_bulk(body)
    return result


def python_bulk(body: bytes) -> list[tuple[str, object]]:
    """`series.items()` of a fresh parse with the Python bulk path (as without promscrape._native)."""
    saved = fast._SERIES_ENTRIES
    fast._SERIES_ENTRIES = None
    try:
        return list(parse_openmetrics(body).series.items())
    finally:
        fast._SERIES_ENTRIES = saved


def snapshot(result: Exposition) -> tuple[object, ...]:
    """Everything a parse tells, NaN bits included, series resolved."""
    return (
        result.keys,
        [struct.pack("<d", v) for v in result.values],
        result.timestamps,
        {key: result.series[key] for key in result.keys},
        list(result.series.items()),
        len(result.series),
        dict(result.empty_labels),
        {i: (e.labels, struct.pack("<d", e.value), e.timestamp_ms) for i, e in result.exemplars.items()},
        result.metadata,
        None if result.error is None else (str(result.error), result.error.line),
    )


@pytest.mark.parametrize(("body", "message"), PROMETHEUS_ERRORS)
def test_prometheus_error_vectors(body: str, message: str | None) -> None:
    result = both(encode(body))
    if message is None:
        assert result.error is None
    else:
        assert result.error is not None
        assert result.error.message == message


# TestOpenMetricsParse, as Prometheus 3 scrapes it by default: `_created` lines stay samples.
PROMETHEUS_INPUT = """# HELP go_gc_duration_seconds A summary of the GC invocation durations.
# TYPE go_gc_duration_seconds summary
# UNIT go_gc_duration_seconds seconds
go_gc_duration_seconds{quantile="0"} 4.9351e-05
go_gc_duration_seconds{quantile="0.25"} 7.424100000000001e-05
go_gc_duration_seconds{quantile="0.5",a="b"} 8.3835e-05
# HELP nohelp1\x20
# HELP help2 escape \\ \\n \\\\ \\" \\x chars
# UNIT nounit\x20
go_gc_duration_seconds{quantile="1.0",a="b"} 8.3835e-05
go_gc_duration_seconds_count 99
some:aggregate:rate5m{a_b="c"} 1
# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 33 123.123
# TYPE hh histogram
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
# TYPE ii info
ii{foo="bar"} 1
# TYPE ss stateset
ss{ss="foo"} 1
ss{ss="bar"} 0
ss{A="a"} 0
# TYPE un unknown
_metric_starting_with_underscore 1
testmetric{_label_starting_with_underscore="foo"} 1
testmetric{label="\\"bar\\""} 1
# HELP foo Counter with and without labels to certify CT is parsed for both cases
# TYPE foo counter
foo_total 17.0 1520879607.789 # {id="counter-test"} 5
foo_created 1520872607.123
foo_total{a="b"} 17.0 1520879607.789 # {id="counter-test"} 5
foo_created{a="b"} 1520872607.123
# TYPE fizz_created gauge
fizz_created 17.0
# TYPE something histogram
something_count 18
something_created 1520430001
something_bucket{le="0.0"} 1
something_bucket{le="1"} 2
# HELP metric foo\x00bar
null_byte_metric{a="abc\x00"} 1
# EOF
"""

PROMETHEUS_SAMPLES: list[tuple[str, str, tuple[tuple[str, str], ...], float, int | None, Exemplar | None]] = [
    (
        'go_gc_duration_seconds{quantile="0"}',
        "go_gc_duration_seconds",
        (("quantile", "0.0"),),
        4.9351e-05,
        None,
        None,
    ),
    (
        'go_gc_duration_seconds{quantile="0.25"}',
        "go_gc_duration_seconds",
        (("quantile", "0.25"),),
        7.424100000000001e-05,
        None,
        None,
    ),
    (
        'go_gc_duration_seconds{quantile="0.5",a="b"}',
        "go_gc_duration_seconds",
        (("quantile", "0.5"), ("a", "b")),
        8.3835e-05,
        None,
        None,
    ),
    (
        'go_gc_duration_seconds{quantile="1.0",a="b"}',
        "go_gc_duration_seconds",
        (("quantile", "1.0"), ("a", "b")),
        8.3835e-05,
        None,
        None,
    ),
    ("go_gc_duration_seconds_count", "go_gc_duration_seconds_count", (), 99.0, None, None),
    ('some:aggregate:rate5m{a_b="c"}', "some:aggregate:rate5m", (("a_b", "c"),), 1.0, None, None),
    ("go_goroutines", "go_goroutines", (), 33.0, 123123, None),
    ('hh_bucket{le="+Inf"}', "hh_bucket", (("le", "+Inf"),), 1.0, None, None),
    ('gh_bucket{le="+Inf"}', "gh_bucket", (("le", "+Inf"),), 1.0, None, None),
    (
        'hhh_bucket{le="+Inf"}',
        "hhh_bucket",
        (("le", "+Inf"),),
        1.0,
        None,
        Exemplar((("id", "histogram-bucket-test"),), 4.0),
    ),
    ("hhh_count", "hhh_count", (), 1.0, None, Exemplar((("id", "histogram-count-test"),), 4.0)),
    (
        'ggh_bucket{le="+Inf"}',
        "ggh_bucket",
        (("le", "+Inf"),),
        1.0,
        None,
        Exemplar((("id", "gaugehistogram-bucket-test"), ("xx", "yy")), 4.0, 123123),
    ),
    (
        "ggh_count",
        "ggh_count",
        (),
        1.0,
        None,
        Exemplar((("id", "gaugehistogram-count-test"), ("xx", "yy")), 4.0, 123123),
    ),
    (
        "smr_seconds_count",
        "smr_seconds_count",
        (),
        2.0,
        None,
        Exemplar((("id", "summary-count-test"),), 1.0, 123321),
    ),
    (
        "smr_seconds_sum",
        "smr_seconds_sum",
        (),
        42.0,
        None,
        Exemplar((("id", "summary-sum-test"),), 1.0, 123321),
    ),
    ('ii{foo="bar"}', "ii", (("foo", "bar"),), 1.0, None, None),
    ('ss{ss="foo"}', "ss", (("ss", "foo"),), 1.0, None, None),
    ('ss{ss="bar"}', "ss", (("ss", "bar"),), 0.0, None, None),
    ('ss{A="a"}', "ss", (("A", "a"),), 0.0, None, None),
    ("_metric_starting_with_underscore", "_metric_starting_with_underscore", (), 1.0, None, None),
    (
        'testmetric{_label_starting_with_underscore="foo"}',
        "testmetric",
        (("_label_starting_with_underscore", "foo"),),
        1.0,
        None,
        None,
    ),
    ('testmetric{label="\\"bar\\""}', "testmetric", (("label", '"bar"'),), 1.0, None, None),
    ("foo_total", "foo_total", (), 17.0, 1520879607789, Exemplar((("id", "counter-test"),), 5.0)),
    ("foo_created", "foo_created", (), 1520872607.123, None, None),
    (
        'foo_total{a="b"}',
        "foo_total",
        (("a", "b"),),
        17.0,
        1520879607789,
        Exemplar((("id", "counter-test"),), 5.0),
    ),
    ('foo_created{a="b"}', "foo_created", (("a", "b"),), 1520872607.123, None, None),
    ("fizz_created", "fizz_created", (), 17.0, None, None),
    ("something_count", "something_count", (), 18.0, None, None),
    ("something_created", "something_created", (), 1520430001.0, None, None),
    ('something_bucket{le="0.0"}', "something_bucket", (("le", "0.0"),), 1.0, None, None),
    ('something_bucket{le="1"}', "something_bucket", (("le", "1.0"),), 2.0, None, None),
    ('null_byte_metric{a="abc\x00"}', "null_byte_metric", (("a", "abc\x00"),), 1.0, None, None),
]


def test_prometheus_parse_vector() -> None:
    result = both(PROMETHEUS_INPUT.encode())
    assert result.error is None
    got = [
        (key, *result.series[key], value, timestamp, result.exemplars.get(index))
        for index, (key, value, timestamp) in enumerate(
            zip(result.keys, result.values, result.timestamps, strict=True)
        )
    ]
    assert got == PROMETHEUS_SAMPLES
    assert result.metadata == {
        "go_gc_duration_seconds": Metadata("summary", "A summary of the GC invocation durations.", "seconds"),
        "nohelp1": Metadata(help=""),
        "help2": Metadata(help='escape \\ \n \\ " \\x chars'),
        "nounit": Metadata(unit=""),
        "go_goroutines": Metadata("gauge", "Number of goroutines that currently exist."),
        "hh": Metadata("histogram"),
        "gh": Metadata("gaugehistogram"),
        "hhh": Metadata("histogram"),
        "ggh": Metadata("gaugehistogram"),
        "smr_seconds": Metadata("summary"),
        "ii": Metadata("info"),
        "ss": Metadata("stateset"),
        "un": Metadata("unknown"),
        "foo": Metadata("counter", "Counter with and without labels to certify CT is parsed for both cases"),
        "fizz_created": Metadata("gauge"),
        "something": Metadata("histogram"),
        "metric": Metadata(help="foo\x00bar"),
    }
    assert result.start_timestamps == {}
    assert result.histograms == []


def test_prometheus_utf8_vector() -> None:
    body = (
        '# HELP "go.gc_duration_seconds" A summary of the GC invocation durations.\n'
        '# TYPE "go.gc_duration_seconds" summary\n'
        '# UNIT "go.gc_duration_seconds" seconds\n'
        '{"go.gc_duration_seconds",quantile="0"} 4.9351e-05\n'
        '{"go.gc_duration_seconds_created"} 1520872607.123\n'
        '{q="0.9","http.status",a="b"} 8.3835e-05\n'
        '{"Heizölrückstoßabdämpfung 10€ metric with \\"interesting\\" {character\\nchoices}",'
        '"strange©™\\n\'quoted\' \\"name\\""="6"} 10.0\n'
        'quotedexemplar2_count 1 # {"id.thing"="histogram-count-test",other="hello"} 4\n'
        "# EOF\n"
    )
    result = both(body.encode())
    assert result.error is None
    assert [result.series[key] for key in result.keys] == [
        ("go.gc_duration_seconds", (("quantile", "0.0"),)),
        ("go.gc_duration_seconds_created", ()),
        ("http.status", (("q", "0.9"), ("a", "b"))),
        (
            'Heizölrückstoßabdämpfung 10€ metric with "interesting" {character\nchoices}',
            (("strange©™\n'quoted' \"name\"", "6"),),
        ),
        ("quotedexemplar2_count", ()),
    ]
    assert result.metadata == {
        "go.gc_duration_seconds": Metadata("summary", "A summary of the GC invocation durations.", "seconds")
    }
    assert result.exemplars == {4: Exemplar((("id.thing", "histogram-count-test"), ("other", "hello")), 4.0)}


@pytest.mark.parametrize(
    ("timestamp", "ms"),
    [
        ("1520879607.789", 1520879607789),
        ("123.123", 123123),
        ("0", 0),
        ("-1.5", -1500),
        ("1e3", 1000000),
        ("1.5E-3", 1),
        ("0.0019", 1),
        ("-0.0019", -1),
        ("0.0000000001", 0),
        ("1.7268398142239082e+09", 1726839814223),
        ("9223372036854775.807", INT64_MIN),
        ("12345678901234567890.1234567890", INT64_MIN),
        ("-1e300", INT64_MIN),
    ],
)
def test_timestamps_are_float_seconds_truncated_to_ms(timestamp: str, ms: int) -> None:
    result = both(f"a 1 {timestamp}\nb 2 # {{}} 3 {timestamp}\n# EOF\n".encode())
    assert result.error is None
    assert result.timestamps == [ms, None]
    assert result.exemplars == {1: Exemplar((), 3.0, ms)}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("# UNIT a_seconds seconds", None),
        ("# UNIT a_seconds ", None),
        ('# UNIT "a.b_s" s', None),
        ("# UNIT _s s", None),
        ("# UNIT seconds seconds", 'unit "seconds" not a suffix of metric "seconds"'),
        ("# UNIT aseconds seconds", 'unit "seconds" not a suffix of metric "aseconds"'),
        ("# UNIT a_seconds second", 'unit "second" not a suffix of metric "a_seconds"'),
        ('# UNIT "a_\u00e9" \u00e9', None),
        ('# UNIT "a\u00e9" \udca9', 'unit "\\xa9" not a suffix of metric "a\u00e9"'),
    ],
)
def test_unit_must_be_the_name_suffix(line: str, message: str | None) -> None:
    result = both(encode(f"{line}\n# EOF\n"))
    if message is None:
        assert result.error is None
        ((name, metadata),) = result.metadata.items()
        assert name.endswith(f"_{metadata.unit}") or metadata.unit == ""
    else:
        assert result.error is not None
        assert (result.error.message, result.error.line) == (message, 1)


@pytest.mark.parametrize(
    "mtype", ["counter", "gauge", "histogram", "gaugehistogram", "summary", "info", "stateset", "unknown"]
)
def test_every_openmetrics_type_is_kept(mtype: str) -> None:
    result = both(f"# TYPE a {mtype}\n# EOF\n".encode())
    assert result.error is None
    assert result.metadata == {"a": Metadata(mtype)}


@pytest.mark.parametrize(
    ("mtype", "le", "quantile"),
    [
        ("histogram", "1.0", "1"),
        ("summary", "1", "1.0"),
        ("gaugehistogram", "1", "1"),
        ("counter", "1", "1"),
    ],
)
def test_le_and_quantile_canonical_only_under_their_type(mtype: str, le: str, quantile: str) -> None:
    result = both(f'# TYPE a {mtype}\na{{le="1",quantile="1"}} 1\n# EOF\n'.encode())
    assert result.series['a{le="1",quantile="1"}'] == ("a", (("le", le), ("quantile", quantile)))


def test_trailing_comma_and_empty_values() -> None:
    result = both(b'a{b="c",} 1\na{b="",c="d"} 2\na{} 3\n# EOF\n')
    assert result.error is None
    assert result.series['a{b="c",}'] == ("a", (("b", "c"),))
    assert result.series['a{b="",c="d"}'] == ("a", (("c", "d"),))
    assert result.empty_labels == {'a{b="",c="d"}': frozenset({"b"})}
    assert result.series["a{}"] == ("a", ())


@pytest.mark.parametrize("spelling", ["NaN", "nan", "NAN"])
def test_nan_is_prometheus_normal_nan(spelling: str) -> None:
    result = both(f"a {spelling}\nb 1 # {{}} {spelling}\n# EOF\n".encode())
    assert struct.pack("<d", result.values[0]) == struct.pack("<d", NORMAL_NAN)
    assert struct.pack("<d", result.exemplars[1].value) == struct.pack("<d", NORMAL_NAN)


@pytest.mark.parametrize(
    ("value", "expected"), [("+Inf", math.inf), ("-Inf", -math.inf), ("Infinity", math.inf), (".5", 0.5)]
)
def test_special_values(value: str, expected: float) -> None:
    assert both(f"a {value}\n# EOF\n".encode()).values == [expected]


@pytest.mark.parametrize(
    ("labels", "kept"),
    [
        ('a="' + "x" * 127 + '"', True),
        ('a="' + "x" * 128 + '"', False),
        ('a="' + "\u2603" * 127 + '"', True),
        ('ab="' + "x" * 63 + '",c="' + "y" * 62 + '"', True),
        ('ab="' + "x" * 63 + '",c="' + "y" * 63 + '"', False),
        ('"a.b"="' + "x" * 125 + '"', True),
        ('"a.b"="' + "x" * 126 + '"', False),
    ],
)
def test_exemplar_over_128_runes_is_dropped(labels: str, kept: bool) -> None:
    result = both(f"a_total 1 # {{{labels}}} 2 3\n# EOF\n".encode())
    assert result.error is None
    assert result.keys == ["a_total"]
    assert (0 in result.exemplars) is kept


def test_exemplar_labels_are_not_unescaped() -> None:
    result = both(b'a 1 # {x="q\\"u\\\\o\\nte",y=""} 2\n# EOF\n')
    assert result.exemplars == {0: Exemplar((("x", 'q\\"u\\\\o\\nte'), ("y", "")), 2.0)}


def test_exemplars_on_any_sample_line_and_after_a_timestamp() -> None:
    result = both(b'# TYPE g gauge\ng 1 5 # {a="b"} 2 6\ni_info{x="y"} 1 # {} 0\n# EOF\n')
    assert result.error is None
    assert result.timestamps == [5000, None]
    assert result.exemplars == {0: Exemplar((("a", "b"),), 2.0, 6000), 1: Exemplar((), 0.0)}


def test_a_sample_line_ending_in_an_unlexable_token_still_counts() -> None:
    """Go's parseSeriesEndOfLine has no default branch: the sample stands, the next entry fails."""
    result = both(b"a 1 \n# EOF\n")
    assert (result.keys, result.values) == (["a"], [1.0])
    assert result.error is not None
    assert (
        str(result.error)
        == 'line 1: expected a valid start token, got "\\n#" ("LINEBREAK") while parsing: "\\n#"'
    )


def test_error_names_the_line_and_keeps_what_came_before() -> None:
    result = both(b'# TYPE a gauge\na 1\nb 2 # {c="d"} 3\nc x\nd 4\n# EOF\n')
    assert (result.keys, result.values) == (["a", "b"], [1.0, 2.0])
    assert result.exemplars == {1: Exemplar((("c", "d"),), 3.0)}
    assert result.error is not None
    assert result.error.line == 4
    assert str(result.error) == 'line 4: strconv.ParseFloat: parsing "x": invalid syntax while parsing: "c x"'


@pytest.mark.parametrize(
    ("body", "keys"),
    [
        (b"# HELP a x\n\x00\x00a 1\n# EOF\n", ["a"]),
        (b"# EOF\n\x00\x00", []),
        (b"# EOF\x00", []),
        (b"# H\x00E\x00LP\x00 a x\n# EOF\n", []),
        (b'a{b="x"\x00\x00} 1\n# EOF\n', ['a{b="x"\x00\x00}']),
    ],
)
def test_null_bytes_where_the_lexer_skips_them(body: bytes, keys: list[str]) -> None:
    result = both(body)
    assert result.error is None
    assert result.keys == keys


def test_lone_name_in_braces_is_the_name_minus_its_ends() -> None:
    """Go cuts the first and last byte of any lone name token, quoted or not."""
    result = both(b'{abc} 1\n{""} 2\n# EOF\n')
    assert [result.series[k] for k in result.keys] == [("b", ()), ("", ())]
    assert both(b"a{b} 1\n# EOF\n").error.message == 'metric name already set while parsing: "a{b}"'


def test_parser_class() -> None:
    body = b'a{b="c"} 1 2\n# EOF\n'
    parser = OpenMetricsParser(body)
    assert OpenMetricsParser.media_type == MEDIA_TYPE == "application/openmetrics-text"
    assert snapshot(parser.parse()) == snapshot(parse_openmetrics(body))


@pytest.mark.parametrize(
    "body",
    [
        b'a{b="' + b"x" * 500_000,
        b'a{"' + b"x\\" * 250_000,
        b"# HELP a " + b"x" * 500_000,
        b"a 1 # {" + b'b="c",' * 100_000,
        (b'a{b="c"} 1 # {d="e"} 1 1\n' * 50_000) + b"x",
        b'a{b="c\n' * 100_000,
    ],
)
def test_hostile_bodies_end_in_an_error(body: bytes) -> None:
    result = parse_openmetrics(body)
    assert result.error is not None


_PIECES = st.sampled_from(
    [
        "a",
        "a_total",
        "_created",
        "b:c",
        "{",
        "}",
        '{"x.y"',
        "=",
        ",",
        '"',
        '"v"',
        '"\\"q\\n"',
        '""',
        " ",
        "  ",
        "1",
        "-1.5",
        "1e3",
        "NaN",
        "+Inf",
        "0x1p3",
        "1_0",
        " # {",
        " # ",
        "#",
        "\n",
        "\t",
        "\x00",
        "\u00e9",
        "\udcff",
        "# HELP ",
        "# TYPE ",
        "# UNIT ",
        "# EOF",
        "counter",
        "histogram",
        "le",
        "quantile",
        "\\",
    ]
)
_LINE = st.lists(_PIECES, max_size=12).map("".join)
_BODY = st.lists(_LINE, max_size=8).map(lambda lines: "\n".join(lines) + "\n# EOF\n")


@settings(max_examples=400, deadline=None)
@given(_BODY)
def test_fuzz_shortcut_never_changes_a_result(body: str) -> None:
    result = both(encode(body))
    for key in result.keys:
        assert key in result.series


_NAME = st.from_regex(r"[a-zA-Z_:][a-zA-Z0-9_:]{0,8}", fullmatch=True)
_LABEL = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,6}", fullmatch=True)
_VALUE_TEXT = st.text(st.characters(codec="utf-8", exclude_characters='"\\\n\x00'), max_size=8)
_NUMBER = st.floats(allow_nan=False, allow_infinity=True, width=64)


@st.composite
def _sample_line(draw: st.DrawFn) -> tuple[str, tuple[str, tuple[tuple[str, str], ...], float, int | None]]:
    name = draw(_NAME)
    pairs = draw(st.lists(st.tuples(_LABEL, _VALUE_TEXT), max_size=3))
    value = draw(_NUMBER)
    seconds = draw(st.none() | st.integers(min_value=-(10**9), max_value=10**10))
    block = "{" + ",".join(f'{k}="{v}"' for k, v in pairs) + "}" if pairs or draw(st.booleans()) else ""
    line = f"{name}{block} {repr(value).replace('inf', 'Inf')}"
    if seconds is not None:
        line += f" {seconds}"
    labels = tuple((k, v) for k, v in pairs if v and k not in {k2 for k2, v2 in pairs if not v2})
    return line, (name, labels, value, None if seconds is None else seconds * 1000)


@settings(max_examples=300, deadline=None)
@given(st.lists(_sample_line(), max_size=10))
def test_fuzz_generated_expositions_read_back(lines: list[tuple[str, tuple[object, ...]]]) -> None:
    body = "# TYPE x gauge\n" + "".join(line + "\n" for line, _ in lines) + "# EOF\n"
    result = both(body.encode())
    assert result.error is None
    assert [
        (*result.series[key], value, ts)
        for key, value, ts in zip(result.keys, result.values, result.timestamps, strict=True)
    ] == [expected for _, expected in lines]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_fuzz_arbitrary_bytes_never_raise(body: bytes) -> None:
    for candidate in (body, body + b"\n# EOF\n", b"a{b=" + body):
        result = both(candidate)
        assert isinstance(result, Exposition)


# ---- the canonical path (column-wise, exposition/fast.py's machinery) against the token path ----

CANONICAL_CASES = [
    # (body, whether the canonical path takes it); `both` proves the results equal either way.
    pytest.param(b"# EOF\n", True, id="empty"),
    pytest.param(b"a 1\n# EOF", True, id="eof-without-linefeed"),
    pytest.param(b'a{x="1",y="2"} 3\nb{} 4\nc 5\n# EOF\n', True, id="labels-braces-bare"),
    pytest.param(b'a{x="1",} 3\na{x="2"} 4\nb{y="3"} 5\n# EOF\n', True, id="trailing-comma-in-a-class"),
    pytest.param(
        b'a{job=""} 1\nb{job="",x="1"} 2\nc{x="1",y=""} 3\nd{x="1"} 4\ne{x="",y="",x="2"} 6\n'
        b'f{__name__=""} 7\ng{x="=",y="a="} 8\n# EOF\n',
        True,
        id="empty-values",
    ),
    pytest.param(b'a{x="1",x="2"} 3\nb{__name__="c"} 4\n# EOF\n', True, id="duplicate-and-name-labels"),
    pytest.param(b'a{x="with space",y="}{,=#"} 3\nb{z="a b"} 4\n# EOF\n', True, id="spaces-in-values"),
    pytest.param(b'a{x="\xc3\xa9\xe2\x82\xac"} 3\n# EOF\n', True, id="utf8-value"),
    pytest.param(b'a{x="\xff"} 3\n# EOF\n', False, id="invalid-utf8"),
    pytest.param(b'a{x="a\\"b"} 3\n# EOF\n', False, id="escape"),
    pytest.param(b"a 1 1000\nb 2 -0.0019\nc 3 1.7268398142239082e+09\n# EOF\n", True, id="timestamps"),
    pytest.param(b"a 1 1000\nb 2\n# EOF\n", False, id="mixed-timestamps"),
    pytest.param(b"a 1 NaN\n# EOF\n", False, id="nan-timestamp"),
    pytest.param(b"a 1 1e300\n# EOF\n", False, id="timestamp-out-of-int64"),
    pytest.param(b"a 1 0x1p3\n# EOF\n", False, id="hex-timestamp"),
    pytest.param(
        b"a NaN\nb nan\nc +Inf\nd -inf\ne Infinity\nf .5\ng 5.\nh -1e-3\n# EOF\n", True, id="values"
    ),
    pytest.param(b"a +NaN\n# EOF\n", False, id="signed-nan"),
    pytest.param(b"a 1e400\n# EOF\n", False, id="out-of-range"),
    pytest.param(b"a 1_000\n# EOF\n", False, id="underscore"),
    pytest.param(b"a\t1\n# EOF\n", False, id="tab"),
    pytest.param(b"a  1\n# EOF\n", False, id="two-spaces"),
    pytest.param(b" a 1\n# EOF\n", False, id="leading-space"),
    pytest.param(b"a 1 \n# EOF\n", False, id="trailing-space"),
    pytest.param(b"a 1\r\n# EOF\n", False, id="crlf"),
    pytest.param(b"\na 1\n# EOF\n", False, id="leading-blank-line"),
    pytest.param(b"a 1\n\nb 2\n# EOF\n", False, id="blank-line"),
    pytest.param(b"a 1\n\n# EOF\n", False, id="blank-line-before-eof"),
    pytest.param(b"# HELP a x\n\n# TYPE a gauge\n# EOF\n", False, id="blank-line-between-metadata"),
    pytest.param(b"\n# EOF\n", False, id="only-a-blank-line"),
    pytest.param(b"a 1\n# EOF\n\n", False, id="data-after-eof"),
    pytest.param(b"a 1\n# EOF\nb 2\n# EOF\n", False, id="eof-twice"),
    pytest.param(b"a 1\n", False, id="no-eof"),
    pytest.param(b"a 1# EOF\n", False, id="eof-inside-a-line"),
    pytest.param(b"a\n# EOF\n", False, id="no-value"),
    pytest.param(b"a\nb 1 2\n# EOF\n", False, id="misaligned-tokens"),
    pytest.param(b"a 1\x00\n# EOF\n", False, id="nul"),
    pytest.param(b'{"my.metric"} 1\n# EOF\n', False, id="quoted-name"),
    pytest.param(b'a 1 # {x="y"} 2\n# EOF\n', False, id="exemplar"),
    pytest.param(
        b"# HELP a_seconds some help\n# TYPE a_seconds counter\n# UNIT a_seconds seconds\na_seconds_total 1\n"
        b"a_seconds_created 1.5e9\n# EOF\n",
        True,
        id="help-type-unit-created",
    ),
    pytest.param(b"# HELP a x\\ny \\\\ \\q\n# HELP b \n# EOF\n", True, id="help-escapes-and-empty"),
    pytest.param(b"# HELP a\n# EOF\n", False, id="help-without-text"),
    pytest.param(b"# TYPE a  counter\n# EOF\n", False, id="type-two-spaces"),
    pytest.param(b"# TYPE a untyped\n# EOF\n", False, id="type-untyped"),
    pytest.param(b"# UNIT a_s x\n# EOF\n", False, id="unit-not-a-suffix"),
    pytest.param(b'# TYPE "a.b" gauge\n# EOF\n', False, id="quoted-metadata-name"),
    pytest.param(b"# a comment\n# EOF\n", False, id="comment"),
    pytest.param(b"#\n# EOF\n", False, id="bare-hash"),
    pytest.param(
        b'# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="1e6"} 2\nh_bucket{x="a",le="+Inf"} 3\n'
        b'# TYPE s summary\ns{quantile="0.50"} 1\ns{le="1"} 2\n# TYPE g gaugehistogram\ng_bucket{le="1"} 1\n'
        b"# EOF\n",
        True,
        id="le-and-quantile",
    ),
    pytest.param(
        b'h{le="1"} 1\n# TYPE h histogram\nh{le="1"} 2\nh{le="2"} 3\n# EOF\n', True, id="first-line-decides"
    ),
    pytest.param(b'# TYPE h histogram\nh{le="x"} 1\nh{le=""} 2\n# EOF\n', True, id="le-not-a-number"),
    pytest.param(b"a 1\na 2\n# EOF\n", True, id="duplicate-series"),
]


@pytest.mark.parametrize(("body", "taken"), CANONICAL_CASES)
def test_canonical_path_takes_exactly_the_common_shape(body: bytes, taken: bool) -> None:
    result = both(body)
    assert isinstance(result.series, fast.Series) is taken


def test_canonical_series_values_match_the_token_path() -> None:
    """The bulk resolution of values()/items() against make_series key by key, exact vectors."""
    result = both(
        b'# TYPE h histogram\nh_bucket{pod="p1",le="1"} 1\nh_bucket{pod="p1",le="+Inf"} 2\n'
        b'h_sum{pod="p1"} 3\n'
        b'# TYPE c counter\nc_total{pod="p2",x=""} 4\nc_total{pod="p1",x="y"} 5\nb 6\n'
        b'# TYPE s summary\ns{quantile="0.5"} 7\n# EOF\n'
    )
    assert isinstance(result.series, fast.Series)
    assert list(result.series.values()) == [
        ("h_bucket", (("pod", "p1"), ("le", "1.0"))),
        ("h_bucket", (("pod", "p1"), ("le", "+Inf"))),
        ("h_sum", (("pod", "p1"),)),
        ("c_total", (("pod", "p2"),)),
        ("c_total", (("pod", "p1"), ("x", "y"))),
        ("b", ()),
        ("s", (("quantile", "0.5"),)),
    ]
    assert result.empty_labels == {'c_total{pod="p2",x=""}': frozenset({"x"})}
    assert result.metadata == {"h": Metadata("histogram"), "c": Metadata("counter"), "s": Metadata("summary")}


def test_canonical_series_after_some_keys_were_read() -> None:
    """values() after per-key reads: every key, in key order, the same entries."""
    body = b'a{x="1"} 1\nb 2\na{x="2"} 3\na{x="1"} 4\n# EOF\n'
    result = parse_openmetrics(body)
    assert result.series['a{x="2"}'] == ("a", (("x", "2"),))
    assert list(result.series.items()) == [
        ('a{x="1"}', ("a", (("x", "1"),))),
        ("b", ("b", ())),
        ('a{x="2"}', ("a", (("x", "2"),))),
    ]
    assert list(result.series) == ['a{x="1"}', "b", 'a{x="2"}'] and len(result.series) == 3


@pytest.mark.parametrize(("series", "samples"), [(1, 1), (1000, 996)])
def test_benchmark_payloads_take_the_canonical_path(series: int, samples: int) -> None:
    """benchmarks/parsers.py's OpenMetrics payloads (1000 series: an incomplete histogram left out)."""
    result = both(payloads.generate_openmetrics(series))
    assert result.error is None and isinstance(result.series, fast.Series)
    assert len(result.keys) == samples


_CANONICAL_VALUE = st.sampled_from(["1", "0", "-0", "2.5", "NaN", "-Inf", "1e3", "0.005", ".5", "7"])


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b_total", "c_bucket", "d", "e_created"]),
            st.lists(
                st.tuples(
                    st.sampled_from(["x", "y", "le", "quantile", "__name__"]),
                    st.sampled_from(["1", "2", "0.5", "", "1e3", "a b", "+Inf", "é"]),
                ),
                max_size=4,
            ),
            st.booleans(),
            _CANONICAL_VALUE,
            st.sampled_from(["", "", " 1", " 1.5"]),
        ),
        max_size=12,
    ),
    st.lists(
        st.sampled_from(
            [
                "# TYPE a histogram",
                "# TYPE c summary",
                "# HELP b text",
                "# TYPE d gaugehistogram",
                "# UNIT d_s s",
            ]
        )
    ),
)
def test_generated_canonical_bodies(
    samples: list[tuple[str, list[tuple[str, str]], bool, str, str]], metadata: list[str]
) -> None:
    """Canonical bodies (the column path's ground, TYPE lines interleaved) read as the token path does."""
    lines = []
    for name, labels, trailing_comma, value, _ in samples:
        block = ",".join(f'{label}="{text}"' for label, text in labels) + (
            "," if trailing_comma and labels else ""
        )
        lines.append(f"{name}{{{block}}} {value}" if labels or trailing_comma else f"{name} {value}")
    if {timestamp for *_, timestamp in samples} - {""}:
        lines = [line + " 5" for line in lines]
    for index, line in enumerate(metadata):
        lines.insert(min(index * 2, len(lines)), line)
    both(("".join(line + "\n" for line in lines) + "# EOF\n").encode())
