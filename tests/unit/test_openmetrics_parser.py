"""The OpenMetrics parser: Prometheus's own parser test vectors (errors word for word), the model it
fills, and fuzzing that the line shortcut never changes a result and hostile input never raises."""

import math
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from promscrape.exposition.floats import NORMAL_NAN
from promscrape.exposition.model import Exemplar, Exposition, Metadata
from promscrape.exposition.openmetrics import MEDIA_TYPE, OpenMetricsParser, parse_openmetrics

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
    """Parse with and without the line shortcut and insist on the same result."""
    result = parse_openmetrics(body)
    careful = parse_openmetrics(body, line_shortcut=False)
    assert snapshot(result) == snapshot(careful)
    return result


def snapshot(result: Exposition) -> tuple[object, ...]:
    """Everything a parse tells, NaN bits included, series resolved."""
    return (
        result.keys,
        [struct.pack("<d", v) for v in result.values],
        result.timestamps,
        {key: result.series[key] for key in result.keys},
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
