"""The remote write sender (1.0 and 2.0) against a real HTTP server on 127.0.0.1 answering scripted
statuses."""

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any

import cramjam
import pytest
import urllib3
from http_servers import LocalServer, Received, Recorder, Reply, free_port
from hypothesis import given, settings
from hypothesis import strategies as st
from promscrape import USER_AGENT
from promscrape.config import RemoteWriteEndpoint
from promscrape.exposition.model import Exemplar, Metadata, NativeHistogram
from promscrape.remote_write import decode, v1, v2
from promscrape.remote_write.send import (
    SendResult,
    negotiated_protocol,
    request_counts,
    retry_after_seconds,
    send_compressed,
    send_request,
)
from pydantic import SecretStr

Pool = urllib3.PoolManager
SECRET = "s3cr3t-t0ken-value"
BODY = v1.encode_timeseries([("__name__", "up"), ("job", "node")], [(1.0, 1_700_000_000_000)])


@dataclass
class Receiver:
    """The remote-write endpoint under test: its URL and the Recorder answering there."""

    url: str
    recorder: Recorder

    def script(self, *replies: Reply) -> None:
        self.recorder.script(*replies)

    @property
    def received(self) -> list[Received]:
        return self.recorder.received


@pytest.fixture
def server() -> Iterator[Receiver]:
    recorder = Recorder(Reply(200))
    with LocalServer({"/api/v1/write": recorder}) as local:
        yield Receiver(f"{local.base}/api/v1/write", recorder)


@pytest.fixture
def pool() -> Iterator[urllib3.PoolManager]:
    manager = urllib3.PoolManager()
    yield manager
    manager.clear()


def endpoint(url: str, **overrides: object) -> RemoteWriteEndpoint:
    fields: dict[str, object] = {
        "name": "primary",
        "url": url,
        "headers": {"Authorization": SecretStr(f"Bearer {SECRET}"), "X-Scope-OrgID": SecretStr(SECRET)},
        "remote_timeout": "2s",
        "min_backoff": "1ms",
        "max_backoff": "5ms",
    }
    fields.update(overrides)
    return RemoteWriteEndpoint.model_validate(fields)


class Waits:
    """Records the waits the sender asks for and spends none of them (keeps tests fast)."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def send(server: Receiver, pool: Pool, waits: Waits | None = None, **overrides: object) -> SendResult:
    return send_request(
        endpoint(server.url, **overrides),
        BODY,
        deadline=time.monotonic() + 30,
        pool=pool,
        sleep=waits if waits is not None else time.sleep,
    )


def test_500_then_200_is_retried_with_retry_attempt(server: Receiver, pool: Pool) -> None:
    server.script(Reply(500, b"oops"), Reply(200))
    result = send(server, pool)
    assert result == SendResult(ok=True, status=200, error=None, attempts=2)
    assert [r.headers.get("Retry-Attempt") for r in server.received] == [None, "1"]
    first = server.received[0]
    for name, value in {**v1.HEADERS, "Authorization": f"Bearer {SECRET}", "X-Scope-OrgID": SECRET}.items():
        assert first.headers[name] == value
    assert first.headers["User-Agent"] == USER_AGENT
    assert bytes(cramjam.snappy.decompress_raw(first.body)) == BODY
    assert server.received[0].body == server.received[1].body
    assert decode.decode_write_request(first.body)[0].labels == [("__name__", "up"), ("job", "node")]


@pytest.mark.parametrize("status", [200, 201, 204])
def test_any_2xx_is_success(server: Receiver, pool: Pool, status: int) -> None:
    server.script(Reply(status))
    assert send(server, pool) == SendResult(ok=True, status=status, error=None, attempts=1)


@pytest.mark.parametrize(
    ("reply", "expected_error"),
    [
        (
            Reply(400, b"out of order sample\n"),
            "server returned HTTP status 400 Bad Request: out of order sample",
        ),
        (Reply(401, b""), "server returned HTTP status 401 Unauthorized: "),
        # Only the first line, as sent (Prometheus's bufio.Scanner): spaces kept, `\r\n` ended.
        (Reply(404, b"  no route  "), "server returned HTTP status 404 Not Found:   no route  "),
        (
            Reply(400, b"first line\r\nsecond line\n"),
            "server returned HTTP status 400 Bad Request: first line",
        ),
        (Reply(400, b"\nafter an empty line"), "server returned HTTP status 400 Bad Request: "),
        (Reply(413, b"x" * 5000), "server returned HTTP status 413 Request Entity Too Large: " + "x" * 1024),
        (Reply(409, "déjà vu".encode()), "server returned HTTP status 409 Conflict: déjà vu"),
    ],
)
def test_4xx_is_not_retried(server: Receiver, pool: Pool, reply: Reply, expected_error: str) -> None:
    server.script(reply, Reply(200))
    result = send(server, pool)
    assert result == SendResult(
        ok=False, status=reply.status, error=expected_error, attempts=1, retryable=False
    )
    assert len(server.received) == 1


@pytest.mark.parametrize(("status", "attempts"), [(599, 2), (600, 1), (499, 1)])
def test_only_5xx_are_server_errors(server: Receiver, pool: Pool, status: int, attempts: int) -> None:
    """Prometheus retries StatusCode/100 == 5: 599 is retried, 600 and 499 are not."""
    server.script(Reply(status), Reply(200))
    result = send(server, pool)
    assert (result.attempts, result.ok) == (attempts, attempts == 2)


def test_429_is_retried_by_default(server: Receiver, pool: Pool) -> None:
    server.script(Reply(429, b"slow down"), Reply(200))
    assert send(server, pool) == SendResult(ok=True, status=200, error=None, attempts=2)
    assert [r.headers.get("Retry-Attempt") for r in server.received] == [None, "1"]


def test_429_is_not_retried_without_retry_on_http_429(server: Receiver, pool: Pool) -> None:
    server.script(Reply(429, b"slow down", {"Retry-After": "1"}), Reply(200))
    result = send(server, pool, retry_on_http_429=False)
    assert result == SendResult(
        ok=False,
        status=429,
        error="server returned HTTP status 429 Too Many Requests: slow down",
        attempts=1,
        retryable=False,
    )
    assert len(server.received) == 1


def test_backoff_doubles_up_to_max_backoff(server: Receiver, pool: Pool) -> None:
    server.script(Reply(500), Reply(502), Reply(503), Reply(504), Reply(500), Reply(200))
    waits = Waits()
    result = send(server, pool, waits)
    assert result == SendResult(ok=True, status=200, error=None, attempts=6)
    assert waits.waits == [0.001, 0.002, 0.004, 0.005, 0.005]
    assert [r.headers.get("Retry-Attempt") for r in server.received] == [None, "1", "2", "3", "4", "5"]


def test_retry_after_seconds_may_exceed_max_backoff(server: Receiver, pool: Pool) -> None:
    server.script(
        Reply(429, headers={"Retry-After": "2"}),
        Reply(500),
        Reply(503, headers={"Retry-After": "1"}),
        Reply(500, headers={"Retry-After": "0"}),
        Reply(500, headers={"Retry-After": "soon"}),
        Reply(200),
    )
    waits = Waits()
    result = send(server, pool, waits, max_backoff="3ms")
    assert result == SendResult(ok=True, status=200, error=None, attempts=6)
    # Retry-After replaces the backoff; the next backoff is min(2 x wait, max_backoff)
    assert waits.waits == [2.0, 0.003, 1.0, 0.003, 0.003]


def test_retry_after_http_date(server: Receiver, pool: Pool) -> None:
    server.script(Reply(503, headers={"Retry-After": formatdate(time.time() + 10, usegmt=True)}), Reply(200))
    waits = Waits()
    assert send(server, pool, waits) == SendResult(ok=True, status=200, error=None, attempts=2)
    # whole seconds until the date (which has no sub-second part), truncated as Go does
    assert len(waits.waits) == 1
    assert waits.waits[0] in (8.0, 9.0, 10.0)


def test_retry_after_is_spent_for_real(server: Receiver, pool: Pool) -> None:
    server.script(Reply(503, b"busy", {"Retry-After": "1"}), Reply(200))
    assert send(server, pool) == SendResult(ok=True, status=200, error=None, attempts=2)


@pytest.mark.parametrize(
    ("value", "now", "expected"),
    [
        (None, 0.0, 0.0),
        ("", 0.0, 0.0),
        ("120", 0.0, 120.0),
        ("+3", 0.0, 3.0),
        ("0", 0.0, 0.0),
        ("-5", 0.0, -5.0),
        ("1.5", 0.0, 0.0),
        ("1_0", 0.0, 0.0),
        ("soon", 0.0, 0.0),
        # Wed, 21 Oct 2015 07:28:00 GMT is 1445412480
        ("Wed, 21 Oct 2015 07:28:00 GMT", 1445412470.5, 9.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 1445412480.0, 0.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 1445412490.0, -10.0),
        ("Wed, 21 Oct 2015 7:28:00 GMT", 1445412470.0, 10.0),
        ("Wed, 21 Oct 2015 07:28:00 UTC", 1445412470.0, 0.0),
        ("Wed, 31 Feb 2015 07:28:00 GMT", 0.0, 0.0),
        ("21 Oct 2015 07:28:00 GMT", 0.0, 0.0),
    ],
)
def test_retry_after_parsing(value: str | None, now: float, expected: float) -> None:
    assert retry_after_seconds(value, now) == expected


def test_retry_after_longer_than_the_deadline_gives_up(server: Receiver, pool: Pool) -> None:
    server.script(Reply(503, b"maintenance", {"Retry-After": "3600"}), Reply(200))
    waits = Waits()
    result = send(server, pool, waits)
    assert result == SendResult(
        ok=False,
        status=503,
        error="server returned HTTP status 503 Service Unavailable: maintenance",
        attempts=1,
        retryable=True,
    )
    assert waits.waits == []


def test_network_error_is_retried_until_the_deadline(pool: Pool) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/api/v1/write"
    result = send_request(endpoint(url, max_backoff="20ms"), BODY, deadline=time.monotonic() + 0.3, pool=pool)
    assert not result.ok
    assert result.status is None
    assert result.retryable
    assert result.attempts >= 2
    # Go's text for it, as Prometheus logs and this project dead-letters it.
    assert result.error == f'Post "{url}": dial tcp 127.0.0.1:{port}: connect: connection refused'


def test_timeout_is_retried(server: Receiver, pool: Pool) -> None:
    server.script(Reply(200, delay_s=1.0), Reply(200))
    result = send(server, pool, remote_timeout="100ms")
    assert (result.ok, result.status, result.attempts) == (True, 200, 2)


def test_deadline_already_passed_sends_nothing(server: Receiver, pool: Pool) -> None:
    result = send_request(endpoint(server.url), BODY, deadline=time.monotonic() - 1, pool=pool)
    assert result == SendResult(
        ok=False,
        status=None,
        error="remote write deadline exceeded before the first attempt",
        attempts=0,
        retryable=True,
    )
    assert server.received == []


def test_secrets_never_in_errors_or_logs(
    server: Receiver, pool: Pool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server.script(Reply(500, b"oops"), Reply(400, b"rejected"))
    refused = f"http://127.0.0.1:{free_port()}/api/v1/write"
    results = [
        send(server, pool),
        send_request(endpoint(refused), BODY, deadline=time.monotonic() + 0.05, pool=pool),
        send_request(
            endpoint(server.url, headers={"X-Bad": SecretStr(f"{SECRET}\r\nInjected: 1")}),
            BODY,
            deadline=time.monotonic() + 5,
            pool=pool,
        ),
    ]
    assert [r.ok for r in results] == [False, False, False]
    assert results[2] == SendResult(
        ok=False,
        status=None,
        error="invalid header value in one of the endpoint's headers (X-Bad)",
        attempts=1,
        retryable=False,
    )
    texts = [str(r) for r in results] + [caplog.text, repr(endpoint(server.url))]
    assert caplog.records, "the retries were logged"
    for text in texts:
        assert SECRET not in text


def test_userinfo_in_url_is_basic_auth(server: Receiver, pool: Pool) -> None:
    url = server.url.replace("http://", "http://user:p%40ss@")
    result = send_request(endpoint(url, headers={}), BODY, deadline=time.monotonic() + 5, pool=pool)
    assert result == SendResult(ok=True, status=200, error=None, attempts=1)
    assert server.received[0].headers["Authorization"] == "Basic dXNlcjpwQHNz"  # user:p@ss


def test_password_in_url_is_redacted_in_errors(pool: Pool) -> None:
    port = free_port()
    url = f"http://user:{SECRET}@127.0.0.1:{port}/api/v1/write"
    result = send_request(endpoint(url, headers={}), BODY, deadline=time.monotonic() + 0.05, pool=pool)
    assert result.error == (
        f'Post "http://user:***@127.0.0.1:{port}/api/v1/write": '
        f"dial tcp 127.0.0.1:{port}: connect: connection refused"
    )


# Remote write 2.0 (REFERENCE §12): headers, the -Written check, the 415 fallback.

HISTOGRAM = NativeHistogram(
    schema=0,
    zero_threshold=0.0,
    count=2,
    sum=3.0,
    zero_count=0,
    positive_spans=((0, 1),),
    positive_buckets=(2,),
)
V2_SERIES = [
    v2.Series(
        [("__name__", "up"), ("job", "node")],
        samples=[v2.Sample(1.0, 1_700_000_000_000)],
        exemplars=[Exemplar((("trace_id", "abc"),), 1.0, 1_700_000_000_000)],
        metadata=Metadata("gauge", "Up or not."),
    ),
    v2.Series(
        [("__name__", "latency"), ("job", "node")],
        histograms=[v2.HistogramPoint(HISTOGRAM, 1_700_000_000_000)],
    ),
]
[(V2_BODY, V2_COUNTS)] = v2.build_requests(V2_SERIES)
ALL_WRITTEN = {
    "X-Prometheus-Remote-Write-Samples-Written": "1",
    "X-Prometheus-Remote-Write-Histograms-Written": "1",
    "X-Prometheus-Remote-Write-Exemplars-Written": "1",
}
NOTHING_WRITTEN_ERROR = (
    "sent v2 request with 1 samples, 1 histograms and 1 exemplars; got 2xx, but PRW 2.0 response header "
    "statistics indicate 0 samples, 0 histograms and 0 exemplars were accepted; assumining failure e.g. the "
    "target only supports PRW 1.0 prometheus.WriteRequest, but does not check the Content-Type header "
    "correctly"
)


def send_v2(
    server: Receiver,
    pool: Pool,
    waits: Waits | None = None,
    counts: v2.Counts | None = None,
    **overrides: object,
) -> SendResult:
    return send_compressed(
        endpoint(server.url, **overrides),
        v1.compress(V2_BODY),
        deadline=time.monotonic() + 30,
        protocol="2.0",
        pool=pool,
        sleep=waits if waits is not None else time.sleep,
        counts=counts,
    )


def test_counts_of_the_built_request() -> None:
    assert (V2_COUNTS.samples, V2_COUNTS.histograms, V2_COUNTS.exemplars) == (1, 1, 1)


def test_v2_headers_and_body(server: Receiver, pool: Pool) -> None:
    server.script(Reply(204, headers=ALL_WRITTEN))
    result = send_v2(server, pool, counts=V2_COUNTS)
    assert result == SendResult(
        ok=True, status=204, error=None, attempts=1, written=v2.WrittenStats(1, 1, 1, confirmed=True)
    )
    (received,) = server.received
    expected = {**v2.HEADERS, "Authorization": f"Bearer {SECRET}", "X-Scope-OrgID": SECRET}
    assert {name: received.headers[name] for name in expected} == expected
    assert received.headers["Content-Type"] == "application/x-protobuf;proto=io.prometheus.write.v2.Request"
    assert received.headers["X-Prometheus-Remote-Write-Version"] == "2.0.0"
    assert bytes(cramjam.snappy.decompress_raw(received.body)) == V2_BODY
    assert [s.labels for s in decode.decode_request_v2(received.body)] == [s.labels for s in V2_SERIES]


@pytest.mark.parametrize(
    ("headers", "ok", "written"),
    [
        (ALL_WRITTEN, True, v2.WrittenStats(1, 1, 1, confirmed=True)),
        # one header is enough: the others count 0 (the spec), and something was written
        ({"X-Prometheus-Remote-Write-Samples-Written": "1"}, True, v2.WrittenStats(1, confirmed=True)),
        # fewer than sent is still a success for Prometheus (partial writes are not handled yet)
        (
            {"X-Prometheus-Remote-Write-Exemplars-Written": "1"},
            True,
            v2.WrittenStats(0, 0, 1, confirmed=True),
        ),
        # an unparsable value counts 0 and is no failure in itself
        (
            {**ALL_WRITTEN, "X-Prometheus-Remote-Write-Histograms-Written": "x"},
            True,
            v2.WrittenStats(1, 0, 1, True, ('strconv.Atoi: parsing "x": invalid syntax',)),
        ),
        # no header at all: a 1.0 receiver that ignored the Content-Type
        ({}, False, v2.WrittenStats()),
        # confirmed, but nothing written: Prometheus fails it too (NoDataWritten)
        ({"X-Prometheus-Remote-Write-Samples-Written": "0"}, False, v2.WrittenStats(confirmed=True)),
        ({"X-Prometheus-Remote-Write-Samples-Written": ""}, False, v2.WrittenStats()),
    ],
)
def test_v2_written_headers(
    server: Receiver, pool: Pool, headers: dict[str, str], ok: bool, written: v2.WrittenStats
) -> None:
    server.script(Reply(200, headers=headers), Reply(200, headers=ALL_WRITTEN))
    result = send_v2(server, pool, counts=V2_COUNTS)
    if ok:
        assert result == SendResult(ok=True, status=200, error=None, attempts=1, written=written)
    else:
        # Prometheus's non-recoverable error: never retried
        assert result == SendResult(False, 200, NOTHING_WRITTEN_ERROR, 1, retryable=False, written=written)
    assert len(server.received) == 1


def test_v2_counts_read_from_the_body_when_not_given(server: Receiver, pool: Pool) -> None:
    server.script(Reply(204))
    assert send_v2(server, pool) == SendResult(
        False, 204, NOTHING_WRITTEN_ERROR, 1, written=v2.WrittenStats()
    )


def test_v2_empty_request_needs_no_confirmation(server: Receiver, pool: Pool) -> None:
    server.script(Reply(204))
    result = send_compressed(
        endpoint(server.url), v1.compress(b""), deadline=time.monotonic() + 5, protocol="2.0", pool=pool
    )
    assert result == SendResult(ok=True, status=204, error=None, attempts=1, written=v2.WrittenStats())


def test_v2_body_that_does_not_decompress_counts_nothing(server: Receiver, pool: Pool) -> None:
    server.script(Reply(204))
    result = send_compressed(
        endpoint(server.url), b"\xff\xff\xff", deadline=time.monotonic() + 5, protocol="2.0", pool=pool
    )
    assert result == SendResult(ok=True, status=204, error=None, attempts=1, written=v2.WrittenStats())


def test_v2_415_returns_at_once_and_is_remembered(server: Receiver, pool: Pool) -> None:
    server.script(Reply(415, b"unsupported proto\n"), Reply(204, headers=ALL_WRITTEN))
    primary = endpoint(server.url)
    assert negotiated_protocol(primary, "2.0") == "2.0"
    result = send_v2(server, pool, counts=V2_COUNTS)
    assert result == SendResult(
        ok=False,
        status=415,
        error="server returned HTTP status 415 Unsupported Media Type: unsupported proto",
        attempts=1,
        retryable=False,
        unsupported=True,
    )
    assert len(server.received) == 1
    assert negotiated_protocol(primary, "2.0") == "1.0"
    assert negotiated_protocol(primary, "1.0") == "1.0"
    # remembered per endpoint (name and URL): another endpoint still gets 2.0
    assert negotiated_protocol(endpoint(server.url, name="other"), "2.0") == "2.0"
    assert negotiated_protocol(endpoint(server.url + "/other"), "2.0") == "2.0"


def test_415_to_a_1_0_request_is_a_plain_4xx(server: Receiver, pool: Pool) -> None:
    server.script(Reply(415, b"no"))
    result = send(server, pool)
    assert result == SendResult(
        ok=False, status=415, error="server returned HTTP status 415 Unsupported Media Type: no", attempts=1
    )
    assert negotiated_protocol(endpoint(server.url), "2.0") == "2.0"


def test_v2_retries_like_1_0(server: Receiver, pool: Pool) -> None:
    server.script(
        Reply(503, headers={"X-Prometheus-Remote-Write-Samples-Written": "1"}),
        Reply(429),
        Reply(200, headers=ALL_WRITTEN),
    )
    waits = Waits()
    result = send_v2(server, pool, waits, counts=V2_COUNTS)
    assert result == SendResult(True, 200, None, 3, written=v2.WrittenStats(1, 1, 1, confirmed=True))
    assert waits.waits == [0.001, 0.002]
    assert [r.headers.get("Retry-Attempt") for r in server.received] == [None, "1", "2"]
    assert all(r.headers["X-Prometheus-Remote-Write-Version"] == "2.0.0" for r in server.received)


def test_v2_server_error_until_the_deadline_is_retryable(server: Receiver, pool: Pool) -> None:
    server.script(Reply(503, b"busy", {"Retry-After": "3600"}))
    result = send_v2(server, pool, counts=V2_COUNTS)
    assert result == SendResult(
        False, 503, "server returned HTTP status 503 Service Unavailable: busy", 1, retryable=True
    )


def test_unknown_protocol_is_refused(server: Receiver, pool: Pool) -> None:
    unknown: Any = "3.0"
    with pytest.raises(ValueError) as raised:
        send_compressed(endpoint(server.url), b"", deadline=time.monotonic() + 5, protocol=unknown, pool=pool)
    assert str(raised.value) == "remote write protocol must be one of 1.0, 2.0, not '3.0'"
    assert server.received == []


def bare_series(samples: int, histograms: int, exemplars: int) -> v2.Series:
    name = f"m{samples}{histograms}{exemplars}"
    return v2.Series(
        [("__name__", name)],
        samples=[v2.Sample(float(i), 1000 + i) for i in range(samples)],
        histograms=[v2.HistogramPoint(HISTOGRAM, 1000 + i, 999) for i in range(histograms)],
        exemplars=[Exemplar((("id", str(i)),), 0.5, None) for i in range(exemplars)],
        metadata=Metadata("counter", "help", "seconds"),
    )


@pytest.mark.parametrize(
    "series",
    [
        [],
        [bare_series(1, 0, 0)],
        [bare_series(0, 3, 2)],
        [bare_series(200, 0, 5), bare_series(0, 1, 0), bare_series(2, 0, 200)],
    ],
)
def test_request_counts_match_the_builder(series: list[v2.Series]) -> None:
    for body, counts in v2.build_requests(series) or [(b"", v2.Counts())]:
        assert request_counts(body) == counts


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # a TimeSeries with a sample (field 2), then a truncated tag: what precedes it counts
        ("2a021200" + "ff", v2.Counts(1, 0, 0)),
        # a TimeSeries whose length runs past the end, or whose length is missing
        ("2a0512", v2.Counts()),
        ("2a", v2.Counts()),
        # varint, fixed64 and fixed32 fields are skipped, inside a TimeSeries and at the top
        ("2a0a" + "0801" + "1a00" + "2200" + "2200" + "1200", v2.Counts(1, 1, 2)),
        ("2a0b" + "09" + "00" * 8 + "1a00", v2.Counts(0, 1, 0)),
        ("09" + "00" * 8 + "15" + "00" * 4 + "2a021200", v2.Counts(1, 0, 0)),
        # a group wire type (3) stops the walk where it is
        ("2a021200" + "2a03" + "1a00" + "0b", v2.Counts(1, 1, 0)),
        # truncated fixed64, fixed32 and varint values
        ("09" + "00" * 7, v2.Counts()),
        ("15" + "00" * 3, v2.Counts()),
        ("08ff", v2.Counts()),
    ],
)
def test_request_counts_of_malformed_bodies(body: str, expected: v2.Counts) -> None:
    assert request_counts(bytes.fromhex(body)) == expected


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_request_counts_never_raises(body: bytes) -> None:
    counts = request_counts(body)
    assert min(counts.samples, counts.histograms, counts.exemplars) >= 0
    # every count needs at least two bytes of a TimeSeries entry
    assert counts.samples + counts.histograms + counts.exemplars <= len(body) // 2


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(0, 3)), max_size=5))
def test_request_counts_of_built_requests(shapes: list[tuple[int, int, int]]) -> None:
    series = [
        v2.Series(
            [("__name__", f"m{index}")],
            samples=[v2.Sample(1.0, 1000 + i) for i in range(samples)],
            histograms=[
                v2.HistogramPoint(HISTOGRAM, 1000 + i) for i in range(histograms if not samples else 0)
            ],
            exemplars=[Exemplar((("id", str(i)),), 0.5, 7) for i in range(exemplars)],
        )
        for index, (samples, histograms, exemplars) in enumerate(shapes)
    ]
    for body, counts in v2.build_requests(series, max_samples=4):
        assert request_counts(body) == counts
