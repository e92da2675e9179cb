"""Planning: due times per tick, continuity across ticks, shards, sizes and delays."""

from collections import Counter, defaultdict
from itertools import pairwise
from typing import Any

import pytest
from promscrape.dispatch import (
    MAX_MESSAGE_BYTES,
    JobPlan,
    due_times_ns,
    oversized_targets,
    plan_minute,
    shard_id,
)
from promscrape.messages import ShardMessage
from promscrape.targets import Target

TICK_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z, a minute boundary
MS = 1_000_000  # ns per ms
S = 1_000_000_000  # ns per s
JOB_ITEM: dict[str, Any] = {"name": "node", "forward_to": ["rw"]}
ENDPOINTS: list[dict[str, Any]] = [{"name": "rw", "url": "http://127.0.0.1:9/api/v1/write"}]


def target(name: str, interval_ms: int, offset_ns: int, **labels: str) -> Target:
    return Target(
        url=f"http://{name}:9100/metrics",
        labels={"instance": f"{name}:9100", "job": "node", **labels},
        interval_ms=interval_ms,
        timeout_ms=min(interval_ms, 10_000),
        offset_ns=offset_ns,
    )


def job_plan(targets: list[Target], name: str = "node") -> JobPlan:
    return JobPlan(name=name, job={**JOB_ITEM, "name": name}, remote_write=ENDPOINTS, targets=targets)


def scrapes(plan: list[tuple[ShardMessage, int]]) -> list[tuple[str, int, int]]:
    """(url, due_ms, delay) of every planned scrape."""
    return [(s.url, s.due_ms, delay) for message, delay in plan for s in message.targets]


# (interval, offset, tick) -> the due times, as ms after the tick, and their delays
DUE_CASES = [
    # 1 s: every second, at the offset's fraction of the second
    (1_000, 250 * MS, TICK_MS, [i * 1000 + 250 for i in range(60)]),
    # 15 s, offset 7.5 s: 7.5, 22.5, 37.5, 52.5
    (15_000, 7_500 * MS, TICK_MS, [7_500, 22_500, 37_500, 52_500]),
    # 1 m, offset 42.001 s
    (60_000, 42_001 * MS, TICK_MS, [42_001]),
    # 7 s does not divide the minute: times are t % 7 s == 3 s in absolute time
    (7_000, 3 * S, TICK_MS, [(k * 7_000 + 3_000) - TICK_MS % 7_000 for k in range(0, 10)]),
    # 5 m, offset 2 m 10 s: the minute holding it (tick + 2 m) plans it, others not
    (300_000, 130 * S, TICK_MS + 120_000, [10_000]),
    (300_000, 130 * S, TICK_MS, []),
    (300_000, 130 * S, TICK_MS + 180_000, []),
    # a tick that is not on a minute boundary still plans [tick, tick + 60 s)
    (15_000, 0, TICK_MS + 23_000, [7_000, 22_000, 37_000, 52_000]),
    # offset 0 lands exactly on the tick: delay 0, due at the tick
    (60_000, 0, TICK_MS, [0]),
    # sub-millisecond offsets round down to the ms in due_ms
    (60_000, 59_999 * MS + 999_999, TICK_MS, [59_999]),
]


@pytest.mark.parametrize(("interval_ms", "offset_ns", "tick_ms", "due_after_tick_ms"), DUE_CASES)
def test_due_times(interval_ms: int, offset_ns: int, tick_ms: int, due_after_tick_ms: list[int]) -> None:
    due_after_tick_ms = [d for d in due_after_tick_ms if 0 <= d < 60_000]
    plan = plan_minute([job_plan([target("a", interval_ms, offset_ns)])], tick_ms)
    planned = scrapes(plan)
    assert [due - tick_ms for _, due, _ in planned] == due_after_tick_ms
    assert [delay for _, _, delay in planned] == [d // 1000 for d in due_after_tick_ms]


def test_seven_second_case_is_what_the_definition_says() -> None:
    """The 7 s row above, recomputed plainly: every t in the window with t % 7 s == 3 s."""
    start = TICK_MS * MS
    expected = [t for t in range(start, start + 60 * S, MS) if t % (7 * S) == 3 * S]
    assert list(due_times_ns(target("a", 7_000, 3 * S), start, start + 60 * S)) == expected


INTERVALS_MS = [1_000, 2_500, 7_000, 15_000, 60_000, 90_000, 300_000, 3_600_000]


@pytest.mark.parametrize("interval_ms", INTERVALS_MS)
@pytest.mark.parametrize("tick_offset_ms", [0, 23_456])
def test_consecutive_ticks_plan_every_scrape_once(interval_ms: int, tick_offset_ms: int) -> None:
    """Over a long run of ticks, each target is planned exactly once per interval: no gap, no double."""
    targets = [target(f"t{i}", interval_ms, (i * 7_919_333_331) % (interval_ms * MS)) for i in range(5)]
    ticks = max(10, 3 * interval_ms // 60_000)
    first_tick = TICK_MS + tick_offset_ms
    due: dict[str, list[int]] = defaultdict(list)
    for n in range(ticks):
        for url, due_ms, _ in scrapes(plan_minute([job_plan(targets)], first_tick + n * 60_000)):
            due[url].append(due_ms)
    end = first_tick + ticks * 60_000
    for t in targets:
        times = due[t.url]
        expected_first = first_tick + ((t.offset_ns - first_tick * MS) % (interval_ms * MS)) // MS
        assert times[0] == expected_first
        assert all(b - a == interval_ms for a, b in pairwise(times)), t.url
        assert end - interval_ms <= times[-1] < end
        assert all((t.offset_ns - time * MS) % (interval_ms * MS) < MS for time in times)


def test_delay_is_the_due_second_and_due_is_inside_it() -> None:
    targets = [target(f"t{i}", 1_000 * (1 + i % 30), i * 123_456_789) for i in range(200)]
    for message, delay in plan_minute([job_plan(targets)], TICK_MS):
        assert 0 <= delay <= 59
        assert message.shard_id.split("/")[1] == f"{delay:02d}"
        for scrape in message.targets:
            assert TICK_MS + delay * 1000 <= scrape.due_ms < TICK_MS + (delay + 1) * 1000


def test_shards_split_by_count_and_are_named_by_job_second_index() -> None:
    same_second = [target(f"a{i:03d}", 60_000, 5 * S + i * MS) for i in range(250)]
    plan = plan_minute([job_plan(same_second)], TICK_MS, max_targets=100)
    assert [(m.shard_id, len(m.targets), delay) for m, delay in plan] == [
        ("node/05/0", 100, 5),
        ("node/05/1", 100, 5),
        ("node/05/2", 50, 5),
    ]
    # in due order inside the second
    dues = [s.due_ms for m, _ in plan for s in m.targets]
    assert dues == sorted(dues)


def test_jobs_never_share_a_shard() -> None:
    a = job_plan([target("x", 60_000, 0)], name="a")
    b = job_plan([target("y", 60_000, 0)], name="b")
    plan = plan_minute([a, b], TICK_MS)
    assert [(m.shard_id, m.job["name"], [s.url for s in m.targets]) for m, _ in plan] == [
        ("a/00/0", "a", ["http://x:9100/metrics"]),
        ("b/00/0", "b", ["http://y:9100/metrics"]),
    ]


def test_message_fields() -> None:
    (message, delay), *_ = plan_minute([job_plan([target("x", 60_000, 3 * S)])], TICK_MS)
    assert delay == 3
    assert message.version == 1
    assert message.scheduled_ms == TICK_MS
    assert message.job == {"name": "node", "forward_to": ["rw"]}
    assert message.remote_write == ENDPOINTS
    (scrape,) = message.targets
    assert scrape.model_dump() == {
        "url": "http://x:9100/metrics",
        "labels": {"instance": "x:9100", "job": "node"},
        "interval_ms": 60_000,
        "timeout_ms": 10_000,
        "due_ms": TICK_MS + 3_000,
    }


def test_messages_are_valid_and_round_trip_through_json() -> None:
    targets = [target(f"t{i}", 15_000, i * 97 * MS, zone='é"\\\n') for i in range(300)]
    for message, _ in plan_minute([job_plan(targets)], TICK_MS):
        assert ShardMessage.model_validate_json(message.model_dump_json()) == message


@pytest.mark.parametrize("max_bytes", [2_000, 8_192, MAX_MESSAGE_BYTES])
def test_messages_stay_under_the_byte_budget(max_bytes: int) -> None:
    # long, escaped label values make each scrape ~400 bytes of JSON
    targets = [target(f"t{i}", 60_000, (i % 3) * S, note='"quoted" \\ ' * 20 + f"{i}") for i in range(600)]
    plan = plan_minute([job_plan(targets)], TICK_MS, max_targets=1_000, max_bytes=max_bytes)
    sizes = [len(m.model_dump_json().encode()) for m, _ in plan]
    assert max(sizes) <= max_bytes
    assert sum(len(m.targets) for m, _ in plan) == 600
    if max_bytes < MAX_MESSAGE_BYTES:
        # the budget, not the count, split the shards, and it was used well (estimate is tight):
        # every shard but the last of its second could not take one more ~400-byte scrape
        last_of_second = {delay: index for index, (_, delay) in enumerate(plan)}
        full = [size for index, size in enumerate(sizes) if index not in last_of_second.values()]
        assert len(plan) > 3
        assert min(full) > max_bytes - 2 * 500


def test_a_scrape_larger_than_the_budget_gets_a_shard_of_its_own() -> None:
    huge = target("big", 60_000, 0, blob="x" * 5_000)
    small = target("small", 60_000, 1 * MS)
    plan = plan_minute([job_plan([huge, small])], TICK_MS, max_bytes=2_000)
    assert [[s.url for s in m.targets] for m, _ in plan] == [
        ["http://big:9100/metrics"],
        ["http://small:9100/metrics"],
    ]


@pytest.mark.parametrize("blob", [100, 5_000, 300_000])
def test_oversized_targets_measure_their_one_target_shard(blob: int) -> None:
    """The size checked is the real message's, at most the shard id's slack and a comma above it."""
    big = target("big", 60_000, 59 * S + 999 * MS, blob="x" * blob)
    plan = job_plan([big, target("small", 60_000, 0)])
    ((message, _),) = [m for m in plan_minute([plan], TICK_MS) if m[0].targets[0].url == big.url]
    real = len(message.model_dump_json().encode())
    ((found, size),) = oversized_targets(plan, TICK_MS, real - 1)
    assert found is big and real <= size <= real + 13
    assert oversized_targets(plan, TICK_MS, size) == []


def test_plan_is_deterministic_and_independent_of_target_order() -> None:
    targets = [target(f"t{i}", 15_000, (i * 2_654_435_761) % (15 * S)) for i in range(120)]
    forward = plan_minute([job_plan(targets)], TICK_MS, max_targets=7)
    backward = plan_minute([job_plan(targets[::-1])], TICK_MS, max_targets=7)
    assert [(m.model_dump_json(), d) for m, d in forward] == [(m.model_dump_json(), d) for m, d in backward]


def test_shard_ids_are_stable_across_ticks_for_minute_targets() -> None:
    targets = [target(f"t{i}", 60_000, (i * 4_999_999_937) % (60 * S)) for i in range(300)]
    one = plan_minute([job_plan(targets)], TICK_MS, max_targets=10)
    two = plan_minute([job_plan(targets)], TICK_MS + 60_000, max_targets=10)

    def membership(plan: list[tuple[ShardMessage, int]]) -> dict[str, list[str]]:
        return {m.shard_id: [s.url for s in m.targets] for m, _ in plan}

    assert membership(one) == membership(two)


def test_sub_minute_targets_fill_every_second() -> None:
    plan = plan_minute([job_plan([target("fast", 1_000, 0), target("slow", 15_000, 0)])], TICK_MS)
    per_second = Counter(delay for m, delay in plan for _ in m.targets)
    assert per_second == Counter({**dict.fromkeys(range(60), 1), 0: 2, 15: 2, 30: 2, 45: 2})


def test_shard_id_format() -> None:
    assert shard_id("node", 7, 12) == "node/07/12"


def test_no_targets_no_messages() -> None:
    assert plan_minute([job_plan([])], TICK_MS) == []
