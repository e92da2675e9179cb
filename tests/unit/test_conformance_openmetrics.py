"""The OpenMetrics parser against public vectors: the 211 cases of the OpenMetrics suite, Prometheus's
own OpenMetrics test files (exact counts and values), and an independent parser (prometheus_client)
on every valid case."""

import json
import math
import struct
from pathlib import Path

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families
from promscrape.exposition import Exposition, Metadata
from promscrape.exposition.model import Exemplar
from promscrape.exposition.openmetrics import parse_openmetrics
from promscrape.exposition.render import render_samples
from promscrape.exposition.text import canonical_float_label, unescape_label_value

SUITE = (
    Path(__file__).resolve().parents[2] / ".." / "shared" / "conformance" / "openmetrics" / "parsers"
).resolve()
CASES = sorted(p.name for p in SUITE.iterdir()) if SUITE.is_dir() else ["conformance-vectors-missing"]
"""Case names for the ids; when the vectors are missing the one placeholder fails in the fixture."""

_METADATA = "Prometheus checks neither the order, the repetition nor clashes of metadata"
_VALUES = "Prometheus does not check sample values against the family's type"
_HISTOGRAM = "Prometheus does not check the structure of (gauge) histograms: buckets, +Inf, _count, _sum"
_TYPE_LABELS = "Prometheus does not check the labels a type requires (quantile, le, the stateset label)"
_EXEMPLAR_PLACE = "Prometheus accepts an exemplar on any sample line"
_ORDER = "Prometheus checks neither the grouping of a family's samples nor the order of timestamps"
_EXEMPLAR_LENGTH = "Prometheus drops an exemplar over 128 runes of labels and keeps the sample"
_DUPLICATE_LABEL = "the parser accepts it; the pipeline then fails the scrape: label name is not unique"
_TRAILING_COMMA = "Prometheus's OpenMetrics parser accepts a trailing comma in a label list"
_UNIT_TYPE = "Prometheus does not check which types may carry a unit"

LENIENT: dict[str, str] = {
    "bad_clashing_names_0": _METADATA,
    "bad_clashing_names_1": _METADATA,
    "bad_clashing_names_2": _METADATA,
    "bad_repeated_metadata_0": _METADATA,
    "bad_repeated_metadata_1": _METADATA,
    "bad_repeated_metadata_3": _METADATA,
    "bad_metadata_in_wrong_place_0": _METADATA,
    "bad_metadata_in_wrong_place_1": _METADATA,
    "bad_metadata_in_wrong_place_2": _METADATA,
    **{f"bad_counter_values_{n}": _VALUES for n in range(20)},
    "bad_info_and_stateset_values_0": _VALUES,
    "bad_info_and_stateset_values_1": _VALUES,
    **{f"bad_stateset_info_values_{n}": _VALUES for n in range(4)},
    **{f"bad_histograms_{n}": _HISTOGRAM for n in (0, 1, 2, 3, 6, 7, 8, 9, 10, 11, 12, 13, 14)},
    **{f"bad_missing_or_invalid_labels_for_a_type_{n}": _TYPE_LABELS for n in range(8)},
    **{f"bad_exemplars_on_unallowed_metric_types_{n}": _EXEMPLAR_PLACE for n in range(3)},
    **{f"bad_exemplars_on_unallowed_samples_{n}": _EXEMPLAR_PLACE for n in range(4)},
    **{f"bad_grouping_or_ordering_{n}": _ORDER for n in (0, 2, 3, 4, 5, 6, 7, 8, 9, 10)},
    "bad_exemplars_6": _EXEMPLAR_LENGTH,
    "bad_exemplar_complex_chars": _EXEMPLAR_LENGTH,
    "bad_invalid_labels_2": _DUPLICATE_LABEL,
    "bad_invalid_labels_5": _DUPLICATE_LABEL,
    "bad_missing_or_extra_commas_2": _TRAILING_COMMA,
    "bad_unit_6": _UNIT_TYPE,
    "bad_unit_7": _UNIT_TYPE,
}


def case(conformance_dir: Path, name: str) -> tuple[bytes, dict[str, object]]:
    folder = conformance_dir / "openmetrics" / "parsers" / name
    return (folder / "metrics").read_bytes(), json.loads((folder / "test.json").read_text())


def test_the_suite_is_complete(conformance_dir: Path) -> None:
    names = sorted(p.name for p in (conformance_dir / "openmetrics" / "parsers").iterdir())
    assert names == CASES
    assert len(names) == 211
    should = [case(conformance_dir, name)[1]["shouldParse"] for name in names]
    assert should.count(True) == 44


@pytest.mark.parametrize("name", CASES)
def test_case(conformance_dir: Path, name: str) -> None:
    body, spec = case(conformance_dir, name)
    assert spec["type"] == "text"
    result = parse_openmetrics(body)
    careful = parse_openmetrics(body, line_shortcut=False)
    assert str(result.error) == str(careful.error)
    assert (result.keys, result.timestamps, result.exemplars) == (
        careful.keys,
        careful.timestamps,
        careful.exemplars,
    )
    if name in LENIENT:
        assert spec["shouldParse"] is False, f"{name} is listed as lenient but the suite accepts it"
        assert result.error is None, f"{name}: {LENIENT[name]}, yet it failed: {result.error}"
    else:
        assert (result.error is None) is spec["shouldParse"], f"{name}: {result.error}"
        if result.error is not None:
            assert result.error.line is not None


@pytest.mark.parametrize("name", ["bad_exemplars_6", "bad_exemplar_complex_chars"])
def test_overlong_exemplars_are_dropped_and_the_sample_kept(conformance_dir: Path, name: str) -> None:
    result = parse_openmetrics(case(conformance_dir, name)[0])
    assert result.error is None
    assert result.keys == ['a_bucket{le="+Inf"}']
    assert result.values == [1.0]
    assert result.exemplars == {}


def test_exactly_128_code_points_is_kept(conformance_dir: Path) -> None:
    result = parse_openmetrics(case(conformance_dir, "exemplars_wide_chars")[0])
    assert result.error is None
    exemplar = result.exemplars[0]
    assert sum(len(n) + len(v) for n, v in exemplar.labels) == 128
    assert len("".join(v for _, v in exemplar.labels).encode()) > 128
    assert (exemplar.value, exemplar.timestamp_ms) == (1.0, 1000)


@pytest.mark.parametrize("name", ["bad_invalid_labels_2", "bad_invalid_labels_5"])
def test_duplicate_label_names_reach_the_pipeline(conformance_dir: Path, name: str) -> None:
    result = parse_openmetrics(case(conformance_dir, name)[0])
    (key,) = result.keys
    labels = result.series[key][1]
    assert [label for label, _ in labels] == ["a", "a"]


def _client_samples(body: bytes) -> list[tuple[str, dict[str, str], float, float | None, object]]:
    """prometheus_client's reading, le/quantile canonicalised and empty labels dropped as Prometheus does."""
    out = []
    for family in text_string_to_metric_families(body.decode()):
        special = {"histogram": "le", "summary": "quantile"}.get(family.type)
        for sample in family.samples:
            labels = {k: v for k, v in sample.labels.items() if v}
            if special in labels:
                labels[special] = canonical_float_label(labels[special])
            ts = None if sample.timestamp is None else float(sample.timestamp)
            out.append((sample.name, labels, float(sample.value), ts, sample.exemplar))
    return out


def _same_float(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


@pytest.mark.parametrize("name", CASES)
def test_valid_cases_agree_with_prometheus_client(conformance_dir: Path, name: str) -> None:
    body, spec = case(conformance_dir, name)
    if not spec["shouldParse"]:
        return
    ours = parse_openmetrics(body)
    if name.startswith("duplicate_timestamps_"):
        # prometheus_client keeps one sample per series and nanosecond timestamp; Prometheus's
        # parser yields every line (all at 0 ms after truncation) and the append path sorts it out.
        assert ours.values == [1.0, 2.0, 3.0, 4.0, 5.0]
        assert ours.timestamps == [0] * 5
        return
    theirs = _client_samples(body)
    assert len(ours.keys) == len(theirs)
    for index, (key, value, timestamp) in enumerate(
        zip(ours.keys, ours.values, ours.timestamps, strict=True)
    ):
        metric, labels = ours.series[key]
        client_name, client_labels, client_value, client_ts, client_exemplar = theirs[index]
        assert (metric, dict(labels)) == (client_name, client_labels)
        assert _same_float(value, client_value)
        if client_ts is None:
            assert timestamp is None
        elif abs(client_ts) < 9e15:
            assert timestamp is not None and abs(timestamp - client_ts * 1000) <= 1
        else:
            assert timestamp == -(1 << 63)
        exemplar = ours.exemplars.get(index)
        if client_exemplar is None:
            assert exemplar is None
        else:
            assert exemplar is not None
            assert {k: unescape_label_value(v) for k, v in exemplar.labels} == client_exemplar.labels
            assert _same_float(exemplar.value, float(client_exemplar.value))


def read(conformance_dir: Path, name: str) -> Exposition:
    result = parse_openmetrics((conformance_dir / "prometheus" / name).read_bytes())
    assert result.error is None
    return result


def test_alltypes_5mfs(conformance_dir: Path) -> None:
    result = read(conformance_dir, "alltypes.5mfs.om.txt")
    assert len(result.keys) == 53
    assert len(set(result.keys)) == 53
    assert result.metadata == {
        "go_build_info": Metadata("gauge", "Build information about the main Go module."),
        "promhttp_metric_handler_errors": Metadata(
            "counter", "Total number of internal errors encountered by the promhttp metric handler."
        ),
        "rpc_durations_histogram_seconds": Metadata("histogram", "RPC latency distributions."),
        "rpc_durations_seconds": Metadata("summary", "RPC latency distributions."),
        "rpc_requests": Metadata("counter", "Total number of RPC requests received."),
    }
    lines = list(render_samples(result))
    assert lines[:3] == [
        "go_build_info 1",
        'promhttp_metric_handler_errors_total{cause="encoding"} 0',
        'promhttp_metric_handler_errors_created{cause="encoding"} 1.726839813016397e+09',
    ]
    for line in [
        'rpc_durations_histogram_seconds_bucket{le="-0.00099"} 0',
        'rpc_durations_histogram_seconds_bucket{le="-8.999999999999979e-05"} 5',
        'rpc_durations_histogram_seconds_bucket{le="+Inf"} 15',
        "rpc_durations_histogram_seconds_sum -8.452185437166741e-05",
        "rpc_durations_histogram_seconds_created 1.726839813016302e+09",
        'rpc_durations_seconds{quantile="0.5",service="exponential"} 7.689368882420941e-07',
        'rpc_durations_seconds_created{service="normal"} 1.726839813016714e+09',
    ]:
        assert line in lines
    assert lines[-1] == 'rpc_requests_created{service="uniform"} 1.7268398130168471e+09'
    # go_build_info's three empty labels mean absent labels.
    assert result.series['go_build_info{checksum="",path="",version=""}'] == ("go_build_info", ())
    assert result.empty_labels['go_build_info{checksum="",path="",version=""}'] == {
        "checksum",
        "path",
        "version",
    }
    # _created lines are samples (Prometheus 3's default); no start timestamps are derived.
    assert sum(key.split("{")[0].endswith("_created") for key in result.keys) == 9
    assert result.start_timestamps == {}
    assert result.timestamps == [None] * 53
    assert sorted(result.exemplars) == [12, 13, 15, 16, 17, 18]
    assert result.exemplars[12] == Exemplar((("dummyID", "17783"),), -0.0003825067330956884, 1726839814223)
    assert result.exemplars[18] == Exemplar((("dummyID", "9818"),), 0.0002791130914009552, 1726839814982)
    key = 'rpc_durations_histogram_seconds_bucket{le="-0.0002899999999999998"}'
    assert result.keys[12] == key
    assert result.series[key] == (
        "rpc_durations_histogram_seconds_bucket",
        (("le", "-0.0002899999999999998"),),
    )


def test_1histogram(conformance_dir: Path) -> None:
    result = read(conformance_dir, "1histogram.om.txt")
    assert len(result.keys) == 42
    assert result.metadata == {
        "golang_manual_histogram_seconds": Metadata(
            "histogram", "This is a histogram with manually selected parameters"
        )
    }
    assert sum(result.values) == 3 * (2 + 10.0 + 1)
    assert [v for k, v in zip(result.keys, result.values, strict=True) if "_count" in k] == [1.0, 1.0, 1.0]
    key = 'golang_manual_histogram_seconds_bucket{address="0.0.0.0",generation="20",port="5001",le="5.0"}'
    assert result.keys[9] == key
    assert result.series[key] == (
        "golang_manual_histogram_seconds_bucket",
        (("address", "0.0.0.0"), ("generation", "20"), ("port", "5001"), ("le", "5.0")),
    )
    assert result.exemplars == {}
    assert struct.pack("<d", result.values[12]) == struct.pack("<d", 10.0)
