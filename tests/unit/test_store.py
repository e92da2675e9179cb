"""store.py against moto tables built from template.yaml: item schema, pagination, status per shard."""

import math
from pathlib import Path
from typing import Any

import pytest
from promscrape.config import ConfigFile, RemoteWriteEndpoint, ScrapeJob, load_config, parse_config
from promscrape.store import (
    MAX_ERROR_CHARS,
    ApplySummary,
    deserialize_item,
    serialize_item,
    shard_targets,
    target_id,
)

EXAMPLE_CONFIG = Path(__file__).resolve().parents[2] / "examples" / "config.yaml"

CONFIG = {
    "remote_write": [
        {
            "name": "local",
            "url": "http://127.0.0.1:9090/api/v1/write",
            "headers": {"Authorization": "Bearer s3cret"},
        }
    ],
    "jobs": [
        {
            "name": "node",
            "forward_to": ["local"],
            "scrape_interval": "15s",
            "targets": [{"__address__": "localhost:9100"}, {"__address__": "h2:9100", "env": "prod"}],
        }
    ],
}


def _raw_items(aws: Any, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in aws.dynamodb.get_paginator("scan").paginate(TableName=table):
        items.extend(page["Items"])
    return sorted(items, key=lambda item: (item["pk"]["S"], item.get("sk", {}).get("S", "")))


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ({"__address__": "localhost:9100"}, "3275279fe7759c46e27111c0ad967fdb"),
        ({"__address__": "h2:9100", "env": "prod"}, "22e10678f7238c29090d7d0124b0f2a7"),
        ({"env": "prod", "__address__": "h2:9100"}, "22e10678f7238c29090d7d0124b0f2a7"),
        ({"__address__": "é:1"}, "f21f41d9ca63b9dd7df2e80eb29b8ffb"),
    ],
)
def test_target_id_is_stable_and_order_free(labels: dict[str, str], expected: str) -> None:
    assert target_id(labels) == expected


def test_items_follow_the_documented_schema(aws: Any) -> None:
    """Exactly the items the README documents for `aws dynamodb put-item` (secrets in clear)."""
    summary = aws.store().put_config(parse_config(CONFIG))
    assert summary == ApplySummary(jobs=1, endpoints=1, targets_added=2, targets_removed=0, targets_kept=0)
    node_1 = {"__address__": "localhost:9100"}
    node_2 = {"__address__": "h2:9100", "env": "prod"}
    expected = [
        {
            "pk": {"S": "JOB#node"},
            "sk": {"S": "JOB"},
            "config": {"M": {"forward_to": {"L": [{"S": "local"}]}, "scrape_interval": {"S": "15s"}}},
        },
        {
            "pk": {"S": "JOB#node"},
            "sk": {"S": f"TARGET#{target_id(node_1)}"},
            "labels": {"M": {"__address__": {"S": "localhost:9100"}}},
        },
        {
            "pk": {"S": "JOB#node"},
            "sk": {"S": f"TARGET#{target_id(node_2)}"},
            "labels": {"M": {"__address__": {"S": "h2:9100"}, "env": {"S": "prod"}}},
        },
        {
            "pk": {"S": "REMOTE_WRITE#local"},
            "sk": {"S": "REMOTE_WRITE"},
            "config": {
                "M": {
                    "url": {"S": "http://127.0.0.1:9090/api/v1/write"},
                    "headers": {"M": {"Authorization": {"S": "Bearer s3cret"}}},
                }
            },
        },
    ]
    assert _raw_items(aws, aws.targets_table) == sorted(
        expected, key=lambda item: (item["pk"]["S"], item["sk"]["S"])
    )


def test_example_config_round_trips(aws: Any) -> None:
    """What the dispatcher loads validates back into the very jobs and endpoints applied."""
    config = load_config(EXAMPLE_CONFIG)
    store = aws.store()
    store.put_config(config)
    catalog = store.load_all()
    jobs = [
        ScrapeJob.model_validate({**job, "targets": catalog.targets.get(job["name"], [])})
        for job in catalog.jobs
    ]
    endpoints = [RemoteWriteEndpoint.model_validate(endpoint) for endpoint in catalog.endpoints]
    assert [job.to_item(reveal=True) for job in jobs] == [
        job.to_item(reveal=True) for job in sorted(config.jobs, key=lambda job: job.name)
    ]
    assert {job.name: sorted(map(target_id, job.targets)) for job in jobs} == {
        job.name: sorted(map(target_id, job.targets)) for job in config.jobs
    }
    assert [endpoint.to_item(reveal=True) for endpoint in endpoints] == [
        endpoint.to_item(reveal=True) for endpoint in sorted(config.remote_write, key=lambda e: e.name)
    ]
    ConfigFile.model_validate({"remote_write": catalog.endpoints, "jobs": catalog.jobs})


def test_reapplying_replaces_a_jobs_targets_only(aws: Any) -> None:
    store = aws.store()
    other = {"name": "other", "forward_to": ["local"], "targets": [{"__address__": "o:1"}]}
    store.put_config(parse_config({**CONFIG, "jobs": [*CONFIG["jobs"], other]}))
    changed = {
        **CONFIG["jobs"][0],
        "scrape_interval": "30s",
        "targets": [
            {"__address__": "localhost:9100"},
            {"__address__": "h3:9100"},
            {"__address__": "h4:9100"},
        ],
    }
    summary = store.put_config(parse_config({**CONFIG, "jobs": [changed]}))
    assert summary == ApplySummary(jobs=1, endpoints=1, targets_added=2, targets_removed=1, targets_kept=1)
    catalog = store.load_all()
    assert [job["name"] for job in catalog.jobs] == ["node", "other"]
    assert catalog.jobs[0]["scrape_interval"] == "30s"
    assert sorted(t["__address__"] for t in catalog.targets["node"]) == [
        "h3:9100",
        "h4:9100",
        "localhost:9100",
    ]
    assert catalog.targets["other"] == [{"__address__": "o:1"}]


def test_items_written_by_hand_are_loaded(aws: Any) -> None:
    """The `aws dynamodb put-item` path: any target id, the job's name only in its key."""
    for item in [
        {
            "pk": {"S": "REMOTE_WRITE#vm"},
            "sk": {"S": "REMOTE_WRITE"},
            "config": {"M": {"url": {"S": "http://vm:8428/api/v1/write"}}},
        },
        {
            "pk": {"S": "JOB#manual"},
            "sk": {"S": "JOB"},
            "config": {"M": {"forward_to": {"L": [{"S": "vm"}]}}},
        },
        {
            "pk": {"S": "JOB#manual"},
            "sk": {"S": "TARGET#web-1"},
            "labels": {"M": {"__address__": {"S": "web-1:8080"}}},
        },
        {"pk": {"S": "SOMETHING#else"}, "sk": {"S": "X"}},
    ]:
        aws.dynamodb.put_item(TableName=aws.targets_table, Item=item)
    catalog = aws.store().load_all()
    assert catalog.jobs == [{"name": "manual", "forward_to": ["vm"]}]
    assert catalog.targets == {"manual": [{"__address__": "web-1:8080"}]}
    assert catalog.endpoints == [{"name": "vm", "url": "http://vm:8428/api/v1/write"}]


def test_more_than_one_page_of_targets(aws: Any) -> None:
    """DynamoDB returns at most 1 MB a page: 1,500 targets of ~1 KB need several, on load and re-apply."""
    targets = [{"__address__": f"host-{i}:9100", "note": f"{i:04d}" + "x" * 1000} for i in range(1500)]
    job = {"name": "big", "forward_to": ["local"], "targets": targets}
    config = parse_config({**CONFIG, "jobs": [job]})
    store = aws.store()
    store.put_config(config)
    first_page = aws.dynamodb.scan(TableName=aws.targets_table)
    assert "LastEvaluatedKey" in first_page and len(first_page["Items"]) < 1500
    catalog = store.load_all()
    assert sorted(t["__address__"] for t in catalog.targets["big"]) == sorted(
        t["__address__"] for t in targets
    )
    again = store.put_config(config)
    assert again == ApplySummary(jobs=1, endpoints=1, targets_added=0, targets_removed=0, targets_kept=1500)


@pytest.mark.parametrize(
    ("value", "stored", "loaded"),
    [
        (1.5, {"N": "1.5"}, 1.5),
        (3, {"N": "3"}, 3),
        (0.1, {"N": "0.1"}, 0.1),
        (True, {"BOOL": True}, True),
        (None, {"NULL": True}, None),
        ("", {"S": ""}, ""),
        ([1, "a"], {"L": [{"N": "1"}, {"S": "a"}]}, [1, "a"]),
        ({"k": 2.25}, {"M": {"k": {"N": "2.25"}}}, {"k": 2.25}),
    ],
)
def test_values_round_trip(value: Any, stored: dict[str, Any], loaded: Any) -> None:
    assert serialize_item({"v": value}) == {"v": stored}
    assert deserialize_item({"v": stored}) == {"v": loaded}


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_numbers_dynamodb_cannot_store_are_refused(value: float) -> None:
    with pytest.raises(ValueError, match="DynamoDB cannot store"):
        serialize_item({"v": value})


def _status(
    url: str, last_ms: int, *, job: str = "node", health: str = "up", error: str | None = None
) -> dict[str, Any]:
    return {
        "url": url,
        "job": job,
        "health": health,
        "last_scrape_ms": last_ms,
        "duration_ms": 12,
        "samples": 42,
        "error": error,
    }


NOW_MS = 1_764_090_000_000


def test_one_status_item_per_shard(aws: Any) -> None:
    store = aws.store()
    statuses = [_status(f"http://h{i}:9100/metrics", NOW_MS) for i in range(50)]
    store.write_shard_status("node/0/0", statuses, now_ms=NOW_MS, ttl_s=3600)
    (item,) = _raw_items(aws, aws.status_table)
    loaded = deserialize_item(item)
    assert loaded["pk"] == "SHARD#node/0/0"
    assert loaded["shard_id"] == "node/0/0"
    assert loaded["updated_ms"] == NOW_MS
    assert loaded["ttl"] == NOW_MS // 1000 + 3600
    assert shard_targets(loaded)["http://h7:9100/metrics"] == {
        "job": "node",
        "health": "up",
        "last_scrape_ms": NOW_MS,
        "duration_ms": 12,
        "samples": 42,
        "error": None,
    }


def test_status_of_a_full_shard_costs_one_write_unit(aws: Any) -> None:
    """DynamoDB bills a write unit per started KB: compressed, 100 targets' statuses fit in one."""
    store = aws.store()
    statuses = [_status(f"http://10.0.{i // 250}.{i % 250}:9100/metrics", NOW_MS + i) for i in range(100)]
    store.write_shard_status("node/7/0", statuses, now_ms=NOW_MS)
    (item,) = _raw_items(aws, aws.status_table)
    compressed = item.pop("targets_z")["B"]
    others = sum(len(name) + len(str(next(iter(value.values())))) for name, value in item.items())
    assert len("targets_z") + len(compressed) + others <= 1024  # 13.5 KB of JSON, one write unit
    assert len(store.read_status(now_ms=NOW_MS)) == 100


def test_read_status_flattens_newest_first_and_skips_expired(aws: Any) -> None:
    store = aws.store()
    url_a, url_b, url_c = "http://a:1/metrics", "http://b:1/metrics", "http://c:1/metrics"
    store.write_shard_status("s1", [_status(url_a, NOW_MS - 60_000), _status(url_b, NOW_MS)], now_ms=NOW_MS)
    # The target moved to another shard: its newer scrape wins.
    store.write_shard_status(
        "s2", [_status(url_a, NOW_MS, health="down", error="connection refused")], now_ms=NOW_MS
    )
    # Same URL in another job is another target.
    store.write_shard_status("s3", [_status(url_a, NOW_MS - 5, job="blackbox")], now_ms=NOW_MS)
    # Expired but not yet deleted by DynamoDB: not shown.
    store.write_shard_status("old", [_status(url_c, NOW_MS - 7_200_000)], now_ms=NOW_MS - 7_200_000, ttl_s=60)
    rows = store.read_status(now_ms=NOW_MS)
    assert [(row["job"], row["url"], row["health"], row["shard_id"]) for row in rows] == [
        ("blackbox", url_a, "up", "s3"),
        ("node", url_a, "down", "s2"),
        ("node", url_b, "up", "s1"),
    ]
    assert rows[1] == {**_status(url_a, NOW_MS, health="down", error="connection refused"), "shard_id": "s2"}


def test_huge_shards_are_split_and_errors_cut(aws: Any) -> None:
    """A shard's item stays under DynamoDB's 400 KB limit whatever its targets' errors say."""
    store = aws.store()
    statuses = [
        _status(f"http://h{i}:9100/metrics", NOW_MS, health="down", error="e" * 2000) for i in range(800)
    ]
    store.write_shard_status("big", statuses, now_ms=NOW_MS)
    items = _raw_items(aws, aws.status_table)
    assert len(items) > 1
    assert {deserialize_item(item)["shard_id"] for item in items} == {"big"}
    rows = store.read_status(now_ms=NOW_MS)
    assert len(rows) == 800
    assert {len(row["error"]) for row in rows} == {MAX_ERROR_CHARS}
