"""Native histogram transforms of the scrape path, exact to Prometheus 3.

Pure functions over `exposition.model.NativeHistogram` / `Exposition` (nothing is modified in
place; every function returns new objects):

- `reduce_resolution(h, target_schema)`: model/histogram's ReduceResolution (the generic
  `reduceResolution`: buckets of the finer schema merged into the coarser one; integer histograms
  keep deltas, float ones absolute counts). Invalid input raises `HistogramError` worded as
  Prometheus words it.
- `apply_bucket_limit(h, limit)`: scrape's bucketLimitAppender (`native_histogram_bucket_limit`):
  while there are more than `limit` buckets (empty ones inside spans count), lower the schema by
  one; a histogram that is not exponential (custom buckets, or a schema above 8) or already at
  schema -4 and still over the limit is `HistogramError("histogram bucket limit exceeded")`.
- `pick_schema(factor)` / `apply_min_bucket_factor(h, factor)`: scrape's pickSchema and
  maxSchemaAppender (`native_histogram_min_bucket_factor`): the largest schema whose growth
  factor 2^(2^-schema) is at least `factor`, clamped to [-4, 8], and an exponential histogram
  (schema -9..52) above it reduced to it. Prometheus applies the factor first, then the bucket
  limit (appenderWithLimits wraps maxSchemaAppender outermost).
- `compact(h, max_empty_buckets)`: Histogram/FloatHistogram.Compact (`compact_buckets`: one side).
- `convert_classic_to_nhcb(exposition, keep_classic)`: `convert_classic_histograms_to_nhcb`,
  Prometheus's NHCBParser over util/convertnhcb; see its docstring.
- `validate(h)`: Histogram/FloatHistogram.Validate, which the storage appenders (TSDB head,
  agent WAL, Alloy's remote_write WAL) run on every native histogram before appending it:
  `HistogramError` with Prometheus's text when the storage would refuse it.
"""

import math
import re
from collections import ChainMap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from promscrape.gostring import go_quote

from .exposition.floats import FloatSyntaxError, format_go, go_parse_float
from .exposition.model import Exemplar, Exposition, HistogramSample, Labels, Metadata, NativeHistogram, Spans

__all__ = [
    "BUCKET_LIMIT_EXCEEDED",
    "CUSTOM_BUCKETS_SCHEMA",
    "EXPONENTIAL_SCHEMA_MAX",
    "EXPONENTIAL_SCHEMA_MIN",
    "HistogramError",
    "apply_bucket_limit",
    "apply_min_bucket_factor",
    "compact",
    "compact_buckets",
    "convert_classic_to_nhcb",
    "pick_schema",
    "reduce_resolution",
    "validate",
]

EXPONENTIAL_SCHEMA_MIN = -4
EXPONENTIAL_SCHEMA_MAX = 8
EXPONENTIAL_SCHEMA_MIN_RESERVED = -9
EXPONENTIAL_SCHEMA_MAX_RESERVED = 52
CUSTOM_BUCKETS_SCHEMA = -53

BUCKET_LIMIT_EXCEEDED = "histogram bucket limit exceeded"
"""scrape.errBucketLimit: like `sample limit exceeded`, parsing goes on and the scrape fails."""

_SPANS_MISMATCH = "histogram spans specify different number of buckets than provided"
_NEGATIVE_OFFSET = "histogram has a span whose offset is negative"
# model/histogram/generic.go's Err* texts that validate wraps (fmt.Errorf("...: %w")).
_COUNT_NOT_BIG_ENOUGH = (
    "histogram's observation count should be at least the number of observations found in the buckets"
)
_COUNT_MISMATCH = (
    "histogram's observation count should equal the number of observations found in the buckets "
    "(in absence of NaN)"
)
_NEGATIVE_COUNT = "histogram's observation count is negative"
_NEGATIVE_BUCKET_COUNT = "histogram has a bucket whose observation count is negative"
_CUSTOM_BOUNDS_TOO_FEW = "histogram custom bounds are too few"
_CUSTOM_BOUNDS_ORDER = "histogram custom bounds must be in strictly increasing order"
_CUSTOM_BOUNDS_INFINITE = "histogram custom bounds must be finite"
_CUSTOM_BOUNDS_NAN = "histogram custom bounds must not be NaN"
_CUSTOM_ZERO_COUNT = "custom buckets: must have zero count of 0"
_CUSTOM_ZERO_THRESHOLD = "custom buckets: must have zero threshold of 0"
_CUSTOM_NEGATIVE_SPANS = "custom buckets: must not have negative spans"
_CUSTOM_NEGATIVE_BUCKETS = "custom buckets: must not have negative buckets"
_EXPONENTIAL_CUSTOM_BOUNDS = "histogram with exponential schema must not have custom bounds"
_INVALID_SCHEMA = (
    "histogram has an invalid schema, which must be between -4 and 8 for exponential buckets, "
    "or -53 for custom buckets"
)

_INT64_LIMIT = 1 << 63
_UINT64_LIMIT = 1 << 64


class HistogramError(ValueError):
    """A histogram Prometheus refuses; `str()` is Prometheus's error text."""


def _int32(value: int) -> int:
    """Go's int32 arithmetic on a span offset: the low 32 bits, signed."""
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def _is_exponential(schema: int) -> bool:
    return EXPONENTIAL_SCHEMA_MIN <= schema <= EXPONENTIAL_SCHEMA_MAX


def _is_exponential_reserved(schema: int) -> bool:
    return EXPONENTIAL_SCHEMA_MIN_RESERVED <= schema <= EXPONENTIAL_SCHEMA_MAX_RESERVED


def _reduce[Count: (int, float)](
    spans: Sequence[tuple[int, int]], buckets: Sequence[Count], origin: int, target: int, deltas: bool
) -> tuple[tuple[tuple[int, int], ...], tuple[Count, ...]]:
    """model/histogram `reduceResolution` for one side: the spans and buckets in `target`."""
    target_spans: list[list[int]] = []
    target_buckets: list[Count] = []
    shift = origin - target
    index = 0  # bucket index in the origin schema
    position = 0  # position in `buckets`
    last_count: Count = 0  # the last origin bucket's absolute count (deltas only)
    last_target_index = 0
    last_target_count: Count = 0  # the last target bucket's absolute count (deltas only)
    for number, (offset, length) in enumerate(spans):
        if number > 0 and offset < 0:
            raise HistogramError(f"span number {number + 1} with offset {offset}: {_NEGATIVE_OFFSET}")
        index += offset
        for _ in range(length):
            if position >= len(buckets):
                raise HistogramError(f"have {len(buckets)} buckets but spans need more: {_SPANS_MISMATCH}")
            bucket = buckets[position]
            target_index = ((index - 1) >> shift) + 1
            if not target_spans:
                target_spans.append([target_index, 1])
                target_buckets.append(bucket)
                last_target_index = target_index
                last_count = last_target_count = bucket
            elif target_index == last_target_index:
                if deltas:
                    last_count += bucket
                    target_buckets[-1] += last_count
                    last_target_count += last_count
                else:
                    target_buckets[-1] += bucket
            else:
                if target_index == last_target_index + 1:
                    target_spans[-1][1] += 1
                else:
                    target_spans.append([target_index - last_target_index - 1, 1])
                last_target_index = target_index
                if deltas:
                    last_count += bucket
                    target_buckets.append(last_count - last_target_count)
                    last_target_count = last_count
                else:
                    target_buckets.append(bucket)
            index += 1
            position += 1
    if position != len(buckets):
        raise HistogramError(f"spans need {position} buckets, have {len(buckets)} buckets: {_SPANS_MISMATCH}")
    return tuple((offset, length) for offset, length in target_spans), tuple(target_buckets)


def reduce_resolution(h: NativeHistogram, target_schema: int) -> NativeHistogram:
    """Histogram/FloatHistogram.ReduceResolution: `h` in the coarser `target_schema`."""
    if h.schema == CUSTOM_BUCKETS_SCHEMA:
        raise HistogramError("cannot reduce resolution when there are custom buckets")
    if target_schema == CUSTOM_BUCKETS_SCHEMA:
        raise HistogramError("cannot reduce resolution to custom buckets schema")
    if target_schema >= h.schema:
        raise HistogramError(f"cannot reduce resolution from schema {h.schema} to {target_schema}")
    deltas = not h.is_float
    positive_spans, positive_buckets = _reduce(
        h.positive_spans, h.positive_buckets, h.schema, target_schema, deltas
    )
    negative_spans, negative_buckets = _reduce(
        h.negative_spans, h.negative_buckets, h.schema, target_schema, deltas
    )
    return replace(
        h,
        schema=target_schema,
        positive_spans=positive_spans,
        positive_buckets=positive_buckets,
        negative_spans=negative_spans,
        negative_buckets=negative_buckets,
    )


def apply_bucket_limit(h: NativeHistogram, limit: int) -> NativeHistogram:
    """bucketLimitAppender: lower the schema until at most `limit` buckets; 0 (or less) is no limit."""
    if limit <= 0:
        return h
    if len(h.positive_buckets) + len(h.negative_buckets) > limit and not _is_exponential(h.schema):
        raise HistogramError(BUCKET_LIMIT_EXCEEDED)
    while len(h.positive_buckets) + len(h.negative_buckets) > limit:
        if h.schema <= EXPONENTIAL_SCHEMA_MIN:
            raise HistogramError(BUCKET_LIMIT_EXCEEDED)
        h = reduce_resolution(h, h.schema - 1)
    return h


# Go's math.Log (fdlibm's algorithm, as math/log.go and its amd64 assembly compute it) and
# math.Log2, so that pick_schema rounds exactly as Prometheus at the schema boundaries.
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_L1 = 6.666666666666735130e-01
_L2 = 3.999999999940941908e-01
_L3 = 2.857142874366239149e-01
_L4 = 2.222219843214978396e-01
_L5 = 1.818357216161805012e-01
_L6 = 1.531383769920937332e-01
_L7 = 1.479819860511658591e-01
_SQRT2_HALF = 0.7071067811865476
_LOG2E = 1.4426950408889634


def _go_log(x: float) -> float:
    if x != x or x == math.inf:
        return x
    if x < 0:
        return math.nan
    if x == 0:
        return -math.inf
    f1, ki = math.frexp(x)
    if f1 < _SQRT2_HALF:
        f1 *= 2
        ki -= 1
    f = f1 - 1
    k = float(ki)
    s = f / (2 + f)
    s2 = s * s
    s4 = s2 * s2
    t1 = s2 * (_L1 + s4 * (_L3 + s4 * (_L5 + s4 * _L7)))
    t2 = s4 * (_L2 + s4 * (_L4 + s4 * _L6))
    r = t1 + t2
    hfsq = 0.5 * f * f
    return k * _LN2_HI - ((hfsq - (s * (hfsq + r) + k * _LN2_LO)) - f)


def _go_log2(x: float) -> float:
    frac, exp = math.frexp(x)
    if frac == 0.5:
        return float(exp - 1)
    return _go_log(frac) * _LOG2E + float(exp)


def pick_schema(factor: float) -> int:
    """scrape.pickSchema: the schema `native_histogram_min_bucket_factor` allows (<= 1 means 8).

    floor(-log2(log2(factor))) clamped to [-4, 8], with Go's Log2 so boundary factors round as in
    Prometheus. A NaN factor has no schema (Go would convert NaN to int32); ValueError.
    """
    if factor != factor:
        raise ValueError("native_histogram_min_bucket_factor must not be NaN")
    if factor <= 1:
        factor = 1.00271
    floor = math.floor(-_go_log2(_go_log2(factor))) if factor != math.inf else -math.inf
    if floor >= EXPONENTIAL_SCHEMA_MAX:
        return EXPONENTIAL_SCHEMA_MAX
    if floor <= EXPONENTIAL_SCHEMA_MIN:
        return EXPONENTIAL_SCHEMA_MIN
    return int(floor)


def apply_min_bucket_factor(h: NativeHistogram, factor: float) -> NativeHistogram:
    """maxSchemaAppender: an exponential histogram above pick_schema(factor) reduced to it.

    As in Prometheus the appender only exists when that schema is below 8, so a factor allowing
    schema 8 leaves even schemas 9..52 alone; custom buckets are never touched.
    """
    max_schema = pick_schema(factor)
    if max_schema < EXPONENTIAL_SCHEMA_MAX and _is_exponential_reserved(h.schema) and h.schema > max_schema:
        return reduce_resolution(h, max_schema)
    return h


def compact_buckets[Count: (int, float)](
    buckets: list[Count], spans: list[list[int]], max_empty: int, deltas: bool
) -> tuple[list[Count], list[list[int]]]:
    """model/histogram `compactBuckets` (without Kahan compensation): a port, step by step; the one
    implementation behind `compact` and the protobuf parser's Compact(0).

    Empty buckets at the ends of spans and runs of more than `max_empty` inside them are cut out,
    zero-offset and zero-length spans merged away, and spans at most `max_empty` apart joined.
    `buckets` are deltas when `deltas`, else absolute counts; spans are [offset, length] lists
    whose offsets add up as Go's int32 does. Both lists are modified and returned. Spans that do
    not cover exactly the buckets, or a negative offset after the first (invalid: the storage
    rejects such a histogram, where Go would index out of range here), are returned as they are.
    One deliberate difference: after joining two spans Prometheus continues from the first bucket
    of the joined span (`iBucket += offset`), which mis-places the empty buckets of a second join
    in a row (negative counts); this port continues after the joined span. Scraping never reaches
    that case (NHCBs are compacted from a single span, protobuf uses Compact(0)).
    """
    if sum(length for _, length in spans) != len(buckets) or any(offset < 0 for offset, _ in spans[1:]):
        return buckets, spans
    current: Count = 0
    nothing_to_do = True
    for bucket in buckets:
        current = current + bucket if deltas else bucket
        if current == 0:
            nothing_to_do = False
            break
    if nothing_to_do and not any(offset <= max_empty or length == 0 for offset, length in spans):
        return buckets, spans

    if len(spans) > 1:
        merged = [spans[0]]
        for span in spans[1:]:
            if span[0] == 0:
                merged[-1][1] += span[1]
            else:
                merged.append(span)
        spans = merged
    kept: list[list[int]] = []
    for index, span in enumerate(spans):
        if span[1] == 0:
            if index + 1 < len(spans):
                spans[index + 1][0] = _int32(spans[index + 1][0] + span[0])
            continue
        kept.append(span)
    spans = kept
    if not spans:
        return [], spans

    i_bucket = i_span = position = 0
    current = 0
    while i_bucket < len(buckets) and i_span < len(spans):
        current = current + buckets[i_bucket] if deltas else buckets[i_bucket]
        n_empty = 0
        absolute = current
        while n_empty + position < spans[i_span][1] and absolute == 0:
            n_empty += 1
            if n_empty + i_bucket >= len(buckets):
                break
            absolute = buckets[n_empty + i_bucket]
        if n_empty == 0:
            i_bucket += 1
            position += 1
            if position >= spans[i_span][1]:
                position = 0
                i_span += 1
            continue
        if position > 0 and n_empty < spans[i_span][1] - position and n_empty <= max_empty:
            i_bucket += n_empty
            if deltas:
                current = 0
            position += n_empty
            continue
        if deltas and i_bucket + n_empty < len(buckets):
            current = -buckets[i_bucket]
            buckets[i_bucket + n_empty] += buckets[i_bucket]
        del buckets[i_bucket : i_bucket + n_empty]
        if position == 0:
            if n_empty == spans[i_span][1]:
                offset = spans[i_span][0]
                del spans[i_span]
                if i_span < len(spans):
                    spans[i_span][0] = _int32(spans[i_span][0] + offset + n_empty)
                continue
            spans[i_span][1] -= n_empty
            spans[i_span][0] = _int32(spans[i_span][0] + n_empty)
            continue
        rest = spans[i_span][1] - position - n_empty
        spans[i_span][1] = position
        i_span += 1
        position = 0
        if rest == 0:
            if i_span < len(spans):
                spans[i_span][0] = _int32(spans[i_span][0] + n_empty)
            continue
        spans.insert(i_span, [n_empty, rest])
    if max_empty == 0 or not buckets:
        return buckets, spans

    i_bucket = spans[0][1]
    current = sum(buckets[:i_bucket]) if deltas else 0
    i_span = 1
    while i_span < len(spans):
        offset, length = spans[i_span]
        if offset > max_empty:
            if deltas:
                current += sum(buckets[i_bucket : i_bucket + length])
            i_bucket += length
            i_span += 1
            continue
        spans[i_span - 1][1] += offset + length
        del spans[i_span]
        buckets[i_bucket:i_bucket] = [0 if deltas else 0.0] * offset
        if deltas:
            buckets[i_bucket] = -current
            buckets[i_bucket + offset] += current
            current = sum(buckets[i_bucket + offset : i_bucket + offset + length])
        i_bucket += offset + length
    return buckets, spans


def compact(h: NativeHistogram, max_empty_buckets: int) -> NativeHistogram:
    """Histogram/FloatHistogram.Compact(maxEmptyBuckets) on both sides of `h`."""
    deltas = not h.is_float
    positive, positive_spans = compact_buckets(
        list(h.positive_buckets), [list(span) for span in h.positive_spans], max_empty_buckets, deltas
    )
    negative, negative_spans = compact_buckets(
        list(h.negative_buckets), [list(span) for span in h.negative_spans], max_empty_buckets, deltas
    )
    return replace(
        h,
        positive_spans=tuple((offset, length) for offset, length in positive_spans),
        positive_buckets=tuple(positive),
        negative_spans=tuple((offset, length) for offset, length in negative_spans),
        negative_buckets=tuple(negative),
    )


_U32 = 0xFFFFFFFF
_U64 = (1 << 64) - 1


def _int64(value: int) -> int:
    """Go's int64 arithmetic: the low 64 bits, signed."""
    value &= _U64
    return value - _UINT64_LIMIT if value >= _INT64_LIMIT else value


def _go_f(value: float) -> str:
    """Go's `%f` of a float that is not NaN: six decimals, infinities as `+Inf` / `-Inf`."""
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return f"{value:.6f}"


def _check_spans(spans: Spans, buckets: int, side: str) -> None:
    """checkHistogramSpans: only the first offset may be negative, the lengths add up to the buckets."""
    needed = 0
    for number, (offset, length) in enumerate(spans):
        offset = _int32(offset)
        if number > 0 and offset < 0:
            raise HistogramError(f"{side}: span number {number + 1} with offset {offset}: {_NEGATIVE_OFFSET}")
        needed += length & _U32
    if needed != buckets:
        raise HistogramError(
            f"{side}: spans need {needed} buckets, have {buckets} buckets: {_SPANS_MISMATCH}"
        )


def _integer_total(deltas: Sequence[int], side: str) -> int:
    """checkHistogramBuckets over deltas: every absolute count (an int64 running sum, wrapping as Go's
    does) at least 0; their uint64 total (wrapping too), which the count check compares."""
    total = current = 0
    for number, delta in enumerate(deltas, 1):
        current = _int64(current + delta)
        if current < 0:
            raise HistogramError(
                f"{side}: bucket number {number} has observation count of {current}: {_NEGATIVE_BUCKET_COUNT}"
            )
        total = (total + current) & _U64
    return total


def _check_float_counts(counts: Sequence[float], side: str) -> None:
    """checkHistogramBuckets over absolute counts: none below 0 (NaN passes, as `c < 0` is false)."""
    for number, count in enumerate(counts, 1):
        if count < 0:
            raise HistogramError(
                f"{side}: bucket number {number} has observation count of {format_go(count)}: "
                f"{_NEGATIVE_BUCKET_COUNT}"
            )


def _check_custom_bounds(bounds: Sequence[float], spans: Spans, buckets: int) -> None:
    """checkHistogramCustomBounds, wrapped in `custom buckets: `: bounds strictly increasing, not NaN,
    no explicit +Inf; no negative offset (the first span's included); spans covering the buckets
    and reaching at most one bucket past the last bound."""
    previous = -math.inf
    for i, bound in enumerate(bounds):
        if bound != bound:
            raise HistogramError(f"custom buckets: {_CUSTOM_BOUNDS_NAN}")
        if i > 0 and bound <= previous:
            raise HistogramError(
                f"custom buckets: previous bound is {_go_f(previous)} and current is {_go_f(bound)}: "
                f"{_CUSTOM_BOUNDS_ORDER}"
            )
        previous = bound
    if previous == math.inf:
        raise HistogramError(
            f"custom buckets: last +Inf bound must not be explicitly defined: {_CUSTOM_BOUNDS_INFINITE}"
        )
    needed = reach = 0
    for number, (offset, length) in enumerate(spans):
        offset, length = _int32(offset), length & _U32
        if offset < 0:
            raise HistogramError(
                f"custom buckets: span number {number + 1} with offset {offset}: {_NEGATIVE_OFFSET}"
            )
        needed += length
        reach += length + offset
    if needed != buckets:
        raise HistogramError(
            f"custom buckets: spans need {needed} buckets, have {buckets} buckets: {_SPANS_MISMATCH}"
        )
    if len(bounds) + 1 < reach:
        raise HistogramError(
            f"custom buckets: only {len(bounds)} custom bounds defined which is insufficient to cover "
            f"total span length of {reach}: {_CUSTOM_BOUNDS_TOO_FEW}"
        )


def validate(h: NativeHistogram) -> None:
    """Histogram.Validate (integer) / FloatHistogram.Validate (`is_float`): None, or `HistogramError`.

    What Prometheus's storage appenders check before appending a native histogram (the TSDB head,
    agent mode's WAL, Alloy's remote_write WAL), step by step and in the same order, with the
    same texts (`fmt.Errorf("...: %w")` chains as Go prints them):
    - schema -53 (custom buckets): the bounds (not NaN, strictly increasing, no explicit +Inf),
      spans (no negative offset at all, covering the buckets, at most one bucket past the last
      bound), then zero count 0, zero threshold 0, no negative spans, no negative buckets;
    - schema -4..8: each side's spans (only the first offset may be negative, lengths covering
      the buckets: positive side first), the negative buckets, for floats a zero count >= 0,
      then no custom bounds; any other schema (9..52 included) is invalid;
    - then for floats a count >= 0, and every side's buckets >= 0 (integer histograms: the
      running sums of the deltas, as int64). Integer histograms' count must equal the buckets'
      total plus the zero count (uint64 arithmetic), or with a NaN sum be at least that (NaN
      observations count but fall in no bucket); float histograms' count is not compared.
    `custom_values` stands for Go's CustomValues, () for nil.
    """
    negative_total = 0
    if h.schema == CUSTOM_BUCKETS_SCHEMA:
        _check_custom_bounds(h.custom_values, h.positive_spans, len(h.positive_buckets))
        if h.zero_count != 0:
            raise HistogramError(_CUSTOM_ZERO_COUNT)
        if h.zero_threshold != 0:
            raise HistogramError(_CUSTOM_ZERO_THRESHOLD)
        if h.negative_spans:
            raise HistogramError(_CUSTOM_NEGATIVE_SPANS)
        if h.negative_buckets:
            raise HistogramError(_CUSTOM_NEGATIVE_BUCKETS)
    elif _is_exponential(h.schema):
        _check_spans(h.positive_spans, len(h.positive_buckets), "positive side")
        _check_spans(h.negative_spans, len(h.negative_buckets), "negative side")
        if h.is_float:
            _check_float_counts(h.negative_buckets, "negative side")
            if h.zero_count < 0:
                zero = format_go(h.zero_count)
                raise HistogramError(f"zero bucket has observation count of {zero}: {_NEGATIVE_BUCKET_COUNT}")
        else:
            negative_total = _integer_total(h.negative_buckets, "negative side")  # type: ignore[arg-type]
        if h.custom_values:
            raise HistogramError(_EXPONENTIAL_CUSTOM_BOUNDS)
    else:
        raise HistogramError(f"{_INVALID_SCHEMA}, got schema {h.schema}")
    if h.is_float:
        if h.count < 0:
            raise HistogramError(f"observation count is  {format_go(h.count)}: {_NEGATIVE_COUNT}")
        _check_float_counts(h.positive_buckets, "positive side")
        return
    positive_total = _integer_total(h.positive_buckets, "positive side")  # type: ignore[arg-type]
    found = (negative_total + positive_total + int(h.zero_count)) & _U64
    count = int(h.count) & _U64
    found_text = f"{found} observations found in buckets, but the Count field is {count}"
    if h.sum != h.sum:
        if found > count:
            raise HistogramError(f"{found_text}: {_COUNT_NOT_BIG_ENOUGH}")
    elif found != count:
        raise HistogramError(f"{found_text}: {_COUNT_MISMATCH}")


def _refused(h: NativeHistogram) -> bool:
    """Whether validate refuses `h` (the NHCBParser drops such a conversion)."""
    try:
        validate(h)
    except HistogramError:
        return True
    return False


class _TempHistogram:
    """util/convertnhcb.TempHistogram: one classic histogram's series, collected as they come.

    The first error (negative or non-cumulative counts) sticks and makes `convert` return None,
    as Prometheus's Convert then fails and the NHCBParser drops the histogram.
    """

    def __init__(self) -> None:
        self.buckets: list[tuple[float, float]] = []  # (le, cumulative count), by le
        self.count = 0.0
        self.sum = 0.0
        self.has_count = False
        self.failed = False

    def set_bucket_count(self, boundary: float, count: float) -> None:
        if self.failed:
            return
        if count < 0:
            self.failed = True
            return
        buckets = self.buckets
        if not buckets:
            buckets.append((boundary, count))
        elif buckets[-1][0] < boundary:
            if count < buckets[-1][1]:
                self.failed = True
                return
            buckets.append((boundary, count))
        elif buckets[-1][0] != boundary:
            i = next(i for i, (le, _) in enumerate(buckets) if le >= boundary)
            if buckets[i][0] == boundary:
                return
            if (i > 0 and count < buckets[i - 1][1]) or count > buckets[i][1]:
                self.failed = True
                return
            buckets.insert(i, (boundary, count))

    def set_count(self, count: float) -> None:
        if self.failed:
            return
        if count < 0:
            self.failed = True
            return
        self.count = count
        self.has_count = True

    def set_sum(self, value: float) -> None:
        if not self.failed:
            self.sum = value

    def convert(self) -> NativeHistogram | None:
        """Convert: the NHCB, or None where Prometheus's conversion fails."""
        if self.failed:
            return None
        buckets = list(self.buckets)
        count = self.count
        if not self.has_count:
            if not buckets:
                return None  # errMissingCount
            count = buckets[-1][1]
        if not buckets or buckets[-1][0] != math.inf:
            buckets.append((math.inf, count))
        bounds = tuple(le for le, _ in buckets[:-1])
        if count != buckets[-1][1]:
            return None  # errCountMismatch (NaN counts end here too)
        if all(_go_int64_exact(c) for _, c in buckets) and _go_uint64_exact(count):
            deltas: list[int] = []
            previous_count = previous_delta = 0
            for _, cumulative in buckets:
                delta = int(cumulative) - previous_count
                deltas.append(delta - previous_delta)
                previous_count, previous_delta = int(cumulative), delta
            integer = NativeHistogram(
                schema=CUSTOM_BUCKETS_SCHEMA,
                zero_threshold=0.0,
                count=int(count),
                sum=self.sum,
                zero_count=0,
                positive_spans=((0, len(deltas)),),
                positive_buckets=tuple(deltas),
                custom_values=bounds,
            )
            return compact(integer, 2)
        counts: list[float] = []
        previous = 0.0
        for _, cumulative in buckets:
            counts.append(cumulative - previous)
            previous = cumulative
        floating = NativeHistogram(
            schema=CUSTOM_BUCKETS_SCHEMA,
            zero_threshold=0.0,
            count=count,
            sum=self.sum,
            zero_count=0.0,
            positive_spans=((0, len(counts)),),
            positive_buckets=tuple(counts),
            is_float=True,
            custom_values=bounds,
        )
        return compact(floating, 0)


def _go_int64_exact(value: float) -> bool:
    """`value == float64(int64(math.Round(value)))` in Go on amd64 (out of range gives MinInt64)."""
    return value == value and -_INT64_LIMIT <= value < _INT64_LIMIT and value == math.floor(value)


def _go_uint64_exact(value: float) -> bool:
    """`value == float64(uint64(math.Round(value)))` for the non-negative counts that reach it."""
    return 0 <= value < _UINT64_LIMIT and value == math.floor(value)


_LEGACY_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_SUFFIXES = (("_bucket", "bucket"), ("_sum", "sum"), ("_count", "count"))
_FAMILY_SUFFIXES = ("_total", "_created", "_bucket", "_count", "_sum", "_gcount", "_gsum", "_info")


def _base_name(name: str) -> tuple[str | None, str]:
    """convertnhcb.GetHistogramMetricBaseName: the suffix kind and the name without it."""
    for suffix, kind in _SUFFIXES:
        if name.endswith(suffix):
            return kind, name[: -len(suffix)]
    return None, name


@dataclass(slots=True)
class _Group:
    """The classic histogram being collected: consecutive series of one family and label set."""

    base: str
    labels: frozenset[tuple[str, str]]
    first: int
    temp: _TempHistogram = field(default_factory=_TempHistogram)
    exemplars: list[Exemplar] = field(default_factory=list)


def _nhcb_key(name: str, labels: Labels) -> str:
    """formatBytesNHCB: the NHCB's series text, labels sorted, values (and odd names) Go-quoted."""
    if not labels:
        return name
    parts = [
        (label if _LEGACY_LABEL.fullmatch(label) else go_quote(label)) + "=" + go_quote(value)
        for label, value in sorted(labels)
    ]
    return name + "{" + ",".join(parts) + "}"


def convert_classic_to_nhcb(
    exposition: Exposition, keep_classic: bool, *, protobuf: bool = False
) -> Exposition:
    """`convert_classic_histograms_to_nhcb`: classic histograms as native histograms with custom buckets.

    Prometheus 3's NHCBParser over convertnhcb.TempHistogram, run over the float samples in order:
    - A sample is a classic histogram series when its family (its name without `_bucket`, `_sum`
      or `_count`) has TYPE `histogram` (not `gaugehistogram`) and, for `_bucket`, its `le`
      parses as a Go float that is not NaN. Consecutive such series with the same base name and
      the same labels besides `le` (empty values included) form one histogram; a sample of
      another base name or label set ends it (series of the same base name and labels that are
      not classic, such as `foo{...}` or a `_bucket` without a valid `le`, pass through without
      ending it; `foo_created` has another base name and ends it). The same series again later
      starts a new histogram.
    - Buckets are sorted by `le`, duplicates ignored; no `_count` means the last bucket's count;
      no `+Inf` bucket adds one with the count. Negative or non-cumulative counts, a count other
      than the `+Inf` bucket's, or no count and no bucket make the conversion fail, and so does a
      result `validate` refuses (a `_count` below the last bucket when there is no `+Inf` bucket:
      the added `+Inf` bucket is then negative): that histogram is dropped (its series too,
      unless `keep_classic`), as in Prometheus.
    - Integer counts (each exact in int64) give an integer NHCB compacted like Compact(2),
      others a float NHCB compacted like Compact(0); `custom_values` are the finite bounds.
    - The NHCB's series is the base name with the first series' labels minus `le` (exposed
      order); its key is Prometheus's: labels sorted, values Go-quoted. Its exemplars are those
      of its series in order (they move to the NHCB: the kept classic series lose them, as the
      wrapped parser hands each exemplar out once); its start timestamp is the first series'.
    - Its timestamp is that of the series Prometheus read last when it emits the NHCB: the
      series that ended it when that one directly follows (same family, or a family without
      metadata, so no TYPE/HELP line came between), else the histogram's own last series'.
      With `protobuf` (Prometheus 3.12+ converts inside the protobuf parser, per Metric) it is
      always the histogram's own.
    - No NHCB for a series that also has a native histogram in `exposition.histograms` (Prometheus
      inhibits the conversion after an exponential histogram of the same series).
    - After a parse error the histogram being collected is not emitted (Prometheus stops there).

    Classic series stay only with `keep_classic`. NHCBs follow the exposition's own histograms.
    Limits of the model: TYPE lines are known per family, not by position, so families written
    interleaved, and comment lines between two histograms, can differ from Prometheus.
    """
    keys = exposition.keys
    series = exposition.series
    empty_labels = exposition.empty_labels
    metadata = exposition.metadata
    if not any(meta.type == "histogram" for meta in metadata.values()):
        return exposition
    timestamps = exposition.timestamps
    native = set()
    for sample in exposition.histograms:
        name, labels = series[sample.key]
        native.add((name, _full_labels(labels, empty_labels.get(sample.key))))

    kept: list[int] = []
    moved: set[int] = set()  # classic samples whose exemplar went to an NHCB
    new_samples: list[HistogramSample] = []
    new_series: dict[str, tuple[str, Labels]] = {}
    new_empty: dict[str, frozenset[str]] = {}
    group: _Group | None = None

    def flush(group: _Group, timestamp: int | None) -> None:
        histogram = group.temp.convert()
        if histogram is None or _refused(histogram):
            return  # processNHCB: a failed Convert, or a result Validate refuses, is not emitted
        first_key = keys[group.first]
        _, labels = series[first_key]
        labels = tuple(pair for pair in labels if pair[0] != "le")
        empty = (empty_labels.get(first_key) or frozenset()) - {"le"}
        key = _nhcb_key(group.base, labels + tuple((name, "") for name in sorted(empty)))
        if key not in new_series:  # the same series later keeps the first one's label order
            new_series[key] = (group.base, labels)
            if empty:
                new_empty[key] = empty
        new_samples.append(
            HistogramSample(
                key,
                histogram,
                timestamp,
                tuple(group.exemplars),
                exposition.start_timestamps.get(group.first),
            )
        )

    histogram_families = {name for name, meta in metadata.items() if meta.type == "histogram"}
    bounds: dict[str, float | None] = {}
    for i, key in enumerate(keys):
        name, labels = series[key]
        kind, base = _base_name(name)
        without_le: frozenset[tuple[str, str]] | None = None
        if group is not None:
            if base == group.base:
                without_le = _without_le(labels, empty_labels.get(key))
            if base != group.base or without_le != group.labels:
                follows = not protobuf and _follows(name, group.base, metadata)
                flush(group, timestamps[i] if follows else timestamps[i - 1])
                group = None
        le = _classic_le(kind, base, labels, histogram_families, bounds)
        if le is None:
            kept.append(i)
            continue
        if without_le is None:
            without_le = _without_le(labels, empty_labels.get(key))
        if group is None and (base, without_le) in native:
            kept.append(i)
            continue
        if group is None:
            group = _Group(base, without_le, i)
        exemplar = exposition.exemplars.get(i)
        if exemplar is not None:
            group.exemplars.append(exemplar)
            moved.add(i)
        value = exposition.values[i]
        if kind == "bucket":
            group.temp.set_bucket_count(le, value)
        elif kind == "count":
            group.temp.set_count(value)
        else:
            group.temp.set_sum(value)
        if keep_classic:
            kept.append(i)
    if group is not None and exposition.error is None:
        flush(group, timestamps[-1])

    if len(kept) == len(keys) and not new_samples and not moved:
        return exposition
    if keep_classic:
        exemplars = {i: e for i, e in exposition.exemplars.items() if i not in moved}
        start_timestamps = exposition.start_timestamps
        values = exposition.values
        kept_keys = keys
        kept_timestamps = timestamps
    else:
        position = {old: new for new, old in enumerate(kept)}
        exemplars = {position[i]: e for i, e in exposition.exemplars.items() if i in position}
        start_timestamps = {position[i]: t for i, t in exposition.start_timestamps.items() if i in position}
        values = [exposition.values[i] for i in kept]
        kept_keys = [keys[i] for i in kept]
        kept_timestamps = [timestamps[i] for i in kept]
    return Exposition(
        keys=list(kept_keys),
        values=list(values),
        timestamps=list(kept_timestamps),
        series=ChainMap(new_series, series) if new_series else series,  # type: ignore[arg-type]
        metadata=metadata,
        error=exposition.error,
        empty_labels=ChainMap(new_empty, empty_labels) if new_empty else empty_labels,  # type: ignore[arg-type]
        exemplars=exemplars,
        start_timestamps=dict(start_timestamps),
        histograms=[*exposition.histograms, *new_samples],
    )


def _full_labels(labels: Labels, empty: frozenset[str] | None) -> frozenset[tuple[str, str]]:
    """The label set as Prometheus's parser has it: empty values included, `__name__` not."""
    if not empty:
        return frozenset(labels)
    return frozenset(labels) | {(name, "") for name in empty}


def _without_le(labels: Labels, empty: frozenset[str] | None) -> frozenset[tuple[str, str]]:
    """What NHCBParser compares between series (HashWithoutLabels(le)): all labels but `le`."""
    return frozenset(pair for pair in _full_labels(labels, empty) if pair[0] != "le")


def _classic_le(
    kind: str | None, base: str, labels: Labels, histogram_families: set[str], bounds: dict[str, float | None]
) -> float | None:
    """handleClassicHistogramSeries: None when the series is not part of a classic histogram, else
    its `le` (0.0 for `_count` and `_sum`): family TYPE histogram, and a `_bucket`'s `le` a Go
    float that is not NaN. `bounds` memoises the parsed `le` texts of one conversion."""
    if kind is None or base not in histogram_families:
        return None
    if kind != "bucket":
        return 0.0
    le_text = next((value for name, value in labels if name == "le"), None)
    if le_text is None:
        return None
    if le_text in bounds:
        return bounds[le_text]
    try:
        le: float | None = go_parse_float(le_text)
    except FloatSyntaxError:
        le = None
    bounds[le_text] = None if le != le else le
    return bounds[le_text]


def _follows(name: str, base: str, metadata: Mapping[str, Metadata]) -> bool:
    """Whether series `name` came right after histogram `base` with no metadata line between."""
    families = {name} | {name[: -len(suffix)] for suffix in _FAMILY_SUFFIXES if name.endswith(suffix)}
    return base in families or not any(family in metadata for family in families)
