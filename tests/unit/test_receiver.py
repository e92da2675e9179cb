"""The built-in remote-write receiver over real HTTP on loopback, fed by our encoder."""

import math
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from promscrape.local.receiver import Receiver
from promscrape.remote_write import v1


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


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


@pytest.mark.parametrize(
    ("path", "body", "headers", "status", "error"),
    [
        ("/api/v1/write", GOOD_BODY, {**v1.HEADERS, "Content-Encoding": "gzip"}, 400, "Content-Encoding"),
        ("/api/v1/write", GOOD_BODY, {**v1.HEADERS, "Content-Type": "text/plain"}, 400, "Content-Type"),
        ("/api/v1/write", b"\xff\xff\xff\xff", v1.HEADERS, 400, "cannot decode"),
        ("/api/v1/write", v1.compress(b"\x0a\x05\x0a\x03\x0a\x01"), v1.HEADERS, 400, "cannot decode"),
        ("/api/v1/push", GOOD_BODY, v1.HEADERS, 404, None),
    ],
)
def test_receiver_refuses_bad_requests(
    receiver: Receiver, path: str, body: bytes, headers: dict[str, str], status: int, error: str | None
) -> None:
    url = receiver.url.replace("/api/v1/write", path)
    assert post(url, body, headers) == status
    assert receiver.counts() == (0, 0, 0)
    if error is None:
        assert receiver.received.errors == []
    else:
        assert len(receiver.received.errors) == 1
        assert error in receiver.received.errors[0]
