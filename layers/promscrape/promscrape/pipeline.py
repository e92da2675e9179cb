"""The hot path of a scrape: exposition columns -> Prometheus's per-sample rules -> remote-write bytes.

Order (REFERENCE §7): target labels merged (honor_labels) -> metric relabeling -> dropped when no
labels are left -> `__name__` present and a valid legacy name -> label limits -> duplicates (the
first sample of each final label set at a time wins, the rest are counted) -> append under the
sample limit. Everything that depends only on a series' text (its final labels, or "dropped") is
decided once per series and cached per target as the pre-encoded head of its remote-write entry, so
a repeat scrape costs about one struct.pack and one concatenation per sample (no lookup at all when
the series come in the same order as last time, and no duplicate check when that scrape's heads
were all different), done column-wise with C-level builtins (`map`, `zip`, `dict.fromkeys`)
instead of a Python loop.

A new series of the fast parser (no metric relabeling, no label limits) is encoded straight from
its key text in C (`promscrape._native`, native/native.c: merge with the target labels, sort,
encode), where Python would spend ~3 us a series. Everything it does not cover goes through the
general path over (name, labels) tuples, which is the reference for the C one (tests check both
give the same bytes). Without the C module (a layer built by plain `sam build`, see the README)
every new series takes the general path: same bytes, a slower first scrape (promscrape.native).
Every sample's double is written, zero included: gogo-protobuf omits a zero, decoders read the
same value either way, and -0.0 keeps its sign.
"""

import re
import struct
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from itertools import compress, repeat
from operator import add
from typing import Protocol

from promscrape import histograms, names
from promscrape.exposition import fast
from promscrape.exposition.floats import go_quote
from promscrape.exposition.model import (
    Exemplar,
    Exposition,
    HistogramSample,
    Labels,
    Metadata,
    NativeHistogram,
)
from promscrape.native import ACCELERATOR as _native
from promscrape.remote_write import v1, v2

__all__ = [
    "MAX_AHEAD_MS",
    "MISSING_NAME",
    "NO_LIMITS",
    "SAMPLE_LIMIT_EXCEEDED",
    "Limits",
    "PipelineResult",
    "SeriesCache",
    "format_labels",
    "process",
]

MAX_AHEAD_MS = 10 * 60 * 1000
"""Samples stamped further than this past the scrape are dropped (Prometheus's maxAheadTime)."""

_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
MISSING_NAME = "missing metric name (__name__ label)"
_EXPORTED = "exported_"
_DROPPED = b""
"""Cache value of a series that metric relabeling drops (a real head is never empty)."""


class Relabeler(Protocol):
    """What the pipeline needs of relabel.Relabeler (CONFIG's): a dict in, a dict or None out."""

    empty: bool

    def process(self, labels: dict[str, str]) -> dict[str, str] | None: ...


@dataclass(frozen=True, slots=True)
class Limits:
    """The job's per-scrape limits (Alloy's `sample_limit`, `label_limit`, ...); 0 means unlimited."""

    sample_limit: int = 0
    label_limit: int = 0
    label_name_length_limit: int = 0
    label_value_length_limit: int = 0
    native_histogram_bucket_limit: int = 0
    native_histogram_min_bucket_factor: float = 0.0

    @property
    def on_labels(self) -> bool:
        """Whether any label limit is set (every new series is then checked one by one)."""
        return bool(self.label_limit or self.label_name_length_limit or self.label_value_length_limit)


NO_LIMITS = Limits()
SAMPLE_LIMIT_EXCEEDED = "sample limit exceeded"


@dataclass(slots=True)
class PipelineResult:
    """What one scrape forwards and the counts the report metrics need (REFERENCE §8).

    Remote write 1.0 TimeSeries entries of one item each, as Prometheus's queue sends them:
    `series` the float samples, `exemplars` and `histograms` (native histogram samples) apart, as
    an endpoint may not want them (send_exemplars, send_native_histograms); `metadata`: 1.0
    MetricMetadata entries (honor_metadata); `v2_series`: the same scrape as remote write 2.0
    series, built only when asked (an endpoint speaks 2.0), NHCB histograms and start timestamps
    included, which 1.0 cannot carry.
    """

    series: list[bytes]
    samples_scraped: int
    samples_post_relabel: int
    error: str | None = None
    exemplars: list[bytes] = field(default_factory=list)
    histograms: list[bytes] = field(default_factory=list)
    metadata: list[bytes] = field(default_factory=list)
    v2_series: list[v2.Series] | None = None


class SeriesCache:
    """Per-target memo: series text -> the encoded head of its remote-write entry (or dropped).

    The caller keys caches by scrape URL and job configuration (so metric relabeling is covered);
    target labels, honor_labels, the limits and the sample encoding width are checked here, and
    any change clears the cache. After a successful scrape it holds exactly that scrape's series,
    in order (so a repeat scrape is recognised by one list comparison), and `distinct` is True
    when their heads were all different and none dropped (a repeat needs no duplicate check);
    over `max_entries` it is cleared. About 450 bytes a series (its text and its encoded head).
    Correctness never depends on it.
    """

    __slots__ = ("context", "distinct", "entries", "max_entries")

    def __init__(self, max_entries: int = 200_000) -> None:
        self.max_entries = max_entries
        self.entries: dict[str, bytes] = {}
        self.context: tuple[object, ...] = ()
        self.distinct = False

    def __len__(self) -> int:
        return len(self.entries)

    def clear(self) -> None:
        """Forget every series (the next scrape pays the first-scrape cost again)."""
        self.entries.clear()
        self.distinct = False


class _SampleError(Exception):
    """A series that fails the whole scrape (missing or invalid names); message is Prometheus's."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def format_labels(labels: Iterable[tuple[str, str]]) -> str:
    """Prometheus's labels.String(): sorted, `{a="x", "b.c"="y"}` (names quoted when not legacy-valid)."""
    parts = []
    for name, value in sorted(labels):
        shown = name if _LABEL_NAME.fullmatch(name) else go_quote(name)
        parts.append(f"{shown}={go_quote(value)}")
    return "{" + ", ".join(parts) + "}"


_CANONICAL: set[str] = set()
"""`le`/`quantile` values whose Prometheus-canonical form is themselves, process-wide (bounded)."""
_CANONICAL_MAX = 10_000
_SCALED_LABEL = {"histogram": "le", "summary": "quantile"}


def _resolver(series: "fast.Series") -> Callable[[int, str, str], str]:
    """For the C encoder: the `le`/`quantile` value to encode at a sample line, per its TYPE.

    Called only for values not yet in _CANONICAL; those that are their own canonical form join it.
    """

    def resolve(position: int, label: str, value: str) -> str:
        canonical = fast.normalized(value)
        if canonical == value:
            if len(_CANONICAL) >= _CANONICAL_MAX:
                _CANONICAL.clear()
            _CANONICAL.add(value)
            return value
        return canonical if _SCALED_LABEL.get(series.type_at(position)) == label else value

    return resolve


class _Labeler:
    """Turns scraped series into cached heads, per Prometheus's mutateSampleLabels.

    Built once per process() call from the target labels (sorted, as Prometheus ranges over them),
    honor_labels, the limits and the sample encoding width. Without metric relabeling or label
    limits, the keys of the fast parser go through the C encoder (`promscrape._native`), which
    hands back whatever it does not cover; those, and everything else, take the general path over
    (name, labels) tuples, the reference the C encoder is tested against.
    """

    __slots__ = (
        "_empty",
        "_head_tail",
        "_honor",
        "_limits",
        "_native_target",
        "_relabel",
        "_sample_len",
        "_scheme",
        "_target",
    )

    def __init__(
        self,
        target_labels: Mapping[str, str],
        honor_labels: bool,
        relabel: Callable[[dict[str, str]], dict[str, str] | None] | None,
        sample_len: int,
        limits: Limits = NO_LIMITS,
        empty_labels: Mapping[str, frozenset[str]] | None = None,
        validation_scheme: str = "legacy",
    ) -> None:
        self._target = tuple(sorted(target_labels.items()))
        self._scheme = validation_scheme
        self._empty = empty_labels if honor_labels and empty_labels else None
        self._limits = limits
        self._honor = honor_labels
        self._relabel = relabel
        self._sample_len = sample_len
        self._head_tail = b"\x12" + v1.varint(sample_len) + b"\x09"
        legacy = all(_LABEL_NAME.fullmatch(name) for name, _ in self._target)
        self._native_target = (
            tuple((name.encode(), value.encode()) for name, value in self._target) if legacy else None
        )

    def fill(
        self, keys: list[str], series: Mapping[str, tuple[str, Labels]], entries: dict[str, bytes]
    ) -> None:
        """Put the head (or `_DROPPED`) of every key not in entries yet; _SampleError at the first bad one.

        `keys` are the exposition's, in order, duplicates included (a series' first line decides).
        """
        if (
            _native is not None
            and isinstance(series, fast.Series)
            and self._relabel is None
            and not self._limits.on_labels
            and self._native_target is not None
        ):
            target, honor, resolve = self._native_target, self._honor, _resolver(series)
            keys = _native.fill_heads(keys, entries, target, honor, self._sample_len, _CANONICAL, resolve)
        for key in dict.fromkeys(keys):  # in order: the first failing series is the one reported
            if key not in entries:
                entries[key] = self.head(key, *series[key])

    def _head(self, block: bytes) -> bytes:
        """Head = WriteRequest field-1 tag and length, the labels, the sample's tag, length and double tag."""
        return b"\x0a" + v1.varint(len(block) + 2 + self._sample_len) + block + self._head_tail

    def head(self, key: str, name: str, labels: Labels) -> bytes:
        """The general path: merge, relabel, check and encode one series; `_DROPPED` or raise _SampleError."""
        merged: dict[str, str] = {}
        if name:
            merged["__name__"] = name
        for label, value in labels:
            merged.setdefault(label, value)
        duplicates: set[str] = set()
        if len(merged) != len(labels) + bool(name):
            written = [label for label, _ in labels] + (["__name__"] if name else [])
            duplicates = {label for label in written if written.count(label) > 1}
        merged = self._merge(merged, self._empty.get(key, ()) if self._empty else ())
        if self._relabel is not None:
            relabeled = self._relabel(merged)
            if not relabeled:
                return _DROPPED
            merged = relabeled
        if "__name__" not in merged:
            raise _SampleError(key, MISSING_NAME)
        scheme = self._scheme
        if not names.is_valid_metric_name(merged["__name__"], scheme) or not all(
            names.is_valid_label_name(label, scheme) for label in merged
        ):
            raise _SampleError(key, f"invalid metric name or label names: {format_labels(merged.items())}")
        pairs = sorted(merged.items())
        if self._limits.on_labels:
            exceeded = _label_limits_error(pairs, merged["__name__"], self._limits)
            if exceeded is not None:
                raise _SampleError(key, exceeded)
        remaining = sorted(duplicates.intersection(merged).difference(self._overridden()))
        if remaining:
            raise _SampleError(key, f'label name "{remaining[0]}" is not unique: invalid sample')
        return self._head(v1.encode_labels(pairs))

    def _overridden(self) -> set[str]:
        """Label names whose scraped copies (duplicates included) the target's labels replace."""
        return set() if self._honor else {name for name, _ in self._target}

    def _merge(self, merged: dict[str, str], written_empty: Iterable[str] = ()) -> dict[str, str]:
        """Scraped labels with the target's merged in (REFERENCE §7, Prometheus's mutateSampleLabels).

        Under honor_labels a scraped label written with an empty value (`written_empty`) still
        counts as present, as Prometheus checks the series as parsed: the target's is not added,
        and the empty value then leaves the label out.
        """
        if self._honor:
            for label, value in self._target:
                if label not in merged and value and label not in written_empty:
                    merged[label] = value
            return merged
        conflicts = [(label, merged[label]) for label, _ in self._target if merged.get(label)]
        for label, value in self._target:
            if value:
                merged[label] = value
            else:
                merged.pop(label, None)
        conflicts.sort(key=lambda pair: len(pair[0]))
        for label, value in conflicts:
            exported = label
            while True:
                exported = _EXPORTED + exported
                if not merged.get(exported):
                    merged[exported] = value
                    break
        return merged


def _go_truncate(text: str) -> str:
    """Go's `%.50s` / `%.50q` precision: the first 50 runes."""
    return text[:50]


def _label_limits_error(pairs: list[tuple[str, str]], metric: str, limits: Limits) -> str | None:
    """Prometheus's verifyLabelLimits on the final, sorted labels: its error text, or None."""
    name = _go_truncate(metric)
    if limits.label_limit and len(pairs) > limits.label_limit:
        count = len(pairs)
        return (
            f"label_limit exceeded (metric: {name}, number of labels: {count}, limit: {limits.label_limit})"
        )
    for label, value in pairs:
        if limits.label_name_length_limit:
            length = len(label.encode("utf-8", "surrogateescape"))
            if length > limits.label_name_length_limit:
                return (
                    f"label_name_length_limit exceeded (metric: {name}, label name: {_go_truncate(label)}, "
                    f"length: {length}, limit: {limits.label_name_length_limit})"
                )
        if limits.label_value_length_limit:
            length = len(value.encode("utf-8", "surrogateescape"))
            if length > limits.label_value_length_limit:
                quoted = go_quote(_go_truncate(value))
                return (
                    f"label_value_length_limit exceeded (metric: {name}, label name: {_go_truncate(label)}, "
                    f"value: {quoted}, length: {length}, limit: {limits.label_value_length_limit})"
                )
    return None


def _labels_block(head: bytes) -> bytes:
    """The labels of a cached head (strip the series tag, its varint length and the sample's 3 bytes)."""
    start = 2
    while head[start - 1] & 0x80:
        start += 1
    return head[start : len(head) - 3]


def _timestamp_field(ts_ms: int) -> bytes:
    """Sample.timestamp as gogo-protobuf writes it (omitted when 0)."""
    return b"\x10" + v1.varint(ts_ms) if ts_ms else b""


def process(
    exposition: Exposition,
    *,
    target_labels: Mapping[str, str],
    honor_labels: bool,
    honor_timestamps: bool,
    metric_relabeler: Relabeler | None,
    scrape_ts_ms: int,
    cache: SeriesCache | None,
    limits: Limits = NO_LIMITS,
    honor_metadata: bool = False,
    want_v2: bool = False,
    validation_scheme: str = "legacy",
) -> PipelineResult:
    """Apply Prometheus's per-sample rules to a parsed scrape and encode what is appended.

    `target_labels` are the target's final public labels (no `__` labels). A `metric_relabeler`
    of None (or one without rules, see `_relabel_function`) skips relabeling entirely. On any error
    (a series without `__name__`, an invalid name, the exposition's parse error) no series are
    returned and the counts are those of the failed pass, as Prometheus reports them. A label limit
    fails the scrape at the offending series like an invalid name; `sample_limit` counts the
    samples appended (after relabeling, duplicates not counted), lets the pass finish so both
    counts are complete, and yields to a parse error. Native histogram samples count like float
    samples; exemplars, native histograms, metadata (`honor_metadata`) and the 2.0 series
    (`want_v2`) are the `_Extras` of the scrape, worked out after the float samples.
    """
    keys = exposition.keys
    values = exposition.values
    timestamps = exposition.timestamps
    ts_field = _timestamp_field(scrape_ts_ms)
    sample_len = 9 + len(ts_field)
    context = (tuple(sorted(target_labels.items())), honor_labels, sample_len, limits, validation_scheme)
    if cache is None:
        cache = SeriesCache()
    elif cache.context != context:
        cache.clear()
        cache.context = context
    entries = cache.entries
    if len(entries) > cache.max_entries:
        entries.clear()

    if len(keys) == len(entries) and keys == list(entries):
        # The same series in the same order as the last successful scrape: no new series.
        heads = list(entries.values())
        unique = None
        distinct: bool | None = True if cache.distinct else None  # not known distinct: check again
    else:
        cache.distinct = False  # the entries change: known again only after a successful pass
        distinct = None
        unique = dict.fromkeys(keys)
        if not unique.keys() <= entries.keys():
            labeler = _Labeler(
                target_labels,
                honor_labels,
                _relabel_function(metric_relabeler),
                sample_len,
                limits,
                exposition.empty_labels,
                validation_scheme,
            )
            try:
                labeler.fill(keys, exposition.series, entries)
            except _SampleError as exc:
                return _failed_at(keys, keys.index(exc.key), entries, str(exc))
        heads = list(map(entries.__getitem__, keys))

    indices: Iterable[int] | None = None
    if honor_timestamps and timestamps.count(None) != len(timestamps):
        series, posted, appended, indices = _append_with_timestamps(
            keys, values, timestamps, heads, scrape_ts_ms
        )
        distinct = False
    else:
        series, posted, distinct = _append(values, heads, distinct, ts_field)
        appended = len(series)
    scraped = len(keys)
    extras = None
    if exposition.exemplars or exposition.histograms or honor_metadata or want_v2:
        if indices is None:
            indices = range(len(heads)) if distinct else compress(range(len(heads)), _first_kept(heads))
        extras = _Extras(exposition, heads, scrape_ts_ms, honor_timestamps, honor_metadata, want_v2)
        extras.add_floats(indices)
        labeler = _Labeler(
            target_labels,
            honor_labels,
            _relabel_function(metric_relabeler),
            sample_len,
            limits,
            exposition.empty_labels,
            validation_scheme,
        )
        try:
            histograms_posted, histograms_appended = extras.add_histograms(labeler, limits)
        except _SampleError as exc:
            seen, posted_before = scraped + extras.histograms_seen, posted + extras.histograms_posted
            return PipelineResult([], seen, posted_before, str(exc))
        scraped += len(exposition.histograms)
        posted += histograms_posted
        appended += histograms_appended
    if exposition.error is not None:
        return PipelineResult([], scraped, posted, exposition.error.message)
    if limits.sample_limit and appended > limits.sample_limit:
        return PipelineResult([], scraped, posted, SAMPLE_LIMIT_EXCEEDED)
    if extras is not None and extras.histogram_error is not None:
        return PipelineResult([], scraped, posted, extras.histogram_error)
    result = PipelineResult(series, scraped, posted)
    if extras is not None:
        result.exemplars = extras.exemplar_entries
        result.histograms = extras.histogram_entries
        result.metadata = extras.metadata_entries()
        result.v2_series = extras.v2_series
    if unique is not None and (len(entries) != len(unique) or list(entries) != list(unique)):
        cache.entries = dict(zip(unique, map(entries.__getitem__, unique), strict=True))
    cache.distinct = distinct
    return result


_FAMILY_SUFFIXES = ("_bucket", "_count", "_sum", "_total", "_created", "_gcount", "_gsum", "_info")


class _Extras:
    """What a scrape forwards besides 1.0 float samples, once the float samples' heads are known.

    Exemplars go as TimeSeries entries of their own, at their sample's timestamp when they carry
    none (Prometheus's scrape loop), only for appended samples; a native histogram's exemplar
    without a timestamp is dropped, as Prometheus drops it. Native histogram samples go through
    the same labeling, relabeling and duplicate rules as float samples; NHCB histograms only to
    2.0 (REFERENCE §5). A series' metadata is its family's: the metric name, else the name
    without a classic suffix (`_bucket`, `_total`, ...).
    """

    __slots__ = (
        "_exposition",
        "_heads",
        "_honor_metadata",
        "_honor_timestamps",
        "_labels",
        "_scrape_ts_ms",
        "exemplar_entries",
        "histogram_entries",
        "histogram_error",
        "histograms_future",
        "histograms_posted",
        "histograms_seen",
        "v2_series",
    )

    def __init__(
        self,
        exposition: Exposition,
        heads: list[bytes],
        scrape_ts_ms: int,
        honor_timestamps: bool,
        honor_metadata: bool,
        want_v2: bool,
    ) -> None:
        self._exposition = exposition
        self._heads = heads
        self._scrape_ts_ms = scrape_ts_ms
        self._honor_timestamps = honor_timestamps
        self._honor_metadata = honor_metadata
        self._labels: dict[bytes, tuple[tuple[str, str], ...]] = {}
        self.exemplar_entries: list[bytes] = []
        self.histogram_entries: list[bytes] = []
        self.v2_series: list[v2.Series] | None = [] if want_v2 else None
        self.histograms_seen = 0
        self.histograms_posted = 0
        self.histograms_future = 0
        self.histogram_error: str | None = None

    def _timestamp(self, ts_ms: int | None) -> int:
        return ts_ms if self._honor_timestamps and ts_ms is not None else self._scrape_ts_ms

    def _pairs(self, block: bytes) -> tuple[tuple[str, str], ...]:
        pairs = self._labels.get(block)
        if pairs is None:
            pairs = self._labels[block] = _decode_labels(block)
        return pairs

    def family(self, name: str) -> Metadata | None:
        """The metadata of the family a metric name belongs to."""
        metadata = self._exposition.metadata
        found = metadata.get(name)
        if found is None:
            for suffix in _FAMILY_SUFFIXES:
                if name.endswith(suffix):
                    found = metadata.get(name.removesuffix(suffix))
                    if found is not None:
                        break
        return found

    def _v2_metadata(self, pairs: tuple[tuple[str, str], ...]) -> Metadata | None:
        if not self._honor_metadata:
            return None
        return self.family(dict(pairs).get("__name__", ""))

    def add_floats(self, appended: Iterable[int]) -> None:
        """The exemplars (and, for 2.0, the samples) of the appended float samples, in order."""
        exposition = self._exposition
        exemplars = exposition.exemplars
        # Without 2.0 only the samples with an exemplar matter; with it, every appended sample.
        chosen = (
            list(appended) if self.v2_series is not None else sorted(set(exemplars).intersection(appended))
        )
        values, timestamps, starts = exposition.values, exposition.timestamps, exposition.start_timestamps
        for index in chosen:
            ts = self._timestamp(timestamps[index])
            block = _labels_block(self._heads[index])
            exemplar = exemplars.get(index)
            if exemplar is not None:
                exemplar = _stamped(exemplar, ts)
                self.exemplar_entries.append(v1.encode_series(block, _exemplar_field(exemplar)))
            if self.v2_series is not None:
                pairs = self._pairs(block)
                self.v2_series.append(
                    v2.Series(
                        labels=pairs,
                        samples=[v2.Sample(values[index], ts, starts.get(index, 0))],
                        exemplars=[exemplar] if exemplar is not None else (),
                        metadata=self._v2_metadata(pairs),
                    )
                )

    def add_histograms(self, labeler: "_Labeler", limits: Limits) -> tuple[int, int]:
        """Label, relabel, limit and encode the native histogram samples; (posted, appended).

        Limits as Prometheus's appenders apply them: native_histogram_min_bucket_factor lowers the
        schema first, then native_histogram_bucket_limit lowers it until within the limit; a
        histogram still over it is not appended, counting goes on, and the scrape then fails
        (`histogram_error`). Then the append's validation (spans, counts, schema -4..8 or -53): a
        histogram that fails it fails the scrape at once, as Prometheus's and Alloy's appenders do.
        """
        series = self._exposition.series
        heads: dict[str, bytes] = {}
        appended: set[tuple[bytes, int]] = set()
        for sample in self._exposition.histograms:
            self.histograms_seen += 1
            head = heads.get(sample.key)
            if head is None:
                head = heads[sample.key] = labeler.head(sample.key, *series[sample.key])
            if head == _DROPPED:
                continue
            self.histograms_posted += 1
            ts = self._timestamp(sample.timestamp_ms)
            if (head, ts) in appended:
                continue
            # Prometheus's appender chain, outermost first: schema and bucket limits, the sample
            # limit (counting), the time limit (a sample too far ahead is dropped), then the
            # storage's validation.
            try:
                histogram = _limited(sample.histogram, limits)
            except histograms.HistogramError as exc:
                if str(exc) != histograms.BUCKET_LIMIT_EXCEEDED:
                    raise _SampleError(sample.key, str(exc)) from None
                self.histogram_error = self.histogram_error or str(exc)
                continue
            if ts > self._scrape_ts_ms + MAX_AHEAD_MS:
                self.histograms_future += 1
                continue
            try:
                histograms.validate(histogram)
            except histograms.HistogramError as exc:
                raise _SampleError(sample.key, str(exc)) from None
            appended.add((head, ts))
            self._add_histogram(sample, histogram, _labels_block(head), ts)
        return self.histograms_posted, len(appended) + self.histograms_future

    def _add_histogram(
        self, sample: HistogramSample, histogram: NativeHistogram, block: bytes, ts: int
    ) -> None:
        name = self._exposition.series[sample.key][0]
        family = self.family(name)
        hint = v1.reset_hint(family.type if family is not None else "")
        exemplars = [exemplar for exemplar in sample.exemplars if exemplar.timestamp_ms is not None]
        if v1.sendable(histogram):
            self.histogram_entries.append(v1.encode_series(block, v1.encode_histogram(histogram, ts, hint)))
        self.exemplar_entries.extend(
            v1.encode_series(block, _exemplar_field(exemplar)) for exemplar in exemplars
        )
        if self.v2_series is not None:
            pairs = self._pairs(block)
            start = sample.start_timestamp_ms or 0
            self.v2_series.append(
                v2.Series(
                    labels=pairs,
                    histograms=[v2.HistogramPoint(histogram, ts, start, hint)],
                    exemplars=exemplars,
                    metadata=self.family(name) if self._honor_metadata else None,
                )
            )

    def metadata_entries(self) -> list[bytes]:
        """1.0 MetricMetadata of every family of the scrape (honor_metadata), as Prometheus sends them."""
        if not self._honor_metadata:
            return []
        return [
            v1.encode_metadata(family, metadata.type, metadata.help, metadata.unit)
            for family, metadata in self._exposition.metadata.items()
        ]


def _limited(histogram: NativeHistogram, limits: Limits) -> NativeHistogram:
    """The histogram as appended under the job's histogram limits (HistogramError: not appended)."""
    if limits.native_histogram_min_bucket_factor:
        histogram = histograms.apply_min_bucket_factor(histogram, limits.native_histogram_min_bucket_factor)
    if limits.native_histogram_bucket_limit:
        histogram = histograms.apply_bucket_limit(histogram, limits.native_histogram_bucket_limit)
    return histogram


def _stamped(exemplar: Exemplar, ts_ms: int) -> Exemplar:
    """An exemplar with its sample's timestamp when it carries none (Prometheus's scrape loop)."""
    if exemplar.timestamp_ms is not None:
        return exemplar
    return Exemplar(exemplar.labels, exemplar.value, ts_ms)


def _exemplar_field(exemplar: Exemplar) -> bytes:
    return v1.encode_exemplar(exemplar.labels, exemplar.value, exemplar.timestamp_ms or 0)


def _read_varint(data: bytes, position: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, position
        shift += 7


def _decode_labels(block: bytes) -> tuple[tuple[str, str], ...]:
    """The (name, value) pairs of an encoded labels block (what the 2.0 encoder needs from a head)."""
    pairs = []
    position = 0
    while position < len(block):
        length, position = _read_varint(block, position + 1)
        end = position + length
        size, position = _read_varint(block, position + 1)
        name = block[position : position + size].decode()
        size, position = _read_varint(block, position + size + 1)
        pairs.append((name, block[position : position + size].decode()))
        position = end
    return tuple(pairs)


def _relabel_function(
    relabeler: Relabeler | None,
) -> Callable[[dict[str, str]], dict[str, str] | None] | None:
    """The relabeler's process method, or None when there is nothing to apply."""
    if relabeler is None or relabeler.empty:
        return None
    return relabeler.process


def _failed_at(keys: list[str], index: int, entries: dict[str, bytes], error: str) -> PipelineResult:
    """Counts of a pass stopped at sample `index`: it and all before are scraped, dropped ones not posted."""
    before = keys[:index]
    dropped = sum(1 for key in before if entries.get(key) == _DROPPED)
    return PipelineResult([], index + 1, index - dropped, error)


def _append(
    values: list[float], heads: list[bytes], distinct: bool | None, ts_field: bytes
) -> tuple[list[bytes], int, bool]:
    """Every sample at the scrape timestamp: first of each final label set wins, dropped ones skipped.

    Two series with the same final labels (`a{x="1",y="2"}` and `a{y="2",x="1"}`, the same text
    twice, or two that relabeling makes equal) have the same head: only the first is sent, as
    Prometheus's append rejects the rest as duplicates (a remote-write receiver would reject the
    whole request). `distinct` (None: not known) says no head repeats and none is dropped. The
    double is always written, zero included (gogo-protobuf would omit a zero; decoders read the
    same value either way, and -0.0 keeps its sign). Returns the series, the samples posted after
    relabeling (duplicates included) and whether the heads were distinct.
    """
    posted = len(heads)
    if distinct is None:
        seen = dict.fromkeys(heads)
        distinct = len(seen) == len(heads) and _DROPPED not in seen
    if not distinct:
        keep = _first_kept(heads)
        posted -= heads.count(_DROPPED)
        heads = list(compress(heads, keep))
        values = list(compress(values, keep))
    tail = struct.Struct(f"<d{len(ts_field)}s").pack
    return list(map(add, heads, map(tail, values, repeat(ts_field)))), posted, distinct


def _first_kept(heads: list[bytes]) -> list[bool]:
    """Mask of samples to append: the first sample of each final label set that relabeling did not drop."""
    first = dict(zip(reversed(heads), range(len(heads) - 1, -1, -1), strict=True))
    first.pop(_DROPPED, None)
    keep = [False] * len(heads)
    for index in first.values():
        keep[index] = True
    return keep


def _append_with_timestamps(
    keys: list[str], values: list[float], timestamps: list[int | None], heads: list[bytes], scrape_ts_ms: int
) -> tuple[list[bytes], int, int, list[int]]:
    """The general loop for honored exposed timestamps: the first sample at a (final labels, time) wins.

    As in Prometheus's scrape loop, a sample without a timestamp whose series text was already
    appended in this scrape is a duplicate; and the append itself rejects a second sample of the
    same final labels at the same time (a sample without a timestamp is at the scrape's).

    Returns the series, the samples posted after relabeling, those appended (future ones too,
    which the append then drops, as Prometheus's sample limit counts them) and the indices of the
    samples written.
    """
    limit = scrape_ts_ms + MAX_AHEAD_MS
    appended: set[tuple[bytes, int]] = set()
    scraped: set[str] = set()
    series: list[bytes] = []
    posted = 0
    future = 0
    encode_sample = v1.encode_sample
    encode_series = v1.encode_series
    written: list[int] = []
    for index, (key, value, ts, head) in enumerate(zip(keys, values, timestamps, heads, strict=True)):
        if head == _DROPPED:
            continue
        posted += 1
        if ts is None:
            if key in scraped:
                continue
            ts = scrape_ts_ms
        elif ts > limit:
            future += 1
            continue
        if (head, ts) in appended:
            continue
        scraped.add(key)
        appended.add((head, ts))
        series.append(encode_series(_labels_block(head), encode_sample(value, ts)))
        written.append(index)
    return series, posted, len(series) + future, written
