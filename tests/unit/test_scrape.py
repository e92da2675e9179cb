"""scrape_target against real targets on 127.0.0.1, its output read back with the independent decoder."""

import gzip
import logging
import time
from hashlib import sha256
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from http_servers import LocalServer, Recorder, Reply, Series, body_route, free_port, status_route
from promscrape import scraper
from promscrape.config import RemoteWriteEndpoint, ScrapeJob
from promscrape.http import new_pool
from promscrape.messages import PlannedScrape, ShardMessage
from promscrape.pipeline import SeriesCache
from promscrape.relabel import compile_rules
from promscrape.remote_write.deadletter import DeadLetter, replay
from promscrape.remote_write.decode import decode_write_request
from promscrape.scrape import REPORT_METRICS, ScrapeOutcome, TargetStatus, scrape_target
from promscrape.scraper import ShardReport, process_shard
from promscrape.settings import Settings

EXPOSITION = b"""# HELP a_total A counter.
# TYPE a_total counter
a_total{path="/x"} 3
a_total{path="/y"} 0
# TYPE b gauge
b -2.5
c{le="+Inf",q="with \\"quotes\\""} 1e3
"""


@pytest.fixture(scope="module")
def pool():
    return new_pool()


def make_job(**arguments: Any) -> ScrapeJob:
    return ScrapeJob.model_validate({"name": "node", "forward_to": ["rw"], **arguments})


def planned_for(url: str, timeout_ms: int = 5_000, **labels: str) -> PlannedScrape:
    instance = url.split("/")[2]
    return PlannedScrape(
        url=url,
        labels={"job": "node", "instance": instance, **labels},
        interval_ms=60_000,
        timeout_ms=timeout_ms,
        due_ms=0,
    )


def run(
    pool, planned: PlannedScrape, job: ScrapeJob | None = None, cache: SeriesCache | None = None
) -> ScrapeOutcome:
    job = job or make_job()
    return scrape_target(planned, job, compile_rules(job.metric_relabel_configs), cache, pool)


def decoded(outcome: ScrapeOutcome) -> list[tuple[Series, float, int]]:
    """(sorted labels, value, timestamp) of every sample, in the order scrape_target produced them."""
    out = []
    for series in decode_write_request(b"".join(outcome.series), compressed=False):
        assert len(series.samples) == 1
        out.append((tuple(series.labels), series.samples[0].value, series.samples[0].timestamp))
    return out


def target_labels(planned: PlannedScrape, **extra: str) -> Series:
    return tuple(sorted({**planned.labels, **extra}.items()))


def report(outcome: ScrapeOutcome) -> dict[str, float]:
    """The report metrics' values by name (the last four series)."""
    return {dict(labels)["__name__"]: value for labels, value, _ in decoded(outcome)[-4:]}


@pytest.mark.parametrize("gzipped", [False, True], ids=["plain", "gzip"])
def test_up_with_every_sample(pool, gzipped: bool) -> None:
    route = (
        body_route(gzip.compress(EXPOSITION), Content_Encoding="gzip") if gzipped else body_route(EXPOSITION)
    )
    with LocalServer({"/metrics": route}) as server:
        planned = planned_for(f"{server.base}/metrics")
        outcome = run(pool, planned)
    ts = outcome.status.last_scrape_ms
    samples = decoded(outcome)
    assert samples[:4] == [
        (target_labels(planned, __name__="a_total", path="/x"), 3.0, ts),
        (target_labels(planned, __name__="a_total", path="/y"), 0.0, ts),
        (target_labels(planned, __name__="b"), -2.5, ts),
        (target_labels(planned, __name__="c", le="+Inf", q='with "quotes"'), 1000.0, ts),
    ]
    assert [labels for labels, _, _ in samples[4:]] == [
        target_labels(planned, __name__=name) for name in REPORT_METRICS
    ]
    assert all(timestamp == ts for _, _, timestamp in samples)
    values = report(outcome)
    assert values["up"] == 1.0
    assert values["scrape_samples_scraped"] == 4.0
    assert values["scrape_samples_post_metric_relabeling"] == 4.0
    assert round(values["scrape_duration_seconds"] * 1000) == outcome.status.duration_ms
    assert outcome.status == TargetStatus(
        url=planned.url,
        job="node",
        health="up",
        last_scrape_ms=ts,
        duration_ms=outcome.status.duration_ms,
        samples=4,
        error=None,
    )
    assert (outcome.samples_scraped, outcome.samples_post_relabel) == (4, 4)


@pytest.mark.parametrize("content_type", ["text/plain; version=0.0.4", ""], ids=["text", "blank"])
def test_empty_body_is_an_empty_successful_scrape(pool, content_type: str) -> None:
    """REFERENCE §2: an empty 200 is `up` 1 with nothing scraped (a blank type uses the fallback)."""
    with LocalServer({"/metrics": body_route(b"", content_type=content_type)}) as server:
        planned = planned_for(f"{server.base}/metrics")
        outcome = run(pool, planned)
    assert [labels for labels, _, _ in decoded(outcome)] == [
        target_labels(planned, __name__=name) for name in REPORT_METRICS
    ]
    values = report(outcome)
    counts = ("up", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling")
    assert [values[name] for name in counts] == [1.0, 0.0, 0.0]
    assert (outcome.status.health, outcome.status.samples, outcome.status.error) == ("up", 0, None)


def test_request_carries_job_headers_and_target_timeout(pool) -> None:
    job = make_job(http_headers={"X-Scope-OrgID": ["tenant-1"]}, enable_compression=False)
    with LocalServer({"/metrics": body_route(b"up 1\n")}) as server:
        run(pool, planned_for(f"{server.base}/metrics", timeout_ms=2_500), job)
        headers = dict(server.requests[0][1])
    assert headers["Accept"] == (
        "application/openmetrics-text;version=1.0.0;escaping=underscores;q=0.6,"
        "application/openmetrics-text;version=0.0.1;q=0.5,"
        "text/plain;version=1.0.0;escaping=underscores;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2"
    )
    assert headers["Accept-Encoding"] == "identity"
    assert headers["X-Prometheus-Scrape-Timeout-Seconds"] == "2.5"
    assert headers["X-Scope-OrgID"] == "tenant-1"


broken_route = body_route(b'a 1\nb{x="1" 2\nc 3\n')


@pytest.mark.parametrize(
    ("route", "job_args", "error", "scraped", "post"),
    [
        (status_route(503), {}, "server returned HTTP status 503 Service Unavailable", 0, 0),
        (body_route(b"a 1\n" * 100), {"body_size_limit": 100}, "body size limit exceeded", 0, 0),
    ],
    ids=["503", "body-limit"],
)
def test_failures_write_only_report_metrics(
    pool, caplog, route, job_args: dict[str, Any], error: str, scraped: int, post: int
) -> None:
    with LocalServer({"/metrics": route}) as server:
        planned = planned_for(f"{server.base}/metrics")
        with caplog.at_level(logging.ERROR, logger="promscrape.scrape"):
            outcome = run(pool, planned, make_job(**job_args))
    values = report(outcome)
    assert values["scrape_samples_scraped"] == scraped
    assert values["scrape_samples_post_metric_relabeling"] == post
    assert outcome.status.error == error
    assert values["up"] == 0.0
    assert len(outcome.series) == 4
    assert (outcome.status.health, outcome.status.samples) == ("down", 0)
    (record,) = caplog.records
    assert (record.getMessage(), record.target, record.job) == (error, planned.url, "node")


def test_parse_error_writes_nothing_partial(pool) -> None:
    with LocalServer({"/metrics": broken_route}) as server:
        outcome = run(pool, planned_for(f"{server.base}/metrics"))
    values = report(outcome)
    assert len(outcome.series) == 4
    assert values["up"] == 0.0
    assert values["scrape_samples_scraped"] == 1.0
    # Prometheus's scrape error for it: the parser's message, without the line number.
    assert outcome.status.error == 'expected label name, got "2" ("INVALID") while parsing: "b{x=\\"1\\" 2"'


def test_parse_error_reports_the_failed_pass_counts(pool) -> None:
    """REFERENCE §8: after a failed append the counts are those of the failed pass, relabeling included."""
    job = make_job(metric_relabel_configs=[{"source_labels": ["__name__"], "regex": "z", "action": "drop"}])
    with LocalServer({"/metrics": body_route(b'a 1\nz 5\nb 2\nc{x="1" 2\nd 3\n')}) as server:
        planned = planned_for(f"{server.base}/metrics")
        outcome = run(pool, planned, job)
    assert [labels for labels, _, _ in decoded(outcome)] == [
        target_labels(planned, __name__=name) for name in REPORT_METRICS
    ]
    values = report(outcome)
    counts = ("up", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling")
    assert [values[name] for name in counts] == [0.0, 3.0, 2.0]
    assert (outcome.samples_scraped, outcome.samples_post_relabel, outcome.status.samples) == (3, 2, 0)


def test_timestamp_is_the_scrape_start(pool) -> None:
    """Samples and report metrics carry the time the scrape began: not later than the request."""
    arrivals: list[int] = []

    def target(h: BaseHTTPRequestHandler) -> None:
        arrivals.append(int(time.time() * 1000))
        body_route(b"a 1\n")(h)

    before = int(time.time() * 1000)
    with LocalServer({"/metrics": target}) as server:
        outcome = run(pool, planned_for(f"{server.base}/metrics"))
    timestamps = {timestamp for _, _, timestamp in decoded(outcome)}
    assert timestamps == {outcome.status.last_scrape_ms}
    assert before <= outcome.status.last_scrape_ms <= arrivals[0]


def test_target_down(pool) -> None:
    port = free_port()
    planned = planned_for(f"http://127.0.0.1:{port}/metrics")
    outcome = run(pool, planned)
    assert [labels for labels, _, _ in decoded(outcome)] == [
        target_labels(planned, __name__=name) for name in REPORT_METRICS
    ]
    assert report(outcome) == {
        "up": 0.0,
        "scrape_duration_seconds": report(outcome)["scrape_duration_seconds"],
        "scrape_samples_scraped": 0.0,
        "scrape_samples_post_metric_relabeling": 0.0,
    }
    assert outcome.status.error == (
        f'Get "{planned.url}": dial tcp 127.0.0.1:{port}: connect: connection refused'
    )
    assert outcome.status.health == "down"


def test_report_metrics_are_not_metric_relabeled(pool) -> None:
    job = make_job(
        metric_relabel_configs=[
            {"source_labels": ["__name__"], "regex": "b|up|scrape_.*", "action": "drop"},
            {"regex": "instance", "action": "labeldrop"},
        ]
    )
    with LocalServer({"/metrics": body_route(EXPOSITION)}) as server:
        planned = planned_for(f"{server.base}/metrics")
        outcome = run(pool, planned, job)
    samples = decoded(outcome)
    names = [dict(labels)["__name__"] for labels, _, _ in samples]
    assert names == ["a_total", "a_total", "c", *REPORT_METRICS]
    assert all("instance" not in dict(labels) for labels, _, _ in samples[:3])
    assert [labels for labels, _, _ in samples[3:]] == [
        target_labels(planned, __name__=name) for name in REPORT_METRICS
    ]
    values = report(outcome)
    assert (values["scrape_samples_scraped"], values["scrape_samples_post_metric_relabeling"]) == (4.0, 3.0)
    assert outcome.status.samples == 3


@pytest.mark.parametrize(
    ("honor_labels", "expected"),
    [(False, {"job": "node", "exported_job": "other"}), (True, {"job": "other"})],
)
def test_honor_labels(pool, honor_labels: bool, expected: dict[str, str]) -> None:
    with LocalServer({"/metrics": body_route(b'm{job="other"} 1\n')}) as server:
        planned = planned_for(f"{server.base}/metrics")
        outcome = run(pool, planned, make_job(honor_labels=honor_labels))
    labels, value, _ = decoded(outcome)[0]
    assert dict(labels) == {"__name__": "m", "instance": planned.labels["instance"], **expected}
    assert value == 1.0


def test_target_exposing_up_forwards_both(pool) -> None:
    """Alloy's WAL forwards a target's own `up` beside the report metric (REFERENCE §8)."""
    with LocalServer({"/metrics": body_route(b"up 5\n")}) as server:
        planned = planned_for(f"{server.base}/metrics")
        outcome = run(pool, planned)
    ups = [value for labels, value, _ in decoded(outcome) if dict(labels)["__name__"] == "up"]
    assert ups == [5.0, 1.0]


def test_cache_reused_gives_same_result(pool) -> None:
    cache = SeriesCache()
    with LocalServer({"/metrics": body_route(EXPOSITION)}) as server:
        planned = planned_for(f"{server.base}/metrics")
        first = run(pool, planned, cache=cache)
        second = run(pool, planned, cache=cache)
    assert len(cache) > 0
    strip = [(labels, value) for labels, value, _ in decoded(first)[:4]]
    assert strip == [(labels, value) for labels, value, _ in decoded(second)[:4]]


# --- process_shard: concurrent scrapes, every endpoint, dead letters, one status item ---------------


def shard(job: ScrapeJob, endpoints: list[dict[str, Any]], targets: list[PlannedScrape]) -> ShardMessage:
    return ShardMessage(
        shard_id="node/07/0",
        job=job.to_item(reveal=True),
        remote_write=[RemoteWriteEndpoint.model_validate(e).to_item(reveal=True) for e in endpoints],
        scheduled_ms=0,
        targets=targets,
    )


def endpoint(name: str, url: str, **arguments: Any) -> dict[str, Any]:
    return {"name": name, "url": url, "min_backoff": "1ms", "max_backoff": "2ms", **arguments}


def run_shard(aws, pool, message: ShardMessage, send_budget_s: float = 5.0) -> ShardReport:
    settings = Settings.from_env(aws.environment["ScraperFunction"])
    return process_shard(
        message,
        settings=settings,
        sqs_client=aws.sqs,
        store=aws.store(),
        pool=pool,
        deadline=time.monotonic() + send_budget_s,
    )


def scraped_samples(outcome_target: PlannedScrape, values: dict[str, float]) -> list[tuple[Series, float]]:
    return sorted((target_labels(outcome_target, __name__=name), value) for name, value in values.items())


def test_shard_reaches_every_endpoint_and_records_status(aws, pool) -> None:
    first, second = Recorder(), Recorder()
    down_url = f"http://127.0.0.1:{free_port()}/metrics"
    with (
        LocalServer({"/metrics": body_route(b"a 1\nb 2\n")}) as target,
        LocalServer({"/write": first}) as rw1,
        LocalServer({"/write": second}) as rw2,
    ):
        up, down = planned_for(f"{target.base}/metrics"), planned_for(down_url)
        message = shard(
            make_job(forward_to=["one", "two"]),
            [endpoint("one", f"{rw1.base}/write"), endpoint("two", f"{rw2.base}/write")],
            [up, down],
        )
        report = run_shard(aws, pool, message)
    assert first.samples() == second.samples()
    received = {(labels, value) for labels, value, _ in first.samples()}
    assert {
        (labels, value) for labels, value in scraped_samples(up, {"a": 1.0, "b": 2.0, "up": 1.0})
    } <= received
    assert (target_labels(down, __name__="up"), 0.0) in received
    assert len(first.samples()) == 2 + 4 + 4
    assert (report.targets_up, report.targets_down, report.samples) == (1, 1, 10)
    assert (report.batches_sent, report.batches_dead_lettered) == (2, 0)
    assert first.received[0].headers["Content-Encoding"] == "snappy"
    rows = aws.store().read_status()
    assert [(row["url"], row["health"], row["samples"], row["shard_id"]) for row in rows] == sorted(
        [(up.url, "up", 2, "node/07/0"), (down.url, "down", 0, "node/07/0")]
    )
    assert aws.receive_all(aws.dead_letter_queue_url) == []


def test_batches_respect_max_samples_per_send(aws, pool) -> None:
    receiver = Recorder()
    body = "".join(f'm{{i="{i}"}} {i}\n' for i in range(10)).encode()
    with LocalServer({"/metrics": body_route(body)}) as target, LocalServer({"/write": receiver}) as rw:
        message = shard(
            make_job(forward_to=["one"]),
            [endpoint("one", f"{rw.base}/write", max_samples_per_send=3)],
            [planned_for(f"{target.base}/metrics")],
        )
        report = run_shard(aws, pool, message)
    sizes = [
        sum(len(s.samples) for s in decode_write_request(b)) for b in [r.body for r in receiver.received]
    ]
    assert sorted(sizes) == [2, 3, 3, 3, 3]
    assert len(receiver.samples()) == 14
    assert report.batches_sent == 5


def test_undeliverable_batch_goes_to_dlq_replayable(aws, pool) -> None:
    failing, working, replayed = Recorder(Reply(500, b"boom\n")), Recorder(), Recorder()
    with (
        LocalServer({"/metrics": body_route(b"a 1\nb 2\n")}) as target,
        LocalServer({"/write": failing}) as bad,
        LocalServer({"/write": working}) as good,
        LocalServer({"/write": replayed}) as fixed,
    ):
        message = shard(
            make_job(forward_to=["bad", "good"]),
            [endpoint("bad", f"{bad.base}/write"), endpoint("good", f"{good.base}/write")],
            [planned_for(f"{target.base}/metrics")],
        )
        report = run_shard(aws, pool, message, send_budget_s=0.3)
        (queued,) = aws.receive_all(aws.dead_letter_queue_url)
        letter = DeadLetter.from_json(queued["Body"])
        moved = RemoteWriteEndpoint.model_validate(endpoint("bad", f"{fixed.base}/write"))
        result = replay(letter, moved, deadline=time.monotonic() + 5, pool=pool)
    assert len(failing.received) >= 1
    assert (report.batches_sent, report.batches_dead_lettered, report.samples_dead_lettered) == (1, 1, 6)
    assert (letter.endpoint_name, letter.endpoint_url, letter.sample_count) == ("bad", f"{bad.base}/write", 6)
    # The last attempt's error: the 500, or the timeout of an attempt cut short by the deadline.
    assert letter.error in (
        "server returned HTTP status 500 Internal Server Error: boom",
        f'Post "{bad.base}/write": context deadline exceeded',
    )
    assert queued["MessageAttributes"]["endpoint"]["StringValue"] == "bad"
    assert result.ok
    assert replayed.samples() == working.samples()
    assert len(working.samples()) == 6


def test_large_dead_letter_is_split_to_fit_sqs(aws, pool, monkeypatch) -> None:
    monkeypatch.setattr(scraper, "MAX_DEAD_LETTER_BYTES", 1200)
    failing = Recorder(Reply(400))
    # Label values that snappy cannot shrink, so the batch's dead letter is well over the limit.
    body = "".join(f'm{{digest="{sha256(bytes([i])).hexdigest()}"}} {i}\n' for i in range(40)).encode()
    with LocalServer({"/metrics": body_route(body)}) as target, LocalServer({"/write": failing}) as bad:
        message = shard(
            make_job(forward_to=["bad"]),
            [endpoint("bad", f"{bad.base}/write")],
            [planned_for(f"{target.base}/metrics")],
        )
        run_shard(aws, pool, message)
    letters = [DeadLetter.from_json(m["Body"]) for m in aws.receive_all(aws.dead_letter_queue_url)]
    assert len(letters) > 1
    assert all(len(letter.to_json()) <= 1200 for letter in letters)
    assert sum(letter.sample_count for letter in letters) == 44
    decoded_series = [s for letter in letters for s in decode_write_request(letter.body())]
    assert len(decoded_series) == 44
    assert len(failing.received) == 1  # a 400 is not retried


@pytest.mark.parametrize(
    ("job", "remote_write", "error"),
    [
        ({"name": "node"}, [], "forward_to"),
        (
            {"name": "node", "forward_to": ["x"], "track_timestamps_staleness": True},
            [],
            "track_timestamps_staleness is not supported yet",
        ),
        (
            {"name": "node", "forward_to": ["x"]},
            [{"name": "x", "url": "ftp://nowhere"}],
            "is not an http:// or https:// URL",
        ),
        # An endpoint of forward_to missing from the message would silently lose its samples.
        (
            {"name": "node", "forward_to": ["x", "y"]},
            [{"name": "x", "url": "http://127.0.0.1:1/w"}],
            r"^shard s: no remote_write endpoint for forward_to \['y'\]$",
        ),
    ],
    ids=["no-forward_to", "not-implemented-argument", "bad-endpoint-url", "forward_to-endpoint-missing"],
)
def test_unusable_message_raises(
    aws, pool, job: dict[str, Any], remote_write: list[dict[str, Any]], error: str
) -> None:
    message = ShardMessage(shard_id="s", job=job, remote_write=remote_write, scheduled_ms=0, targets=[])
    with pytest.raises(ValueError, match=error):
        run_shard(aws, pool, message)
    assert aws.store().read_status() == []


def test_scrape_timeout_capped_by_the_deadline(aws, pool) -> None:
    receiver = Recorder()
    with LocalServer({"/metrics": body_route(b"a 1\n")}) as target, LocalServer({"/write": receiver}) as rw:
        message = shard(
            make_job(forward_to=["one"], scrape_timeout="50s", scrape_interval="1m"),
            [endpoint("one", f"{rw.base}/write")],
            [planned_for(f"{target.base}/metrics", timeout_ms=50_000)],
        )
        run_shard(aws, pool, message, send_budget_s=10.0)
        sent_timeout = float(dict(target.requests[0][1])["X-Prometheus-Scrape-Timeout-Seconds"])
    assert 1.0 <= sent_timeout <= 10.0 - scraper.MIN_SEND_BUDGET_S
    assert len(receiver.samples()) == 5


def test_repeat_and_duplicate_targets_deliver_everything(aws, pool) -> None:
    """A target twice in one shard, shard processed twice (warm caches): every scrape delivered."""
    receiver = Recorder()
    with LocalServer({"/metrics": body_route(EXPOSITION)}) as target, LocalServer({"/write": receiver}) as rw:
        planned = planned_for(f"{target.base}/metrics")
        rw_endpoint = endpoint("one", f"{rw.base}/write")
        message = shard(make_job(forward_to=["one"]), [rw_endpoint], [planned, planned])
        reports = [run_shard(aws, pool, message) for _ in range(2)]
    assert [(r.targets_up, r.samples) for r in reports] == [(2, 16), (2, 16)]
    values = [(labels, value) for labels, value, _ in receiver.samples()]
    a_x = (target_labels(planned, __name__="a_total", path="/x"), 3.0)
    assert values.count(a_x) == 4
    assert len(values) == 32


LIMITED = b"""a{x="1"} 1
b{x="2",y="a-value-longer-than-twenty"} 2
c 3
"""


@pytest.mark.parametrize(
    ("limits", "error", "scraped", "post_relabel"),
    [
        ({"sample_limit": 3}, None, 3, 3),
        ({"sample_limit": 2}, "sample limit exceeded", 3, 3),
        # job + instance + __name__ + x + y: parsing stops at the offending sample.
        ({"label_limit": 4}, "label_limit exceeded (metric: b, number of labels: 5, limit: 4)", 2, 1),
        (
            {"label_name_length_limit": 7},
            "label_name_length_limit exceeded (metric: a, label name: __name__, length: 8, limit: 7)",
            1,
            0,
        ),
        (
            {"label_value_length_limit": 20},
            'label_value_length_limit exceeded (metric: b, label name: y, value: "a-value-longer-than-'
            'twenty", length: 26, limit: 20)',
            2,
            1,
        ),
    ],
)
def test_limits_fail_the_scrape_with_prometheus_counts(
    pool, limits: dict[str, int], error: str | None, scraped: int, post_relabel: int
) -> None:
    with LocalServer({"/metrics": body_route(LIMITED)}) as server:
        outcome = run(pool, planned_for(f"{server.base}/metrics"), make_job(**limits))
    values = report(outcome)
    assert outcome.status.error == error
    assert values["up"] == (1.0 if error is None else 0.0)
    assert values["scrape_samples_scraped"] == scraped
    assert values["scrape_samples_post_metric_relabeling"] == post_relabel
    assert len(decoded(outcome)) == (3 if error is None else 0) + len(REPORT_METRICS)
