"""Remote write 2.0 (`io.prometheus.write.v2.Request`), encoded by hand like 1.0 (REFERENCE §12).

A Request is its symbols (field 4), then its series (field 5). Every string a series uses (label
names and values, help, unit, exemplar labels) is a reference into the symbols, so a request is
built series by series against one SymbolTable and the symbols go in front at the end; each
request has a table of its own, as Prometheus resets its table per batch. The bytes are those of
Go's gogo-protobuf encoder: fields in number order, zero scalars omitted, and a series' metadata
always written (a non-nullable field in Prometheus's Go types), even empty.

A receiver that does not speak 2.0 answers 415; the sender may then send the same series as 1.0
(`encode_series_v1`). A 2.0 receiver confirms what it wrote in the `-Written` response headers
(`written_stats`).
"""

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from promscrape import USER_AGENT
from promscrape.exposition.model import Exemplar, Metadata, NativeHistogram
from promscrape.gostring import go_quote
from promscrape.remote_write import v1
from promscrape.remote_write.v1 import (
    DEFAULT_MAX_SAMPLES,
    double_field,
    length_delimited,
    varint,
    varint_field,
)

PROTO_MESSAGE = "io.prometheus.write.v2.Request"
CONTENT_TYPE = f"application/x-protobuf;proto={PROTO_MESSAGE}"
VERSION = "2.0.0"

HEADERS: dict[str, str] = {
    "Content-Encoding": "snappy",
    "Content-Type": CONTENT_TYPE,
    "X-Prometheus-Remote-Write-Version": VERSION,
    "User-Agent": USER_AGENT,
}

# What a 2.0 receiver answers it wrote (a missing header means 0, REFERENCE §12).
WRITTEN_SAMPLES_HEADER = "X-Prometheus-Remote-Write-Samples-Written"
WRITTEN_HISTOGRAMS_HEADER = "X-Prometheus-Remote-Write-Histograms-Written"
WRITTEN_EXEMPLARS_HEADER = "X-Prometheus-Remote-Write-Exemplars-Written"

# Tags: field << 3 | wire type.
_TAG_SYMBOL = b"\x22"  # Request.symbols
_TAG_SERIES = b"\x2a"  # Request.timeseries
_TAG_LABELS_REFS = b"\x0a"  # TimeSeries.labels_refs and Exemplar.labels_refs, packed uint32
_TAG_SAMPLE = b"\x12"  # TimeSeries.samples
_TAG_HISTOGRAM = b"\x1a"  # TimeSeries.histograms
_TAG_EXEMPLAR = b"\x22"  # TimeSeries.exemplars
_TAG_METADATA = b"\x2a"  # TimeSeries.metadata
_TAG_START_TIMESTAMP = b"\x18"  # Sample.start_timestamp
_TAG_HISTOGRAM_START_TIMESTAMP = b"\x88\x01"  # Histogram.start_timestamp, field 17

# The metadata entry of a series without type, help or unit: Go writes it anyway.
EMPTY_METADATA = _TAG_METADATA + b"\x00"


class SymbolTable:
    """The strings of one Request and their references; `symbols[0]` is "" as the spec requires."""

    __slots__ = ("_refs", "symbols")

    def __init__(self) -> None:
        self.symbols: list[str] = [""]
        self._refs: dict[str, int] = {"": 0}

    def ref(self, text: str) -> int:
        """The reference of text, added at the end when new (as Prometheus's Symbolize)."""
        ref = self._refs.get(text)
        if ref is None:
            ref = self._refs[text] = len(self.symbols)
            self.symbols.append(text)
        return ref

    def label_refs(self, labels: Iterable[tuple[str, str]]) -> list[int]:
        """name, value, name, value... references of labels, in the order given."""
        ref = self.ref
        refs: list[int] = []
        for name, value in labels:
            refs.append(ref(name))
            refs.append(ref(value))
        return refs

    def encode(self) -> bytes:
        """The Request field-4 entries: every symbol, the empty first one too."""
        return b"".join([length_delimited(_TAG_SYMBOL, symbol.encode()) for symbol in self.symbols])


def encode_label_refs(refs: Sequence[int]) -> bytes:
    """A packed labels_refs field (TimeSeries or Exemplar field 1), omitted when empty."""
    if not refs:
        return b""
    return length_delimited(_TAG_LABELS_REFS, b"".join([varint(ref) for ref in refs]))


def encode_sample(value: float, ts_ms: int, start_ts_ms: int = 0) -> bytes:
    """The TimeSeries field-2 entry of one sample; `start_ts_ms` 0 means none.

    Without a start timestamp the bytes are those of a 1.0 Sample (same field numbers), NaN
    payloads (stale markers) kept bit-exact.
    """
    if not start_ts_ms:
        return v1.encode_sample(value, ts_ms)
    body = double_field(b"\x09", value) + varint_field(b"\x10", ts_ms)
    return length_delimited(_TAG_SAMPLE, body + _TAG_START_TIMESTAMP + varint(start_ts_ms))


def encode_histogram(
    histogram: NativeHistogram, ts_ms: int, start_ts_ms: int = 0, hint: int = v1.RESET_HINT_UNKNOWN
) -> bytes:
    """The TimeSeries field-3 entry of one native histogram sample (NHCB included)."""
    body = v1.histogram_message(histogram, ts_ms, hint) + varint_field(
        _TAG_HISTOGRAM_START_TIMESTAMP, start_ts_ms
    )
    return length_delimited(_TAG_HISTOGRAM, body)


def encode_exemplar(table: SymbolTable, labels: Sequence[tuple[str, str]], value: float, ts_ms: int) -> bytes:
    """The TimeSeries field-4 entry of one exemplar, labels sorted by name as Prometheus's are."""
    refs = table.label_refs(sorted(labels, key=lambda pair: pair[0]))
    body = encode_label_refs(refs) + double_field(b"\x11", value) + varint_field(b"\x18", ts_ms)
    return length_delimited(_TAG_EXEMPLAR, body)


def encode_metadata(table: SymbolTable, metadata: Metadata | None) -> bytes:
    """The TimeSeries field-5 entry: type, help_ref, unit_ref (absent help or unit is ref 0, "")."""
    if metadata is None:
        return EMPTY_METADATA
    body = (
        varint_field(b"\x08", v1.metric_type(metadata.type))
        + varint_field(b"\x18", table.ref(metadata.help or ""))
        + varint_field(b"\x20", table.ref(metadata.unit or ""))
    )
    return length_delimited(_TAG_METADATA, body)


def encode_series(label_refs_block: bytes, body: bytes) -> bytes:
    """A Request field-5 entry: labels_refs, then samples, histograms, exemplars, metadata in order."""
    return length_delimited(_TAG_SERIES, label_refs_block + body)


class Sample(NamedTuple):
    """A float sample; `start_timestamp_ms` 0 means none."""

    value: float
    timestamp_ms: int
    start_timestamp_ms: int = 0


class HistogramPoint(NamedTuple):
    """A native histogram sample; `reset_hint` as `v1.reset_hint(family type)` gives it."""

    histogram: NativeHistogram
    timestamp_ms: int
    start_timestamp_ms: int = 0
    reset_hint: int = v1.RESET_HINT_UNKNOWN


@dataclass(frozen=True, slots=True)
class Series:
    """What is sent of one series: labels sorted by name and unique, samples or histograms (never
    both, as the spec says) in timestamp order, the exemplars of those samples (a timestamp of None
    is sent as none) and its family's metadata.

    A 2.0 TimeSeries must hold a sample or a histogram (Prometheus's receiver answers 400 to one
    without), so exemplars and metadata travel with their samples, as Prometheus sends them.
    """

    labels: Sequence[tuple[str, str]]
    samples: Sequence[Sample] = ()
    histograms: Sequence[HistogramPoint] = ()
    exemplars: Sequence[Exemplar] = ()
    metadata: Metadata | None = None

    @property
    def items(self) -> int:
        """What counts towards max_samples: samples, histograms and exemplars, as Prometheus counts."""
        return len(self.samples) + len(self.histograms) + len(self.exemplars)


@dataclass(frozen=True, slots=True)
class Counts:
    """Samples, histogram samples and exemplars in one request (what `-Written` should confirm)."""

    samples: int = 0
    histograms: int = 0
    exemplars: int = 0


class RequestBuilder:
    """One Request in the making: series are encoded as added, the symbols at `body()`."""

    __slots__ = ("_entries", "exemplars", "histograms", "samples", "table")

    def __init__(self) -> None:
        self.table = SymbolTable()
        self._entries: list[bytes] = []
        self.samples = 0
        self.histograms = 0
        self.exemplars = 0

    def add(self, series: Series) -> None:
        """Encode one series; symbols in Prometheus's order: labels, help, unit, exemplar labels.

        ValueError for a series with both samples and histograms, or neither (see Series).
        """
        if bool(series.samples) == bool(series.histograms):
            raise ValueError(
                f"a 2.0 TimeSeries holds samples or histograms, one of them: {len(series.samples)} samples "
                f"and {len(series.histograms)} histograms for {dict(series.labels)}"
            )
        table = self.table
        refs = encode_label_refs(table.label_refs(series.labels))
        metadata = encode_metadata(table, series.metadata)
        samples = b"".join([encode_sample(*sample) for sample in series.samples])
        histograms = b"".join(
            [
                encode_histogram(p.histogram, p.timestamp_ms, p.start_timestamp_ms, p.reset_hint)
                for p in series.histograms
            ]
        )
        exemplars = b"".join(
            [encode_exemplar(table, e.labels, e.value, e.timestamp_ms or 0) for e in series.exemplars]
        )
        self._entries.append(encode_series(refs, samples + histograms + exemplars + metadata))
        self.samples += len(series.samples)
        self.histograms += len(series.histograms)
        self.exemplars += len(series.exemplars)

    @property
    def counts(self) -> Counts:
        """What the request holds so far."""
        return Counts(self.samples, self.histograms, self.exemplars)

    def body(self) -> bytes:
        """The uncompressed Request."""
        return self.table.encode() + b"".join(self._entries)


def _batches[T](weighted: Iterable[tuple[T, int]], max_samples: int) -> list[list[T]]:
    """Entries cut into requests of at most max_samples items each, as v1.build_requests cuts: an
    entry is never split, one larger than max_samples goes alone."""
    if max_samples < 1:
        raise ValueError(f"max_samples must be positive, got {max_samples}")
    batches: list[list[T]] = []
    batch: list[T] = []
    count = 0
    for entry, items in weighted:
        if batch and count + items > max_samples:
            batches.append(batch)
            batch = []
            count = 0
        batch.append(entry)
        count += items
    if batch:
        batches.append(batch)
    return batches


def split_series(series: Iterable[Series], max_samples: int = DEFAULT_MAX_SAMPLES) -> list[list[Series]]:
    """The series of each request build_requests makes: at most max_samples items each, a series
    never split, those without samples and histograms left out (2.0 cannot carry them)."""
    return _batches(((one, one.items) for one in series if one.samples or one.histograms), max_samples)


def build_requests(
    series: Iterable[Series], max_samples: int = DEFAULT_MAX_SAMPLES
) -> list[tuple[bytes, Counts]]:
    """Uncompressed 2.0 Requests of at most max_samples items each, with what each holds.

    A series without samples and histograms is left out: 2.0 cannot carry exemplars or metadata
    alone (Prometheus drops an exemplar whose sample it does not send).
    """
    requests: list[tuple[bytes, Counts]] = []
    for batch in split_series(series, max_samples):
        builder = RequestBuilder()
        for one in batch:
            builder.add(one)
        requests.append((builder.body(), builder.counts))
    return requests


def encode_series_v1(series: Series) -> tuple[bytes, Counts] | None:
    """The 1.0 TimeSeries entry of a series (samples, exemplars, histograms in one), for the 415
    fallback; None when 1.0 carries nothing of it.

    Start timestamps and metadata have no place in a 1.0 TimeSeries (1.0 sends family metadata
    apart: v1.encode_metadata), and NHCB histograms are dropped as Prometheus drops them.
    """
    histograms = [point for point in series.histograms if v1.sendable(point.histogram)]
    if not (series.samples or histograms or series.exemplars):
        return None
    body = b"".join(
        [
            *[v1.encode_sample(sample.value, sample.timestamp_ms) for sample in series.samples],
            *[v1.encode_exemplar(e.labels, e.value, e.timestamp_ms or 0) for e in series.exemplars],
            *[v1.encode_histogram(p.histogram, p.timestamp_ms, p.reset_hint) for p in histograms],
        ]
    )
    counts = Counts(len(series.samples), len(histograms), len(series.exemplars))
    return v1.encode_series(v1.encode_labels(series.labels), body), counts


@dataclass(frozen=True, slots=True)
class WrittenStats:
    """The `-Written` headers of a response, read as Prometheus's ParseWriteResponseStats reads them.

    `confirmed`: at least one of the headers was there, so the receiver speaks 2.0 and the numbers
    can be trusted (a missing header then means 0). `errors`: Go's text for each unparsable value
    (which then counts 0).
    """

    samples: int = 0
    histograms: int = 0
    exemplars: int = 0
    confirmed: bool = False
    errors: tuple[str, ...] = ()


_GO_INT = re.compile(r"[+-]?[0-9]+")
_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1


def _atoi(text: str) -> tuple[int, str | None]:
    """Go's strconv.Atoi on a 64-bit platform: (value, None) or (0, its error text)."""
    if not _GO_INT.fullmatch(text):
        return 0, f"strconv.Atoi: parsing {go_quote(text)}: invalid syntax"
    value = int(text)
    if not _INT64_MIN <= value <= _INT64_MAX:
        return 0, f"strconv.Atoi: parsing {go_quote(text)}: value out of range"
    return value, None


def written_stats(headers: Mapping[str, str]) -> WrittenStats:
    """What a receiver confirms it wrote; header names match case-insensitively, the first of a
    repeated header counts, and an empty value is as good as absent (Go's Header.Get)."""
    first: dict[str, str] = {}
    for name, value in headers.items():
        first.setdefault(name.lower(), value.strip())
    numbers: list[int] = []
    errors: list[str] = []
    confirmed = False
    for header in (WRITTEN_SAMPLES_HEADER, WRITTEN_HISTOGRAMS_HEADER, WRITTEN_EXEMPLARS_HEADER):
        value = first.get(header.lower(), "")
        if not value:
            numbers.append(0)
            continue
        confirmed = True
        number, error = _atoi(value)
        numbers.append(number)
        if error is not None:
            errors.append(error)
    samples, histograms, exemplars = numbers
    return WrittenStats(samples, histograms, exemplars, confirmed, tuple(errors))
