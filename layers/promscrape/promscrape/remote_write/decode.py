"""An independent decoder of remote write 1.0 (`prometheus.WriteRequest`).

Built on the `protobuf` package with the schema of Prometheus's prompb/types.proto and remote.proto
declared here in code (no generated module, no shared code with our encoder), so tests and the
built-in receiver check our hand-written encoder against a real protobuf implementation.
"""

import struct
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import cramjam
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

_PACKAGE = "prometheus"
_F = descriptor_pb2.FieldDescriptorProto
_OPTIONAL = _F.LABEL_OPTIONAL
_REPEATED = _F.LABEL_REPEATED


@dataclass
class DecodedSample:
    """A sample as received; `value_bits` is the IEEE-754 bit pattern (stale markers survive)."""

    value: float
    timestamp: int

    @property
    def value_bits(self) -> int:
        """The exact 64 bits of value (NaN payloads included)."""
        return int(struct.unpack("<Q", struct.pack("<d", self.value))[0])


@dataclass
class DecodedSeries:
    """One TimeSeries: labels as (name, value) pairs in wire order, samples in wire order."""

    labels: list[tuple[str, str]]
    samples: list[DecodedSample] = field(default_factory=list)
    histogram_count: int = 0
    exemplar_count: int = 0

    @property
    def label_dict(self) -> dict[str, str]:
        """Labels as a dict (duplicates: the last wins; check `labels` to see them)."""
        return dict(self.labels)


def _field(
    name: str, number: int, kind: int, label: int = _OPTIONAL, type_name: str = "", oneof: int | None = None
) -> descriptor_pb2.FieldDescriptorProto:
    """A field of the in-code schema."""
    proto = _F(name=name, number=number, type=kind, label=label)  # type: ignore[arg-type]
    if type_name:
        proto.type_name = f".{_PACKAGE}.{type_name}"
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


def _file() -> descriptor_pb2.FileDescriptorProto:
    """prompb's types.proto + remote.proto (WriteRequest part), as proto3."""
    f = _F
    bucket_span = _message(
        "BucketSpan", [_field("offset", 1, f.TYPE_SINT32), _field("length", 2, f.TYPE_UINT32)]
    )
    histogram = _message(
        "Histogram",
        [
            _field("count_int", 1, f.TYPE_UINT64, oneof=0),
            _field("count_float", 2, f.TYPE_DOUBLE, oneof=0),
            _field("sum", 3, f.TYPE_DOUBLE),
            _field("schema", 4, f.TYPE_SINT32),
            _field("zero_threshold", 5, f.TYPE_DOUBLE),
            _field("zero_count_int", 6, f.TYPE_UINT64, oneof=1),
            _field("zero_count_float", 7, f.TYPE_DOUBLE, oneof=1),
            _field("negative_spans", 8, f.TYPE_MESSAGE, _REPEATED, "BucketSpan"),
            _field("negative_deltas", 9, f.TYPE_SINT64, _REPEATED),
            _field("negative_counts", 10, f.TYPE_DOUBLE, _REPEATED),
            _field("positive_spans", 11, f.TYPE_MESSAGE, _REPEATED, "BucketSpan"),
            _field("positive_deltas", 12, f.TYPE_SINT64, _REPEATED),
            _field("positive_counts", 13, f.TYPE_DOUBLE, _REPEATED),
            _field("reset_hint", 14, f.TYPE_ENUM, type_name="Histogram.ResetHint"),
            _field("timestamp", 15, f.TYPE_INT64),
            _field("custom_values", 16, f.TYPE_DOUBLE, _REPEATED),
        ],
        oneofs=("count", "zero_count"),
    )
    histogram.enum_type.add(name="ResetHint").value.extend(
        descriptor_pb2.EnumValueDescriptorProto(name=n, number=i)
        for i, n in enumerate(("UNKNOWN", "YES", "NO", "GAUGE"))
    )
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
    metadata.enum_type.add(name="MetricType").value.extend(
        descriptor_pb2.EnumValueDescriptorProto(name=n, number=i)
        for i, n in enumerate(
            ("UNKNOWN", "COUNTER", "GAUGE", "HISTOGRAM", "GAUGEHISTOGRAM", "SUMMARY", "INFO", "STATESET")
        )
    )
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
        message_type=[label, sample, exemplar, bucket_span, histogram, timeseries, metadata, write_request],
    )


@cache
def write_request_class() -> Any:
    """The WriteRequest message class, built once in a private descriptor pool."""
    pool = descriptor_pool.DescriptorPool()
    pool.Add(_file())
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{_PACKAGE}.WriteRequest"))


def parse_write_request(body: bytes, compressed: bool = True) -> Any:
    """The raw protobuf WriteRequest message (for metadata, histograms, exemplars)."""
    raw = bytes(cramjam.snappy.decompress_raw(body)) if compressed else body
    message = write_request_class()()
    message.ParseFromString(raw)
    return message


def decode_write_request(body: bytes, compressed: bool = True) -> list[DecodedSeries]:
    """Decode a WriteRequest body (snappy block format unless compressed=False)."""
    return [
        DecodedSeries(
            labels=[(label.name, label.value) for label in ts.labels],
            samples=[DecodedSample(sample.value, sample.timestamp) for sample in ts.samples],
            histogram_count=len(ts.histograms),
            exemplar_count=len(ts.exemplars),
        )
        for ts in parse_write_request(body, compressed).timeseries
    ]
