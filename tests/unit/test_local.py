"""Pieces of `promscrape local`: events as AWS shapes them, template facts, config, once-planning, demo."""

import gzip
import io
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from aws_lambda_powertools.utilities.parser.models import SqsModel
from promscrape.local.demo import CONTENT_TYPE, DemoExporter, render
from promscrape.local.resources import create_resources, function_environment
from promscrape.local.runner import (
    LOCAL_ENDPOINT_NAME,
    LOCAL_VISIBILITY_TIMEOUT_S,
    LONG_POLL_S,
    REGION,
    STACK_NAME,
    LocalRunError,
    ScrapeQueueConsumer,
    Tally,
    context_for,
    describe_dead_letters,
    embedded_aws,
    load_handler,
    local_config,
    local_powertools_environment,
    patched_environ,
    plan_once,
    queue_depth,
    read_config_text,
    read_template,
    scheduler_event,
    sqs_event,
)
from promscrape.settings import Settings
from promscrape.store import Store

REPO_ROOT = Path(__file__).resolve().parents[2]
URL = "http://127.0.0.1:5555/api/v1/write"


def test_template_facts() -> None:
    facts = read_template(REPO_ROOT)
    assert (facts.dispatcher.timeout_s, facts.dispatcher.memory_mb) == (50, 1024)
    assert (facts.scraper.timeout_s, facts.scraper.memory_mb) == (60, 512)
    assert facts.dispatcher.app == REPO_ROOT / "functions" / "dispatcher" / "app.py"
    assert facts.scraper.app == REPO_ROOT / "functions" / "scraper" / "app.py"
    assert facts.scraper_batch_size == 1


def test_scheduler_event_fills_the_schedule_input() -> None:
    event = scheduler_event(read_template(REPO_ROOT).schedule_input, 1_764_090_840)
    assert event["scheduled_time"] == "2025-11-25T17:14:00Z"
    assert event["schedule_arn"] == f"arn:aws:scheduler:{REGION}:123456789012:schedule/default/{STACK_NAME}"
    assert event["attempt_number"] == "1"
    assert set(event) == {"scheduled_time", "schedule_arn", "execution_id", "attempt_number"}


def test_sqs_event_has_the_event_source_mapping_shape() -> None:
    received = [
        {
            "MessageId": "id-1",
            "ReceiptHandle": "handle-1",
            "Body": '{"a": 1}',
            "MD5OfBody": "0123",
            "Attributes": {
                "ApproximateReceiveCount": "2",
                "SentTimestamp": "1764090840000",
                "SenderId": "AIDA",
                "ApproximateFirstReceiveTimestamp": "1764090841000",
            },
            "MessageAttributes": {"kind": {"DataType": "String", "StringValue": "shard"}},
        }
    ]
    event = sqs_event(received, "arn:aws:sqs:us-east-1:123456789012:scrape")
    parsed = SqsModel.model_validate(event)
    record = parsed.Records[0]
    assert (record.messageId, record.receiptHandle, record.body) == ("id-1", "handle-1", '{"a": 1}')
    assert record.attributes.ApproximateReceiveCount == "2"
    assert record.messageAttributes["kind"].stringValue == "shard"
    assert (record.eventSource, record.eventSourceARN, record.awsRegion) == (
        "aws:sqs",
        "arn:aws:sqs:us-east-1:123456789012:scrape",
        REGION,
    )


def test_context_counts_down_from_the_function_timeout() -> None:
    context = context_for(read_template(REPO_ROOT).scraper)
    assert context.function_name == f"{STACK_NAME}-scraper"
    assert context.invoked_function_arn.endswith(f":function:{STACK_NAME}-scraper")
    assert 0 < context.get_remaining_time_in_millis() <= 60_000


def test_demo_config_gets_the_exporter_and_the_endpoint() -> None:
    path = REPO_ROOT / "examples" / "demo.yaml"
    config = local_config(read_config_text(path, demo=True), str(path), "127.0.0.1:4242", URL)
    assert [endpoint.url for endpoint in config.remote_write] == [URL]
    assert [job.name for job in config.jobs] == ["demo", "demo-filtered"]
    assert [[target["__address__"] for target in job.targets] for job in config.jobs] == [
        ["127.0.0.1:4242"],
        ["127.0.0.1:4242"],
    ]


def test_a_config_without_endpoints_forwards_to_the_local_one() -> None:
    config = local_config("jobs:\n  - name: j\n    targets: [{__address__: 'h:1'}]\n", "x.yaml", "", URL)
    assert [(endpoint.name, endpoint.url) for endpoint in config.remote_write] == [(LOCAL_ENDPOINT_NAME, URL)]
    assert config.jobs[0].forward_to == [LOCAL_ENDPOINT_NAME]


@pytest.mark.parametrize(
    ("text", "demo", "error"),
    [
        (
            "jobs: [{name: j, targets: [{__address__: '${DEMO_EXPORTER}'}]}]",
            False,
            "uses ${DEMO_EXPORTER}: run it with --demo",
        ),
        ("jobs: [", True, "x.yaml: not valid YAML"),
        ("jobs: [{name: j, bearer_token: x}]", True, "x.yaml: invalid configuration"),
    ],
)
def test_bad_config_files(tmp_path: Path, text: str, demo: bool, error: str) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(text)
    with pytest.raises(LocalRunError) as raised:
        local_config(read_config_text(path, demo), str(path), "127.0.0.1:1", URL)
    assert error in str(raised.value)


@pytest.fixture
def local_stack() -> Iterator[tuple[Store, Settings]]:
    with embedded_aws():
        session = boto3.Session(region_name=REGION)
        template = REPO_ROOT / "template.yaml"
        resources = create_resources(template, stack_name=STACK_NAME, session=session)
        environment = function_environment(
            template, "DispatcherFunction", resources, stack_name=STACK_NAME, region=REGION
        )
        with patched_environ({**environment, **local_powertools_environment()}):
            store = Store(
                environment["TARGETS_TABLE"], environment["STATUS_TABLE"], client=session.client("dynamodb")
            )
            yield store, Settings.from_env()


def test_once_plans_every_target_once_now(local_stack: tuple[Store, Settings]) -> None:
    store, settings = local_stack
    text = (
        "jobs:\n"
        "  - name: fast\n    scrape_interval: 1s\n    scrape_timeout: 1s\n"
        "    targets: [{__address__: 'a:1'}, {__address__: 'b:1'}]\n"
        "  - name: slow\n    scrape_interval: 5m\n    targets: [{__address__: 'c:1', team: x}]\n"
        "  - name: dropped\n    targets: [{__address__: 'd/1'}]\n"
    )
    store.put_config(local_config(text, "x.yaml", "", URL))
    now_ms = 1_764_090_840_123
    messages, summary = plan_once(store, settings, now_ms)
    scrapes = sorted(
        (m.shard_id, t.url, t.due_ms, tuple(t.labels.items())) for m in messages for t in m.targets
    )
    assert scrapes == [
        ("fast/00/0", "http://a:1/metrics", now_ms, (("instance", "a:1"), ("job", "fast"))),
        ("fast/00/0", "http://b:1/metrics", now_ms, (("instance", "b:1"), ("job", "fast"))),
        ("slow/00/0", "http://c:1/metrics", now_ms, (("instance", "c:1"), ("job", "slow"), ("team", "x"))),
    ]
    assert all(message.remote_write[0]["url"] == URL for message in messages)
    assert (summary["scrapes"], summary["shards"], summary["failed_targets"]) == (3, 2, 1)


def test_a_failing_shard_is_retried_then_dead_lettered(local_stack: tuple[Store, Settings]) -> None:
    """As with the event source mapping: a message the scraper cannot process comes back after the
    visibility timeout and moves to the DLQ after maxReceiveCount (3) receives."""
    store, settings = local_stack
    sqs = boto3.client("sqs", region_name=REGION)
    sqs.set_queue_attributes(
        QueueUrl=settings.scrape_queue_url, Attributes={"VisibilityTimeout": str(LOCAL_VISIBILITY_TIMEOUT_S)}
    )
    sqs.send_message(QueueUrl=settings.scrape_queue_url, MessageBody='{"version": 1, "shard_id": "broken"}')
    facts = read_template(REPO_ROOT)
    tally = Tally()
    consumer = ScrapeQueueConsumer(
        sqs=sqs,
        queue_url=settings.scrape_queue_url,
        handler=load_handler(facts.scraper.app, "test_local_scraper_app"),
        spec=facts.scraper,
        batch_size=facts.scraper_batch_size,
        store=store,
        tally=tally,
        err=io.StringIO(),
    )
    while queue_depth(sqs, settings.scrape_queue_url):
        consumer.poll(LONG_POLL_S)
    assert (tally.invocations, tally.failed_invocations, tally.scrapes_done) == (3, 3, 0)
    assert describe_dead_letters(sqs, settings.dead_letter_queue_url) == [
        f"unrecognised message {tally.shards_seen.pop()}"
    ]


def test_demo_exporter_serves_its_page() -> None:
    with DemoExporter() as demo:
        request = urllib.request.Request(
            f"http://{demo.address}/metrics", headers={"Accept-Encoding": "gzip"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.headers["Content-Type"] == CONTENT_TYPE
            assert response.headers["Content-Encoding"] == "gzip"
            page = gzip.decompress(response.read()).decode()
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"http://{demo.address}/", timeout=10)
        assert missing.value.code == 404
    assert page.count("# TYPE ") == render(0.0, 0.0).count("# TYPE ") == 7
    assert 'demo_label_escaping{path="C:\\\\Program Files\\\\demo",' in page


@pytest.mark.parametrize(("earlier", "later"), [(0.0, 1.0), (59.5, 61.0), (1000.0, 3600.0)])
def test_demo_counters_only_grow(earlier: float, later: float) -> None:
    def counters(elapsed: float) -> list[float]:
        lines = render(elapsed, 0.0).splitlines()
        return [
            float(line.rsplit(" ", 1)[1])
            for line in lines
            if line.startswith(("demo_requests_total", "demo_request_duration_seconds_"))
        ]

    assert all(a <= b for a, b in zip(counters(earlier), counters(later), strict=True))
    assert counters(earlier) != counters(later)
