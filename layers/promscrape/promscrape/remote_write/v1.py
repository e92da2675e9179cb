"""Remote write 1.0 (`prometheus.WriteRequest`), encoded by hand because it is on the hot path.

A WriteRequest is only its repeated field 1 (TimeSeries) here, so a request body is the plain
concatenation of pre-encoded series entries: the pipeline encodes (and caches) each series once
and batching is a `b"".join`. Output is byte-identical to Prometheus's gogo-protobuf encoder:
fields in number order, zero scalars and empty strings omitted (REFERENCE §11).

Exemplars, native histograms and metadata (TimeSeries fields 3 and 4, WriteRequest field 3) are
encoded here too. Like Prometheus's queue manager, a caller sends each exemplar and each histogram
sample as a TimeSeries of its own (`encode_series(labels_block, encode_exemplar(...))`) and the
metadata of families in requests of their own (`build_requests(metadata_entries)`), so batching
stays a `b"".join` of entries.
"""

import struct
from collections.abc import Sequence

import cramjam

from promscrape import USER_AGENT
from promscrape.exposition.model import NativeHistogram

DEFAULT_MAX_SAMPLES = 2000

HEADERS: dict[str, str] = {
    "Content-Encoding": "snappy",
    "Content-Type": "application/x-protobuf",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
    "User-Agent": USER_AGENT,
}

# Tags: field << 3 | wire type.
_TAG_SERIES = b"\x0a"  # WriteRequest.timeseries, length-delimited
_TAG_LABEL = b"\x0a"  # TimeSeries.labels, length-delimited
_TAG_SAMPLE = b"\x12"  # TimeSeries.samples, length-delimited
_TAG_NAME = b"\x0a"  # Label.name
_TAG_VALUE = b"\x12"  # Label.value
_TAG_DOUBLE = b"\x09"  # Sample.value, 64-bit
_TAG_TIMESTAMP = b"\x10"  # Sample.timestamp, varint

_UINT64 = (1 << 64) - 1
_pack_double = struct.Struct("<d").pack


def _varint_slow(n: int) -> bytes:
    """Unsigned LEB128 of n; a negative int64 is taken as its two's complement (10 bytes)."""
    n &= _UINT64
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


# Every 1- and 2-byte varint, so lengths of labels and series are one list index (the pipeline
# frames whole columns of series with it).
VARINT_TABLE: list[bytes] = [_varint_slow(n) for n in range(1 << 14)]
_TABLE_SIZE = len(VARINT_TABLE)


def varint(n: int) -> bytes:
    """Protobuf varint of an int64/uint64 (negative values take 10 bytes)."""
    if 0 <= n < _TABLE_SIZE:
        return VARINT_TABLE[n]
    return _varint_slow(n)


def _string_field(tag: bytes, text: str) -> bytes:
    """A length-delimited string field, omitted when empty as proto3 does."""
    if not text:
        return b""
    raw = text.encode()
    size = len(raw)
    return tag + (VARINT_TABLE[size] if size < _TABLE_SIZE else _varint_slow(size)) + raw


def _encode_label(pair: tuple[str, str]) -> bytes:
    """One TimeSeries field-1 entry (tag, length, Label), cached in _LABEL_CACHE."""
    name, value = pair
    inner = _string_field(_TAG_NAME, name) + _string_field(_TAG_VALUE, value)
    entry = _TAG_LABEL + varint(len(inner)) + inner
    if len(_LABEL_CACHE) >= _LABEL_CACHE_MAX:
        _LABEL_CACHE.clear()
    _LABEL_CACHE[pair] = entry
    return entry


# Label pairs repeat across the series of a scrape (job, instance, mode="idle", ...): each pair's
# encoded entry is cached, bounded by clearing when full; correctness never depends on it.
_LABEL_CACHE: dict[tuple[str, str], bytes] = {}
_LABEL_CACHE_MAX = 1 << 15


def encode_labels(labels: Sequence[tuple[str, str]]) -> bytes:
    """The TimeSeries field-1 entries of (name, value) tuples already sorted by name.

    The result is cacheable per series; entries are never empty, hence the `or`.
    """
    get = _LABEL_CACHE.get
    return b"".join([get(pair) or _encode_label(pair) for pair in labels])


def _timestamp_parts(ts_ms: int) -> tuple[int, bytes, bytes]:
    """(ts_ms, sample prefix up to the double, timestamp field) of a sample with a non-zero value."""
    ts_field = _TAG_TIMESTAMP + varint(ts_ms) if ts_ms else b""
    return ts_ms, _TAG_SAMPLE + VARINT_TABLE[9 + len(ts_field)] + _TAG_DOUBLE, ts_field


# A scrape stamps all its samples with one timestamp: the parts of the last one are kept in ONE
# tuple, replaced whole, so concurrent scrapes in threads never see a torn entry.
_last_ts_parts: tuple[int, bytes, bytes] = _timestamp_parts(0)


def encode_sample(value: float, ts_ms: int) -> bytes:
    """The TimeSeries field-2 entry of one sample; NaN payloads (stale markers) are kept bit-exact."""
    global _last_ts_parts
    parts = _last_ts_parts
    if parts[0] != ts_ms:
        parts = _last_ts_parts = _timestamp_parts(ts_ms)
    if value != 0.0:
        return parts[1] + _pack_double(value) + parts[2]
    # Go omits a zero double (-0.0 too: its test is `m.Value != 0`).
    return _TAG_SAMPLE + VARINT_TABLE[len(parts[2])] + parts[2]


def encode_series(labels_block: bytes, samples_block: bytes) -> bytes:
    """A WriteRequest field-1 entry: tag, length, TimeSeries(labels, samples)."""
    size = len(labels_block) + len(samples_block)
    return (
        _TAG_SERIES
        + (VARINT_TABLE[size] if size < _TABLE_SIZE else _varint_slow(size))
        + labels_block
        + samples_block
    )


def encode_timeseries(labels: Sequence[tuple[str, str]], samples: Sequence[tuple[float, int]]) -> bytes:
    """A WriteRequest field-1 entry from sorted labels and (value, ts_ms) samples in time order."""
    return encode_series(encode_labels(labels), b"".join(encode_sample(v, ts) for v, ts in samples))


def split_batches(series: Sequence[bytes], max_samples: int = DEFAULT_MAX_SAMPLES) -> list[Sequence[bytes]]:
    """One-sample series entries cut into WriteRequests' worth of at most max_samples each."""
    return [series[start : start + max_samples] for start in range(0, len(series), max_samples)]


def build_requests(
    series: Sequence[bytes],
    sample_counts: Sequence[int] | None = None,
    max_samples: int = DEFAULT_MAX_SAMPLES,
) -> list[tuple[bytes, int]]:
    """Uncompressed WriteRequests of at most max_samples samples each, with their sample counts.

    `sample_counts[i]` is the number of samples of `series[i]` (None: one each). A series is never
    split: one with more than max_samples samples goes alone in its request.
    """
    if max_samples < 1:
        raise ValueError(f"max_samples must be positive, got {max_samples}")
    if sample_counts is None:
        return [(b"".join(part), len(part)) for part in split_batches(series, max_samples)]
    if len(sample_counts) != len(series):
        raise ValueError(f"{len(series)} series but {len(sample_counts)} sample counts")
    requests: list[tuple[bytes, int]] = []
    batch: list[bytes] = []
    count = 0
    for entry, samples in zip(series, sample_counts, strict=True):
        if batch and count + samples > max_samples:
            requests.append((b"".join(batch), count))
            batch = []
            count = 0
        batch.append(entry)
        count += samples
    if batch:
        requests.append((b"".join(batch), count))
    return requests


def compress(body: bytes) -> bytes:
    """Snappy block format (what remote write requires; never the framed format)."""
    return bytes(cramjam.snappy.compress_raw(body))


def decompress(body: bytes) -> bytes:
    """Inverse of compress: snappy block format."""
    return bytes(cramjam.snappy.decompress_raw(body))


# Exemplars, native histograms and metadata (REFERENCE §11).

_TAG_EXEMPLAR = b"\x1a"  # TimeSeries.exemplars
_TAG_HISTOGRAM = b"\x22"  # TimeSeries.histograms
_TAG_METADATA = b"\x1a"  # WriteRequest.metadata
_TAG_EXEMPLAR_VALUE = b"\x11"  # Exemplar.value, 64-bit
_TAG_EXEMPLAR_TIMESTAMP = b"\x18"  # Exemplar.timestamp, varint

# MetricMetadata.MetricType and io.prometheus.write.v2 Metadata.MetricType share these numbers;
# Prometheus maps a type by its upper-cased name and anything else (`unknown`, `untyped`) to 0.
METRIC_TYPES: dict[str, int] = {
    "counter": 1,
    "gauge": 2,
    "histogram": 3,
    "gaugehistogram": 4,
    "summary": 5,
    "info": 6,
    "stateset": 7,
}

# Histogram.ResetHint: what Prometheus's scrape gives a histogram sample is UNKNOWN, or GAUGE for
# a gauge histogram family.
RESET_HINT_UNKNOWN = 0
RESET_HINT_YES = 1
RESET_HINT_NO = 2
RESET_HINT_GAUGE = 3

# A native histogram with custom buckets (NHCB). Remote write 1.0 cannot carry it: Prometheus
# (since 3.7) drops such samples from a 1.0 queue and sends them over 2.0 only.
CUSTOM_BUCKETS_SCHEMA = -53


def metric_type(type_name: str) -> int:
    """The MetricType number of an exposition type name (`unknown`, `untyped` and others are 0)."""
    return METRIC_TYPES.get(type_name.lower(), 0)


def reset_hint(type_name: str) -> int:
    """The ResetHint Prometheus's scrape gives histogram samples of a family of this type."""
    return RESET_HINT_GAUGE if type_name.lower() == "gaugehistogram" else RESET_HINT_UNKNOWN


def length_delimited(tag: bytes, body: bytes) -> bytes:
    """tag, length, body: an embedded message (written even when empty)."""
    size = len(body)
    return tag + (VARINT_TABLE[size] if size < _TABLE_SIZE else _varint_slow(size)) + body


def _zigzag(n: int) -> int:
    """sint32/sint64 zigzag of an int64."""
    return ((n << 1) ^ (n >> 63)) & _UINT64


def double_field(tag: bytes, value: float) -> bytes:
    """A double field, omitted at zero (-0.0 too) as Go's gogo-protobuf does."""
    return tag + _pack_double(value) if value != 0.0 else b""


def varint_field(tag: bytes, value: int) -> bytes:
    """A varint field (int64, uint64, uint32, enum), omitted at zero."""
    return tag + varint(value) if value else b""


def _packed_doubles(tag: bytes, values: Sequence[float]) -> bytes:
    """A packed repeated double field, omitted when empty."""
    if not values:
        return b""
    return length_delimited(tag, struct.pack(f"<{len(values)}d", *values))


def _packed_sint64(tag: bytes, values: Sequence[float]) -> bytes:
    """A packed repeated sint64 field (integral values), omitted when empty."""
    if not values:
        return b""
    return length_delimited(tag, b"".join([varint(_zigzag(int(value))) for value in values]))


def _spans(tag: bytes, spans: Sequence[tuple[int, int]]) -> bytes:
    """Repeated BucketSpan (1 offset sint32, 2 length uint32); every span is written, even {0, 0}."""
    return b"".join(
        [
            length_delimited(tag, varint_field(b"\x08", _zigzag(offset)) + varint_field(b"\x10", length))
            for offset, length in spans
        ]
    )


def histogram_message(histogram: NativeHistogram, ts_ms: int, hint: int = RESET_HINT_UNKNOWN) -> bytes:
    """The Histogram message body (fields 1-16), as prompb's FromIntHistogram/FromFloatHistogram give it.

    Integer histograms carry count_int, zero_count_int and bucket deltas; float histograms
    count_float, zero_count_float and absolute bucket counts. The set member of each oneof is
    written even when zero; other zero scalars are omitted.
    """
    h = histogram
    if h.is_float:
        count = b"\x11" + _pack_double(float(h.count))
        zero_count = b"\x39" + _pack_double(float(h.zero_count))
        negative = _packed_doubles(b"\x52", h.negative_buckets)
        positive = _packed_doubles(b"\x6a", h.positive_buckets)
    else:
        count = b"\x08" + varint(int(h.count))
        zero_count = b"\x30" + varint(int(h.zero_count))
        negative = _packed_sint64(b"\x4a", h.negative_buckets)
        positive = _packed_sint64(b"\x62", h.positive_buckets)
    return b"".join(
        (
            count,
            double_field(b"\x19", h.sum),
            varint_field(b"\x20", _zigzag(h.schema)),
            double_field(b"\x29", h.zero_threshold),
            zero_count,
            _spans(b"\x42", h.negative_spans),
            negative,
            _spans(b"\x5a", h.positive_spans),
            positive,
            varint_field(b"\x70", hint),
            varint_field(b"\x78", ts_ms),
            _packed_doubles(b"\x82\x01", h.custom_values),
        )
    )


def encode_histogram(histogram: NativeHistogram, ts_ms: int, hint: int = RESET_HINT_UNKNOWN) -> bytes:
    """The TimeSeries field-4 entry of one native histogram sample (check `sendable` first)."""
    return length_delimited(_TAG_HISTOGRAM, histogram_message(histogram, ts_ms, hint))


def sendable(histogram: NativeHistogram) -> bool:
    """Whether remote write 1.0 carries this histogram (not NHCB: Prometheus drops those from 1.0)."""
    return histogram.schema != CUSTOM_BUCKETS_SCHEMA


def encode_exemplar(labels: Sequence[tuple[str, str]], value: float, ts_ms: int) -> bytes:
    """The TimeSeries field-3 entry of one exemplar; its labels are sorted by name as Prometheus's are.

    `ts_ms` 0 means none; Prometheus stamps an exemplar scraped without a timestamp with the
    scrape's time, which is the caller's to pass.
    """
    body = (
        encode_labels(sorted(labels, key=lambda pair: pair[0]))
        + double_field(_TAG_EXEMPLAR_VALUE, value)
        + varint_field(_TAG_EXEMPLAR_TIMESTAMP, ts_ms)
    )
    return length_delimited(_TAG_EXEMPLAR, body)


def encode_metadata(family: str, type_name: str, help_text: str | None, unit: str | None) -> bytes:
    """The WriteRequest field-3 entry (MetricMetadata) of one metric family.

    Entries of several families joined form a WriteRequest of metadata only, as Prometheus sends
    them; `build_requests(entries)` cuts them at 2000 per request like its metadata_config.
    """
    body = (
        varint_field(b"\x08", metric_type(type_name))
        + _string_field(b"\x12", family)
        + _string_field(b"\x22", help_text or "")
        + _string_field(b"\x2a", unit or "")
    )
    return length_delimited(_TAG_METADATA, body)
