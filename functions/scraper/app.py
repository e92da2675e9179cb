"""The scraper Lambda: each SQS record is one shard (a ShardMessage) handed to process_shard.

Thin on purpose: settings, clients and the connection pool are made once per cold start and kept
by warm invocations; the work is promscrape.scraper's. Records are processed with Powertools'
BatchProcessor so only a shard that failed is retried (ReportBatchItemFailures); a target being
down or an endpoint refusing a batch is not a failure of the record (up 0, DLQ).
"""

import time
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from promscrape.http import new_pool
from promscrape.native import ACCELERATOR
from promscrape.scraper import MAX_CONCURRENCY, parse_message, process_shard
from promscrape.settings import Settings
from promscrape.store import Store

# Kept free at the end of the invocation for dead letters and the status write after the sends.
RESERVE_MS = 8_000
MIN_SEND_BUDGET_MS = 1_000

logger = Logger()
metrics = Metrics(namespace="promscrape")
tracer = Tracer()
# The library logs with the standard logging module; give it the same JSON output and keys.
copy_config_to_registered_loggers(source_logger=logger, include={"promscrape"})

settings = Settings.from_env()
sqs_client = boto3.client("sqs")
store = Store(settings.targets_table, settings.status_table, client=boto3.client("dynamodb"))
pool = new_pool(maxsize=MAX_CONCURRENCY)
processor = BatchProcessor(event_type=EventType.SQS)
if ACCELERATOR is None:
    logger.warning(
        "promscrape._native is not built for this platform: results are the same, a target's first "
        "scrape costs about twice the CPU; build the layer with `make build`"
    )


@tracer.capture_method
def record_handler(record: SQSRecord, lambda_context: LambdaContext) -> dict[str, Any]:
    """One shard: validate the message (a bad one raises: retried, then dead-lettered), process it."""
    # The SQS message id ties this shard's log lines (the library's included) together.
    logger.set_correlation_id(record.message_id)
    try:
        message = parse_message(record.body)
        logger.append_keys(shard_id=message.shard_id)
        budget_ms = max(lambda_context.get_remaining_time_in_millis() - RESERVE_MS, MIN_SEND_BUDGET_MS)
        report = process_shard(
            message,
            settings=settings,
            sqs_client=sqs_client,
            store=store,
            pool=pool,
            deadline=time.monotonic() + budget_ms / 1000,
        )
        metrics.add_metric(name="TargetsUp", unit=MetricUnit.Count, value=report.targets_up)
        metrics.add_metric(name="TargetsDown", unit=MetricUnit.Count, value=report.targets_down)
        metrics.add_metric(name="Samples", unit=MetricUnit.Count, value=report.samples)
        metrics.add_metric(name="BatchesSent", unit=MetricUnit.Count, value=report.batches_sent)
        metrics.add_metric(
            name="BatchesDeadLettered", unit=MetricUnit.Count, value=report.batches_dead_lettered
        )
        summary = {
            "job": report.job,
            "targets_up": report.targets_up,
            "targets_down": report.targets_down,
            "samples": report.samples,
            "batches_sent": report.batches_sent,
            "batches_dead_lettered": report.batches_dead_lettered,
        }
        logger.info("shard processed", extra=summary)
        return summary
    except Exception:
        logger.exception("shard failed; SQS will retry it")
        raise
    finally:
        logger.remove_keys(["shard_id"])
        logger.set_correlation_id(None)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """SQS batch -> partial batch response (the failed records' ids)."""
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
