"""The scraper handler on events/scrape-queue-event.json: moto from template.yaml, live HTTP servers."""

import copy
import hashlib
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from http_servers import LocalServer, body_route, free_port, read_body
from lambda_harness import FakeLambdaContext
from lambda_harness import load_app as load_lambda_app
from promscrape.remote_write.decode import decode_write_request

REPO = Path(__file__).resolve().parents[2]
EVENT = REPO / "events" / "scrape-queue-event.json"
APP = REPO / "functions" / "scraper" / "app.py"


SECRET = "handler-s3cr3t"
# Unusable (remote_write not a list) and carrying a secret, which pydantic's own error would quote.
BROKEN_SHARD = {
    "version": 1,
    "shard_id": "broken",
    "job": {"name": "node", "forward_to": ["local"]},
    "remote_write": {"local": {"headers": {"Authorization": f"Bearer {SECRET}"}}},
    "scheduled_ms": 0,
    "targets": [],
}


CONTEXT = FakeLambdaContext("promscrape-test-ScraperFunction", memory_limit_in_mb=512, remaining_ms=60_000)


def load_app() -> ModuleType:
    return load_lambda_app(APP, "scraper_app_under_test")


def with_body(record: dict[str, Any], body: str, message_id: str) -> dict[str, Any]:
    out = copy.deepcopy(record)
    out["body"] = body
    out["md5OfBody"] = hashlib.md5(body.encode()).hexdigest()
    out["messageId"] = message_id
    return out


@pytest.fixture
def event() -> dict[str, Any]:
    return json.loads(EVENT.read_text())


def test_event_body_is_a_shard_message(event: dict[str, Any]) -> None:
    from promscrape.config import RemoteWriteEndpoint, ScrapeJob
    from promscrape.messages import ShardMessage

    (record,) = event["Records"]
    assert record["eventSource"] == "aws:sqs"
    assert record["md5OfBody"] == hashlib.md5(record["body"].encode()).hexdigest()
    message = ShardMessage.model_validate_json(record["body"])
    assert ScrapeJob.model_validate(message.job).job_label == "node"
    assert [RemoteWriteEndpoint.model_validate(e).name for e in message.remote_write] == ["local"]
    assert len(message.targets) == 2


def test_handler_scrapes_forwards_and_reports_partial_failures(aws_env, event, capsys) -> None:
    received: list[bytes] = []

    def receive(h) -> None:
        received.append(read_body(h))
        h.send_response(204)
        h.send_header("Content-Length", "0")
        h.end_headers()

    (record,) = event["Records"]
    body = json.loads(record["body"])
    down_port = free_port()
    with (
        LocalServer({"/metrics": body_route(b"node_load1 0.5\ngo_gc_count 3\n")}) as target,
        LocalServer({"/api/v1/write": receive}) as receiver,
    ):
        up_url, down_url = f"{target.base}/metrics", f"http://127.0.0.1:{down_port}/metrics"
        body["targets"][0]["url"] = up_url
        body["targets"][1]["url"] = down_url
        body["remote_write"][0]["url"] = f"{receiver.base}/api/v1/write"
        event["Records"] = [
            with_body(record, json.dumps(body), "good-shard"),
            with_body(record, json.dumps(BROKEN_SHARD), "bad-shard"),
        ]
        app = load_app()
        response = app.lambda_handler(event, CONTEXT)

    assert response == {"batchItemFailures": [{"itemIdentifier": "bad-shard"}]}
    samples = {
        (tuple(sorted(series.labels)), sample.value)
        for request in received
        for series in decode_write_request(request)
        for sample in series.samples
    }
    up_labels = (("instance", "127.0.0.1:9100"), ("job", "node"))
    down_labels = (("env", "demo"), ("instance", "127.0.0.1:9101"), ("job", "node"))
    assert (tuple(sorted({"__name__": "node_load1", **dict(up_labels)}.items())), 0.5) in samples
    assert (tuple(sorted({"__name__": "up", **dict(up_labels)}.items())), 1.0) in samples
    assert (tuple(sorted({"__name__": "up", **dict(down_labels)}.items())), 0.0) in samples
    # go_gc_count is dropped by the job's metric_relabel_configs.
    assert not any(dict(labels)["__name__"] == "go_gc_count" for labels, _ in samples)
    assert len(samples) == 1 + 4 + 4

    rows = aws_env.store().read_status()
    assert sorted((row["url"], row["health"]) for row in rows) == sorted([(up_url, "up"), (down_url, "down")])
    assert aws_env.receive_all(aws_env.dead_letter_queue_url) == []

    output = capsys.readouterr().out
    assert SECRET not in output
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    (broken,) = [line for line in lines if line.get("correlation_id") == "bad-shard"]
    assert broken["message"] == "shard failed; SQS will retry it"
    assert broken["exception"].endswith(
        "ValueError: invalid shard message: remote_write: Input should be a valid array"
    )
    failure = [line for line in lines if line.get("target") == down_url]
    assert len(failure) == 1
    assert failure[0]["level"] == "ERROR"
    assert failure[0]["message"] == (
        f'Get "{down_url}": dial tcp 127.0.0.1:{down_port}: connect: connection refused'
    )
    assert failure[0]["correlation_id"] == "good-shard"
    assert failure[0]["function_request_id"] == CONTEXT.aws_request_id
    (emf,) = [line for line in lines if "_aws" in line]
    assert emf["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "promscrape"
    counts = [
        emf[name] for name in ("TargetsUp", "TargetsDown", "Samples", "BatchesSent", "BatchesDeadLettered")
    ]
    assert counts == [[1.0], [1.0], [9.0], [1.0], [0.0]]
