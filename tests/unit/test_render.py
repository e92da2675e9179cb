"""render_samples: one exact line per sample, labels sorted, values in Go's float format."""

import math

import pytest
from promscrape.exposition import Exposition
from promscrape.exposition.render import escape, render_samples, render_series
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
