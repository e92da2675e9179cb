"""enable_type_and_unit_labels: `__type__` and `__unit__` from the family, as Prometheus 3 adds them."""

import pytest
from promscrape import pipeline
from promscrape.exposition import fast
from promscrape.exposition.model import Metadata
from promscrape.exposition.openmetrics import parse_openmetrics
from promscrape.exposition.typeunit import add_type_and_unit_labels, belongs, family_metadata
from promscrape.remote_write import decode

TARGET = {"instance": "h:1", "job": "j"}


@pytest.mark.parametrize(
    ("name", "family", "kind", "expected"),
    [
        ("a_total", "a", "counter", True),
        ("a_total", "a_total", "counter", True),
        ("a", "a_total", "counter", False),  # the fast path: no prefix, no family
        ("a_created", "a", "counter", False),
        ("h_bucket", "h", "histogram", True),
        ("h_sum", "h", "histogram", True),
        ("h_count", "h", "histogram", True),
        ("h", "h", "histogram", True),
        ("h_gsum", "h", "histogram", False),
        ("g_gsum", "g", "gaugehistogram", True),
        ("s_sum", "s", "summary", True),
        ("s_bucket", "s", "summary", False),
        ("b_info", "b", "info", True),
        ("b_info", "b_info", "info", True),
        ("x", "x", "gauge", True),
        ("x_total", "x", "gauge", False),
        ("y", "x", "gauge", False),
        ("x_sum", "x", "unknown", False),
    ],
)
def test_belongs_as_is_series_part_of_family(name: str, family: str, kind: str, expected: bool) -> None:
    assert belongs(name, family, kind) is expected


def labels_after(body: bytes, parse=fast.parse) -> dict[str, tuple[tuple[str, str], ...]]:
    exposition = add_type_and_unit_labels(parse(body))
    return {exposition.series[key][0]: exposition.series[key][1] for key in exposition.keys}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            b'# TYPE a counter\na_total{x="1"} 1\n',
            {"a_total": (("x", "1"), ("__type__", "counter"))},
            id="counter",
        ),
        pytest.param(b"# TYPE u untyped\nu 1\n", {"u": ()}, id="untyped-is-no-type"),
        pytest.param(b"v 1\n", {"v": ()}, id="no-metadata"),
        pytest.param(b"# TYPE g gauge\nother 1\n", {"other": ()}, id="not-of-the-family"),
        pytest.param(
            b'# TYPE h histogram\nh_bucket{le="+Inf"} 1\nh_sum 2\nh_count 1\n',
            {
                "h_bucket": (("le", "+Inf"), ("__type__", "histogram")),
                "h_sum": (("__type__", "histogram"),),
                "h_count": (("__type__", "histogram"),),
            },
            id="histogram-suffixes",
        ),
        pytest.param(
            b'# TYPE g gauge\ng{__type__="mine",__unit__="kept"} 1\n',
            {"g": (("__unit__", "kept"), ("__type__", "gauge"))},
            id="scraped-type-label-overridden",
        ),
    ],
)
def test_text(body: bytes, expected: dict[str, tuple[tuple[str, str], ...]]) -> None:
    assert labels_after(body) == expected


def test_openmetrics_unit() -> None:
    body = b"# TYPE t_seconds gauge\n# UNIT t_seconds seconds\nt_seconds 1\n# EOF\n"
    assert labels_after(body, parse_openmetrics) == {
        "t_seconds": (("__type__", "gauge"), ("__unit__", "seconds"))
    }


def test_family_metadata_prefers_the_family_the_name_belongs_to() -> None:
    metadata = {"a": Metadata("counter"), "a_total": Metadata("gauge")}
    assert family_metadata("a_total", metadata) == Metadata("gauge")
    assert family_metadata("a_sum", {"a": Metadata("gauge")}) is None


def test_labels_reach_remote_write_and_count_for_limits() -> None:
    exposition = add_type_and_unit_labels(fast.parse(b"# TYPE a counter\na_total 1\n"))
    result = pipeline.process(
        exposition,
        target_labels=TARGET,
        honor_labels=False,
        honor_timestamps=True,
        metric_relabeler=None,
        scrape_ts_ms=1_700_000_000_000,
        cache=None,
    )
    (series,) = decode.decode_write_request(b"".join(result.series), compressed=False)
    assert series.label_dict == {"__name__": "a_total", "__type__": "counter", **TARGET}
    limited = pipeline.process(
        exposition,
        target_labels=TARGET,
        honor_labels=False,
        honor_timestamps=True,
        metric_relabeler=None,
        scrape_ts_ms=1_700_000_000_000,
        cache=None,
        limits=pipeline.Limits(label_limit=3),
    )
    assert limited.error == "label_limit exceeded (metric: a_total, number of labels: 4, limit: 3)"
