"""Prometheus's own text test data (conformance/prometheus): exact counts, exact spot checks, and a
cross-check of every sample against an independent parser (prometheus_client)."""

import gzip
import math
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from promscrape import exposition
from promscrape.exposition import Exposition, Metadata
from promscrape.exposition.floats import format_le
from promscrape.exposition.render import render_samples
from promscrape.exposition.text import parse_text


def read(conformance_dir: Path, name: str) -> bytes:
    path = conformance_dir / "prometheus" / name
    if not path.is_file():
        pytest.fail(f"conformance vector missing: {path}")
    data = path.read_bytes()
    return gzip.decompress(data) if name.endswith(".gz") else data


def parsed(body: bytes) -> Exposition:
    result = exposition.new(body, "text/plain; version=0.0.4; charset=utf-8").parse()
    assert result.error is None
    return result


def test_alltypes_counts_and_spot_checks(conformance_dir: Path) -> None:
    result = parsed(read(conformance_dir, "alltypes.237mfs.prom.txt"))
    assert len(result.keys) == 1857
    assert len(set(result.keys)) == 1857
    assert len(result.metadata) == 237
    types = [m.type for m in result.metadata.values()]
    assert {t: types.count(t) for t in set(types)} == {
        "counter": 112,
        "gauge": 97,
        "histogram": 15,
        "summary": 13,
    }
    assert result.metadata["go_info"] == Metadata(type="gauge", help="Information about the Go environment.")
    lines = list(render_samples(result))
    assert lines[:4] == [
        "go_gc_cycles_automatic_gc_cycles_total 190932",
        "go_gc_cycles_forced_gc_cycles_total 0",
        "go_gc_cycles_total_gc_cycles_total 190932",
        'go_gc_duration_seconds{quantile="0.0"} 7.6238e-05',
    ]
    assert lines[-1] == 'promhttp_metric_handler_requests_total{code="503"} 0'
    for line in [
        'go_gc_duration_seconds{quantile="1.0"} 0.002389378',
        'go_gc_heap_allocs_by_size_bytes_bucket{le="8.999999999999998"} 2.279966416e+09',
        'go_gc_heap_allocs_by_size_bytes_bucket{le="+Inf"} 4.4046288803e+10',
        "go_gc_heap_allocs_by_size_bytes_sum 5.937322571024e+12",
        "go_gc_gomemlimit_bytes 9.03676723e+08",
        'go_info{version="go1.23.4"} 1',
        'prometheus_http_request_duration_seconds_bucket{handler="/",le="1.0"} 688',
        'promhttp_metric_handler_requests_total{code="200"} 4.059092e+06',
    ]:
        assert line in lines
    key = 'prometheus_http_request_duration_seconds_bucket{handler="/",le="1"}'
    assert result.series[key] == (
        "prometheus_http_request_duration_seconds_bucket",
        (("handler", "/"), ("le", "1.0")),
    )


@pytest.mark.parametrize("name", ["expfmt-text", "expfmt-text.gz"])
def test_expfmt_text_counts_and_spot_checks(conformance_dir: Path, name: str) -> None:
    result = parsed(read(conformance_dir, name))
    assert len(result.keys) == 248
    assert len(result.metadata) == 37
    lines = list(render_samples(result))
    assert lines[:3] == [
        'http_request_duration_microseconds{handler="/",quantile="0.5"} 0',
        'http_request_duration_microseconds{handler="/",quantile="0.9"} 0',
        'http_request_duration_microseconds{handler="/",quantile="0.99"} 0',
    ]
    assert lines[-1] == 'prometheus_target_interval_length_seconds_count{interval="1s"} 117'
    for line in [
        "process_resident_memory_bytes 5.3870592e+07",
        "process_start_time_seconds 1.42236894836e+09",
        "process_virtual_memory_bytes 5.41478912e+08",
    ]:
        assert line in lines
    assert result.metadata["http_request_duration_microseconds"] == Metadata(
        type="summary", help="The HTTP request latencies in microseconds."
    )


@pytest.mark.parametrize("name", ["alltypes.237mfs.prom.txt", "expfmt-text"])
def test_every_sample_agrees_with_prometheus_client(conformance_dir: Path, name: str) -> None:
    body = read(conformance_dir, name)
    ours = parse_text(body)
    theirs = [
        (sample.name, sample.labels, sample.value)
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
    ]
    assert len(theirs) == len(ours.keys)
    for (name_, labels, value), key, our_value in zip(theirs, ours.keys, ours.values, strict=True):
        our_name, our_labels = ours.series[key]
        expected = {k: (format_le(float(v)) if k in ("le", "quantile") else v) for k, v in labels.items()}
        assert (our_name, dict(our_labels)) == (name_, expected)
        assert our_value == value or (math.isnan(our_value) and math.isnan(value))
