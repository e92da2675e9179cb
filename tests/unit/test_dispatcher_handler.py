"""The dispatcher handler on events/scheduler-event.json, with moto resources built from template.yaml."""

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from aws_fixtures import AwsResources
from lambda_harness import FakeLambdaContext
from lambda_harness import load_app as load_lambda_app
from promscrape.dispatcher import run_dispatch
from promscrape.messages import ShardMessage
from promscrape.queues import MAX_SHARD_MESSAGE_BYTES
from promscrape.settings import Settings
from pydantic import ValidationError

REPO = Path(__file__).resolve().parents[2]
EVENT = REPO / "events" / "scheduler-event.json"
APP = REPO / "functions" / "dispatcher" / "app.py"

# The one-target shard of the test with a huge label: the label, its JSON and the message around it.
SIZE_WITH_HUGE = 262_588
ENDPOINT = {
    "name": "rw",
    "url": "http://127.0.0.1:9/api/v1/write",
    "headers": {"Authorization": "Bearer s3cret-token"},
}
JOBS: list[dict[str, Any]] = [
    {
        "name": "node",
        "forward_to": ["rw"],
        "scrape_interval": "15s",
        "relabel_configs": [{"action": "drop", "source_labels": ["__address__"], "regex": "drop:.*"}],
        "targets": [
            {"__address__": "a:9100"},
            {"__address__": "b:9100", "zone": "eu"},
            {"__address__": "drop:9100"},
            {"__address__": "x/y"},
            {"__address__": "c:9100", "__scrape_timeout__": "1m"},
        ],
    },
    {
        "name": "fast",
        "forward_to": ["rw"],
        "scrape_interval": "1s",
        "scrape_timeout": "1s",
        "targets": [{"__address__": "f:1"}],
    },
    {
        "name": "broken",
        "forward_to": ["rw"],
        "track_timestamps_staleness": True,
        "targets": [{"__address__": "s:1"}],
    },
    {"name": "orphan", "forward_to": ["nope"], "targets": [{"__address__": "o:1"}]},
]


CONTEXT = FakeLambdaContext(
    "promscrape-test-DispatcherFunction", memory_limit_in_mb=1024, remaining_ms=50_000
)


def load_app() -> ModuleType:
    return load_lambda_app(APP, "dispatcher_app_under_test")


@pytest.fixture
def event() -> dict[str, Any]:
    return json.loads(EVENT.read_text())


@pytest.fixture
def seeded(aws_env: AwsResources) -> AwsResources:
    aws_env.store().put_documents(jobs=JOBS, endpoints=[ENDPOINT])
    return aws_env


def queued_shards(aws: AwsResources) -> list[tuple[ShardMessage, int]]:
    return [(ShardMessage.model_validate_json(m.body), m.delay_s) for m in aws.queued(aws.scrape_queue_url)]


def stdout_json(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_event_is_the_template_input(event: dict[str, Any]) -> None:
    """The sample event has the keys the schedule's Input template sends."""
    template = (REPO / "template.yaml").read_text()
    for key in event:
        assert f'"{key}": "<aws.scheduler.' in template


def test_handler_plans_and_sends_the_minute(
    seeded: AwsResources, event: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    app = load_app()
    summary = app.lambda_handler(event, CONTEXT)
    scheduled_ms = int(datetime(2025, 11, 25, 17, 14, tzinfo=UTC).timestamp()) * 1000
    assert event["scheduled_time"] == "2025-11-25T17:14:00Z"

    assert summary["scheduled_ms"] == scheduled_ms
    assert summary["jobs"] == 2
    assert summary["invalid_jobs"] == {
        "broken": 'job "broken": track_timestamps_staleness is not supported yet',
        "orphan": 'job "orphan": forward_to: no remote_write endpoint named "nope"',
    }
    assert summary["invalid_endpoints"] == {}
    assert summary["targets"] == 3
    assert summary["dropped_by_relabeling"] == 1
    assert summary["failed_targets"] == 2
    assert summary["failure_reasons"] == {
        '"x/y" is not a valid hostname': 1,
        'scrape timeout cannot be greater than scrape interval ("1m" > "15s")': 1,
    }

    shards = queued_shards(seeded)
    assert summary["shards"] == len(shards)
    per_url = Counter(s.url for m, _ in shards for s in m.targets)
    assert per_url == {"http://a:9100/metrics": 4, "http://b:9100/metrics": 4, "http://f:1/metrics": 60}
    assert summary["scrapes"] == 68
    for message, delay in shards:
        assert message.scheduled_ms == scheduled_ms
        assert message.remote_write == [
            {"name": "rw", "url": ENDPOINT["url"], "headers": {"Authorization": "Bearer s3cret-token"}}
        ]
        assert message.job["name"] in ("node", "fast")
        for scrape in message.targets:
            # the tick is over a minute old: the plan's delays are sent unchanged
            assert scheduled_ms + delay * 1000 <= scrape.due_ms < scheduled_ms + (delay + 1) * 1000
    labels = {s.url: s.labels for m, _ in shards for s in m.targets}
    assert labels["http://b:9100/metrics"] == {"instance": "b:9100", "job": "node", "zone": "eu"}

    out = capsys.readouterr().out
    records = stdout_json(out)
    emf = [r for r in records if "_aws" in r]
    assert len(emf) == 1
    assert emf[0]["ScrapesPlanned"] == [68]
    assert emf[0]["ShardsSent"] == [len(shards)]
    assert emf[0]["JobsInvalid"] == [2]
    assert emf[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "promscrape"
    done = [r for r in records if r.get("message") == "dispatch done"]
    assert len(done) == 1 and done[0]["scrapes"] == 68
    assert "s3cret-token" not in out


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_handler_rejects_an_event_without_scheduled_time(seeded: AwsResources) -> None:
    app = load_app()
    with pytest.raises(ValidationError):
        app.lambda_handler({"schedule_arn": "x"}, CONTEXT)
    assert seeded.queued(seeded.scrape_queue_url) == []


def test_run_dispatch_shortens_delays_by_the_seconds_already_gone(seeded: AwsResources) -> None:
    settings = Settings.from_env()
    tick_ms = 1_767_225_600_000
    report = run_dispatch(tick_ms, seeded.store(), seeded.sqs, settings, clock_ms=lambda: tick_ms + 2_500)
    assert report.lag_ms == 2_500
    for message, delay in queued_shards(seeded):
        due_second = (message.targets[0].due_ms - tick_ms) // 1000
        assert delay == max(0, due_second - 2)


def test_run_dispatch_reuses_targets_of_the_previous_tick(seeded: AwsResources) -> None:
    """A warm container's second tick gives the same shards (the cache changes cost, not output)."""
    settings = Settings.from_env()
    tick_ms = 1_767_225_600_000
    old = lambda: tick_ms + 120_000  # noqa: E731 - a clock past the window: delays unchanged
    first = run_dispatch(tick_ms, seeded.store(), seeded.sqs, settings, clock_ms=old)
    sent_first = sorted((m.model_dump_json(), d) for m, d in queued_shards(seeded))
    seeded.receive_all(seeded.scrape_queue_url)
    seeded.release_delays(seeded.scrape_queue_url)
    seeded.receive_all(seeded.scrape_queue_url)
    second = run_dispatch(tick_ms, seeded.store(), seeded.sqs, settings, clock_ms=old)
    sent_second = sorted((m.model_dump_json(), d) for m, d in queued_shards(seeded))
    assert first.summary() == second.summary()
    assert sent_first == sent_second


def test_invalid_endpoint_invalidates_its_jobs(aws_env: AwsResources) -> None:
    aws_env.store().put_documents(jobs=[JOBS[1]], endpoints=[{"name": "rw", "url": "ftp://nowhere"}])
    settings = Settings.from_env()
    report = run_dispatch(1_767_225_600_000, aws_env.store(), aws_env.sqs, settings)
    assert report.invalid_endpoints == {
        "rw": 'remote_write "rw": url: "ftp://nowhere" is not an http:// or https:// URL with a host'
    }
    assert report.invalid_jobs == {"fast": 'job "fast": forward_to: remote_write endpoint "rw" is invalid'}
    assert report.shards == 0


def test_a_target_too_large_for_sqs_fails_alone(aws_env: AwsResources) -> None:
    """A target whose labels alone exceed SQS's message limit is reported once; the tick goes on."""
    huge = {"__address__": "huge:1", "blob": "x" * MAX_SHARD_MESSAGE_BYTES}
    jobs = [{**JOBS[1], "targets": [{"__address__": "f:1"}, huge]}]
    aws_env.store().put_documents(jobs=jobs, endpoints=[ENDPOINT])
    tick_ms = 1_767_225_600_000
    report = run_dispatch(
        tick_ms, aws_env.store(), aws_env.sqs, Settings.from_env(), clock_ms=lambda: tick_ms
    )
    limit = MAX_SHARD_MESSAGE_BYTES
    error = f"shard message of {SIZE_WITH_HUGE} bytes exceeds the scrape queue's limit of {limit}"
    assert [(f.job, f.address, f.error) for f in report.failed_targets] == [
        ("fast", "http://huge:1/metrics", error)
    ]
    assert (report.targets, report.scrapes, report.shards) == (1, 60, 60)
    assert {message.targets[0].url for message, _ in queued_shards(aws_env)} == {"http://f:1/metrics"}
