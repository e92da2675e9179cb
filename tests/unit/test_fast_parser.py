"""The fast text path against the careful parser: identical Expositions, error line numbers included."""

import struct
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from promscrape.exposition import fast, text
from promscrape.exposition.model import Exposition

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import payloads


def snapshot(exposition: Exposition) -> dict[str, object]:
    """Everything an Exposition says, NaN bits included, `series` read through every key."""
    return {
        "keys": exposition.keys,
        "values": [struct.pack("<d", value) for value in exposition.values],
        "timestamps": exposition.timestamps,
        "series": {key: exposition.series[key] for key in exposition.keys},
        "series_mapping": dict(exposition.series),
        "empty_labels": dict(exposition.empty_labels),
        "metadata": {name: (m.type, m.help, m.unit) for name, m in exposition.metadata.items()},
        "error": None if exposition.error is None else str(exposition.error),
    }


def assert_same(body: bytes) -> bool:
    """Fast and careful agree on body; True when the fast path took it (did not fall back)."""
    assert snapshot(fast.parse(body)) == snapshot(text.parse_text(body))
    return fast.parse_canonical(body) is not None


def test_conformance_files(conformance_dir: Path) -> None:
    files = sorted((conformance_dir / "prometheus").iterdir())
    assert files
    taken = {path.name: assert_same(path.read_bytes()) for path in files}
    assert taken["alltypes.237mfs.prom.txt"] and taken["expfmt-text"]


@pytest.mark.parametrize("series", [1, 1000])
def test_benchmark_payloads_take_the_fast_path(series: int) -> None:
    assert assert_same(payloads.generate(series))


CASES = [
    # (body, whether the fast path takes it)
    pytest.param(b"", True, id="empty"),
    pytest.param(b"a 1\n", True, id="bare"),
    pytest.param(b"a 1", True, id="no-final-newline"),
    pytest.param(b'a{x="1",y="2"} 3\nb{} 4\n', True, id="labels-and-empty-braces"),
    pytest.param(b'a{x="1",} 3\n', True, id="trailing-comma"),
    pytest.param(b'a{x="1"y="2"} 3\n', False, id="missing-comma"),
    pytest.param(b'a{x="1",y=""} 3\n', True, id="empty-value"),
    pytest.param(
        b'a{job=""} 1\nb{job="",x="1"} 2\nc{instance=""} 3\nd{x="1"} 4\na{job=""} 5\n'
        b'e{x="",y="",x="2"} 6\nf{__name__=""} 7\ng{x="=",y="a="} 8\n',
        True,
        id="empty-values-for-honor-labels",
    ),
    pytest.param(b'a{job="",x="a\\"b"} 1\nb{ job = "" } 2\n', False, id="empty-values-careful-only"),
    pytest.param(b'a{x="1",x="2"} 3\n', True, id="duplicate-label"),
    pytest.param(b'a{__name__="b"} 3\n', True, id="name-label"),
    pytest.param(b'a{x="with space",y="}{,="} 3\n', True, id="value-with-space-and-punctuation"),
    pytest.param(b'a{x="\xc3\xa9\xe2\x82\xac"} 3\n', True, id="utf8-value"),
    pytest.param(b'a{x="\xff"} 3\n', False, id="invalid-utf8"),
    pytest.param(b'a{x="a\\"b"} 3\n', False, id="escape"),
    pytest.param(b'a{x="a\nb"} 3\n', False, id="raw-linefeed-in-value"),
    pytest.param(b"a 1 1000\nb 2 2000\n", True, id="timestamps"),
    pytest.param(b"a 1 1000\nb 2\n", False, id="mixed-timestamps"),
    pytest.param(
        b"# HELP a x\n# TYPE a gauge\na 1 1000\n# TYPE b gauge\nb 2\n", True, id="timestamps-by-run"
    ),
    pytest.param(b'a{x="1 2"} 1\n# TYPE b gauge\nb 2 5\n', True, id="spaced-values-and-timestamps"),
    pytest.param(b"a 1 -5\n", False, id="negative-timestamp"),
    pytest.param(b"a 1 1.5\n", False, id="float-timestamp"),
    pytest.param(b"a 1 99999999999999999999\n", False, id="timestamp-overflow"),
    pytest.param(b"a NaN\nb nan\nc +Inf\nd -inf\ne Infinity\nf -INFINITY\ng inf\n", True, id="specials"),
    pytest.param(b"a +NaN\n", False, id="signed-nan"),
    pytest.param(b"a 1e400\n", False, id="out-of-range"),
    pytest.param(b"a 1_000\n", False, id="underscore"),
    pytest.param(b"a 0x1p3\n", False, id="hex"),
    pytest.param(b"a .5\nb 5.\nc +1\nd -1e-3\ne 1E+5\nf 007\n", True, id="decimal-forms"),
    pytest.param(b"a .\n", False, id="dot"),
    pytest.param(b"a 1e\n", False, id="bad-exponent"),
    pytest.param("a \u0661\n".encode(), False, id="arabic-digit"),
    pytest.param(b"a\t1\n", False, id="tab"),
    pytest.param(b"a  1\n", False, id="two-spaces"),
    pytest.param(b" a 1\n", False, id="leading-space"),
    pytest.param(b"a 1 \n", False, id="trailing-space"),
    pytest.param(b"a 1\r\n", False, id="crlf"),
    pytest.param(b"a 1\n\nb 2\n", False, id="blank-line"),
    pytest.param(b"a\n", False, id="no-value"),
    pytest.param(b"a\nb 1 2\n", False, id="misaligned-tokens"),
    pytest.param(b"a 1\x00\n", False, id="nul"),
    pytest.param(b'{"my.metric"} 1\n', False, id="quoted-name"),
    pytest.param(b"# HELP a some help text\n# TYPE a counter\na 1\n", True, id="help-type"),
    pytest.param(b"# HELP a  two spaces kept\na 1\n", True, id="help-extra-space"),
    pytest.param(b"# HELP a\n# HELP b \n# HELP c   \na 1\n", True, id="help-empty"),
    pytest.param(b"#  HELP a text\n#  TYPE a gauge\n", True, id="hash-two-spaces"),
    pytest.param(b"# TYPE a  counter\n", False, id="type-two-spaces"),
    pytest.param(b"# TYPE a counter \n", False, id="type-trailing-space"),
    pytest.param(b"# TYPE a foo\n", False, id="type-unknown"),
    pytest.param(b"# TYPE a untyped\na 1\n", True, id="untyped"),
    pytest.param(b"# HELP a x\\ny\n", False, id="help-escape"),
    pytest.param(b"# HELP\n# HELPER a b\n#HELP a b\n# a comment\n#\n# EOF\na 1\n", True, id="comments"),
    pytest.param(b"# HELP 1a b\n", False, id="help-bad-name"),
    pytest.param(b"# HELP a{ b\n", False, id="help-name-then-brace"),
    pytest.param(b'# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="1e6"} 2\n', True, id="le-canonical"),
    pytest.param(b'# TYPE s summary\ns{quantile="0.50"} 1\ns{le="1"} 2\n', True, id="quantile-only"),
    pytest.param(
        b'h{le="1"} 1\n# TYPE h histogram\nh{le="1"} 2\nh{le="2"} 3\n', True, id="first-occurrence-type"
    ),
    pytest.param(b'# TYPE h histogram\nh{le="x"} 1\nh{le=""} 2\n', True, id="le-not-a-number"),
    pytest.param(b"a 1\na 2\n", True, id="duplicate-series"),
    pytest.param(b'a{x="1"} 1\nb 2\nc{y="2",z="3"} 3\n', True, id="mixed-shapes"),
]


@pytest.mark.parametrize(("body", "taken"), CASES)
def test_edge_cases(body: bytes, taken: bool) -> None:
    assert assert_same(body) is taken


def test_series_is_a_lazy_mapping() -> None:
    exposition = fast.parse(b'a{x="1"} 1\nb 2\na{x="1"} 3\n')
    assert isinstance(exposition.series, fast.Series)
    assert len(exposition.series) == 2 and list(exposition.series) == ['a{x="1"}', "b"]
    assert "b" in exposition.series and "c" not in exposition.series
    with pytest.raises(KeyError):
        exposition.series["c"]


NAMES = st.sampled_from(["a", "b_total", "h_bucket", "s", "__name__", "le", "quantile", "x", "1x", "a.b", ""])
VALUE_TEXT = st.text(alphabet=st.sampled_from(list('ab 1.,{}="\\\n\t\x00é#+-')), max_size=6)
NUMBERS = st.sampled_from(
    [
        "1",
        "0",
        "-0",
        "1.5",
        "1e3",
        ".5",
        "5.",
        "NaN",
        "nan",
        "+Inf",
        "-inf",
        "Infinity",
        "+NaN",
        "1e400",
        "1_0",
        "0x1p3",
        "",
        "x",
        "1 2",
        "\u0661",
    ]
)
SEPARATORS = st.sampled_from([" ", " ", " ", "  ", "\t", ""])
TIMESTAMPS = st.sampled_from(["", "", " 1000", " 0", " -1", " 1.5", " 99999999999999999999"])


@st.composite
def sample_lines(draw: st.DrawFn) -> str:
    name = draw(NAMES)
    labels = draw(st.lists(st.tuples(NAMES, VALUE_TEXT), max_size=3))
    block = ""
    if labels or draw(st.booleans()):
        block = (
            "{"
            + ",".join(f'{label}="{value}"' for label, value in labels)
            + draw(st.sampled_from(["", ","]))
            + "}"
        )
    return f"{name}{block}{draw(SEPARATORS)}{draw(NUMBERS)}{draw(TIMESTAMPS)}"


METADATA = st.builds(
    lambda kind, name, rest: f"# {kind} {name}{rest}",
    st.sampled_from(["HELP", "TYPE"]),
    NAMES,
    st.sampled_from(
        ["", " counter", " histogram", " summary", " gauge", " untyped", " some help", "  x", " "]
    ),
)
LINES = st.one_of(sample_lines(), sample_lines(), sample_lines(), METADATA, st.sampled_from(["", "# c", "#"]))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(LINES, max_size=8), st.booleans())
def test_generated_expositions(lines: list[str], final_newline: bool) -> None:
    body = "\n".join(lines) + ("\n" if final_newline else "")
    assert_same(body.encode())


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c_bucket", "d"]),
            st.lists(
                st.tuples(
                    st.sampled_from(["x", "y", "le", "quantile"]), st.sampled_from(["1", "2", "0.5", ""])
                )
            ),
            st.sampled_from(["1", "0", "NaN", "2.5", "-Inf"]),
        ),
        max_size=10,
    ),
    st.lists(st.sampled_from(["# TYPE a histogram", "# TYPE c summary", "# HELP b text", "# TYPE d gauge"])),
)
def test_generated_canonical_expositions(
    samples: list[tuple[str, list[tuple[str, str]], str]], metadata: list[str]
) -> None:
    """Canonical bodies (the fast path's own ground) with TYPE lines interleaved."""
    lines = [
        f"{name}{{{','.join(f'{k}={v!r}'.replace(chr(39), chr(34)) for k, v in labels)}}} {value}"
        for name, labels, value in samples
    ]
    for index, line in enumerate(metadata):
        lines.insert(min(index * 2, len(lines)), line)
    assert_same(("\n".join(lines) + "\n").encode())


def test_repeat_and_first_parse_agree() -> None:
    """A body parsed again (keys recognised as a whole) or after forgetting them reads the same."""
    body = payloads.generate(300, per_family=7)
    fast.forget_keys()
    first = snapshot(fast.parse(body))
    again = snapshot(fast.parse(body))
    fast.forget_keys()
    assert first == again == snapshot(fast.parse(body)) == snapshot(text.parse_text(body))
