"""The built-in remote-write receiver (1.0 and 2.0) over real HTTP on loopback, fed by our encoders."""

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import urllib3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from promscrape.config import RemoteWriteEndpoint
from promscrape.exposition.model import Exemplar, Metadata, NativeHistogram
from promscrape.local.receiver import Receiver
from promscrape.remote_write import v1, v2
from promscrape.remote_write.decode import DecodedMetadata
from promscrape.remote_write.send import SendResult, send_compressed


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


@dataclass
class Answer:
    """The receiver's answer: status, headers, body."""

    status: int
    headers: dict[str, str]
    body: bytes

    def written(self) -> tuple[str, str, str] | None:
        """The three -Written headers, or None when there is none."""
        names = (v2.WRITTEN_SAMPLES_HEADER, v2.WRITTEN_HISTOGRAMS_HEADER, v2.WRITTEN_EXEMPLARS_HEADER)
        if not any(name in self.headers for name in names):
            return None
        samples, histograms, exemplars = (self.headers[name] for name in names)
        return samples, histograms, exemplars


def exchange(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST with exactly these headers (urllib would add a Content-Type of its own)."""
    response = urllib3.request("POST", url, body=body, headers=headers, timeout=10, retries=False)
    return Answer(response.status, dict(response.headers.items()), response.data)


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    return exchange(url, body, headers).status


def write(url: str, series: list[tuple[list[tuple[str, str]], list[tuple[float, int]]]]) -> int:
    body = b"".join(v1.encode_timeseries(labels, samples) for labels, samples in series)
    return post(url, v1.compress(body), v1.HEADERS)


UP = [("__name__", "up"), ("instance", "a:9100"), ("job", "node")]
ESCAPED = [("__name__", "demo"), ("path", 'C:\\x "q"\nz')]


@pytest.mark.parametrize(
    ("requests", "expected_samples", "expected_series"),
    [
        ([[]], 0, {}),
        ([[(UP, [(1.0, 1000)])]], 1, {tuple(UP): [(1000, 1.0)]}),
        (
            [[(UP, [(1.0, 1000), (0.0, 2000)])], [(UP, [(1.0, 3000)]), (ESCAPED, [(-2.5, 1000)])]],
            4,
            {tuple(UP): [(1000, 1.0), (2000, 0.0), (3000, 1.0)], tuple(ESCAPED): [(1000, -2.5)]},
        ),
        # Labels arrive sorted by the sender; the receiver keys by sorted labels either way.
        (
            [[([("job", "j"), ("__name__", "m")], [(math.inf, 5)])]],
            1,
            {(("__name__", "m"), ("job", "j")): [(5, math.inf)]},
        ),
    ],
)
def test_receiver_records_what_arrives(
    receiver: Receiver,
    requests: list[list[tuple[list[tuple[str, str]], list[tuple[float, int]]]]],
    expected_samples: int,
    expected_series: dict[tuple[tuple[str, str], ...], list[tuple[int, float]]],
) -> None:
    for series in requests:
        assert write(receiver.url, series) == 204
    assert receiver.counts() == (len(requests), expected_samples, len(expected_series))
    assert receiver.received.series == expected_series
    assert receiver.received.errors == []


def test_receiver_latest_values(receiver: Receiver) -> None:
    other = [("__name__", "up"), ("instance", "b:9100"), ("job", "node")]
    assert write(receiver.url, [(UP, [(1.0, 1000), (0.0, 2000)]), (other, [(1.0, 1000)])]) == 204
    assert receiver.received.latest("up") == {
        (("instance", "a:9100"), ("job", "node")): 0.0,
        (("instance", "b:9100"), ("job", "node")): 1.0,
    }
    assert receiver.received.latest("absent") == {}


GOOD_BODY = v1.compress(v1.encode_timeseries(UP, [(1.0, 1000)]))
V2_TYPE = "application/x-protobuf;proto=io.prometheus.write.v2.Request"
UNKNOWN_PROTO = (
    "got application/x-protobuf;proto=io.prometheus.write.v3.Request content type; unknown remote write "
    "protobuf message io.prometheus.write.v3.Request, supported: prometheus.WriteRequest, "
    "io.prometheus.write.v2.Request"
)
# symbols without the leading "": Prometheus's receiver refuses the request (400)
BAD_V2_BODY = v1.compress(bytes.fromhex("2202" + "7570" + "2a06" + "0a020000" + "1200"))


@pytest.mark.parametrize(
    ("path", "body", "headers", "status", "error"),
    [
        (
            "/api/v1/write",
            GOOD_BODY,
            {**v1.HEADERS, "Content-Encoding": "gzip"},
            415,
            "gzip encoding (compression) is not accepted by this server; only snappy is acceptable",
        ),
        (
            "/api/v1/write",
            GOOD_BODY,
            {**v1.HEADERS, "Content-Type": "text/plain"},
            415,
            "expected application/x-protobuf as the first (media) part, got text/plain content-type",
        ),
        (
            "/api/v1/write",
            GOOD_BODY,
            {**v1.HEADERS, "Content-Type": "application/x-protobuf;proto=io.prometheus.write.v3.Request"},
            415,
            UNKNOWN_PROTO,
        ),
        (
            "/api/v1/write",
            b"\xff\xff\xff\xff",
            v1.HEADERS,
            400,
            "cannot decode the prometheus.WriteRequest: ",
        ),
        (
            "/api/v1/write",
            v1.compress(b"\x0a\x05\x0a\x03\x0a\x01"),
            v1.HEADERS,
            400,
            "cannot decode the prometheus.WriteRequest: ",
        ),
        (
            "/api/v1/write",
            BAD_V2_BODY,
            v2.HEADERS,
            400,
            "cannot decode the io.prometheus.write.v2.Request: symbols must start with the empty string",
        ),
        ("/api/v1/push", GOOD_BODY, v1.HEADERS, 404, None),
    ],
)
def test_receiver_refuses_bad_requests(
    receiver: Receiver, path: str, body: bytes, headers: dict[str, str], status: int, error: str | None
) -> None:
    url = receiver.url.replace("/api/v1/write", path)
    answer = exchange(url, body, headers)
    assert answer.status == status
    assert receiver.counts() == (0, 0, 0)
    if error is None:
        assert receiver.received.errors == []
        return
    (recorded,) = receiver.received.errors
    assert recorded.startswith(error)
    # as Go's http.Error: the message and a newline, plain text
    assert answer.body == f"{recorded}\n".encode()
    assert answer.headers["Content-Type"] == "text/plain; charset=utf-8"


@pytest.mark.parametrize(
    "headers",
    [
        # no Content-Encoding is taken as snappy, no Content-Type as 1.0, like Prometheus
        {"Content-Type": "application/x-protobuf"},
        {"Content-Encoding": "snappy"},
        {
            "Content-Encoding": "snappy",
            "Content-Type": "application/x-protobuf;proto=prometheus.WriteRequest",
        },
    ],
)
def test_receiver_defaults(receiver: Receiver, headers: dict[str, str]) -> None:
    answer = exchange(receiver.url, GOOD_BODY, headers)
    assert (answer.status, answer.written()) == (204, None)
    assert receiver.counts() == (1, 1, 1)


HISTOGRAM = NativeHistogram(
    schema=1,
    zero_threshold=0.001,
    count=5,
    sum=7.5,
    zero_count=1,
    positive_spans=((0, 2), (3, 1)),
    positive_buckets=(1, 1, -1),
    negative_spans=((-1, 1),),
    negative_buckets=(1,),
)
FLOAT_HISTOGRAM = NativeHistogram(
    schema=-53,
    zero_threshold=0.0,
    count=3.0,
    sum=2.5,
    zero_count=0.0,
    positive_spans=((0, 2),),
    positive_buckets=(1.0, 2.0),
    is_float=True,
    custom_values=(0.5,),
)
LATENCY = [("__name__", "latency_seconds"), ("job", "api")]
REQUESTS = [("__name__", "requests_total"), ("code", "200"), ("job", "api")]
V2_SERIES = [
    v2.Series(
        LATENCY,
        histograms=[v2.HistogramPoint(HISTOGRAM, 1000, 500), v2.HistogramPoint(FLOAT_HISTOGRAM, 2000)],
        exemplars=[Exemplar((("trace_id", "t1"),), 0.25, 990)],
        metadata=Metadata("histogram", "Latency.", "seconds"),
    ),
    v2.Series(
        REQUESTS,
        samples=[v2.Sample(10.0, 1000, 400), v2.Sample(11.0, 2000, 400)],
        exemplars=[Exemplar((("trace_id", "t2"), ("span_id", "s")), 1.0, None)],
        metadata=Metadata("counter", "Requests.", None),
    ),
    v2.Series(UP, samples=[v2.Sample(1.0, 1000)]),
]
API = (("job", "api"),)


def test_v2_request_is_recorded_and_confirmed(receiver: Receiver) -> None:
    [(body, counts)] = v2.build_requests(V2_SERIES)
    answer = exchange(receiver.url, v1.compress(body), v2.HEADERS)
    assert (answer.status, answer.written()) == (204, ("3", "2", "2"))
    assert (counts.samples, counts.histograms, counts.exemplars) == (3, 2, 2)
    received = receiver.received
    assert receiver.counts() == (1, 3, 3)
    assert received.errors == []
    assert received.protocols == {"2.0": 1}
    assert received.latest("requests_total") == {(("code", "200"), ("job", "api")): 11.0}
    assert received.series[tuple(LATENCY)] == []
    histograms = received.histograms_of("latency_seconds")[API]
    assert [(h.histogram, h.timestamp, h.start_timestamp) for h in histograms] == [
        (HISTOGRAM, 1000, 500),
        (FLOAT_HISTOGRAM, 2000, 0),
    ]
    assert [(e.labels, e.value, e.timestamp) for e in received.exemplars_of("latency_seconds")[API]] == [
        ([("trace_id", "t1")], 0.25, 990)
    ]
    # exemplar labels are sent sorted by name; no timestamp is 0 on the wire
    assert [
        (e.labels, e.timestamp) for e in received.exemplars_of("requests_total")[(("code", "200"), *API)]
    ] == [([("span_id", "s"), ("trace_id", "t2")], 0)]
    assert received.metadata_of("latency_seconds") == {API: DecodedMetadata(3, "", "Latency.", "seconds")}
    assert received.metadata_of("requests_total") == {
        (("code", "200"), *API): DecodedMetadata(1, "", "Requests.", "")
    }
    assert received.metadata_of("up") == {
        (("instance", "a:9100"), ("job", "node")): DecodedMetadata(0, "", "", "")
    }
    assert received.metadata == {}
    assert (received.histogram_samples, received.exemplar_count) == (2, 2)
    assert received.summary() == (
        "3 sample(s), 2 histogram sample(s) and 2 exemplar(s) of 3 series in 1 request(s) (1 as 2.0), "
        "metadata of 2 metric(s)"
    )


def test_v1_exemplars_histograms_and_metadata_are_recorded(receiver: Receiver) -> None:
    series = [
        v1.encode_timeseries(REQUESTS, [(10.0, 1000)]),
        v1.encode_series(v1.encode_labels(REQUESTS), v1.encode_exemplar([("trace_id", "t2")], 1.0, 995)),
        v1.encode_series(v1.encode_labels(LATENCY), v1.encode_histogram(HISTOGRAM, 1000, v1.RESET_HINT_NO)),
    ]
    metadata = [
        v1.encode_metadata("requests", "counter", "Requests.", None),
        v1.encode_metadata("latency_seconds", "histogram", "Latency.", "seconds"),
    ]
    assert exchange(receiver.url, v1.compress(b"".join(series)), v1.HEADERS).status == 204
    answer = exchange(receiver.url, v1.compress(b"".join(metadata)), v1.HEADERS)
    assert (answer.status, answer.written()) == (204, None)
    received = receiver.received
    assert receiver.counts() == (2, 1, 2)
    assert received.protocols == {"1.0": 2}
    assert [
        (e.labels, e.value, e.timestamp)
        for e in received.exemplars_of("requests_total")[(("code", "200"), *API)]
    ] == [([("trace_id", "t2")], 1.0, 995)]
    assert [
        (h.histogram, h.timestamp, h.reset_hint) for h in received.histograms_of("latency_seconds")[API]
    ] == [(HISTOGRAM, 1000, v1.RESET_HINT_NO)]
    assert received.metadata == {
        "requests": DecodedMetadata(1, "requests", "Requests.", ""),
        "latency_seconds": DecodedMetadata(3, "latency_seconds", "Latency.", "seconds"),
    }
    assert received.series_metadata == {}
    assert received.summary() == (
        "1 sample(s), 1 histogram sample(s) and 1 exemplar(s) of 2 series in 2 request(s) (2 as 1.0), "
        "metadata of 2 metric(s)"
    )


def test_the_sender_reads_what_the_receiver_confirms(receiver: Receiver) -> None:
    """Our 2.0 sender against our receiver: the -Written headers satisfy Prometheus's check."""
    [(body, counts)] = v2.build_requests(V2_SERIES)
    endpoint = RemoteWriteEndpoint(name="local", url=receiver.url)
    with urllib3.PoolManager() as pool:
        result = send_compressed(
            endpoint,
            v1.compress(body),
            deadline=time.monotonic() + 5,
            protocol="2.0",
            pool=pool,
            counts=counts,
        )
    assert result == SendResult(True, 204, None, 1, written=v2.WrittenStats(3, 2, 2, confirmed=True))


def test_empty_receiver_summary(receiver: Receiver) -> None:
    assert receiver.received.summary() == (
        "0 sample(s), 0 histogram sample(s) and 0 exemplar(s) of 0 series in 0 request(s), "
        "metadata of 0 metric(s)"
    )


def test_v1_body_announced_as_2_0_writes_nothing(receiver: Receiver) -> None:
    """A WriteRequest's field 1 is unknown to a 2.0 Request: it decodes as an empty request, and
    the zero -Written headers are what makes a 2.0 sender see the mix-up."""
    answer = exchange(receiver.url, GOOD_BODY, v2.HEADERS)
    assert (answer.status, answer.written()) == (204, ("0", "0", "0"))
    assert receiver.counts() == (1, 0, 0)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=80), message=st.sampled_from(["", ";proto=io.prometheus.write.v2.Request"]))
def test_hostile_bodies_are_refused_with_400(receiver: Receiver, body: bytes, message: str) -> None:
    """Whatever arrives, the receiver answers (never raises): 204 when it decodes, else 400."""
    for payload in (body, v1.compress(body)):
        status, problem, _ = receiver.answer(
            payload, content_encoding="snappy", content_type=f"application/x-protobuf{message}"
        )
        assert (status, problem is None) in ((204, True), (400, False))
