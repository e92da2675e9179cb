"""The dispatcher's work for one scheduler tick: store -> validate -> target labels -> plan -> queue.

An invalid job or endpoint is reported with its error and skipped; the other jobs go on. Targets
whose labels fail (REFERENCE §6) are dropped, logged and counted, never scraped. Shards are sent
while planning (chunks of SEND_CHUNK messages): the minute's messages are never all in memory.

Delays: the plan's DelaySeconds are seconds after the scheduled tick; the dispatcher runs a little
after it (cold start, reading the table, planning), so each chunk's delays are shortened by the
whole seconds already gone, keeping scrapes on their second. A tick older than a minute (a replay,
a test event) is sent with the plan's delays unchanged.
"""

import json
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import ValidationError

from promscrape.config import RemoteWriteEndpoint, ScrapeJob, describe_validation_error
from promscrape.dispatch import WINDOW_S, JobPlan, iter_shards, oversized_targets
from promscrape.gostring import go_quote
from promscrape.messages import ShardMessage
from promscrape.queues import MAX_SHARD_MESSAGE_BYTES, send_shards
from promscrape.targets import ADDRESS, DroppedTarget, Target, TargetBuilder, offset_seed

if TYPE_CHECKING:
    from aws_lambda_powertools import Metrics
    from botocore.client import BaseClient

    from promscrape.settings import Settings
    from promscrape.store import Catalog, Store

# Standard logging: the handler gives the `promscrape` loggers Powertools' JSON output and keys.
logger = logging.getLogger(__name__)

SEND_CHUNK = 100  # messages handed to send_shards at once (it batches them by 10)
MAX_LOGGED_DROPS = 20  # per job: the first drops are logged one by one, the rest counted


@dataclass(frozen=True, slots=True)
class FailedTarget:
    """A target dropped because its labels are wrong (REFERENCE §6 errors)."""

    job: str
    address: str
    error: str


@dataclass(slots=True)
class DispatchReport:
    """What one tick did; `summary()` is the handler's answer and the log line."""

    scheduled_ms: int
    jobs: int = 0
    invalid_jobs: dict[str, str] = field(default_factory=dict)
    invalid_endpoints: dict[str, str] = field(default_factory=dict)
    targets: int = 0
    dropped_by_relabeling: int = 0
    failed_targets: list[FailedTarget] = field(default_factory=list)
    scrapes: int = 0
    shards: int = 0
    message_bytes: int = 0
    lag_ms: int = 0

    def summary(self) -> dict[str, Any]:
        """Counts, the invalid jobs' errors and the distinct drop reasons with their counts."""
        reasons = Counter(failure.error for failure in self.failed_targets)
        return {
            "scheduled_ms": self.scheduled_ms,
            "jobs": self.jobs,
            "invalid_jobs": self.invalid_jobs,
            "invalid_endpoints": self.invalid_endpoints,
            "targets": self.targets,
            "dropped_by_relabeling": self.dropped_by_relabeling,
            "failed_targets": len(self.failed_targets),
            "failure_reasons": dict(reasons.most_common(10)),
            "scrapes": self.scrapes,
            "shards": self.shards,
            "message_bytes": self.message_bytes,
            "lag_ms": self.lag_ms,
        }


def _endpoints(raw: list[dict[str, Any]], report: DispatchReport) -> dict[str, RemoteWriteEndpoint]:
    valid: dict[str, RemoteWriteEndpoint] = {}
    for item in raw:
        name = str(item.get("name", ""))
        try:
            valid[name] = RemoteWriteEndpoint.model_validate(item)
        except ValidationError as error:
            report.invalid_endpoints[name] = "; ".join(describe_validation_error(error))
            logger.error(
                "invalid remote_write endpoint",
                extra={"endpoint": name, "error": report.invalid_endpoints[name]},
            )
    return valid


def _job(
    raw: dict[str, Any], endpoints: dict[str, RemoteWriteEndpoint], report: DispatchReport
) -> tuple[ScrapeJob, list[RemoteWriteEndpoint]] | None:
    """The validated job and its endpoints, or None after reporting why it is invalid."""
    name = str(raw.get("name", ""))
    try:
        job = ScrapeJob.model_validate(raw)
    except ValidationError as error:
        report.invalid_jobs[name] = "; ".join(describe_validation_error(error))
    else:
        problems = [
            f"job {go_quote(name)}: forward_to: remote_write endpoint {go_quote(target)} is invalid"
            if target in report.invalid_endpoints
            else f"job {go_quote(name)}: forward_to: no remote_write endpoint named {go_quote(target)}"
            for target in job.forward_to
            if target not in endpoints
        ]
        if not problems:
            return job, [endpoints[target] for target in job.forward_to]
        report.invalid_jobs[name] = "; ".join(problems)
    logger.error("invalid job: skipped", extra={"job": name, "error": report.invalid_jobs[name]})
    return None


@dataclass(slots=True)
class _JobTargets:
    """One job's builder and what it built, keyed by the discovered labels."""

    builder: TargetBuilder
    results: dict[tuple[tuple[str, str], ...], Target | DroppedTarget]


# What the previous tick of this (warm) Lambda container built, per job configuration and seed.
# A target's labels, URL and offset are a pure function of those and its discovered labels, so
# an unchanged target is looked up instead of rebuilt (the offset hash is the costly part). Each
# tick keeps only the jobs and targets it saw: the cache never outgrows one tick's targets.
_built: dict[str, _JobTargets] = {}


def build_job_targets(
    job: ScrapeJob,
    discovered: list[dict[str, str]],
    seed: int,
    report: DispatchReport,
    previous: dict[str, _JobTargets],
    current: dict[str, _JobTargets],
) -> list[Target]:
    """Target labels, URL and offset of every target of a job; drops are reported."""
    key = f"{seed}:{json.dumps(job.to_item(), sort_keys=True)}"
    before = previous.get(key)
    builder = before.builder if before is not None else TargetBuilder(job, seed)
    known = before.results if before is not None else {}
    results: dict[tuple[tuple[str, str], ...], Target | DroppedTarget] = {}
    current[key] = _JobTargets(builder, results)
    targets: list[Target] = []
    logged = 0
    for labels in discovered:
        labels_key = tuple(labels.items())
        built = known.get(labels_key)
        if built is None:
            built = builder.build(labels)
        results[labels_key] = built
        if isinstance(built, Target):
            targets.append(built)
            continue
        if built.error is None:
            report.dropped_by_relabeling += 1
            continue
        failure = FailedTarget(job=job.name, address=str(labels.get(ADDRESS, "")), error=built.error)
        report.failed_targets.append(failure)
        if logged < MAX_LOGGED_DROPS:
            details = {"job": job.name, "address": failure.address, "error": failure.error}
            logger.warning("target dropped", extra=details)
            logged += 1
    return targets


def prepare_plans(
    catalog: "Catalog", seed: int, report: DispatchReport, *, reuse: bool = True
) -> list[JobPlan]:
    """Validate the catalog's endpoints and jobs and build every valid job's targets.

    With `reuse`, targets unchanged since this container's previous call are not rebuilt.
    """
    endpoints = _endpoints(catalog.endpoints, report)
    plans: list[JobPlan] = []
    built: dict[str, _JobTargets] = {}
    for raw in catalog.jobs:
        validated = _job(raw, endpoints, report)
        if validated is None:
            continue
        job, job_endpoints = validated
        previous = _built if reuse else {}
        targets = build_job_targets(job, catalog.targets.get(job.name, []), seed, report, previous, built)
        report.jobs += 1
        report.targets += len(targets)
        plans.append(
            JobPlan(
                name=job.name,
                job=job.to_item(reveal=True),
                remote_write=[endpoint.to_item(reveal=True) for endpoint in job_endpoints],
                targets=targets,
            )
        )
    if reuse:
        _built.clear()
        _built.update(built)
    return plans


def run_dispatch(
    scheduled_ms: int,
    store: "Store",
    sqs_client: "BaseClient",
    settings: "Settings",
    *,
    metrics: "Metrics | None" = None,
    clock_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
) -> DispatchReport:
    """Plan the minute starting at `scheduled_ms` and send its shards to the scrape queue."""
    report = DispatchReport(scheduled_ms=scheduled_ms)
    plans = prepare_plans(store.load_all(), offset_seed(settings.stack_name), report)

    report.lag_ms = clock_ms() - scheduled_ms
    chunk: list[tuple[ShardMessage, int]] = []

    def flush() -> None:
        lag_s = (clock_ms() - scheduled_ms) // 1000
        shift = lag_s if 0 <= lag_s < WINDOW_S else 0
        sent = [(message, max(0, delay - shift)) for message, delay in chunk]
        report.shards += send_shards(sqs_client, settings.scrape_queue_url, sent)
        chunk.clear()

    plans = [_without_oversized(plan, scheduled_ms, report) for plan in plans]
    for message, delay in iter_shards(plans, scheduled_ms):
        report.scrapes += len(message.targets)
        report.message_bytes += len(message.model_dump_json().encode())
        chunk.append((message, delay))
        if len(chunk) == SEND_CHUNK:
            flush()
    if chunk:
        flush()

    logger.info("dispatch done", extra=report.summary())
    if metrics is not None:
        record_metrics(metrics, report)
    return report


def _without_oversized(plan: JobPlan, scheduled_ms: int, report: DispatchReport) -> JobPlan:
    """The plan minus the targets SQS could not carry, each reported once: the tick goes on."""
    oversized = oversized_targets(plan, scheduled_ms, MAX_SHARD_MESSAGE_BYTES)
    if not oversized:
        return plan
    for target, size in oversized:
        error = f"shard message of {size} bytes exceeds the scrape queue's limit of {MAX_SHARD_MESSAGE_BYTES}"
        report.failed_targets.append(FailedTarget(job=plan.name, address=target.url, error=error))
        logger.error("target dropped", extra={"job": plan.name, "url": target.url, "error": error})
    report.targets -= len(oversized)
    dropped = {id(target) for target, _ in oversized}
    return replace(plan, targets=[target for target in plan.targets if id(target) not in dropped])


def record_metrics(metrics: "Metrics", report: DispatchReport) -> None:
    """Aggregate counts only (EMF): never a metric per target, each would cost $0.30 a month."""
    count = MetricUnit.Count
    metrics.add_metric(name="JobsPlanned", unit=count, value=report.jobs)
    metrics.add_metric(name="JobsInvalid", unit=count, value=len(report.invalid_jobs))
    metrics.add_metric(name="EndpointsInvalid", unit=count, value=len(report.invalid_endpoints))
    metrics.add_metric(name="Targets", unit=count, value=report.targets)
    metrics.add_metric(name="TargetsDroppedByRelabeling", unit=count, value=report.dropped_by_relabeling)
    metrics.add_metric(name="TargetsFailed", unit=count, value=len(report.failed_targets))
    metrics.add_metric(name="ScrapesPlanned", unit=count, value=report.scrapes)
    metrics.add_metric(name="ShardsSent", unit=count, value=report.shards)
    metrics.add_metric(name="ShardBytes", unit=MetricUnit.Bytes, value=report.message_bytes)
    metrics.add_metric(name="DispatchLag", unit=MetricUnit.Milliseconds, value=report.lag_ms)
