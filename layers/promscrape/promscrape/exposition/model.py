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
    """

    keys: list[str] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    timestamps: list[int | None] = field(default_factory=list)
    series: Mapping[str, tuple[str, Labels]] = field(default_factory=dict)
    metadata: dict[str, Metadata] = field(default_factory=dict)
    error: ParseError | None = None
    empty_labels: Mapping[str, frozenset[str]] = field(default_factory=dict)
