"""The C bulk path of `Exposition.series` (native/native.c `series_entries`) against Python.

fast.Series' per-key path (make_series of the key's shape, `le`/`quantile` canonicalised under the
TYPE in force at the key's first line) is the reference: series_entries stores the same entry for
every canonical key without an empty label value and hands every other key back, in order. Its
tuples are untracked by the collector, equal pairs are one object, a misbehaving callback or a
hostile key never crashes it. fast.Series' and openmetrics._ColumnSeries' `values()`/`items()`
give the same entries with it and without it (per-key Python, column-wise Python).
"""

import gc
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from promscrape import native
from promscrape.exposition import fast, openmetrics
from promscrape.exposition.text import canonical_float_label

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import payloads

C = fast._SERIES_ENTRIES

# The keys series_entries takes (parse_key's canonical form, values not empty, at most 63 labels).
_COVERED = re.compile(
    r'[a-zA-Z_:][a-zA-Z0-9_:]*(?:\{(?:[a-zA-Z_][a-zA-Z0-9_]*="[^"\\\n]+"'
    r'(?:,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\\n]+")*,?)?\})?'
)


def test_the_function_is_built() -> None:
    """`make venv` (pip install -e) builds it with the rest of promscrape._native."""
    assert native.ACCELERATOR is not None, "promscrape._native is missing: run `make venv`"
    assert C is native.ACCELERATOR.series_entries, "promscrape._native predates series_entries: rebuild it"


def entries(keys: list[str], types: dict[str, str] | None = None) -> tuple[dict[str, Any], list[str]]:
    """series_entries into a dict pre-filled with the keys (as fast.Series' bulk path calls it)."""
    assert C is not None
    out: dict[str, Any] = dict.fromkeys(keys)
    back = C(keys, out, types, canonical_float_label)
    return out, back


def reference(keys: list[str], kinds: list[str]) -> fast.Series:
    """A fast.Series of keys, key i on a line of TYPE kinds[i] (what type_of tells the per-key path)."""
    return fast.Series(keys, [(1, kind) for kind in kinds])


ENTRIES = [
    pytest.param(["up"], None, {"up": ("up", ())}, id="bare"),
    pytest.param(["up{}"], None, {"up{}": ("up", ())}, id="empty-braces"),
    pytest.param(
        ['a:b_c{x="1",y="2"}'], None, {'a:b_c{x="1",y="2"}': ("a:b_c", (("x", "1"), ("y", "2")))}, id="labels"
    ),
    pytest.param(['a{x="1",}'], None, {'a{x="1",}': ("a", (("x", "1"),))}, id="trailing-comma"),
    pytest.param(
        ['a{x="with space",y="}{,=#"}'],
        None,
        {'a{x="with space",y="}{,=#"}': ("a", (("x", "with space"), ("y", "}{,=#")))},
        id="spaces-and-punctuation",
    ),
    pytest.param(['a{x="é😀"}'], None, {'a{x="é😀"}': ("a", (("x", "é😀"),))}, id="utf8"),
    pytest.param(
        ['a{x="1",x="2"}', 'b{__name__="c"}'],
        None,
        {'a{x="1",x="2"}': ("a", (("x", "1"), ("x", "2"))), 'b{__name__="c"}': ("b", (("__name__", "c"),))},
        id="repeated-and-name-labels-as-written",
    ),
    pytest.param(
        ['h{le="1"}', 'h{le="1",le="1e3"}', 'h{quantile="0.50"}'],
        {'h{le="1"}': "histogram", 'h{le="1",le="1e3"}': "histogram", 'h{quantile="0.50"}': "histogram"},
        {
            'h{le="1"}': ("h", (("le", "1.0"),)),
            'h{le="1",le="1e3"}': ("h", (("le", "1.0"), ("le", "1000.0"))),
            'h{quantile="0.50"}': ("h", (("quantile", "0.50"),)),
        },
        id="le-under-histogram",
    ),
    pytest.param(
        ['s{quantile="0.50"}', 's{le="1"}', 's{quantile="+inf"}'],
        {'s{quantile="0.50"}': "summary", 's{le="1"}': "summary", 's{quantile="+inf"}': "summary"},
        {
            's{quantile="0.50"}': ("s", (("quantile", "0.5"),)),
            's{le="1"}': ("s", (("le", "1"),)),
            's{quantile="+inf"}': ("s", (("quantile", "+Inf"),)),
        },
        id="quantile-under-summary",
    ),
    pytest.param(
        ['g{le="1"}', 'u{le="1"}', 'x{le="x"}'],
        {'g{le="1"}': "gauge", 'x{le="x"}': "histogram"},
        {
            'g{le="1"}': ("g", (("le", "1"),)),
            'u{le="1"}': ("u", (("le", "1"),)),
            'x{le="x"}': ("x", (("le", "x"),)),
        },
        id="other-types-missing-and-not-a-number",
    ),
    pytest.param(
        ['h{le="1"}'], None, {'h{le="1"}': ("h", (("le", "1"),))}, id="no-types-no-canonicalisation"
    ),
]


@pytest.mark.parametrize(("keys", "types", "expected"), ENTRIES)
def test_entries_exact(keys: list[str], types: dict[str, str] | None, expected: dict[str, Any]) -> None:
    out, back = entries(keys, types)
    assert back == [] and out == expected and list(out) == keys
    series = reference(keys, [(types or {}).get(key, "") for key in keys])
    assert out == {key: series[key] for key in keys}


HANDED_BACK = [
    pytest.param('a{x=""}', id="empty-value"),
    pytest.param('a{x="1",y=""}', id="one-empty-value"),
    pytest.param('a{__name__=""}', id="empty-name-label"),
    pytest.param("a{" + ",".join(f'l{i}="v"' for i in range(64)) + "}", id="64-labels"),
    pytest.param('a {x="1"}', id="space-after-name"),
    pytest.param('a{x="1"}x', id="text-after-brace"),
    pytest.param('a{x="1"', id="unclosed"),
    pytest.param('a{x="a\\"b"}', id="backslash"),
    pytest.param('a{x="a\nb"}', id="line-feed"),
    pytest.param('a{x="1",,}', id="double-comma"),
    pytest.param("a{,}", id="lone-comma"),
    pytest.param('a{1x="1"}', id="bad-label-name"),
    pytest.param('a{x:y="1"}', id="colon-in-label-name"),
    pytest.param('{"a.b"}', id="quoted-name"),
    pytest.param("1a", id="bad-metric-name"),
    pytest.param("", id="empty"),
    pytest.param('a{x="\ud800"}', id="surrogate"),
]


@pytest.mark.parametrize("key", HANDED_BACK)
def test_keys_it_does_not_cover_are_handed_back(key: str) -> None:
    out, back = entries(["up", key, 'b{y="2"}'], {key: "histogram"})
    assert back == [key]
    assert out == {"up": ("up", ()), key: None, 'b{y="2"}': ("b", (("y", "2"),))}


def test_handed_back_in_order_with_repeats_and_non_str() -> None:
    assert C is not None
    keys: list[Any] = ['a{x=""}', "ok", 7, 'a{x=""}', b"up"]
    out: dict[Any, Any] = {}
    assert C(keys, out, None, canonical_float_label) == ['a{x=""}', 7, 'a{x=""}', b"up"]
    assert out == {"ok": ("ok", ())}


def test_the_64_label_limit_is_exact() -> None:
    key = "a{" + ",".join(f'l{i}="v{i}"' for i in range(63)) + "}"
    out, back = entries([key])
    assert back == [] and out[key] == ("a", tuple((f"l{i}", f"v{i}") for i in range(63)))


def test_normalize_is_asked_once_per_distinct_value() -> None:
    assert C is not None
    asked: list[str] = []

    def normalize(value: str) -> str:
        asked.append(value)
        return canonical_float_label(value)

    keys = [f'h_bucket{{i="{i}",le="{le}"}}' for i in range(40) for le in ("0.5", "1", "+Inf")]
    keys += [f'g{{le="{le}"}}' for le in ("0.5", "1")]
    out: dict[str, Any] = dict.fromkeys(keys)
    types = dict.fromkeys(keys[:120], "histogram")
    assert C(keys, out, types, normalize) == []
    assert asked == ["0.5", "1", "+Inf"]  # the gauge's `le` is not asked about at all
    assert out['h_bucket{i="3",le="1"}'] == ("h_bucket", (("i", "3"), ("le", "1.0")))
    assert out['g{le="1"}'] == ("g", (("le", "1"),))


def test_tuples_are_untracked_and_equal_pairs_shared() -> None:
    keys = [f'm{{job="a",pod="p{i}",le="{i % 3}"}}' for i in range(600)] + ['n{job="a"}', "m"]
    out, back = entries(keys, dict.fromkeys(keys, "histogram"))
    assert back == []
    values = list(out.values())
    assert not any(gc.is_tracked(entry) or gc.is_tracked(entry[1]) for entry in values)
    assert not any(gc.is_tracked(pair) for _, labels in values for pair in labels)
    jobs = {id(labels[0]) for _, labels in values[:-1]}
    les = {labels[2][1]: labels[2] for _, labels in values[:600]}
    assert len(jobs) == 1 and sorted(les) == ["0.0", "1.0", "2.0"]
    assert all(labels[2] is les[labels[2][1]] for _, labels in values[:600])
    assert len({id(name) for name, _ in values[:600]}) == 1 and values[-1][0] == "m"


def test_many_distinct_values_switch_a_position_to_direct_pairs_and_back() -> None:
    """A position whose values never repeat builds its pairs directly (same entries); one that
    repeats again shares them again: 30k keys, the pod position unique, then repeating."""
    keys = [f'm{{job="j{i % 7}",pod="p{i}"}}' for i in range(20_000)]
    keys += [f'm{{job="j{i % 7}",pod="q{i % 5}",x="{i}"}}' for i in range(10_000)]
    out, back = entries(keys)
    assert back == []
    series = reference(keys, [""] * len(keys))
    assert out == {key: series[key] for key in keys}
    tail = [labels[1] for _, labels in list(out.values())[-1000:]]
    assert len({id(pair) for pair in tail}) == 5


def test_callback_errors_and_bad_arguments() -> None:
    assert C is not None

    def broken(_: str) -> str:
        raise RuntimeError("normalize failed")

    types = {'h{le="1"}': "histogram"}
    with pytest.raises(RuntimeError, match="normalize failed"):
        C(['h{le="1"}'], {}, types, broken)
    with pytest.raises(TypeError, match="must return str"):
        C(['h{le="1"}'], {}, types, lambda _: 1.0)
    with pytest.raises(TypeError, match="must return str"):
        C(['h{le="1"}'], {}, types, type("S", (str,), {}))
    with pytest.raises(TypeError, match="callable"):
        C(["a"], {}, None, None)
    with pytest.raises(TypeError, match="dict or None"):
        C(["a"], {}, [], canonical_float_label)
    with pytest.raises(TypeError):
        C(("a",), {}, None, canonical_float_label)
    with pytest.raises(TypeError):
        C(["a"], [], None, canonical_float_label)
    assert C(['h{le="1"}'], {}, {'h{le="1"}': 5}, broken) == []  # a TYPE that is not a str: none


class _Evil(str):
    """A types key equal in hash to a real key whose comparison raises: the lookup's error propagates."""

    __slots__ = ()

    def __hash__(self) -> int:
        return hash('h{le="1"}')

    def __eq__(self, other: object) -> bool:
        raise ValueError("compared")


def test_errors_of_a_types_lookup_propagate() -> None:
    assert C is not None
    with pytest.raises(ValueError, match="compared"):
        C(['h{le="1"}'], {}, {_Evil("x"): "histogram"}, canonical_float_label)


def test_a_callback_that_mutates_everything_does_not_crash() -> None:
    """normalize empties the key list, `out` and `types` and re-enters: the call goes on with the keys
    it was given (held), storing what their text says under the types left."""
    assert C is not None
    keys = [f'h{{pod="p{i}",le="{i}"}}' for i in range(50)]
    original = list(keys)
    out: dict[str, Any] = dict.fromkeys(keys)
    types = dict.fromkeys(keys, "histogram")

    def normalize(value: str) -> str:
        keys.clear()
        out.clear()
        types.clear()
        assert C is not None
        C([f'x{{le="{value}"}}'], {}, {f'x{{le="{value}"}}': "histogram"}, canonical_float_label)
        gc.collect()
        return canonical_float_label(value)

    assert C(keys, out, types, normalize) == []
    assert list(out) == original  # the first key's entry is stored after its normalize cleared `out`
    assert out[original[0]] == ("h", (("pod", "p0"), ("le", "0.0")))
    assert out[original[49]] == ("h", (("pod", "p49"), ("le", "49")))  # `types` was emptied


def test_no_reference_leaks() -> None:
    """Allocated blocks come back to where they were once the results are dropped."""
    assert C is not None
    keys = [f'm{{job="j{i % 3}",pod="p{i}",le="{i % 4}"}}' for i in range(2000)] + ['a{x=""}', "up"]
    types = dict.fromkeys(keys, "histogram")
    for _ in range(3):
        entries(keys, types)
    gc.collect()
    before = sys.getallocatedblocks()
    for _ in range(20):
        entries(keys, types)
        with pytest.raises(TypeError):
            C([*keys, 'h{le="1"}'], {}, {'h{le="1"}': "histogram"}, lambda _: None)
    gc.collect()
    assert sys.getallocatedblocks() - before < 100


# ---- generated keys: the C entries equal the per-key reference, the rest handed back ------------

_NAME = st.sampled_from(["a", "b_total", "h_bucket", "ns:m", "_x", "1a", "a.b", ""])
_LABEL = st.sampled_from(["x", "y", "le", "quantile", "__name__", "A_1", "1x", "a:b", ""])
_VALUE = st.sampled_from(["", "1", "0.50", "1e3", "+Inf", "x y", "é", '"', "\\", "\n", "}", ",", "\ud800"])


@st.composite
def _keys(draw: st.DrawFn) -> str:
    name = draw(_NAME)
    labels = draw(st.lists(st.tuples(_LABEL, _VALUE), max_size=4))
    if not labels and draw(st.booleans()):
        return name
    trailing = "," if draw(st.booleans()) else ""
    return name + "{" + ",".join(f'{label}="{value}"' for label, value in labels) + trailing + "}"


def _covered(key: str) -> bool:
    try:
        key.encode()
    except UnicodeEncodeError:
        return False
    return _COVERED.fullmatch(key) is not None


@settings(max_examples=400, deadline=None)
@given(
    keys=st.lists(_keys(), min_size=1, max_size=8, unique=True),
    kinds=st.lists(st.sampled_from(["histogram", "summary", "gauge", ""]), min_size=8, max_size=8),
)
def test_generated_keys_match_the_reference(keys: list[str], kinds: list[str]) -> None:
    types = {key: kind for key, kind in zip(keys, kinds, strict=False) if kind}
    out, back = entries(keys, types)
    assert back == [key for key in keys if not _covered(key)]
    series = reference(keys, kinds[: len(keys)])
    assert {key: out[key] for key in keys if _covered(key)} == {
        key: series[key] for key in keys if _covered(key)
    }


@settings(max_examples=400, deadline=None)
@given(st.lists(st.text(alphabet='ab_:{}=",1 é\\\n\x00\ud800', max_size=20), max_size=6))
def test_arbitrary_text_never_crashes(keys: list[str]) -> None:
    """Hostile keys: handed back unless covered, never a crash; covered ones as the reference reads them."""
    out, back = entries(keys, dict.fromkeys(keys, "histogram"))
    assert back == [key for key in keys if not _covered(key)]
    covered = [key for key in dict.fromkeys(keys) if _covered(key)]
    series = reference(covered, ["histogram"] * len(covered))
    assert {key: out[key] for key in covered} == {key: series[key] for key in covered}


# ---- the bulk paths of fast.Series and openmetrics._ColumnSeries, with and without C -------------


BODIES = [
    pytest.param(
        '# TYPE h histogram\nh_bucket{pod="p1",le="1"} 1\nh_bucket{pod="p1",le="+Inf"} 2\nh_sum{pod="p1"} 3\n'
        '# TYPE c counter\nc_total{pod="p2",x=""} 4\nc_total{pod="p1",x="y"} 5\nb 6\n'
        '# TYPE s summary\ns{quantile="0.50"} 7\ns{le="1"} 8\n',
        id="types",
    ),
    pytest.param('h{le="1"} 1\n# TYPE h histogram\nh{le="1"} 2\nh{le="2"} 3\n', id="first-line-decides"),
    pytest.param('a{x="1"} 1\nb 2\na{x="2"} 3\na{x="1"} 4\nc{} 5\n', id="duplicates"),
    pytest.param("", id="empty"),
]


def _bulk_ways() -> list[Callable[[pytest.MonkeyPatch], None]]:
    return [lambda _: None, lambda monkeypatch: monkeypatch.setattr(fast, "_SERIES_ENTRIES", None)]


@pytest.mark.parametrize("way", _bulk_ways(), ids=["C", "python"])
@pytest.mark.parametrize("body", BODIES)
def test_text_series_bulk_equals_per_key(
    body: str, way: Callable[[pytest.MonkeyPatch], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    way(monkeypatch)
    per_key = fast.parse(body.encode()).series
    expected = [(key, per_key[key]) for key in per_key]
    bulk = fast.parse(body.encode()).series
    assert isinstance(bulk, fast.Series)
    assert list(bulk.items()) == expected and list(bulk.values()) == [entry for _, entry in expected]
    assert [bulk[key] for key in bulk] == [entry for _, entry in expected]


@pytest.mark.parametrize("way", _bulk_ways(), ids=["C", "python"])
@pytest.mark.parametrize("body", BODIES)
def test_openmetrics_series_bulk_equals_per_key(
    body: str, way: Callable[[pytest.MonkeyPatch], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    way(monkeypatch)
    om = (body + "# EOF\n").encode()
    per_key = openmetrics.parse_openmetrics(om).series
    assert isinstance(per_key, openmetrics._ColumnSeries)
    expected = [(key, per_key[key]) for key in per_key]
    assert list(openmetrics.parse_openmetrics(om).series.items()) == expected
    assert list(openmetrics.parse_openmetrics(om, canonical=False).series.items()) == expected


def test_benchmark_payload_bulk_paths_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    """benchmarks/parsers.py's 1000-series OpenMetrics payload: C, column-wise Python, per key."""
    body = payloads.generate_openmetrics(1000)
    with_c = list(openmetrics.parse_openmetrics(body).series.items())
    monkeypatch.setattr(fast, "_SERIES_ENTRIES", None)
    columns = list(openmetrics.parse_openmetrics(body).series.items())
    series = openmetrics.parse_openmetrics(body).series
    per_key = [(key, series[key]) for key in series]
    assert with_c == columns == per_key and len(with_c) == 996
