"""`promscrape dlq list` / `redrive`: template.yaml's queues and table in moto, a real receiver on 127.0.0.1.

Dead letters are made by the scraper's own path (a send that failed, then DeadLetter.from_request on
the encoded batch) and the receiver decodes what arrives with the independent decoder.
"""

import io
import re
import struct
import time
from collections.abc import Iterator

import pytest
from aws_fixtures import AwsResources
from http_servers import LocalServer, Recorder, Reply, free_port
from promscrape import dlq
from promscrape.cli import main
from promscrape.config import RemoteWriteEndpoint
from promscrape.messages import PlannedScrape, ShardMessage
from promscrape.queues import send_dead_letter
from promscrape.remote_write import decode, v1, v2
from promscrape.remote_write.deadletter import DeadLetter
from promscrape.remote_write.send import send_compressed, send_request

SECRET = "dlq-t0ken-s3cr3t"
SHARD_SECRET = "shard-b3arer-s3cr3t"
STALE_BITS = 0x7FF0000000000002
STALE = float(struct.unpack("<d", struct.pack("<Q", STALE_BITS))[0])
SERIES = [
    ((("__name__", "up"), ("instance", "a:9100"), ("job", "node")), 1.0, 1_700_000_000_000),
    ((("__name__", "gone"), ("instance", "a:9100"), ("job", "node")), STALE, 1_700_000_000_000),
    ((("__name__", "temp"), ("instance", "a:9100"), ("job", "node")), -0.25, 1_700_000_000_123),
]
CREATED_MS = 1_700_000_060_000


@pytest.fixture(autouse=True)
def short_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto answers at once; the 1 s long poll only matters against real SQS."""
    monkeypatch.setattr(dlq, "RECEIVE_WAIT_S", 0)


@pytest.fixture
def receiver() -> Iterator[tuple[str, Recorder]]:
    recorder = Recorder(Reply(204))
    with LocalServer({"/api/v1/write": recorder}) as server:
        yield f"{server.base}/api/v1/write", recorder


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, out, err)
    return code, out.getvalue(), err.getvalue()


def endpoint_item(url: str, name: str = "primary") -> dict[str, object]:
    """The endpoint as the Targets table stores it: secrets in clear, fast backoff for the tests."""
    return {
        "name": name,
        "url": url,
        "headers": {"X-Scope-OrgID": SECRET},
        "min_backoff": "1ms",
        "max_backoff": "5ms",
    }


def configure(aws: AwsResources, *endpoints: dict[str, object]) -> None:
    aws.store().put_documents(jobs=[], endpoints=list(endpoints))


def encoded_batch() -> tuple[bytes, int]:
    series = [v1.encode_timeseries(labels, [(value, ts)]) for labels, value, ts in SERIES]
    [(body, count)] = v1.build_requests(series, [1] * len(series))
    return body, count


def dead_letter(name: str = "primary") -> DeadLetter:
    """What the scraper puts on the DLQ: the batch, after a send to an endpoint that refused it."""
    endpoint = RemoteWriteEndpoint.model_validate(
        endpoint_item(f"http://127.0.0.1:{free_port()}/api/v1/write", name)
    )
    body, count = encoded_batch()
    result = send_request(endpoint, body, deadline=time.monotonic() + 0.05)
    assert not result.ok and result.error is not None
    return DeadLetter.from_request(
        endpoint, body, error=result.error, sample_count=count, created_ms=CREATED_MS
    )


def enqueue(aws: AwsResources, letter: DeadLetter) -> str:
    attributes = {"kind": letter.kind, "endpoint": letter.endpoint_name, "sample_count": letter.sample_count}
    return send_dead_letter(aws.sqs, aws.dead_letter_queue_url, letter.to_json(), attributes)


def shard_message() -> ShardMessage:
    """A shard that kept failing; its endpoints carry their secrets, as on the scrape queue."""
    return ShardMessage(
        shard_id="node-12-0",
        job={"name": "node", "scrape_interval": "15s"},
        remote_write=[{"name": "primary", "url": "http://x/api", "headers": {"Authorization": SHARD_SECRET}}],
        scheduled_ms=CREATED_MS - 30_000,
        targets=[
            PlannedScrape(
                url="http://a:9100/metrics",
                labels={"job": "node"},
                interval_ms=15_000,
                timeout_ms=10_000,
                due_ms=0,
            )
        ],
    )


def bodies_on_queue(aws: AwsResources) -> list[str]:
    """Every message receivable NOW (so: none left invisible), removed as read."""
    return sorted(message["Body"] for message in aws.receive_all(aws.dead_letter_queue_url))


def bits(value: float) -> int:
    return int(struct.unpack("<Q", struct.pack("<d", value))[0])


def test_redrive_delivers_the_same_samples_and_deletes(
    aws_env: AwsResources, receiver: tuple[str, Recorder]
) -> None:
    url, recorder = receiver
    configure(aws_env, endpoint_item(url))
    message_id = enqueue(aws_env, dead_letter())

    code, out, err = run(["dlq", "redrive"])

    assert (code, err) == (0, "")
    assert out == (
        f"{message_id}  remote_write  primary  1.0  3 sample(s)  delivered: HTTP 204, 1 attempt(s)\n"
        "total: 1 delivered (3 sample(s)), 0 failed, 0 left, 0 discarded\n"
    )
    expected = sorted((tuple(sorted(labels)), value, ts) for labels, value, ts in SERIES)
    received = recorder.samples()
    assert [(labels, ts) for labels, _, ts in received] == [(labels, ts) for labels, _, ts in expected]
    assert [bits(value) for _, value, _ in received] == [bits(value) for _, value, _ in expected]
    assert STALE_BITS in {bits(value) for _, value, _ in received}
    # the current URL and headers come from the Targets table (the letter named a dead port)
    assert [r.headers["X-Scope-OrgID"] for r in recorder.received] == [SECRET]
    assert bodies_on_queue(aws_env) == []
    assert SECRET not in out


def test_failed_replay_stays_visible_and_exits_1(aws_env: AwsResources) -> None:
    recorder = Recorder(Reply(500, b"overloaded\n"))
    with LocalServer({"/api/v1/write": recorder}) as server:
        configure(aws_env, endpoint_item(f"{server.base}/api/v1/write"))
        letter = dead_letter()
        message_id = enqueue(aws_env, letter)
        code, out, err = run(["dlq", "redrive", "--timeout", "100ms"])

    assert (code, err) == (1, "")
    lines = out.splitlines()
    assert re.fullmatch(
        re.escape(f"{message_id}  remote_write  primary  1.0  3 sample(s)  failed: ")
        + r"server returned HTTP status 500 Internal Server Error: overloaded, [1-9][0-9]* attempt\(s\)",
        lines[0],
    ), lines[0]
    assert lines[1:] == ["total: 0 delivered (0 sample(s)), 1 failed, 0 left, 0 discarded"]
    assert len(recorder.received) >= 1
    assert bodies_on_queue(aws_env) == [letter.to_json()]


def test_endpoint_no_longer_configured_is_reported_and_left(aws_env: AwsResources) -> None:
    letter = dead_letter("retired")
    message_id = enqueue(aws_env, letter)

    code, out, _ = run(["dlq", "redrive"])

    assert code == 1
    assert out == (
        f"{message_id}  remote_write  retired  1.0  3 sample(s)  failed: remote_write endpoint 'retired' is "
        "not in the Targets table (apply a config that has it to replay its dead letters)\n"
        "total: 0 delivered (0 sample(s)), 1 failed, 0 left, 0 discarded\n"
    )
    assert bodies_on_queue(aws_env) == [letter.to_json()]


def test_an_error_echoing_a_secret_is_redacted(aws_env: AwsResources) -> None:
    recorder = Recorder(Reply(401, f"token {SECRET} is not valid\n".encode()))
    with LocalServer({"/api/v1/write": recorder}) as server:
        configure(aws_env, endpoint_item(f"{server.base}/api/v1/write"))
        message_id = enqueue(aws_env, dead_letter())
        code, out, err = run(["dlq", "redrive"])

    assert code == 1
    assert out.splitlines()[0] == (
        f"{message_id}  remote_write  primary  1.0  3 sample(s)  failed: server returned HTTP status 401 "
        "Unauthorized: token *** is not valid, 1 attempt(s) (the receiver refuses this batch: a retry "
        "will not help)"
    )
    assert SECRET not in out + err


def test_list_changes_nothing_and_shows_no_secret(
    aws_env: AwsResources, receiver: tuple[str, Recorder]
) -> None:
    url, recorder = receiver
    configure(aws_env, endpoint_item(url))
    letter = dead_letter()
    enqueue(aws_env, letter)
    shard = shard_message()
    aws_env.sqs.send_message(QueueUrl=aws_env.dead_letter_queue_url, MessageBody=shard.model_dump_json())
    aws_env.sqs.send_message(QueueUrl=aws_env.dead_letter_queue_url, MessageBody="hello")

    first = run(["dlq", "list"])
    second = run(["dlq", "list"])

    assert first[0] == 0 and first == second
    assert first[1].splitlines()[0].split() == [
        "MESSAGE",
        "ID",
        "KIND",
        "ENDPOINT",
        "PROTOCOL",
        "SAMPLES",
        "AGE",
        "ERROR",
    ]
    assert len(first[1].splitlines()) == 4
    assert SECRET not in first[1] and SHARD_SECRET not in first[1]
    assert recorder.received == []
    assert bodies_on_queue(aws_env) == sorted([letter.to_json(), shard.model_dump_json(), "hello"])


def test_list_table_exact(aws_env: AwsResources) -> None:
    letter = dead_letter()
    letter_id = enqueue(aws_env, letter)
    shard_id = aws_env.sqs.send_message(
        QueueUrl=aws_env.dead_letter_queue_url, MessageBody=shard_message().model_dump_json()
    )["MessageId"]

    entries = dlq.list_entries(aws_env.sqs, aws_env.dead_letter_queue_url)
    table = dlq.format_table(entries, now_ms=CREATED_MS + 90_500)

    width = len(letter_id)
    assert table.splitlines() == [
        f"{'MESSAGE ID'.ljust(width)}  KIND          ENDPOINT  PROTOCOL  SAMPLES  AGE    ERROR",
        f"{shard_id}  shard         -         -         -        2m     shard node-12-0 of job node "
        "(1 target(s), planned 2023-11-14T22:13:50Z) kept failing",
        f"{letter_id}  remote_write  primary   1.0       3        1m30s  {letter.error}",
    ]
    assert len(bodies_on_queue(aws_env)) == 2


def test_empty_queue() -> None:
    assert dlq.format_table([], now_ms=0) == "the dead-letter queue is empty\n"


CLASSIFY_VECTORS = [
    ("hello", "unrecognised", "not JSON"),
    ("[1, 2]", "unrecognised", "not a JSON object"),
    ('{"a": 1}', "unrecognised", "neither a remote-write dead letter nor a shard message"),
    (
        '{"kind": "remote_write", "endpoint_name": "p", "endpoint_url": "http://x", "payload": "%%%", '
        '"error": "e", "sample_count": 1, "created_ms": 0}',
        "unrecognised",
        "invalid remote_write dead letter: payload: payload is not base64: Only base64 data is allowed",
    ),
    (
        '{"shard_id": "s"}',
        "unrecognised",
        "invalid shard message: job is required; remote_write is required; "
        "scheduled_ms is required; targets is required",
    ),
    (
        DeadLetter.from_request(
            RemoteWriteEndpoint(name="p", url="http://x/api"), encoded_batch()[0], error="e", sample_count=3
        ).to_json(),
        "remote_write",
        "",
    ),
    (shard_message().model_dump_json(), "shard", ""),
]


@pytest.mark.parametrize(("body", "kind", "problem"), CLASSIFY_VECTORS)
def test_classify(body: str, kind: str, problem: str) -> None:
    entry = dlq.classify("id-1", body, 5)
    assert (entry.kind, entry.problem) == (kind, problem)


def test_shards_are_left_unless_discarded(aws_env: AwsResources) -> None:
    configure(aws_env)
    body = shard_message().model_dump_json()
    shard_id = aws_env.sqs.send_message(QueueUrl=aws_env.dead_letter_queue_url, MessageBody=body)["MessageId"]
    unknown_id = aws_env.sqs.send_message(QueueUrl=aws_env.dead_letter_queue_url, MessageBody="hello")[
        "MessageId"
    ]

    left = run(["dlq", "redrive"])
    dry = run(["dlq", "redrive", "--discard-shards", "--dry-run"])
    assert sorted(left[1].splitlines()[:2]) == sorted(
        [
            f"{shard_id}  shard  -  -  -  left: a late scrape is worthless; --discard-shards removes it",
            f"{unknown_id}  unrecognised  -  -  -  left: not JSON",
        ]
    )
    assert left[0] == 0 and left[1].endswith(
        "total: 0 delivered (0 sample(s)), 0 failed, 2 left, 0 discarded\n"
    )
    assert dry[0] == 0 and f"{shard_id}  shard  -  -  -  would discard\n" in dry[1]
    assert dry[1].endswith(
        "dry run, total: 0 would replay (0 sample(s)), 0 failed, 1 left, 1 would discard\n"
    )

    discarded = run(["dlq", "redrive", "--discard-shards"])
    assert discarded[0] == 0 and f"{shard_id}  shard  -  -  -  discarded\n" in discarded[1]
    assert bodies_on_queue(aws_env) == ["hello"]
    assert SHARD_SECRET not in left[1] + dry[1] + discarded[1]


def test_dry_run_sends_and_deletes_nothing(aws_env: AwsResources, receiver: tuple[str, Recorder]) -> None:
    url, recorder = receiver
    configure(aws_env, endpoint_item(url))
    letter = dead_letter()
    message_id = enqueue(aws_env, letter)

    code, out, _ = run(["dlq", "redrive", "--dry-run"])

    assert code == 0
    assert out == (
        f"{message_id}  remote_write  primary  1.0  3 sample(s)  would replay\n"
        "dry run, total: 1 would replay (3 sample(s)), 0 failed, 0 left, 0 would discard\n"
    )
    assert recorder.received == []
    assert bodies_on_queue(aws_env) == [letter.to_json()]


def test_endpoint_filter_and_max(aws_env: AwsResources, receiver: tuple[str, Recorder]) -> None:
    url, recorder = receiver
    configure(aws_env, endpoint_item(url), endpoint_item(url, "backup"))
    backup = dead_letter("backup")
    enqueue(aws_env, backup)
    for _ in range(2):
        enqueue(aws_env, dead_letter())

    only_primary_once = run(["dlq", "redrive", "--endpoint", "primary", "--max", "1"])
    assert only_primary_once[0] == 0
    assert only_primary_once[1].splitlines()[-1].startswith("total: 1 delivered (3 sample(s)), 0 failed")
    assert len(recorder.received) == 1

    only_primary = run(["dlq", "redrive", "--endpoint", "primary"])
    assert only_primary[1].splitlines()[-1] == (
        "total: 1 delivered (3 sample(s)), 0 failed, 0 left, 0 discarded, 1 for other endpoints untouched"
    )
    assert len(recorder.received) == 2
    assert bodies_on_queue(aws_env) == [backup.to_json()]


DLQ_ORIGIN = "(the outputs DeadLetterQueueUrl and TargetsTableName of `sam deploy`)"


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        (["DEAD_LETTER_QUEUE_URL"], f"missing environment variable(s): DEAD_LETTER_QUEUE_URL {DLQ_ORIGIN}"),
        (["TARGETS_TABLE"], f"missing environment variable(s): TARGETS_TABLE {DLQ_ORIGIN}"),
        (
            ["TARGETS_TABLE", "DEAD_LETTER_QUEUE_URL"],
            f"missing environment variable(s): DEAD_LETTER_QUEUE_URL, TARGETS_TABLE {DLQ_ORIGIN}",
        ),
    ],
)
def test_missing_variables_are_named(
    aws_env: AwsResources, monkeypatch: pytest.MonkeyPatch, missing: list[str], message: str
) -> None:
    for name in missing:
        monkeypatch.delenv(name)
    for command in (["dlq", "list"], ["dlq", "redrive"]):
        assert run(command) == (2, "", f"promscrape dlq: {message}\n")


def test_queue_url_is_checked(aws_env: AwsResources, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEAD_LETTER_QUEUE_URL", "promscrape-DeadLetterQueue")
    assert run(["dlq", "list"]) == (
        2,
        "",
        "promscrape dlq: invalid environment: DEAD_LETTER_QUEUE_URL: Value error, not an SQS queue URL "
        "(https://<endpoint>/<account>/<name>): 'promscrape-DeadLetterQueue'\n",
    )


def test_max_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run(["dlq", "redrive", "--max", "0"])
    assert exit_info.value.code == 2
    assert "must be a positive integer, not 0" in capsys.readouterr().err


def test_secret_values_cover_headers_and_url_passwords() -> None:
    endpoints = {
        "a": {"name": "a", "url": "https://u:pw-123@x/api", "headers": {"A": "tok", "B": "tok-longer"}},
        "b": {"name": "b", "url": "http://x/api"},
    }
    secrets = dlq.secret_values(endpoints)
    assert secrets == ["tok-longer", "pw-123", "tok"]
    assert dlq.redact("tok-longer tok pw-123 x", secrets) == "*** *** *** x"


def test_invalid_stored_endpoint_fails_its_letters_without_echoing_values(aws_env: AwsResources) -> None:
    configure(aws_env, {**endpoint_item("ftp://host/api"), "headers": {"X-Scope-OrgID": SECRET}})
    letter = dead_letter()
    message_id = enqueue(aws_env, letter)

    code, out, _ = run(["dlq", "redrive"])

    assert code == 1
    assert out.splitlines()[0] == (
        f"{message_id}  remote_write  primary  1.0  3 sample(s)  failed: invalid in the Targets table: "
        'remote_write "primary": url: "ftp://host/api" is not an http:// or https:// URL with a host'
    )
    assert SECRET not in out
    assert bodies_on_queue(aws_env) == [letter.to_json()]


def v2_dead_letter() -> DeadLetter:
    """A remote write 2.0 batch of the same series, after a send that failed."""
    endpoint = RemoteWriteEndpoint.model_validate(
        endpoint_item(f"http://127.0.0.1:{free_port()}/api/v1/write")
    )
    series = [v2.Series(list(labels), samples=[v2.Sample(value, ts)]) for labels, value, ts in SERIES]
    [(body, counts)] = v2.build_requests(series)
    result = send_compressed(
        endpoint, v1.compress(body), deadline=time.monotonic() + 0.05, protocol="2.0", counts=counts
    )
    assert not result.ok and result.error is not None
    return DeadLetter.from_request(
        endpoint, body, error=result.error, sample_count=counts.samples, created_ms=CREATED_MS, protocol="2.0"
    )


def test_v2_letter_is_listed_and_redriven_as_2_0(aws_env: AwsResources) -> None:
    recorder = Recorder(Reply(204, headers={"X-Prometheus-Remote-Write-Samples-Written": "3"}))
    with LocalServer({"/api/v1/write": recorder}) as server:
        configure(aws_env, endpoint_item(f"{server.base}/api/v1/write"))
        letter = v2_dead_letter()
        message_id = enqueue(aws_env, letter)
        listed = run(["dlq", "list"])
        code, out, err = run(["dlq", "redrive"])

    assert listed[0] == 0
    assert listed[1].splitlines()[1].split()[:5] == [message_id, "remote_write", "primary", "2.0", "3"]
    assert (code, err) == (0, "")
    assert out == (
        f"{message_id}  remote_write  primary  2.0  3 sample(s)  delivered: HTTP 204, 1 attempt(s)\n"
        "total: 1 delivered (3 sample(s)), 0 failed, 0 left, 0 discarded\n"
    )
    (received,) = recorder.received
    assert received.headers["Content-Type"] == v2.CONTENT_TYPE
    decoded = decode.decode_request_v2(received.body)
    assert sorted(
        (tuple(d.labels), bits(d.samples[0].value), d.samples[0].timestamp) for d in decoded
    ) == sorted((labels, bits(value), ts) for labels, value, ts in SERIES)
    assert bodies_on_queue(aws_env) == []


def test_v2_letter_refused_with_415_stays(aws_env: AwsResources) -> None:
    recorder = Recorder(Reply(415, b"remote write 2.0 is not accepted here\n"))
    with LocalServer({"/api/v1/write": recorder}) as server:
        configure(aws_env, endpoint_item(f"{server.base}/api/v1/write"))
        letter = v2_dead_letter()
        message_id = enqueue(aws_env, letter)
        code, out, _ = run(["dlq", "redrive"])

    assert code == 1
    assert out.splitlines()[0] == (
        f"{message_id}  remote_write  primary  2.0  3 sample(s)  failed: server returned HTTP status 415 "
        "Unsupported Media Type: remote write 2.0 is not accepted here, 1 attempt(s) (the receiver does not "
        "accept remote write 2.0: this letter cannot be replayed there)"
    )
    assert len(recorder.received) == 1
    assert bodies_on_queue(aws_env) == [letter.to_json()]
