"""template.yaml: the security and operations properties the design relies on, and a clean lint."""

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import lint, lint_file
from promscrape.local.resources import load_template
from promscrape.settings import Settings
from samtranslator.translator.transform import transform

REPO = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO / "template.yaml"
TEMPLATE = load_template(TEMPLATE_PATH)
RESOURCES = TEMPLATE["Resources"]


def _get(path: str) -> Any:
    node: Any = TEMPLATE
    for part in path.split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("Transform", "AWS::Serverless-2016-10-31"),
        # Targets table: user data, on demand, recoverable, encrypted, kept on stack deletion.
        ("Resources.TargetsTable.Properties.BillingMode", "PAY_PER_REQUEST"),
        (
            "Resources.TargetsTable.Properties.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled",
            True,
        ),
        ("Resources.TargetsTable.Properties.SSESpecification.SSEEnabled", True),
        ("Resources.TargetsTable.DeletionPolicy", "Retain"),
        ("Resources.TargetsTable.UpdateReplacePolicy", "Retain"),
        (
            "Resources.TargetsTable.Properties.KeySchema",
            [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        ),
        (
            "Resources.TargetsTable.Properties.AttributeDefinitions",
            [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
        ),
        # Status table: one item per shard, expiring.
        ("Resources.StatusTable.Properties.BillingMode", "PAY_PER_REQUEST"),
        (
            "Resources.StatusTable.Properties.TimeToLiveSpecification",
            {"AttributeName": "ttl", "Enabled": True},
        ),
        ("Resources.StatusTable.Properties.SSESpecification.SSEEnabled", True),
        ("Resources.StatusTable.Properties.KeySchema", [{"AttributeName": "pk", "KeyType": "HASH"}]),
        # Queues: encrypted; the DLQ keeps 14 days; the scrape queue redrives after 3 receives.
        ("Resources.DeadLetterQueue.Properties.MessageRetentionPeriod", 1209600),
        ("Resources.DeadLetterQueue.Properties.SqsManagedSseEnabled", True),
        ("Resources.ScrapeQueue.Properties.SqsManagedSseEnabled", True),
        ("Resources.ScrapeQueue.Properties.RedrivePolicy.maxReceiveCount", 3),
        (
            "Resources.ScrapeQueue.Properties.RedrivePolicy.deadLetterTargetArn",
            {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]},
        ),
        # The scraper's event source: partial batch failures, bounded concurrency, batch size parameter.
        (
            "Resources.ScrapeQueueEventSource.Properties.EventSourceArn",
            {"Fn::GetAtt": ["ScrapeQueue", "Arn"]},
        ),
        ("Resources.ScrapeQueueEventSource.Properties.FunctionName", {"Ref": "ScraperFunction"}),
        ("Resources.ScrapeQueueEventSource.Properties.FunctionResponseTypes", ["ReportBatchItemFailures"]),
        ("Resources.ScrapeQueueEventSource.Properties.BatchSize", {"Ref": "ScrapeBatchSize"}),
        (
            "Resources.ScrapeQueueEventSource.Properties.ScalingConfig.MaximumConcurrency",
            {"Ref": "MaxScraperConcurrency"},
        ),
        ("Parameters.MaxScraperConcurrency.Default", 10),
        ("Parameters.MaxScraperConcurrency.MinValue", 2),
        ("Parameters.AlarmEmail.Default", ""),
        # The alarm: one message on the DLQ is enough; no data is not an alarm.
        ("Resources.DeadLetterQueueAlarm.Properties.Namespace", "AWS/SQS"),
        ("Resources.DeadLetterQueueAlarm.Properties.MetricName", "ApproximateNumberOfMessagesVisible"),
        (
            "Resources.DeadLetterQueueAlarm.Properties.Dimensions",
            [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["DeadLetterQueue", "QueueName"]}}],
        ),
        ("Resources.DeadLetterQueueAlarm.Properties.Threshold", 1),
        ("Resources.DeadLetterQueueAlarm.Properties.ComparisonOperator", "GreaterThanOrEqualToThreshold"),
        ("Resources.DeadLetterQueueAlarm.Properties.TreatMissingData", "notBreaching"),
        ("Resources.DeadLetterQueueAlarm.Properties.AlarmActions", [{"Ref": "AlarmTopic"}]),
        ("Resources.AlarmEmailSubscription.Condition", "HasAlarmEmail"),
        ("Resources.AlarmEmailSubscription.Properties.Protocol", "email"),
        ("Conditions.HasAlarmEmail", {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}),
        # Layer and functions: arm64, python3.12, built by SAM.
        ("Resources.PromscrapeLayer.Properties.ContentUri", "layers/promscrape"),
        ("Resources.PromscrapeLayer.Properties.CompatibleRuntimes", ["python3.12"]),
        ("Resources.PromscrapeLayer.Properties.CompatibleArchitectures", ["arm64"]),
        ("Resources.PromscrapeLayer.Metadata", {"BuildMethod": "python3.12", "BuildArchitecture": "arm64"}),
        ("Globals.Function.Runtime", "python3.12"),
        ("Globals.Function.Architectures", ["arm64"]),
        ("Globals.Function.Layers", [{"Ref": "PromscrapeLayer"}]),
        ("Resources.DispatcherFunction.Properties.CodeUri", "functions/dispatcher"),
        ("Resources.DispatcherFunction.Properties.Handler", "app.lambda_handler"),
        ("Resources.ScraperFunction.Properties.CodeUri", "functions/scraper"),
        ("Resources.ScraperFunction.Properties.Handler", "app.lambda_handler"),
        ("Resources.ScraperFunction.Properties.MemorySize", {"Ref": "ScraperMemorySize"}),
        # The scheduler: every minute, on time, invoking the dispatcher through its own role.
        ("Resources.DispatchSchedule.Properties.ScheduleExpression", "rate(1 minute)"),
        ("Resources.DispatchSchedule.Properties.FlexibleTimeWindow.Mode", "OFF"),
        ("Resources.DispatchSchedule.Properties.Target.Arn", {"Fn::GetAtt": ["DispatcherFunction", "Arn"]}),
        ("Resources.DispatchSchedule.Properties.Target.RoleArn", {"Fn::GetAtt": ["SchedulerRole", "Arn"]}),
    ],
)
def test_template_property(path: str, expected: Any) -> None:
    assert _get(path) == expected


def test_scrape_queue_visibility_is_six_times_the_scraper_timeout() -> None:
    timeout = RESOURCES["ScraperFunction"]["Properties"]["Timeout"]
    assert timeout == 60
    assert RESOURCES["ScrapeQueue"]["Properties"]["VisibilityTimeout"] >= 6 * timeout


def test_dispatcher_finishes_within_its_minute() -> None:
    assert RESOURCES["DispatcherFunction"]["Properties"]["Timeout"] < 60


def test_environment_is_what_settings_reads() -> None:
    variables = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    assert list(variables) == Settings.variable_names()
    assert variables == {
        "TARGETS_TABLE": {"Ref": "TargetsTable"},
        "STATUS_TABLE": {"Ref": "StatusTable"},
        "SCRAPE_QUEUE_URL": {"Ref": "ScrapeQueue"},
        "DEAD_LETTER_QUEUE_URL": {"Ref": "DeadLetterQueue"},
        "STACK_NAME": {"Ref": "AWS::StackName"},
        "POWERTOOLS_SERVICE_NAME": "promscrape",
    }


def test_schedule_input_becomes_the_sample_event() -> None:
    """Filling the scheduler's context attributes into Input gives events/scheduler-event.json."""
    sample = json.loads((REPO / "events" / "scheduler-event.json").read_text())
    template_input = RESOURCES["DispatchSchedule"]["Properties"]["Target"]["Input"]
    placeholders = {
        "<aws.scheduler.scheduled-time>": sample["scheduled_time"],
        "<aws.scheduler.schedule-arn>": sample["schedule_arn"],
        "<aws.scheduler.execution-id>": sample["execution_id"],
        "<aws.scheduler.attempt-number>": sample["attempt_number"],
    }
    assert set(re.findall(r"<aws\.scheduler\.[a-z-]+>", template_input)) == set(placeholders)
    filled = template_input
    for placeholder, value in placeholders.items():
        filled = filled.replace(placeholder, value)
    assert json.loads(filled) == sample
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", sample["scheduled_time"])


def _transformed(parameters: dict[str, str] | None = None) -> dict[str, Any]:
    """The template as CloudFormation receives it after the SAM transform (what `sam validate` runs)."""
    template = copy.deepcopy(TEMPLATE)
    for resource in template["Resources"].values():
        for key in ("CodeUri", "ContentUri"):
            if key in resource.get("Properties", {}):
                resource["Properties"][key] = "s3://bucket/key"

    class NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    return transform(template, parameters or {}, NoManagedPolicies())  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def transformed() -> dict[str, Any]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")  # the transform resolves pseudo parameters
        return _transformed()


def _statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        statement
        for policy in role["Properties"].get("Policies", [])
        for statement in policy["PolicyDocument"]["Statement"]
    ]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_no_wildcard_actions_or_resources(transformed: dict[str, Any]) -> None:
    roles = {name: r for name, r in transformed["Resources"].items() if r["Type"] == "AWS::IAM::Role"}
    assert set(roles) == {"DispatcherFunctionRole", "ScraperFunctionRole", "SchedulerRole"}
    for name, role in roles.items():
        statements = _statements(role)
        assert statements, name
        for statement in statements:
            for action in _as_list(statement["Action"]):
                assert action != "*" and not action.endswith(":*"), (name, action)
            for resource in _as_list(statement["Resource"]):
                assert resource != "*", (name, statement)
        # Only the logging policy every function needs is managed (and it names its actions).
        managed = role["Properties"].get("ManagedPolicyArns", [])
        assert managed in ([], ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]), name


FUNCTIONS = ("DispatcherFunction", "ScraperFunction")
BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
XRAY_WRITE = "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess"


def test_tracing_is_off_by_default(transformed: dict[str, Any]) -> None:
    """X-Ray bills per trace: off unless asked for, and then no X-Ray grant either."""
    assert TEMPLATE["Parameters"]["Tracing"]["Default"] == "Disabled"
    assert TEMPLATE["Globals"]["Function"]["Tracing"] == {"Ref": "Tracing"}
    for function in FUNCTIONS:
        assert "TracingConfig" not in transformed["Resources"][function]["Properties"]
        role = transformed["Resources"][f"{function}Role"]["Properties"]
        assert role["ManagedPolicyArns"] == [BASIC_EXECUTION]


def test_active_tracing_adds_exactly_the_xray_write_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    """X-Ray's write actions have no resource-level permissions: AWS's own policy, Resource "*", is
    the only way to grant them; it is the one wildcard the template allows, and only when tracing."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    active = _transformed({"Tracing": "Active"})
    for function in FUNCTIONS:
        assert active["Resources"][function]["Properties"]["TracingConfig"] == {"Mode": {"Ref": "Tracing"}}
        role = active["Resources"][f"{function}Role"]["Properties"]
        assert role["ManagedPolicyArns"] == [BASIC_EXECUTION, XRAY_WRITE]


def _actions_by_resource(role: dict[str, Any]) -> dict[str, set[str]]:
    """Action sets keyed by the logical id the statement's resource refers to."""
    found: dict[str, set[str]] = {}
    for statement in _statements(role):
        text = json.dumps(statement["Resource"])
        targets = set(re.findall(r'"(?:Ref|Fn::GetAtt)": \[?"([A-Za-z]+)"', text))
        for target in targets:
            found.setdefault(target, set()).update(_as_list(statement["Action"]))
    return found


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (
            "DispatcherFunctionRole",
            {
                "TargetsTable": {"dynamodb:Scan"},
                "ScrapeQueue": {"sqs:SendMessage"},
            },
        ),
        (
            "ScraperFunctionRole",
            {
                "ScrapeQueue": {
                    "sqs:ChangeMessageVisibility",
                    "sqs:ChangeMessageVisibilityBatch",
                    "sqs:DeleteMessage",
                    "sqs:DeleteMessageBatch",
                    "sqs:GetQueueAttributes",
                    "sqs:ReceiveMessage",
                },
                "StatusTable": {"dynamodb:PutItem"},
                "DeadLetterQueue": {"sqs:SendMessage"},
            },
        ),
        ("SchedulerRole", {"DispatcherFunction": {"lambda:InvokeFunction"}}),
    ],
)
def test_least_privilege(transformed: dict[str, Any], role: str, expected: dict[str, set[str]]) -> None:
    assert _actions_by_resource(transformed["Resources"][role]) == expected


def test_scheduler_role_trusts_only_the_scheduler_of_this_account() -> None:
    (statement,) = RESOURCES["SchedulerRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


def test_cfn_lint_reports_nothing() -> None:
    assert [str(match) for match in lint_file(TEMPLATE_PATH)] == []


def test_cfn_lint_catches_a_broken_template() -> None:
    """The lint above is a real check: the same linter rejects a deliberately broken copy."""
    text = TEMPLATE_PATH.read_text().replace(
        "MessageRetentionPeriod: 1209600", "MessageRetentionPeriod: 9999999"
    )
    matches = lint(text)
    assert any("9999999" in str(match) for match in matches), [str(m) for m in matches]


def test_only_intrinsics_the_local_copy_resolves() -> None:
    """local.resources resolves these short forms; another one would need support there first."""
    tags = set(re.findall(r"!([A-Za-z]+)", TEMPLATE_PATH.read_text()))
    assert tags <= {"Ref", "GetAtt", "Sub", "Not", "Equals", "If", "Join"}
