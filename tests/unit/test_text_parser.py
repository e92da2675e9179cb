"""The careful text parser against Prometheus's own tests (model/textparse/promparse_test.go) and
every rule of REFERENCE §3, with exact series, values, metadata and error texts. Quoted (1.0.0)
names have their own file, test_text_utf8.py."""

import struct
from collections.abc import Callable

import pytest
from promscrape import exposition
from promscrape.exposition import Exposition, Metadata, ParseError
from promscrape.exposition.fast import FastTextParser
from promscrape.exposition.floats import format_go
from promscrape.exposition.text import make_series, parse_text

Sample = tuple[str, str, tuple[tuple[str, str], ...], str, int | None]


def snapshot(result: Exposition) -> dict[str, object]:
    """Everything a text parse answers, NaN bits included."""
    return {
        "keys": result.keys,
        "values": [struct.pack("<d", value) for value in result.values],
        "timestamps": result.timestamps,
        "series": dict(result.series),
        "empty_labels": dict(result.empty_labels),
        "metadata": result.metadata,
        "error": None if result.error is None else str(result.error),
    }


def parse(body: bytes) -> Exposition:
    """Parse both ways (line shortcut on and off) and insist they agree exactly."""
    result = parse_text(body)
    assert snapshot(parse_text(body, line_shortcut=False)) == snapshot(result)
    return result


def samples(result: Exposition) -> list[Sample]:
    return [
        (key, *result.series[key], format_go(value), ts)
        for key, value, ts in zip(result.keys, result.values, result.timestamps, strict=True)
    ]


Accepted = list[tuple[str, bytes, list[Sample]]]
MetadataCases = list[tuple[str, bytes, dict[str, Metadata]]]
Rejected = list[tuple[str, bytes, int, str]]
TableTest = Callable[..., None]


def table_tests(
    parse: Callable[[bytes], Exposition], accepted: Accepted, metadata: MetadataCases, rejected: Rejected
) -> tuple[TableTest, TableTest, TableTest]:
    """The table tests of a text test module over its own `parse`: bodies accepted with their
    samples (id, body, samples), their metadata (id, body, metadata), and bodies rejected with the
    error's line and text (id, body, line, message). This module and test_text_utf8.py each bind
    them to their own tables as `test_accepted`, `test_metadata` and `test_rejected`."""

    @pytest.mark.parametrize(
        ("body", "expected"), [case[1:] for case in accepted], ids=[case[0] for case in accepted]
    )
    def test_accepted(body: bytes, expected: list[Sample]) -> None:
        result = parse(body)
        assert result.error is None
        assert samples(result) == expected

    @pytest.mark.parametrize(
        ("body", "expected"), [case[1:] for case in metadata], ids=[case[0] for case in metadata]
    )
    def test_metadata(body: bytes, expected: dict[str, Metadata]) -> None:
        result = parse(body)
        assert result.error is None
        assert result.metadata == expected

    @pytest.mark.parametrize(
        ("body", "line", "message"), [case[1:] for case in rejected], ids=[case[0] for case in rejected]
    )
    def test_rejected(body: bytes, line: int, message: str) -> None:
        result = parse(body)
        assert isinstance(result.error, ParseError)
        assert (result.error.line, result.error.message) == (line, message)
        assert str(result.error) == f"line {line}: {message}"

    return test_accepted, test_metadata, test_rejected


def error_of(body: bytes) -> str | None:
    result = parse(body)
    return None if result.error is None else str(result.error)


# ---- Prometheus's TestPromParse ----

PROM_INPUT = (
    b"# HELP go_gc_duration_seconds A summary of the GC invocation durations.\n"
    b"# \tTYPE go_gc_duration_seconds summary\n"
    b'go_gc_duration_seconds{quantile="0"} 4.9351e-05\n'
    b'go_gc_duration_seconds{quantile="0.25",} 7.424100000000001e-05\n'
    b'go_gc_duration_seconds{quantile="0.5",a="b"} 8.3835e-05\n'
    b'go_gc_duration_seconds{quantile="0.8", a="b"} 8.3835e-05\n'
    b'go_gc_duration_seconds{ quantile="0.9", a="b"} 8.3835e-05\n'
    b"# Hrandom comment starting with prefix of HELP\n"
    b"#\n"
    b'wind_speed{A="2",c="3"} 12345\n'
    b"# comment with escaped \\n newline\n"
    b"# comment with escaped \\ escape character\n"
    b"# HELP nohelp1\n"
    b"# HELP nohelp2 \n"
    b'go_gc_duration_seconds{ quantile="1.0", a="b" } 8.3835e-05\n'
    b'go_gc_duration_seconds { quantile="1.0", a="b" } 8.3835e-05\n'
    b'go_gc_duration_seconds { quantile= "1.0", a= "b", } 8.3835e-05\n'
    b'go_gc_duration_seconds { quantile = "1.0", a = "b" } 8.3835e-05\n'
    b'go_gc_duration_seconds { quantile = "2.0" a = "b" } 8.3835e-05\n'
    b"go_gc_duration_seconds_count 99\n"
    b'some:aggregate:rate5m{a_b="c"}\t1\n'
    b"# HELP go_goroutines Number of goroutines that currently exist.\n"
    b"# TYPE go_goroutines gauge\n"
    b"go_goroutines 33  \t123123\n"
    b"_metric_starting_with_underscore 1\n"
    b'testmetric{_label_starting_with_underscore="foo"} 1\n'
    b'testmetric{label="\\"bar\\""} 1\n'
    b"# HELP metric foo\x00bar\n"
    b'null_byte_metric{a="abc\x00"} 1'
)


def test_prometheus_prom_parse() -> None:
    result = parse(PROM_INPUT)
    assert result.error is None
    gc = "go_gc_duration_seconds"
    assert samples(result) == [
        (f'{gc}{{quantile="0"}}', gc, (("quantile", "0.0"),), "4.9351e-05", None),
        (f'{gc}{{quantile="0.25",}}', gc, (("quantile", "0.25"),), "7.424100000000001e-05", None),
        (f'{gc}{{quantile="0.5",a="b"}}', gc, (("quantile", "0.5"), ("a", "b")), "8.3835e-05", None),
        (f'{gc}{{quantile="0.8", a="b"}}', gc, (("quantile", "0.8"), ("a", "b")), "8.3835e-05", None),
        (f'{gc}{{ quantile="0.9", a="b"}}', gc, (("quantile", "0.9"), ("a", "b")), "8.3835e-05", None),
        ('wind_speed{A="2",c="3"}', "wind_speed", (("A", "2"), ("c", "3")), "12345", None),
        (f'{gc}{{ quantile="1.0", a="b" }}', gc, (("quantile", "1.0"), ("a", "b")), "8.3835e-05", None),
        (f'{gc} {{ quantile="1.0", a="b" }}', gc, (("quantile", "1.0"), ("a", "b")), "8.3835e-05", None),
        (f'{gc} {{ quantile= "1.0", a= "b", }}', gc, (("quantile", "1.0"), ("a", "b")), "8.3835e-05", None),
        (f'{gc} {{ quantile = "1.0", a = "b" }}', gc, (("quantile", "1.0"), ("a", "b")), "8.3835e-05", None),
        (f'{gc} {{ quantile = "2.0" a = "b" }}', gc, (("quantile", "2.0"), ("a", "b")), "8.3835e-05", None),
        (f"{gc}_count", f"{gc}_count", (), "99", None),
        ('some:aggregate:rate5m{a_b="c"}', "some:aggregate:rate5m", (("a_b", "c"),), "1", None),
        ("go_goroutines", "go_goroutines", (), "33", 123123),
        ("_metric_starting_with_underscore", "_metric_starting_with_underscore", (), "1", None),
        (
            'testmetric{_label_starting_with_underscore="foo"}',
            "testmetric",
            (("_label_starting_with_underscore", "foo"),),
            "1",
            None,
        ),
        ('testmetric{label="\\"bar\\""}', "testmetric", (("label", '"bar"'),), "1", None),
        ('null_byte_metric{a="abc\x00"}', "null_byte_metric", (("a", "abc\x00"),), "1", None),
    ]
    assert result.metadata == {
        gc: Metadata(type="summary", help="A summary of the GC invocation durations."),
        "nohelp1": Metadata(help=""),
        "nohelp2": Metadata(help=""),
        "go_goroutines": Metadata(type="gauge", help="Number of goroutines that currently exist."),
        "metric": Metadata(help="foo\x00bar"),
    }


# Prometheus's TestPromParseErrors and TestPromNullByteHandling, word for word (our line prefix added).
PROMETHEUS_ERRORS = [
    (b"a", 'expected value after metric, got "\\n" ("INVALID") while parsing: "a\\n"'),
    (b"a{b='c'} 1\n", 'expected label value, got "\'" ("INVALID") while parsing: "a{b=\'"'),
    (b"a{b=\n", 'expected label value, got "\\n" ("INVALID") while parsing: "a{b=\\n"'),
    (b'a{\xff="foo"} 1\n', 'expected label name, got "\\xff" ("INVALID") while parsing: "a{\\xff"'),
    (b'a{b="\xff"} 1\n', 'invalid UTF-8 label value: "\\"\\xff\\""'),
    (b'{"a", "b = "c"}', 'expected equal, got "c\\"" ("LNAME") while parsing: "{\\"a\\", \\"b = \\"c\\""'),
    (b'{"a",b\\nc="d"} 1', 'expected equal, got "\\\\" ("INVALID") while parsing: "{\\"a\\",b\\\\"'),
    (b"a true\n", 'strconv.ParseFloat: parsing "true": invalid syntax while parsing: "a true"'),
    (
        b'something_weird{problem="',
        'expected label value, got "\\"\\n" ("INVALID") while parsing: "something_weird{problem=\\"\\n"',
    ),
    (
        b'empty_label_name{=""} 0',
        'expected label name, got "=\\"" ("EQUAL") while parsing: "empty_label_name{=\\""',
    ),
    (b"foo 1_2\n", 'unsupported character in float while parsing: "foo 1_2"'),
    (b"foo 0x1p-3\n", 'unsupported character in float while parsing: "foo 0x1p-3"'),
    (b"foo 0x1P-3\n", 'unsupported character in float while parsing: "foo 0x1P-3"'),
    (b"foo 0 1_2\n", 'expected next entry after timestamp, got "_" ("INVALID") while parsing: "foo 0 1_"'),
    (b'{a="ok"} 1', 'metric name not set while parsing: "{a=\\"ok\\"} 1"'),
    (b"# TYPE #\n#EOF\n", 'expected metric name after TYPE, got "#" ("INVALID") while parsing: "# TYPE #"'),
    (b"# HELP #\n#EOF\n", 'expected metric name after HELP, got "#" ("INVALID") while parsing: "# HELP #"'),
    (b'a{b=\x00"ssss"} 1\n', 'expected label value, got "\\x00" ("INVALID") while parsing: "a{b=\\x00"'),
    (
        b'a{b="\x00',
        'expected label value, got "\\"\\x00\\n" ("INVALID") while parsing: "a{b=\\"\\x00\\n"',
    ),
    (b'a{b\x00="hiih"}\t1', 'expected equal, got "\\x00" ("INVALID") while parsing: "a{b\\x00"'),
    (b'a\x00{b="ddd"} 1', 'expected value after metric, got "\\x00" ("INVALID") while parsing: "a\\x00"'),
    (
        b"a 0 1\x00",
        'expected next entry after timestamp, got "\\x00" ("INVALID") while parsing: "a 0 1\\x00"',
    ),
]


@pytest.mark.parametrize(("body", "message"), PROMETHEUS_ERRORS, ids=lambda v: repr(v)[:40])
def test_prometheus_parse_errors(body: bytes, message: str) -> None:
    result = parse(body)
    assert result.keys == []
    assert isinstance(result.error, ParseError)
    assert result.error.message == message
    assert result.error.line == 1
    assert str(result.error) == f"line 1: {message}"


@pytest.mark.parametrize(
    ("body", "labels"),
    [
        (b'null_byte_metric{a="abc\x00"} 1', (("a", "abc\x00"),)),
        (b'a{b="\x00ss"} 1\n', (("b", "\x00ss"),)),
        (b'a{b="\x00"} 1\n', (("b", "\x00"),)),
    ],
)
def test_prometheus_null_bytes_in_label_values(body: bytes, labels: tuple[tuple[str, str], ...]) -> None:
    result = parse(body)
    assert result.error is None
    assert [labels_ for _, labels_ in result.series.values()] == [labels]


# ---- REFERENCE §3, rule by rule ----

ACCEPTED: Accepted = [
    ("space separators", b"a  1   2\n", [("a", "a", (), "1", 2)]),
    ("tab separators", b'a{b="c"}\t\t1 \t 2 \t\n', [('a{b="c"}', "a", (("b", "c"),), "1", 2)]),
    ("no separator after brace", b'a{b="c"}1\n', [('a{b="c"}', "a", (("b", "c"),), "1", None)]),
    ("space before brace", b'a {b="c"} 1\n', [('a {b="c"}', "a", (("b", "c"),), "1", None)]),
    # Prometheus slices the name (and the series) from the line start: leading blanks stay in it
    # (checked against Debian's Prometheus 2.42: " a 1" fails with `invalid metric name or label
    # names: {__name__=" a", ...}`), so legacy name validation rejects such a line later.
    ("leading spaces", b"  a 1\n", [("  a", "  a", (), "1", None)]),
    ("leading tab", b'\ta{b="c"} 1\n', [('\ta{b="c"}', "\ta", (("b", "c"),), "1", None)]),
    ("blank lines", b"\n\n  \t\na 1\n\n", [("a", "a", (), "1", None)]),
    ("no final newline", b"a 1", [("a", "a", (), "1", None)]),
    ("empty body", b"", []),
    ("raw LF in label value", b'a{b="x\ny"} 1\n', [('a{b="x\ny"}', "a", (("b", "x\ny"),), "1", None)]),
    (
        "escapes",
        b'a{b="\\\\ \\" \\n \\t \\z"} 1\n',
        [('a{b="\\\\ \\" \\n \\t \\z"}', "a", (("b", '\\ " \n \\t \\z'),), "1", None)],
    ),
    ("escaped backslash before n", b'a{b="\\\\n"} 1\n', [('a{b="\\\\n"}', "a", (("b", "\\n"),), "1", None)]),
    ("trailing comma", b'a{b="1",} 1\n', [('a{b="1",}', "a", (("b", "1"),), "1", None)]),
    (
        "missing comma",
        b'x { a = "1" b = "2" } 1\n',
        [('x { a = "1" b = "2" }', "x", (("a", "1"), ("b", "2")), "1", None)],
    ),
    ("empty braces", b"a{} 1\n", [("a{}", "a", (), "1", None)]),
    ("empty value is absent", b'a{b="",c="1"} 1\n', [('a{b="",c="1"}', "a", (("c", "1"),), "1", None)]),
    ("empty value drops every b", b'a{b="2",b=""} 1\n', [('a{b="2",b=""}', "a", (), "1", None)]),
    ("empty __name__ drops the name", b'a{__name__=""} 1\n', [('a{__name__=""}', "", (), "1", None)]),
    (
        "duplicates stay for the pipeline",
        b'a{b="1",b="2"} 1\n',
        [('a{b="1",b="2"}', "a", (("b", "1"), ("b", "2")), "1", None)],
    ),
    (
        "explicit __name__ stays",
        b'a{__name__="x"} 1\n',
        [('a{__name__="x"}', "a", (("__name__", "x"),), "1", None)],
    ),
    (
        "label order as written",
        b'a{z="1",a="2"} 1\n',
        [('a{z="1",a="2"}', "a", (("z", "1"), ("a", "2")), "1", None)],
    ),
    (
        "keys as written",
        b'a{x="1",y="2"} 1\na{y="2",x="1"} 2\na{x="1",y="2"} 3\n',
        [
            ('a{x="1",y="2"}', "a", (("x", "1"), ("y", "2")), "1", None),
            ('a{y="2",x="1"}', "a", (("y", "2"), ("x", "1")), "2", None),
            ('a{x="1",y="2"}', "a", (("x", "1"), ("y", "2")), "3", None),
        ],
    ),
    ("value right after name sign", b"a-1 2\n", [("a", "a", (), "-1", 2)]),
    ("timestamp zero", b"a 1 0\n", [("a", "a", (), "1", 0)]),
    ("timestamp int64 max", b"a 1 9223372036854775807\n", [("a", "a", (), "1", 9223372036854775807)]),
    (
        "special values",
        b"a NaN\nb nan\nc +Inf\nd -inf\ne Infinity\nf -INFINITY\n",
        [
            ("a", "a", (), "NaN", None),
            ("b", "b", (), "NaN", None),
            ("c", "c", (), "+Inf", None),
            ("d", "d", (), "-Inf", None),
            ("e", "e", (), "+Inf", None),
            ("f", "f", (), "-Inf", None),
        ],
    ),
    (
        "numbers",
        b"a .5\nb 5.\nc +5\nd 1E5\ne 1e-400\nf -0\n",
        [
            ("a", "a", (), "0.5", None),
            ("b", "b", (), "5", None),
            ("c", "c", (), "5", None),
            ("d", "d", (), "100000", None),
            ("e", "e", (), "0", None),
            ("f", "f", (), "-0", None),
        ],
    ),
    (
        "null byte in label value",
        b'a{b="x\x00y"} 1\n',
        [('a{b="x\x00y"}', "a", (("b", "x\x00y"),), "1", None)],
    ),
    # The lexer skips nulls in label values, even after the closing quote: they end up inside.
    ("null after closing quote", b'a{b="c"\x00} 1\n', [('a{b="c"\x00}', "a", (("b", 'c"'),), "1", None)]),
    (
        "null after blank before value",
        b'a{b= \x00"c"} 1\n',
        [('a{b= \x00"c"}', "a", (("b", "c"),), "1", None)],
    ),
    ("invalid UTF-8 in comments", b"# \xff\xfe\n#\xff\na 1\n", [("a", "a", (), "1", None)]),
    (
        "UTF-8 label value",
        'a{b="€ é 😀"} 1\n'.encode(),
        [('a{b="€ é 😀"}', "a", (("b", "€ é 😀"),), "1", None)],
    ),
]


def test_nan_is_normalised_to_prometheus_bits() -> None:
    result = parse(b"a NaN\nb nan\n")
    assert [struct.unpack("<Q", struct.pack("<d", v))[0] for v in result.values] == [0x7FF8000000000001] * 2


# A null byte where the lexer starts a token in the initial state (or right after `#`) is EOF:
# parsing ends there, successfully, with what came before.
@pytest.mark.parametrize(
    ("body", "keys"),
    [
        (b"a 1\n\x00b 2\n", ["a"]),
        (b"#\x00\na 1\n", []),
        (b"# \x00\na 1\n", []),
        (b"#x\x00y\na 1\n", []),
        (b"# x\x00y\na 1\n", ["a"]),
        (b"a 1\n  \x00\nb 2\n", ["a"]),
    ],
)
def test_null_byte_ends_input(body: bytes, keys: list[str]) -> None:
    result = parse(body)
    assert result.error is None
    assert result.keys == keys


METADATA: MetadataCases = [
    ("help and type", b"# HELP a The a.\n# TYPE a counter\n", {"a": Metadata(type="counter", help="The a.")}),
    (
        "every type",
        b"# TYPE a counter\n# TYPE b gauge\n# TYPE c histogram\n# TYPE d summary\n# TYPE e untyped\n",
        {
            "a": Metadata(type="counter"),
            "b": Metadata(type="gauge"),
            "c": Metadata(type="histogram"),
            "d": Metadata(type="summary"),
            "e": Metadata(type="unknown"),
        },
    ),
    ("one separator byte removed", b"# HELP a  two  spaces \n", {"a": Metadata(help=" two  spaces ")}),
    ("tab separator", b"# HELP a\tx\n", {"a": Metadata(help="x")}),
    ("first byte removed whatever it is", b"# HELP a-b c\n", {"a": Metadata(help="b c")}),
    ("blank help", b"# HELP a   \n", {"a": Metadata(help="")}),
    ("no help text", b"# HELP a\n", {"a": Metadata(help="")}),
    ("help escapes", b'# HELP a x\\\\y\\nz\\"q\\t\n', {"a": Metadata(help='x\\y\nz\\"q\\t')}),
    ("help keeps CR", b"# HELP a text\r\n", {"a": Metadata(help="text\r")}),
    ("help null byte", b"# HELP a x\x00y\n", {"a": Metadata(help="x\x00y")}),
    ("many blanks after #", b"#  \t HELP \t a x\n", {"a": Metadata(help="x")}),
    ("nulls inside the keyword", b"# HE\x00LP a b\n", {"a": Metadata(help="b")}),
    ("last help wins", b"# HELP a x\n# HELP a y\n", {"a": Metadata(help="y")}),
    ("not metadata", b"# HELPa x\n#HELP a x\n# help a x\n# HELP\n", {}),
]


REJECTED: Rejected = [
    ("two blanks before type", b"# TYPE m  counter\n", 1, 'invalid metric type " counter"'),
    ("trailing blank after type", b"# TYPE m counter \n", 1, 'invalid metric type "counter "'),
    ("unknown type", b"# TYPE m info\n", 1, 'invalid metric type "info"'),
    ("type case", b"# TYPE m Counter\n", 1, 'invalid metric type "Counter"'),
    ("empty type", b"# TYPE m\n", 1, 'invalid metric type ""'),
    ("invalid UTF-8 type", b"# TYPE m \xff\n", 1, 'invalid metric type "\\xff"'),
    (
        "CRLF sample",
        b"a 1\r\n",
        1,
        'strconv.ParseFloat: parsing "1\\r": invalid syntax while parsing: "a 1\\r"',
    ),
    (
        "CRLF timestamp",
        b"a 1 2\r\n",
        1,
        'expected next entry after timestamp, got "\\r" ("INVALID") while parsing: "a 1 2\\r"',
    ),
    ("CRLF type", b"# TYPE a counter\r\n", 1, 'invalid metric type "counter\\r"'),
    (
        "backslash LF in label value",
        b'a{b="x\\\ny"} 1\n',
        1,
        'expected label value, got "\\"x\\\\\\n" ("INVALID") while parsing: "a{b=\\"x\\\\\\n"',
    ),
    (
        "fractional timestamp",
        b"a 1 1.5\n",
        1,
        'expected next entry after timestamp, got "." ("INVALID") while parsing: "a 1 1."',
    ),
    (
        "negative timestamp",
        b"a 1 -5\n",
        1,
        'expected timestamp or new record, got "-" ("INVALID") while parsing: "a 1 -"',
    ),
    (
        "timestamp overflow",
        b"a 1 9223372036854775808\n",
        1,
        'strconv.ParseInt: parsing "9223372036854775808": value out of range'
        ' while parsing: "a 1 9223372036854775808"',
    ),
    ("+NaN", b"a +NaN\n", 1, 'strconv.ParseFloat: parsing "+NaN": invalid syntax while parsing: "a +NaN"'),
    ("-nan", b"a -nan\n", 1, 'strconv.ParseFloat: parsing "-nan": invalid syntax while parsing: "a -nan"'),
    ("hex", b"a 0x10\n", 1, 'strconv.ParseFloat: parsing "0x10": invalid syntax while parsing: "a 0x10"'),
    ("underscore", b"a 1_000\n", 1, 'unsupported character in float while parsing: "a 1_000"'),
    (
        "non-ASCII digits",
        "a ١\n".encode(),
        1,
        'strconv.ParseFloat: parsing "١": invalid syntax while parsing: "a ١"',
    ),
    (
        "out of range",
        b"a 1e400\n",
        1,
        'strconv.ParseFloat: parsing "1e400": value out of range while parsing: "a 1e400"',
    ),
    (
        "truncated infinity",
        b"a infinit\n",
        1,
        'strconv.ParseFloat: parsing "infinit": invalid syntax while parsing: "a infinit"',
    ),
    ("help invalid UTF-8", b"# HELP a \xff\n", 1, 'help text "\\xff" is not a valid utf8 string'),
    ("label value invalid UTF-8", b'a{b="ok",c="\xc3("} 1\n', 1, 'invalid UTF-8 label value: "\\"\\xc3(\\""'),
    (
        "help name then null",
        b"# HELP a\x00x\n",
        1,
        'linebreak expected after metadata, got "\\x00x" ("EOF") while parsing: "# HELP a\\x00x"',
    ),
    (
        "help without name",
        b"# HELP \n",
        1,
        'expected metric name after HELP, got "\\n" ("INVALID") while parsing: "# HELP \\n"',
    ),
    (
        "double comma",
        b'a{b="c",,} 1\n',
        1,
        'expected label name, got ",}" ("COMMA") while parsing: "a{b=\\"c\\",,}"',
    ),
    (
        "second label block",
        b'a{b="c"}{ 1\n',
        1,
        'expected value after metric, got "{ " ("BOPEN") while parsing: "a{b=\\"c\\"}{ "',
    ),
    (
        "brace after value",
        b"a 1{\n",
        1,
        'expected timestamp or new record, got "{" ("INVALID") while parsing: "a 1{"',
    ),
    (
        "two timestamps",
        b"a 1 2 3\n",
        1,
        'expected next entry after timestamp, got "3\\n" ("TIMESTAMP") while parsing: "a 1 2 3\\n"',
    ),
    (
        "label name with dot",
        b'a{b.c="d"} 1\n',
        1,
        'expected equal, got "." ("INVALID") while parsing: "a{b."',
    ),
    (
        "multi-byte char after token",
        'a{b="c"é} 1\n'.encode(),
        1,
        'expected label name, got "\\xc3" ("INVALID") while parsing: "a{b=\\"c\\"\\xc3"',
    ),
    (
        "error on a later line",
        b"a 1\n\n# HELP a x\nb{c} 2\n",
        4,
        'expected equal, got "} " ("BCLOSE") while parsing: "b{c} "',
    ),
    (
        "line after a multi-line label value",
        b'a{b="x\ny"} 1\nc d\n',
        3,
        'strconv.ParseFloat: parsing "d": invalid syntax while parsing: "c d"',
    ),
]


test_accepted, test_metadata, test_rejected = table_tests(parse, ACCEPTED, METADATA, REJECTED)


def test_error_keeps_samples_before_it() -> None:
    result = parse(b"# TYPE a counter\na 1\nb 2 3\nc x\nd 4\n")
    assert samples(result) == [("a", "a", (), "1", None), ("b", "b", (), "2", 3)]
    assert result.metadata == {"a": Metadata(type="counter")}
    assert str(result.error) == 'line 4: strconv.ParseFloat: parsing "x": invalid syntax while parsing: "c x"'


LE_BODY = (
    b"# TYPE h histogram\n"
    b'h_bucket{le="1"} 1\n'
    b'h_bucket{le="1000000"} 1\n'
    b'h_bucket{le="1234567"} 1\n'
    b'h_bucket{le="0.00001"} 1\n'
    b'h_bucket{le="+Inf"} 1\n'
    b'h_bucket{le="0"} 1\n'
    b'h_bucket{le="-0"} 1\n'
    b'h_bucket{le="0x1p-3"} 1\n'
    b'h_bucket{le="1_0"} 1\n'
    b'h_bucket{le=" 1"} 1\n'
    b'h_bucket{le="abc"} 1\n'
    b'h_bucket{quantile="1"} 1\n'
    b'other{"le"="10"} 1\n'
    b"# TYPE s summary\n"
    b's{quantile="0"} 1\n'
    b's{quantile="0.5",le="1"} 1\n'
    b"# HELP s only help\n"
    b's{quantile="1"} 1\n'
    b"# TYPE g gauge\n"
    b'g{le="1",quantile="1"} 1\n'
)


def test_le_and_quantile_canonical_only_under_histogram_and_summary_type() -> None:
    result = parse(LE_BODY)
    assert result.error is None
    assert [labels for _, _, labels, _, _ in samples(result)] == [
        (("le", "1.0"),),
        (("le", "1e+06"),),
        (("le", "1.234567e+06"),),
        (("le", "1e-05"),),
        (("le", "+Inf"),),
        (("le", "0.0"),),
        (("le", "0.0"),),
        (("le", "0.125"),),
        (("le", "10.0"),),
        (("le", " 1"),),
        (("le", "abc"),),
        (("quantile", "1"),),
        # The last TYPE line decides, whatever family it named (p.mtype in promparse.go).
        (("le", "10.0"),),
        (("quantile", "0.0"),),
        (("quantile", "0.5"), ("le", "1")),
        (("quantile", "1.0"),),
        (("le", "1"), ("quantile", "1")),
    ]


def test_make_series_helper() -> None:
    assert make_series("h", [("le", "1"), ("x", "")], "histogram") == ("h", (("le", "1.0"),))
    assert make_series("h", [("le", "1")], "gauge") == ("h", (("le", "1"),))


# ---- exposition.new(): parser choice by media type ----


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "",
        "text/plain",
        "text/plain; version=0.0.4",
        "text/plain;version=0.0.4;charset=utf-8",
        "TEXT/Plain ; Version=1.0.0",
        "text/plain; version=1.0.0; escaping=underscores",
        "application/json",
        "text/html; charset=utf-8",
        "text",
        "garbage",
        "text/plain; version",
        "text/plain; a=1; a=2",
        "text/",
        "/plain",
        "text/plain/x",
        "application/openmetrics-text; version",
        'application/openmetrics-text; version="1.0.0',
    ],
)
def test_new_gives_the_text_parser(content_type: str | None) -> None:
    parser = exposition.new(b"a 1\n", content_type)
    assert isinstance(parser, FastTextParser)
    assert parser.parse().keys == ["a"]


def test_parse_never_raises_parse_error() -> None:
    result = exposition.new(b"a 1\nb\n", "text/plain").parse()
    assert result.keys == ["a"]
    assert (
        str(result.error)
        == 'line 2: expected value after metric, got "\\n" ("INVALID") while parsing: "b\\n"'
    )
