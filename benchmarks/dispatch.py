"""Dispatcher planning at scale: 100,000 targets, intervals 1 s / 15 s / 60 s / 5 m.

Measures, for one scheduler tick, the two CPU-bound steps of the dispatcher:
  targets  - target labels, URL and offset hash of every target (dispatcher.build_job_targets),
             in a cold container and in a warm one that kept the previous tick's targets
  plan     - the minute's scrapes grouped into shard messages and serialized as SQS bodies
             (dispatch.iter_shards + model_dump_json, what queues.send_shards sends)
CPU time (process time), peak traced Python memory (tracemalloc, its own run: tracing slows
code down) and the process's peak RSS, plus messages and bytes produced. The table says which
Lambda memory size the run fits: peak RSS plus Lambda's runtime overhead, rounded up.

Run: .venv/bin/python benchmarks/dispatch.py [--targets N] [--mix 1s=1,15s=9,60s=60,5m=30]
"""

import argparse
import gc
import resource
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from promscrape.config import ScrapeJob
from promscrape.dispatch import JobPlan, iter_shards
from promscrape.dispatcher import DispatchReport, build_job_targets
from promscrape.targets import offset_seed

TICK_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
LAMBDA_RUNTIME_MB = 60  # the Python runtime and bootstrap outside the measured process growth
DEFAULT_MIX = "1s=1,15s=9,60s=60,5m=30"


def parse_mix(text: str) -> list[tuple[str, int]]:
    """`1s=1,15s=9` -> [("1s", 1), ("15s", 9)]: interval and its share of the targets."""
    return [(interval, int(weight)) for interval, weight in (part.split("=") for part in text.split(","))]


def make_jobs(total: int, mix: list[tuple[str, int]]) -> list[tuple[ScrapeJob, list[dict[str, str]]]]:
    """One job per interval, each target with a realistic label set (address, zone, team)."""
    weights = sum(weight for _, weight in mix)
    jobs = []
    start = 0
    for interval, weight in mix:
        count = total * weight // weights
        timeout = "1s" if interval == "1s" else "10s"
        job = ScrapeJob.model_validate(
            {
                "name": f"node-{interval}",
                "forward_to": ["mimir"],
                "scrape_interval": interval,
                "scrape_timeout": timeout,
                "relabel_configs": [{"source_labels": ["__meta_zone"], "target_label": "zone"}],
            }
        )
        targets = [
            {
                "__address__": f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}:9100",
                "__meta_zone": f"eu-west-1{'abc'[i % 3]}",
                "team": f"team-{i % 50}",
            }
            for i in range(start, start + count)
        ]
        jobs.append((job, targets))
        start += count
    return jobs


def build_targets(
    jobs: list[tuple[ScrapeJob, list[dict[str, str]]]], previous: dict[str, Any]
) -> tuple[list[JobPlan], dict[str, Any]]:
    """The dispatcher's target step; `previous` is what a warm container kept from the last tick."""
    seed = offset_seed("promscrape")
    report = DispatchReport(scheduled_ms=TICK_MS)
    current: dict[str, Any] = {}
    plans = []
    for job, discovered in jobs:
        targets = build_job_targets(job, discovered, seed, report, previous, current)
        plans.append(
            JobPlan(job.name, job.to_item(reveal=True), [{"name": "mimir", "url": "https://m/push"}], targets)
        )
    return plans, current


def plan(plans: list[JobPlan]) -> dict[str, int]:
    """Plan and serialize every message, keeping only counts (as the dispatcher streams them)."""
    stats = {"messages": 0, "scrapes": 0, "bytes": 0, "largest": 0}
    for message, _delay in iter_shards(plans, TICK_MS):
        size = len(message.model_dump_json().encode())
        stats["messages"] += 1
        stats["scrapes"] += len(message.targets)
        stats["bytes"] += size
        stats["largest"] = max(stats["largest"], size)
    return stats


def measure(step: Callable[[], Any]) -> tuple[Any, float, float]:
    """Result, CPU seconds and wall seconds of one call."""
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    result = step()
    return result, time.process_time() - cpu, time.perf_counter() - wall


def traced_peak_mb(step: Callable[[], Any]) -> float:
    gc.collect()
    tracemalloc.start()
    step()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--targets", type=int, default=100_000)
    parser.add_argument("--mix", default=DEFAULT_MIX, help=f"interval=weight,... (default {DEFAULT_MIX})")
    args = parser.parse_args()
    mix = parse_mix(args.mix)
    jobs = make_jobs(args.targets, mix)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    (plans, kept), cold_cpu, cold_wall = measure(lambda: build_targets(jobs, {}))
    (plans, kept), warm_cpu, warm_wall = measure(lambda: build_targets(jobs, kept))
    stats, plan_cpu, plan_wall = measure(lambda: plan(plans))
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cold_traced = traced_peak_mb(lambda: build_targets(jobs, {}))
    warm_traced = traced_peak_mb(lambda: build_targets(jobs, kept))
    plan_traced = traced_peak_mb(lambda: plan(plans))

    per_interval = ", ".join(
        f"{interval}: {args.targets * w // sum(w for _, w in mix)}" for interval, w in mix
    )
    print(f"dispatcher planning, {sum(len(p.targets) for p in plans):,} targets ({per_interval})")
    print()
    print(f"| {'step':<24} | {'CPU s':>6} | {'wall s':>6} | {'traced peak MB':>14} |")
    print(f"| {'-' * 24} | {'-' * 6}:| {'-' * 6}:| {'-' * 14}:|")
    print(f"| {'targets, cold container':<24} | {cold_cpu:6.2f} | {cold_wall:6.2f} | {cold_traced:14.1f} |")
    print(f"| {'targets, warm container':<24} | {warm_cpu:6.2f} | {warm_wall:6.2f} | {warm_traced:14.1f} |")
    print(f"| {'plan + serialize':<24} | {plan_cpu:6.2f} | {plan_wall:6.2f} | {plan_traced:14.1f} |")
    print(f"| {'total, cold':<24} | {cold_cpu + plan_cpu:6.2f} | {cold_wall + plan_wall:6.2f} | {'':14} |")
    print(f"| {'total, warm':<24} | {warm_cpu + plan_cpu:6.2f} | {warm_wall + plan_wall:6.2f} | {'':14} |")
    print()
    print(f"scrapes planned for the minute: {stats['scrapes']:,}")
    messages, total = stats["messages"], stats["bytes"]
    print(f"shard messages: {messages:,} ({(messages + 9) // 10:,} SendMessageBatch requests)")
    mean = total // max(messages, 1)
    print(f"message bytes: {total / 2**20:,.1f} MiB total, {mean:,} B mean, {stats['largest']:,} B largest")
    print(f"peak RSS: {rss_peak:.0f} MB (before planning: {rss_before:.0f} MB, inputs included)")
    needed = rss_peak + LAMBDA_RUNTIME_MB
    size = next(s for s in (128, 256, 512, 1024, 1536, 2048, 3008, 4096, 10240) if s >= needed)
    print(f"fits a Lambda of {size} MB (peak RSS + {LAMBDA_RUNTIME_MB} MB runtime); CPU time is for one vCPU")


if __name__ == "__main__":
    main()
