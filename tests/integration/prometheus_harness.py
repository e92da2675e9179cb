"""A real Prometheus scraping expositions served from loopback, for the differential parser tests.

`ExpositionServer` serves fixed bodies, one per path, each with its own Content-Type (Prometheus
picks its parser by that header, whatever it asked for). `ScrapingPrometheus` is the LOCAL
helper's `LocalPrometheus` (own storage, free port, `features` for `--enable-feature`) given a
scrape configuration afterwards and reloaded with SIGHUP, as an operator would: one job per
exposition, `honor_labels` and `honor_timestamps` on, scraped every second. `scrape_all` waits
for one scrape of every job and returns, per job, what Prometheus kept, read back through its
HTTP API: the raw float samples and native histograms of the last hour (the report series left
out, and the target's `job`/`instance` labels where they hold the target's values), the
exemplars (`/api/v1/query_exemplars`, with the `exemplar-storage` feature), the metadata of the
scrape cache, and the target's last error.
"""

import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from promscrape.local.prometheus import LocalPrometheus, PrometheusError

SCRAPE_WAIT_S = 30.0
# Series Prometheus adds to every scrape (2.42 also adds scrape_series_added).
REPORT_SERIES = frozenset(
    {
        "up",
        "scrape_duration_seconds",
        "scrape_samples_scraped",
        "scrape_samples_post_metric_relabeling",
        "scrape_series_added",
    }
)

SeriesKey = tuple[tuple[str, str], ...]
# A native histogram as the query API shows it: count, sum, and the non-empty buckets as
# (boundary rule, lower, upper, count), rule 0 `(l,u]`, 1 `[l,u)`, 2 `(l,u)`, 3 `[l,u]`.
Bucket = tuple[int, float, float, float]
HistogramShape = tuple[float, float, tuple[Bucket, ...]]
# An exemplar: (sorted labels, value, timestamp ms).
StoredExemplar = tuple[SeriesKey, float, int]


@dataclass(frozen=True)
class Served:
    """One exposition as the target answers it."""

    body: bytes
    content_type: str


class _Server(ThreadingHTTPServer):
    """A listen backlog for hundreds of jobs connecting in the same second (the default, 5, drops
    connections and Prometheus times out)."""

    request_queue_size = 1024


class ExpositionServer:
    """HTTP on 127.0.0.1 (free port): GET /<name> answers bodies[name] with its Content-Type."""

    def __init__(self, bodies: Mapping[str, Served]) -> None:
        served = dict(bodies)

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                answer = served.get(self.path.lstrip("/").split("?", 1)[0])
                if answer is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", answer.content_type)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            def log_message(self, format: str, *args: object) -> None:
                """Silent: Prometheus polls every second."""

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def address(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    def __enter__(self) -> "ExpositionServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


@dataclass
class Scraped:
    """What Prometheus made of one job's exposition."""

    instance: str
    health: str
    last_error: str
    at_ms: int  # when it was read back: the samples are those of the hour before
    # Metric family -> (type, help, unit) from the metadata API.
    metadata: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    # Series (sorted labels incl. `__name__`, without job/instance) -> [(timestamp ms, value)].
    samples: dict[SeriesKey, list[tuple[int, float]]] = field(default_factory=dict)
    # Series -> [(timestamp ms, native histogram)].
    histograms: dict[SeriesKey, list[tuple[int, HistogramShape]]] = field(default_factory=dict)
    # Series -> every exemplar stored for it.
    exemplars: dict[SeriesKey, list[StoredExemplar]] = field(default_factory=dict)


def scrape_config(address: str, jobs: list[str]) -> str:
    """Prometheus configuration: job `name` scrapes http://<address>/<name> every second."""
    config = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1m"},
        "scrape_configs": [
            {
                "job_name": job,
                "honor_labels": True,
                "honor_timestamps": True,
                "metrics_path": f"/{job}",
                "static_configs": [{"targets": [address]}],
            }
            for job in jobs
        ],
    }
    return json.dumps(config, indent=1)  # JSON is YAML


def series_key(metric: Mapping[str, str], target: Mapping[str, str]) -> SeriesKey:
    """A series the API returned, as sorted labels without the target's labels (`job`, `instance`)
    where they hold the target's values: with `honor_labels` an exposed `instance` wins and stays."""
    return tuple(sorted((k, v) for k, v in metric.items() if target.get(k) != v))


def histogram_shape(histogram: Mapping[str, Any]) -> HistogramShape:
    """The query API's JSON histogram (numbers as strings) as numbers."""
    buckets = tuple(
        (int(rule), float(lower), float(upper), float(count))
        for rule, lower, upper, count in histogram.get("buckets") or ()
    )
    return float(histogram["count"]), float(histogram["sum"]), buckets


class ScrapingPrometheus(LocalPrometheus):
    """LocalPrometheus plus a scrape configuration loaded by SIGHUP."""

    def load_config(self, config: str, jobs: list[str]) -> None:
        """Write the configuration, signal a reload, wait until Prometheus reports every job in it."""
        self.reload(config)
        deadline = time.monotonic() + SCRAPE_WAIT_S
        while True:
            loaded = self.api("status/config", {})["yaml"]
            if all(f"job_name: {job}\n" in loaded for job in jobs):
                return
            if time.monotonic() > deadline:
                raise PrometheusError(f"configuration not loaded: {loaded[:2000]}")
            time.sleep(0.1)

    def wait_scraped(self, jobs: list[str]) -> dict[str, tuple[str, str]]:
        """Block until every job's target was scraped once; job -> (health, lastError). A scrape that
        failed in transport (`Get "...": ...`, never what a test means) counts as not scraped yet."""
        deadline = time.monotonic() + SCRAPE_WAIT_S
        while True:
            up = {sample["metric"]["job"] for sample in self.query("up")}
            targets = self.api("targets", {"state": "active"})["activeTargets"]
            health = {target["labels"]["job"]: (target["health"], target["lastError"]) for target in targets}
            scraped = up & {
                job
                for job, (state, error) in health.items()
                if state != "unknown" and not error.startswith('Get "')
            }
            if scraped.issuperset(jobs):
                return health
            if time.monotonic() > deadline:
                raise PrometheusError(f"jobs never scraped: {sorted(set(jobs) - scraped)}")
            time.sleep(0.2)

    def stored(
        self, target: Mapping[str, str], at_s: float
    ) -> tuple[dict[SeriesKey, list[tuple[int, float]]], dict[SeriesKey, list[tuple[int, HistogramShape]]]]:
        """Every raw float sample and native histogram of the target's series in the hour before
        `at_s`, report series excluded."""
        data = self.api("query", {"query": f'{{job="{target["job"]}"}}[1h]', "time": f"{at_s:.3f}"})
        if data["resultType"] != "matrix":
            raise PrometheusError(f"range selector gave a {data['resultType']}")
        samples: dict[SeriesKey, list[tuple[int, float]]] = {}
        histograms: dict[SeriesKey, list[tuple[int, HistogramShape]]] = {}
        for series in data["result"]:
            if series["metric"].get("__name__") in REPORT_SERIES:
                continue
            key = series_key(series["metric"], target)
            if series.get("values"):
                samples[key] = [(round(float(ts) * 1000), float(value)) for ts, value in series["values"]]
            if series.get("histograms"):
                histograms[key] = [
                    (round(float(ts) * 1000), histogram_shape(h)) for ts, h in series["histograms"]
                ]
        return samples, histograms

    def exemplars(self, target: Mapping[str, str], at_s: float) -> dict[SeriesKey, list[StoredExemplar]]:
        """Every exemplar stored for the target's series, whatever its timestamp (epoch to `at_s` + 1 h)."""
        query = f'{{job="{target["job"]}"}}'
        found = self.api("query_exemplars", {"query": query, "start": "0", "end": f"{at_s + 3600:.3f}"})
        return {
            series_key(series["seriesLabels"], target): [
                (
                    tuple(sorted(exemplar["labels"].items())),
                    float(exemplar["value"]),
                    round(float(exemplar["timestamp"]) * 1000),
                )
                for exemplar in series["exemplars"]
            ]
            for series in found
        }

    def metadata(self, job: str) -> dict[str, tuple[str, str, str]]:
        """The job's metric families as the scrape cache holds them: name -> (type, help, unit)."""
        entries = self.api("targets/metadata", {"match_target": f'{{job="{job}"}}'})
        return {entry["metric"]: (entry["type"], entry["help"], entry["unit"]) for entry in entries}


def scrape_all(prometheus: ScrapingPrometheus, bodies: Mapping[str, Served]) -> dict[str, Scraped]:
    """Serve each body as its own job, let Prometheus scrape them all once, return what it kept."""
    jobs = list(bodies)
    with ExpositionServer(bodies) as server:
        prometheus.load_config(scrape_config(server.address, jobs), jobs)
        health = prometheus.wait_scraped(jobs)
        at_s = time.time()
        scraped = {}
        for job in jobs:
            target = {"job": job, "instance": server.address}
            samples, histograms = prometheus.stored(target, at_s)
            scraped[job] = Scraped(
                instance=server.address,
                health=health[job][0],
                last_error=health[job][1],
                at_ms=round(at_s * 1000),
                metadata=prometheus.metadata(job),
                samples=samples,
                histograms=histograms,
                exemplars=prometheus.exemplars(target, at_s),
            )
        return scraped
