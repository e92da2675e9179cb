"""Reproducible Prometheus text payloads shaped like real exporters, for the pipeline benchmark.

Families of counters, gauges and classic histograms, each with `# HELP` and `# TYPE`, every series
with 5 labels (a histogram's buckets have `le` as the 5th, its `_sum` and `_count` only the 4
others, as client libraries write them), lines of about 150 bytes, values a mix of integers, floats
and zeros (counters at rest) like a service's /metrics.

`generate_openmetrics` and `generate_protobuf` give the same families as OpenMetrics text and as
delimited protobuf (client_golang's shape), for the parser benchmark (benchmarks/parsers.py).
"""

import random
import re
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parents[1] / "tests"))  # tests/protowire.py, the encoder

import protowire
from protowire import COUNTER, GAUGE, HISTOGRAM, double, label, message, uint

SERIES_PER_FAMILY = 48
_BUCKETS = ("0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf")
_SERVICES = ("checkout-api", "payments-gateway", "inventory-service", "search-frontend", "auth-proxy")
_REGIONS = ("eu-west-1", "us-east-1", "ap-southeast-2")
_METHODS = ("GET", "POST", "PUT", "DELETE")
_STATUS = ("200", "201", "204", "400", "404", "500", "503")


def _pod(rng: random.Random, service: str) -> str:
    suffix = "".join(rng.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=5))
    return f"{service}-{rng.randrange(16**9):09x}-{suffix}"


def _value(rng: random.Random, kind: str) -> str:
    roll = rng.random()
    if roll < 0.2:
        return "0"
    if kind == "gauge":
        return repr(round(rng.uniform(-1e3, 1e6), 3))
    return str(rng.randrange(1, 10**9))


def generate(series: int, seed: int = 1, per_family: int = SERIES_PER_FAMILY) -> bytes:
    """A body with exactly `series` samples (5 labels each), HELP and TYPE for every family.

    `per_family` small (2-4) gives the shape of node_exporter: many families of a few series.
    """
    rng = random.Random(seed)
    lines: list[str] = []
    written = 0
    family = 0
    while written < series:
        kind = ("counter", "gauge", "histogram")[family % 3]
        name = f"app_{('requests', 'latency', 'queue_depth', 'bytes')[family % 4]}_{family}"
        lines.append(f"# HELP {name} Synthetic {kind} family number {family} for the pipeline benchmark.")
        lines.append(f"# TYPE {name} {kind}")
        count = min(per_family, series - written)
        service = _SERVICES[family % len(_SERVICES)]
        if kind == "histogram":
            per_set = len(_BUCKETS) + 2
            for start in range(0, count, per_set):
                pod = _pod(rng, service)
                region, method = rng.choice(_REGIONS), rng.choice(_METHODS)
                common = f'service="{service}",region="{region}",method="{method}",pod="{pod}"'
                cumulative = 0
                lines_left = min(per_set, count - start)
                for bucket in _BUCKETS[:lines_left]:
                    cumulative += rng.randrange(0, 1000)
                    lines.append(f'{name}_bucket{{{common},le="{bucket}"}} {cumulative}')
                if lines_left > len(_BUCKETS):
                    lines.append(f"{name}_sum{{{common}}} {round(cumulative * rng.uniform(0.01, 2), 6)!r}")
                if lines_left > len(_BUCKETS) + 1:
                    lines.append(f"{name}_count{{{common}}} {cumulative}")
        else:
            sample_name = f"{name}_total" if kind == "counter" else name
            for _ in range(count):
                labels = (
                    f'service="{service}",region="{rng.choice(_REGIONS)}",method="{rng.choice(_METHODS)}",'
                    f'status="{rng.choice(_STATUS)}",pod="{_pod(rng, service)}"'
                )
                lines.append(f"{sample_name}{{{labels}}} {_value(rng, kind)}")
        written += count
        family += 1
    lines.append("")
    return "\n".join(lines).encode()


# The same payloads as OpenMetrics text and as delimited protobuf, for the parser benchmark.

_SAMPLE_LINE = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\} (\S+)")
_LABEL_PAIR = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"')
# MetricFamily.type (REFERENCE §5) of the kinds `generate` writes.
_PROTO_TYPES = {"counter": COUNTER, "gauge": GAUGE, "histogram": HISTOGRAM}
_HISTOGRAM_SUFFIXES = ("_bucket",) * len(_BUCKETS) + ("_sum", "_count")

Labels = tuple[tuple[str, str], ...]
_Line = tuple[str, Labels, str]  # a sample line of `generate`: name, labels, value as written


@dataclass(frozen=True, slots=True)
class Series:
    """A counter or gauge series of `generate`: labels in written order, the value as written."""

    labels: Labels
    value: str


@dataclass(frozen=True, slots=True)
class HistogramSeries:
    """One classic histogram (buckets, `_sum`, `_count`) of `generate`, values as written."""

    labels: Labels
    buckets: tuple[tuple[str, int], ...]
    sum: str
    count: int


@dataclass(frozen=True, slots=True)
class Family:
    """A family of `generate`: `name` as its `# TYPE` line writes it (counters without `_total`)."""

    name: str
    help: str
    kind: str
    series: tuple[Series, ...] | tuple[HistogramSeries, ...]


def families(series: int, seed: int = 1, per_family: int = SERIES_PER_FAMILY) -> list[Family]:
    """The families of `generate(series, seed, per_family)`, read back from its text.

    `generate` may stop inside a histogram (1k series in families of 48 end on 4 buckets): such a
    histogram is neither valid OpenMetrics (no `+Inf` bucket, which prometheus_client rejects) nor
    expressible in protobuf (a Histogram always carries count and sum), so it is left out, and so
    is a family left without series. Everything else is exactly what `generate` wrote.
    """
    found: list[Family] = []
    lines = generate(series, seed, per_family).decode().splitlines()
    i = 0
    while i < len(lines):
        name, help_text = lines[i].removeprefix("# HELP ").split(" ", 1)
        kind = lines[i + 1].rsplit(" ", 1)[1]
        i += 2
        samples: list[_Line] = []
        while i < len(lines) and not lines[i].startswith("#"):
            match = _SAMPLE_LINE.fullmatch(lines[i])
            if match is None:
                raise ValueError(f"not a generated sample line: {lines[i]!r}")
            samples.append((match[1], tuple(_LABEL_PAIR.findall(match[2])), match[3]))
            i += 1
        members = _histograms(name, samples) if kind == "histogram" else _plain(samples)
        if members:
            found.append(Family(name, help_text, kind, members))
    return found


def _plain(samples: list[_Line]) -> tuple[Series, ...]:
    return tuple(Series(labels, value) for _, labels, value in samples)


def _histograms(name: str, samples: list[_Line]) -> tuple[HistogramSeries, ...]:
    """Complete histograms only: `_bucket` lines up to `le="+Inf"`, then `_sum`, then `_count`."""
    complete: list[HistogramSeries] = []
    per_set = len(_HISTOGRAM_SUFFIXES)
    for start in range(0, len(samples), per_set):
        group = samples[start : start + per_set]
        if len(group) < per_set:
            break
        if [line[0] for line in group] != [name + suffix for suffix in _HISTOGRAM_SUFFIXES]:
            raise ValueError(f"not a generated histogram: {group[0]!r}")
        *buckets, (_, labels, total), (_, _, count) = group
        bounds = tuple((pairs[-1][1], int(value)) for _, pairs, value in buckets)
        complete.append(HistogramSeries(labels, bounds, total, int(count)))
    return tuple(complete)


def generate_openmetrics(series: int, seed: int = 1, per_family: int = SERIES_PER_FAMILY) -> bytes:
    """`generate`'s body as OpenMetrics 1.0: the same lines (it is valid OpenMetrics), `# EOF` last.

    Counters already write `<family>_total` under `# TYPE <family> counter`, as OpenMetrics wants.
    """
    lines: list[str] = []
    for family in families(series, seed, per_family):
        lines.append(f"# HELP {family.name} {family.help}")
        lines.append(f"# TYPE {family.name} {family.kind}")
        for member in family.series:
            if isinstance(member, HistogramSeries):
                common = _label_text(member.labels)
                for bound, cumulative in member.buckets:
                    lines.append(f'{family.name}_bucket{{{common},le="{bound}"}} {cumulative}')
                lines.append(f"{family.name}_sum{{{common}}} {member.sum}")
                lines.append(f"{family.name}_count{{{common}}} {member.count}")
            else:
                suffix = "_total" if family.kind == "counter" else ""
                lines.append(f"{family.name}{suffix}{{{_label_text(member.labels)}}} {member.value}")
    lines.append("# EOF\n")
    return "\n".join(lines).encode()


def _label_text(labels: Labels) -> str:
    return ",".join(f'{name}="{value}"' for name, value in labels)


def generate_protobuf(series: int, seed: int = 1, per_family: int = SERIES_PER_FAMILY) -> bytes:
    """`generate`'s families as delimited MetricFamily messages, as client_golang writes them.

    Counter families are named with `_total`; histograms are protobuf Histograms (sample_count,
    sample_sum, buckets with cumulative_count and upper_bound) without the `+Inf` bucket, which
    client_golang leaves implicit and Prometheus synthesises from sample_count. Fields in field
    number order, scalars always present (proto2 `optional`, as client_golang sets them).
    """
    out = bytearray()
    for family in families(series, seed, per_family):
        name = f"{family.name}_total" if family.kind == "counter" else family.name
        metrics = [_metric(family.kind, member) for member in family.series]
        out += protowire.family(name, _PROTO_TYPES[family.kind], *metrics, help_text=family.help)
    return bytes(out)


def _metric(kind: str, member: Series | HistogramSeries) -> bytes:
    """One Metric: its LabelPairs (field 1), then its gauge (2), counter (3) or histogram (7)."""
    labels = b"".join(label(name, value) for name, value in member.labels)
    if isinstance(member, HistogramSeries):
        buckets = [
            message(3, uint(1, cumulative), double(2, float(bound)))
            for bound, cumulative in member.buckets
            if bound != "+Inf"
        ]
        return labels + message(7, uint(1, member.count), double(2, float(member.sum)), *buckets)
    return labels + message(3 if kind == "counter" else 2, double(1, float(member.value)))
