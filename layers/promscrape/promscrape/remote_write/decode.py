"""An independent decoder of remote write 1.0 (`prometheus.WriteRequest`) and 2.0
(`io.prometheus.write.v2.Request`).

Built on the `protobuf` package with the schemas of Prometheus's prompb/types.proto, remote.proto
and prompb/io/prometheus/write/v2/types.proto declared here in code (no generated module, no
shared code with our encoder), so tests and the built-in receiver check our hand-written encoders
against a real protobuf implementation.
"""

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import cramjam
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from promscrape.exposition.model import NativeHistogram
from promscrape.gostring import go_quote

_PACKAGE = "prometheus"
_PACKAGE_V2 = "io.prometheus.write.v2"
_F = descriptor_pb2.FieldDescriptorProto
_OPTIONAL = _F.LABEL_OPTIONAL
_REPEATED = _F.LABEL_REPEATED


@dataclass
class DecodedSample:
    """A sample as received; `value_bits` is the IEEE-754 bit pattern (stale markers survive)."""

    value: float
    timestamp: int
    start_timestamp: int = 0

    @property
    def value_bits(self) -> int:
        """The exact 64 bits of value (NaN payloads included)."""
        return int(struct.unpack("<Q", struct.pack("<d", self.value))[0])


@dataclass
class DecodedExemplar:
    """An exemplar as received: labels in wire order, timestamp 0 when none."""

    labels: list[tuple[str, str]]
    value: float
    timestamp: int


@dataclass
class DecodedHistogram:
    """A native histogram sample as received, in the exposition model's terms.

    Integer histograms (count_int, or no count at all, as Prometheus's IsFloatHistogram decides)
    keep bucket deltas, float ones absolute counts.
    """

    histogram: NativeHistogram
    timestamp: int
    reset_hint: int
    start_timestamp: int = 0


@dataclass
class DecodedMetadata:
    """1.0 MetricMetadata (with its family) or a 2.0 series' Metadata (family ""), strings resolved."""

    type: int
    family: str
    help: str
    unit: str


@dataclass
class DecodedSeries:
    """One TimeSeries: labels as (name, value) pairs in wire order, samples in wire order.

    2.0 series also carry their metadata (always present on the wire, all zero when unknown).
    """

    labels: list[tuple[str, str]]
    samples: list[DecodedSample] = field(default_factory=list)
    histogram_count: int = 0
    exemplar_count: int = 0
    exemplars: list[DecodedExemplar] = field(default_factory=list)
    histograms: list[DecodedHistogram] = field(default_factory=list)
    metadata: DecodedMetadata | None = None

    @property
    def label_dict(self) -> dict[str, str]:
        """Labels as a dict (duplicates: the last wins; check `labels` to see them)."""
        return dict(self.labels)


def _field(
    name: str,
    number: int,
    kind: int,
    label: int = _OPTIONAL,
    type_name: str = "",
    oneof: int | None = None,
    package: str = _PACKAGE,
) -> descriptor_pb2.FieldDescriptorProto:
    """A field of the in-code schema."""
    proto = _F(name=name, number=number, type=kind, label=label)  # type: ignore[arg-type]
    if type_name:
        proto.type_name = f".{package}.{type_name}"
    if oneof is not None:
        proto.oneof_index = oneof
    return proto


def _message(
    name: str, fields: list[descriptor_pb2.FieldDescriptorProto], oneofs: tuple[str, ...] = ()
) -> descriptor_pb2.DescriptorProto:
    """A message of the in-code schema."""
    message = descriptor_pb2.DescriptorProto(name=name, field=fields)
    for oneof in oneofs:
        message.oneof_decl.add(name=oneof)
    return message


def _enum(message: descriptor_pb2.DescriptorProto, name: str, values: Sequence[str]) -> None:
    """An enum nested in `message`, its values numbered from 0 in order."""
    message.enum_type.add(name=name).value.extend(
        descriptor_pb2.EnumValueDescriptorProto(name=value, number=i) for i, value in enumerate(values)
    )


def _histogram_messages(package: str) -> list[descriptor_pb2.DescriptorProto]:
    """BucketSpan and Histogram: the same fields in 1.0 and 2.0, plus 2.0's start_timestamp (17)."""
    f = _F
    bucket_span = _message(
        "BucketSpan", [_field("offset", 1, f.TYPE_SINT32), _field("length", 2, f.TYPE_UINT32)]
    )
    fields = [
        _field("count_int", 1, f.TYPE_UINT64, oneof=0),
        _field("count_float", 2, f.TYPE_DOUBLE, oneof=0),
        _field("sum", 3, f.TYPE_DOUBLE),
        _field("schema", 4, f.TYPE_SINT32),
        _field("zero_threshold", 5, f.TYPE_DOUBLE),
        _field("zero_count_int", 6, f.TYPE_UINT64, oneof=1),
        _field("zero_count_float", 7, f.TYPE_DOUBLE, oneof=1),
        _field("negative_spans", 8, f.TYPE_MESSAGE, _REPEATED, "BucketSpan", package=package),
        _field("negative_deltas", 9, f.TYPE_SINT64, _REPEATED),
        _field("negative_counts", 10, f.TYPE_DOUBLE, _REPEATED),
        _field("positive_spans", 11, f.TYPE_MESSAGE, _REPEATED, "BucketSpan", package=package),
        _field("positive_deltas", 12, f.TYPE_SINT64, _REPEATED),
        _field("positive_counts", 13, f.TYPE_DOUBLE, _REPEATED),
        _field("reset_hint", 14, f.TYPE_ENUM, type_name="Histogram.ResetHint", package=package),
        _field("timestamp", 15, f.TYPE_INT64),
        _field("custom_values", 16, f.TYPE_DOUBLE, _REPEATED),
    ]
    hints = ("UNKNOWN", "YES", "NO", "GAUGE")
    if package == _PACKAGE_V2:
        fields.append(_field("start_timestamp", 17, f.TYPE_INT64))
        hints = tuple(f"RESET_HINT_{name}" for name in ("UNSPECIFIED", *hints[1:]))
    histogram = _message("Histogram", fields, oneofs=("count", "zero_count"))
    _enum(histogram, "ResetHint", hints)
    return [bucket_span, histogram]


_METRIC_TYPES = ("COUNTER", "GAUGE", "HISTOGRAM", "GAUGEHISTOGRAM", "SUMMARY", "INFO", "STATESET")


def _file() -> descriptor_pb2.FileDescriptorProto:
    """prompb's types.proto + remote.proto (WriteRequest part), as proto3."""
    f = _F
    label = _message("Label", [_field("name", 1, f.TYPE_STRING), _field("value", 2, f.TYPE_STRING)])
    sample = _message("Sample", [_field("value", 1, f.TYPE_DOUBLE), _field("timestamp", 2, f.TYPE_INT64)])
    exemplar = _message(
        "Exemplar",
        [
            _field("labels", 1, f.TYPE_MESSAGE, _REPEATED, "Label"),
            _field("value", 2, f.TYPE_DOUBLE),
            _field("timestamp", 3, f.TYPE_INT64),
        ],
    )
    timeseries = _message(
        "TimeSeries",
        [
            _field("labels", 1, f.TYPE_MESSAGE, _REPEATED, "Label"),
            _field("samples", 2, f.TYPE_MESSAGE, _REPEATED, "Sample"),
            _field("exemplars", 3, f.TYPE_MESSAGE, _REPEATED, "Exemplar"),
            _field("histograms", 4, f.TYPE_MESSAGE, _REPEATED, "Histogram"),
        ],
    )
    metadata = _message(
        "MetricMetadata",
        [
            _field("type", 1, f.TYPE_ENUM, type_name="MetricMetadata.MetricType"),
            _field("metric_family_name", 2, f.TYPE_STRING),
            _field("help", 4, f.TYPE_STRING),
            _field("unit", 5, f.TYPE_STRING),
        ],
    )
    _enum(metadata, "MetricType", ("UNKNOWN", *_METRIC_TYPES))
    write_request = _message(
        "WriteRequest",
        [
            _field("timeseries", 1, f.TYPE_MESSAGE, _REPEATED, "TimeSeries"),
            _field("metadata", 3, f.TYPE_MESSAGE, _REPEATED, "MetricMetadata"),
        ],
    )
    return descriptor_pb2.FileDescriptorProto(
        name="promscrape/decode/prompb_remote_write_v1.proto",
        package=_PACKAGE,
        syntax="proto3",
        message_type=[
            label,
            sample,
            exemplar,
            *_histogram_messages(_PACKAGE),
            timeseries,
            metadata,
            write_request,
        ],
    )


def _file_v2() -> descriptor_pb2.FileDescriptorProto:
    """prompb/io/prometheus/write/v2/types.proto, as proto3 (Sample and Histogram with start_timestamp)."""
    f = _F
    v2 = _PACKAGE_V2
    sample = _message(
        "Sample",
        [
            _field("value", 1, f.TYPE_DOUBLE),
            _field("timestamp", 2, f.TYPE_INT64),
            _field("start_timestamp", 3, f.TYPE_INT64),
        ],
    )
    exemplar = _message(
        "Exemplar",
        [
            _field("labels_refs", 1, f.TYPE_UINT32, _REPEATED),
            _field("value", 2, f.TYPE_DOUBLE),
            _field("timestamp", 3, f.TYPE_INT64),
        ],
    )
    metadata = _message(
        "Metadata",
        [
            _field("type", 1, f.TYPE_ENUM, type_name="Metadata.MetricType", package=v2),
            _field("help_ref", 3, f.TYPE_UINT32),
            _field("unit_ref", 4, f.TYPE_UINT32),
        ],
    )
    _enum(metadata, "MetricType", [f"METRIC_TYPE_{n}" for n in ("UNSPECIFIED", *_METRIC_TYPES)])
    timeseries = _message(
        "TimeSeries",
        [
            _field("labels_refs", 1, f.TYPE_UINT32, _REPEATED),
            _field("samples", 2, f.TYPE_MESSAGE, _REPEATED, "Sample", package=v2),
            _field("histograms", 3, f.TYPE_MESSAGE, _REPEATED, "Histogram", package=v2),
            _field("exemplars", 4, f.TYPE_MESSAGE, _REPEATED, "Exemplar", package=v2),
            _field("metadata", 5, f.TYPE_MESSAGE, type_name="Metadata", package=v2),
        ],
    )
    request = _message(
        "Request",
        [
            _field("symbols", 4, f.TYPE_STRING, _REPEATED),
            _field("timeseries", 5, f.TYPE_MESSAGE, _REPEATED, "TimeSeries", package=v2),
        ],
    )
    return descriptor_pb2.FileDescriptorProto(
        name="promscrape/decode/prompb_remote_write_v2.proto",
        package=v2,
        syntax="proto3",
        message_type=[sample, exemplar, metadata, *_histogram_messages(v2), timeseries, request],
    )


def _message_class(file: descriptor_pb2.FileDescriptorProto, name: str) -> Any:
    """The class of message `name` of an in-code schema, in a private descriptor pool."""
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{file.package}.{name}"))


def _parse(message_class: Any, body: bytes, compressed: bool) -> Any:
    """A body (snappy block format unless compressed=False) parsed as `message_class`."""
    message = message_class()
    message.ParseFromString(bytes(cramjam.snappy.decompress_raw(body)) if compressed else body)
    return message


@cache
def write_request_class() -> Any:
    """The WriteRequest message class, built once."""
    return _message_class(_file(), "WriteRequest")


def parse_write_request(body: bytes, compressed: bool = True) -> Any:
    """The raw protobuf WriteRequest message (for metadata, histograms, exemplars)."""
    return _parse(write_request_class(), body, compressed)


def _histogram(message: Any) -> NativeHistogram:
    """A Histogram message (1.0 or 2.0) in the exposition model's terms."""
    is_float = message.WhichOneof("count") == "count_float"
    return NativeHistogram(
        schema=message.schema,
        zero_threshold=message.zero_threshold,
        count=message.count_float if is_float else message.count_int,
        sum=message.sum,
        zero_count=message.zero_count_float if is_float else message.zero_count_int,
        positive_spans=tuple((span.offset, span.length) for span in message.positive_spans),
        positive_buckets=tuple(message.positive_counts if is_float else message.positive_deltas),
        negative_spans=tuple((span.offset, span.length) for span in message.negative_spans),
        negative_buckets=tuple(message.negative_counts if is_float else message.negative_deltas),
        is_float=is_float,
        custom_values=tuple(message.custom_values),
    )


def _decoded_histogram(message: Any, v2: bool = False) -> DecodedHistogram:
    """A Histogram message with its timestamps and reset hint."""
    start = message.start_timestamp if v2 else 0
    return DecodedHistogram(_histogram(message), message.timestamp, message.reset_hint, start)


def decode_write_request(body: bytes, compressed: bool = True) -> list[DecodedSeries]:
    """Decode a WriteRequest body (snappy block format unless compressed=False)."""
    return [
        DecodedSeries(
            labels=[(label.name, label.value) for label in ts.labels],
            samples=[DecodedSample(sample.value, sample.timestamp) for sample in ts.samples],
            histogram_count=len(ts.histograms),
            exemplar_count=len(ts.exemplars),
            exemplars=[
                DecodedExemplar([(label.name, label.value) for label in e.labels], e.value, e.timestamp)
                for e in ts.exemplars
            ],
            histograms=[_decoded_histogram(h) for h in ts.histograms],
        )
        for ts in parse_write_request(body, compressed).timeseries
    ]


def decode_metadata(body: bytes, compressed: bool = True) -> list[DecodedMetadata]:
    """The MetricMetadata entries of a WriteRequest body, in wire order."""
    return [
        DecodedMetadata(m.type, m.metric_family_name, m.help, m.unit)
        for m in parse_write_request(body, compressed).metadata
    ]


@cache
def request_v2_class() -> Any:
    """The io.prometheus.write.v2.Request message class, built once."""
    return _message_class(_file_v2(), "Request")


def parse_request_v2(body: bytes, compressed: bool = True) -> Any:
    """The raw protobuf 2.0 Request message (symbols unresolved)."""
    return _parse(request_v2_class(), body, compressed)


def _resolve(symbols: Sequence[str], ref: int, what: str) -> str:
    """symbols[ref], or ValueError naming what referred out of range."""
    if ref >= len(symbols):
        raise ValueError(f"{what} refers to symbol {ref}, beyond the {len(symbols)} symbols")
    return symbols[ref]


def _labels(symbols: Sequence[str], refs: Sequence[int], what: str) -> list[tuple[str, str]]:
    """name/value reference pairs resolved; ValueError on an odd count or a reference out of range."""
    if len(refs) % 2:
        raise ValueError(f"{what} has an odd number ({len(refs)}) of label references")
    return [
        (_resolve(symbols, refs[i], what), _resolve(symbols, refs[i + 1], what))
        for i in range(0, len(refs), 2)
    ]


def _text(labels: list[tuple[str, str]]) -> str:
    """Labels as Prometheus's labels.String() shows them, sorted, values quoted."""
    return "{" + ", ".join(f"{name}={go_quote(value)}" for name, value in sorted(labels)) + "}"


def decode_request_v2(body: bytes, compressed: bool = True) -> list[DecodedSeries]:
    """Decode a 2.0 Request body (snappy block format unless compressed=False), symbols resolved.

    ValueError when the symbols do not start with "" (the spec's MUST), a labels_refs list is odd,
    a reference is out of range or a series has neither samples nor histograms: Prometheus's
    receiver answers those with 400.
    """
    message = parse_request_v2(body, compressed)
    symbols = list(message.symbols)
    if message.timeseries and (not symbols or symbols[0] != ""):
        raise ValueError("symbols must start with the empty string")
    decoded: list[DecodedSeries] = []
    for index, ts in enumerate(message.timeseries):
        what = f"timeseries[{index}]"
        meta = ts.metadata
        labels = _labels(symbols, ts.labels_refs, what)
        if not ts.samples and not ts.histograms:
            raise ValueError(
                f"TimeSeries must contain at least one sample or histogram for series {_text(labels)}"
            )
        decoded.append(
            DecodedSeries(
                labels=labels,
                samples=[DecodedSample(s.value, s.timestamp, s.start_timestamp) for s in ts.samples],
                histogram_count=len(ts.histograms),
                exemplar_count=len(ts.exemplars),
                exemplars=[
                    DecodedExemplar(_labels(symbols, e.labels_refs, f"{what} exemplar"), e.value, e.timestamp)
                    for e in ts.exemplars
                ],
                histograms=[_decoded_histogram(h, v2=True) for h in ts.histograms],
                metadata=DecodedMetadata(
                    meta.type,
                    "",
                    _resolve(symbols, meta.help_ref, f"{what} help"),
                    _resolve(symbols, meta.unit_ref, f"{what} unit"),
                ),
            )
        )
    return decoded


APP_PROTOBUF = "application/x-protobuf"
PROTO_V1 = "prometheus.WriteRequest"
PROTO_V2 = "io.prometheus.write.v2.Request"


def proto_message(content_type: str) -> str:
    """The message a request's Content-Type names, as Prometheus's receiver reads it: PROTO_V1 or
    PROTO_V2 (no `proto=` parameter, or no Content-Type at all, is 1.0). ValueError with its
    words otherwise, which it answers with 415."""
    content_type = content_type.strip() or APP_PROTOBUF
    parts = content_type.split(";")
    if parts[0] != APP_PROTOBUF:
        raise ValueError(
            f"expected {APP_PROTOBUF} as the first (media) part, got {content_type} content-type"
        )
    for part in parts[1:]:
        pair = part.split("=")
        if len(pair) != 2:
            raise ValueError(
                "as per https://www.rfc-editor.org/rfc/rfc9110#parameter expected parameters to be "
                f"key-values, got {part} in {content_type} content-type"
            )
        if pair[0] == "proto":
            if pair[1] not in (PROTO_V1, PROTO_V2):
                raise ValueError(
                    f"got {content_type} content type; unknown remote write protobuf message {pair[1]}, "
                    f"supported: {PROTO_V1}, {PROTO_V2}"
                )
            return pair[1]
    return PROTO_V1
