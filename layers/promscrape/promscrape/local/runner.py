"""`promscrape local`: the real Lambda handlers on this machine, against an embedded AWS.

What runs is what AWS runs: moto in server mode holds the resources of template.yaml (created by
`local.resources.create_resources`), the config file is loaded into the Targets table with
`Store.put_config`, and the two handlers of functions/ are called as Lambda would call them:

- the dispatcher with the scheduler's event (the template's `Input`, placeholders filled) at the
  start and every 60 s after it, as `rate(1 minute)` does;
- the scraper with SQS events built from messages received from the scrape queue (long poll;
  moto honours DelaySeconds), in batches of the event source mapping's size; succeeded messages
  are deleted, failed ones (`batchItemFailures`, or all of them when the handler raises) are left
  to come back after the queue's visibility timeout, shortened to LOCAL_VISIBILITY_TIMEOUT_S so
  that redrive to the DLQ after `maxReceiveCount` happens within a local run.

`--once` skips only the timing: the dispatcher's own code reads, validates and labels the jobs
and targets, every target is planned once, due now, and the shards go through the real queue
(DelaySeconds 0) to the real scraper handler. Waiting for delayed messages instead would take up to
a minute and scrape a 15 s target four times.

After the run: a status table from `Store.read_status()`, and a non-zero exit when a planned
scrape did not happen (a shard message still queued or dead-lettered) or a sample was not
delivered (anything on the DLQ, a request the built-in receiver refused, or fewer samples received
than the scrapes reported forwarding).
"""

import contextlib
import importlib.util
import json
import os
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import boto3
import yaml

import promscrape
from promscrape.local.demo import DemoExporter
from promscrape.local.prometheus import LocalPrometheus, find_prometheus
from promscrape.local.receiver import Receiver
from promscrape.local.resources import create_resources, function_environment, load_template
from promscrape.messages import ShardMessage
from promscrape.queues import send_shards
from promscrape.scrape import REPORT_METRICS
from promscrape.settings import Settings
from promscrape.store import Store
from promscrape.texttable import align

if TYPE_CHECKING:
    from promscrape.config import ConfigFile

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account
STACK_NAME = "promscrape-local"
SCHEDULE_ARN = f"arn:aws:scheduler:{REGION}:{ACCOUNT_ID}:schedule/default/{STACK_NAME}"
DEMO_PLACEHOLDER = "${DEMO_EXPORTER}"
LOCAL_ENDPOINT_NAME = "local"
# Stand-ins to validate the config file before the demo exporter and the receiver exist.
PLACEHOLDER_ADDRESS = "127.0.0.1:9100"
PLACEHOLDER_URL = "http://127.0.0.1:9090/api/v1/write"
LOCAL_VISIBILITY_TIMEOUT_S = 3
TICK_S = 60
LONG_POLL_S = 1
# After the last tick, wait this long at most for the shards it planned (their delays are < 60 s)
# and for retries of failed ones to reach the DLQ.
DRAIN_GRACE_S = TICK_S + 3 * LOCAL_VISIBILITY_TIMEOUT_S + 10

Handler = Callable[[dict[str, Any], Any], Any]


class LocalRunError(RuntimeError):
    """The local run cannot start: a bad config file, a missing template, ..."""


@dataclass(frozen=True)
class LocalOptions:
    """What `promscrape local` was asked to do; `duration_s=None` means --once."""

    config: Path
    remote_write: str | None = None
    duration_s: float | None = 180.0
    demo: bool = False
    repo_root: Path | None = None

    @property
    def once(self) -> bool:
        return self.duration_s is None


# --- the repository: template.yaml and the handlers ----------------------------------------------


def find_repo_root() -> Path:
    """The checkout holding template.yaml and functions/ (the package lives in layers/promscrape)."""
    candidates = [Path(promscrape.__file__).resolve().parents[3], Path.cwd()]
    for candidate in candidates:
        if (candidate / "template.yaml").is_file() and (candidate / "functions").is_dir():
            return candidate
    raise LocalRunError("template.yaml not found: run promscrape local from a checkout of the project")


@dataclass(frozen=True)
class FunctionSpec:
    """One function of the template as the local run invokes it."""

    logical_id: str
    name: str
    app: Path
    timeout_s: int
    memory_mb: int


@dataclass(frozen=True)
class TemplateFacts:
    """What the local run takes from template.yaml besides the resources."""

    dispatcher: FunctionSpec
    scraper: FunctionSpec
    scraper_batch_size: int
    schedule_input: str


def _resolve(value: Any, parameters: Mapping[str, Any]) -> Any:
    """A property's value: literal, or `!Ref` to a parameter's default."""
    if isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in parameters:
        return parameters[value["Ref"]].get("Default")
    return value


def read_template(repo_root: Path) -> TemplateFacts:
    """Timeouts, memory, batch size and the scheduler's input, as deployed."""
    template = load_template(repo_root / "template.yaml")
    parameters = template.get("Parameters", {})
    resources = template["Resources"]
    globals_ = template.get("Globals", {}).get("Function", {})

    def function(logical_id: str, short: str) -> FunctionSpec:
        props = resources[logical_id]["Properties"]
        handler_module = str(props.get("Handler", "app.lambda_handler")).split(".", 1)[0]
        return FunctionSpec(
            logical_id=logical_id,
            name=f"{STACK_NAME}-{short}",
            app=repo_root / props["CodeUri"] / f"{handler_module}.py",
            timeout_s=int(_resolve(props.get("Timeout", globals_.get("Timeout", 3)), parameters)),
            memory_mb=int(_resolve(props.get("MemorySize", globals_.get("MemorySize", 128)), parameters)),
        )

    mappings = [r for r in resources.values() if r.get("Type") == "AWS::Lambda::EventSourceMapping"]
    batch_size = int(_resolve(mappings[0]["Properties"].get("BatchSize", 10), parameters)) if mappings else 10
    schedules = [r for r in resources.values() if r.get("Type") == "AWS::Scheduler::Schedule"]
    if not schedules:
        raise LocalRunError("template.yaml has no AWS::Scheduler::Schedule")
    return TemplateFacts(
        dispatcher=function("DispatcherFunction", "dispatcher"),
        scraper=function("ScraperFunction", "scraper"),
        scraper_batch_size=batch_size,
        schedule_input=str(schedules[0]["Properties"]["Target"]["Input"]),
    )


def load_handler(app: Path, module_name: str) -> Handler:
    """Import a function's app.py by path, as the Lambda runtime does, and return its handler."""
    spec = importlib.util.spec_from_file_location(module_name, app)
    if spec is None or spec.loader is None:
        raise LocalRunError(f"cannot load {app}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    handler: Handler = module.lambda_handler
    return handler


@dataclass
class LocalContext:
    """The Lambda context object the handlers get (the fields Powertools and the scraper read)."""

    function_name: str
    memory_limit_in_mb: int
    timeout_s: int
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{self.aws_request_id.replace('-', '')}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.started + self.timeout_s - time.monotonic()) * 1000))


def context_for(spec: FunctionSpec) -> LocalContext:
    """A fresh context per invocation: the deadline starts now."""
    return LocalContext(function_name=spec.name, memory_limit_in_mb=spec.memory_mb, timeout_s=spec.timeout_s)


# --- events ---------------------------------------------------------------------------------------


def scheduler_event(schedule_input: str, scheduled_s: int) -> dict[str, Any]:
    """The dispatcher's event: the schedule's Input with EventBridge Scheduler's placeholders filled."""
    values = {
        "<aws.scheduler.scheduled-time>": datetime.fromtimestamp(scheduled_s, UTC).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        ),
        "<aws.scheduler.schedule-arn>": SCHEDULE_ARN,
        "<aws.scheduler.execution-id>": str(uuid.uuid4()),
        "<aws.scheduler.attempt-number>": "1",
    }
    text = schedule_input
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    event: dict[str, Any] = json.loads(text)
    return event


def _event_attribute(attribute: Mapping[str, Any]) -> dict[str, Any]:
    """An SQS API message attribute in the Lambda event's spelling."""
    return {
        "stringValue": attribute.get("StringValue"),
        "binaryValue": attribute.get("BinaryValue"),
        "stringListValues": list(attribute.get("StringListValues", [])),
        "binaryListValues": list(attribute.get("BinaryListValues", [])),
        "dataType": attribute["DataType"],
    }


def sqs_event(messages: Sequence[Mapping[str, Any]], queue_arn: str) -> dict[str, Any]:
    """The event the SQS event source mapping gives the scraper for these received messages."""
    records = []
    for message in messages:
        attributes = message.get("Attributes", {})
        records.append(
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": {
                    "ApproximateReceiveCount": attributes.get("ApproximateReceiveCount", "1"),
                    "SentTimestamp": attributes.get("SentTimestamp", str(int(time.time() * 1000))),
                    "SenderId": attributes.get("SenderId", ACCOUNT_ID),
                    "ApproximateFirstReceiveTimestamp": attributes.get(
                        "ApproximateFirstReceiveTimestamp", str(int(time.time() * 1000))
                    ),
                },
                "messageAttributes": {
                    name: _event_attribute(value)
                    for name, value in message.get("MessageAttributes", {}).items()
                },
                "md5OfBody": message.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": REGION,
            }
        )
    return {"Records": records}


# --- configuration --------------------------------------------------------------------------------


def read_config_text(path: Path, demo: bool) -> str:
    """The config file's text; `${DEMO_EXPORTER}` in it needs --demo."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise LocalRunError(f"{path}: cannot read: {error.strerror}") from None
    if DEMO_PLACEHOLDER in text and not demo:
        raise LocalRunError(f"{path} uses {DEMO_PLACEHOLDER}: run it with --demo")
    return text


def local_config(text: str, source: str, demo_address: str, remote_write_url: str) -> "ConfigFile":
    """The config for a local run: `${DEMO_EXPORTER}` replaced by the demo exporter's host:port and
    every endpoint's URL by `remote_write_url`.

    A file without endpoints gets one named `local` that every job forwards to, so that a bare
    list of jobs can be tried locally. Validation is the config module's, on the edited document.
    """
    from promscrape.config import ConfigError, parse_config

    try:
        data = yaml.safe_load(text.replace(DEMO_PLACEHOLDER, demo_address))
    except yaml.YAMLError as error:
        raise LocalRunError(f"{source}: not valid YAML: {error}") from None
    if isinstance(data, dict):
        endpoints = data.get("remote_write") or []
        if endpoints:
            for endpoint in endpoints:
                if isinstance(endpoint, dict):
                    endpoint["url"] = remote_write_url
        else:
            data["remote_write"] = [{"name": LOCAL_ENDPOINT_NAME, "url": remote_write_url}]
            for job in data.get("jobs") or []:
                if isinstance(job, dict):
                    job["forward_to"] = [LOCAL_ENDPOINT_NAME]
    try:
        return parse_config(data, source)
    except ConfigError as error:
        raise LocalRunError(str(error)) from None


# --- the embedded AWS -----------------------------------------------------------------------------


@contextlib.contextmanager
def patched_environ(values: Mapping[str, str | None]) -> Iterator[None]:
    """Set (or, for None, remove) environment variables; restore them afterwards."""
    saved = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def local_powertools_environment() -> dict[str, str | None]:
    """Quieter handlers on a terminal: warnings and errors only, no EMF metric lines, no tracing.

    Each is kept when already set, so `POWERTOOLS_LOG_LEVEL=INFO promscrape local ...` shows all.
    """
    defaults = {
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    return {name: os.environ.get(name) or value for name, value in defaults.items()}


@contextlib.contextmanager
def embedded_aws() -> Iterator[str]:
    """A moto server on a loopback port; boto3 in this process talks to it. Yields its URL."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    # moto's state is process-wide: start empty even if this process ran another embedded AWS.
    urllib.request.urlopen(
        urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=10
    ).close()
    environment: dict[str, str | None] = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": None,
        "AWS_SECURITY_TOKEN": None,
        "AWS_PROFILE": None,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }
    try:
        with patched_environ(environment):
            yield endpoint
    finally:
        server.stop()


# --- the run --------------------------------------------------------------------------------------


@dataclass
class Tally:
    """What happened during the run, to tell whether every planned scrape and sample made it."""

    ticks: int = 0
    tick_failures: list[str] = field(default_factory=list)
    shards_seen: set[str] = field(default_factory=set)
    scrapes_planned: int = 0
    scrapes_done: int = 0
    invocations: int = 0
    failed_invocations: int = 0
    samples_forwarded: int = 0
    missing_status: list[str] = field(default_factory=list)


def _shard(body: str) -> ShardMessage | None:
    try:
        return ShardMessage.model_validate_json(body)
    except ValueError:
        return None


class ScrapeQueueConsumer:
    """The SQS event source mapping: receive, invoke the scraper, delete what succeeded."""

    def __init__(
        self,
        *,
        sqs: Any,
        queue_url: str,
        handler: Handler,
        spec: FunctionSpec,
        batch_size: int,
        store: Store,
        tally: Tally,
        err: TextIO,
    ) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self.handler = handler
        self.spec = spec
        self.batch_size = batch_size
        self.store = store
        self.tally = tally
        self.err = err

    def poll(self, wait_s: int) -> int:
        """Receive one batch (long poll) and hand it to the scraper; the number of messages."""
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=wait_s,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return 0
        shards = {message["MessageId"]: _shard(message["Body"]) for message in messages}
        for message_id, shard in shards.items():
            if message_id not in self.tally.shards_seen:
                self.tally.shards_seen.add(message_id)
                self.tally.scrapes_planned += len(shard.targets) if shard else 0
        self.tally.invocations += 1
        try:
            response = self.handler(sqs_event(messages, self.queue_arn), context_for(self.spec))
        except Exception as error:  # the Lambda failed: SQS will deliver the whole batch again
            self.tally.failed_invocations += 1
            self.err.write(f"scraper invocation failed: {type(error).__name__}: {error}\n")
            failed = set(shards)
        else:
            items = (response or {}).get("batchItemFailures", [])
            failed = {str(item.get("itemIdentifier")) for item in items}
            if failed:
                self.tally.failed_invocations += 1
        succeeded = [message for message in messages if message["MessageId"] not in failed]
        if succeeded:
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                    for index, message in enumerate(succeeded)
                ],
            )
            self._account([shards[message["MessageId"]] for message in succeeded])
        return len(messages)

    def _account(self, shards: Sequence[ShardMessage | None]) -> None:
        """Count the scrapes done and the samples their status says were forwarded."""
        rows = {(row.get("shard_id"), row["url"]): row for row in self.store.read_status()}
        for shard in shards:
            if shard is None:
                continue
            for target in shard.targets:
                self.tally.scrapes_done += 1
                row = rows.get((shard.shard_id, target.url))
                if row is None or int(row.get("last_scrape_ms") or 0) < shard.scheduled_ms:
                    self.tally.missing_status.append(f"{shard.shard_id} {target.url}")
                    continue
                self.tally.samples_forwarded += int(row.get("samples") or 0) + len(REPORT_METRICS)


def queue_depth(sqs: Any, queue_url: str) -> int:
    """Messages on a queue: visible, in flight and delayed."""
    names = [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    ]
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=names)["Attributes"]
    return sum(int(attributes.get(name, 0)) for name in names)


def describe_dead_letters(sqs: Any, queue_url: str) -> list[str]:
    """One line per DLQ message: an undelivered batch or a shard that kept failing (no secrets)."""
    from promscrape.remote_write.deadletter import DeadLetter

    lines: list[str] = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=60).get(
            "Messages", []
        )
        if not messages:
            return lines
        for message in messages:
            shard = _shard(message["Body"])
            if shard is not None:
                lines.append(f"shard {shard.shard_id} failed repeatedly: {len(shard.targets)} scrape(s) lost")
                continue
            try:
                letter = DeadLetter.from_json(message["Body"])
            except ValueError:
                lines.append(f"unrecognised message {message['MessageId']}")
            else:
                lines.append(
                    f"{letter.sample_count} sample(s) not delivered to {letter.endpoint_name}: {letter.error}"
                )


def plan_once(store: Store, settings: Settings, now_ms: int) -> tuple[list[ShardMessage], dict[str, Any]]:
    """Every target once, due now: the dispatcher's validation, labels and sharding, no timing.

    Returns the shards (all for second 0 of the tick) and the dispatcher's report summary.
    """
    from promscrape import dispatcher
    from promscrape.dispatch import iter_shards
    from promscrape.targets import offset_seed

    report = dispatcher.DispatchReport(scheduled_ms=now_ms)
    now_ns = now_ms * 1_000_000
    plans = [
        replace(
            plan,
            targets=[replace(t, offset_ns=now_ns % (t.interval_ms * 1_000_000)) for t in plan.targets],
        )
        for plan in dispatcher.prepare_plans(
            store.load_all(), offset_seed(settings.stack_name), report, reuse=False
        )
    ]
    messages = [message for message, second in iter_shards(plans, now_ms) if second == 0]
    report.scrapes = sum(len(message.targets) for message in messages)
    report.shards = len(messages)
    return messages, report.summary()


# --- output ---------------------------------------------------------------------------------------

STATUS_COLUMNS = ("TARGET", "JOB", "HEALTH", "LAST SCRAPE", "DURATION", "SAMPLES", "ERROR")


def _format_time(ms: Any) -> str:
    if not ms:
        return "-"
    return datetime.fromtimestamp(int(ms) / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "Z"


def format_status_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """The per-target status as an aligned text table (what `promscrape status` prints)."""
    if not rows:
        return "no target status recorded yet\n"
    table = [STATUS_COLUMNS]
    for row in rows:
        duration = row.get("duration_ms")
        error = str(row.get("error") or "-").replace("\n", " ")
        table.append(
            (
                str(row.get("url", "")),
                str(row.get("job", "")),
                str(row.get("health", "")),
                _format_time(row.get("last_scrape_ms")),
                "-" if duration is None else f"{int(duration) / 1000:.3f}s",
                str(row.get("samples", "-")),
                error,
            )
        )
    return align(table)


def _plan_line(summary: Mapping[str, Any]) -> str:
    """One line about a tick's plan, with the invalid jobs and dropped targets it reported."""
    parts = [f"{summary.get('scrapes', 0)} scrape(s) in {summary.get('shards', 0)} shard(s)"]
    for name, error in (summary.get("invalid_jobs") or {}).items():
        parts.append(f"invalid job {name}: {error}")
    for name, error in (summary.get("invalid_endpoints") or {}).items():
        parts.append(f"invalid endpoint {name}: {error}")
    for reason, count in (summary.get("failure_reasons") or {}).items():
        parts.append(f"{count} target(s) dropped: {reason}")
    return "; ".join(parts)


def _receiver_lines(receiver: Receiver) -> list[str]:
    lines = [f"built-in receiver: {receiver.received.summary()}"]
    for labels, value in sorted(receiver.received.latest("up").items()):
        rendered = ",".join(f'{name}="{value_}"' for name, value_ in labels)
        lines.append(f"  up{{{rendered}}} {value:g}")
    return lines


def _prometheus_lines(prometheus: LocalPrometheus) -> list[str]:
    lines = [f"Prometheus at {prometheus.url} holds:"]
    for sample in prometheus.query('count by (job) ({job!=""})'):
        lines.append(f'  job="{sample["metric"].get("job", "")}": {sample["value"][1]} series')
    for sample in prometheus.query("up"):
        labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample["metric"].items()) if k != "__name__")
        lines.append(f"  up{{{labels}}} {sample['value'][1]}")
    lines.append(f"graph: {prometheus.graph_url('rate(demo_requests_total[1m])')}")
    return lines


# --- promscrape local -----------------------------------------------------------------------------


class LocalRun:
    """One `promscrape local` run inside an embedded AWS; `execute()` returns the exit status."""

    def __init__(self, options: LocalOptions, out: TextIO, err: TextIO) -> None:
        self.options = options
        self.out = out
        self.err = err
        self.tally = Tally()
        self.facts: TemplateFacts
        self.started = time.time()
        self.receiver: Receiver | None = None  # the built-in one, when used; kept for inspection

    def say(self, line: str) -> None:
        self.out.write(line + "\n")
        self.out.flush()

    def execute(self) -> int:
        repo = self.options.repo_root or find_repo_root()
        facts = self.facts = read_template(repo)
        self.started = time.time()
        source = str(self.options.config)
        text = read_config_text(self.options.config, self.options.demo)
        local_config(text, source, PLACEHOLDER_ADDRESS, PLACEHOLDER_URL)  # refuse a bad file before starting
        with contextlib.ExitStack() as stack:
            demo_address = PLACEHOLDER_ADDRESS
            if self.options.demo:
                demo = stack.enter_context(DemoExporter())
                demo_address = demo.address
                self.say(f"demo exporter: http://{demo_address}/metrics")
            url = self.options.remote_write
            prometheus = receiver = None
            if url is None and self.options.demo and find_prometheus() is not None:
                prometheus = stack.enter_context(LocalPrometheus())
                url = prometheus.write_url
                self.say(f"receiver: Prometheus at {prometheus.url} (live while this runs)")
                self.say(f"graph: {prometheus.graph_url('rate(demo_requests_total[1m])')}")
            if url is None:
                receiver = self.receiver = stack.enter_context(Receiver())
                url = receiver.url
                self.say(f"receiver: built-in, at {url}")
            config = local_config(text, source, demo_address, url)
            if self.options.remote_write is not None:
                self.say(f"remote write: every endpoint replaced by {url}")
            endpoint = stack.enter_context(embedded_aws())
            self.say(f"embedded AWS (moto): {endpoint}, stack {STACK_NAME}")
            session = boto3.Session(region_name=REGION)
            template = repo / "template.yaml"
            resources = create_resources(template, stack_name=STACK_NAME, session=session)
            environment = function_environment(
                template, facts.scraper.logical_id, resources, stack_name=STACK_NAME, region=REGION
            )
            stack.enter_context(patched_environ({**environment, **local_powertools_environment()}))
            settings = Settings.from_env()
            sqs = session.client("sqs")
            store = Store(settings.targets_table, settings.status_table, client=session.client("dynamodb"))
            sqs.set_queue_attributes(
                QueueUrl=settings.scrape_queue_url,
                Attributes={"VisibilityTimeout": str(LOCAL_VISIBILITY_TIMEOUT_S)},
            )
            self.say(f"loaded {self.options.config}: {store.put_config(config)}")
            consumer = ScrapeQueueConsumer(
                sqs=sqs,
                queue_url=settings.scrape_queue_url,
                handler=load_handler(facts.scraper.app, "promscrape_local_scraper_app"),
                spec=facts.scraper,
                batch_size=facts.scraper_batch_size,
                store=store,
                tally=self.tally,
                err=self.err,
            )
            interrupted = False
            try:
                if self.options.once:
                    self._once(sqs, store, settings, consumer)
                else:
                    self._for_duration(facts, sqs, settings, consumer)
            except KeyboardInterrupt:
                interrupted = True
                self.say("interrupted")
            return self._finish(sqs, store, settings, receiver, prometheus, interrupted)

    def _once(self, sqs: Any, store: Store, settings: Settings, consumer: ScrapeQueueConsumer) -> None:
        now_ms = time.time_ns() // 1_000_000
        messages, summary = plan_once(store, settings, now_ms)
        self.tally.ticks += 1
        send_shards(sqs, settings.scrape_queue_url, [(message, 0) for message in messages])
        self.say(f"once at {_format_time(now_ms)}: {_plan_line(summary)}")
        deadline = time.monotonic() + consumer.spec.timeout_s + DRAIN_GRACE_S - TICK_S
        while queue_depth(sqs, settings.scrape_queue_url) and time.monotonic() < deadline:
            consumer.poll(LONG_POLL_S)

    def _for_duration(
        self, facts: TemplateFacts, sqs: Any, settings: Settings, consumer: ScrapeQueueConsumer
    ) -> None:
        dispatcher = load_handler(facts.dispatcher.app, "promscrape_local_dispatcher_app")
        assert self.options.duration_s is not None
        start = time.time()
        end = start + self.options.duration_s
        next_tick = start
        self.say(f"running for {self.options.duration_s:g}s: a tick every {TICK_S}s, Ctrl-C to stop early")
        while True:
            now = time.time()
            if now < end and now >= next_tick:
                self._tick(dispatcher, facts.dispatcher, int(next_tick))
                next_tick += TICK_S
                continue
            if now >= end and (now >= end + DRAIN_GRACE_S or not queue_depth(sqs, settings.scrape_queue_url)):
                return
            consumer.poll(LONG_POLL_S)

    def _tick(self, dispatcher: Handler, spec: FunctionSpec, scheduled_s: int) -> None:
        self.tally.ticks += 1
        event = scheduler_event(self.facts.schedule_input, scheduled_s)
        try:
            response = dispatcher(event, context_for(spec))
        except Exception as error:  # a failed tick is a minute of scrapes that never happened
            line = f"tick {_format_time(scheduled_s * 1000)} failed: {type(error).__name__}: {error}"
            self.tally.tick_failures.append(line)
            self.err.write(line + "\n")
            return
        summary = response if isinstance(response, Mapping) else {}
        self.say(f"tick {_format_time(scheduled_s * 1000)}: {_plan_line(summary)}")

    def _finish(
        self,
        sqs: Any,
        store: Store,
        settings: Settings,
        receiver: Receiver | None,
        prometheus: LocalPrometheus | None,
        interrupted: bool,
    ) -> int:
        """Print the status table and the summary; the exit status."""
        tally = self.tally
        self.say("")
        self.out.write(format_status_table(store.read_status()))
        self.say("")
        self.say(
            f"{tally.scrapes_done} of {tally.scrapes_planned} planned scrape(s) done in "
            f"{tally.invocations} scraper invocation(s) ({tally.failed_invocations} failed), "
            f"{tally.ticks} tick(s)"
        )
        problems = list(tally.tick_failures)
        left = queue_depth(sqs, settings.scrape_queue_url)
        if left:
            problems.append(
                f"{left} shard message(s) still on the scrape queue: their scrapes did not happen"
            )
        if tally.scrapes_done < tally.scrapes_planned and not left:
            problems.append(f"{tally.scrapes_planned - tally.scrapes_done} planned scrape(s) did not happen")
        problems.extend(
            f"dead-letter queue: {line}"
            for line in describe_dead_letters(sqs, settings.dead_letter_queue_url)
        )
        if tally.missing_status:
            shown = ", ".join(tally.missing_status[:5])
            problems.append(f"{len(tally.missing_status)} scrape(s) recorded no status: {shown}")
        if receiver is not None:
            for line in _receiver_lines(receiver):
                self.say(line)
            problems.extend(
                f"the receiver refused a request: {error}" for error in receiver.received.errors[:5]
            )
            received = receiver.counts()[1]
            if received < tally.samples_forwarded:
                problems.append(
                    f"the receiver got {received} sample(s), the scrapes reported {tally.samples_forwarded}"
                )
        if prometheus is not None:
            for line in _prometheus_lines(prometheus):
                self.say(line)
            window_s = int(time.time() - self.started) + TICK_S
            ingested = prometheus.count_samples('{job!=""}', window_s)
            if ingested < tally.samples_forwarded:
                problems.append(
                    f"Prometheus holds {ingested} sample(s), the scrapes reported {tally.samples_forwarded}"
                )
        for problem in problems:
            self.err.write(f"problem: {problem}\n")
        if interrupted:
            return 130
        return 1 if problems else 0


def run_local(options: LocalOptions, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """`promscrape local`; the exit status (2 when the run cannot start)."""
    try:
        return LocalRun(options, out, err).execute()
    except LocalRunError as error:
        err.write(f"promscrape local: {error}\n")
        return 2
