"""Property tests of the text parser: nothing but a returned ParseError ever comes out, the columns
stay consistent, the line shortcut never changes a result, and rendered samples parse back."""

import math
import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from promscrape.exposition import ParseError
from promscrape.exposition.floats import format_go
from promscrape.exposition.render import render_series
from promscrape.exposition.text import parse_text

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
INT64_MAX = (1 << 63) - 1

FRAGMENTS = [
    b"a",
    b"m_1",
    b":x",
    b"le",
    b"quantile",
    b"__name__",
    b"{",
    b"}",
    b"=",
    b",",
    b'"',
    b'"v"',
    b'"a.b"',
    b" ",
    b"  ",
    b"\t",
    b"\n",
    b"\r",
    b"\x00",
    b"\\",
    b"\\n",
    b'\\"',
    b"\\\\",
    b"\\z",
    b"#",
    b"# ",
    b"# HELP ",
    b"# TYPE ",
    b"HELP",
    b"TYPE",
    b"counter",
    b"histogram",
    b"summary",
    b"untyped",
    b"gauge",
    b"1",
    b"-1.5",
    b"1e3",
    b"0x1p3",
    b"1_0",
    b"NaN",
    b"+Inf",
    b"-inf",
    b"+NaN",
    b"1e400",
    b"123",
    b"9223372036854775808",
    b"\xff",
    b"\xc3",
    "é€😀".encode(),
    b".",
    b"-",
    b"_",
]


def check(body: bytes) -> None:
    """Both parse modes agree exactly, and the result is internally consistent."""
    fast = parse_text(body)
    slow = parse_text(body, line_shortcut=False)
    assert fast.keys == slow.keys
    assert [struct.pack("<d", v) for v in fast.values] == [struct.pack("<d", v) for v in slow.values]
    assert fast.timestamps == slow.timestamps
    assert dict(fast.series) == dict(slow.series)
    assert fast.metadata == slow.metadata
    assert str(fast.error) == str(slow.error)
    assert fast.error is None or (isinstance(fast.error, ParseError) and fast.error.line >= 1)
    assert len(fast.keys) == len(fast.values) == len(fast.timestamps)
    for key, value, ts in zip(fast.keys, fast.values, fast.timestamps, strict=True):
        name, labels = fast.series[key]
        assert isinstance(name, str)
        assert all(isinstance(k, str) and isinstance(v, str) and v for k, v in labels)
        assert isinstance(value, float)
        if math.isnan(value):
            assert struct.pack("<d", value) == struct.pack("<Q", 0x7FF8000000000001)
        assert ts is None or 0 <= ts <= INT64_MAX


@FUZZ
@given(st.binary(max_size=400))
def test_arbitrary_bytes(body: bytes) -> None:
    check(body)


@FUZZ
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=60).map(b"".join))
def test_token_soup(body: bytes) -> None:
    check(body)


label_pair = st.tuples(
    st.sampled_from([b"a", b"le", b"quantile", b'"x.y"', b"__name__", b"b"]),
    st.sampled_from([b"=", b" = ", b"= "]),
    st.sampled_from([b'"1"', b'""', b'"1e6"', b'"x\\ny"', b'"\xff"', b'"q\\"', b'"a\x00"', b'"0x1p-3"']),
    st.sampled_from([b",", b"", b", ", b" "]),
).map(b"".join)

near_valid_line = st.tuples(
    st.sampled_from([b"", b" ", b"\t"]),
    st.sampled_from([b"metric", b"m:1", b"_x", b"", b'{"q.name",', b"{"]),
    st.one_of(st.just(b""), st.lists(label_pair, max_size=4).map(lambda ps: b"{" + b"".join(ps) + b"}")),
    st.sampled_from([b" ", b"\t", b"  ", b""]),
    st.sampled_from([*FRAGMENTS[-20:], b"0", b"3.14", b"-Inf", b"nan"]),
    st.sampled_from([b"", b" 1700000000000", b" -1", b" 1.5", b"\t42 ", b" 9223372036854775807"]),
    st.sampled_from([b"\n", b"\r\n", b"", b" \n", b"\x00"]),
).map(b"".join)

meta_line = st.tuples(
    st.sampled_from([b"# HELP ", b"# TYPE ", b"#\tTYPE\t", b"# HELP\x00 ", b"#"]),
    st.sampled_from([b"metric", b'"m.x"', b"", b"m"]),
    st.sampled_from(
        [b" counter", b"  counter", b" histogram", b" summary", b" text \\n \\\\ x", b" \xff", b""]
    ),
    st.sampled_from([b"\n", b"\r\n", b" \n"]),
).map(b"".join)


valid_line = st.tuples(
    st.sampled_from([b"metric", b"m:1", b"_x", b'{"q.name",', b'{"q\\"n",']),
    st.lists(
        st.tuples(
            st.sampled_from([b"a", b"le", b"quantile", b'"x.y"', b"b"]),
            st.sampled_from([b'="1"', b'=""', b'="1e6"', b'="x\\ny"', b'="\xc3\xa9"', b'="a\x00"', b'= "0"']),
            st.sampled_from([b",", b", ", b" "]),
        ).map(b"".join),
        max_size=4,
    ).map(lambda ps: b"{" + b"".join(ps) + b"}"),
    st.sampled_from([b" ", b"\t", b"  "]),
    st.sampled_from([b"0", b"3.14", b"-Inf", b"nan", b"1e-3", b"+5", b"-0"]),
    st.sampled_from([b"", b" 1700000000000", b"\t42 "]),
    st.just(b"\n"),
).map(
    lambda parts: parts[0] + (parts[1][1:] if parts[0].startswith(b"{") else parts[1]) + b"".join(parts[2:])
)


@FUZZ
@given(st.lists(st.one_of(valid_line, near_valid_line, meta_line), max_size=12).map(b"".join))
def test_near_valid_lines(body: bytes) -> None:
    check(body)


@FUZZ
@given(
    st.lists(st.one_of(valid_line, near_valid_line, meta_line), min_size=1, max_size=8).map(b"".join),
    st.integers(min_value=0, max_value=10_000),
    st.binary(min_size=1, max_size=3),
)
def test_mutated_lines(body: bytes, where: int, insert: bytes) -> None:
    where %= len(body) + 1
    check(body[:where] + insert + body[where:])
    check(body[:where] + body[where + 1 :])


metric_name = st.from_regex(r"[a-zA-Z_:][a-zA-Z0-9_:]{0,12}", fullmatch=True)
label_name = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,12}", fullmatch=True).filter(
    lambda n: n not in ("le", "quantile", "__name__")
)
sample = st.tuples(
    metric_name,
    st.dictionaries(label_name, st.text(max_size=12), max_size=4),
    st.floats(allow_nan=True, allow_infinity=True),
    st.one_of(st.none(), st.integers(min_value=0, max_value=INT64_MAX)),
)


@FUZZ
@given(st.lists(sample, max_size=10))
def test_rendered_samples_parse_back(items: list[tuple[str, dict[str, str], float, int | None]]) -> None:
    lines = []
    for name, labels, value, ts in items:
        line = f"{render_series(name, tuple(labels.items()))} {format_go(value)}"
        lines.append(line if ts is None else f"{line} {ts}")
    body = "".join(f"{line}\n" for line in lines).encode()
    check(body)
    result = parse_text(body)
    assert result.error is None
    assert len(result.keys) == len(items)
    for (name, labels, value, ts), key, got, got_ts in zip(
        items, result.keys, result.values, result.timestamps, strict=True
    ):
        assert result.series[key] == (name, tuple(sorted((k, v) for k, v in labels.items() if v)))
        assert got_ts == ts
        assert (math.isnan(got) and math.isnan(value)) or struct.pack("<d", got) == struct.pack("<d", value)


def test_large_pathological_inputs_finish() -> None:
    """Long unterminated quotes, runs of backslashes and blanks: linear work, a clear error."""
    for body, message_start in [
        (b'a{b="' + b"x" * 200_000, "expected label value"),
        (b'a{b="' + b"\\\\" * 100_000 + b"\\\n", "expected label value"),
        (b"a" + b" " * 200_000 + b"x", "strconv.ParseFloat"),
        (b'{"' + b"\n" * 100_000, "expected label name"),
        (b"# HELP " + b"x" * 200_000 + b" \xff\n", "help text"),
    ]:
        result = parse_text(body)
        assert result.error is not None
        assert result.error.message.startswith(message_start)
    assert len(parse_text(b"a 1\n" * 50_000).keys) == 50_000
