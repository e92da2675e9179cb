"""The C hot path (native/native.c) against its Python references: same verdicts, same bytes."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lambda_harness import load_app
from promscrape import native, pipeline
from promscrape.exposition import fast, text
from promscrape.remote_write import v1
from test_pipeline import SCRAPE_TS, decoded, run

C = native.ACCELERATOR
TARGET = {"instance": "host:9100", "job": "node"}
SAMPLE_LEN = 9 + len(b"\x10" + v1.varint(SCRAPE_TS))


def test_the_extension_is_built() -> None:
    """`make venv` (pip install -e) builds it; without it first scrapes silently get slower."""
    assert C is not None, "promscrape._native is missing: run `make venv` (needs a C compiler)"


def fill(keys: list[str], target: dict[str, str] | None = None, honor: bool = False) -> tuple[dict, list]:
    """fill_heads over keys of one fast parse (so `resolve` sees their TYPE context)."""
    assert C is not None
    body = "".join(f"{key} 1\n" for key in keys).encode()
    series = fast.parse(body).series
    pairs = tuple((name.encode(), value.encode()) for name, value in sorted((target or TARGET).items()))
    entries: dict[str, bytes] = {}
    back = C.fill_heads(keys, entries, pairs, honor, SAMPLE_LEN, set(), pipeline._resolver(series))
    return entries, back


def general_head(key: str, target: dict[str, str] | None = None, honor: bool = False) -> bytes:
    """The Python general path's head for one key, as the careful parser sees it."""
    exposition = text.parse_text(f"{key} 1\n".encode())
    labeler = pipeline._Labeler(target or TARGET, honor, None, SAMPLE_LEN)
    return labeler.head(key, *exposition.series[key])


ENCODED = [
    pytest.param("up", id="bare"),
    pytest.param("up{}", id="empty-braces"),
    pytest.param('a{x="1"}', id="one-label"),
    pytest.param('a{x="1",}', id="trailing-comma"),
    pytest.param('a{zz="1",b="2",_c="3",A="4"}', id="sorted-by-bytes"),
    pytest.param('ns:a_b{x="with space",y="é😀"}', id="colon-and-utf8"),
    pytest.param('a{x="' + "v" * 20_000 + '"}', id="long-value-3-byte-varints"),
    pytest.param('a{x="' + "v" * 100 + '"}', id="2-byte-varints"),
    pytest.param('h_bucket{le="0.5"}', id="canonical-le"),
    pytest.param('s{quantile="0.99"}', id="canonical-quantile"),
]


@pytest.mark.parametrize("key", ENCODED)
@pytest.mark.parametrize("honor", [False, True])
def test_heads_equal_the_general_path(key: str, honor: bool) -> None:
    entries, back = fill([key], honor=honor)
    assert back == []
    assert entries == {key: general_head(key, honor=honor)}


HANDED_BACK = [
    pytest.param('a{x=""}', TARGET, False, id="empty-value"),
    pytest.param('a{job="s"}', TARGET, False, id="exported-renaming"),
    pytest.param('a{__name__="b"}', TARGET, False, id="name-label"),
    pytest.param('a{x="1",x="2"}', TARGET, False, id="repeated-name"),
    pytest.param('a{x="1"}', {"job": ""}, False, id="empty-target-value"),
    pytest.param("a{" + ",".join(f'l{i}="v"' for i in range(65)) + "}", TARGET, False, id="65-labels"),
    pytest.param('a {x="1"}', TARGET, False, id="not-canonical"),
    pytest.param('a{x="1"}x', TARGET, False, id="text-after-brace"),
    pytest.param('a{x="1"', TARGET, False, id="unclosed"),
    pytest.param('a{x="a\\"b"}', TARGET, False, id="backslash"),
    pytest.param('a{x="1",,}', TARGET, False, id="double-comma"),
    pytest.param('a{1x="1"}', TARGET, False, id="bad-label-name"),
    pytest.param('a{x:y="1"}', TARGET, False, id="colon-in-label-name"),
]


@pytest.mark.parametrize(("key", "target", "honor"), HANDED_BACK)
def test_keys_it_does_not_cover_are_handed_back(key: str, target: dict[str, str], honor: bool) -> None:
    assert C is not None
    pairs = tuple((name.encode(), value.encode()) for name, value in sorted(target.items()))
    entries: dict[str, bytes] = {}
    assert C.fill_heads([key], entries, pairs, honor, SAMPLE_LEN, set(), lambda *_: "x") == [key]
    assert entries == {}


def test_honor_labels_keeps_the_scraped_value() -> None:
    key = 'a{job="scraped"}'
    entries, back = fill([key], honor=True)
    assert back == [] and entries[key] == general_head(key, honor=True)
    assert b"scraped" in entries[key] and b"node" not in entries[key]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param('# TYPE h histogram\nh_bucket{le="1"} 1\n', "1.0", id="histogram-le-canonicalised"),
        pytest.param('# TYPE g gauge\ng{le="1"} 1\n', "1", id="gauge-le-as-written"),
        pytest.param('# TYPE s summary\ns{quantile="0.50"} 1\n', "0.5", id="summary-quantile"),
        pytest.param(
            '# TYPE h histogram\nh_bucket{quantile="0.50"} 1\n', "0.50", id="quantile-under-histogram"
        ),
        pytest.param('# TYPE h histogram\nh_bucket{le="1e3"} 1\n', "1000.0", id="exponent"),
        pytest.param('# TYPE h histogram\nh_bucket{le="+inf"} 1\n', "+Inf", id="inf-spelling"),
        pytest.param('# TYPE h histogram\nh_bucket{le="x"} 1\n', "x", id="not-a-number"),
    ],
)
def test_le_and_quantile_values_follow_the_family_type(body: str, expected: str) -> None:
    for parser in ("fast", "careful"):
        (labels,) = [labels for labels, _, _ in decoded(run(body, parser=parser))]
        assert labels.get("le", labels.get("quantile")) == expected


def test_canonical_values_are_learnt_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "_CANONICAL", set())
    asked: list[str] = []
    real = pipeline._resolver

    def counting(series: fast.Series):
        resolve = real(series)

        def wrapped(key: str, label: str, value: str) -> str:
            asked.append(value)
            return resolve(key, label, value)

        return wrapped

    monkeypatch.setattr(pipeline, "_resolver", counting)
    lines = [f'h_bucket{{i="{i}",le="{le}"}} 1\n' for i in range(50) for le in ("0.5", "1")]
    run("# TYPE h histogram\n" + "".join(lines))
    assert asked.count("0.5") == 1  # then known canonical
    assert asked.count("1") == 50  # never canonical ("1.0" is): resolved each time, as the type decides
    assert sorted(pipeline._CANONICAL) == ["0.5"]


def test_resolve_errors_propagate_and_bad_arguments_are_refused() -> None:
    assert C is not None

    def broken(*_: object) -> str:
        raise RuntimeError("resolve failed")

    with pytest.raises(RuntimeError, match="resolve failed"):
        C.fill_heads(['h{le="7"}'], {}, (), False, SAMPLE_LEN, set(), broken)
    with pytest.raises(TypeError, match="must return a str"):
        C.fill_heads(['h{le="7"}'], {}, (), False, SAMPLE_LEN, set(), lambda *_: None)
    with pytest.raises(TypeError, match="bytes"):
        C.fill_heads(["a"], {}, (("job", "x"),), False, SAMPLE_LEN, set(), str)
    with pytest.raises(ValueError, match="sample_len"):
        C.fill_heads(["a"], {}, (), False, 200, set(), str)
    with pytest.raises(TypeError, match="callable"):
        C.fill_heads(["a"], {}, (), False, SAMPLE_LEN, set(), None)
    with pytest.raises(TypeError):
        C.canonical_keys(("a",))
    assert C.canonical_keys(["a", 1]) is False
    assert C.canonical_keys(['a{x="\ud800"}']) is False


def test_keys_are_taken_at_their_first_line() -> None:
    """Known keys are skipped, repeats encoded once, and `resolve` sees the first line's position."""
    assert C is not None
    seen: list[tuple[int, str, str]] = []

    def resolve(position: int, label: str, value: str) -> str:
        seen.append((position, label, value))
        return "R"

    entries = {"known": b"kept"}
    keys = ["known", 'h{le="7"}', "a", 'h{le="7"}', 'b{x=""}', 'b{x=""}']
    back = C.fill_heads(keys, entries, (), False, SAMPLE_LEN, set(), resolve)
    assert seen == [(1, "le", "7")]
    assert back == ['b{x=""}', 'b{x=""}']
    assert list(entries) == ["known", 'h{le="7"}', "a"] and entries["known"] == b"kept"
    assert b"\x12\x01R" in entries['h{le="7"}']


def test_without_the_extension_the_bytes_are_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    body = (
        "# TYPE h histogram\n"
        + "".join(f'h_bucket{{b="{i}",le="{le}"}} {i}\n' for i, le in enumerate(["0.1", "1.0", "+Inf"]))
        + 'm{job="x",y=""} 1\nplain 2\n'
    )
    with_c = run(body)
    fast.forget_keys()
    monkeypatch.setattr(pipeline, "_native", None)
    monkeypatch.setattr(fast, "_native", None)
    assert run(body).series == with_c.series
    assert fast.parse(body.encode()).keys == text.parse_text(body.encode()).keys


def test_the_handler_warns_when_the_extension_is_missing(aws_env, capsys, monkeypatch) -> None:
    from test_scraper_handler import APP

    load_app(APP, "scraper_with_extension")
    assert "_native" not in capsys.readouterr().out
    monkeypatch.setattr(native, "ACCELERATOR", None)
    load_app(APP, "scraper_without_extension")
    (line,) = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "_native" in line]
    assert line["level"] == "WARNING" and "make build" in line["message"]


_NAME = st.from_regex(r"[a-zA-Z_:][a-zA-Z0-9_:]{0,6}", fullmatch=True)
_LABEL = st.sampled_from(
    ["a", "b", "job", "instance", "le", "quantile", "zz", "A", "_x", "__name__", "exported_job"]
)
_VALUE = st.sampled_from(["", "1", "0.5", "1.0", "+Inf", "x y", "é", "node", "1e3", "NaN"])


@st.composite
def _keys(draw: st.DrawFn) -> str:
    name = draw(_NAME)
    labels = draw(st.lists(st.tuples(_LABEL, _VALUE), max_size=5))
    if not labels and draw(st.booleans()):
        return name
    trailing = "," if labels and draw(st.booleans()) else ""
    return name + "{" + ",".join(f'{label}="{value}"' for label, value in labels) + trailing + "}"


@settings(max_examples=300, deadline=None)
@given(
    keys=st.lists(_keys(), min_size=1, max_size=6),
    types=st.lists(st.sampled_from(["histogram", "summary", "gauge"]), min_size=1, max_size=6),
    target=st.dictionaries(
        st.sampled_from(["job", "instance", "a", "le"]), st.sampled_from(["t", "node", ""])
    ),
    honor=st.booleans(),
)
def test_bodies_encode_as_the_general_path_does(
    keys: list[str], types: list[str], target: dict[str, str], honor: bool
) -> None:
    """Whatever the keys, types, target labels and honor_labels: C + Python == Python alone."""
    body = "".join(
        f"# TYPE {key.split('{')[0]} {types[i % len(types)]}\n{key} {i}\n" for i, key in enumerate(keys)
    )
    fast_result = run(body, target=target, honor_labels=honor)
    careful = run(body, target=target, honor_labels=honor, parser="careful")
    assert (fast_result.error, fast_result.series) == (careful.error, careful.series)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.text(alphabet='ab_:{}=",1 é', max_size=14), min_size=1, max_size=4))
def test_canonical_keys_agrees_with_the_python_check(keys: list[str]) -> None:
    """The C check and fast._check_keys prove the same keys."""
    assert C is not None
    fast.forget_keys()
    assert C.canonical_keys(keys) == fast._check_keys(keys)


@pytest.mark.parametrize("key", ['a{x="\\"}', 'a{x="\n"}'])
def test_canonical_keys_refuses_what_the_body_check_bans(key: str) -> None:
    """Backslashes and line feeds never reach it (the fast parser hands such bodies over first)."""
    assert C is not None and C.canonical_keys([key]) is False


def test_a_resolve_that_empties_the_key_list_is_survived() -> None:
    """The key being encoded stays alive when `resolve` drops the list's references."""
    assert C is not None
    keys = ["".join(['h{le="', "7", '"}']), "".join(["a", "b"])]

    def resolve(*_: object) -> str:
        keys.clear()
        return "R"

    entries: dict[str, bytes] = {}
    assert C.fill_heads(keys, entries, (), False, SAMPLE_LEN, set(), resolve) == []
    assert list(entries) == ['h{le="7"}']
