"""What every exposition parser answers: columns of samples, their series, and family metadata.

Columnar so the hot path can work on whole lists with C-level builtins instead of one Python
object per sample; the series text is the key for duplicate detection and the per-target cache.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

Labels = tuple[tuple[str, str], ...]


class ParseError(Exception):
    """An exposition that cannot be ingested; names the line (text) or byte offset (protobuf)."""

    def __init__(self, message: str, line: int | None = None, offset: int | None = None) -> None:
        self.message = message
        self.line = line
        self.offset = offset
        if line is not None:
            where = f"line {line}: "
        elif offset is not None:
            where = f"byte {offset}: "
        else:
            where = ""
        super().__init__(f"{where}{message}")


@dataclass(slots=True)
class Metadata:
    type: str = "unknown"
    help: str | None = None
    unit: str | None = None


@dataclass(frozen=True, slots=True)
class Exemplar:
    """An exemplar as scraped (OpenMetrics ` # {...} v [ts]`, protobuf Exemplar); labels in written order."""

    labels: Labels
    value: float
    timestamp_ms: int | None = None


Spans = tuple[tuple[int, int], ...]
"""BucketSpans as (offset, length) pairs, as exposed (REFERENCE §5)."""


@dataclass(frozen=True, slots=True)
class NativeHistogram:
    """A native histogram as exposed: integer histograms keep buckets as deltas, float ones as counts.

    `custom_values` is set only for schema -53 (NHCB): the finite upper bounds in order.
    """

    schema: int
    zero_threshold: float
    count: int | float
    sum: float
    zero_count: int | float
    positive_spans: Spans = ()
    positive_buckets: tuple[int, ...] | tuple[float, ...] = ()
    negative_spans: Spans = ()
    negative_buckets: tuple[int, ...] | tuple[float, ...] = ()
    is_float: bool = False
    custom_values: tuple[float, ...] = ()


@dataclass(slots=True)
class HistogramSample:
    """One native histogram sample; `key` resolves in `Exposition.series` like a float sample's key."""

    key: str
    histogram: NativeHistogram
    timestamp_ms: int | None = None
    exemplars: tuple[Exemplar, ...] = ()
    start_timestamp_ms: int | None = None


@dataclass(slots=True)
class Exposition:
    """One parsed body, a column entry per sample line, in order.

    `keys[i]` is the series exactly as written (name and label block, before the value), so
    `a{x="1",y="2"}` and `a{y="2",x="1"}` are different keys. `series[key]` gives the metric name
    and the scraped labels in exposition order, without `__name__` and without empty values. A
    parser may fill `series` lazily (a Mapping that parses on first access); every key in `keys`
    must resolve. `empty_labels[key]` is, for a series that wrote some label with an empty value,
    the names of those labels (keys without one are absent, so it is empty in the common case):
    honor_labels=true then adds no target label of those names, as Prometheus checks the series
    as parsed. Parsing stops at the first error; what came before it stays, so report metrics
    can count like Prometheus.

    Formats richer than Prometheus text also fill: `exemplars[i]` (the exemplar of float sample
    i), `start_timestamps[i]` (its start/created time in ms, where the format gives one),
    `histograms` (native histogram samples, in exposition order) and `metadata` by family name
    with type, help and unit.
    """

    keys: list[str] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    timestamps: list[int | None] = field(default_factory=list)
    series: Mapping[str, tuple[str, Labels]] = field(default_factory=dict)
    metadata: dict[str, Metadata] = field(default_factory=dict)
    error: ParseError | None = None
    empty_labels: Mapping[str, frozenset[str]] = field(default_factory=dict)
    exemplars: dict[int, Exemplar] = field(default_factory=dict)
    start_timestamps: dict[int, int] = field(default_factory=dict)
    histograms: list[HistogramSample] = field(default_factory=list)
