"""The scrape hot path (REFERENCE §7): exact labels, errors and counts, read by an independent decoder."""

import struct
import subprocess
import sys
from pathlib import Path

import pytest
from promscrape import pipeline
from promscrape.exposition import fast, text
from promscrape.exposition.floats import NORMAL_NAN
from promscrape.relabel import RelabelConfig, compile_rules
from promscrape.remote_write import decode, v1

SCRAPE_TS = 1_700_000_000_000
TARGET = {"instance": "host:9100", "job": "node"}


def run(
    body: str,
    *,
    target: dict[str, str] | None = None,
    honor_labels: bool = False,
    honor_timestamps: bool = True,
    rules: list[dict[str, object]] | None = None,
    cache: pipeline.SeriesCache | None = None,
    parser: str = "fast",
) -> pipeline.PipelineResult:
    parse = fast.parse if parser == "fast" else text.parse_text
    relabeler = compile_rules([RelabelConfig(**rule) for rule in rules]) if rules is not None else None
    return pipeline.process(
        parse(body.encode()),
        target_labels=TARGET if target is None else target,
        honor_labels=honor_labels,
        honor_timestamps=honor_timestamps,
        metric_relabeler=relabeler,
        scrape_ts_ms=SCRAPE_TS,
        cache=cache,
    )


def decoded(result: pipeline.PipelineResult) -> list[tuple[dict[str, str], float, int]]:
    """(labels, value, timestamp) of every encoded series, checking each is sorted with one sample."""
    out = []
    for body, _ in v1.build_requests(result.series):
        for series in decode.decode_write_request(v1.compress(body)):
            names = [name for name, _ in series.labels]
            assert names == sorted(names)
            assert len(series.samples) == 1
            out.append((series.label_dict, series.samples[0].value, series.samples[0].timestamp))
    return out


def labels_of(result: pipeline.PipelineResult) -> list[dict[str, str]]:
    return [labels for labels, _, _ in decoded(result)]


MERGE_CASES = [
    pytest.param(
        'a{x="1"} 1\n',
        False,
        [{"__name__": "a", "x": "1", "instance": "host:9100", "job": "node"}],
        id="no-conflict",
    ),
    pytest.param(
        'a{job="scraped",instance="i"} 1\n',
        False,
        [
            {
                "__name__": "a",
                "job": "node",
                "instance": "host:9100",
                "exported_job": "scraped",
                "exported_instance": "i",
            }
        ],
        id="conflicts-exported",
    ),
    pytest.param(
        'a{job="s",exported_job="e"} 1\n',
        False,
        [
            {
                "__name__": "a",
                "job": "node",
                "instance": "host:9100",
                "exported_job": "e",
                "exported_exported_job": "s",
            }
        ],
        id="exported-chain",
    ),
    pytest.param(
        'a{job="s",instance="i"} 1\n',
        True,
        [{"__name__": "a", "job": "s", "instance": "i"}],
        id="honor-keeps-scraped",
    ),
    pytest.param(
        'a{job="s"} 1\n',
        True,
        [{"__name__": "a", "job": "s", "instance": "host:9100"}],
        id="honor-adds-missing",
    ),
    pytest.param(
        'a{job=""} 1\n',
        False,
        [{"__name__": "a", "job": "node", "instance": "host:9100"}],
        id="empty-value-is-absent",
    ),
    pytest.param(
        'a{job=""} 1\n',
        True,
        [{"__name__": "a", "instance": "host:9100"}],
        id="empty-value-honor-keeps-target-label-out",
    ),
    pytest.param(
        'a{job="",x="1"} 1\n',
        False,
        [{"__name__": "a", "x": "1", "job": "node", "instance": "host:9100"}],
        id="empty-value-with-others",
    ),
    pytest.param(
        'a{job="",x="1"} 1\n',
        True,
        [{"__name__": "a", "x": "1", "instance": "host:9100"}],
        id="empty-value-with-others-honor",
    ),
    pytest.param(
        'a{instance=""} 1\n',
        False,
        [{"__name__": "a", "job": "node", "instance": "host:9100"}],
        id="empty-instance",
    ),
    pytest.param(
        'a{instance=""} 1\n',
        True,
        [{"__name__": "a", "job": "node"}],
        id="empty-instance-honor",
    ),
    pytest.param(
        'a{job=""} 1\nb{job="s",x=""} 2\nc 3\nd{x="",y="1"} 4\n',
        True,
        [
            {"__name__": "a", "instance": "host:9100"},
            {"__name__": "b", "job": "s", "instance": "host:9100"},
            {"__name__": "c", "job": "node", "instance": "host:9100"},
            {"__name__": "d", "y": "1", "job": "node", "instance": "host:9100"},
        ],
        id="empty-values-honor-mixed",
    ),
    pytest.param(
        'a{job="",job="x"} 1\n',
        True,
        [{"__name__": "a", "instance": "host:9100"}],
        id="empty-and-set-duplicate-honor",
    ),
    pytest.param(
        'a{job=" "} 1\n',
        True,
        [{"__name__": "a", "job": " ", "instance": "host:9100"}],
        id="space-value-honor-is-not-empty",
    ),
    pytest.param(
        "# TYPE h histogram\n"
        'h_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\n'
        "# TYPE s summary\n"
        's{quantile="0.50"} 3\n'
        "# TYPE g gauge\n"
        'g{le="1"} 4\n',
        False,
        [
            {"__name__": "h_bucket", "le": "1.0", "instance": "host:9100", "job": "node"},
            {"__name__": "h_bucket", "le": "+Inf", "instance": "host:9100", "job": "node"},
            {"__name__": "s", "quantile": "0.5", "instance": "host:9100", "job": "node"},
            {"__name__": "g", "le": "1", "instance": "host:9100", "job": "node"},
        ],
        id="le-quantile-canonical-only-under-their-type",
    ),
    pytest.param(
        'a{v="with space",w="é ü"} 1\n',
        False,
        [{"__name__": "a", "v": "with space", "w": "é ü", "instance": "host:9100", "job": "node"}],
        id="values-with-spaces-and-utf8",
    ),
    pytest.param(
        'a{x="a\\\\b\\"c\\nd"} 1\n',
        False,
        [{"__name__": "a", "x": 'a\\b"c\nd', "instance": "host:9100", "job": "node"}],
        id="escapes-careful-path",
    ),
]


@pytest.mark.parametrize("parser", ["fast", "careful"])
@pytest.mark.parametrize(("body", "honor", "expected"), MERGE_CASES)
def test_label_merge(body: str, honor: bool, expected: list[dict[str, str]], parser: str) -> None:
    result = run(body, honor_labels=honor, parser=parser)
    assert result.error is None
    assert labels_of(result) == expected


MARK_ABSENT = [
    {"source_labels": ["job"], "regex": "", "target_label": "nojob", "replacement": "yes"},
    {"source_labels": ["instance"], "regex": "", "target_label": "noinstance", "replacement": "yes"},
]
"""Relabeling sees a label as absent when it is missing or empty: these mark which ones it saw so."""


@pytest.mark.parametrize("parser", ["fast", "careful"])
@pytest.mark.parametrize(
    ("body", "honor", "expected"),
    [
        pytest.param(
            'a{job=""} 1\n',
            False,
            {"__name__": "a", "job": "node", "instance": "host:9100"},
            id="empty-job",
        ),
        pytest.param(
            'a{job=""} 1\n',
            True,
            {"__name__": "a", "instance": "host:9100", "nojob": "yes"},
            id="empty-job-honor",
        ),
        pytest.param(
            'a{job="",x="1"} 1\n',
            False,
            {"__name__": "a", "x": "1", "job": "node", "instance": "host:9100"},
            id="empty-job-with-others",
        ),
        pytest.param(
            'a{job="",x="1"} 1\n',
            True,
            {"__name__": "a", "x": "1", "instance": "host:9100", "nojob": "yes"},
            id="empty-job-with-others-honor",
        ),
        pytest.param(
            'a{instance=""} 1\n',
            False,
            {"__name__": "a", "job": "node", "instance": "host:9100"},
            id="empty-instance",
        ),
        pytest.param(
            'a{instance=""} 1\n',
            True,
            {"__name__": "a", "job": "node", "noinstance": "yes"},
            id="empty-instance-honor",
        ),
    ],
)
def test_label_merge_with_empty_values_through_relabeling(
    body: str, honor: bool, expected: dict[str, str], parser: str
) -> None:
    """honor_labels=true adds no target label the series wrote empty; relabeling then finds it absent."""
    cache = pipeline.SeriesCache()
    first = run(body, honor_labels=honor, rules=MARK_ABSENT, parser=parser, cache=cache)
    again = run(body, honor_labels=honor, rules=MARK_ABSENT, parser=parser, cache=cache)
    assert first.error is None and labels_of(first) == [expected]
    assert again.series == first.series
    plain = {name: value for name, value in expected.items() if not name.startswith("no")}
    assert labels_of(run(body, honor_labels=honor, rules=[], parser=parser)) == [plain]


def test_empty_values_under_honor_labels_on_every_path() -> None:
    """The C encoder, the general path and a repeat scrape from the cache agree."""
    body = "".join(f'm{{job="{job}",x="{i}"}} {i}\n' for i, job in enumerate(["", "s", "", "t"]))
    body += 'n{x="1"} 1\nn{x=""} 2\n'
    expected = [
        {"__name__": "m", "x": "0", "instance": "host:9100"},
        {"__name__": "m", "x": "1", "job": "s", "instance": "host:9100"},
        {"__name__": "m", "x": "2", "instance": "host:9100"},
        {"__name__": "m", "x": "3", "job": "t", "instance": "host:9100"},
        {"__name__": "n", "x": "1", "job": "node", "instance": "host:9100"},
        {"__name__": "n", "job": "node", "instance": "host:9100"},
    ]
    cache = pipeline.SeriesCache()
    results = [run(body, honor_labels=True, cache=cache) for _ in range(2)]
    results.append(run(body, honor_labels=True, parser="careful"))
    for result in results:
        assert result.error is None
        assert result.series == results[0].series
    assert labels_of(results[0]) == expected
    assert fast.parse(body.encode()).empty_labels == {
        'm{job="",x="0"}': frozenset({"job"}),
        'm{job="",x="2"}': frozenset({"job"}),
        'n{x=""}': frozenset({"x"}),
    }
    assert fast.parse(b'a{x="1"} 1\n').empty_labels == {}


def test_exported_prefix_shortest_name_first() -> None:
    """Conflicts resolve shortest name first, so `a` takes exported_exported_a before exported_a's copy."""
    result = run('m{a="sa",exported_a="se"} 1\n', target={"a": "ta", "exported_a": "te"})
    assert labels_of(result) == [
        {
            "__name__": "m",
            "a": "ta",
            "exported_a": "te",
            "exported_exported_a": "sa",
            "exported_exported_exported_a": "se",
        }
    ]


def test_values_and_timestamps() -> None:
    body = "a 1.5\nb -0\nc NaN\nd +Inf\ne 0\n"
    got = decoded(run(body))
    assert [(labels["__name__"], ts) for labels, _, ts in got] == [(n, SCRAPE_TS) for n in "abcde"]
    values = [struct.pack("<d", value) for _, value, _ in got]
    assert values == [struct.pack("<d", v) for v in (1.5, -0.0, NORMAL_NAN, float("inf"), 0.0)]


@pytest.mark.parametrize(
    ("body", "honor_timestamps", "expected", "posted"),
    [
        pytest.param("a 1 1000\n", True, [("a", 1.0, 1000)], 1, id="honored"),
        pytest.param("a 1 1000\n", False, [("a", 1.0, SCRAPE_TS)], 1, id="ignored"),
        pytest.param(
            "a 1\na 2\nb 3\n", True, [("a", 1.0, SCRAPE_TS), ("b", 3.0, SCRAPE_TS)], 3, id="duplicate"
        ),
        pytest.param(
            "a 1 1000\na 2 2000\n",
            True,
            [("a", 1.0, 1000), ("a", 2.0, 2000)],
            2,
            id="dup-with-timestamps-kept",
        ),
        pytest.param("a 1 1000\na 2\n", True, [("a", 1.0, 1000)], 2, id="dup-without-timestamp-dropped"),
        pytest.param("a 1 1000\na 2 2000\n", False, [("a", 1.0, SCRAPE_TS)], 2, id="dup-when-not-honored"),
        pytest.param(
            f"a 1 {SCRAPE_TS + 600_000}\nb 2 {SCRAPE_TS + 600_001}\n",
            True,
            [("a", 1.0, SCRAPE_TS + 600_000)],
            2,
            id="future-dropped-but-counted",
        ),
        pytest.param(
            f"b 2 {SCRAPE_TS + 600_001}\nb 3\n", True, [("b", 3.0, SCRAPE_TS)], 2, id="future-then-plain"
        ),
    ],
)
def test_timestamps_and_duplicates(
    body: str, honor_timestamps: bool, expected: list[tuple[str, float, int]], posted: int
) -> None:
    result = run(body, target={}, honor_timestamps=honor_timestamps)
    assert result.error is None
    assert [(labels["__name__"], value, ts) for labels, value, ts in decoded(result)] == expected
    assert (result.samples_scraped, result.samples_post_relabel) == (body.count("\n"), posted)


DROP_A = [{"source_labels": ["__name__"], "regex": "a", "action": "drop"}]
RENAME_B_TO_A = [
    {"source_labels": ["__name__"], "regex": "b", "target_label": "__name__", "replacement": "a"}
]


@pytest.mark.parametrize(
    ("body", "rules", "honor_timestamps", "limits", "expected", "posted"),
    [
        pytest.param(
            'a{x="1",y="2"} 1\na{y="2",x="1"} 2\n', None, True, pipeline.NO_LIMITS,
            [({"x": "1", "y": "2"}, 1.0, SCRAPE_TS)], 2, id="label-order",
        ),
        pytest.param(
            'a{x="1"} 1\nb{x="1"} 2\nc 3\n', RENAME_B_TO_A, True, pipeline.NO_LIMITS,
            [({"x": "1"}, 1.0, SCRAPE_TS), ({}, 3.0, SCRAPE_TS)], 3, id="relabeled-to-the-same",
        ),
        pytest.param(
            'a{x="1",y=""} 1\na{x="1"} 2\n', None, True, pipeline.NO_LIMITS,
            [({"x": "1"}, 1.0, SCRAPE_TS)], 2, id="empty-label-is-absent",
        ),
        pytest.param(
            '# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="1.0"} 2\n', None, True, pipeline.NO_LIMITS,
            [({"le": "1.0"}, 1.0, SCRAPE_TS)], 2, id="canonical-le",
        ),
        pytest.param(
            'a{x="1",y="2"} 1\na{y="2",x="1"} 2\nb 3\n', None, True, pipeline.Limits(sample_limit=2),
            [({"x": "1", "y": "2"}, 1.0, SCRAPE_TS), ({}, 3.0, SCRAPE_TS)], 3,
            id="not-counted-against-sample-limit",
        ),
        pytest.param(
            'a{x="1",y="2"} 1 1000\na{y="2",x="1"} 2 1000\na{y="2",x="1"} 3 2000\n', None, True,
            pipeline.NO_LIMITS, [({"x": "1", "y": "2"}, 1.0, 1000), ({"x": "1", "y": "2"}, 3.0, 2000)], 3,
            id="same-time-only-with-timestamps",
        ),
        pytest.param(
            f'a{{x="1",y="2"}} 1 {SCRAPE_TS}\na{{y="2",x="1"}} 2\na{{x="1",y="2"}} 3\n', None, True,
            pipeline.NO_LIMITS, [({"x": "1", "y": "2"}, 1.0, SCRAPE_TS)], 3,
            id="explicit-scrape-time-then-none",
        ),
        pytest.param(
            'a{x="1",y="2"} 1 1000\na{y="2",x="1"} 2 2000\n', None, False, pipeline.NO_LIMITS,
            [({"x": "1", "y": "2"}, 1.0, SCRAPE_TS)], 2, id="timestamps-not-honored",
        ),
    ],
)  # fmt: skip
def test_duplicate_final_labels(
    body: str,
    rules: list[dict[str, object]] | None,
    honor_timestamps: bool,
    limits: pipeline.Limits,
    expected: list[tuple[dict[str, str], float, int]],
    posted: int,
) -> None:
    """A later sample of the same final labels at the same time is dropped, counted as Prometheus does."""
    relabeler = compile_rules([RelabelConfig(**rule) for rule in rules]) if rules is not None else None
    for parser in (fast.parse, text.parse_text):
        cache = pipeline.SeriesCache()
        for _ in range(2):  # first scrape, then the repeat scrape through the cache
            result = pipeline.process(
                parser(body.encode()),
                target_labels={},
                honor_labels=False,
                honor_timestamps=honor_timestamps,
                metric_relabeler=relabeler,
                scrape_ts_ms=SCRAPE_TS,
                cache=cache,
                limits=limits,
            )
            assert result.error is None
            samples = sum(1 for line in body.splitlines() if not line.startswith("#"))
            assert (result.samples_scraped, result.samples_post_relabel) == (samples, posted)
            got = [(labels, value, ts) for labels, value, ts in decoded(result) if labels.pop("__name__")]
            assert got == expected


def test_repeat_scrape_learns_duplicates_after_a_failed_pass() -> None:
    """Series added by a failed pass never let a repeat scrape skip the duplicate check."""
    cache = pipeline.SeriesCache()
    assert run('a{x="1",y="2"} 1\n', cache=cache).error is None
    failed = run('a{x="1",y="2"} 1\na{y="2",x="1"} 2\nbad\n', cache=cache)
    assert failed.error is not None
    result = run('a{x="1",y="2"} 1\na{y="2",x="1"} 2\n', cache=cache)
    assert [value for _, value, _ in decoded(result)] == [1.0]
    assert (result.samples_scraped, result.samples_post_relabel) == (2, 2)


@pytest.mark.parametrize(
    ("body", "rules", "error", "scraped", "posted", "names"),
    [
        pytest.param("a 1\nb 2\na 3\n", DROP_A, None, 3, 1, ["b"], id="relabel-drop"),
        pytest.param(
            "a 1\nb 2\n",
            [{"regex": "__name__", "action": "labeldrop"}],
            pipeline.MISSING_NAME,
            1,
            0,
            [],
            id="missing-name",
        ),
        pytest.param(
            "a 1\nb 2\nc 3\n",
            [
                *DROP_A,
                {"source_labels": ["__name__"], "regex": "c", "target_label": "__name__", "replacement": ""},
            ],
            pipeline.MISSING_NAME,
            3,
            1,
            [],
            id="missing-name-counts-after-drop",
        ),
        pytest.param(
            "a 1\n",
            [{"target_label": "x", "replacement": ""}, {"action": "labelkeep", "regex": "nothing"}],
            None,
            1,
            0,
            [],
            id="relabeled-to-empty-is-dropped",
        ),
        pytest.param(
            "a 1\n",
            [{"target_label": "job", "replacement": "changed"}],
            None,
            1,
            1,
            ["a"],
            id="relabel-sets",
        ),
    ],
)
def test_metric_relabeling(
    body: str, rules: list[dict[str, object]], error: str | None, scraped: int, posted: int, names: list[str]
) -> None:
    result = run(body, rules=rules)
    assert result.error == error
    assert (result.samples_scraped, result.samples_post_relabel) == (scraped, posted)
    assert [labels["__name__"] for labels in labels_of(result)] == names


def test_relabel_result_labels() -> None:
    result = run("a 1\n", rules=[{"target_label": "job", "replacement": "changed"}])
    assert labels_of(result) == [{"__name__": "a", "job": "changed", "instance": "host:9100"}]


@pytest.mark.parametrize(
    ("body", "error", "scraped", "posted"),
    [
        pytest.param(
            'a 1\n{"my.metric"} 1\nb 1\n',
            'invalid metric name or label names: {__name__="my.metric", instance="host:9100", job="node"}',
            2,
            1,
            id="invalid-metric-name",
        ),
        pytest.param(
            'a{"a.b"="x\\ny"} 1\n',
            'invalid metric name or label names: {__name__="a", "a.b"="x\\ny", '
            'instance="host:9100", job="node"}',
            1,
            0,
            id="invalid-label-name-quoted",
        ),
        pytest.param(
            'a 1\nb{x="1",x="2"} 1\n',
            'label name "x" is not unique: invalid sample',
            2,
            1,
            id="duplicate-label-name",
        ),
        pytest.param(
            'a{__name__="b"} 1\n',
            'label name "__name__" is not unique: invalid sample',
            1,
            0,
            id="name-label-twice",
        ),
        pytest.param('a 1\nb{__name__=""} 1\n', pipeline.MISSING_NAME, 2, 1, id="empty-name"),
        pytest.param("a 1\nb 2\nc\n", None, 2, 2, id="parse-error-after-samples"),
        pytest.param(
            'a 1\nb{x="1",x="2"} 1\nc\n',
            'label name "x" is not unique: invalid sample',
            2,
            1,
            id="sample-error-before-parse-error",
        ),
    ],
)
def test_scrape_errors(body: str, error: str | None, scraped: int, posted: int) -> None:
    """A failing series stops the pass at its sample; a parse error counts everything before it."""
    if error is None:
        parse_error = text.parse_text(body.encode()).error
        assert parse_error is not None
        error = parse_error.message
    result = run(body)
    assert (result.error, result.samples_scraped, result.samples_post_relabel) == (error, scraped, posted)
    assert result.series == []


def test_cache_repeat_scrape_is_identical_and_order_changes_are_handled() -> None:
    cache = pipeline.SeriesCache()
    body = 'a{x="1"} 1\nb 2\nc{y="z"} 3\n'
    first = run(body, cache=cache, rules=DROP_A)
    again = run(body, cache=cache, rules=DROP_A)
    assert first.series == again.series and len(first.series) == 2
    assert len(cache) == 3
    reordered = run('c{y="z"} 3\nnew 4\nb 2\nb 5\n', cache=cache, rules=DROP_A)
    assert [labels["__name__"] for labels in labels_of(reordered)] == ["c", "new", "b"]
    assert (reordered.samples_scraped, reordered.samples_post_relabel) == (4, 4)
    assert [value for _, value, _ in decoded(reordered)] == [3.0, 4.0, 2.0]


def test_cache_cleared_when_target_labels_change() -> None:
    cache = pipeline.SeriesCache()
    run("a 1\n", cache=cache)
    result = run("a 1\n", cache=cache, target={"job": "other"})
    assert labels_of(result) == [{"__name__": "a", "job": "other"}]


def test_cache_bounded() -> None:
    cache = pipeline.SeriesCache(max_entries=2)
    run("a 1\nb 1\nc 1\n", cache=cache)
    assert len(cache) == 3
    result = run("d 1\n", cache=cache)
    assert len(cache) == 1 and labels_of(result)[0]["__name__"] == "d"


def test_fast_and_careful_paths_encode_identically() -> None:
    """The C encoder and the general path give the same bytes."""
    body = (
        "# TYPE h histogram\n"
        + "".join(f'h_bucket{{b="{i}",le="{le}",a="x"}} {i}\n' for i, le in enumerate(["0.1", "1", "+Inf"]))
        + "".join(f'm{{zz="{i}",instance="i{i}"}} {i}\n' for i in range(3))
        + "plain 1\n"
        + f'long{{a="{"é" * 100}",b="{"x" * 20_000}"}} 1\n'
        + 'n{a="1"} 1\nn{a="1",b="2"} 2\nn{b="2",a="1"} 3\n'
    )
    for honor in (False, True):
        for target in (TARGET, {}, {"zz": "t", "a": "ta"}):
            fast_result = run(body, honor_labels=honor, target=target)
            careful = run(body, honor_labels=honor, target=target, parser="careful")
            assert fast_result.series == careful.series
            assert len(fast_result.series) == 10  # n{b="2",a="1"} repeats n{a="1",b="2"}'s labels
            assert (fast_result.samples_scraped, fast_result.samples_post_relabel) == (11, 11)
            assert decoded(fast_result)[7][0]["b"] == "x" * 20_000
            assert decoded(fast_result)[9][1] == 2.0


def test_benchmark_quick_run_produces_rows(repo_root: Path) -> None:
    """`benchmarks/pipeline.py --quick` keeps working (figures are not asserted, only that it ran)."""
    out = subprocess.run(
        [sys.executable, str(repo_root / "benchmarks" / "pipeline.py"), "--quick"],
        check=True,
        capture_output=True,
        text=True,
        cwd=repo_root,
        timeout=300,
    ).stdout
    assert out.startswith("machine: ")
    rows = [line.split("|")[1:-1] for line in out.splitlines() if line.startswith("|")]
    assert [cell.strip() for cell in rows[0][:3]] == ["series", "/family", "body MB"]
    assert len(rows) == 3 and rows[2][0].strip() == "1000" and len(rows[2]) == 12
    assert "functions/scraper/app.py:" in out and "functions/dispatcher/app.py:" in out


LONG = "m" * 60


@pytest.mark.parametrize(
    ("body", "limits", "rules", "error", "scraped", "posted"),
    [
        pytest.param(
            "a 1\nb 2\nc 3\n", pipeline.Limits(sample_limit=3), None, None, 3, 3, id="at-sample-limit"
        ),
        pytest.param(
            "a 1\nb 2\nc 3\n",
            pipeline.Limits(sample_limit=2),
            None,
            "sample limit exceeded",
            3,
            3,
            id="over-sample-limit-counts-everything",
        ),
        pytest.param(
            "a 1\na 2\nb 3\n", pipeline.Limits(sample_limit=2), None, None, 3, 3, id="duplicates-not-counted"
        ),
        pytest.param(
            "a 1\nb 2\nc 3\n",
            pipeline.Limits(sample_limit=2),
            DROP_A,
            None,
            3,
            2,
            id="limit-after-relabeling",
        ),
        pytest.param(
            f"a 1 1\nb 2 {SCRAPE_TS + 600_001}\n",
            pipeline.Limits(sample_limit=1),
            None,
            "sample limit exceeded",
            2,
            2,
            id="future-samples-counted",
        ),
        pytest.param(
            'a 1\nb{x="1",y="2"} 1\nc 1\n',
            pipeline.Limits(label_limit=3),
            None,
            "label_limit exceeded (metric: b, number of labels: 4, limit: 3)",
            2,
            1,
            id="label-limit-stops-at-the-series",
        ),
        pytest.param(
            'a{long_label_name="1"} 1\n',
            pipeline.Limits(label_name_length_limit=10),
            None,
            "label_name_length_limit exceeded (metric: a, label name: long_label_name, "
            "length: 15, limit: 10)",
            1,
            0,
            id="label-name-length",
        ),
        pytest.param(
            f"{LONG} 1\n",
            pipeline.Limits(label_value_length_limit=59),
            None,
            f"label_value_length_limit exceeded (metric: {LONG[:50]}, label name: __name__, "
            f'value: "{LONG[:50]}", '
            "length: 60, limit: 59)",
            1,
            0,
            id="metric-name-is-a-value-truncated-to-50-runes",
        ),
        pytest.param(
            'a{v="ééééééé"} 1\n',
            pipeline.Limits(label_value_length_limit=10),
            None,
            'label_value_length_limit exceeded (metric: a, label name: v, value: "ééééééé", '
            "length: 14, limit: 10)",
            1,
            0,
            id="value-length-in-bytes",
        ),
        pytest.param(
            "a 1\nb 2\nc\n",
            pipeline.Limits(sample_limit=1),
            None,
            None,
            2,
            2,
            id="parse-error-wins-over-sample-limit",
        ),
    ],
)
def test_limits(
    body: str,
    limits: pipeline.Limits,
    rules: list[dict[str, object]] | None,
    error: str | None,
    scraped: int,
    posted: int,
) -> None:
    if error is None and body.endswith("c\n"):
        parse_error = text.parse_text(body.encode()).error
        assert parse_error is not None
        error = parse_error.message
    relabeler = compile_rules([RelabelConfig(**rule) for rule in rules]) if rules is not None else None
    for parser in (fast.parse, text.parse_text):
        result = pipeline.process(
            parser(body.encode()),
            target_labels={"job": "node"},
            honor_labels=False,
            honor_timestamps=True,
            metric_relabeler=relabeler,
            scrape_ts_ms=SCRAPE_TS,
            cache=None,
            limits=limits,
        )
        assert (result.error, result.samples_scraped, result.samples_post_relabel) == (error, scraped, posted)
        assert (result.series == []) is (error is not None)


def test_limits_change_clears_the_cache() -> None:
    cache = pipeline.SeriesCache()
    body = 'a{x="1",y="2"} 1\n'
    assert run(body, cache=cache).error is None
    result = pipeline.process(
        fast.parse(body.encode()),
        target_labels=TARGET,
        honor_labels=False,
        honor_timestamps=True,
        metric_relabeler=None,
        scrape_ts_ms=SCRAPE_TS,
        cache=cache,
        limits=pipeline.Limits(label_limit=2),
    )
    assert result.error == "label_limit exceeded (metric: a, number of labels: 5, limit: 2)"
