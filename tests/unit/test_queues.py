"""queues.py against moto queues built from template.yaml: batching, delays, failed entries."""

from collections.abc import Callable
from typing import Any

import pytest
from promscrape.messages import PlannedScrape, ShardMessage
from promscrape.queues import (
    MAX_BATCH_BYTES,
    MAX_SHARD_MESSAGE_BYTES,
    SendError,
    send_dead_letter,
    send_shards,
)

SCHEDULED_MS = 1_764_090_000_000


def _shard(index: int, targets: int = 1, padding: int = 0) -> ShardMessage:
    return ShardMessage(
        shard_id=f"node/{index}",
        job={"name": "node", "forward_to": ["local"], "note": "x" * padding},
        remote_write=[{"name": "local", "url": "http://127.0.0.1:9090/api/v1/write"}],
        scheduled_ms=SCHEDULED_MS,
        targets=[
            PlannedScrape(
                url=f"http://h{index}-{t}:9100/metrics",
                labels={"instance": f"h{index}-{t}:9100", "job": "node"},
                interval_ms=60_000,
                timeout_ms=10_000,
                due_ms=SCHEDULED_MS + index * 1000,
            )
            for t in range(targets)
        ],
    )


def _record_batches(client: Any) -> list[list[dict[str, Any]]]:
    """The Entries of every SendMessageBatch request the client makes (a botocore event hook)."""
    calls: list[list[dict[str, Any]]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        calls.append(list(params["Entries"]))

    client.meta.events.register("provide-client-params.sqs.SendMessageBatch", record)
    return calls


def _fail_entries(client: Any, should_fail: Callable[[int, str], bool], *, sender_fault: bool) -> list[int]:
    """Fault injection on the real responses: entries chosen by (call number, id) are reported
    Failed (SQS's InternalError), as SQS does under stress. Returns a list counting the calls."""
    calls: list[int] = []

    def after_call(parsed: dict[str, Any], **_: Any) -> None:
        calls.append(len(calls))
        kept = []
        for entry in parsed.get("Successful", []):
            if should_fail(len(calls), entry["Id"]):
                parsed.setdefault("Failed", []).append(
                    {
                        "Id": entry["Id"],
                        "SenderFault": sender_fault,
                        "Code": "InternalError",
                        "Message": "try again",
                    }
                )
            else:
                kept.append(entry)
        parsed["Successful"] = kept

    client.meta.events.register("after-call.sqs.SendMessageBatch", after_call)
    return calls


def test_shards_go_out_in_tens_with_their_delays(aws: Any) -> None:
    batches = _record_batches(aws.sqs)
    messages = [(_shard(i), i * 2) for i in range(23)]
    assert send_shards(aws.sqs, aws.scrape_queue_url, messages) == 23
    assert [len(batch) for batch in batches] == [10, 10, 3]
    queued = sorted(aws.queued(aws.scrape_queue_url), key=lambda m: m.delay_s)
    assert [(ShardMessage.model_validate_json(m.body), m.delay_s) for m in queued] == messages


def test_delayed_shards_are_not_receivable_before_their_time(aws: Any) -> None:
    send_shards(aws.sqs, aws.scrape_queue_url, [(_shard(0), 0), (_shard(1), 30), (_shard(2), 900)])
    received = aws.receive_all(aws.scrape_queue_url)
    assert [ShardMessage.model_validate_json(m["Body"]).shard_id for m in received] == ["node/0"]
    attributes = aws.sqs.get_queue_attributes(
        QueueUrl=aws.scrape_queue_url, AttributeNames=["ApproximateNumberOfMessagesDelayed"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessagesDelayed"] == "2"


def test_release_delays_lets_a_test_receive_delayed_shards_now(aws: Any) -> None:
    send_shards(aws.sqs, aws.scrape_queue_url, [(_shard(0), 900)])
    assert aws.receive_all(aws.scrape_queue_url) == []
    aws.release_delays(aws.scrape_queue_url)
    (received,) = aws.receive_all(aws.scrape_queue_url)
    assert ShardMessage.model_validate_json(received["Body"]) == _shard(0)


@pytest.mark.parametrize("delay", [-1, 901, 3600])
def test_delays_outside_sqs_range_are_refused_before_sending(aws: Any, delay: int) -> None:
    with pytest.raises(ValueError, match=rf"shard node/1: DelaySeconds {delay} is outside 0\.\.900"):
        send_shards(aws.sqs, aws.scrape_queue_url, [(_shard(0), 0), (_shard(1), delay)])
    assert aws.queued(aws.scrape_queue_url) == []


def test_oversized_shards_are_refused_naming_the_shard(aws: Any) -> None:
    with pytest.raises(ValueError, match=r"shard node/0: message of \d+ bytes exceeds 262144"):
        send_shards(aws.sqs, aws.scrape_queue_url, [(_shard(0, padding=MAX_SHARD_MESSAGE_BYTES), 0)])


def test_batches_stay_under_the_request_size_limit(aws: Any) -> None:
    batches = _record_batches(aws.sqs)
    messages = [(_shard(i, padding=200_000), 0) for i in range(10)]
    send_shards(aws.sqs, aws.scrape_queue_url, messages)
    assert [len(batch) for batch in batches] == [5, 5]
    assert all(sum(len(e["MessageBody"].encode()) for e in batch) <= MAX_BATCH_BYTES for batch in batches)
    assert len(aws.queued(aws.scrape_queue_url)) == 10


def test_failed_entries_are_retried_once(aws: Any) -> None:
    batches = _record_batches(aws.sqs)
    calls = _fail_entries(
        aws.sqs, lambda call, entry_id: call == 1 and entry_id in ("m3", "m7"), sender_fault=False
    )
    assert send_shards(aws.sqs, aws.scrape_queue_url, [(_shard(i), 0) for i in range(10)]) == 10
    assert len(calls) == 2
    assert [entry["Id"] for entry in batches[1]] == ["m3", "m7"]


def test_entries_failing_twice_raise_naming_the_shards(aws: Any) -> None:
    calls = _fail_entries(aws.sqs, lambda call, entry_id: entry_id == "m12", sender_fault=False)
    with pytest.raises(SendError) as raised:
        send_shards(aws.sqs, aws.scrape_queue_url, [(_shard(i), 0) for i in range(15)])
    assert raised.value.failed == {"node/12": "InternalError: try again"}
    assert str(raised.value) == "SQS did not accept 1 message(s): node/12 (InternalError: try again)"
    assert len(calls) == 3  # two batches, one retry


def test_sender_faults_are_not_retried(aws: Any) -> None:
    calls = _fail_entries(aws.sqs, lambda call, entry_id: entry_id == "m0", sender_fault=True)
    with pytest.raises(SendError, match="node/0"):
        send_shards(aws.sqs, aws.scrape_queue_url, [(_shard(0), 0), (_shard(1), 0)])
    assert len(calls) == 1


def test_dead_letters_carry_body_and_attributes(aws: Any) -> None:
    body = '{"kind": "remote_write", "endpoint": "local"}'
    message_id = send_dead_letter(
        aws.sqs,
        aws.dead_letter_queue_url,
        body,
        {"kind": "remote_write", "endpoint": "local", "sample_count": 2000},
    )
    (received,) = aws.receive_all(aws.dead_letter_queue_url)
    assert received["MessageId"] == message_id
    assert received["Body"] == body
    assert received["MessageAttributes"] == {
        "kind": {"DataType": "String", "StringValue": "remote_write"},
        "endpoint": {"DataType": "String", "StringValue": "local"},
        "sample_count": {"DataType": "Number", "StringValue": "2000"},
    }


def test_dead_letters_without_attributes(aws: Any) -> None:
    send_dead_letter(aws.sqs, aws.dead_letter_queue_url, "payload")
    (received,) = aws.receive_all(aws.dead_letter_queue_url)
    assert received["Body"] == "payload"
    assert "MessageAttributes" not in received
