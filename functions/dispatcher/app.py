"""The dispatcher Lambda: one EventBridge Scheduler tick -> the minute's shards on the scrape queue.

Thin on purpose: the event is validated here, the work is promscrape.dispatcher's. Settings and
clients are made once per cold start and kept by warm invocations (so is the dispatcher's cache
of built targets). The schedule passes `<aws.scheduler.scheduled-time>`: planning uses it, not
the invocation's clock, so every tick plans exactly its own minute.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.utilities.typing import LambdaContext
from promscrape.dispatcher import run_dispatch
from promscrape.settings import Settings
from promscrape.store import Store
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

logger = Logger()
metrics = Metrics(namespace="promscrape")
tracer = Tracer()
copy_config_to_registered_loggers(source_logger=logger, include={"promscrape"})

settings = Settings.from_env()
sqs_client = boto3.client("sqs")
store = Store(settings.targets_table, settings.status_table, client=boto3.client("dynamodb"))


class SchedulerEvent(BaseModel):
    """The schedule's Input (template.yaml, DispatchSchedule): its context attributes."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    scheduled_time: AwareDatetime = Field(description="<aws.scheduler.scheduled-time>, ISO 8601 UTC")
    schedule_arn: str = ""
    execution_id: str = ""
    attempt_number: int = Field(default=1, ge=1)

    @property
    def scheduled_ms(self) -> int:
        return _epoch_ms(self.scheduled_time)


def _epoch_ms(moment: datetime) -> int:
    """Exact milliseconds since the epoch (no float rounding)."""
    return (moment - EPOCH) // timedelta(milliseconds=1)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Plan the tick's minute and send it; answer with the dispatch summary."""
    tick = SchedulerEvent.model_validate(event)
    logger.append_keys(scheduled_time=tick.scheduled_time.isoformat(), attempt=tick.attempt_number)
    report = run_dispatch(tick.scheduled_ms, store, sqs_client, settings, metrics=metrics)
    return report.summary()
