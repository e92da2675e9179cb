"""One scrape of one target: fetch -> parse -> pipeline -> report metrics, and the target's status.

Plain function over plain data (no AWS): the scraper runs it concurrently for a shard, the local
runner and tests call it directly. A failed scrape writes only its report metrics (`up` 0) and
nothing partial, as Prometheus does; the failure is logged as one JSON line naming the target.
"""

import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import urllib3
from pydantic import BaseModel, ConfigDict

from promscrape import exposition
from promscrape.exposition.typeunit import add_type_and_unit_labels
from promscrape.histograms import convert_classic_to_nhcb
from promscrape.http import ScrapeError, fetch, scrape_headers
from promscrape.messages import PlannedScrape
from promscrape.pipeline import Limits, Relabeler, SeriesCache, process
from promscrape.remote_write import v1, v2

if TYPE_CHECKING:
    from promscrape.config import ScrapeJob

logger = logging.getLogger(__name__)

REPORT_METRICS = (
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
)


class TargetStatus(BaseModel):
    """What `promscrape status` shows of a target's last scrape (stored per shard, never per target).

    `samples` counts the target's samples forwarded by that scrape (report metrics excluded):
    0 when it failed, since a failed scrape forwards nothing of the target's own.
    """

    model_config = ConfigDict(frozen=True)

    url: str
    job: str
    health: Literal["up", "down"]
    last_scrape_ms: int
    duration_ms: int
    samples: int
    error: str | None = None


@dataclass(slots=True)
class ScrapeOutcome:
    """What one scrape forwards and its status.

    Remote write 1.0 TimeSeries entries of one item each: `series` the float samples (report
    metrics last), `exemplars` and `histograms` apart (an endpoint may not want them); `metadata`:
    1.0 MetricMetadata entries (honor_metadata); `v2_series`: the same scrape as 2.0 series (report
    metrics last), when asked for.
    """

    series: list[bytes]
    status: TargetStatus
    samples_scraped: int
    samples_post_relabel: int
    exemplars: list[bytes] = field(default_factory=list)
    histograms: list[bytes] = field(default_factory=list)
    metadata: list[bytes] = field(default_factory=list)
    v2_series: list[v2.Series] | None = None


def report_labels(target_labels: dict[str, str]) -> list[list[tuple[str, str]]]:
    """The sorted labels of each report metric: the target labels, never metric-relabeled."""
    base = [(name, value) for name, value in target_labels.items() if value and name != "__name__"]
    return [sorted([*base, ("__name__", name)]) for name in REPORT_METRICS]


def report_series(
    target_labels: dict[str, str], scrape_ts_ms: int, values: tuple[float, float, float, float]
) -> list[bytes]:
    """The report metrics of REFERENCE §8 as 1.0 entries."""
    return [
        v1.encode_series(v1.encode_labels(labels), v1.encode_sample(value, scrape_ts_ms))
        for labels, value in zip(report_labels(target_labels), values, strict=True)
    ]


def report_series_v2(
    target_labels: dict[str, str], scrape_ts_ms: int, values: tuple[float, float, float, float]
) -> list[v2.Series]:
    """The report metrics of REFERENCE §8 as 2.0 series."""
    return [
        v2.Series(labels=labels, samples=[v2.Sample(value, scrape_ts_ms)])
        for labels, value in zip(report_labels(target_labels), values, strict=True)
    ]


def scrape_target(
    planned: PlannedScrape,
    job: "ScrapeJob",
    relabeler: Relabeler | None,
    cache: SeriesCache | None,
    pool: urllib3.PoolManager,
    want_v2: bool = False,
) -> ScrapeOutcome:
    """Scrape `planned` once now; never raises for anything the target does.

    `want_v2`: an endpoint speaks remote write 2.0, so the outcome carries 2.0 series too.
    """
    start_wall = time.time()
    start = time.monotonic()
    scrape_ts_ms = int(start_wall * 1000)
    series: list[bytes] = []
    exemplars: list[bytes] = []
    histograms: list[bytes] = []
    metadata: list[bytes] = []
    series_v2: list[v2.Series] | None = [] if want_v2 else None
    scraped = post_relabel = 0
    error: str | None = None
    try:
        headers = scrape_headers(
            protocols=job.scrape_protocols,
            enable_compression=job.enable_compression,
            timeout_ms=planned.timeout_ms,
            http_headers=job.http_headers,
            escaping_scheme=job.metric_name_escaping_scheme,
        )
        response = fetch(
            pool,
            planned.url,
            headers,
            timeout_s=planned.timeout_ms / 1000,
            body_size_limit=job.body_size_limit,
            follow_redirects=job.follow_redirects,
        )
        parser = exposition.new(
            response.body,
            response.content_type,
            fallback=job.scrape_fallback_protocol,
            native_histograms=job.scrape_native_histograms,
            classic_histograms=job.scrape_classic_histograms,
        )
        parsed = parser.parse()
        if job.enable_type_and_unit_labels:
            parsed = add_type_and_unit_labels(parsed)
        if job.convert_classic_histograms_to_nhcb:
            parsed = convert_classic_to_nhcb(
                parsed,
                keep_classic=job.scrape_classic_histograms,
                protobuf=getattr(parser, "media_type", "") == exposition.PROTOBUF_MEDIA_TYPE,
            )
        result = process(
            parsed,
            target_labels=planned.labels,
            honor_labels=job.honor_labels,
            honor_timestamps=job.honor_timestamps,
            metric_relabeler=relabeler,
            scrape_ts_ms=scrape_ts_ms,
            cache=cache,
            limits=Limits(
                sample_limit=job.sample_limit,
                label_limit=job.label_limit,
                label_name_length_limit=job.label_name_length_limit,
                label_value_length_limit=job.label_value_length_limit,
                native_histogram_bucket_limit=job.native_histogram_bucket_limit,
                native_histogram_min_bucket_factor=job.native_histogram_min_bucket_factor,
            ),
            honor_metadata=job.honor_metadata,
            want_v2=want_v2,
            validation_scheme=job.metric_name_validation_scheme,
        )
        scraped, post_relabel = result.samples_scraped, result.samples_post_relabel
        if result.error is None:
            series, metadata = result.series, result.metadata
            exemplars, histograms = result.exemplars, result.histograms
            series_v2 = result.v2_series
        else:
            error = result.error
    except ScrapeError as exc:
        error = str(exc)
    except Exception as exc:
        # A bug or an unforeseen input must cost one target, not the shard: report it like Prometheus.
        logger.exception("scrape failed unexpectedly", extra={"target": planned.url, "job": job.job_label})
        error = f"{type(exc).__name__}: {exc}"
    duration_s = time.monotonic() - start
    up = error is None
    if not up:
        logger.error(error, extra={"target": planned.url, "job": job.job_label})
    own_samples = len(series)
    reported = (1.0 if up else 0.0, duration_s, float(scraped), float(post_relabel))
    series.extend(report_series(planned.labels, scrape_ts_ms, reported))
    if want_v2:
        series_v2 = [*(series_v2 or []), *report_series_v2(planned.labels, scrape_ts_ms, reported)]
    status = TargetStatus(
        url=planned.url,
        job=job.job_label,
        health="up" if up else "down",
        last_scrape_ms=scrape_ts_ms,
        duration_ms=round(duration_s * 1000),
        samples=own_samples,
        error=error,
    )
    return ScrapeOutcome(
        series=series,
        status=status,
        samples_scraped=scraped,
        samples_post_relabel=post_relabel,
        exemplars=exemplars,
        histograms=histograms,
        metadata=metadata,
        v2_series=series_v2,
    )
