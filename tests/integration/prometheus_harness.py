"""A real Prometheus scraping expositions served from loopback, for the differential parser tests.

`ExpositionServer` serves fixed bodies, one per path, as `text/plain; version=0.0.4`.
`ScrapingPrometheus` is the LOCAL helper's `LocalPrometheus` (own storage, free port) given a
scrape configuration afterwards and reloaded with SIGHUP, as an operator would: one job per
exposition, `honor_labels` and `honor_timestamps` on, scraped every second. `scrape_all` waits
for one scrape of every job and returns, per job, the raw samples Prometheus stored (the report
series and the `job`/`instance` target labels removed) and the target's last error.
"""

import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from promscrape.local.prometheus import LocalPrometheus, PrometheusError

CONTENT_TYPE = "text/plain; version=0.0.4"
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
TARGET_LABELS = frozenset({"job", "instance"})

SeriesKey = tuple[tuple[str, str], ...]


class ExpositionServer:
    """HTTP on 127.0.0.1 (free port): GET /<name> answers bodies[name] with the 0.0.4 content type."""

    def __init__(self, bodies: Mapping[str, bytes]) -> None:
        served = dict(bodies)

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = served.get(self.path.lstrip("/").split("?", 1)[0])
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", CONTENT_TYPE)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                """Silent: Prometheus polls every second."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
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
    # Metric family -> (type, help) from the metadata API.
    metadata: dict[str, tuple[str, str]] = field(default_factory=dict)
    # Series (sorted labels incl. `__name__`, without job/instance) -> [(timestamp ms, value)].
    samples: dict[SeriesKey, list[tuple[int, float]]] = field(default_factory=dict)


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
        """Block until every job's target was scraped once; job -> (health, lastError)."""
        deadline = time.monotonic() + SCRAPE_WAIT_S
        while True:
            up = {sample["metric"]["job"] for sample in self.query("up")}
            targets = self.api("targets", {"state": "active"})["activeTargets"]
            health = {target["labels"]["job"]: (target["health"], target["lastError"]) for target in targets}
            scraped = up & {job for job, (state, _) in health.items() if state != "unknown"}
            if scraped.issuperset(jobs):
                return health
            if time.monotonic() > deadline:
                raise PrometheusError(f"jobs never scraped: {sorted(set(jobs) - scraped)}")
            time.sleep(0.2)

    def stored_samples(self, job: str, at_s: float) -> dict[SeriesKey, list[tuple[int, float]]]:
        """Every raw sample of the job's series in the hour before `at_s`, report series excluded."""
        data = self.api("query", {"query": f'{{job="{job}"}}[1h]', "time": f"{at_s:.3f}"})
        if data["resultType"] != "matrix":
            raise PrometheusError(f"range selector gave a {data['resultType']}")
        stored: dict[SeriesKey, list[tuple[int, float]]] = {}
        for series in data["result"]:
            metric: dict[str, str] = series["metric"]
            if metric.get("__name__") in REPORT_SERIES:
                continue
            key = tuple(sorted((k, v) for k, v in metric.items() if k not in TARGET_LABELS))
            stored[key] = [(round(float(ts) * 1000), float(value)) for ts, value in series["values"]]
        return stored

    def metadata(self, job: str) -> dict[str, tuple[str, str]]:
        """The job's metric families as the scrape cache holds them: name -> (type, help)."""
        entries = self.api("targets/metadata", {"match_target": f'{{job="{job}"}}'})
        return {entry["metric"]: (entry["type"], entry["help"]) for entry in entries}


def scrape_all(prometheus: ScrapingPrometheus, bodies: Mapping[str, bytes]) -> dict[str, Scraped]:
    """Serve each body as its own job, let Prometheus scrape them all once, return what it kept."""
    jobs = list(bodies)
    with ExpositionServer(bodies) as server:
        prometheus.load_config(scrape_config(server.address, jobs), jobs)
        health = prometheus.wait_scraped(jobs)
        at_s = time.time()
        return {
            job: Scraped(
                instance=server.address,
                health=health[job][0],
                last_error=health[job][1],
                metadata=prometheus.metadata(job),
                samples=prometheus.stored_samples(job, at_s),
            )
            for job in jobs
        }
