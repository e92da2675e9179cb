"""Dead letters (1.0 and 2.0): JSON round trip, exact payload, and replay to a real HTTP server on
127.0.0.1."""

import base64
import json
import struct
import time
from collections.abc import Iterator

import pytest
import urllib3
from http_servers import LocalServer, Recorder, Reply
from promscrape.config import RemoteWriteEndpoint
from promscrape.exposition.model import Metadata
from promscrape.remote_write import decode, v1, v2
from promscrape.remote_write.deadletter import DeadLetter, replay
from promscrape.remote_write.send import SendResult
from pydantic import SecretStr, ValidationError

SECRET = "dl-s3cr3t"
STALE = float(struct.unpack("<d", struct.pack("<Q", 0x7FF0000000000002))[0])
BODY = v1.encode_timeseries([("__name__", "up"), ("job", "node")], [(STALE, 1_700_000_000_000)])


@pytest.fixture
def receiver() -> Iterator[tuple[str, Recorder]]:
    """A remote-write endpoint accepting everything with 204: its URL and what it received."""
    recorder = Recorder(Reply(204))
    with LocalServer({"/api/v1/write": recorder}) as server:
        yield f"{server.base}/api/v1/write", recorder


def endpoint(url: str, name: str = "primary") -> RemoteWriteEndpoint:
    return RemoteWriteEndpoint.model_validate(
        {"name": name, "url": url, "headers": {"X-Scope-OrgID": SecretStr(SECRET)}, "min_backoff": "1ms"}
    )


def letter() -> DeadLetter:
    return DeadLetter.from_request(
        endpoint("http://127.0.0.1:1/api/v1/write"),
        BODY,
        error="server returned HTTP status 503 Service Unavailable: busy",
        sample_count=1,
        created_ms=1_700_000_060_000,
    )


def test_from_request_fields_and_payload() -> None:
    dead = letter()
    assert dead.kind == "remote_write"
    assert (dead.endpoint_name, dead.endpoint_url) == ("primary", "http://127.0.0.1:1/api/v1/write")
    assert dead.payload == base64.b64encode(v1.compress(BODY)).decode()
    assert dead.body() == v1.compress(BODY)
    assert dead.body_uncompressed() == BODY
    assert (dead.error, dead.sample_count, dead.created_ms) == (
        "server returned HTTP status 503 Service Unavailable: busy",
        1,
        1_700_000_060_000,
    )


def test_json_round_trip_exact() -> None:
    dead = letter()
    text = dead.to_json()
    assert json.loads(text) == {
        "kind": "remote_write",
        "endpoint_name": "primary",
        "endpoint_url": "http://127.0.0.1:1/api/v1/write",
        "protocol": "1.0",
        "payload": base64.b64encode(v1.compress(BODY)).decode(),
        "error": "server returned HTTP status 503 Service Unavailable: busy",
        "sample_count": 1,
        "created_ms": 1_700_000_060_000,
    }
    assert DeadLetter.from_json(text) == dead
    assert DeadLetter.from_json(text.encode()) == dead
    assert SECRET not in text
    assert SECRET not in repr(dead)


def test_stale_marker_survives_the_dead_letter() -> None:
    decoded = decode.decode_write_request(DeadLetter.from_json(letter().to_json()).body())
    assert decoded[0].samples[0].value_bits == 0x7FF0000000000002


def test_created_ms_defaults_to_now() -> None:
    before = int(time.time() * 1000)
    dead = DeadLetter.from_request(endpoint("http://x/"), BODY, error="e", sample_count=1)
    assert before <= dead.created_ms <= int(time.time() * 1000)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"payload": "not base64!"}, "payload is not base64"),
        ({"kind": "other"}, "Input should be 'remote_write'"),
        ({"sample_count": -1}, "greater than or equal to 0"),
        ({"headers": {"a": "b"}}, "Extra inputs are not permitted"),
        ({"created_ms": None}, "Input should be a valid integer"),
        ({"protocol": "2"}, "Input should be '1.0' or '2.0'"),
        ({"protocol": None}, "Input should be '1.0' or '2.0'"),
    ],
)
def test_from_json_rejects(change: dict[str, object], message: str) -> None:
    data = json.loads(letter().to_json()) | change
    with pytest.raises(ValidationError, match=message):
        DeadLetter.from_json(json.dumps(data))


def test_replay_sends_the_exact_body(receiver: tuple[str, Recorder]) -> None:
    url, recorder = receiver
    dead = DeadLetter.from_json(letter().to_json())
    with urllib3.PoolManager() as pool:
        result = replay(dead, endpoint(url), time.monotonic() + 5, pool)
    assert result == SendResult(ok=True, status=204, error=None, attempts=1)
    ((headers, body),) = [(r.headers, r.body) for r in recorder.received]
    assert body == dead.body()
    assert headers["X-Scope-OrgID"] == SECRET
    assert headers["Content-Encoding"] == "snappy"
    assert decode.decode_write_request(body)[0].labels == [("__name__", "up"), ("job", "node")]


def test_replay_refuses_another_endpoint(receiver: tuple[str, Recorder]) -> None:
    url, recorder = receiver
    with pytest.raises(ValueError) as raised:
        replay(letter(), endpoint(url, name="other"), time.monotonic() + 5)
    assert str(raised.value) == "dead letter is for remote_write endpoint 'primary', not 'other'"
    assert recorder.received == []


def test_password_in_the_url_is_not_stored() -> None:
    with_password = RemoteWriteEndpoint.model_validate(
        {"name": "primary", "url": f"https://writer:{SECRET}@mimir.example/api/v1/push"}
    )
    dead = DeadLetter.from_request(with_password, BODY, error="e", sample_count=1)
    assert dead.endpoint_url == "https://writer:***@mimir.example/api/v1/push"
    assert SECRET not in dead.to_json()


def test_letter_without_protocol_is_1_0() -> None:
    """Letters written before remote write 2.0 have no protocol field."""
    document = json.loads(letter().to_json())
    del document["protocol"]
    old = DeadLetter.from_json(json.dumps(document))
    assert old.protocol == "1.0"
    assert old == letter()


V2_SERIES = [
    v2.Series(
        [("__name__", "up"), ("job", "node")],
        samples=[v2.Sample(STALE, 1_700_000_000_000, 1_699_999_000_000)],
        metadata=Metadata("gauge", "Up."),
    )
]
[(V2_BODY, V2_COUNTS)] = v2.build_requests(V2_SERIES)


def v2_letter() -> DeadLetter:
    return DeadLetter.from_request(
        endpoint("http://127.0.0.1:1/api/v1/write"),
        V2_BODY,
        error="e",
        sample_count=V2_COUNTS.samples,
        created_ms=1,
        protocol="2.0",
    )


def test_v2_letter_round_trip() -> None:
    dead = DeadLetter.from_json(v2_letter().to_json())
    assert dead.protocol == "2.0"
    assert json.loads(dead.to_json())["protocol"] == "2.0"
    assert dead.body_uncompressed() == V2_BODY
    (series,) = decode.decode_request_v2(dead.body())
    assert series.labels == [("__name__", "up"), ("job", "node")]
    assert [(s.value_bits, s.timestamp, s.start_timestamp) for s in series.samples] == [
        (0x7FF0000000000002, 1_700_000_000_000, 1_699_999_000_000)
    ]


WRITTEN = {"X-Prometheus-Remote-Write-Samples-Written": "1"}


def test_v2_letter_is_replayed_as_2_0() -> None:
    recorder = Recorder(Reply(204, headers=WRITTEN))
    with LocalServer({"/api/v1/write": recorder}) as server, urllib3.PoolManager() as pool:
        result = replay(v2_letter(), endpoint(f"{server.base}/api/v1/write"), time.monotonic() + 5, pool)
    assert result == SendResult(True, 204, None, 1, written=v2.WrittenStats(1, confirmed=True))
    ((headers, body),) = [(r.headers, r.body) for r in recorder.received]
    assert body == v2_letter().body()
    assert headers["Content-Type"] == v2.CONTENT_TYPE
    assert headers["X-Prometheus-Remote-Write-Version"] == "2.0.0"
    assert headers["X-Scope-OrgID"] == SECRET


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (
            Reply(415, b"proto not accepted"),
            SendResult(
                False,
                415,
                "server returned HTTP status 415 Unsupported Media Type: proto not accepted",
                1,
                unsupported=True,
            ),
        ),
        # 2xx without -Written: the counts of the check are read from the letter's payload
        (
            Reply(200),
            SendResult(
                False,
                200,
                "sent v2 request with 1 samples, 0 histograms and 0 exemplars; got 2xx, but PRW 2.0 "
                "response header statistics indicate 0 samples, 0 histograms and 0 exemplars were accepted; "
                "assumining failure e.g. the target only supports PRW 1.0 prometheus.WriteRequest, but does "
                "not check the Content-Type header correctly",
                1,
                written=v2.WrittenStats(),
            ),
        ),
    ],
)
def test_v2_letter_refused_by_a_1_0_receiver(reply: Reply, expected: SendResult) -> None:
    recorder = Recorder(reply)
    with LocalServer({"/api/v1/write": recorder}) as server, urllib3.PoolManager() as pool:
        assert (
            replay(v2_letter(), endpoint(f"{server.base}/api/v1/write"), time.monotonic() + 5, pool)
            == expected
        )
    assert len(recorder.received) == 1
