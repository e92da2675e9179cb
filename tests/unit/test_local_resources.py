"""local/resources.py: template.yaml's data resources in moto, exactly as the template declares them."""

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.server import ThreadedMotoServer
from promscrape.local.resources import (
    TemplateError,
    create_resources,
    function_environment,
    load_template,
)

TEMPLATE_PATH = Path(__file__).resolve().parents[2] / "template.yaml"
TEMPLATE = load_template(TEMPLATE_PATH)
REGION = "us-east-1"


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)


@pytest.fixture
def session(credentials: None) -> Iterator[boto3.Session]:
    with mock_aws():
        yield boto3.Session(region_name=REGION)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: !Ref X", {"a": {"Ref": "X"}}),
        ("a: !GetAtt Q.Arn", {"a": {"Fn::GetAtt": ["Q", "Arn"]}}),
        ("a: !GetAtt [Q, QueueName]", {"a": {"Fn::GetAtt": ["Q", "QueueName"]}}),
        ("a: !Sub '${AWS::StackName}-x'", {"a": {"Fn::Sub": "${AWS::StackName}-x"}}),
        ("a: !Not [!Equals [!Ref E, '']]", {"a": {"Fn::Not": [{"Fn::Equals": [{"Ref": "E"}, ""]}]}}),
        ("a: !Join ['-', [x, !Ref Y]]", {"a": {"Fn::Join": ["-", ["x", {"Ref": "Y"}]]}}),
        ("a: !Condition C", {"a": {"Condition": "C"}}),
    ],
)
def test_short_form_tags_load_as_long_form(tmp_path: Path, text: str, expected: dict[str, Any]) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(text)
    assert load_template(path) == expected


def _data_resources(kind: str) -> dict[str, dict[str, Any]]:
    return {name: r["Properties"] for name, r in TEMPLATE["Resources"].items() if r["Type"] == kind}


def test_tables_match_the_template(session: boto3.Session) -> None:
    resources = create_resources(TEMPLATE_PATH, stack_name="t", session=session)
    client = session.client("dynamodb")
    tables = _data_resources("AWS::DynamoDB::Table")
    assert set(tables) == {"TargetsTable", "StatusTable"}
    for logical_id, props in tables.items():
        name = resources[logical_id]
        assert name == f"t-{logical_id}"
        table = client.describe_table(TableName=name)["Table"]
        assert table["KeySchema"] == props["KeySchema"]
        assert table["AttributeDefinitions"] == props["AttributeDefinitions"]
        assert table["BillingModeSummary"]["BillingMode"] == props["BillingMode"]
        assert table["SSEDescription"]["Status"] == "ENABLED"
        assert resources[f"{logical_id}.Arn"] == table["TableArn"]
        ttl = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        expected_ttl = props.get("TimeToLiveSpecification")
        assert ttl.get("AttributeName") == (expected_ttl or {}).get("AttributeName")
        assert ttl["TimeToLiveStatus"] == ("ENABLED" if expected_ttl else "DISABLED")
        backups = client.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
        pitr = props.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled", False)
        assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == (
            "ENABLED" if pitr else "DISABLED"
        )


def test_queues_match_the_template(session: boto3.Session) -> None:
    resources = create_resources(TEMPLATE_PATH, stack_name="t", session=session)
    client = session.client("sqs")
    queues = _data_resources("AWS::SQS::Queue")
    assert set(queues) == {"DeadLetterQueue", "ScrapeQueue"}
    attributes = {
        logical_id: client.get_queue_attributes(QueueUrl=resources[logical_id], AttributeNames=["All"])[
            "Attributes"
        ]
        for logical_id in queues
    }
    for logical_id, props in queues.items():
        for key in ("MessageRetentionPeriod", "VisibilityTimeout"):
            if key in props:
                assert attributes[logical_id][key] == str(props[key]), (logical_id, key)
        assert attributes[logical_id]["SqsManagedSseEnabled"] == "true"
        assert resources[f"{logical_id}.Arn"] == attributes[logical_id]["QueueArn"]
        assert resources[f"{logical_id}.QueueName"] == f"t-{logical_id}"
    assert json.loads(attributes["ScrapeQueue"]["RedrivePolicy"]) == {
        "deadLetterTargetArn": attributes["DeadLetterQueue"]["QueueArn"],
        "maxReceiveCount": queues["ScrapeQueue"]["RedrivePolicy"]["maxReceiveCount"],
    }


def test_topic_is_created(session: boto3.Session) -> None:
    resources = create_resources(TEMPLATE_PATH, stack_name="t", session=session)
    topics = [t["TopicArn"] for t in session.client("sns").list_topics()["Topics"]]
    assert topics == [resources["AlarmTopic"]]
    assert resources["AlarmTopic"].endswith(":t-AlarmTopic")


def test_creating_twice_is_harmless(session: boto3.Session) -> None:
    first = create_resources(TEMPLATE_PATH, session=session)
    assert create_resources(TEMPLATE_PATH, session=session) == first


def test_function_environment_resolves_like_a_deployment(session: boto3.Session) -> None:
    resources = create_resources(TEMPLATE_PATH, stack_name="t", session=session)
    for function in ("DispatcherFunction", "ScraperFunction"):
        assert function_environment(TEMPLATE_PATH, function, resources, stack_name="t") == {
            "TARGETS_TABLE": "t-TargetsTable",
            "STATUS_TABLE": "t-StatusTable",
            "SCRAPE_QUEUE_URL": resources["ScrapeQueue"],
            "DEAD_LETTER_QUEUE_URL": resources["DeadLetterQueue"],
            "STACK_NAME": "t",
            "POWERTOOLS_SERVICE_NAME": "promscrape",
        }


def test_function_environment_refuses_what_was_not_created() -> None:
    with pytest.raises(TemplateError, match="refers to 'TargetsTable', which was not created"):
        function_environment(TEMPLATE_PATH, "DispatcherFunction", {})
    with pytest.raises(TemplateError, match="no resource 'Nope'"):
        function_environment(TEMPLATE_PATH, "Nope", {})


SMALL_TEMPLATE = """
Parameters:
  WithExtra: {Type: String, Default: "no"}
Conditions:
  Extra: !Equals [!Ref WithExtra, "yes"]
Resources:
  Dlq:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub "${AWS::StackName}-dead"
  Work:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Join ["-", [!Ref AWS::StackName, work]]
      RedrivePolicy: {deadLetterTargetArn: !GetAtt Dlq.Arn, maxReceiveCount: 5}
  ExtraQueue:
    Type: AWS::SQS::Queue
    Condition: Extra
  Fn:
    Type: AWS::Serverless::Function
"""


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        (None, ["Dlq", "Work"]),
        ({"WithExtra": "yes"}, ["Dlq", "ExtraQueue", "Work"]),
    ],
)
def test_names_conditions_and_dependencies(
    session: boto3.Session, tmp_path: Path, parameters: dict[str, str] | None, expected: list[str]
) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(SMALL_TEMPLATE)
    resources = create_resources(path, stack_name="s", session=session, parameters=parameters)
    assert sorted(key for key in resources if "." not in key) == expected
    assert resources["Dlq"].endswith("/s-dead")
    assert resources["Work"].endswith("/s-work")
    redrive = session.client("sqs").get_queue_attributes(
        QueueUrl=resources["Work"], AttributeNames=["RedrivePolicy"]
    )
    assert json.loads(redrive["Attributes"]["RedrivePolicy"]) == {
        "deadLetterTargetArn": resources["Dlq.Arn"],
        "maxReceiveCount": 5,
    }


def test_against_a_moto_server(credentials: None) -> None:
    """The local runner's way: a real moto server on a loopback port, reached by endpoint_url."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        resources = create_resources(TEMPLATE_PATH, stack_name="srv", endpoint_url=endpoint)
        assert resources["ScrapeQueue"].startswith(endpoint)
        dynamodb = boto3.client("dynamodb", endpoint_url=endpoint)
        assert sorted(dynamodb.list_tables()["TableNames"]) == ["srv-StatusTable", "srv-TargetsTable"]
    finally:
        # The server keeps its state in this process's moto backends: leave them empty.
        urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")).close()
        server.stop()
