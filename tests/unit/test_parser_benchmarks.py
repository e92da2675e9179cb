"""benchmarks/payloads.py's OpenMetrics and protobuf payloads, and benchmarks/parsers.py's smoke run.

The payloads must hold `generate`'s series (so the parser figures compare with the pipeline's), be
accepted by every parser measured (prometheus_client's too) with the same samples, and the
protobuf one must be the bytes the `protobuf` package writes for the same MetricFamily messages.
The benchmark's figures are read by people, not asserted.
"""

import hashlib
import math
import subprocess
import sys
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client.openmetrics.parser import text_string_to_metric_families
from promscrape.exposition.model import Exposition
from promscrape.exposition.openmetrics import parse_openmetrics
from promscrape.exposition.protobuf import parse_protobuf

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import payloads
from payloads import Family, HistogramSeries, Series

Sample = tuple[str, tuple[tuple[str, str], ...]]


# sha256 of `generate`'s output before the OpenMetrics/protobuf functions were added next to it.
@pytest.mark.parametrize(
    ("series", "per_family", "digest"),
    [
        (1, 48, "a79edcc5fc9e62269adbc8b32e1e61ea6cb1a2982f3a46116f18842f80dde583"),
        (30, 12, "1e4f88cd3b04dd17cd4e6101979b2778b43487cd7b8e1ad100cfa9f17070caff"),
        (1_000, 48, "2f50ea19f2ea8eb3a285f7fc4872f89b09c0d2cd8bdc0589925dd507cd94bffa"),
        (1_000, 2, "9ceaf9eb149a0cb1b220b708a178f6d4e78c5a03519161b33228df629fbb938d"),
        (10_000, 48, "19eaba69738f4c8c6b664add5d4472c97d32cc3fc5547efad9583ba35fddc4e9"),
    ],
)
def test_generate_keeps_its_output_byte_for_byte(series: int, per_family: int, digest: str) -> None:
    assert hashlib.sha256(payloads.generate(series, per_family=per_family)).hexdigest() == digest


# Lines of `generate` left out at its end: a histogram cut short (1k in families of 48 ends on 4
# buckets; 30 in families of 12 ends on 6, and that family's HELP and TYPE go with them).
@pytest.mark.parametrize(
    ("series", "per_family", "dropped"),
    [(1, 48, 0), (36, 12, 0), (30, 12, 8), (1_000, 48, 4), (10_000, 48, 0)],
)
def test_openmetrics_payload_is_generate_with_eof(series: int, per_family: int, dropped: int) -> None:
    lines = payloads.generate(series, per_family=per_family).splitlines(keepends=True)
    expected = b"".join(lines[: len(lines) - dropped]) + b"# EOF\n"
    assert payloads.generate_openmetrics(series, per_family=per_family) == expected


def test_families_read_back_generate_exactly() -> None:
    found = payloads.families(36, per_family=12)
    assert [(f.name, f.help, f.kind, len(f.series)) for f in found] == [
        ("app_requests_0", "Synthetic counter family number 0 for the pipeline benchmark.", "counter", 12),
        ("app_latency_1", "Synthetic gauge family number 1 for the pipeline benchmark.", "gauge", 12),
        (
            "app_queue_depth_2",
            "Synthetic histogram family number 2 for the pipeline benchmark.",
            "histogram",
            1,
        ),
    ]
    assert found[0].series[0] == Series(
        (
            ("service", "checkout-api"),
            ("region", "eu-west-1"),
            ("method", "GET"),
            ("status", "204"),
            ("pod", "checkout-api-07ce42c82-e1rnh"),
        ),
        "418554020",
    )
    assert found[1].series[0] == Series(
        (
            ("service", "payments-gateway"),
            ("region", "eu-west-1"),
            ("method", "POST"),
            ("status", "204"),
            ("pod", "payments-gateway-f526eb523-sgjzq"),
        ),
        "22658.212",
    )
    assert found[2].series[0] == HistogramSeries(
        (
            ("service", "inventory-service"),
            ("region", "eu-west-1"),
            ("method", "GET"),
            ("pod", "inventory-service-d96380ed6-o32g2"),
        ),
        (
            ("0.005", 461),
            ("0.01", 632),
            ("0.025", 1329),
            ("0.05", 1576),
            ("0.1", 1738),
            ("0.25", 2499),
            ("0.5", 3364),
            ("1", 3469),
            ("2.5", 3914),
            ("+Inf", 4846),
        ),
        "9351.5232",
        4846,
    )


def test_protobuf_payload_of_one_counter_exact_bytes() -> None:
    """Hand-assembled: [len 213] MetricFamily{1 name, 2 help, 3 type 0, 4 Metric{1 labels.., 3 Counter}}."""
    expected = (
        bytes([0xD5, 0x01])
        + b"\x0a\x14app_requests_0_total"
        + b"\x12\x3dSynthetic counter family number 0 for the pipeline benchmark."
        + b"\x18\x00"
        + b"\x22\x7c"
        + b"\x0a\x17" + b"\x0a\x07service" + b"\x12\x0ccheckout-api"
        + b"\x0a\x13" + b"\x0a\x06region" + b"\x12\x09eu-west-1"
        + b"\x0a\x0d" + b"\x0a\x06method" + b"\x12\x03GET"
        + b"\x0a\x0d" + b"\x0a\x06status" + b"\x12\x03204"
        + b"\x0a\x23" + b"\x0a\x03pod" + b"\x12\x1ccheckout-api-07ce42c82-e1rnh"
        + b"\x1a\x09" + b"\x09" + bytes.fromhex("000000a4a0f2b841")  # 418554020.0 as a little-endian double
    )  # fmt: skip
    assert payloads.generate_protobuf(1) == expected


def _prometheus_messages() -> dict[str, type]:
    """io.prometheus.client's metrics.proto (proto2, as client_golang compiles it), the fields used."""
    optional = descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL
    repeated = descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED
    kind = descriptor_pb2.FieldDescriptorProto
    tables = {
        "LabelPair": [
            ("name", 1, kind.TYPE_STRING, optional, ""),
            ("value", 2, kind.TYPE_STRING, optional, ""),
        ],
        "Gauge": [("value", 1, kind.TYPE_DOUBLE, optional, "")],
        "Counter": [("value", 1, kind.TYPE_DOUBLE, optional, "")],
        "Bucket": [
            ("cumulative_count", 1, kind.TYPE_UINT64, optional, ""),
            ("upper_bound", 2, kind.TYPE_DOUBLE, optional, ""),
        ],
        "Histogram": [
            ("sample_count", 1, kind.TYPE_UINT64, optional, ""),
            ("sample_sum", 2, kind.TYPE_DOUBLE, optional, ""),
            ("bucket", 3, kind.TYPE_MESSAGE, repeated, ".io.prometheus.client.Bucket"),
        ],
        "Metric": [
            ("label", 1, kind.TYPE_MESSAGE, repeated, ".io.prometheus.client.LabelPair"),
            ("gauge", 2, kind.TYPE_MESSAGE, optional, ".io.prometheus.client.Gauge"),
            ("counter", 3, kind.TYPE_MESSAGE, optional, ".io.prometheus.client.Counter"),
            ("histogram", 7, kind.TYPE_MESSAGE, optional, ".io.prometheus.client.Histogram"),
        ],
        "MetricFamily": [
            ("name", 1, kind.TYPE_STRING, optional, ""),
            ("help", 2, kind.TYPE_STRING, optional, ""),
            ("type", 3, kind.TYPE_INT32, optional, ""),  # an enum on the wire is an int32 varint
            ("metric", 4, kind.TYPE_MESSAGE, repeated, ".io.prometheus.client.Metric"),
        ],
    }
    proto = descriptor_pb2.FileDescriptorProto(
        name="bench_metrics.proto", package="io.prometheus.client", syntax="proto2"
    )
    for message_name, fields in tables.items():
        message = proto.message_type.add(name=message_name)
        for field_name, number, field_type, label, type_name in fields:
            field = message.field.add(name=field_name, number=number, type=field_type, label=label)
            if type_name:
                field.type_name = type_name
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return {
        name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"io.prometheus.client.{name}"))
        for name in tables
    }


def _family_message(messages: dict[str, type], family: Family) -> object:
    """The MetricFamily client_golang would write: counters named with `_total`, no `+Inf` bucket."""
    out = messages["MetricFamily"](
        name=f"{family.name}_total" if family.kind == "counter" else family.name,
        help=family.help,
        type={"counter": 0, "gauge": 1, "histogram": 4}[family.kind],
    )
    for member in family.series:
        metric = out.metric.add()
        for name, value in member.labels:
            metric.label.add(name=name, value=value)
        if isinstance(member, HistogramSeries):
            metric.histogram.sample_count = member.count
            metric.histogram.sample_sum = float(member.sum)
            for bound, cumulative in member.buckets:
                if bound != "+Inf":
                    metric.histogram.bucket.add(cumulative_count=cumulative, upper_bound=float(bound))
        elif family.kind == "counter":
            metric.counter.value = float(member.value)
        else:
            metric.gauge.value = float(member.value)
    return out


def _delimit(message: bytes) -> bytes:
    size = len(message)
    prefix = bytearray()
    while size >= 0x80:
        prefix.append(size & 0x7F | 0x80)
        size >>= 7
    prefix.append(size)
    return bytes(prefix) + message


@pytest.mark.parametrize(("series", "per_family"), [(36, 12), (1_000, 48), (1_000, 2)])
def test_protobuf_payload_is_what_the_protobuf_package_writes(series: int, per_family: int) -> None:
    messages = _prometheus_messages()
    expected = b"".join(
        _delimit(_family_message(messages, family).SerializeToString())
        for family in payloads.families(series, per_family=per_family)
    )
    assert payloads.generate_protobuf(series, per_family=per_family) == expected


def _ours(exposition: Exposition) -> dict[Sample, float]:
    """Samples by (name, labels sorted), `le` as a float: OM and protobuf spell bounds differently."""
    assert exposition.error is None
    out: dict[Sample, float] = {}
    for key, value in zip(exposition.keys, exposition.values, strict=True):
        name, labels = exposition.series[key]
        out[(name, _normal(labels))] = value
    assert len(out) == len(exposition.keys)
    return out


def _normal(labels: object) -> tuple[tuple[str, str], ...]:
    pairs = labels.items() if isinstance(labels, dict) else labels
    return tuple(sorted((name, repr(float(value)) if name == "le" else value) for name, value in pairs))


def _client(body: bytes) -> dict[Sample, float]:
    out: dict[Sample, float] = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            out[(sample.name, _normal(sample.labels))] = float(sample.value)
    return out


def _expected(series: int, seed: int, per_family: int) -> dict[Sample, float]:
    """The samples `families` holds, straight from its text values (not through any parser)."""
    out: dict[Sample, float] = {}
    for family in payloads.families(series, seed, per_family):
        for member in family.series:
            if isinstance(member, HistogramSeries):
                for bound, cumulative in member.buckets:
                    out[(f"{family.name}_bucket", _normal((*member.labels, ("le", bound))))] = cumulative
                out[(f"{family.name}_sum", _normal(member.labels))] = float(member.sum)
                out[(f"{family.name}_count", _normal(member.labels))] = member.count
            else:
                name = f"{family.name}_total" if family.kind == "counter" else family.name
                out[(name, _normal(member.labels))] = float(member.value)
    return out


@pytest.mark.parametrize(("series", "per_family", "samples"), [(1_000, 48, 996), (1_000, 2, 668)])
def test_every_parser_reads_the_same_samples(series: int, per_family: int, samples: int) -> None:
    om = payloads.generate_openmetrics(series, per_family=per_family)
    pb = payloads.generate_protobuf(series, per_family=per_family)
    expected = _expected(series, 1, per_family)
    assert len(expected) == samples
    assert _ours(parse_openmetrics(om)) == expected
    assert _ours(parse_protobuf(pb)) == expected
    assert _client(om) == expected


@settings(max_examples=25, deadline=None)
@given(
    series=st.integers(min_value=1, max_value=400),
    seed=st.integers(min_value=0, max_value=2**32),
    per_family=st.integers(min_value=1, max_value=60),
)
def test_payloads_of_any_shape_parse_alike(series: int, seed: int, per_family: int) -> None:
    expected = _expected(series, seed, per_family)
    om = payloads.generate_openmetrics(series, seed, per_family)
    assert _ours(parse_openmetrics(om)) == expected
    assert _ours(parse_protobuf(payloads.generate_protobuf(series, seed, per_family))) == expected
    assert _client(om) == expected
    assert all(math.isfinite(value) for value in expected.values())


def test_parser_benchmark_quick_run(repo_root: Path) -> None:
    out = subprocess.run(
        [sys.executable, str(repo_root / "benchmarks" / "parsers.py"), "--quick"],
        check=True,
        capture_output=True,
        text=True,
        cwd=repo_root,
    ).stdout
    rows = [line.split("|")[1:-1] for line in out.splitlines() if line.startswith("|   1000 |")]
    assert [row[1].strip() for row in rows] == [
        "promscrape OpenMetrics",
        "promscrape OpenMetrics, parse() alone",
        "promscrape protobuf",
        "prometheus_client OpenMetrics",
    ]
    assert [row[3].strip() for row in rows] == ["996"] * 4
    assert all(row[6].strip().endswith("x") and row[7].strip().endswith("x") for row in rows)
    assert "bar (10x prometheus_client) is judged at 100000 series: not run with --quick" in out


def test_parser_benchmark_profile_names_the_parsers_functions(repo_root: Path) -> None:
    out = subprocess.run(
        [sys.executable, str(repo_root / "benchmarks" / "parsers.py"), "--quick", "--profile", "pb"],
        check=True,
        capture_output=True,
        text=True,
        cwd=repo_root,
    ).stdout
    assert out.startswith("pb: first round on 1000 series, 996 samples; top 20 by own time:")
    assert "promscrape/exposition/protobuf.py" in out
