"""Remote write 2.0: exact bytes, the protobuf package's serialization of the same content, the
independent decoder, batching, the 1.0 fallback and the `-Written` response headers."""

import struct
from typing import Any

import pytest
from google.protobuf.message import DecodeError
from hypothesis import given, settings
from hypothesis import strategies as st
from promscrape import USER_AGENT
from promscrape.exposition.model import Exemplar, Metadata, NativeHistogram
from promscrape.remote_write import decode, v1, v2
from test_remote_write_v1_rich import (
    EMPTY_INT,
    INT_HISTOGRAM,
    NHCB,
    STALE_BITS,
    any_double,
    double,
    fill_histogram,
    from_bits,
    histograms,
    int64s,
)
from urllib3 import HTTPHeaderDict


def bits(value: float) -> int:
    return int(struct.unpack("<Q", struct.pack("<d", value))[0])


def text(value: str) -> str:
    """A length-delimited string's length and bytes (short strings)."""
    raw = value.encode()
    return f"{len(raw):02x}" + raw.hex()


def test_headers_exact() -> None:
    assert v2.HEADERS == {
        "Content-Encoding": "snappy",
        "Content-Type": "application/x-protobuf;proto=io.prometheus.write.v2.Request",
        "X-Prometheus-Remote-Write-Version": "2.0.0",
        "User-Agent": USER_AGENT,
    }
    assert v2.WRITTEN_SAMPLES_HEADER == "X-Prometheus-Remote-Write-Samples-Written"
    assert v2.WRITTEN_HISTOGRAMS_HEADER == "X-Prometheus-Remote-Write-Histograms-Written"
    assert v2.WRITTEN_EXEMPLARS_HEADER == "X-Prometheus-Remote-Write-Exemplars-Written"


def test_symbol_table() -> None:
    table = v2.SymbolTable()
    assert table.symbols == [""]
    assert table.ref("") == 0
    assert table.label_refs([("__name__", "up"), ("job", "x")]) == [1, 2, 3, 4]
    assert table.label_refs([("job", "up"), ("x", "")]) == [3, 2, 4, 0]
    assert table.ref("up") == 2
    assert table.symbols == ["", "__name__", "up", "job", "x"]
    assert table.encode().hex() == "2200" + "22" + text("__name__") + "22" + text("up") + "22" + text(
        "job"
    ) + "22" + text("x")


@pytest.mark.parametrize(
    ("refs", "expected_hex"),
    [([], ""), ([1, 2, 3, 4], "0a0401020304"), ([0, 300], "0a0300ac02"), ([2**32 - 1], "0a05ffffffff0f")],
)
def test_label_refs_packed(refs: list[int], expected_hex: str) -> None:
    assert v2.encode_label_refs(refs).hex() == expected_hex


@pytest.mark.parametrize(
    ("value", "ts_ms", "start_ts_ms", "expected_hex"),
    [
        (1.0, 5, 3, "120d" + "09" + double(1.0) + "1005" + "1803"),
        (0.0, 0, 7, "12021807"),
        (-0.0, 5, 7, "120410051807"),
        (2.0, 0, -1, "1214" + "09" + double(2.0) + "18ffffffffffffffffff01"),
        (from_bits(STALE_BITS), 5, 1, "120d" + "09020000000000f07f" + "1005" + "1801"),
        # without a start timestamp a 2.0 Sample is byte-identical to a 1.0 Sample
        (1.5, 1_700_000_000_000, 0, "1210" + "09" + double(1.5) + "1080d095ffbc31"),
        (0.0, 0, 0, "1200"),
    ],
)
def test_sample_bytes(value: float, ts_ms: int, start_ts_ms: int, expected_hex: str) -> None:
    assert v2.encode_sample(value, ts_ms, start_ts_ms).hex() == expected_hex
    if not start_ts_ms:
        assert v2.encode_sample(value, ts_ms) == v1.encode_sample(value, ts_ms)


@pytest.mark.parametrize(
    ("histogram", "ts_ms", "start_ts_ms", "hint", "expected_hex"),
    [
        # TimeSeries field 3 here (field 4 in 1.0), start_timestamp is field 17: a two-byte tag
        (EMPTY_INT, 0, 6, v1.RESET_HINT_UNKNOWN, "1a07" + "08003000" + "880106"),
        (EMPTY_INT, 9, 0, v1.RESET_HINT_GAUGE, "1a08" + "08003000" + "7003" + "7809"),
        (NHCB, 1, 1, v1.RESET_HINT_UNKNOWN, "1a30" + v1.histogram_message(NHCB, 1).hex() + "880101"),
    ],
)
def test_histogram_bytes(
    histogram: NativeHistogram, ts_ms: int, start_ts_ms: int, hint: int, expected_hex: str
) -> None:
    assert v2.encode_histogram(histogram, ts_ms, start_ts_ms, hint).hex() == expected_hex


def test_exemplar_bytes_and_symbols() -> None:
    table = v2.SymbolTable()
    entry = v2.encode_exemplar(table, [("b", "2"), ("a", "1")], 2.0, 0)
    # labels sorted by name before they are symbolised
    assert entry.hex() == "220f" + "0a0401020304" + "11" + double(2.0)
    assert table.symbols == ["", "a", "1", "b", "2"]
    assert v2.encode_exemplar(table, [], 0.0, 5).hex() == "22021805"


@pytest.mark.parametrize(
    ("metadata", "expected_hex", "symbols"),
    [
        (None, "2a00", [""]),
        (Metadata(), "2a00", [""]),
        (Metadata("gauge"), "2a020802", [""]),
        (Metadata("counter", "help", "seconds"), "2a06" + "0801" + "1801" + "2002", ["", "help", "seconds"]),
        (Metadata("untyped", None, "bytes"), "2a02" + "2001", ["", "bytes"]),
        (Metadata("stateset", "", ""), "2a020807", [""]),
    ],
)
def test_metadata_bytes(metadata: Metadata | None, expected_hex: str, symbols: list[str]) -> None:
    table = v2.SymbolTable()
    assert v2.encode_metadata(table, metadata).hex() == expected_hex
    assert table.symbols == symbols


def test_request_exact_bytes() -> None:
    series = v2.Series(
        labels=[("__name__", "up"), ("job", "x")],
        samples=[v2.Sample(1.0, 5)],
        metadata=Metadata("gauge", "h"),
    )
    ((body, counts),) = v2.build_requests([series])
    symbols = "".join("22" + text(s) for s in ("", "__name__", "up", "job", "x", "h"))
    series_body = "0a0401020304" + "120b" + "09" + double(1.0) + "1005" + "2a04" + "0802" + "1805"
    assert body.hex() == symbols + "2a19" + series_body
    assert counts == v2.Counts(samples=1)


def protobuf_request(series: list[v2.Series]) -> Any:
    """The Request the protobuf package builds of the same series, symbols assigned in Prometheus's
    order (labels, help, unit, then exemplar labels sorted by name), every series' metadata set."""
    refs: dict[str, int] = {"": 0}

    def ref(value: str) -> int:
        return refs.setdefault(value, len(refs))

    message = decode.request_v2_class()()
    for one in series:
        ts = message.timeseries.add()
        for name, value in one.labels:
            ts.labels_refs.extend([ref(name), ref(value)])
        ts.metadata.SetInParent()
        if one.metadata is not None:
            ts.metadata.type = v1.metric_type(one.metadata.type)
            ts.metadata.help_ref = ref(one.metadata.help or "")
            ts.metadata.unit_ref = ref(one.metadata.unit or "")
        for sample in one.samples:
            value = sample.value if sample.value != 0.0 else 0.0
            ts.samples.add(
                value=value, timestamp=sample.timestamp_ms, start_timestamp=sample.start_timestamp_ms
            )
        for point in one.histograms:
            histogram = ts.histograms.add(start_timestamp=point.start_timestamp_ms)
            fill_histogram(histogram, point.histogram, point.timestamp_ms, point.reset_hint)
        for exemplar in one.exemplars:
            proto = ts.exemplars.add(value=exemplar.value if exemplar.value != 0.0 else 0.0)
            proto.timestamp = exemplar.timestamp_ms or 0
            for name, value in sorted(exemplar.labels):
                proto.labels_refs.extend([ref(name), ref(value)])
    message.symbols.extend(refs)
    return message


RICH_SERIES = [
    v2.Series(
        labels=[("__name__", "rpc_seconds"), ("job", "api")],
        histograms=[v2.HistogramPoint(INT_HISTOGRAM, 1000, 500), v2.HistogramPoint(NHCB, 2000, 500)],
        exemplars=[
            Exemplar((("trace_id", "t1"),), 0.25, 990),
            Exemplar((("span_id", "s"), ("job", "api")), 1.0),
        ],
        metadata=Metadata("histogram", "RPC latency.", "seconds"),
    ),
    v2.Series(
        labels=[("__name__", "requests_total"), ("code", "200"), ("job", "api")],
        samples=[v2.Sample(10.0, 1000, 400), v2.Sample(from_bits(STALE_BITS), 2000)],
        exemplars=[Exemplar((("trace_id", "t2"),), 1.0, 995)],
        metadata=Metadata("counter", "Requests.", None),
    ),
    v2.Series(labels=[("__name__", "up"), ("job", "api")], samples=[v2.Sample(1.0, 1000)]),
]


def test_rich_request_same_bytes_as_protobuf_and_decodes_back() -> None:
    ((body, counts),) = v2.build_requests(RICH_SERIES)
    assert counts == v2.Counts(samples=3, histograms=2, exemplars=3)
    expected = protobuf_request(RICH_SERIES)
    assert body == expected.SerializeToString()
    parsed = decode.parse_request_v2(v1.compress(body))
    assert parsed == expected
    assert parsed.symbols[0] == ""
    assert len(set(parsed.symbols)) == len(parsed.symbols)
    decoded = decode.decode_request_v2(v1.compress(body))
    assert [d.labels for d in decoded] == [list(s.labels) for s in RICH_SERIES]
    first, second, up = decoded
    assert first.histograms == [
        decode.DecodedHistogram(INT_HISTOGRAM, 1000, v1.RESET_HINT_UNKNOWN, 500),
        decode.DecodedHistogram(NHCB, 2000, v1.RESET_HINT_UNKNOWN, 500),
    ]
    assert first.exemplars == [
        decode.DecodedExemplar([("trace_id", "t1")], 0.25, 990),
        decode.DecodedExemplar([("job", "api"), ("span_id", "s")], 1.0, 0),
    ]
    assert first.metadata == decode.DecodedMetadata(3, "", "RPC latency.", "seconds")
    assert [(s.value_bits, s.timestamp, s.start_timestamp) for s in second.samples] == [
        (bits(10.0), 1000, 400),
        (STALE_BITS, 2000, 0),
    ]
    assert second.metadata == decode.DecodedMetadata(1, "", "Requests.", "")
    assert up.metadata == decode.DecodedMetadata(0, "", "", "")
    assert up.histograms == up.exemplars == []


def test_series_without_samples_or_histograms_are_left_out() -> None:
    exemplar_only = v2.Series([("__name__", "a")], exemplars=[Exemplar((("trace_id", "t"),), 1.0, 5)])
    metadata_only = v2.Series([("__name__", "b")], metadata=Metadata("gauge", "help"))
    requests = v2.build_requests([exemplar_only, RICH_SERIES[2], metadata_only])
    assert requests == v2.build_requests([RICH_SERIES[2]])
    assert v2.build_requests([exemplar_only, metadata_only]) == []


@pytest.mark.parametrize(
    ("series", "message"),
    [
        (
            v2.Series([("__name__", "a")], [v2.Sample(1.0, 5)], [v2.HistogramPoint(EMPTY_INT, 5)]),
            "a 2.0 TimeSeries holds samples or histograms, one of them: 1 samples and 1 histograms "
            "for {'__name__': 'a'}",
        ),
        (
            v2.Series([("__name__", "a")]),
            "a 2.0 TimeSeries holds samples or histograms, one of them: 0 samples and 0 histograms "
            "for {'__name__': 'a'}",
        ),
    ],
)
def test_builder_rejects_samples_with_histograms_or_neither(series: v2.Series, message: str) -> None:
    with pytest.raises(ValueError) as error:
        v2.RequestBuilder().add(series)
    assert str(error.value) == message


def test_each_request_has_its_own_symbols() -> None:
    series = [v2.Series([("__name__", f"m{i}"), ("job", "x")], [v2.Sample(1.0, 5)]) for i in range(3)]
    requests = v2.build_requests(series, max_samples=2)
    assert [counts.samples for _, counts in requests] == [2, 1]
    assert [list(decode.parse_request_v2(body, False).symbols) for body, _ in requests] == [
        ["", "__name__", "m0", "job", "x", "m1"],
        ["", "__name__", "m2", "job", "x"],
    ]
    assert [d.labels for body, _ in requests for d in decode.decode_request_v2(body, False)] == [
        list(s.labels) for s in series
    ]


def series_of(items: int, index: int) -> v2.Series:
    """A series of `items` items: half (rounded up) samples for an even index, histograms for an
    odd one, the rest exemplars."""
    points = range((items + 1) // 2)
    return v2.Series(
        labels=[("i", str(index))],
        samples=[v2.Sample(1.0, ts) for ts in points] if index % 2 == 0 else (),
        histograms=[v2.HistogramPoint(EMPTY_INT, ts) for ts in points] if index % 2 else (),
        exemplars=[Exemplar((), 1.0, ts) for ts in range(items // 2)],
    )


@pytest.mark.parametrize(
    ("items", "max_samples", "expected"),
    [
        ([1] * 5, 2, [[0, 1], [2, 3], [4]]),
        ([1999, 2], 2000, [[0], [1]]),
        ([1000, 1000, 1], 2000, [[0, 1], [2]]),
        ([3000], 2000, [[0]]),
        ([1, 3000, 1], 2000, [[0], [1], [2]]),
        ([3, 3, 3], 6, [[0, 1], [2]]),
        # a series of no items is left out
        ([0, 2, 0], 2, [[1]]),
        ([], 2000, []),
    ],
)
def test_batches_count_samples_histograms_and_exemplars(
    items: list[int], max_samples: int, expected: list[list[int]]
) -> None:
    series = [series_of(n, i) for i, n in enumerate(items)]
    requests = v2.build_requests(series, max_samples=max_samples)
    assert [
        [int(d.labels[0][1]) for d in decode.decode_request_v2(body, False)] for body, _ in requests
    ] == expected
    for (_, counts), group in zip(requests, expected, strict=True):
        assert counts == v2.Counts(
            sum(len(series[i].samples) for i in group),
            sum(len(series[i].histograms) for i in group),
            sum(len(series[i].exemplars) for i in group),
        )


def test_max_samples_must_be_positive() -> None:
    with pytest.raises(ValueError, match=r"^max_samples must be positive, got 0$"):
        v2.build_requests([series_of(1, 0)], max_samples=0)


def test_v1_fallback_carries_what_1_0_can() -> None:
    encoded = [entry for entry in map(v2.encode_series_v1, RICH_SERIES) if entry is not None]
    # NHCB dropped as Prometheus drops it from 1.0
    assert [counts for _, counts in encoded] == [
        v2.Counts(histograms=1, exemplars=2),
        v2.Counts(samples=2, exemplars=1),
        v2.Counts(samples=1),
    ]
    body = b"".join(entry for entry, _ in encoded)
    assert body == b"".join(
        [
            v1.encode_series(
                v1.encode_labels(RICH_SERIES[0].labels),
                v1.encode_exemplar([("trace_id", "t1")], 0.25, 990)
                + v1.encode_exemplar([("job", "api"), ("span_id", "s")], 1.0, 0)
                + v1.encode_histogram(INT_HISTOGRAM, 1000),
            ),
            v1.encode_series(
                v1.encode_labels(RICH_SERIES[1].labels),
                v1.encode_sample(10.0, 1000)
                + v1.encode_sample(from_bits(STALE_BITS), 2000)
                + v1.encode_exemplar([("trace_id", "t2")], 1.0, 995),
            ),
            v1.encode_timeseries(RICH_SERIES[2].labels, [(1.0, 1000)]),
        ]
    )
    decoded = decode.decode_write_request(v1.compress(body))
    assert [d.labels for d in decoded] == [list(s.labels) for s in RICH_SERIES[:3]]
    assert [h.histogram for h in decoded[0].histograms] == [INT_HISTOGRAM]
    assert decoded[1].samples[1].value_bits == STALE_BITS


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, v2.WrittenStats()),
        ({"Content-Length": "0"}, v2.WrittenStats()),
        (
            {
                "X-Prometheus-Remote-Write-Samples-Written": "10",
                "X-Prometheus-Remote-Write-Histograms-Written": "2",
                "X-Prometheus-Remote-Write-Exemplars-Written": "3",
            },
            v2.WrittenStats(10, 2, 3, confirmed=True),
        ),
        # one header confirms; the missing ones mean 0
        ({"x-prometheus-remote-write-histograms-written": "4"}, v2.WrittenStats(0, 4, 0, confirmed=True)),
        ({"X-Prometheus-Remote-Write-Samples-Written": "0"}, v2.WrittenStats(confirmed=True)),
        # an empty value is as good as absent (Go's Header.Get)
        ({"X-Prometheus-Remote-Write-Samples-Written": ""}, v2.WrittenStats()),
        ({"X-Prometheus-Remote-Write-Samples-Written": " +7 "}, v2.WrittenStats(7, confirmed=True)),
        ({"X-Prometheus-Remote-Write-Samples-Written": "-1"}, v2.WrittenStats(-1, confirmed=True)),
        (
            {
                "X-Prometheus-Remote-Write-Samples-Written": "abc",
                "X-Prometheus-Remote-Write-Exemplars-Written": "1.5",
            },
            v2.WrittenStats(
                0,
                0,
                0,
                confirmed=True,
                errors=(
                    'strconv.Atoi: parsing "abc": invalid syntax',
                    'strconv.Atoi: parsing "1.5": invalid syntax',
                ),
            ),
        ),
        (
            {"X-Prometheus-Remote-Write-Samples-Written": "9223372036854775808"},
            v2.WrittenStats(
                confirmed=True, errors=('strconv.Atoi: parsing "9223372036854775808": value out of range',)
            ),
        ),
        (
            {"X-Prometheus-Remote-Write-Samples-Written": "9223372036854775807"},
            v2.WrittenStats(2**63 - 1, confirmed=True),
        ),
    ],
)
def test_written_stats(headers: dict[str, str], expected: v2.WrittenStats) -> None:
    assert v2.written_stats(headers) == expected


def test_written_stats_first_of_repeated_header_counts() -> None:
    headers = HTTPHeaderDict()
    headers.add("X-Prometheus-Remote-Write-Samples-Written", "2")
    headers.add("x-prometheus-remote-write-samples-written", "5")
    assert v2.written_stats(headers) == v2.WrittenStats(2, confirmed=True)


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("", decode.PROTO_V1),
        ("application/x-protobuf", decode.PROTO_V1),
        (" application/x-protobuf ", decode.PROTO_V1),
        ("application/x-protobuf;proto=prometheus.WriteRequest", decode.PROTO_V1),
        ("application/x-protobuf;proto=io.prometheus.write.v2.Request", decode.PROTO_V2),
        (v2.CONTENT_TYPE, decode.PROTO_V2),
        # Prometheus does not trim parameters: " proto" is another parameter, so this is 1.0
        ("application/x-protobuf; proto=io.prometheus.write.v2.Request", decode.PROTO_V1),
    ],
)
def test_proto_message_of_content_type(content_type: str, expected: str) -> None:
    assert decode.proto_message(content_type) == expected


@pytest.mark.parametrize(
    ("content_type", "message"),
    [
        (
            "text/plain",
            "expected application/x-protobuf as the first (media) part, got text/plain content-type",
        ),
        (
            "application/x-protobuf;charset",
            "as per https://www.rfc-editor.org/rfc/rfc9110#parameter expected parameters to be key-values, "
            "got charset in application/x-protobuf;charset content-type",
        ),
        (
            "application/x-protobuf;proto=foo.Bar",
            "got application/x-protobuf;proto=foo.Bar content type; unknown remote write protobuf message "
            "foo.Bar, supported: prometheus.WriteRequest, io.prometheus.write.v2.Request",
        ),
    ],
)
def test_proto_message_rejects(content_type: str, message: str) -> None:
    with pytest.raises(ValueError) as error:
        decode.proto_message(content_type)
    assert str(error.value) == message


def bad_request(symbols: list[str], labels_refs: list[int], help_ref: int = 0, samples: int = 1) -> bytes:
    message = decode.request_v2_class()()
    message.symbols.extend(symbols)
    ts = message.timeseries.add()
    ts.labels_refs.extend(labels_refs)
    ts.metadata.help_ref = help_ref
    for _ in range(samples):
        ts.samples.add(value=1.0)
    return bytes(message.SerializeToString())


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (bad_request(["a"], [0, 0]), "symbols must start with the empty string"),
        (bad_request([], []), "symbols must start with the empty string"),
        (bad_request(["", "a"], [1]), "timeseries[0] has an odd number (1) of label references"),
        (bad_request(["", "a"], [1, 2]), "timeseries[0] refers to symbol 2, beyond the 2 symbols"),
        (
            bad_request(["", "a"], [1, 1], help_ref=5),
            "timeseries[0] help refers to symbol 5, beyond the 2 symbols",
        ),
        (
            bad_request(["", "__name__", 'a"b', "x"], [3, 2, 1, 2], samples=0),
            "TimeSeries must contain at least one sample or histogram for series "
            '{__name__="a\\"b", x="a\\"b"}',
        ),
    ],
)
def test_decoder_rejects_bad_references(body: bytes, message: str) -> None:
    with pytest.raises(ValueError) as error:
        decode.decode_request_v2(body, compressed=False)
    assert str(error.value) == message


def test_decoder_accepts_an_empty_request() -> None:
    assert decode.decode_request_v2(b"", compressed=False) == []


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64))
def test_decoder_fails_only_with_its_errors(body: bytes) -> None:
    try:
        decoded = decode.decode_request_v2(body, compressed=False)
    except (DecodeError, ValueError):
        return
    symbols = set(decode.parse_request_v2(body, compressed=False).symbols)
    assert all(d.samples or d.histograms for d in decoded)
    assert {text for d in decoded for pair in d.labels for text in pair} <= symbols


label_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=8)
metadata = st.none() | st.builds(
    Metadata,
    st.sampled_from(
        ["counter", "gauge", "histogram", "gaugehistogram", "summary", "info", "stateset", "unknown"]
    ),
    st.none() | label_text,
    st.none() | label_text,
)
samples = st.lists(st.builds(v2.Sample, any_double, int64s(), int64s()), min_size=1, max_size=2)
histogram_points = st.lists(
    st.builds(v2.HistogramPoint, histograms(), int64s(), int64s(), st.integers(0, 3)), min_size=1, max_size=2
)
exemplars = st.lists(
    st.builds(
        Exemplar,
        st.dictionaries(label_text, label_text, max_size=2).map(lambda d: tuple(d.items())),
        any_double,
        st.none() | int64s(),
    ),
    max_size=2,
)


@st.composite
def series_strategy(draw: st.DrawFn) -> v2.Series:
    """A sendable series: float samples or histogram samples, with exemplars and metadata or not."""
    floats = draw(st.booleans())
    return v2.Series(
        labels=sorted(draw(st.dictionaries(label_text, label_text, max_size=4)).items()),
        samples=draw(samples) if floats else (),
        histograms=() if floats else draw(histogram_points),
        exemplars=draw(exemplars),
        metadata=draw(metadata),
    )


@settings(max_examples=150, deadline=None)
@given(st.lists(series_strategy(), min_size=1, max_size=4))
def test_same_bytes_as_protobuf_serializer(series: list[v2.Series]) -> None:
    ((body, counts),) = v2.build_requests(series, max_samples=100)
    expected = protobuf_request(series)
    assert body == expected.SerializeToString()
    assert decode.parse_request_v2(body, compressed=False) == expected
    assert counts == v2.Counts(
        sum(len(s.samples) for s in series),
        sum(len(s.histograms) for s in series),
        sum(len(s.exemplars) for s in series),
    )
    decoded = decode.decode_request_v2(body, compressed=False)
    assert [d.labels for d in decoded] == [list(s.labels) for s in series]
    for one, back in zip(series, decoded, strict=True):
        assert [(s.value_bits, s.timestamp, s.start_timestamp) for s in back.samples] == [
            (bits(s.value) if s.value != 0.0 else 0, s.timestamp_ms, s.start_timestamp_ms)
            for s in one.samples
        ]
        assert [(e.labels, e.timestamp) for e in back.exemplars] == [
            (sorted(e.labels), e.timestamp_ms or 0) for e in one.exemplars
        ]
        assert [
            v2.encode_histogram(h.histogram, h.timestamp, h.start_timestamp, h.reset_hint)
            for h in back.histograms
        ] == [v2.encode_histogram(*point) for point in one.histograms]
        meta = one.metadata or Metadata()
        assert back.metadata == decode.DecodedMetadata(
            v1.metric_type(meta.type), "", meta.help or "", meta.unit or ""
        )
