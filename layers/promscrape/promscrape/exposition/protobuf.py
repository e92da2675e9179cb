"""The Prometheus protobuf exposition (PrometheusProto), read exactly as Prometheus 3 reads it.

A port of model/textparse/protobufparse.go on top of prompb's MetricStreamingDecoder (gogo
generated unmarshalling): the same samples in the same order, the same accept/reject decisions and
Prometheus's error texts, with the byte offset in the body where the problem was found
(`ParseError.offset`). Wire decoding is written by hand (varints, zigzag, packed and unpacked
repeated scalars, unknown fields skipped, repeated occurrences of a message merged), because
building upb messages costs as much as parsing text, and gogo's exact errors need the bytes.

What comes out (REFERENCE §5, `Exposition` in model.py):
- Body: `[uvarint length][MetricFamily]` repeated; a length varint longer than 5 bytes, or one
  cut short, is `clientpb: invalid varint encountered`. A family without metrics is skipped
  without any check, as Prometheus does. Family checks (name non-empty valid UTF-8, help valid
  UTF-8, known type, unit a `_<unit>` suffix) run after its first metric decoded.
- Keys are synthesised in text format 1.0.0 form, labels in exposed order and values escaped as
  the text format writes them: `name{a="x",b="y"}`, `{"my.metric","a.b"="v"}`; classic
  histogram and summary samples append `le`/`quantile` after the metric's own labels.
- Counter, gauge, untyped: one sample with the family name (counters already end in `_total`).
  Summary: `_count`, `_sum`, then one sample per quantile. Classic histogram and gauge
  histogram: `_count`, `_sum`, then `_bucket` per bucket up to and including the first `+Inf`
  one, `+Inf` (valued like `_count`) synthesised when absent. `le`/`quantile` values are
  Prometheus's FormatOpenMetricsFloat of the double (`floats.format_le`).
- A histogram family is native when its first metric has a span, `zero_threshold > 0` or
  `zero_count > 0` and native histograms are enabled (`native_histograms`, Prometheus's
  `scrape_native_histograms`); each of its metrics then gives a `HistogramSample` (float when
  `sample_count_float > 0` or `zero_count_float > 0`, else integer with deltas) after
  Prometheus's `Compact(0)`; with `classic_histograms` (`always_scrape_classic_histograms`) a
  metric with buckets also gives its classic samples right after. As in Prometheus, after a
  metric read as classic the next one is native only if that metric was.
- Timestamps: `timestamp_ms == 0` means none. Start timestamps (counter, summary, histogram
  `created_timestamp`) in ms as `seconds*1000 + nanos/1e6`, kept when not 0, on every sample of
  the metric. Values are not normalised: a stale-marker NaN passes through bit for bit.
- Exemplars: a counter's, and each classic bucket's on its `_bucket` sample (with or without
  timestamp); a native histogram takes its `exemplars` field or, when that is empty, its
  buckets' exemplars, keeping only those with a timestamp (each histogram its own: Prometheus
  fixed sharing a position between histograms in #14810). An exemplar whose label names and
  values exceed 128 runes is dropped, as Prometheus's exemplar storage does; its labels keep
  their exposed order (strings decoded with surrogateescape: they are not validated).
- Labels: names must be non-empty valid UTF-8 and values valid UTF-8 (`invalid label name: ...`,
  `invalid label value: ...`); an empty value means the label is absent (`Exposition.series`
  drops it, `Exposition.empty_labels` records its name), duplicates stay for the pipeline.

Where this differs from Prometheus on purpose: Prometheus's streaming decoder does not reset an
untyped metric's value, so a metric without its `untyped` field repeats the previous metric's
value; here it is 0, as for the other types. The gauge-histogram reset hint has no place in
`NativeHistogram` yet: `metadata[family].type == "gaugehistogram"` says it.

Speed (the hot path of most bodies is counters, gauges and classic histograms): the table-driven
decoder (`_decode`) is the reference; `_metric`, `_family`, the Histogram and Bucket readers
`_inline` builds and `_Parser._values` read the common shapes in place and hand anything else to
it, so results and errors are the same (a differential test checks this). Where promscrape._native
is built, its `pb_*` readers (native/native.c) go further: they locate a family's metrics and turn
each counter, gauge, untyped or classic histogram metric of the common shape (LabelPairs first,
non-empty valid UTF-8 values, no exemplar or created timestamp) straight into keys, values,
timestamps and series entries, handing any other metric back to the Python path
(tests/unit/test_native_protobuf.py holds them to it): a first scrape costs about 2 us a sample
instead of 7. Without them, bounded
module-level memos map a LabelPair's bytes and a metric's whole label block to their decoded
form, so a repeat scrape of a target skips label decoding; they are never needed for correctness.

`parse_protobuf(body)` never raises: the first error is returned in `Exposition.error` and the
samples of the metrics before it stay.
"""

import math
import re
import struct
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

from promscrape.gostring import go_quote
from promscrape.histograms import compact
from promscrape.native import ACCELERATOR

from .floats import format_le
from .model import Exemplar, Exposition, HistogramSample, Labels, Metadata, NativeHistogram, ParseError
from .render import escape

__all__ = ["ProtobufParser", "parse_protobuf"]

_U64 = (1 << 64) - 1
_U32 = (1 << 32) - 1
_UNEXPECTED_EOF = "unexpected EOF"
_INT_OVERFLOW = "proto: integer overflow"
_NEGATIVE_LENGTH = "proto: negative length found during unmarshaling"
_MAX_DELIMITER_BYTES = 5  # binary.MaxVarintLen32
_MAX_EXEMPLAR_RUNES = 128  # exemplar.ExemplarMaxLabelSetLength
_LEGACY_METRIC = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LEGACY_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_unpack_double = struct.Struct("<d").unpack_from

# MetricType enum values and Prometheus's model.MetricType words for them.
_COUNTER, _GAUGE, _SUMMARY, _UNTYPED, _HISTOGRAM, _GAUGE_HISTOGRAM = range(6)
_TYPE_WORDS = ("counter", "gauge", "summary", "unknown", "histogram", "gaugehistogram")

# Bounded memos (cleared when full; results never depend on them): a LabelPair's bytes to its
# (name, value) and key fragment; a metric's leading run of label fields to (pairs, joined
# fragments), which lets a repeat scrape of a target skip label decoding; `le`/`quantile` texts.
_LABEL_CACHE: dict[bytes, tuple[tuple[str, str], str]] = {}
_LABEL_CACHE_MAX = 100_000
_LABEL_HEADS: dict[str, str] = {}  # label name -> `name="` (or `"na.me"="`)
_BLOCK_CACHE: dict[bytes, tuple[Labels, str]] = {}
_BLOCK_CACHE_MAX = 100_000
_BOUND_CACHE: dict[float, str] = {}
_BOUND_CACHE_MAX = 10_000
_PADDING = bytes(16)  # after the body, so a lookahead of a byte or two never needs a bounds check
# The C readers of the common shapes (native/native.c `pb_*`); None where the module is not built
# (or predates them): the Python paths below then do all the work, with the same results.
_NATIVE: ModuleType | None = ACCELERATOR if hasattr(ACCELERATOR, "pb_classic") else None


class _Error(Exception):
    """A decode or validation failure: Prometheus's message and the body offset where it was found."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


# Field kinds of the message tables: how gogo's generated Unmarshal reads each field.
_DOUBLE, _UINT64, _INT64, _INT32, _UINT32, _SINT32, _SINT64, _STRING, _MESSAGE, _RAW = range(10)


class _Message:
    """One message type of metrics.proto: its Go name and, by field number, (Go field name, kind,
    repeated, sub-message). `_RAW` fields (Metric.label, MetricFamily.metric) are only located, as
    the streaming decoder does, and decoded later. `fast`, when set, decodes the message with its
    common shapes inline and every other field through `_field`, so its result and errors are the
    generic decoder's."""

    __slots__ = ("fast", "fields", "name")

    def __init__(self, name: str, fields: dict[int, tuple[str, int, bool, "_Message | None"]]) -> None:
        self.name = name
        self.fields = fields
        self.fast: Callable[[bytes, int, int, dict[str, Any]], dict[str, Any]] | None = None


_TIMESTAMP = _Message("Timestamp", {1: ("Seconds", _INT64, False, None), 2: ("Nanos", _INT32, False, None)})
_LABEL_PAIR = _Message("LabelPair", {1: ("Name", _STRING, False, None), 2: ("Value", _STRING, False, None)})
_EXEMPLAR = _Message(
    "Exemplar",
    {
        1: ("Label", _MESSAGE, True, _LABEL_PAIR),
        2: ("Value", _DOUBLE, False, None),
        3: ("Timestamp", _MESSAGE, False, _TIMESTAMP),
    },
)
_GAUGE_MSG = _Message("Gauge", {1: ("Value", _DOUBLE, False, None)})
_UNTYPED_MSG = _Message("Untyped", {1: ("Value", _DOUBLE, False, None)})
_COUNTER_MSG = _Message(
    "Counter",
    {
        1: ("Value", _DOUBLE, False, None),
        2: ("Exemplar", _MESSAGE, False, _EXEMPLAR),
        3: ("CreatedTimestamp", _MESSAGE, False, _TIMESTAMP),
    },
)
_QUANTILE = _Message("Quantile", {1: ("Quantile", _DOUBLE, False, None), 2: ("Value", _DOUBLE, False, None)})
_SUMMARY_MSG = _Message(
    "Summary",
    {
        1: ("SampleCount", _UINT64, False, None),
        2: ("SampleSum", _DOUBLE, False, None),
        3: ("Quantile", _MESSAGE, True, _QUANTILE),
        4: ("CreatedTimestamp", _MESSAGE, False, _TIMESTAMP),
    },
)
_BUCKET = _Message(
    "Bucket",
    {
        1: ("CumulativeCount", _UINT64, False, None),
        4: ("CumulativeCountFloat", _DOUBLE, False, None),
        2: ("UpperBound", _DOUBLE, False, None),
        3: ("Exemplar", _MESSAGE, False, _EXEMPLAR),
    },
)
_SPAN = _Message("BucketSpan", {1: ("Offset", _SINT32, False, None), 2: ("Length", _UINT32, False, None)})
_HISTOGRAM_MSG = _Message(
    "Histogram",
    {
        1: ("SampleCount", _UINT64, False, None),
        4: ("SampleCountFloat", _DOUBLE, False, None),
        2: ("SampleSum", _DOUBLE, False, None),
        3: ("Bucket", _MESSAGE, True, _BUCKET),
        15: ("CreatedTimestamp", _MESSAGE, False, _TIMESTAMP),
        5: ("Schema", _SINT32, False, None),
        6: ("ZeroThreshold", _DOUBLE, False, None),
        7: ("ZeroCount", _UINT64, False, None),
        8: ("ZeroCountFloat", _DOUBLE, False, None),
        9: ("NegativeSpan", _MESSAGE, True, _SPAN),
        10: ("NegativeDelta", _SINT64, True, None),
        11: ("NegativeCount", _DOUBLE, True, None),
        12: ("PositiveSpan", _MESSAGE, True, _SPAN),
        13: ("PositiveDelta", _SINT64, True, None),
        14: ("PositiveCount", _DOUBLE, True, None),
        16: ("Exemplars", _MESSAGE, True, _EXEMPLAR),
    },
)
_METRIC = _Message(
    "Metric",
    {
        1: ("Label", _RAW, True, None),
        2: ("Gauge", _MESSAGE, False, _GAUGE_MSG),
        3: ("Counter", _MESSAGE, False, _COUNTER_MSG),
        4: ("Summary", _MESSAGE, False, _SUMMARY_MSG),
        5: ("Untyped", _MESSAGE, False, _UNTYPED_MSG),
        7: ("Histogram", _MESSAGE, False, _HISTOGRAM_MSG),
        6: ("TimestampMs", _INT64, False, None),
    },
)
_FAMILY = _Message(
    "MetricFamily",
    {
        1: ("Name", _STRING, False, None),
        2: ("Help", _STRING, False, None),
        3: ("Type", _INT32, False, None),
        4: ("Metric", _RAW, True, None),
        5: ("Unit", _STRING, False, None),
    },
)
_VALUE_FIELDS = {_COUNTER: "Counter", _GAUGE: "Gauge", _UNTYPED: "Untyped"}
_VALUE_TAGS = {0x12: "Gauge", 0x1A: "Counter", 0x2A: "Untyped"}
_VALUE_TAG_OF = {field: tag for tag, field in _VALUE_TAGS.items()}
# A native histogram's count, zero count, positive and negative bucket fields, float or integer.
_NATIVE_FIELDS = {
    True: ("SampleCountFloat", "ZeroCountFloat", "PositiveCount", "NegativeCount"),
    False: ("SampleCount", "ZeroCount", "PositiveDelta", "NegativeDelta"),
}


def _int32(value: int) -> int:
    """Go's int32(x) of an integer: its low 32 bits, signed."""
    value &= _U32
    return value - (1 << 32) if value >= 1 << 31 else value


def _int64(value: int) -> int:
    """Go's int64(x) of an integer: its low 64 bits, signed."""
    value &= _U64
    return value - (1 << 64) if value >= 1 << 63 else value


def _varint(data: bytes, i: int, end: int) -> tuple[int, int]:
    """gogo's inline varint loop: (low 64 bits of the value, next index), bounded by the message end."""
    value = 0
    shift = 0
    while True:
        if shift >= 64:
            raise _Error(_INT_OVERFLOW, i)
        if i >= end:
            raise _Error(_UNEXPECTED_EOF, i)
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value & _U64, i
        shift += 7


def _length(data: bytes, i: int, end: int) -> tuple[int, int]:
    """A length prefix read as Go's int: (start, end) of the bytes it covers, checked against `end`."""
    n, i = _varint(data, i, end)
    n = _int64(n)
    if n < 0:
        raise _Error(_NEGATIVE_LENGTH, i)
    post = i + n
    if post > end:
        raise _Error(_NEGATIVE_LENGTH if _int64(post) < 0 else _UNEXPECTED_EOF, i)
    return i, post


def _skip(data: bytes, start: int, end: int) -> int:
    """gogo's skipMetrics from the tag at `start`: the index after the (unknown) field.

    The first tag is never an end group (the callers reject that), so groups always balance here."""
    i = start
    depth = 0
    while i < end:
        tag_start = i
        wire, i = _varint(data, i, end)
        wire_type = wire & 7
        if wire_type == 0:
            _, i = _varint(data, i, end)
        elif wire_type == 1:
            i += 8
        elif wire_type == 2:
            n, i = _varint(data, i, end)
            n = _int64(n)
            if n < 0 or _int64(i + n) < 0:
                raise _Error(_NEGATIVE_LENGTH, i)
            i += n
        elif wire_type == 3:
            depth += 1
        elif wire_type == 4:
            depth -= 1
        elif wire_type == 5:
            i += 4
        else:
            raise _Error(f"proto: illegal wireType {wire_type}", tag_start)
        if depth == 0:
            if i > end:
                raise _Error(_UNEXPECTED_EOF, start)
            return i
    raise _Error(_UNEXPECTED_EOF, i)


def _scalar(kind: int, raw: int) -> int:
    """A varint field's value as its Go type holds it."""
    if kind == _UINT64:
        return raw
    if kind == _INT64:
        return _int64(raw)
    if kind == _INT32:
        return _int32(raw)
    if kind == _UINT32:
        return raw & _U32
    if kind == _SINT32:
        raw &= _U32
        return (raw >> 1) ^ -(raw & 1)
    return (raw >> 1) ^ -(raw & 1)  # _SINT64


def _number(kind: int, data: bytes, i: int, end: int) -> tuple[int | float, int]:
    """A double or varint scalar of `kind` at `i`: (its value, the index after it)."""
    if kind == _DOUBLE:
        if i + 8 > end:
            raise _Error(_UNEXPECTED_EOF, i)
        return _unpack_double(data, i)[0], i + 8
    raw, i = _varint(data, i, end)
    return _scalar(kind, raw), i


def _tag(message: _Message, data: bytes, i: int, end: int) -> tuple[int, int, int, int]:
    """(field number, wire type, full tag value, index after the tag), with gogo's tag checks."""
    b = data[i]
    if b < 0x80:
        wire, after = b, i + 1
    else:
        wire, after = _varint(data, i, end)
    wire_type = wire & 7
    if wire_type == 4:
        raise _Error(f"proto: {message.name}: wiretype end group for non-group", i)
    number = _int32(wire >> 3)
    if number <= 0:
        raise _Error(f"proto: {message.name}: illegal tag {number} (wire type {wire})", i)
    return number, wire_type, wire, after


def _decode(message: _Message, data: bytes, i: int, end: int, out: dict[str, Any]) -> dict[str, Any]:
    """Unmarshal [i, end) into `out` as gogo does, merging into what `out` already holds."""
    if message.fast is not None:
        return message.fast(data, i, end, out)
    while i < end:
        i = _field(message, data, i, end, out)
    return out


def _field(message: _Message, data: bytes, i: int, end: int, out: dict[str, Any]) -> int:
    """Unmarshal the field whose tag is at `i` into `out`; the index after it."""
    start = i
    number, wire_type, _, i = _tag(message, data, i, end)
    field = message.fields.get(number)
    if field is None:
        return _skip(data, start, end)
    name, kind, repeated, sub = field
    if kind in (_MESSAGE, _RAW, _STRING):
        if wire_type != 2:
            raise _Error(f"proto: wrong wireType = {wire_type} for field {name}", start)
        s, i = _length(data, i, end)
        if kind == _STRING:
            out[name] = data[s:i]
        elif kind == _RAW:
            out.setdefault(name, []).append((s, i))
        elif repeated:
            out.setdefault(name, []).append(_decode(sub, data, s, i, {}))  # type: ignore[arg-type]
        else:
            _decode(sub, data, s, i, out.setdefault(name, {}))  # type: ignore[arg-type]
    elif wire_type == 2 and repeated:  # packed
        s, post = _length(data, i, end)
        values = out.setdefault(name, [])
        i = s
        while i < post:  # gogo bounds each element by the message end, not the packed run's
            value, i = _number(kind, data, i, end)
            values.append(value)
    elif wire_type == (1 if kind == _DOUBLE else 0):
        value, i = _number(kind, data, i, end)
        if repeated:
            out.setdefault(name, []).append(value)
        else:
            out[name] = value
    else:
        raise _Error(f"proto: wrong wireType = {wire_type} for field {name}", start)
    return i


def _metric(data: bytes, i: int, end: int, out: dict[str, Any]) -> dict[str, Any]:
    """Metric: labels located, one-double values, timestamp and histogram read inline."""
    labels = out.setdefault("Label", [])
    while i < end:
        tag = data[i]
        if tag == 0x0A:
            n = data[i + 1] if i + 1 < end else 0x80
            if n < 0x80 and i + 2 + n <= end:
                s, j = i + 2, i + 2 + n
            else:
                s, j = _length(data, i + 1, end)
            labels.append((s, j))
            i = j
            continue
        if tag == 0x12 or tag == 0x1A or tag == 0x2A:  # gauge, counter, untyped: {1: double}
            if i + 11 <= end and data[i + 1] == 9 and data[i + 2] == 9:
                out.setdefault(_VALUE_TAGS[tag], {})["Value"] = _unpack_double(data, i + 3)[0]
                i += 11
                continue
        elif tag == 0x30:
            raw, i = _varint(data, i + 1, end)
            out["TimestampMs"] = _int64(raw)
            continue
        elif tag == 0x3A:
            s, j = _length(data, i + 1, end)
            _histogram(data, s, j, out.setdefault("Histogram", {}))
            i = j
            continue
        i = _field(_METRIC, data, i, end, out)
    return out


def _inline(message: _Message, *names: str) -> Callable[[bytes, int, int, dict[str, Any]], dict[str, Any]]:
    """A decoder of `message` that reads the named fields (uint64, double or repeated message, with
    one-byte tags) in place and every other field, or a double cut short, through `_field`: the
    generic decoder's results and errors, without its per-field dispatch on the common shapes."""
    numbers = {field[0]: number for number, field in message.fields.items()}
    varints: dict[int, str] = {}
    doubles: dict[int, str] = {}
    messages: dict[int, tuple[str, _Message]] = {}
    for name in names:
        number = numbers[name]
        _, kind, repeated, sub = message.fields[number]
        if kind == _UINT64 and not repeated:
            varints[number << 3] = name
        elif kind == _DOUBLE and not repeated:
            doubles[number << 3 | 1] = name
        elif kind == _MESSAGE and repeated and sub is not None:
            messages[number << 3 | 2] = (name, sub)
        else:
            raise TypeError(f"{message.name}.{name} has no inline reading")

    def decode(data: bytes, i: int, end: int, out: dict[str, Any]) -> dict[str, Any]:
        while i < end:
            tag = data[i]
            if tag in messages:
                name, sub = messages[tag]
                s, j = _length(data, i + 1, end)
                fast = sub.fast  # called directly, as `_decode` would: one call less per bucket
                out.setdefault(name, []).append(
                    fast(data, s, j, {}) if fast else _decode(sub, data, s, j, {})
                )
                i = j
                continue
            if tag in varints:
                out[varints[tag]], i = _varint(data, i + 1, end)
                continue
            if tag in doubles and i + 9 <= end:
                out[doubles[tag]] = _unpack_double(data, i + 1)[0]
                i += 9
                continue
            i = _field(message, data, i, end, out)
        return out

    return decode


def _family(data: bytes, i: int, end: int, out: dict[str, Any]) -> dict[str, Any]:
    """MetricFamily: metrics located inline."""
    metrics = out.setdefault("Metric", [])
    while i < end:
        if data[i] == 0x22:
            if _NATIVE is not None:
                j = _NATIVE.pb_fields(data, i, end, 0x22, metrics)  # the run of metrics, in C
                if j > i:
                    i = j
                    continue
            s, j = _length(data, i + 1, end)
            metrics.append((s, j))
            i = j
            continue
        i = _field(_FAMILY, data, i, end, out)
    return out


_FAMILY.fast = _family
_METRIC.fast = _metric
_HISTOGRAM_MSG.fast = _histogram = _inline(_HISTOGRAM_MSG, "Bucket", "SampleCount", "SampleSum")
_BUCKET.fast = _inline(_BUCKET, "CumulativeCount", "UpperBound", "CumulativeCountFloat")


def _label_pair(data: bytes, i: int, end: int) -> tuple[str, str]:
    """prompb's parseLabel: name and value of one LabelPair, validated as they are read."""
    name = value = ""
    while i < end:
        start = i
        number, wire_type, _, i = _tag(_LABEL_PAIR, data, i, end)
        if number == 1 or number == 2:
            if wire_type != 2:
                field = "Name" if number == 1 else "Value"
                raise _Error(f"proto: wrong wireType = {wire_type} for field {field}", start)
            s, i = _length(data, i, end)
            try:
                text = data[s:i].decode()
            except UnicodeDecodeError:
                text = ""
                valid = False
            else:
                valid = number == 2 or bool(text)
            if not valid:
                shown = data[s:i].decode(errors="replace")
                what = "name" if number == 1 else "value"
                raise _Error(f"invalid label {what}: {shown}", start)
            if number == 1:
                name = text
            else:
                value = text
        else:
            i = _skip(data, start, end)
    return name, value


def _fragment(name: str, value: str) -> str:
    """`name="value"` as the text format writes it (1.0.0 quoting for a non-legacy name)."""
    head = _LABEL_HEADS.get(name)
    if head is None:
        head = (name if _LEGACY_LABEL.fullmatch(name) else f'"{escape(name)}"') + '="'
        if len(_LABEL_HEADS) >= _LABEL_CACHE_MAX:
            _LABEL_HEADS.clear()
        _LABEL_HEADS[name] = head
    if "\\" in value or '"' in value or "\n" in value:
        value = escape(value)
    return head + value + '"'


def _label(data: bytes, start: int, end: int) -> tuple[tuple[str, str], str]:
    """A LabelPair's (name, value) and key fragment, memoised (bounded) by its exact bytes.

    The usual `0a <n> name 12 <m> value` with valid strings is read directly, anything else by
    `_label_pair`, which also words the errors. `data` must be padded (`_PADDING`)."""
    raw = data[start:end]
    hit = _LABEL_CACHE.get(raw)
    if hit is None:
        pair = None
        n = data[start + 1]
        middle = start + 2 + n
        if (
            data[start] == 0x0A
            and 0 < n < 0x80
            and middle + 2 <= end
            and data[middle] == 0x12
            and middle + 2 + data[middle + 1] == end
        ):
            try:
                pair = (data[start + 2 : middle].decode(), data[middle + 2 : end].decode())
            except UnicodeDecodeError:
                pair = None
        if pair is None:
            pair = _label_pair(data, start, end)
        hit = (pair, _fragment(*pair))
        if len(_LABEL_CACHE) >= _LABEL_CACHE_MAX:
            _LABEL_CACHE.clear()
        _LABEL_CACHE[raw] = hit
    return hit


def _label_block(data: bytes, i: int, end: int) -> tuple[int, tuple[Labels, str]] | None:
    """The leading run of label fields of a metric at `i`: (index after it, (pairs, joined key
    fragments)); None when a label needs the generic decoder (a length over one byte, a label
    that does not parse, whose error must come after the metric's own decoding errors).
    `data` must be padded (`_PADDING`)."""
    get = _LABEL_CACHE.get
    labels = []
    while i < end and data[i] == 0x0A:
        n = data[i + 1]
        j = i + 2 + n
        if n >= 0x80 or j > end:
            return None
        label = get(data[i + 2 : j])
        if label is None:
            try:
                label = _label(data, i + 2, j)
            except _Error:
                return None
        labels.append(label)
        i = j
    if not labels:
        return i, ((), "")
    pairs, fragments = zip(*labels, strict=True)
    return i, (pairs, ",".join(fragments))


def _remember_block(block: bytes, entry: tuple[Labels, str]) -> None:
    """Keep a metric's label block for the repeat-scrape check of `_Parser._values` (bounded)."""
    if len(_BLOCK_CACHE) >= _BLOCK_CACHE_MAX:
        _BLOCK_CACHE.clear()
    _BLOCK_CACHE[block] = entry


def _bound(value: float) -> str:
    """FormatOpenMetricsFloat of a bucket bound or quantile, memoised: they repeat across series."""
    text = _BOUND_CACHE.get(value)
    if text is None:
        text = format_le(value)
        if len(_BOUND_CACHE) >= _BOUND_CACHE_MAX:
            _BOUND_CACHE.clear()
        _BOUND_CACHE[value] = text
    return text


def _trunc_div(n: int, d: int) -> int:
    """Go's integer division (toward zero)."""
    q = abs(n) // d
    return q if n >= 0 else -q


def _timestamp_ms(timestamp: dict[str, Any]) -> int:
    """A google.protobuf.Timestamp in ms as Prometheus computes it (int64 arithmetic)."""
    seconds = timestamp.get("Seconds", 0)
    return _int64(seconds * 1000 + _trunc_div(timestamp.get("Nanos", 0), 1_000_000))


def _start_ms(message: dict[str, Any] | None) -> int | None:
    """The created timestamp of a counter, summary or histogram; None when absent or 0."""
    if not message or "CreatedTimestamp" not in message:
        return None
    return _timestamp_ms(message["CreatedTimestamp"]) or None


def _exemplar(message: dict[str, Any]) -> Exemplar | None:
    """An Exemplar, or None when its labels exceed 128 runes (Prometheus's storage drops it)."""
    labels = tuple(
        (
            pair.get("Name", b"").decode("utf-8", "surrogateescape"),
            pair.get("Value", b"").decode("utf-8", "surrogateescape"),
        )
        for pair in message.get("Label", ())
    )
    if sum(len(name) + len(value) for name, value in labels) > _MAX_EXEMPLAR_RUNES:
        return None
    timestamp = message.get("Timestamp")
    return Exemplar(
        labels, message.get("Value", 0.0), None if timestamp is None else _timestamp_ms(timestamp)
    )


def _spans(spans: list[dict[str, int]]) -> tuple[tuple[int, int], ...]:
    """BucketSpan messages as the model's (offset, length) pairs."""
    return tuple((span.get("Offset", 0), span.get("Length", 0)) for span in spans)


def _is_native(histogram: dict[str, Any]) -> bool:
    """Prometheus's isNativeHistogram: any span, a zero threshold or an integer zero count."""
    return bool(
        histogram.get("PositiveSpan")
        or histogram.get("NegativeSpan")
        or histogram.get("ZeroThreshold", 0.0) > 0
        or histogram.get("ZeroCount", 0) > 0
    )


class _Parser:
    """One parse of one body: the columns being filled and the options of the scrape."""

    def __init__(self, body: bytes, native_histograms: bool, classic_histograms: bool) -> None:
        self.size = len(body)
        self.data = body + _PADDING
        self.native = native_histograms
        self.classic = classic_histograms
        self.keys: list[str] = []
        self.values: list[float] = []
        self.timestamps: list[int | None] = []
        self.series: dict[str, tuple[str, Labels]] = {}
        self.empty_labels: dict[str, frozenset[str]] = {}
        self.metadata: dict[str, Metadata] = {}
        self.exemplars: dict[int, Exemplar] = {}
        self.start_timestamps: dict[int, int] = {}
        self.histograms: list[HistogramSample] = []

    def run(self) -> Exposition:
        error = None
        try:
            self._body()
        except _Error as exc:
            error = ParseError(exc.message, offset=exc.offset)
        return Exposition(
            keys=self.keys,
            values=self.values,
            timestamps=self.timestamps,
            series=self.series,
            metadata=self.metadata,
            error=error,
            empty_labels=self.empty_labels,
            exemplars=self.exemplars,
            start_timestamps=self.start_timestamps,
            histograms=self.histograms,
        )

    def _body(self) -> None:
        """Each `[uvarint length][MetricFamily]`, as MetricStreamingDecoder.NextMetricFamily reads it."""
        data = self.data
        size = self.size
        position = 0
        while position < size:
            length = 0
            width = 0
            while width < _MAX_DELIMITER_BYTES and position + width < size:
                b = data[position + width]
                length |= (b & 0x7F) << (7 * width)
                width += 1
                if b < 0x80:
                    break
            else:
                raise _Error("clientpb: invalid varint encountered", position)
            total = width + length
            if total > size - position:
                raise _Error(
                    f"clientpb: insufficient length of buffer, expected at least {total} bytes, "
                    f"got {size - position} bytes",
                    position,
                )
            self._family(position, position + width, position + total)
            position += total

    def _family(self, offset: int, start: int, end: int) -> None:
        """One MetricFamily: checked after its first metric decoded, then its samples in order."""
        data = self.data
        family = _decode(_FAMILY, data, start, end, {})
        ranges = family.get("Metric")
        if not ranges:
            return
        first = _decode(_METRIC, data, *ranges[0], {})
        name_bytes = family.get("Name", b"")
        try:
            name = name_bytes.decode()
        except UnicodeDecodeError:
            name = ""
        if not name:
            raise _Error(f"invalid metric name: {name_bytes.decode(errors='replace')}", offset)
        help_bytes = family.get("Help", b"")
        try:
            help_text = help_bytes.decode()
        except UnicodeDecodeError:
            raise _Error(
                f"invalid help for metric {go_quote(name)}: {help_bytes.decode(errors='replace')}", offset
            ) from None
        kind = family.get("Type", 0)
        if not 0 <= kind < len(_TYPE_WORDS):
            raise _Error(f"unknown metric type for metric {go_quote(name)}: {kind}", offset)
        unit = family.get("Unit", b"")
        if unit:
            _check_unit(name_bytes, unit, kind, offset)
        self.metadata[name] = Metadata(
            _TYPE_WORDS[kind], help_text or None, unit.decode("utf-8", "surrogateescape") or None
        )
        if kind == _SUMMARY:
            self._summaries(_Name(name), _metrics(data, first, ranges))
        elif kind in (_HISTOGRAM, _GAUGE_HISTOGRAM):
            native = self.native and _is_native(first.get("Histogram", {}))
            self._histograms(_Name(name), first, ranges, native)
        else:
            self._values(_Name(name), first, ranges, _VALUE_FIELDS[kind])

    def _labels(self, metric: dict[str, Any]) -> tuple[Labels, str]:
        """The label pairs of a decoded metric and their key fragments joined."""
        ranges = metric.get("Label", ())
        if ranges:
            found = _label_block(self.data, ranges[0][0] - 2, ranges[-1][1])
            if found is not None and found[0] == ranges[-1][1]:  # labels contiguous, as usual
                return found[1]
        data = self.data
        get = _LABEL_CACHE.get
        labels = [get(data[s:e]) or _label(data, s, e) for s, e in ranges]
        return tuple([label[0] for label in labels]), ",".join([label[1] for label in labels])

    def _values(
        self, name: "_Name", first: dict[str, Any], ranges: list[tuple[int, int]], field: str
    ) -> None:
        """Counter, gauge and untyped metrics, one sample each: the hot path of most bodies.

        A metric of the common shape (labels first, then one-double values and a timestamp) is
        read in place, without building its dicts: in C when it is built, else below; any other
        shape, or a label that does not parse, goes through the generic decoder, whose results and
        errors are the reference.
        """
        data = self.data
        tag = _VALUE_TAG_OF[field]
        if _NATIVE is not None:
            parts = name.parts
            index = 0
            while index < len(ranges):
                index = _NATIVE.pb_values(
                    data, ranges, index, parts, tag, self.keys, self.values, self.timestamps, self.series
                )
                if index < len(ranges):  # a metric of another shape
                    metric = first if index == 0 else _decode(_METRIC, data, *ranges[index], {})
                    self._value_metric(name, metric, field)
                    index += 1
            return
        self._value_metric(name, first, field)
        keys = self.keys
        values = self.values
        timestamps = self.timestamps
        series = self.series
        blocks = _BLOCK_CACHE
        for start, end in ranges[1:]:
            # A repeat scrape: labels then one value field, the label block known to the cache
            # (so proven to be exactly a run of label fields, and the value field the rest).
            byte = data[end - 11]
            if byte in _VALUE_TAGS and data[end - 10] == 9 == data[end - 9] and end - 11 >= start:
                cut = end - 11
            elif data[end - 1] == 0 and data[end - 2] in _VALUE_TAGS and end - 2 >= start:
                cut = end - 2  # an empty value message: 0
            else:
                cut = -1
            if cut >= 0:
                entry = blocks.get(data[start:cut])
                if entry is not None:
                    pairs, joined = entry
                    key = name.key(joined)
                    keys.append(key)
                    values.append(
                        _unpack_double(data, end - 8)[0] if byte == tag and cut == end - 11 else 0.0
                    )
                    timestamps.append(None)
                    if key not in series:
                        self._series(key, name.text, pairs, joined)
                    continue
            found = _label_block(data, start, end)
            if found is not None:
                i, entry = found
                pairs, joined = entry
                if i == cut:
                    _remember_block(data[start:i], entry)
                value = 0.0
                timestamp = None
                while i < end:
                    byte = data[i]
                    if byte == 0x30:
                        raw, i = _varint(data, i + 1, end)
                        timestamp = _int64(raw) or None
                    elif byte == 0x12 or byte == 0x1A or byte == 0x2A:
                        n = data[i + 1]
                        if n == 0 and i + 2 <= end:  # an empty message (proto3 writes 0 so): nothing to merge
                            i += 2
                        elif n == 9 and data[i + 2] == 9 and i + 11 <= end:
                            if byte == tag:
                                value = _unpack_double(data, i + 3)[0]
                            i += 11
                        else:
                            break
                    else:
                        break
                else:
                    key = name.key(joined)
                    keys.append(key)
                    values.append(value)
                    timestamps.append(timestamp)
                    if key not in series:
                        self._series(key, name.text, pairs, joined)
                    continue
            self._value_metric(name, _decode(_METRIC, data, start, end, {}), field)

    def _value_metric(self, name: "_Name", metric: dict[str, Any], field: str) -> None:
        """One counter, gauge or untyped metric from its decoded fields."""
        pairs, joined = self._labels(metric)
        body = metric.get(field) or {}
        exemplar = _exemplar(body["Exemplar"]) if "Exemplar" in body else None
        timestamp = metric.get("TimestampMs") or None
        self._sample(
            name.key(joined),
            name.text,
            pairs,
            joined,
            body.get("Value", 0.0),
            timestamp,
            _start_ms(body),
            exemplar,
        )

    def _sample(
        self,
        key: str,
        name: str,
        pairs: Labels,
        joined: str,
        value: float,
        timestamp: int | None,
        start: int | None,
        exemplar: Exemplar | None = None,
    ) -> None:
        index = len(self.keys)
        self.keys.append(key)
        self.values.append(value)
        self.timestamps.append(timestamp)
        if key not in self.series:
            self._series(key, name, pairs, joined)
        if start is not None:
            self.start_timestamps[index] = start
        if exemplar is not None:
            self.exemplars[index] = exemplar

    def _series(self, key: str, name: str, pairs: Labels, joined: str) -> None:
        """The `series` entry of a new key: empty values mean absent labels, recorded by name."""
        if '=""' not in joined:  # an empty value always writes `=""`: the common case skips the check
            self.series[key] = (name, pairs)
            return
        empty = frozenset([label for label, value in pairs if not value])
        if not empty:
            self.series[key] = (name, pairs)
            return
        self.empty_labels[key] = empty
        if "__name__" in empty:
            name = ""
        self.series[key] = (name, tuple([pair for pair in pairs if pair[0] not in empty]))

    def _summaries(self, name: "_Name", metrics: Iterator[dict[str, Any]]) -> None:
        count, total = name.suffixed("_count"), name.suffixed("_sum")
        for metric in metrics:
            pairs, joined = self._labels(metric)
            timestamp = metric.get("TimestampMs") or None
            summary = metric.get("Summary", {})
            start = _start_ms(summary)
            count_value = float(summary.get("SampleCount", 0))
            self._sample(count.key(joined), count.text, pairs, joined, count_value, timestamp, start)
            self._sample(
                total.key(joined), total.text, pairs, joined, summary.get("SampleSum", 0.0), timestamp, start
            )
            head = f"{joined}," if joined else ""
            for quantile in summary.get("Quantile", ()):
                label = _bound(quantile.get("Quantile", 0.0))
                labels = f'{head}quantile="{label}"'
                value = quantile.get("Value", 0.0)
                self._sample(
                    name.key(labels),
                    name.text,
                    (*pairs, ("quantile", label)),
                    labels,
                    value,
                    timestamp,
                    start,
                )

    def _histograms(
        self, name: "_Name", first: dict[str, Any], ranges: list[tuple[int, int]], native: bool
    ) -> None:
        """Histogram and gauge histogram metrics, native or classic as Prometheus decides per family.

        While metrics are read as classic, those of the common shape (no exemplar, created
        timestamp or native field: they stay classic) are read in C when it is built."""
        names = (name.suffixed("_count"), name.suffixed("_sum"), name.suffixed("_bucket"))
        parts = tuple(suffixed.parts for suffixed in names)
        data = self.data
        index = 0
        while index < len(ranges):
            if not native and _NATIVE is not None:
                index = _NATIVE.pb_classic(
                    data, ranges, index, parts, self.keys, self.values, self.timestamps, self.series, _bound
                )
                if index == len(ranges):
                    return
            metric = first if index == 0 else _decode(_METRIC, data, *ranges[index], {})
            index += 1
            pairs, joined = self._labels(metric)
            timestamp = metric.get("TimestampMs") or None
            histogram = metric.get("Histogram", {})
            if native:
                self._native(name, pairs, joined, histogram, timestamp)
                if not (self.classic and histogram.get("Bucket")):
                    continue
            self._classic(names, pairs, joined, histogram, timestamp)
            native = self.native and _is_native(histogram)

    def _classic(
        self,
        names: tuple["_Name", "_Name", "_Name"],
        pairs: Labels,
        joined: str,
        histogram: dict[str, Any],
        timestamp: int | None,
    ) -> None:
        count_name, sum_name, bucket_name = names
        start = _start_ms(histogram)
        count = histogram.get("SampleCountFloat", 0.0) or float(histogram.get("SampleCount", 0))
        self._sample(count_name.key(joined), count_name.text, pairs, joined, count, timestamp, start)
        total = histogram.get("SampleSum", 0.0)
        self._sample(sum_name.key(joined), sum_name.text, pairs, joined, total, timestamp, start)
        before = bucket_name.key(f'{joined},le="' if joined else 'le="')[:-1]  # `h_bucket{a="1",le="`
        keys = self.keys
        values = self.values
        timestamps = self.timestamps
        series = self.series
        plain = '=""' not in joined  # no empty label value: the series entry needs no filtering
        text = bucket_name.text
        bound_text = _BOUND_CACHE.get
        for bucket in histogram.get("Bucket", ()):
            bound = bucket.get("UpperBound", 0.0)
            label = bound_text(bound) or _bound(bound)
            key = f'{before}{label}"}}'
            if start is not None or "Exemplar" in bucket:
                if start is not None:
                    self.start_timestamps[len(keys)] = start
                exemplar = _exemplar(bucket["Exemplar"]) if "Exemplar" in bucket else None
                if exemplar is not None:
                    self.exemplars[len(keys)] = exemplar
            keys.append(key)
            values.append(bucket.get("CumulativeCountFloat", 0.0) or float(bucket.get("CumulativeCount", 0)))
            timestamps.append(timestamp)
            if key not in series:
                if plain:
                    series[key] = (text, (*pairs, ("le", label)))
                else:
                    self._series(key, text, (*pairs, ("le", label)), joined)
            if bound == math.inf:
                return
        key = f'{before}+Inf"}}'
        self._sample(key, bucket_name.text, (*pairs, ("le", "+Inf")), joined, count, timestamp, start)

    def _native(
        self, name: "_Name", pairs: Labels, joined: str, histogram: dict[str, Any], timestamp: int | None
    ) -> None:
        is_float = histogram.get("SampleCountFloat", 0.0) > 0 or histogram.get("ZeroCountFloat", 0.0) > 0
        count, zero_count, positive, negative = _NATIVE_FIELDS[is_float]
        zero = 0.0 if is_float else 0
        sample = compact(
            NativeHistogram(
                schema=histogram.get("Schema", 0),
                zero_threshold=histogram.get("ZeroThreshold", 0.0),
                count=histogram.get(count, zero),
                sum=histogram.get("SampleSum", 0.0),
                zero_count=histogram.get(zero_count, zero),
                positive_spans=_spans(histogram.get("PositiveSpan", ())),
                positive_buckets=tuple(histogram.get(positive, ())),
                negative_spans=_spans(histogram.get("NegativeSpan", ())),
                negative_buckets=tuple(histogram.get(negative, ())),
                is_float=is_float,
            ),
            0,
        )
        sources = histogram.get("Exemplars") or [
            bucket["Exemplar"] for bucket in histogram.get("Bucket", ()) if "Exemplar" in bucket
        ]
        exemplars = tuple(
            exemplar
            for exemplar in map(_exemplar, (source for source in sources if "Timestamp" in source))
            if exemplar is not None
        )
        key = name.key(joined)
        if key not in self.series:
            self._series(key, name.text, pairs, joined)
        self.histograms.append(HistogramSample(key, sample, timestamp, exemplars, _start_ms(histogram)))


class _Name:
    """A metric name and how keys start with it: `name{...}`, or `{"na.me",...}` outside the legacy set."""

    __slots__ = ("head", "legacy", "text")

    def __init__(self, text: str, head: str | None = None) -> None:
        self.text = text
        self.legacy = head is None and bool(_LEGACY_METRIC.fullmatch(text))
        self.head = head if head is not None else text if self.legacy else f'"{escape(text)}"'

    @property
    def parts(self) -> tuple[str, str, str]:
        """(text, key up to the labels, key without labels): the name as the C readers take it."""
        if self.legacy:
            return self.text, f"{self.head}{{", self.head
        return self.text, f"{{{self.head},", f"{{{self.head}}}"

    def suffixed(self, suffix: str) -> "_Name":
        """`name_count` and the like: the suffix keeps the name legacy or not."""
        if self.legacy:
            return _Name(self.text + suffix)
        return _Name(self.text + suffix, f'{self.head[:-1]}{suffix}"')

    def key(self, labels: str) -> str:
        """The series text for these joined label fragments."""
        if self.legacy:
            return f"{self.head}{{{labels}}}" if labels else self.head
        return f"{{{self.head},{labels}}}" if labels else f"{{{self.head}}}"


def _metrics(data: bytes, first: dict[str, Any], ranges: list[tuple[int, int]]) -> Iterator[dict[str, Any]]:
    """The metrics of a family, each decoded only once the previous one's samples are out."""
    yield first
    for start, end in ranges[1:]:
        yield _decode(_METRIC, data, start, end, {})


def _check_unit(name: bytes, unit: bytes, kind: int, offset: int) -> None:
    """Prometheus's unit rule: the family name ends in `_<unit>` (before `_total` for counters)."""
    counter = kind == _COUNTER and name.endswith(b"_total")
    if not (name[:-6] if counter else name).endswith(b"_" + unit):
        what = "counter" if counter else "metric"
        raise _Error(f"unit {go_quote(unit)} not a suffix of {what} {go_quote(name)}", offset)


def parse_protobuf(
    body: bytes, *, native_histograms: bool = False, classic_histograms: bool = False
) -> Exposition:
    """Parse a delimited MetricFamily body; never raises for bad input (see `Exposition.error`).

    `native_histograms` is the scrape's `scrape_native_histograms` (off: every histogram is read
    as classic); `classic_histograms` its `always_scrape_classic_histograms` (a native histogram
    with buckets also gives its classic samples).
    """
    return _Parser(body, native_histograms, classic_histograms).run()


class ProtobufParser:
    """The Parser for `application/vnd.google.protobuf` bodies (what `exposition.new()` should return)."""

    media_type = "application/vnd.google.protobuf"

    def __init__(
        self, body: bytes, native_histograms: bool = False, classic_histograms: bool = False
    ) -> None:
        self._body = body
        self._native = native_histograms
        self._classic = classic_histograms

    def parse(self) -> Exposition:
        return parse_protobuf(self._body, native_histograms=self._native, classic_histograms=self._classic)
