"""The data resources of template.yaml, created in an embedded AWS (moto) exactly as declared there.

template.yaml stays the single source of truth: tests (moto in process, `mock_aws`) and the local
runner (moto server, `endpoint_url`) get the same tables (key schema, billing, TTL, PITR), queues
(attributes, redrive policy to the DLQ's ARN) and topics as a deployment. Functions, roles,
schedules and alarms are not created: the tests and the runner drive the handlers themselves.

Names follow CloudFormation's spirit, `<stack>-<LogicalId>`, unless the template names them.
"""

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    import boto3
    from botocore.client import BaseClient

# moto's account; the local run never sees a real one.
LOCAL_ACCOUNT_ID = "123456789012"

_SQS_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "RedrivePolicy",
    "RedriveAllowPolicy",
    "SqsManagedSseEnabled",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "FifoQueue",
    "ContentBasedDeduplication",
)
_SNS_ATTRIBUTES = ("DisplayName", "KmsMasterKeyId")
_CREATED_TYPES = ("AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::SNS::Topic")


class TemplateError(ValueError):
    """The template uses something this embedded copy of CloudFormation does not understand."""


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form tags (!Ref, !GetAtt, !Sub, ...) as long-form maps."""


def _construct_intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix in ("Ref", "Condition"):
        return {suffix: value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct_intrinsic)


def load_template(template_path: str | Path) -> dict[str, Any]:
    """template.yaml as plain data, intrinsic functions in their long form ({"Ref": ...})."""
    with open(template_path, encoding="utf-8") as file:
        return yaml.load(file, Loader=_CfnLoader)


def _to_text(value: Any) -> str:
    """An attribute value as the SQS and SNS APIs want it (JSON for maps, lower-case booleans)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


class _Resolver:
    """Evaluates the intrinsic functions the data resources use, against known values."""

    def __init__(
        self,
        template: Mapping[str, Any],
        *,
        stack_name: str,
        region: str,
        parameters: Mapping[str, str] | None,
        lookup: Callable[[str], None],
        values: dict[str, str],
    ) -> None:
        self.template = template
        self.values = values
        self._lookup = lookup
        self.pseudo = {
            "AWS::StackName": stack_name,
            "AWS::Region": region,
            "AWS::AccountId": LOCAL_ACCOUNT_ID,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }
        self.parameters = {
            name: str((parameters or {}).get(name, spec.get("Default", "")))
            for name, spec in template.get("Parameters", {}).items()
        }

    def value(self, name: str) -> str:
        """What !Ref NAME or ${NAME} gives ("Res.Attr" for !GetAtt)."""
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name not in self.values:
            self._lookup(name)
        if name not in self.values:
            raise TemplateError(f"cannot resolve {name!r}: not a parameter or a created resource")
        return self.values[name]

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self.resolve(item) for item in node]
        if not isinstance(node, dict):
            return node
        if len(node) != 1:
            return {key: self.resolve(value) for key, value in node.items()}
        ((key, arg),) = node.items()
        if key == "Ref":
            return self.value(arg)
        if key == "Fn::GetAtt":
            resource, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
            return self.value(f"{resource}.{attribute}")
        if key == "Fn::Sub":
            return self._sub(arg)
        if key == "Fn::Join":
            separator, items = arg
            return separator.join(str(item) for item in self.resolve(items))
        if key == "Fn::If":
            name, if_true, if_false = arg
            return self.resolve(if_true if self.condition(name) else if_false)
        if key.startswith("Fn::"):
            raise TemplateError(f"{key} is not supported by the local resources")
        return {key: self.resolve(arg)}

    def _sub(self, arg: str | list[Any]) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))
        out: list[str] = []
        rest = text
        while "${" in rest:
            before, _, after = rest.partition("${")
            name, _, rest = after.partition("}")
            out.append(before)
            if name.startswith("!"):
                out.append("${" + name[1:] + "}")
            else:
                out.append(str(variables[name]) if name in variables else self.value(name))
        out.append(rest)
        return "".join(out)

    def condition(self, name: str) -> bool:
        return self._truth(self.template.get("Conditions", {})[name])

    def _truth(self, node: Any) -> bool:
        ((key, arg),) = node.items()
        if key == "Fn::Equals":
            left, right = (self.resolve(item) for item in arg)
            return str(left) == str(right)
        if key == "Fn::Not":
            return not self._truth(arg[0])
        if key == "Fn::And":
            return all(self._truth(item) for item in arg)
        if key == "Fn::Or":
            return any(self._truth(item) for item in arg)
        if key == "Condition":
            return self.condition(arg)
        raise TemplateError(f"condition function {key} is not supported by the local resources")


class _Builder:
    """Creates each data resource once, its dependencies (the DLQ of a queue) first."""

    def __init__(
        self,
        template: Mapping[str, Any],
        clients: Mapping[str, "BaseClient"],
        *,
        stack_name: str,
        parameters: Mapping[str, str] | None,
    ) -> None:
        self.resources: Mapping[str, Any] = template.get("Resources", {})
        self.clients = clients
        self.stack_name = stack_name
        self.values: dict[str, str] = {}
        self._creating: set[str] = set()
        self.resolver = _Resolver(
            template,
            stack_name=stack_name,
            region=clients["sqs"].meta.region_name,
            parameters=parameters,
            lookup=self._lookup,
            values=self.values,
        )

    def _lookup(self, name: str) -> None:
        logical_id = name.split(".", 1)[0]
        if logical_id in self.resources:
            self.ensure(logical_id)

    def wanted(self, logical_id: str) -> bool:
        resource = self.resources[logical_id]
        if resource.get("Type") not in _CREATED_TYPES:
            return False
        return "Condition" not in resource or self.resolver.condition(resource["Condition"])

    def ensure(self, logical_id: str) -> None:
        if logical_id in self.values or not self.wanted(logical_id):
            return
        if logical_id in self._creating:
            raise TemplateError(f"circular reference through {logical_id}")
        self._creating.add(logical_id)
        resource = self.resources[logical_id]
        properties = self.resolver.resolve(resource.get("Properties", {}))
        create = {
            "AWS::DynamoDB::Table": self._table,
            "AWS::SQS::Queue": self._queue,
            "AWS::SNS::Topic": self._topic,
        }[resource["Type"]]
        try:
            create(logical_id, properties)
        finally:
            self._creating.discard(logical_id)

    def _name(self, logical_id: str, given: str | None) -> str:
        return given or f"{self.stack_name}-{logical_id}"

    def _table(self, logical_id: str, props: Mapping[str, Any]) -> None:
        client = self.clients["dynamodb"]
        name = self._name(logical_id, props.get("TableName"))
        kwargs: dict[str, Any] = {
            "TableName": name,
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": props.get("BillingMode", "PROVISIONED"),
        }
        if "ProvisionedThroughput" in props:
            kwargs["ProvisionedThroughput"] = props["ProvisionedThroughput"]
        if "GlobalSecondaryIndexes" in props:
            kwargs["GlobalSecondaryIndexes"] = [
                {
                    key: index[key]
                    for key in ("IndexName", "KeySchema", "Projection", "ProvisionedThroughput")
                    if key in index
                }
                for index in props["GlobalSecondaryIndexes"]
            ]
        sse = props.get("SSESpecification")
        if sse:
            kwargs["SSESpecification"] = {"Enabled": bool(sse.get("SSEEnabled"))} | (
                {"SSEType": sse["SSEType"]} if "SSEType" in sse else {}
            )
        try:
            client.create_table(**kwargs)
            created = True
        except client.exceptions.ResourceInUseException:
            created = False
        if created and "TimeToLiveSpecification" in props:
            ttl = props["TimeToLiveSpecification"]
            client.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={
                    "Enabled": bool(ttl["Enabled"]),
                    "AttributeName": ttl["AttributeName"],
                },
            )
        pitr = props.get("PointInTimeRecoverySpecification", {})
        if created and pitr.get("PointInTimeRecoveryEnabled"):
            client.update_continuous_backups(
                TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
            )
        arn = client.describe_table(TableName=name)["Table"]["TableArn"]
        self.values.update({logical_id: name, f"{logical_id}.Arn": arn})

    def _queue(self, logical_id: str, props: Mapping[str, Any]) -> None:
        client = self.clients["sqs"]
        name = self._name(logical_id, props.get("QueueName"))
        if props.get("FifoQueue") and not name.endswith(".fifo"):
            name += ".fifo"
        attributes = {key: _to_text(props[key]) for key in _SQS_ATTRIBUTES if key in props}
        url = client.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.values.update({logical_id: url, f"{logical_id}.Arn": arn, f"{logical_id}.QueueName": name})
        self.values[f"{logical_id}.QueueUrl"] = url

    def _topic(self, logical_id: str, props: Mapping[str, Any]) -> None:
        client = self.clients["sns"]
        name = self._name(logical_id, props.get("TopicName"))
        attributes = {key: _to_text(props[key]) for key in _SNS_ATTRIBUTES if key in props}
        arn = client.create_topic(Name=name, Attributes=attributes)["TopicArn"]
        self.values.update({logical_id: arn, f"{logical_id}.TopicArn": arn, f"{logical_id}.TopicName": name})


def _clients(session: "boto3.Session | None", endpoint_url: str | None) -> dict[str, "BaseClient"]:
    import boto3

    session = session or boto3.Session()
    return {
        service: session.client(service, endpoint_url=endpoint_url)  # type: ignore[call-overload]
        for service in ("dynamodb", "sqs", "sns")
    }


def create_resources(
    template_path: str | Path,
    *,
    stack_name: str = "promscrape",
    session: "boto3.Session | None" = None,
    endpoint_url: str | None = None,
    parameters: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Create the template's tables, queues and topics; return what the template can refer to.

    The result maps each logical id to what `!Ref` gives (table name, queue URL, topic ARN) and
    `"<LogicalId>.<Attribute>"` to what `!GetAtt` gives (`ScrapeQueue.Arn`, ...). Pass
    `endpoint_url` for a moto server; inside `moto.mock_aws` the default session is enough.
    Creating again against the same server is harmless.
    """
    template = load_template(template_path)
    builder = _Builder(
        template, _clients(session, endpoint_url), stack_name=stack_name, parameters=parameters
    )
    for logical_id in builder.resources:
        builder.ensure(logical_id)
    return dict(builder.values)


def function_environment(
    template_path: str | Path,
    function_id: str,
    resources: Mapping[str, str],
    *,
    stack_name: str = "promscrape",
    region: str = "us-east-1",
    parameters: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """A function's environment variables (Globals merged with its own), resolved like a deployment."""
    template = load_template(template_path)
    if function_id not in template.get("Resources", {}):
        raise TemplateError(f"no resource {function_id!r} in {template_path}")

    def missing(name: str) -> None:
        raise TemplateError(f"{function_id}'s environment refers to {name!r}, which was not created")

    resolver = _Resolver(
        template,
        stack_name=stack_name,
        region=region,
        parameters=parameters,
        lookup=missing,
        values=dict(resources),
    )
    variables: dict[str, Any] = {}
    for source in (
        template.get("Globals", {}).get("Function", {}),
        template["Resources"][function_id].get("Properties", {}),
    ):
        variables.update(source.get("Environment", {}).get("Variables", {}))
    return {name: str(resolver.resolve(value)) for name, value in variables.items()}
