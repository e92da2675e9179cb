"""Plan the coming minute: every scrape due in [tick, tick + 60 s), grouped into shard messages.

A target with interval I and offset o (targets.Target.offset_ns) is scraped at the epoch times
t with t % I == o, as Prometheus's scrape loop does. Each scheduler tick plans the scrapes of its
own minute, so consecutive ticks tile time: a 1 s target is planned 60 times a minute, a 5 m target
once every fifth minute, never twice and never skipped. The scrapes of one job due in the same
second of the minute share one or more shards, sent with DelaySeconds = that second.

Pure and built for 100,000 targets: per job the message envelope is measured once, per target its
JSON size once, and the messages are assembled with `model_construct` from already validated data.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic_core import to_json

from promscrape.messages import PlannedScrape, ShardMessage
from promscrape.targets import Target

WINDOW_S = 60
NS_PER_S = 1_000_000_000
NS_PER_MS = 1_000_000
# A shard is one scraper invocation: this many targets scraped concurrently at most.
MAX_TARGETS_PER_SHARD = 100
# SQS takes 256 KiB a message; stay far below it, whatever the labels.
MAX_MESSAGE_BYTES = 128 * 1024
_SHARD_ID_SLACK = 12  # room for the slot and index digits of the shard id in the envelope estimate


@dataclass(frozen=True, slots=True)
class JobPlan:
    """One valid job as the planner needs it: its message parts, already dumped, and its targets."""

    name: str
    job: dict[str, Any]
    remote_write: list[dict[str, Any]]
    targets: Sequence[Target]


def shard_id(job_name: str, second: int, index: int) -> str:
    """Stable name of a shard: the job, the second of the minute it is sent for, its index there."""
    return f"{job_name}/{second:02d}/{index}"


def due_times_ns(target: Target, start_ns: int, end_ns: int) -> range:
    """The scrape times of a target in [start_ns, end_ns): t % interval == offset."""
    interval_ns = target.interval_ms * NS_PER_MS
    first = start_ns + (target.offset_ns - start_ns) % interval_ns
    return range(first, end_ns, interval_ns)


def _scrape_size(target: Target, due_digits: int) -> int:
    """Bytes of one PlannedScrape in the message's JSON (pydantic's compact form), comma included."""
    fields = {
        "url": target.url,
        "labels": target.labels,
        "interval_ms": target.interval_ms,
        "timeout_ms": target.timeout_ms,
        "due_ms": 0,
    }
    return len(to_json(fields)) - 1 + due_digits + 1


def _envelope_size(plan: JobPlan, tick_ms: int) -> int:
    """Bytes of the job's message with no targets; the shard id's digits are allowed for."""
    empty = ShardMessage.model_construct(
        version=1,
        shard_id=shard_id(plan.name, 0, 0),
        job=plan.job,
        remote_write=plan.remote_write,
        scheduled_ms=tick_ms,
        targets=[],
    )
    return len(empty.model_dump_json().encode()) + _SHARD_ID_SLACK


def oversized_targets(plan: JobPlan, tick_ms: int, limit: int) -> list[tuple[Target, int]]:
    """The targets of a plan whose shard would exceed `limit` bytes even with no other target in it.

    Planning packs shards to MAX_MESSAGE_BYTES, but always puts at least one scrape in a shard; so
    a target whose own labels (or a job whose own configuration) are that large would make a
    message SQS refuses. Returned with the size of such a one-target message.
    """
    envelope = _envelope_size(plan, tick_ms)
    due_digits = len(str(tick_ms + WINDOW_S * 1000))
    sizes = ((target, envelope + _scrape_size(target, due_digits)) for target in plan.targets)
    return [(target, size) for target, size in sizes if size > limit]


def iter_shards(
    plans: Sequence[JobPlan],
    tick_ms: int,
    *,
    max_targets: int = MAX_TARGETS_PER_SHARD,
    max_bytes: int = MAX_MESSAGE_BYTES,
) -> Iterator[tuple[ShardMessage, int]]:
    """Yield (message, DelaySeconds) for every scrape due in [tick, tick + 60 s), job by job.

    A generator so that the dispatcher can send while planning: memory stays that of one job.
    A shard holds at least one scrape even if that one alone exceeds `max_bytes`.
    """
    start_ns = tick_ms * NS_PER_MS
    end_ns = start_ns + WINDOW_S * NS_PER_S
    due_digits = len(str(tick_ms + WINDOW_S * 1000))  # the most digits a due_ms of the window has
    for plan in plans:
        envelope = _envelope_size(plan, tick_ms)
        slots: list[list[tuple[int, Target, int]]] = [[] for _ in range(WINDOW_S)]
        # Ordered by time inside the second (then URL) so that each slot comes out in due order.
        ordered = sorted(plan.targets, key=lambda t: ((t.offset_ns - start_ns) % NS_PER_S, t.url))
        for target in ordered:
            size = _scrape_size(target, due_digits)
            for due_ns in due_times_ns(target, start_ns, end_ns):
                slots[(due_ns - start_ns) // NS_PER_S].append((due_ns // NS_PER_MS, target, size))
        for second, slot in enumerate(slots):
            index = 0
            begin = 0
            while begin < len(slot):
                end = begin + 1
                used = envelope + slot[begin][2]
                limit = min(len(slot), begin + max_targets)
                while end < limit and used + slot[end][2] <= max_bytes:
                    used += slot[end][2]
                    end += 1
                scrapes = [
                    PlannedScrape.model_construct(
                        url=target.url,
                        labels=target.labels,
                        interval_ms=target.interval_ms,
                        timeout_ms=target.timeout_ms,
                        due_ms=due_ms,
                    )
                    for due_ms, target, _ in slot[begin:end]
                ]
                message = ShardMessage.model_construct(
                    version=1,
                    shard_id=shard_id(plan.name, second, index),
                    job=plan.job,
                    remote_write=plan.remote_write,
                    scheduled_ms=tick_ms,
                    targets=scrapes,
                )
                yield message, second
                index += 1
                begin = end
            slot.clear()


def plan_minute(
    plans: Sequence[JobPlan],
    tick_ms: int,
    *,
    max_targets: int = MAX_TARGETS_PER_SHARD,
    max_bytes: int = MAX_MESSAGE_BYTES,
) -> list[tuple[ShardMessage, int]]:
    """Every shard of the minute starting at `tick_ms`, with its DelaySeconds (0..59)."""
    return list(iter_shards(plans, tick_ms, max_targets=max_targets, max_bytes=max_bytes))
