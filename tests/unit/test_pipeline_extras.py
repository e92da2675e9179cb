"""What a scrape forwards besides 1.0 float samples: exemplars, native histograms, metadata, 2.0 series."""

import math

import pytest
from promscrape import pipeline
from promscrape.exposition import fast
from promscrape.exposition.model import Exemplar, Exposition, HistogramSample, Metadata, NativeHistogram
from promscrape.exposition.openmetrics import parse_openmetrics
from promscrape.relabel import RelabelConfig, compile_rules
from promscrape.remote_write import decode, v1, v2

SCRAPE_TS = 1_700_000_000_000
TARGET = {"instance": "host:9100", "job": "node"}

INTEGER = NativeHistogram(
    schema=0,
    zero_threshold=0.001,
    count=5,
    sum=12.5,
    zero_count=1,
    positive_spans=((0, 2),),
    positive_buckets=(3, -2),
)
NHCB = NativeHistogram(
    schema=-53,
    zero_threshold=0.0,
    count=7,
    sum=9.0,
    zero_count=0,
    positive_spans=((0, 3),),
    positive_buckets=(2, 1, -1),
    custom_values=(1.0, 2.0),
)


def process(exposition: Exposition, **options: object) -> pipeline.PipelineResult:
    arguments: dict[str, object] = {
        "target_labels": TARGET,
        "honor_labels": False,
        "honor_timestamps": True,
        "metric_relabeler": None,
        "scrape_ts_ms": SCRAPE_TS,
        "cache": pipeline.SeriesCache(),
    }
    arguments.update(options)
    return pipeline.process(exposition, **arguments)  # type: ignore[arg-type]


def decoded_v1(result: pipeline.PipelineResult) -> list[decode.DecodedSeries]:
    assert result.error is None, result.error
    entries = [*result.series, *result.histograms, *result.exemplars]
    return decode.decode_write_request(b"".join(entries), compressed=False)


def histogram_exposition(*samples: HistogramSample, floats: str = "") -> Exposition:
    """A parsed body with native histograms, as the protobuf parser gives them."""
    exposition = fast.parse(floats.encode())
    series = dict(exposition.series)
    series.update({'h{a="1"}': ("h", (("a", "1"),)), 'nhcb{a="1"}': ("nhcb", (("a", "1"),))})
    exposition.series = series
    exposition.histograms = list(samples)
    exposition.metadata = {"h": Metadata("histogram", "help of h"), "nhcb": Metadata("gaugehistogram")}
    return exposition


OPENMETRICS = b"""# TYPE requests counter
# HELP requests Requests.
requests_total{path="/a"} 3 # {trace_id="abc"} 1.5
requests_total{path="/b"} 4 # {trace_id="def"} 2.5 1700000000.123
requests_total{path="/c"} 5
# EOF
"""


def test_exemplars_travel_as_entries_of_their_own_at_their_sample_time() -> None:
    result = process(parse_openmetrics(OPENMETRICS))
    series = decoded_v1(result)
    assert [(s.label_dict["path"], len(s.samples), len(s.exemplars)) for s in series] == [
        ("/a", 1, 0),
        ("/b", 1, 0),
        ("/c", 1, 0),
        ("/a", 0, 1),
        ("/b", 0, 1),
    ]
    exemplar_a, exemplar_b = series[3].exemplars[0], series[4].exemplars[0]
    assert (exemplar_a.labels, exemplar_a.value, exemplar_a.timestamp) == (
        [("trace_id", "abc")],
        1.5,
        SCRAPE_TS,
    )
    assert (exemplar_b.value, exemplar_b.timestamp) == (2.5, 1_700_000_000_123)
    assert series[3].label_dict == {**series[0].label_dict}
    assert (result.samples_scraped, result.samples_post_relabel) == (3, 3)


def test_exemplars_of_dropped_and_duplicate_samples_are_not_sent() -> None:
    body = OPENMETRICS.replace(b'requests_total{path="/c"} 5', b'requests_total{path="/a"} 9 # {t="x"} 1')
    rules = compile_rules([RelabelConfig(source_labels=["path"], regex="/b", action="drop")])
    series = decoded_v1(process(parse_openmetrics(body), metric_relabeler=rules))
    assert [(s.label_dict["path"], len(s.samples), [e.labels for e in s.exemplars]) for s in series] == [
        ("/a", 1, []),
        ("/a", 0, [[("trace_id", "abc")]]),
    ]


def test_native_histograms_are_labeled_encoded_and_nhcb_kept_for_2_0() -> None:
    exposition = histogram_exposition(
        HistogramSample('h{a="1"}', INTEGER, None, (Exemplar((("t", "1"),), 0.5, 1_700_000_000_001),)),
        HistogramSample('nhcb{a="1"}', NHCB, 1_699_999_999_000, (Exemplar((("t", "2"),), 0.5),)),
        floats='plain{a="1"} 1\n',
    )
    result = process(exposition, want_v2=True, honor_metadata=True)
    series = decoded_v1(result)
    assert [
        (s.label_dict["__name__"], len(s.samples), len(s.histograms), len(s.exemplars)) for s in series
    ] == [
        ("plain", 1, 0, 0),
        ("h", 0, 1, 0),
        ("h", 0, 0, 1),
    ]
    histogram = series[1].histograms[0]
    assert histogram.histogram == INTEGER and histogram.timestamp == SCRAPE_TS
    assert histogram.reset_hint == v1.RESET_HINT_UNKNOWN
    assert series[1].label_dict == {"__name__": "h", "a": "1", **TARGET}
    assert (result.samples_scraped, result.samples_post_relabel) == (3, 3)
    assert result.v2_series is not None
    by_name = {dict(s.labels)["__name__"]: s for s in result.v2_series}
    assert by_name["nhcb"].histograms[0].histogram == NHCB
    assert by_name["nhcb"].histograms[0].reset_hint == v1.RESET_HINT_GAUGE
    assert by_name["nhcb"].histograms[0].timestamp_ms == 1_699_999_999_000
    assert by_name["nhcb"].exemplars == []  # a native histogram's exemplar needs its own timestamp
    assert by_name["h"].metadata == Metadata("histogram", "help of h")
    assert by_name["plain"].samples == [v2.Sample(1.0, SCRAPE_TS, 0)]
    ((body, counts),) = v2.build_requests(result.v2_series)
    assert counts == v2.Counts(samples=1, histograms=2, exemplars=1)
    names = [d.label_dict["__name__"] for d in decode.decode_request_v2(body, compressed=False)]
    assert names == ["plain", "h", "nhcb"]


def test_histogram_duplicates_relabeling_and_errors() -> None:
    duplicate = HistogramSample('h{a="1"}', INTEGER)
    rules = compile_rules([RelabelConfig(source_labels=["__name__"], regex="nhcb", action="drop")])
    result = process(
        histogram_exposition(duplicate, duplicate, HistogramSample('nhcb{a="1"}', NHCB)),
        metric_relabeler=rules,
    )
    assert [len(s.histograms) for s in decoded_v1(result)] == [1]
    assert (result.samples_scraped, result.samples_post_relabel) == (3, 2)
    bad = histogram_exposition(HistogramSample('h{a="1"}', INTEGER))
    bad.series = {'h{a="1"}': ("h", (("a", "1"), ("a", "2")))}
    failed = process(bad)
    assert failed.series == [] and failed.error == 'label name "a" is not unique: invalid sample'


def test_sample_limit_counts_histograms() -> None:
    exposition = histogram_exposition(HistogramSample('h{a="1"}', INTEGER), floats="x 1\n")
    assert process(exposition, limits=pipeline.Limits(sample_limit=2)).error is None
    assert process(exposition, limits=pipeline.Limits(sample_limit=1)).error == pipeline.SAMPLE_LIMIT_EXCEEDED


def test_metadata_only_with_honor_metadata() -> None:
    body = b"# TYPE a_seconds gauge\n# UNIT a_seconds seconds\n# HELP a_seconds Help.\na_seconds 1\n# EOF\n"
    without = process(parse_openmetrics(body))
    assert without.error is None and without.metadata == [] and without.v2_series is None
    result = process(parse_openmetrics(body), honor_metadata=True)
    (metadata,) = decode.decode_metadata(b"".join(result.metadata), compressed=False)
    assert (metadata.family, metadata.type, metadata.help, metadata.unit) == (
        "a_seconds",
        2,
        "Help.",
        "seconds",
    )


@pytest.mark.parametrize("honor_timestamps", [True, False])
def test_v2_series_carry_every_appended_sample_with_its_time(honor_timestamps: bool) -> None:
    exposition = fast.parse(b'a{x="1"} 1 1699999999000\na{x="1"} 2 1699999999000\nb 3\nc NaN\n')
    exposition.start_timestamps = {2: 1_600_000_000_000}
    result = process(exposition, want_v2=True, honor_timestamps=honor_timestamps)
    assert result.v2_series is not None
    got = [(dict(s.labels)["__name__"], s.samples[0]) for s in result.v2_series]
    first_ts = 1_699_999_999_000 if honor_timestamps else SCRAPE_TS
    assert [(name, sample.timestamp_ms, sample.start_timestamp_ms) for name, sample in got] == [
        ("a", first_ts, 0),
        ("b", SCRAPE_TS, 1_600_000_000_000),
        ("c", SCRAPE_TS, 0),
    ]
    assert got[0][1].value == 1.0 and math.isnan(got[2][1].value)
    assert all(s.metadata is None for s in result.v2_series)
    assert [dict(s.labels) for s in result.v2_series][1] == {"__name__": "b", **TARGET}


def test_histograms_follow_the_validation_scheme_and_honor_labels_empty_values() -> None:
    exposition = histogram_exposition(HistogramSample('{"my.hist",a="1"}', INTEGER))
    exposition.series = {'{"my.hist",a="1"}': ("my.hist", (("a", "1"),))}
    assert process(exposition).error == (
        'invalid metric name or label names: {__name__="my.hist", a="1", instance="host:9100", job="node"}'
    )
    (series,) = decoded_v1(process(exposition, validation_scheme="utf8"))
    assert series.label_dict["__name__"] == "my.hist"
    empty = histogram_exposition(HistogramSample('h{job=""}', INTEGER))
    empty.series = {'h{job=""}': ("h", ())}
    empty.empty_labels = {'h{job=""}': frozenset({"job"})}
    (honored,) = decoded_v1(process(empty, honor_labels=True))
    assert honored.label_dict == {"__name__": "h", "instance": "host:9100"}


def test_histograms_far_in_the_future_are_dropped_but_count_for_the_sample_limit() -> None:
    future = SCRAPE_TS + pipeline.MAX_AHEAD_MS + 1
    exposition = histogram_exposition(HistogramSample('h{a="1"}', INTEGER, future), floats="x 1\n")
    result = process(exposition)
    assert [s.label_dict["__name__"] for s in decoded_v1(result)] == ["x"]
    assert process(exposition, limits=pipeline.Limits(sample_limit=1)).error == pipeline.SAMPLE_LIMIT_EXCEEDED


@pytest.mark.parametrize(
    ("histogram", "error"),
    [
        (
            NativeHistogram(0, 0.001, 5, 1.0, 1, positive_spans=((0, 3),), positive_buckets=(3, -2)),
            "positive side: spans need 3 buckets, have 2 buckets: histogram spans specify different "
            "number of buckets than provided",
        ),
        (
            NativeHistogram(12, 0.0, 1, 1.0, 0, positive_spans=((0, 1),), positive_buckets=(1,)),
            "histogram has an invalid schema, which must be between -4 and 8 for exponential buckets, "
            "or -53 for custom buckets, got schema 12",
        ),
    ],
)
def test_an_invalid_native_histogram_fails_the_scrape(histogram: NativeHistogram, error: str) -> None:
    result = process(histogram_exposition(HistogramSample('h{a="1"}', histogram), floats="x 1\n"))
    assert (result.series, result.error) == ([], error)


def test_a_future_histogram_over_the_bucket_limit_still_fails_the_scrape() -> None:
    """The bucket limit comes before the time limit in Prometheus's appender chain."""
    future = SCRAPE_TS + pipeline.MAX_AHEAD_MS + 1
    exposition = histogram_exposition(HistogramSample('nhcb{a="1"}', NHCB, future))
    result = process(exposition, limits=pipeline.Limits(native_histogram_bucket_limit=1))
    assert result.error == "histogram bucket limit exceeded"
