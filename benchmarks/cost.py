"""Cost model: measured CPU per sample, requests and writes per scrape -> $/month (us-east-1, arm64).

ARCHITECTURE ("Cost is a design constraint") lists the prices and asks for this table. The model
(`monthly_cost`) is pure arithmetic on plain dataclasses: a Workload (targets, series, interval),
Assumptions (measured CPU, memory sizes, sizes of items and messages, latencies) and Prices. It
follows the code: shards of at most MAX_TARGETS_PER_SHARD targets per job and second of the minute
(dispatch.iter_shards), one scraper invocation per shard message (template.yaml BatchSize 1), one
status item per shard per scrape (store.write_shard_status), remote-write requests of
DEFAULT_MAX_SAMPLES samples, one paginated Scan of the Targets table per minute (store.load_all).

`main()` measures the scraper's CPU per sample on a 1k-series payload in this run (first scrape in
a fresh process and warm repeat scrape, benchmarks/pipeline.py's run_child), the status entry size
(store.write_shard_status's item, sized by DynamoDB's rules) and the compressed remote-write bytes
per sample, then prints every assumption and the table for 10, 1,000 and 10,000 targets of 1,000
series every 60 s and 15 s.

Run: .venv/bin/python benchmarks/cost.py [--cpu-us-per-sample X [--cpu-us-first Y]]
"""

import argparse
import math
import re
import sys
import tempfile
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

BENCHMARKS = Path(__file__).resolve().parent
REPO = BENCHMARKS.parent

MINUTES_PER_MONTH = 30 * 24 * 60  # 43,200: ARCHITECTURE's month (1,000 targets every 60 s = 43.2 M scrapes)
VCPU_MB = 1769  # Lambda gives one full vCPU at 1,769 MB, proportionally less below
SQS_CHUNK_BYTES = 64 * 1024  # SQS bills each 64 KB chunk of a request's payload as one request
WCU_BYTES = 1024
RCU_BYTES = 4096
SCAN_PAGE_BYTES = 1024 * 1024
# Defaults copied from the code they describe (kept literal so the model imports nothing);
# tests/unit/test_cost_model.py checks that they still match.
MAX_TARGETS_PER_SHARD = 100  # promscrape.dispatch.MAX_TARGETS_PER_SHARD
SCRAPE_CONCURRENCY = 32  # promscrape.scraper.MAX_CONCURRENCY
SENDS_PER_ENDPOINT = 8  # promscrape.scraper.SENDS_PER_ENDPOINT
SAMPLES_PER_REQUEST = 2000  # promscrape.remote_write.v1.DEFAULT_MAX_SAMPLES
SEND_BATCH_ENTRIES = 10  # SendMessageBatch's limit (promscrape.queues.MAX_BATCH_ENTRIES)
DISPATCHER_MEMORY_MB = 1024  # template.yaml DispatcherFunction.MemorySize
T4G_SMALL_MONTH = 12.0  # an always-on agent: t4g.small on demand, about $12/month


@dataclass(frozen=True)
class Prices:
    """List prices, us-east-1, arm64 (ARCHITECTURE), plus the two it does not list (logs, egress)."""

    lambda_gb_s: float = 0.0000133
    lambda_per_million_invocations: float = 0.20
    sqs_per_million_requests: float = 0.40
    dynamodb_per_million_wcu: float = 0.625
    dynamodb_per_million_rcu: float = 0.125
    logs_per_gb_ingested: float = 0.50  # CloudWatch Logs standard ingestion
    egress_per_gb: float = 0.09  # data transfer out to the internet (first 10 TB tier)


@dataclass(frozen=True)
class Workload:
    """What is scraped: targets of `series_per_target` series every `interval_s`, in `jobs` jobs."""

    targets: int
    series_per_target: int = 1000
    interval_s: float = 60.0
    jobs: int = 1


@dataclass(frozen=True)
class Assumptions:
    """Measured figures and stated assumptions; every one is printed above the table."""

    # Scraper CPU (parse -> labels -> encode -> compress), us per sample at one full vCPU.
    cpu_us_warm: float = 1.0
    cpu_us_first: float = 2.0
    # Share of scrapes whose target's series cache is in the container that gets the shard.
    warm_share: float = 0.5
    scraper_memory_mb: int = 512  # template.yaml ScraperMemorySize default
    max_targets_per_shard: int = MAX_TARGETS_PER_SHARD
    scrape_concurrency: int = SCRAPE_CONCURRENCY
    fetch_wall_s: float = 0.050  # one target's HTTP fetch; a shard's targets in waves of `scrape_concurrency`
    remote_write_wall_s: float = 0.050  # one remote-write POST; `sends_per_endpoint` in flight
    sends_per_endpoint: int = SENDS_PER_ENDPOINT
    samples_per_request: int = SAMPLES_PER_REQUEST
    endpoints: int = 1
    invocation_overhead_s: float = 0.030  # message validation, status PutItem round trip, runtime
    # Status table: one item per shard per scrape (or per target per scrape, the design rejected).
    status_per_target: bool = False
    status_entry_bytes: int = 103  # one target's entry in the shard's item (DynamoDB item size)
    status_item_overhead_bytes: int = 80  # pk, shard_id, updated_ms, ttl, the map's own bytes
    # Targets table, scanned once a minute by the dispatcher (eventually consistent reads).
    target_item_bytes: int = 200
    # Shard message on the scrape queue: the job's envelope plus one entry per target.
    message_envelope_bytes: int = 1000
    message_bytes_per_target: int = 200
    # Dispatcher: one invocation a minute.
    dispatcher_memory_mb: int = DISPATCHER_MEMORY_MB
    dispatcher_cpu_us_per_scrape: float = 15.0  # benchmarks/dispatch.py, warm container, 10k targets at 60 s
    dispatcher_cpu_us_per_target: float = 20.0  # Scan deserialization (not measured by dispatch.py)
    dispatcher_wall_s: float = 0.100  # Scan round trips and runtime, besides the sends
    sqs_request_wall_s: float = 0.020  # one SendMessageBatch (sent one after another)
    # The event source mapping's pollers long-poll (20 s) even when the queue is empty: 5 pollers.
    idle_receives_per_minute: float = 15.0
    log_bytes_per_invocation: int = 1500  # START/END/REPORT lines, one JSON log line, one EMF record
    compressed_bytes_per_sample: float = 12.0  # remote-write request bytes (snappy) per sample


@dataclass(frozen=True)
class Cost:
    """$/month per line item and the monthly counts they come from."""

    scraper_cpu: float
    scraper_wait: float
    dispatcher_compute: float
    invocations: float
    sqs: float
    status_writes: float
    targets_scan: float
    logs: float
    egress: float  # not in `total`: depends on where the endpoint is, and any agent pays it
    scrapes: float
    shards: float
    scraper_gb_s: float
    lambda_invocations: float
    sqs_requests: float
    status_wcu: float
    scan_rcu: float
    mean_targets_per_shard: float
    egress_gb: float
    components: dict[str, float] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return (
            self.scraper_cpu
            + self.scraper_wait
            + self.dispatcher_compute
            + self.invocations
            + self.sqs
            + self.status_writes
            + self.targets_scan
            + self.logs
        )


def vcpu_share(memory_mb: int) -> float:
    """The vCPU a Lambda of `memory_mb` gets; one Python thread uses at most one."""
    return min(1.0, memory_mb / VCPU_MB)


def shard_sizes(per_second: int, max_targets: int) -> list[int]:
    """Targets of each shard for `per_second` scrapes of one job due in one second (full shards first)."""
    full, rest = divmod(per_second, max_targets)
    return [max_targets] * full + ([rest] if rest else [])


def shards_per_minute(workload: Workload, max_targets: int) -> dict[int, float]:
    """{targets in the shard: shards a minute}, offsets spread evenly over the seconds of the minute.

    A job of T targets at interval I has T*60/I scrapes a minute; each of the 60 seconds gets
    q or q+1 of them (q = floor(scrapes/60)), a fraction `frac` of the seconds q+1.
    """
    per_job = workload.targets / workload.jobs
    scrapes = per_job * 60 / workload.interval_s
    q = math.floor(scrapes / 60)
    frac = scrapes / 60 - q
    out: dict[int, float] = {}
    for count, seconds in ((q, 60 * (1 - frac)), (q + 1, 60 * frac)):
        if seconds <= 0:
            continue
        for size in shard_sizes(count, max_targets):
            out[size] = out.get(size, 0.0) + seconds * workload.jobs
    return out


def sqs_chunks(payload_bytes: float) -> int:
    return max(1, math.ceil(payload_bytes / SQS_CHUNK_BYTES))


def monthly_cost(workload: Workload, a: Assumptions, prices: Prices | None = None) -> Cost:
    """$/month of every line item for `workload` under assumptions `a`."""
    p = prices or Prices()
    month = MINUTES_PER_MONTH
    classes = shards_per_minute(workload, a.max_targets_per_shard)
    shards_min = sum(classes.values())
    scrapes_min = sum(size * count for size, count in classes.items())
    series = workload.series_per_target

    # Scraper: CPU-bound time at the function's vCPU share, plus the time spent waiting.
    cpu_us = a.warm_share * a.cpu_us_warm + (1 - a.warm_share) * a.cpu_us_first
    scraper_gb = a.scraper_memory_mb / 1024
    cpu_s_min = scrapes_min * series * cpu_us * 1e-6 / vcpu_share(a.scraper_memory_mb)
    wait_s_min = 0.0
    for size, count in classes.items():
        fetch = math.ceil(size / a.scrape_concurrency) * a.fetch_wall_s
        requests = math.ceil(size * series / a.samples_per_request)
        send = math.ceil(requests / a.sends_per_endpoint) * a.remote_write_wall_s
        wait_s_min += count * (fetch + send + a.invocation_overhead_s)
    scraper_cpu = cpu_s_min * month * scraper_gb * p.lambda_gb_s
    scraper_wait = wait_s_min * month * scraper_gb * p.lambda_gb_s

    # SQS: SendMessageBatch by 10 (billed by 64 KB chunks), a receive and a delete per message,
    # and the pollers' empty long polls.
    message_bytes = {size: a.message_envelope_bytes + size * a.message_bytes_per_target for size in classes}
    mean_message = sum(message_bytes[s] * c for s, c in classes.items()) / shards_min
    full_batches, last = divmod(shards_min, SEND_BATCH_ENTRIES)
    sends_min = full_batches * sqs_chunks(SEND_BATCH_ENTRIES * mean_message)
    if last > 0:
        sends_min += sqs_chunks(last * mean_message)
    receives_min = sum(count * sqs_chunks(message_bytes[size]) for size, count in classes.items())
    deletes_min = shards_min
    sqs_requests = (sends_min + receives_min + deletes_min + a.idle_receives_per_minute) * month
    sqs = sqs_requests / 1e6 * p.sqs_per_million_requests

    # Dispatcher: one invocation a minute, CPU at its vCPU share plus Scan and send round trips.
    dispatcher_cpu_s = (
        (scrapes_min * a.dispatcher_cpu_us_per_scrape + workload.targets * a.dispatcher_cpu_us_per_target)
        * 1e-6
        / vcpu_share(a.dispatcher_memory_mb)
    )
    dispatcher_s = dispatcher_cpu_s + a.dispatcher_wall_s + math.ceil(sends_min) * a.sqs_request_wall_s
    dispatcher_compute = dispatcher_s * month * a.dispatcher_memory_mb / 1024 * p.lambda_gb_s

    lambda_invocations = (shards_min + 1) * month
    invocations = lambda_invocations / 1e6 * p.lambda_per_million_invocations

    # Status table: one item per shard per scrape (WCU by 1 KB of item), or one per target.
    if a.status_per_target:
        wcu_min = scrapes_min * math.ceil((a.status_item_overhead_bytes + a.status_entry_bytes) / WCU_BYTES)
    else:
        wcu_min = sum(
            count * math.ceil((a.status_item_overhead_bytes + size * a.status_entry_bytes) / WCU_BYTES)
            for size, count in classes.items()
        )
    status_wcu = wcu_min * month
    status_writes = status_wcu / 1e6 * p.dynamodb_per_million_wcu

    # Targets table: one Scan a minute, eventually consistent: 0.5 RCU per 4 KB, per 1 MB page.
    table_bytes = workload.targets * a.target_item_bytes
    full_pages, rest = divmod(table_bytes, SCAN_PAGE_BYTES)
    rcu_per_scan = full_pages * (SCAN_PAGE_BYTES // RCU_BYTES) * 0.5 + math.ceil(rest / RCU_BYTES) * 0.5
    scan_rcu = rcu_per_scan * month
    targets_scan = scan_rcu / 1e6 * p.dynamodb_per_million_rcu

    logs = lambda_invocations * a.log_bytes_per_invocation / 2**30 * p.logs_per_gb_ingested
    egress_gb = scrapes_min * month * series * a.compressed_bytes_per_sample * a.endpoints / 2**30
    return Cost(
        scraper_cpu=scraper_cpu,
        scraper_wait=scraper_wait,
        dispatcher_compute=dispatcher_compute,
        invocations=invocations,
        sqs=sqs,
        status_writes=status_writes,
        targets_scan=targets_scan,
        logs=logs,
        egress=egress_gb * p.egress_per_gb,
        scrapes=scrapes_min * month,
        shards=shards_min * month,
        scraper_gb_s=(cpu_s_min + wait_s_min) * month * scraper_gb,
        lambda_invocations=lambda_invocations,
        sqs_requests=sqs_requests,
        status_wcu=status_wcu,
        scan_rcu=scan_rcu,
        mean_targets_per_shard=scrapes_min / shards_min,
        egress_gb=egress_gb,
        components={
            "sqs_sends": sends_min * month,
            "sqs_receives": receives_min * month,
            "sqs_deletes": deletes_min * month,
            "sqs_idle": a.idle_receives_per_minute * month,
            "dispatcher_s": dispatcher_s,
        },
    )


# --- measurement and printing (main) ------------------------------------------------------------


def template_scraper_memory_mb(template: Path = REPO / "template.yaml") -> int:
    """ScraperMemorySize's Default in template.yaml (a regex: the file has CloudFormation tags)."""
    match = re.search(r"ScraperMemorySize:\s*\n(?:\s+\w+:.*\n)*?\s+Default:\s*(\d+)", template.read_text())
    if not match:
        raise ValueError("ScraperMemorySize has no Default in template.yaml")
    return int(match.group(1))


def dynamodb_attribute_bytes(value: dict[str, Any]) -> int:
    """Size of one typed attribute value ({"S": ...}, {"M": ...}) by DynamoDB's item-size rules."""
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        digits = inner.lstrip("-").replace(".", "").strip("0") or "0"
        return math.ceil(len(digits) / 2) + 1 + (1 if inner.startswith("-") else 0)
    if kind in ("NULL", "BOOL"):
        return 1
    if kind == "B":
        return len(inner)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + dynamodb_attribute_bytes(v) for k, v in inner.items())
    if kind == "L":
        return 3 + sum(1 + dynamodb_attribute_bytes(v) for v in inner)
    raise ValueError(f"unsupported DynamoDB type {kind}")


def dynamodb_item_bytes(item: dict[str, dict[str, Any]]) -> int:
    return sum(len(name.encode()) + dynamodb_attribute_bytes(value) for name, value in item.items())


def measure_status_item(targets: int) -> int:
    """Bytes of the status item store.write_shard_status puts for a shard of `targets` healthy targets."""
    from promscrape.store import Store

    class Capture:
        def __init__(self) -> None:
            self.items: list[dict[str, Any]] = []

        def put_item(self, TableName: str, Item: dict[str, Any]) -> None:
            self.items.append(Item)

    client = Capture()
    store = Store("targets", "status", client=client)  # type: ignore[arg-type]
    statuses = [
        {
            "url": f"http://10.1.{i // 256}.{i % 256}:9100/metrics",
            "job": "node",
            "health": "up",
            "last_scrape_ms": 1_767_225_600_123 + i,
            "duration_ms": 57,
            "samples": 1000,
            "error": None,
        }
        for i in range(targets)
    ]
    store.write_shard_status("node/16/0", statuses, now_ms=1_767_225_660_000)
    return sum(dynamodb_item_bytes(item) for item in client.items)


def measure_compressed_bytes_per_sample(body: bytes) -> float:
    """Snappy-compressed remote-write bytes per sample of the payload, in requests as the scraper sends."""
    sys.path.insert(0, str(BENCHMARKS))
    import pipeline as bench
    from promscrape import pipeline
    from promscrape.exposition import fast
    from promscrape.remote_write import v1

    result = pipeline.process(
        fast.parse(body),
        target_labels=bench.TARGET_LABELS,
        honor_labels=False,
        honor_timestamps=True,
        metric_relabeler=None,
        scrape_ts_ms=bench.SCRAPE_TS_MS,
        cache=pipeline.SeriesCache(),
    )
    total = sum(len(v1.compress(b"".join(part))) for part in v1.split_batches(result.series))
    return total / len(result.series)


def money(value: float) -> str:
    return f"${value:,.2f}" if value >= 0.01 or value == 0 else f"${value:.4f}"


def count(value: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if value >= scale:
            return f"{value / scale:,.1f} {unit}"
    return f"{value:,.0f}"


LINES = (
    ("Scraper Lambda, CPU (GB-s)", "scraper_cpu"),
    ("Scraper Lambda, waiting: fetch, remote write, overhead (GB-s)", "scraper_wait"),
    ("Dispatcher Lambda (GB-s)", "dispatcher_compute"),
    ("Lambda invocations", "invocations"),
    ("SQS requests", "sqs"),
    ("DynamoDB status writes (WCU)", "status_writes"),
    ("DynamoDB Targets Scan (RCU)", "targets_scan"),
    ("CloudWatch Logs ingestion", "logs"),
)


def table(a: Assumptions, prices: Prices, targets: tuple[int, ...], intervals: tuple[float, ...]) -> str:
    workloads = [Workload(t, series_per_target=1000, interval_s=i) for i in intervals for t in targets]
    costs = [monthly_cost(w, a, prices) for w in workloads]
    head = ["$/month"] + [f"{w.targets:,} @ {w.interval_s:g} s" for w in workloads]
    rows = [head, ["---"] + ["---:"] * len(workloads)]
    rows.append(["scrapes / month"] + [count(c.scrapes) for c in costs])
    rows.append(["shards (invocations) / month, targets per shard"]
                + [f"{count(c.shards)}, {c.mean_targets_per_shard:.1f}" for c in costs])  # fmt: skip
    for label, attr in LINES:
        rows.append([label] + [money(getattr(c, attr)) for c in costs])
    rows.append(["**Total**"] + [f"**{money(c.total)}**" for c in costs])
    rows.append(["Always-on t4g.small (for comparison)"] + [money(T4G_SMALL_MONTH)] * len(costs))
    rows.append(["Not in total: egress if the endpoint is on the internet"]
                + [f"{money(c.egress)} ({c.egress_gb:,.0f} GB)" for c in costs])  # fmt: skip
    rows.append(["Rejected design: status item per target per scrape"]
                + [money(monthly_cost(w, replace(a, status_per_target=True), prices).status_writes)
                   for w in workloads])  # fmt: skip
    return "\n".join("| " + " | ".join(row) + " |" for row in rows)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cpu-us-per-sample", type=float, help="skip the measurement: CPU us/sample")
    parser.add_argument("--cpu-us-first", type=float, help="first-scrape CPU (default: --cpu-us-per-sample)")
    parser.add_argument("--warm-share", type=float, default=Assumptions.warm_share)
    args = parser.parse_args()

    sys.path.insert(0, str(BENCHMARKS))
    import payloads
    import pipeline as bench

    body = payloads.generate(1000)
    if args.cpu_us_per_sample is not None:
        warm = args.cpu_us_per_sample
        first = args.cpu_us_first if args.cpu_us_first is not None else warm
        fresh = None
        source = "given on the command line"
    else:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "payload-1000.prom"
            path.write_bytes(body)
            warm = bench.run_child("warm", path, 20)["us_per_sample"]
            first = bench.run_child("cold", path, 20)["us_per_sample"]
            fresh = bench.run_child("first", path, 1)["us_per_sample"]
        source = f"measured now: benchmarks/pipeline.py run_child on 1k series ({bench.machine()})"

    status_one, status_hundred = measure_status_item(1), measure_status_item(100)
    entry = (status_hundred - status_one) / 99
    a = Assumptions(
        cpu_us_warm=warm,
        cpu_us_first=first,
        warm_share=args.warm_share,
        scraper_memory_mb=template_scraper_memory_mb(),
        status_entry_bytes=math.ceil(entry),
        status_item_overhead_bytes=math.ceil(status_one - entry),
        compressed_bytes_per_sample=round(measure_compressed_bytes_per_sample(body), 1),
    )
    prices = Prices()
    blended = a.warm_share * warm + (1 - a.warm_share) * first
    share = vcpu_share(a.scraper_memory_mb)
    print("## Cost model (benchmarks/cost.py)")
    print()
    print(f"Prices (us-east-1, arm64, list, no free tier): {prices}")
    print(f"Month: {MINUTES_PER_MONTH:,} minutes (30 days). Every assumption:")
    notes = {
        "cpu_us_warm": f"scraper CPU us/sample, repeat scrape (warm); {source}",
        "cpu_us_first": "scraper CPU us/sample, first scrape of a target in a warm container (kind cold)",
        "warm_share": f"share of scrapes at the warm figure, the rest at the first (blend: {blended:.2f} us)",
        "scraper_memory_mb": f"template.yaml ScraperMemorySize default, {share:.3f} vCPU",
        "max_targets_per_shard": "dispatch.MAX_TARGETS_PER_SHARD; shards per job and second; one job",
        "fetch_wall_s": "wall time of one target's fetch, a shard's targets fetched concurrently",
        "scrape_concurrency": "scraper.MAX_CONCURRENCY: fetches in flight per invocation",
        "remote_write_wall_s": "wall time of one remote-write POST",
        "sends_per_endpoint": "scraper.SENDS_PER_ENDPOINT: POSTs in flight per endpoint",
        "samples_per_request": "v1.DEFAULT_MAX_SAMPLES; report series (5 a target) left out",
        "invocation_overhead_s": "per scraper invocation: message validation, status PutItem, runtime",
        "status_entry_bytes": "measured: store.write_shard_status item growth per target (DynamoDB sizing)",
        "status_item_overhead_bytes": "measured: the same item's own bytes (pk, shard_id, updated_ms, ttl)",
        "target_item_bytes": "a Targets-table item (pk, sk, 3-4 labels); the job and endpoint items ignored",
        "message_envelope_bytes": "a shard message's job and remote_write parts (assumed)",
        "message_bytes_per_target": "benchmarks/dispatch.py: 20,038 B for 100 targets, 140 B envelope",
        "dispatcher_cpu_us_per_scrape": "benchmarks/dispatch.py warm: 0.15 CPU s for 10k targets at 60 s",
        "dispatcher_cpu_us_per_target": "deserializing the Scan's items (assumed, not measured)",
        "dispatcher_wall_s": "Scan round trips and runtime per dispatcher invocation",
        "sqs_request_wall_s": "one SendMessageBatch round trip (sent sequentially)",
        "idle_receives_per_minute": "event source mapping: 5 pollers x 3 empty 20 s long polls a minute, "
        "counted all month (upper bound)",
        "log_bytes_per_invocation": "START/END/REPORT, one JSON log line, one EMF record (assumed)",
        "compressed_bytes_per_sample": "measured: snappy remote-write requests of the synthetic payload",
    }
    for f in fields(a):
        value = getattr(a, f.name)
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        print(f"- `{f.name}` = {shown}" + (f": {notes[f.name]}" if f.name in notes else ""))
    print("- SQS: SendMessageBatch by 10 messages, each 64 KB chunk of payload billed as one request; one")
    print("  receive (BatchSize 1) and one delete per message; DelaySeconds is free.")
    print("- DynamoDB on demand: a status PutItem costs 1 WCU per started KB of item; the dispatcher's Scan")
    print("  each minute 0.5 RCU per started 4 KB (eventually consistent), rounded per 1 MB page.")
    print("- Remote-write requests are not billed by AWS (they go to your endpoint); the bytes leaving AWS")
    print(f"  are (${prices.egress_per_gb}/GB to the internet), apart: an always-on agent pays them too.")
    print("- Offsets spread evenly over the minute (hashed offsets give a few fewer, fuller shards).")
    print()
    print(table(a, prices, (10, 1000, 10_000), (60.0, 15.0)))
    print()
    w = Workload(targets=1000)
    bounds = [("all warm", warm), ("all first scrapes of their target", first)]
    if fresh is not None:
        bounds.append(("all in a fresh process (kind first, upper bound)", fresh))
    for label, us in bounds:
        cost = monthly_cost(w, replace(a, cpu_us_warm=us, cpu_us_first=us), prices)
        print(f"1,000 @ 60 s, scraper CPU {label} ({us:.2f} us/sample): {money(cost.scraper_cpu)}/month")


if __name__ == "__main__":
    main()
