"""The scraper's work for one ShardMessage: scrape every target, forward to every endpoint, record.

Targets are scraped concurrently (network-bound threads), their series gathered into remote-write
requests of at most `max_samples_per_send` samples, each compressed once and POSTed to every
`forward_to` endpoint within a deadline that the Lambda's remaining time sets. A request still
undelivered goes whole to the dead-letter queue (replayable), so the SQS message itself succeeds;
one status item is written for the shard. Only a message that cannot be processed at all raises.
"""

import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import urllib3
from pydantic import ValidationError

from promscrape.config import RemoteWriteEndpoint, ScrapeJob, describe_validation_error
from promscrape.messages import ShardMessage
from promscrape.pipeline import SeriesCache
from promscrape.queues import send_dead_letter
from promscrape.relabel import Relabeler, compile_rules
from promscrape.remote_write import v1, v2
from promscrape.remote_write.deadletter import DeadLetter
from promscrape.remote_write.send import Protocol, negotiated_protocol, send_compressed
from promscrape.scrape import ScrapeOutcome, TargetStatus, scrape_target
from promscrape.settings import Settings

if TYPE_CHECKING:
    from botocore.client import BaseClient

    from promscrape.store import Store

logger = logging.getLogger(__name__)

MAX_CONCURRENCY = 32
"""Scrape threads per invocation: scrapes wait on the network, not the CPU."""
SENDS_PER_ENDPOINT = 8
"""Requests in flight to one remote-write endpoint at once."""
DEFAULT_BUDGET_S = 60.0
"""Time given to scrapes and sends when the caller sets no deadline (local runs, tests)."""
MIN_SEND_BUDGET_S = 3.0
"""Time kept for the sends when capping scrape timeouts to the deadline."""
MIN_SCRAPE_TIMEOUT_MS = 1_000
MAX_DEAD_LETTER_BYTES = 240 * 1024
"""A dead letter must fit one SQS message (256 KiB with attributes); bigger batches are split."""
MAX_CACHED_SERIES = 150_000
"""Series kept across warm invocations in all targets' caches together (least recently used out);
at ~450 bytes a cached series that is ~70 MB, which leaves a 512 MB scraper room for a 100k-series
scrape in flight."""
MAX_CACHED_RELABELERS = 256

CacheKey = tuple[str, str, str]  # scrape URL, target labels, job config (JSON)


@dataclass(slots=True)
class ShardReport:
    """What one shard did: per-target statuses and the aggregates the handler reports as metrics."""

    shard_id: str
    job: str
    statuses: list[TargetStatus]
    samples: int = 0
    batches_sent: int = 0
    batches_dead_lettered: int = 0
    samples_dead_lettered: int = 0

    @property
    def targets_up(self) -> int:
        return sum(1 for status in self.statuses if status.health == "up")

    @property
    def targets_down(self) -> int:
        return len(self.statuses) - self.targets_up


# Warm-invocation state: compiled metric relabel rules per rule set, series caches per target.
# Guarded by one lock because the local runner may process shards from several threads.
_relabelers: OrderedDict[str, Relabeler] = OrderedDict()
_series_caches: OrderedDict[CacheKey, SeriesCache] = OrderedDict()
_caches_in_use: set[CacheKey] = set()
_state_lock = threading.Lock()


def parse_message(body: str) -> ShardMessage:
    """The scrape queue message, validated; an error never quotes the body, which holds endpoint secrets."""
    try:
        return ShardMessage.model_validate_json(body)
    except ValidationError as exc:
        raise ValueError("invalid shard message: " + "; ".join(describe_validation_error(exc))) from None


def _relabeler(message: ShardMessage, job: ScrapeJob) -> Relabeler | None:
    """The job's compiled metric_relabel_configs (None when there are none: the pipeline skips them)."""
    if not job.metric_relabel_configs:
        return None
    key = json.dumps(message.job.get("metric_relabel_configs") or [], sort_keys=True)
    with _state_lock:
        relabeler = _relabelers.get(key)
        if relabeler is None:
            relabeler = _relabelers[key] = compile_rules(job.metric_relabel_configs)
            while len(_relabelers) > MAX_CACHED_RELABELERS:
                _relabelers.popitem(last=False)
        _relabelers.move_to_end(key)
        return relabeler


def _checkout_caches(message: ShardMessage) -> tuple[list[SeriesCache | None], list[CacheKey]]:
    """One cache per target, kept for its next scrape under the same job config; return them after.

    A cache is never used by two scrapes at once: a target listed twice in one shard, or being
    scraped by another shard right now, gets none (correctness never depends on the cache).
    """
    job_key = json.dumps(message.job, sort_keys=True, default=str)
    caches: list[SeriesCache | None] = []
    taken: list[CacheKey] = []
    with _state_lock:
        for planned in message.targets:
            key = (planned.url, json.dumps(planned.labels, sort_keys=True), job_key)
            if key in _caches_in_use:
                caches.append(None)
                continue
            _caches_in_use.add(key)
            taken.append(key)
            cache = _series_caches.get(key)
            if cache is None:
                cache = _series_caches[key] = SeriesCache()
            _series_caches.move_to_end(key)
            caches.append(cache)
    return caches, taken


def _return_caches(taken: list[CacheKey], keep: int = MAX_CACHED_SERIES) -> None:
    """Release the caches, then drop the least recently used until all hold at most `keep` series."""
    with _state_lock:
        _caches_in_use.difference_update(taken)
        total = sum(len(cache) for cache in _series_caches.values())
        for key in list(_series_caches):
            if total <= keep:
                break
            if key not in _caches_in_use:
                total -= len(_series_caches.pop(key))


def process_shard(
    message: ShardMessage,
    *,
    settings: Settings,
    sqs_client: "BaseClient",
    store: "Store",
    pool: urllib3.PoolManager,
    deadline: float | None = None,
) -> ShardReport:
    """Scrape, forward and record one shard; all by `deadline` (time.monotonic()) but the DLQ and status.

    Scrape timeouts are capped so that the sends keep at least MIN_SEND_BUDGET_S before it.

    Raises only when the message itself is unusable (invalid job or endpoint) or a dead letter
    cannot be written: then SQS retries the message and finally dead-letters it.
    """
    job = ScrapeJob.model_validate(message.job)
    endpoints = [RemoteWriteEndpoint.model_validate(endpoint) for endpoint in message.remote_write]
    missing = sorted(set(job.forward_to) - {endpoint.name for endpoint in endpoints})
    if missing:
        # Scraping anyway would lose these endpoints' samples silently: let SQS dead-letter the shard.
        raise ValueError(f"shard {message.shard_id}: no remote_write endpoint for forward_to {missing}")
    relabeler = _relabeler(message, job)
    if deadline is None:
        deadline = time.monotonic() + DEFAULT_BUDGET_S
    # A scrape may not eat the time of the sends (nor outlive the function): cap its timeout.
    cap_ms = max(MIN_SCRAPE_TIMEOUT_MS, int((deadline - time.monotonic() - MIN_SEND_BUDGET_S) * 1000))
    targets = [
        planned if planned.timeout_ms <= cap_ms else planned.model_copy(update={"timeout_ms": cap_ms})
        for planned in message.targets
    ]
    workers = max(1, min(MAX_CONCURRENCY, len(targets)))
    protocols = [negotiated_protocol(endpoint, configured_protocol(endpoint)) for endpoint in endpoints]
    want_v2 = "2.0" in protocols
    caches, taken = _checkout_caches(message)
    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="scrape") as executor:
            outcomes = list(
                executor.map(
                    lambda planned, cache: scrape_target(planned, job, relabeler, cache, pool, want_v2),
                    targets,
                    caches,
                )
            )
    finally:
        _return_caches(taken)
    report = ShardReport(shard_id=message.shard_id, job=job.job_label, statuses=[o.status for o in outcomes])
    payload = _Payload.gather(outcomes)
    report.samples = len(payload.series)
    _forward(
        payload, list(zip(endpoints, protocols, strict=True)), deadline, report, settings, sqs_client, pool
    )
    try:
        store.write_shard_status(message.shard_id, [status.model_dump() for status in report.statuses])
    except Exception:
        # The samples are delivered already: retrying the message would scrape again, so only log.
        logger.exception("writing the shard status failed", extra={"shard_id": message.shard_id})
    return report


def configured_protocol(endpoint: RemoteWriteEndpoint) -> Protocol:
    """The remote write version an endpoint's protobuf_message asks for."""
    return "2.0" if endpoint.protobuf_message == v2.PROTO_MESSAGE else "1.0"


@dataclass(frozen=True, slots=True)
class _Payload:
    """What a shard forwards: 1.0 entries of one item each (float samples, exemplars, native
    histogram samples), 1.0 metadata, and 2.0 series if an endpoint speaks 2.0."""

    series: list[bytes]
    exemplars: list[bytes]
    histograms: list[bytes]
    metadata: list[bytes]
    series_v2: list[v2.Series]

    @classmethod
    def gather(cls, outcomes: Sequence[ScrapeOutcome]) -> "_Payload":
        payload = cls([], [], [], [], [])
        for outcome in outcomes:
            payload.series.extend(outcome.series)
            payload.exemplars.extend(outcome.exemplars)
            payload.histograms.extend(outcome.histograms)
            payload.metadata.extend(outcome.metadata)
            payload.series_v2.extend(outcome.v2_series or ())
        return payload

    def batches(self, shape: "_Shape") -> list["_Batch"]:
        """The requests of one endpoint shape: as Alloy's endpoint block, exemplars only with
        send_exemplars (default true) and native histograms only with send_native_histograms
        (default false); 1.0 sends its metadata in requests of its own, 2.0 with each series."""
        protocol, max_samples, exemplars, histograms = shape
        if protocol == "2.0":
            series = [
                one if exemplars or not one.exemplars else replace(one, exemplars=())
                for one in self.series_v2
                if histograms or not one.histograms
            ]
            return [_Batch.of_v2(part) for part in v2.split_series(series, max_samples)]
        entries = [
            *self.series,
            *(self.histograms if histograms else ()),
            *(self.exemplars if exemplars else ()),
        ]
        return [
            *(_Batch.of_v1(part) for part in v1.split_batches(entries, max_samples)),
            *(_Batch.of_v1(part) for part in v1.split_batches(self.metadata, max_samples)),
        ]


_Shape = tuple[Protocol, int, bool, bool]
"""What an endpoint's requests depend on: protocol, max_samples_per_send, send_exemplars,
send_native_histograms."""


@dataclass(frozen=True, slots=True)
class _Batch:
    """One request: its protocol, its parts (1.0 entries or 2.0 series, kept for dead letters and the
    415 fallback), its uncompressed and compressed body, and what it holds."""

    protocol: Protocol
    parts: Sequence[bytes] | Sequence[v2.Series]
    body: bytes
    compressed: bytes
    counts: v2.Counts

    @property
    def items(self) -> int:
        return self.counts.samples + self.counts.histograms + self.counts.exemplars

    @classmethod
    def of_v1(cls, entries: Sequence[bytes], counts: v2.Counts | None = None) -> "_Batch":
        body = b"".join(entries)
        return cls("1.0", entries, body, v1.compress(body), counts or v2.Counts(samples=len(entries)))

    @classmethod
    def of_v2(cls, series: Sequence[v2.Series]) -> "_Batch":
        builder = v2.RequestBuilder()
        for one in series:
            builder.add(one)
        body = builder.body()
        return cls("2.0", series, body, v1.compress(body), builder.counts)

    def as_v1(self) -> "_Batch | None":
        """The same series as 1.0 (a 415 to 2.0), None when 1.0 carries none of them (NHCB only)."""
        encoded = [entry for entry in map(v2.encode_series_v1, self.parts) if entry is not None]  # type: ignore[arg-type]
        if not encoded:
            return None
        counts = v2.Counts(
            sum(c.samples for _, c in encoded),
            sum(c.histograms for _, c in encoded),
            sum(c.exemplars for _, c in encoded),
        )
        return _Batch.of_v1([entry for entry, _ in encoded], counts)

    def halves(self) -> tuple["_Batch", "_Batch"]:
        half = len(self.parts) // 2
        if self.protocol == "2.0":
            return _Batch.of_v2(self.parts[:half]), _Batch.of_v2(self.parts[half:])  # type: ignore[arg-type]
        return _Batch.of_v1(self.parts[:half]), _Batch.of_v1(self.parts[half:])  # type: ignore[arg-type]


def _forward(
    payload: _Payload,
    endpoints: Sequence[tuple[RemoteWriteEndpoint, Protocol]],
    deadline: float,
    report: ShardReport,
    settings: Settings,
    sqs_client: "BaseClient",
    pool: urllib3.PoolManager,
) -> None:
    """Send every batch to every endpoint, endpoints in parallel; dead-letter what still fails.

    Each endpoint has its own threads, so one that keeps failing until the deadline cannot hold
    up the delivery to the others.
    """
    if not payload.series:
        return
    by_shape: dict[_Shape, list[_Batch]] = {}
    executors: list[ThreadPoolExecutor] = []
    pending: list[tuple[RemoteWriteEndpoint, Protocol, Future[tuple[str | None, _Batch]]]] = []
    for endpoint, protocol in endpoints:
        shape = (
            protocol,
            endpoint.max_samples_per_send,
            endpoint.send_exemplars,
            endpoint.send_native_histograms,
        )
        if shape not in by_shape:
            by_shape[shape] = payload.batches(shape)
        batches = by_shape[shape]
        if not batches:
            continue
        executor = ThreadPoolExecutor(
            max_workers=min(SENDS_PER_ENDPOINT, len(batches)), thread_name_prefix=f"send-{endpoint.name}"
        )
        executors.append(executor)
        pending.extend(
            (endpoint, protocol, executor.submit(_send, endpoint, batch, deadline, pool)) for batch in batches
        )
    fell_back: dict[str, RemoteWriteEndpoint] = {}
    try:
        for endpoint, protocol, future in pending:
            error, batch = future.result()
            _account(endpoint, error, batch, report, settings, sqs_client)
            if batch.protocol != protocol:
                fell_back[endpoint.name] = endpoint
    finally:
        for executor in executors:
            executor.shutdown(wait=True)
    # Metadata travels with each series in 2.0: an endpoint that answered 415 gets it as 1.0.
    for endpoint in fell_back.values():
        for part in v1.split_batches(payload.metadata, endpoint.max_samples_per_send):
            _account(
                endpoint, *_send(endpoint, _Batch.of_v1(part), deadline, pool), report, settings, sqs_client
            )


def _account(
    endpoint: RemoteWriteEndpoint,
    error: str | None,
    batch: "_Batch",
    report: ShardReport,
    settings: Settings,
    sqs_client: "BaseClient",
) -> None:
    """Count a sent batch, or dead-letter it with its last error."""
    if error is None:
        report.batches_sent += 1
        return
    logger.error(
        "remote write batch undelivered, dead-lettering it",
        extra={"endpoint": endpoint.name, "err": error, "samples": batch.items},
    )
    report.batches_dead_lettered += 1
    report.samples_dead_lettered += batch.items
    _dead_letter(endpoint, batch, error, settings, sqs_client)


def _send(
    endpoint: RemoteWriteEndpoint, batch: _Batch, deadline: float, pool: urllib3.PoolManager
) -> tuple[str | None, _Batch]:
    """POST one batch (retrying within the deadline): None when delivered, else the last error, and
    the batch as last sent (a 2.0 batch the endpoint refused with a 415 goes again as 1.0)."""
    try:
        result = send_compressed(
            endpoint,
            batch.compressed,
            deadline=deadline,
            pool=pool,
            protocol=batch.protocol,
            counts=batch.counts if batch.protocol == "2.0" else None,
        )
    except Exception as exc:
        logger.exception("remote write failed unexpectedly", extra={"endpoint": endpoint.name})
        return f"{type(exc).__name__}: {exc}", batch
    if result.unsupported and batch.protocol == "2.0":
        logger.warning(
            "remote write endpoint does not speak 2.0 (415): sending 1.0", extra={"endpoint": endpoint.name}
        )
        fallback = batch.as_v1()
        return (None, batch) if fallback is None else _send(endpoint, fallback, deadline, pool)
    return (None if result.ok else (result.error or "remote write failed")), batch


def _dead_letter(
    endpoint: RemoteWriteEndpoint,
    batch: _Batch,
    error: str,
    settings: Settings,
    sqs_client: "BaseClient",
) -> None:
    """Put the batch on the DLQ, split in halves until each part fits one SQS message."""
    letter = DeadLetter.from_request(
        endpoint, batch.body, error=error, sample_count=batch.items, protocol=batch.protocol
    )
    body = letter.to_json()
    if len(body.encode()) > MAX_DEAD_LETTER_BYTES and len(batch.parts) > 1:
        for half in batch.halves():
            _dead_letter(endpoint, half, error, settings, sqs_client)
        return
    attributes: dict[str, Any] = {"kind": letter.kind, "endpoint": endpoint.name, "sample_count": batch.items}
    send_dead_letter(sqs_client, settings.dead_letter_queue_url, body, attributes)
