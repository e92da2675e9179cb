"""Pytest fixtures: the AWS resources of template.yaml in moto (in process), for handler and store tests.

tests/conftest.py registers this module (`pytest_plugins = ["aws_fixtures"]`), so any test can ask
for `aws` (clients + names of the created resources) or `aws_env` (the same, with the functions'
environment variables set, as Lambda would set them).
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from promscrape.local.resources import create_resources, function_environment
from promscrape.store import Store

TEMPLATE = Path(__file__).resolve().parents[1] / "template.yaml"
STACK_NAME = "promscrape-test"
REGION = "us-east-1"
FUNCTIONS = ("DispatcherFunction", "ScraperFunction")


@dataclass(frozen=True)
class QueuedMessage:
    """A message waiting on a queue, as the sender sent it."""

    body: str
    delay_s: int
    attributes: dict[str, str]


def _moto_queue(queue_url: str) -> Any:
    """moto's in-process model of a queue (only inside `mock_aws`)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sqs.models import sqs_backends

    return sqs_backends[DEFAULT_ACCOUNT_ID][REGION].queues[queue_url.rsplit("/", 1)[1]]


@dataclass(frozen=True)
class AwsResources:
    """Clients bound to moto and the physical names of the template's data resources."""

    dynamodb: Any
    sqs: Any
    sns: Any
    resources: dict[str, str]
    environment: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def targets_table(self) -> str:
        return self.resources["TargetsTable"]

    @property
    def status_table(self) -> str:
        return self.resources["StatusTable"]

    @property
    def scrape_queue_url(self) -> str:
        return self.resources["ScrapeQueue"]

    @property
    def dead_letter_queue_url(self) -> str:
        return self.resources["DeadLetterQueue"]

    @property
    def alarm_topic_arn(self) -> str:
        return self.resources["AlarmTopic"]

    def store(self) -> Store:
        """A Store on the two tables, through this fixture's DynamoDB client."""
        return Store(self.targets_table, self.status_table, client=self.dynamodb)

    def queued(self, queue_url: str) -> list[QueuedMessage]:
        """Every message on a queue (delayed, visible or in flight) with the DelaySeconds it was
        sent with, without receiving it.

        Reads moto's backend: SQS has no API that shows a delayed message.
        """
        return [
            QueuedMessage(
                body=message.body,
                delay_s=round((message.delayed_until - message.sent_timestamp) / 1000)
                if message.delayed_until
                else 0,
                attributes={
                    name: value.get("StringValue", "") for name, value in message.message_attributes.items()
                },
            )
            for message in _moto_queue(queue_url)._messages
        ]

    def release_delays(self, queue_url: str) -> None:
        """Make delayed messages receivable now, so a test need not wait out DelaySeconds."""
        for message in _moto_queue(queue_url)._messages:
            message.delayed_until = 0.0

    def receive_all(self, queue_url: str) -> list[dict[str, Any]]:
        """Every message receivable now on a queue (delayed ones are not), deleted as read."""
        messages: list[dict[str, Any]] = []
        while True:
            batch = self.sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
            ).get("Messages", [])
            if not batch:
                return messages
            messages.extend(batch)
            self.sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)],
            )


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsResources]:
    """Fresh moto state per test holding template.yaml's tables, queues and topic."""
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        session = boto3.Session(region_name=REGION)
        resources = create_resources(TEMPLATE, stack_name=STACK_NAME, session=session)
        yield AwsResources(
            dynamodb=session.client("dynamodb"),
            sqs=session.client("sqs"),
            sns=session.client("sns"),
            resources=resources,
            environment={
                function: function_environment(
                    TEMPLATE, function, resources, stack_name=STACK_NAME, region=REGION
                )
                for function in FUNCTIONS
            },
        )


@pytest.fixture
def aws_env(aws: AwsResources, monkeypatch: pytest.MonkeyPatch) -> AwsResources:
    """`aws`, with the functions' environment variables (TARGETS_TABLE, ...) set in os.environ."""
    for function in FUNCTIONS:
        for name, value in aws.environment[function].items():
            monkeypatch.setenv(name, value)
    return aws
