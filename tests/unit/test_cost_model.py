"""benchmarks/cost.py: the cost model's arithmetic on fixed inputs, dollars computed by hand.

A month is 43,200 minutes (30 days), as in ARCHITECTURE ("1,000 targets of 1,000 series every
60 s (43 million scrapes a month)"). Prices: ARCHITECTURE's list (us-east-1, arm64).
"""

import sys
from dataclasses import replace
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import cost
from cost import Assumptions, Workload, monthly_cost

# Fixed inputs: the figures the expected dollars below are computed from (not the measured ones).
FIXED = Assumptions(
    cpu_us_warm=3.0,
    cpu_us_first=3.0,
    warm_share=0.5,
    scraper_memory_mb=512,
    max_targets_per_shard=100,
    scrape_concurrency=32,
    fetch_wall_s=0.05,
    remote_write_wall_s=0.05,
    sends_per_endpoint=8,
    samples_per_request=2000,
    endpoints=1,
    invocation_overhead_s=0.03,
    status_entry_bytes=104,
    status_item_overhead_bytes=69,
    target_item_bytes=200,
    message_envelope_bytes=1000,
    message_bytes_per_target=200,
    dispatcher_memory_mb=1024,
    dispatcher_cpu_us_per_scrape=15.0,
    dispatcher_cpu_us_per_target=20.0,
    dispatcher_wall_s=0.1,
    sqs_request_wall_s=0.02,
    idle_receives_per_minute=15.0,
    log_bytes_per_invocation=1500,
    compressed_bytes_per_sample=10.0,
)
THOUSAND = Workload(targets=1000, series_per_target=1000, interval_s=60)


def test_architecture_example_is_43_2_million_scrapes() -> None:
    # 1,000 targets x 1 scrape a minute x 43,200 minutes = 43,200,000.
    assert monthly_cost(THOUSAND, FIXED).scrapes == pytest.approx(43_200_000)


@pytest.mark.parametrize(("us", "dollars"), [(3.0, 2.977724531), (30.0, 29.77724531)])
def test_cpu_per_sample_is_the_bill(us: float, dollars: float) -> None:
    # ARCHITECTURE: 3 us/sample -> about $3/month, 30 us -> about $30.
    # 43.2 M scrapes x 1,000 samples x 3 us = 129,600 CPU-s. At 512 MB the function has 512/1769 of
    # a vCPU, so it runs 129,600 x 1769/512 = 447,778.125 s at 0.5 GB = 223,889.0625 GB-s
    # (= 1769/1024 GB-s per CPU-second, whatever the memory below 1,769 MB);
    # x $0.0000133 = $2.977724531. Ten times the CPU, ten times the dollars.
    a = replace(FIXED, cpu_us_warm=us, cpu_us_first=us)
    assert monthly_cost(THOUSAND, a).scraper_cpu == pytest.approx(dollars, rel=1e-9)
    # The memory size does not change a CPU-bound cost below one vCPU: 1,024 MB, same dollars.
    assert monthly_cost(THOUSAND, replace(a, scraper_memory_mb=1024)).scraper_cpu == pytest.approx(
        dollars, rel=1e-9
    )


def test_cpu_blends_warm_and_first_scrapes() -> None:
    # 0.25 x 1 us + 0.75 x 5 us = 4 us: 4/3 of the 3 us figure, $2.977724531 x 4/3 = $3.970299375.
    a = replace(FIXED, cpu_us_warm=1.0, cpu_us_first=5.0, warm_share=0.25)
    assert monthly_cost(THOUSAND, a).scraper_cpu == pytest.approx(3.970299375, rel=1e-9)


def test_status_item_per_target_would_be_27_dollars_and_108_at_15_s() -> None:
    # ARCHITECTURE: one item per target per scrape is 43.2 M writes of 1 WCU (173 B < 1 KB),
    # x $0.625 per million = $27.00; at 15 s four times as many: $108.00.
    per_target = replace(FIXED, status_per_target=True)
    assert monthly_cost(THOUSAND, per_target).status_writes == pytest.approx(27.0)
    assert monthly_cost(replace(THOUSAND, interval_s=15), per_target).status_writes == pytest.approx(108.0)


def test_status_item_per_shard_at_1000_targets() -> None:
    # 1,000 scrapes a minute over 60 seconds: 20 seconds with 16 targets, 40 with 17 -> 60 shards.
    # Items of 69 + 16 x 104 = 1,733 B and 69 + 17 x 104 = 1,837 B: 2 WCU each.
    # 60 x 2 x 43,200 = 5,184,000 WCU x $0.625/M = $3.24 (8.3x less than per target, not 16.7x:
    # items are 16.7x fewer but bigger).
    got = monthly_cost(THOUSAND, FIXED)
    assert got.shards == pytest.approx(2_592_000)
    assert got.status_wcu == pytest.approx(5_184_000)
    assert got.status_writes == pytest.approx(3.24)


def test_status_per_shard_is_100x_fewer_items_when_shards_are_full() -> None:
    # 6,000 targets at 60 s: 100 due each second -> 60 full shards a minute, 2,592,000 items a month
    # against 259,200,000 per target: 100x fewer items. But a 100-target item is
    # 69 + 100 x 104 = 10,469 B = 11 WCU: 28,512,000 WCU = $17.82 against $162.00 (9.1x less).
    workload = Workload(targets=6000)
    per_shard = monthly_cost(workload, FIXED)
    per_target = monthly_cost(workload, replace(FIXED, status_per_target=True))
    assert per_target.status_wcu / per_shard.shards == pytest.approx(100)
    assert per_shard.status_writes == pytest.approx(17.82)
    assert per_target.status_writes == pytest.approx(162.0)


@pytest.mark.parametrize(
    ("targets", "interval", "expected"),
    [
        (10, 60, {1: 10}),  # 10 seconds of the minute with one target each
        (1000, 60, {16: 20, 17: 40}),
        (10_000, 60, {100: 60, 66: 20, 67: 40}),  # 120 shards, as benchmarks/dispatch.py plans them
        (1000, 15, {66: 20, 67: 40}),  # 4,000 scrapes a minute: 66 or 67 a second
        (300, 300, {1: 60}),  # 5 m: 60 scrapes a minute on average, one a second
    ],
)
def test_shards_per_minute(targets: int, interval: int, expected: dict[int, int]) -> None:
    got = cost.shards_per_minute(Workload(targets=targets, interval_s=interval), 100)
    assert got == pytest.approx(expected)


def test_shards_per_minute_by_job() -> None:
    # Two jobs of 500 targets at 60 s: 500/60 = 8.33 a second -> 40 seconds of 8, 20 of 9, per job.
    got = cost.shards_per_minute(Workload(targets=1000, jobs=2), 100)
    assert got == pytest.approx({8: 80, 9: 40})


def test_sqs_requests_at_1000_targets() -> None:
    # Messages of 1,000 + 200 x 16 = 4,200 B (20 a minute) and 4,400 B (40): mean 4,333.3 B.
    # Sends: 6 SendMessageBatch of 10 (43,333 B, one 64 KB chunk) = 6; receives 60; deletes 60;
    # idle long polls 15 -> 141 a minute x 43,200 = 6,091,200 requests x $0.40/M = $2.43648.
    got = monthly_cost(THOUSAND, FIXED)
    assert got.sqs_requests == pytest.approx(6_091_200)
    assert got.sqs == pytest.approx(2.43648)


def test_sqs_send_batches_are_billed_by_64_kb_chunks() -> None:
    # 10,000 targets: 120 messages, mean (60 x 21,000 + 20 x 14,200 + 40 x 14,400) / 120 = 17,666.7 B;
    # a batch of 10 is 176,667 B = 3 chunks: 12 batches x 3 = 36 sends; 120 receives, 120 deletes,
    # 15 idle -> 291 a minute x 43,200 = 12,571,200 x $0.40/M = $5.02848.
    got = monthly_cost(Workload(targets=10_000), FIXED)
    assert got.components["sqs_sends"] == pytest.approx(36 * 43_200)
    assert got.sqs == pytest.approx(5.02848)


def test_targets_scan_rcu() -> None:
    # 10,000 x 200 B = 2,000,000 B: one full 1 MiB page (256 x 4 KB x 0.5 = 128 RCU) and 951,424 B
    # (233 x 4 KB x 0.5 = 116.5 RCU): 244.5 RCU a Scan x 43,200 = 10,562,400 x $0.125/M = $1.3203.
    got = monthly_cost(Workload(targets=10_000), FIXED)
    assert got.scan_rcu == pytest.approx(10_562_400)
    assert got.targets_scan == pytest.approx(1.3203)
    # 1,000 targets: 200,000 B = 49 x 4 KB: 24.5 RCU x 43,200 = 1,058,400 = $0.1323.
    assert monthly_cost(THOUSAND, FIXED).targets_scan == pytest.approx(0.1323)


def test_scraper_wait_at_1000_targets() -> None:
    # 16 targets: 1 fetch wave (0.05) + 8 requests in 1 wave of 8 (0.05) + 0.03 = 0.13 s;
    # 17 targets: 0.05 + 9 requests in 2 waves (0.10) + 0.03 = 0.18 s.
    # 20 x 0.13 + 40 x 0.18 = 9.8 s a minute x 43,200 = 423,360 s x 0.5 GB = 211,680 GB-s
    # x $0.0000133 = $2.815344.
    assert monthly_cost(THOUSAND, FIXED).scraper_wait == pytest.approx(2.815344)


def test_dispatcher_invocations_logs_and_egress() -> None:
    got = monthly_cost(THOUSAND, FIXED)
    # Dispatcher: (1,000 x 15 + 1,000 x 20) us = 0.035 CPU-s at 1024/1769 vCPU = 0.0604638672 s,
    # + 0.1 s + 6 sends x 0.02 s = 0.2804638672 s x 43,200 = 12,116.0390625 GB-s (1 GB)
    # x $0.0000133 = $0.1611433195.
    assert got.dispatcher_compute == pytest.approx(0.1611433195, rel=1e-9)
    # Invocations: (60 shards + 1 dispatcher) x 43,200 = 2,635,200 x $0.20/M = $0.52704.
    assert got.invocations == pytest.approx(0.52704)
    # Logs: 2,635,200 x 1,500 B = 3,952,800,000 B = 3.681331873 GiB x $0.50 = $1.840665936.
    assert got.logs == pytest.approx(1.840665936, rel=1e-9)
    # Egress: 43.2 G samples x 10 B = 432 GB = 402.3313522 GiB x $0.09 = $36.20982170, not in total.
    assert got.egress == pytest.approx(36.20982170, rel=1e-9)
    parts = (
        got.scraper_cpu + got.scraper_wait + got.dispatcher_compute + got.invocations
        + got.sqs + got.status_writes + got.targets_scan + got.logs
    )  # fmt: skip
    assert got.total == pytest.approx(parts)


def test_whole_bill_at_1000_targets() -> None:
    # $2.977724531 CPU + $2.815344 wait + $0.1611433195 dispatcher + $0.52704 invocations
    # + $2.43648 SQS + $3.24 status + $0.1323 Scan + $1.840665936 logs = $14.13069779.
    assert monthly_cost(THOUSAND, FIXED).total == pytest.approx(14.13069779, rel=1e-9)


def test_defaults_follow_the_code() -> None:
    from promscrape import dispatch, queues, scraper
    from promscrape.remote_write import v1

    assert cost.MAX_TARGETS_PER_SHARD == dispatch.MAX_TARGETS_PER_SHARD
    assert cost.SCRAPE_CONCURRENCY == scraper.MAX_CONCURRENCY
    assert cost.SENDS_PER_ENDPOINT == scraper.SENDS_PER_ENDPOINT
    assert cost.SAMPLES_PER_REQUEST == v1.DEFAULT_MAX_SAMPLES
    assert cost.SEND_BATCH_ENTRIES == queues.MAX_BATCH_ENTRIES
    assert cost.template_scraper_memory_mb() == Assumptions().scraper_memory_mb == 512


def test_status_item_size_by_dynamodb_rules() -> None:
    # item = pk 17 + shard_id 17 + updated_ms 16 + ttl 9 + targets_z: its name 9 + the
    # zlib-compressed JSON of one target's status (119 B) = 187 B; 100 targets stay in one write unit.
    assert cost.measure_status_item(1) == 187
    assert cost.measure_status_item(100) <= 1024
    assert cost.dynamodb_attribute_bytes({"N": "-12.50"}) == 4  # "125": 2 B + 1 + sign
    assert cost.dynamodb_item_bytes({"a": {"L": [{"S": "xy"}, {"BOOL": True}]}}) == 1 + 3 + 3 + 2
