"""Remote write 1.0 (`prometheus.WriteRequest`), encoded by hand because it is on the hot path.

A WriteRequest is only its repeated field 1 (TimeSeries) here, so a request body is the plain
concatenation of pre-encoded series entries: the pipeline encodes (and caches) each series once
and batching is a `b"".join`. Output is byte-identical to Prometheus's gogo-protobuf encoder:
fields in number order, zero scalars and empty strings omitted (REFERENCE §11).
"""

import struct
from collections.abc import Sequence

import cramjam

from promscrape import USER_AGENT

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
