"""What each endpoint is sent of a shard: Alloy's send_exemplars / send_native_histograms, per protocol."""

import pytest
from promscrape import scraper
from promscrape.exposition.model import Exemplar, NativeHistogram
from promscrape.remote_write import decode, v1, v2

HISTOGRAM = NativeHistogram(0, 0.0, 1, 1.0, 0, positive_spans=((0, 1),), positive_buckets=(1,))
LABELS = [("__name__", "a")]
EXEMPLAR = Exemplar((("trace_id", "t"),), 1.0, 5)
PAYLOAD = scraper._Payload(
    series=[v1.encode_timeseries(LABELS, [(1.0, 5)])],
    exemplars=[v1.encode_series(v1.encode_labels(LABELS), v1.encode_exemplar([("trace_id", "t")], 1.0, 5))],
    histograms=[v1.encode_series(v1.encode_labels([("__name__", "h")]), v1.encode_histogram(HISTOGRAM, 5))],
    metadata=[v1.encode_metadata("a", "counter", "help", None)],
    series_v2=[
        v2.Series(LABELS, samples=[v2.Sample(1.0, 5)], exemplars=[EXEMPLAR]),
        v2.Series([("__name__", "h")], histograms=[v2.HistogramPoint(HISTOGRAM, 5)]),
    ],
)


@pytest.mark.parametrize(
    ("exemplars", "histograms", "expected"),
    [
        (True, False, [("a", 1, 0, 0), ("a", 0, 0, 1)]),
        (False, False, [("a", 1, 0, 0)]),
        (True, True, [("a", 1, 0, 0), ("h", 0, 1, 0), ("a", 0, 0, 1)]),
    ],
)
def test_v1(exemplars: bool, histograms: bool, expected: list[tuple[str, int, int, int]]) -> None:
    series_batch, metadata_batch = PAYLOAD.batches(("1.0", 2000, exemplars, histograms))
    got = decode.decode_write_request(series_batch.body, compressed=False)
    assert [
        (d.label_dict["__name__"], len(d.samples), len(d.histograms), len(d.exemplars)) for d in got
    ] == expected
    assert [m.family for m in decode.decode_metadata(metadata_batch.body, compressed=False)] == ["a"]


@pytest.mark.parametrize(
    ("exemplars", "histograms", "expected"),
    [
        (True, False, [("a", 1, 0, 1)]),
        (False, True, [("a", 1, 0, 0), ("h", 0, 1, 0)]),
    ],
)
def test_v2(exemplars: bool, histograms: bool, expected: list[tuple[str, int, int, int]]) -> None:
    (batch,) = PAYLOAD.batches(("2.0", 2000, exemplars, histograms))
    got = decode.decode_request_v2(batch.body, compressed=False)
    assert [
        (d.label_dict["__name__"], len(d.samples), len(d.histograms), len(d.exemplars)) for d in got
    ] == expected
