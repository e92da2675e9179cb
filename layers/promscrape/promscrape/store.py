"""DynamoDB access: jobs, targets and remote-write endpoints (Targets table), shard status (Status table).

Item schema (the README's `aws dynamodb put-item` examples follow it):

- job:       pk="JOB#<name>",          sk="JOB",            config = the job's arguments minus targets
- target:    pk="JOB#<name>",          sk="TARGET#<id>",    labels = {label: value}, `__address__` required
- endpoint:  pk="REMOTE_WRITE#<name>", sk="REMOTE_WRITE",   config = the endpoint's arguments
- status:    pk="SHARD#<shard_id>",    targets_z = zlib(JSON {url: {health, last_scrape_ms, ...}}),
             shard_id, updated_ms, ttl

Status is one item per shard per scrape, never one per target: per-target writes would be the
largest line of the bill (ARCHITECTURE, "Cost is a design constraint"). DynamoDB bills a write unit
per started KB, so the targets' map is stored compressed (one target's status is ~100 bytes of
JSON, mostly repeated keys): a shard of 100 targets costs 1 write unit instead of 14.
"""

import hashlib
import json
import math
import time
import zlib
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer

if TYPE_CHECKING:
    from botocore.client import BaseClient

    from promscrape.config import ConfigFile

JOB_PREFIX = "JOB#"
JOB_SK = "JOB"
TARGET_PREFIX = "TARGET#"
REMOTE_WRITE_PREFIX = "REMOTE_WRITE#"
REMOTE_WRITE_SK = "REMOTE_WRITE"
SHARD_PREFIX = "SHARD#"

# How long a shard's status item lives after its last write; long enough for hourly intervals.
DEFAULT_STATUS_TTL_S = 24 * 60 * 60
# Keeps status items far below DynamoDB's 400 KB item limit, whatever the targets' errors say.
MAX_ERROR_CHARS = 512
_STATUS_CHUNK_BYTES = 300_000
_BATCH_WRITE_SIZE = 25
_BATCH_WRITE_ATTEMPTS = 8

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


class Catalog(NamedTuple):
    """Everything the dispatcher needs from the Targets table."""

    jobs: list[dict[str, Any]]
    targets: dict[str, list[dict[str, str]]]
    endpoints: list[dict[str, Any]]


class ApplySummary(NamedTuple):
    """What `put_config` changed, for `promscrape apply` to print."""

    jobs: int
    endpoints: int
    targets_added: int
    targets_removed: int
    targets_kept: int

    def __str__(self) -> str:
        return (
            f"{self.jobs} job(s), {self.endpoints} remote-write endpoint(s); targets: "
            f"{self.targets_added} added, {self.targets_removed} removed, {self.targets_kept} unchanged"
        )


class StoreError(RuntimeError):
    """DynamoDB did not accept the writes after retries."""


def target_id(labels: Mapping[str, str]) -> str:
    """A stable id of a target: the same label map always gives the same id, on every machine."""
    canonical = json.dumps(dict(labels), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.blake2b(canonical.encode(), digest_size=16).hexdigest()


def _to_dynamo(value: Any) -> Any:
    """Plain data as boto3's serializer accepts it (it refuses floats: they become Decimals)."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"DynamoDB cannot store the number {value}")
        return Decimal(repr(value))
    if isinstance(value, Mapping):
        return {str(k): _to_dynamo(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_dynamo(v) for v in value]
    return value


def _from_dynamo(value: Any) -> Any:
    """The deserializer's Decimals back to int or float, so callers see plain JSON-like data."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_dynamo(v) for v in value]
    return value


def serialize_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """A Python item in DynamoDB's attribute-value form."""
    return {key: _serializer.serialize(_to_dynamo(value)) for key, value in item.items()}


def deserialize_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """A DynamoDB item as plain Python data."""
    return {key: _from_dynamo(_deserializer.deserialize(value)) for key, value in item.items()}


def shard_targets(item: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The per-target statuses of a deserialized status item."""
    compressed = item.get("targets_z")
    if compressed is None:
        return {}
    raw = compressed.value if isinstance(compressed, Binary) else compressed
    targets: dict[str, dict[str, Any]] = json.loads(zlib.decompress(raw))
    return targets


class Store:
    """The two tables, through one low-level boto3 DynamoDB client (thread-safe, reusable)."""

    def __init__(self, table_name: str, status_table_name: str, client: "BaseClient | None" = None):
        if client is None:
            import boto3

            client = boto3.client("dynamodb")
        self.table_name = table_name
        self.status_table_name = status_table_name
        self._client = client

    # --- reading the Targets table -------------------------------------------------------------

    def _scan(self, table_name: str) -> Iterator[dict[str, Any]]:
        for page in self._client.get_paginator("scan").paginate(TableName=table_name):
            for item in page.get("Items", []):
                yield deserialize_item(item)

    def load_all(self) -> Catalog:
        """Every job, target and endpoint, in one paginated Scan (cheaper than a Query per job).

        Jobs and endpoints are sorted by name and targets by id, so plans do not depend on the
        order DynamoDB returns items in. Items of unknown kinds are ignored.
        """
        jobs: list[dict[str, Any]] = []
        targets: dict[str, list[tuple[str, dict[str, str]]]] = {}
        endpoints: list[dict[str, Any]] = []
        for item in self._scan(self.table_name):
            pk, sk = item.get("pk", ""), item.get("sk", "")
            if pk.startswith(JOB_PREFIX) and sk == JOB_SK:
                jobs.append({**item.get("config", {}), "name": pk.removeprefix(JOB_PREFIX)})
            elif pk.startswith(JOB_PREFIX) and sk.startswith(TARGET_PREFIX):
                job_targets = targets.setdefault(pk.removeprefix(JOB_PREFIX), [])
                job_targets.append((sk, item.get("labels", {})))
            elif pk.startswith(REMOTE_WRITE_PREFIX) and sk == REMOTE_WRITE_SK:
                endpoints.append({**item.get("config", {}), "name": pk.removeprefix(REMOTE_WRITE_PREFIX)})
        jobs.sort(key=lambda job: job["name"])
        endpoints.sort(key=lambda endpoint: endpoint["name"])
        return Catalog(
            jobs=jobs,
            targets={job: [labels for _, labels in sorted(items)] for job, items in sorted(targets.items())},
            endpoints=endpoints,
        )

    def _target_ids(self, job_name: str) -> set[str]:
        """The ids of the target items a job has now (paginated Query on its partition)."""
        ids: set[str] = set()
        pages = self._client.get_paginator("query").paginate(
            TableName=self.table_name,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": {"S": JOB_PREFIX + job_name}, ":prefix": {"S": TARGET_PREFIX}},
            ProjectionExpression="sk",
        )
        for page in pages:
            ids.update(item["sk"]["S"].removeprefix(TARGET_PREFIX) for item in page.get("Items", []))
        return ids

    # --- writing the Targets table -------------------------------------------------------------

    def _batch_write(self, requests: Iterable[dict[str, Any]]) -> None:
        """BatchWriteItem in 25s, resubmitting unprocessed items with a short backoff."""
        pending = list(requests)
        for start in range(0, len(pending), _BATCH_WRITE_SIZE):
            batch = pending[start : start + _BATCH_WRITE_SIZE]
            for attempt in range(_BATCH_WRITE_ATTEMPTS):
                response = self._client.batch_write_item(RequestItems={self.table_name: batch})
                batch = response.get("UnprocessedItems", {}).get(self.table_name, [])
                if not batch:
                    break
                time.sleep(min(0.05 * 2**attempt, 2.0))
            else:
                raise StoreError(f"DynamoDB left {len(batch)} write(s) to {self.table_name} unprocessed")

    def put_documents(
        self, jobs: list[Mapping[str, Any]], endpoints: list[Mapping[str, Any]]
    ) -> ApplySummary:
        """Write jobs (each with `name` and `targets`) and endpoints (each with `name`) as plain maps.

        A job's targets are replaced: targets no longer listed are deleted. Target items are
        keyed by a hash of their labels, so unchanged targets cost no write. Jobs and endpoints
        not mentioned are left alone.
        """
        puts: list[dict[str, Any]] = []
        deletes: list[dict[str, Any]] = []
        added = removed = kept = 0
        for endpoint in endpoints:
            config = {key: value for key, value in endpoint.items() if key != "name"}
            puts.append(
                {"pk": REMOTE_WRITE_PREFIX + endpoint["name"], "sk": REMOTE_WRITE_SK, "config": config}
            )
        for job in jobs:
            pk = JOB_PREFIX + job["name"]
            config = {key: value for key, value in job.items() if key not in ("name", "targets")}
            puts.append({"pk": pk, "sk": JOB_SK, "config": config})
            wanted = {target_id(labels): dict(labels) for labels in job.get("targets", [])}
            existing = self._target_ids(job["name"])
            for tid in sorted(wanted.keys() - existing):
                puts.append({"pk": pk, "sk": TARGET_PREFIX + tid, "labels": wanted[tid]})
            for tid in sorted(existing - wanted.keys()):
                deletes.append({"pk": {"S": pk}, "sk": {"S": TARGET_PREFIX + tid}})
            added += len(wanted.keys() - existing)
            removed += len(existing - wanted.keys())
            kept += len(wanted.keys() & existing)
        self._batch_write(
            [{"PutRequest": {"Item": serialize_item(item)}} for item in puts]
            + [{"DeleteRequest": {"Key": key}} for key in deletes]
        )
        return ApplySummary(len(jobs), len(endpoints), added, removed, kept)

    def put_config(self, config: "ConfigFile") -> ApplySummary:
        """Write a loaded config file: its endpoints (secrets in clear: the table is encrypted),
        its jobs as `ScrapeJob.to_item` dumps them, and their targets."""
        return self.put_documents(
            jobs=[{**job.to_item(reveal=True), "targets": job.targets} for job in config.jobs],
            endpoints=[endpoint.to_item(reveal=True) for endpoint in config.remote_write],
        )

    # --- the Status table ----------------------------------------------------------------------

    def write_shard_status(
        self,
        shard_id: str,
        statuses: list[Mapping[str, Any]],
        *,
        now_ms: int | None = None,
        ttl_s: int = DEFAULT_STATUS_TTL_S,
    ) -> None:
        """Record the status of every target of one shard in one item (a few if it is huge).

        Each status is a TargetStatus dump (`url`, `job`, `health`, `last_scrape_ms`,
        `duration_ms`, `samples`, `error`); errors are cut to MAX_ERROR_CHARS.
        """
        now_ms = int(time.time() * 1000) if now_ms is None else now_ms
        chunks: list[dict[str, Any]] = [{}]
        size = 0
        for status in statuses:
            entry = {key: value for key, value in status.items() if key != "url"}
            if isinstance(entry.get("error"), str):
                entry["error"] = entry["error"][:MAX_ERROR_CHARS]
            entry_size = len(json.dumps(entry, default=str)) + len(status["url"])
            if size + entry_size > _STATUS_CHUNK_BYTES and chunks[-1]:
                chunks.append({})
                size = 0
            chunks[-1][status["url"]] = entry
            size += entry_size
        for index, targets in enumerate(chunks):
            pk = SHARD_PREFIX + shard_id + (f"#{index}" if index else "")
            item = {
                "pk": pk,
                "shard_id": shard_id,
                "targets_z": zlib.compress(json.dumps(targets, separators=(",", ":"), default=str).encode()),
                "updated_ms": now_ms,
                "ttl": now_ms // 1000 + ttl_s,
            }
            self._client.put_item(TableName=self.status_table_name, Item=serialize_item(item))

    def read_status(self, *, now_ms: int | None = None) -> list[dict[str, Any]]:
        """One row per target (`url`, `job`, `shard_id` and the status fields), sorted by job and URL.

        A target seen in several shard items (its shard changed) shows its newest scrape. Items
        past their `ttl` are skipped: DynamoDB deletes expired items lazily.
        """
        now_s = (int(time.time() * 1000) if now_ms is None else now_ms) // 1000
        newest: dict[tuple[str, str], dict[str, Any]] = {}
        for item in self._scan(self.status_table_name):
            pk = item.get("pk", "")
            if not pk.startswith(SHARD_PREFIX) or item.get("ttl", now_s) < now_s:
                continue
            for url, entry in shard_targets(item).items():
                row = {"url": url, **entry, "shard_id": item.get("shard_id", pk.removeprefix(SHARD_PREFIX))}
                key = (str(row.get("job", "")), url)
                current = newest.get(key)
                if current is None or (row.get("last_scrape_ms") or 0) > (current.get("last_scrape_ms") or 0):
                    newest[key] = row
        return [newest[key] for key in sorted(newest)]
