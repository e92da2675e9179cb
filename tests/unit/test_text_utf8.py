"""Prometheus text 1.0.0 names: quoted UTF-8 metric and label names in sample lines and in HELP/TYPE,
exact to Prometheus 3's promlex.l/promparse.go (REFERENCE §3). Checked against Prometheus's
TestUTF8PromParse, the lexer's rules state by state (accept/reject, error texts, line numbers),
what prometheus_client exposes under each escaping scheme, and the fast path, which must give
the same Exposition for every body here."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from name_escaping import escape_name
from prometheus_client import CollectorRegistry
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from prometheus_client.exposition import generate_latest
from promscrape import exposition
from promscrape.exposition import Exposition, Metadata, ParseError, fast
from promscrape.exposition.text import canonical_float_label
from promscrape.names import is_valid_label_name, is_valid_metric_name
from test_text_parser import Accepted, MetadataCases, Rejected, Sample, samples, snapshot, table_tests
from test_text_parser import parse as parse_careful

Labels = tuple[tuple[str, str], ...]


def parse(body: bytes) -> Exposition:
    """The careful parse, after checking the token lexer alone and the fast path agree with it."""
    result = parse_careful(body)
    assert snapshot(fast.parse(body)) == snapshot(result)
    return result


# ---- Prometheus's TestUTF8PromParse, one row per line of its input ----

GC = "go.gc_duration_seconds"
UTF8_HEADER = (
    b'# HELP "go.gc_duration_seconds" A summary of the GC invocation durations.\n'
    b'# \tTYPE "go.gc_duration_seconds" summary\n'
)
STRANGE_NAME = 'Heizölrückstoßabdämpfung 10€ metric with "interesting" {character\nchoices}'
STRANGE_LABEL = "strange©™\n'quoted' \"name\""
# (line, name, labels, value); the key is the line up to its closing brace.
UTF8_LINES: list[tuple[str, str, Labels, str]] = [
    ('{"go.gc_duration_seconds",quantile="0"} 4.9351e-05', GC, (("quantile", "0.0"),), "4.9351e-05"),
    (
        '{"go.gc_duration_seconds",quantile="0.25",} 7.424100000000001e-05',
        GC,
        (("quantile", "0.25"),),
        "7.424100000000001e-05",
    ),
    (
        '{"go.gc_duration_seconds",quantile="0.5",a="b"} 8.3835e-05',
        GC,
        (("quantile", "0.5"), ("a", "b")),
        "8.3835e-05",
    ),
    (
        '{"go.gc_duration_seconds",quantile="0.8", a="b"} 8.3835e-05',
        GC,
        (("quantile", "0.8"), ("a", "b")),
        "8.3835e-05",
    ),
    (
        '{"go.gc_duration_seconds", quantile="0.9", a="b"} 8.3835e-05',
        GC,
        (("quantile", "0.9"), ("a", "b")),
        "8.3835e-05",
    ),
    (
        '{"go.gc_duration_seconds", quantile="1.0", a="b" } 8.3835e-05',
        GC,
        (("quantile", "1.0"), ("a", "b")),
        "8.3835e-05",
    ),
    (
        '{ "go.gc_duration_seconds", quantile="1.0", a="b" } 8.3835e-05',
        GC,
        (("quantile", "1.0"), ("a", "b")),
        "8.3835e-05",
    ),
    (
        '{ "go.gc_duration_seconds", quantile= "1.0", a= "b", } 8.3835e-05',
        GC,
        (("quantile", "1.0"), ("a", "b")),
        "8.3835e-05",
    ),
    (
        '{ "go.gc_duration_seconds", quantile = "1.0", a = "b" } 8.3835e-05',
        GC,
        (("quantile", "1.0"), ("a", "b")),
        "8.3835e-05",
    ),
    ('{"go.gc_duration_seconds_count"} 99', f"{GC}_count", (), "99"),
    (
        '{"Heizölrückstoßabdämpfung 10€ metric with \\"interesting\\" {character\\nchoices}",'
        '"strange©™\\n\'quoted\' \\"name\\""="6"} 10.0',
        STRANGE_NAME,
        ((STRANGE_LABEL, "6"),),
        "10",
    ),
]
UTF8_METADATA = {GC: Metadata(type="summary", help="A summary of the GC invocation durations.")}


def _utf8_sample(line: str, name: str, labels: Labels, value: str) -> Sample:
    return (line[: line.rindex("}") + 1], name, labels, value, None)


def test_prometheus_utf8_prom_parse() -> None:
    body = UTF8_HEADER + "\n".join(row[0] for row in UTF8_LINES).encode()
    result = parse(body)
    assert result.error is None
    assert samples(result) == [_utf8_sample(*row) for row in UTF8_LINES]
    assert result.metadata == UTF8_METADATA


@pytest.mark.parametrize(
    ("line", "name", "labels", "value"), UTF8_LINES, ids=[row[0][:48] for row in UTF8_LINES]
)
def test_prometheus_utf8_line(line: str, name: str, labels: Labels, value: str) -> None:
    result = parse(UTF8_HEADER + line.encode() + b"\n")
    assert result.error is None
    assert samples(result) == [_utf8_sample(line, name, labels, value)]


# ---- quoted names, rule by rule ----

ACCEPTED: Accepted = [
    (
        "quoted metric name",
        b'{"my.metric","label.x"="v"} 1\n',
        [('{"my.metric","label.x"="v"}', "my.metric", (("label.x", "v"),), "1", None)],
    ),
    (
        "quoted label name after a bare name",
        b'my_metric{"a.b"="v"} 1\n',
        [('my_metric{"a.b"="v"}', "my_metric", (("a.b", "v"),), "1", None)],
    ),
    (
        "quoted name alone",
        b'{"my.metric"} 1 1700000000000\n',
        [('{"my.metric"}', "my.metric", (), "1", 1700000000000)],
    ),
    (
        "quoted name between labels",
        b'{a="1","my.metric",b="2"} 1\n',
        [('{a="1","my.metric",b="2"}', "my.metric", (("a", "1"), ("b", "2")), "1", None)],
    ),
    (
        "quoted name last, trailing comma",
        b'{a="1","m",} 1\n',
        [('{a="1","m",}', "m", (("a", "1"),), "1", None)],
    ),
    (
        "blanks around every token",
        b'{ "a" , "b.c" = "d" } 1\n',
        [('{ "a" , "b.c" = "d" }', "a", (("b.c", "d"),), "1", None)],
    ),
    ("tabs", b'{"a"\t,\tb="c"\t} 1\n', [('{"a"\t,\tb="c"\t}', "a", (("b", "c"),), "1", None)]),
    ("value right after the brace", b'{"a"}1\n', [('{"a"}', "a", (), "1", None)]),
    ("blank before the brace", b'a {"b.c"="d"} 1\n', [('a {"b.c"="d"}', "a", (("b.c", "d"),), "1", None)]),
    ("leading blank stays in the key", b' {"a"} 1\n', [(' {"a"}', "a", (), "1", None)]),
    (
        "escapes in names",
        b'{"a\\\\b\\"c\\nd","e\\\\f"="g"} 1\n',
        [('{"a\\\\b\\"c\\nd","e\\\\f"="g"}', 'a\\b"c\nd', (("e\\f", "g"),), "1", None)],
    ),
    ("unknown escape stays", b'{"a\\q"} 1\n', [('{"a\\q"}', "a\\q", (), "1", None)]),
    (
        "raw line feed in a quoted name",
        b'{"a\nb"} 1\nc 2\n',
        [('{"a\nb"}', "a\nb", (), "1", None), ("c", "c", (), "2", None)],
    ),
    (
        "raw line feed in a quoted label name",
        b'a{"x\ny"="v"} 1\n',
        [('a{"x\ny"="v"}', "a", (("x\ny", "v"),), "1", None)],
    ),
    (
        "UTF-8 names",
        '{"€"} 1\n{"😱","ö"="ü"} 2\n'.encode(),
        [('{"€"}', "€", (), "1", None), ('{"😱","ö"="ü"}', "😱", (("ö", "ü"),), "2", None)],
    ),
    (
        "quoted legacy name is its own key",
        b'{"a_b"} 1\na_b 2\n',
        [('{"a_b"}', "a_b", (), "1", None), ("a_b", "a_b", (), "2", None)],
    ),
    (
        "quoted __name__ label stays for the pipeline",
        b'{"a","__name__"="b"} 1\n',
        [('{"a","__name__"="b"}', "a", (("__name__", "b"),), "1", None)],
    ),
    ("empty quoted name", b'{""} 1\n', [('{""}', "", (), "1", None)]),
    # The parser checks only label values for UTF-8; names fail later, at name validation.
    ("invalid UTF-8 metric name", b'{"a\xff"} 1\n', [('{"a\udcff"}', "a\udcff", (), "1", None)]),
    (
        "invalid UTF-8 label name",
        b'a{"\xc3"="v"} 1\n',
        [('a{"\udcc3"="v"}', "a", (("\udcc3", "v"),), "1", None)],
    ),
    ("empty value drops a quoted label", b'{"a","b.c"=""} 1\n', [('{"a","b.c"=""}', "a", (), "1", None)]),
    (
        "le canonical under a quoted histogram TYPE",
        b'# TYPE "h.x" histogram\n{"h.x_bucket","le"="1"} 1\n{"h.x_bucket",le="+Inf"} 1\n',
        [
            ('{"h.x_bucket","le"="1"}', "h.x_bucket", (("le", "1.0"),), "1", None),
            ('{"h.x_bucket",le="+Inf"}', "h.x_bucket", (("le", "+Inf"),), "1", None),
        ],
    ),
]


def test_empty_quoted_label_recorded_for_honor_labels() -> None:
    assert parse(b'{"a","b.c"=""} 1\n').empty_labels == {'{"a","b.c"=""}': frozenset({"b.c"})}


METADATA: MetadataCases = [
    ("quoted TYPE", b'# TYPE "my.metric" counter\n', {"my.metric": Metadata(type="counter")}),
    ("quoted HELP", b'# HELP "my.metric" some help\n', {"my.metric": Metadata(help="some help")}),
    ("blank inside the name", b'# HELP "a b" x\n', {"a b": Metadata(help="x")}),
    ("tabs around", b'#\tTYPE\t"my.metric"\tgauge\n', {"my.metric": Metadata(type="gauge")}),
    # HELP/TYPE names are the raw bytes between the quotes: Prometheus does not unescape them.
    ("escapes stay raw", b'# TYPE "a\\"b" gauge\n', {'a\\"b': Metadata(type="gauge")}),
    ("raw line feed", b'# TYPE "abc\ndef" counter\n', {"abc\ndef": Metadata(type="counter")}),
    ("invalid UTF-8 name", b'# HELP "a\xff" x\n', {"a\udcff": Metadata(help="x")}),
    ("UTF-8 name", '# HELP "€" Euro\n'.encode(), {"€": Metadata(help="Euro")}),
    # The text starts one byte after the name, whatever that byte is.
    ("no blank after the name", b'# HELP "a"b text\n', {"a": Metadata(help=" text")}),
    (
        "quoted and bare spellings are one family",
        b'# TYPE "a" counter\n# HELP a x\n',
        {"a": Metadata(type="counter", help="x")},
    ),
]


REJECTED: Rejected = [
    (
        "quoted name outside braces",
        b'"a" 1\n',
        1,
        'expected a valid start token, got "\\"" ("INVALID") while parsing: "\\""',
    ),
    ("bare and quoted name", b'a{"b"} 1\n', 1, 'metric name already set while parsing: "a{\\"b\\"}"'),
    ("two quoted names", b'{"a","b"} 1\n', 1, 'metric name already set while parsing: "{\\"a\\",\\"b\\"}"'),
    (
        "name set twice, later line",
        b'# HELP a\n{"a","b"="c","d"} 1\n',
        2,
        'metric name already set while parsing: "{\\"a\\",\\"b\\"=\\"c\\",\\"d\\"}"',
    ),
    ("quoted label only", b'{"a"="b"} 1\n', 1, 'metric name not set while parsing: "{\\"a\\"=\\"b\\"} 1"'),
    (
        "unquoted dotted metric name",
        b"my.metric 1\n",
        1,
        'strconv.ParseFloat: parsing ".metric": invalid syntax while parsing: "my.metric"',
    ),
    (
        "unquoted dotted label name",
        b'{"a",b.c="d"} 1\n',
        1,
        'expected equal, got "." ("INVALID") while parsing: "{\\"a\\",b."',
    ),
    (
        "two quoted strings",
        b'{"a" "b"} 1\n',
        1,
        'expected equal, got "\\"b\\"}" ("QSTRING") while parsing: "{\\"a\\" \\"b\\"}"',
    ),
    (
        "quoted label without value",
        b'{"a"=} 1\n',
        1,
        'expected label value, got "}" ("INVALID") while parsing: "{\\"a\\"=}"',
    ),
    (
        "comma first",
        b'{,"a"} 1\n',
        1,
        'expected label name, got ",\\"" ("COMMA") while parsing: "{,\\""',
    ),
    (
        "null byte in a quoted name",
        b'{"a\x00b"} 1\n',
        1,
        'expected label name, got "\\"a\\x00" ("INVALID") while parsing: "{\\"a\\x00"',
    ),
    (
        "backslash line feed in a quoted name",
        b'{"a\\\n"} 1\n',
        1,
        'expected label name, got "\\"a\\\\\\n" ("INVALID") while parsing: "{\\"a\\\\\\n"',
    ),
    (
        "unterminated label block",
        b'{"a"',
        1,
        'expected equal, got "\\n" ("INVALID") while parsing: "{\\"a\\"\\n"',
    ),
    (
        "line feed inside the braces",
        b'{"a"\n} 1\n',
        1,
        'expected equal, got "\\n" ("INVALID") while parsing: "{\\"a\\"\\n"',
    ),
    (
        "second label block",
        b'{"a"}{b="c"} 1\n',
        1,
        'expected value after metric, got "{b" ("BOPEN") while parsing: "{\\"a\\"}{b"',
    ),
    (
        "null byte before a value",
        b'{"a"=\x00"b"} 1\n',
        1,
        'expected label value, got "\\x00" ("INVALID") while parsing: "{\\"a\\"=\\x00"',
    ),
    ("no blank before the type", b'# TYPE "my.metric"counter\n', 1, 'invalid metric type "ounter"'),
    ("no type", b'# TYPE "a"\n', 1, 'invalid metric type ""'),
    (
        "unterminated TYPE name",
        b'# TYPE "abc\n',
        1,
        'expected metric name after TYPE, got "\\"abc\\n\\n" ("INVALID")'
        ' while parsing: "# TYPE \\"abc\\n\\n"',
    ),
    (
        "null byte in a HELP name",
        b'# HELP "a\x00" x\n',
        1,
        'expected metric name after HELP, got "\\"a\\x00" ("INVALID") while parsing: "# HELP \\"a\\x00"',
    ),
    (
        "error after a quoted name spanning lines",
        b'{"a\nb"} 1\nc x\n',
        3,
        'strconv.ParseFloat: parsing "x": invalid syntax while parsing: "c x"',
    ),
    (
        "error on an entry spanning lines names its first line",
        b'a 1\na{"x\ny"="v"} q\n',
        2,
        'strconv.ParseFloat: parsing "q": invalid syntax while parsing: "a{\\"x\\ny\\"=\\"v\\"} q"',
    ),
]


test_accepted, test_metadata, test_rejected = table_tests(parse, ACCEPTED, METADATA, REJECTED)


def test_error_keeps_quoted_samples_before_it() -> None:
    result = parse(b'{"a.b"} 1\n{"c.d","e.f"="g"} 2\n{"h"} x\n')
    assert samples(result) == [
        ('{"a.b"}', "a.b", (), "1", None),
        ('{"c.d","e.f"="g"}', "c.d", (("e.f", "g"),), "2", None),
    ]
    assert result.error is not None and result.error.line == 3


# ---- what name validation then says of the parsed series (REFERENCE §7) ----

VALIDITY = [
    # (body, valid under legacy, valid under utf8)
    (b'a_b{c_d="1"} 1\n', True, True),
    (b'{"a_b","c_d"="1"} 1\n', True, True),
    (b'{"my.metric"} 1\n', False, True),
    (b'my_metric{"a.b"="v"} 1\n', False, True),
    (b'a{"a:b"="v"} 1\n', False, True),
    ('{"Heizöl","ö"="ü"} 1\n'.encode(), False, True),
    (b'{"a\xff"} 1\n', False, False),
    (b'a{"\xff"="v"} 1\n', False, False),
    (b'{""} 1\n', False, False),
]


@pytest.mark.parametrize(("body", "legacy", "utf8"), VALIDITY, ids=repr)
def test_parsed_names_under_each_validation_scheme(body: bytes, legacy: bool, utf8: bool) -> None:
    result = parse(body)
    assert result.error is None
    [(name, labels)] = result.series.values()
    for scheme, valid in (("legacy", legacy), ("utf8", utf8)):
        names_ok = is_valid_metric_name(name, scheme) and all(
            is_valid_label_name(label, scheme) for label, _ in labels
        )
        assert names_ok == valid, scheme


# ---- prometheus_client's exposition of UTF-8 names, under every escaping scheme ----


class Utf8Families:
    """A collector with UTF-8 names in every place a name goes (no created samples: deterministic)."""

    def collect(self) -> list[Metric]:
        counter = CounterMetricFamily("my.counter", "Help \\ with\nnewline", labels=["label.x", "ok"])
        counter.add_metric(['v"1\\\n', "b"], 3)
        histogram = HistogramMetricFamily("http.request.duration", "h", labels=["route"])
        histogram.add_metric(["/a"], buckets=[("0.5", 0), ("1", 1), ("+Inf", 1)], sum_value=0.7)
        summary = SummaryMetricFamily("plain_summary", "s", labels=["a.b"])
        summary.add_metric(["x"], count_value=1, sum_value=1)
        return [counter, GaugeMetricFamily("Heizölrückstoß 10€", "umlauts", value=2.5), histogram, summary]


@pytest.mark.parametrize("scheme", ["allow-utf-8", "underscores", "dots", "values"])
def test_prometheus_client_exposition(scheme: str) -> None:
    """Each name arrives quoted (allow-utf-8) or escaped exactly as names.escape_name says."""
    registry = CollectorRegistry()
    registry.register(Utf8Families())
    result = parse(generate_latest(registry, escaping=scheme))
    assert result.error is None
    families = Utf8Families().collect()
    expected = []
    for family in families:
        for sample in family.samples:
            labels = {escape_name(k, scheme): v for k, v in sample.labels.items()}
            if family.type == "histogram" and "le" in labels:
                labels["le"] = canonical_float_label(labels["le"])
            expected.append((escape_name(sample.name, scheme), sorted(labels.items()), sample.value))
    got = [
        (result.series[key][0], sorted(result.series[key][1]), value)
        for key, value in zip(result.keys, result.values, strict=True)
    ]
    assert got == expected
    assert result.metadata == {
        escape_name(family.name + ("_total" if family.type == "counter" else ""), scheme): Metadata(
            type=family.type, help=family.documentation
        )
        for family in families
    }


# ---- properties: any name round-trips; hostile bytes never raise ----

NAME_TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=20)


def quoted(name: str) -> str:
    """How expfmt and prometheus_client write a name that needs quotes."""
    return '"' + name.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"') + '"'


@settings(max_examples=300, deadline=None)
@given(NAME_TEXT, NAME_TEXT)
def test_any_name_round_trips(name: str, label: str) -> None:
    body = f'# TYPE {quoted(name)} gauge\n{{{quoted(name)},{quoted(label)}="v"}} 1\n'.encode()
    result = parse(body)
    assert result.error is None
    assert list(result.series.values()) == [(name, ((label, "v"),))]
    assert list(result.metadata) == [quoted(name)[1:-1]]


FRAGMENTS = [
    b"{",
    b"}",
    b'"',
    b",",
    b"=",
    b"\\",
    b"\n",
    b" ",
    b"\t",
    b"\x00",
    b"#",
    b"# HELP ",
    b"# TYPE ",
    b"counter",
    b"a",
    b".",
    b"1",
    b"\xc3\xa9",
    b"\xff",
    b'{"a.b"',
    b'"c.d"="e"',
]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=40))
def test_hostile_bodies_never_raise(fragments: list[bytes]) -> None:
    result = parse(b"".join(fragments))
    assert result.error is None or (isinstance(result.error, ParseError) and result.error.line >= 1)
    assert all(key in result.series for key in result.keys)


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain; version=1.0.0; escaping=allow-utf-8; charset=utf-8",
        "text/plain; version=0.0.4; charset=utf-8",
        None,
    ],
)
def test_quoted_names_whatever_version_was_negotiated(content_type: str | None) -> None:
    """The parser is chosen by media type alone, and Prometheus's accepts quoted names in any version."""
    result = exposition.new(b'# TYPE "my.metric" gauge\n{"my.metric","a.b"="c"} 1\n', content_type).parse()
    assert result.error is None
    assert list(result.series.values()) == [("my.metric", (("a.b", "c"),))]
    assert result.metadata == {"my.metric": Metadata(type="gauge")}


NAME_BYTES = st.lists(
    st.sampled_from(
        [
            b"a",
            b".",
            b" ",
            b"{",
            b"}",
            b",",
            b"=",
            b"\xc3\xa9",
            b"\\\\",
            b'\\"',
            b"\\n",
            b"\n",
            b"\x00",
            b"\xff",
        ]
    ),
    max_size=4,
).map(b"".join)
VALUE_BYTES = st.lists(
    st.sampled_from([b"x", b"1", b"\\\\", b'\\"', b"\\n", b"\\q", b"\n", b"\x00", b"\xff", b" "]), max_size=3
).map(b"".join)
LABEL_BYTES = st.tuples(
    st.one_of(st.sampled_from([b"a", b"le", b"quantile", b"_x"]), NAME_BYTES.map(lambda n: b'"' + n + b'"')),
    VALUE_BYTES,
).map(lambda pair: pair[0] + b'="' + pair[1] + b'"')
QUOTED_LINE = st.tuples(
    NAME_BYTES,
    st.lists(LABEL_BYTES, max_size=3),
    st.sampled_from([b"", b","]),
    st.sampled_from([b" ", b"\t", b"", b" \t "]),
    st.sampled_from([b"1", b"-2.5", b"NaN", b"x", b"1_0", b"+Inf"]),
    st.sampled_from([b"", b" 123", b" -1", b" 1.5", b" \t"]),
).map(
    lambda p: (
        b'{"' + p[0] + b'"' + b"".join(b"," + label for label in p[1]) + p[2] + b"}" + p[3] + p[4] + p[5]
    )
)


@settings(max_examples=500, deadline=None)
@given(
    st.sampled_from([b"", b'# TYPE "h" histogram\n', b"# TYPE s summary\n"]),
    st.lists(QUOTED_LINE, min_size=1, max_size=4),
)
def test_quoted_line_shortcut_matches_the_lexer(header: bytes, lines: list[bytes]) -> None:
    """Lines near the quoted-name shortcut's edges: parse() insists the lexer alone agrees."""
    result = parse(header + b"\n".join(lines) + b"\n")
    assert all(key in result.series for key in result.keys)
