"""Native histograms, exemplars and metadata end to end, from a target serving protobuf and OpenMetrics.

A real Prometheus (Debian's, with `--enable-feature=native-histograms,exemplar-storage` and the
remote-write receiver) receives what `promscrape local --once` scraped and is read back through
its HTTP API (`/api/v1/query`, `/api/v1/query_exemplars`). Prometheus 2.42 does not keep metadata
that arrives by remote write, so metadata (1.0 and 2.0) is checked by decoding what arrives at
the built-in receiver.
"""

import io
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from binaries import require_binary
from http_servers import LocalServer, body_route
from promscrape.local.prometheus import LocalPrometheus
from promscrape.local.runner import LocalOptions, LocalRun
from protowire import COUNTER, HISTOGRAM, double, family, field, label, uvarint, zigzag

pytestmark = pytest.mark.integration

PROTOBUF = "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"
OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"
HISTOGRAMS = "    send_native_histograms: true\n"  # Alloy's endpoint default is false
EXEMPLAR_S = int(time.time()) - 30  # recent: Prometheus keeps exemplars in a circular buffer by time


def exemplar(trace_id: str, value: float, seconds: int) -> bytes:
    return label("trace_id", trace_id) + double(2, value) + field(3, 2, field(1, 0, seconds))


# A counter with an exemplar, and an integer native histogram (schema 0, zero bucket 1, buckets
# (0.5,1]: 3 and (1,2]: 1 as deltas 3, -2) with an exemplar, as client_golang writes them.
PROTOBUF_BODY = family(
    "rich_requests_total",
    COUNTER,
    label("path", "/a") + field(3, 2, double(1, 7.0) + field(2, 2, exemplar("abc", 0.5, EXEMPLAR_S))),
    help_text="Requests.",
) + family(
    "rich_latency_seconds",
    HISTOGRAM,
    label("path", "/a")
    + field(
        7,
        2,
        field(1, 0, 5)
        + double(2, 2.5)
        + field(5, 0, zigzag(0))
        + double(6, 0.001)
        + field(7, 0, 1)
        + field(12, 2, field(1, 0, zigzag(0)) + field(2, 0, 2))
        + field(13, 2, uvarint(zigzag(3)) + uvarint(zigzag(-2)))
        + field(16, 2, exemplar("def", 0.7, EXEMPLAR_S)),
    ),
    help_text="Latency.",
)
OPENMETRICS_BODY = (
    "# TYPE rich_events counter\n"
    "# HELP rich_events Events.\n"
    f'rich_events_total{{kind="x"}} 3 # {{trace_id="ghi"}} 1.0 {EXEMPLAR_S}.5\n'
    "# TYPE rich_temperature_celsius gauge\n"
    "# UNIT rich_temperature_celsius celsius\n"
    "# HELP rich_temperature_celsius Temperature.\n"
    "rich_temperature_celsius 21.5\n"
    "# EOF\n"
).encode()


@pytest.fixture
def target() -> Iterator[LocalServer]:
    routes = {"/proto": body_route(PROTOBUF_BODY, PROTOBUF), "/om": body_route(OPENMETRICS_BODY, OPENMETRICS)}
    with LocalServer(routes) as server:
        yield server


def config(path: Path, server: LocalServer, endpoints: dict[str, str]) -> Path:
    """Two jobs (protobuf with native histograms, OpenMetrics), both forwarding to every endpoint;
    `endpoints` maps a name to extra YAML of that endpoint (the URL is replaced by the run)."""
    address = server.base.removeprefix("http://")
    remote_write = "".join(
        f"  - name: {name}\n    url: http://127.0.0.1:1/replaced\n{extra}"
        for name, extra in endpoints.items()
    )
    common = f"    honor_metadata: true\n    forward_to: [{', '.join(endpoints)}]\n"
    path.write_text(
        f"remote_write:\n{remote_write}"
        "jobs:\n"
        "  - name: native\n"
        "    metrics_path: /proto\n"
        "    scrape_native_histograms: true\n"
        f"{common}"
        f"    targets: [{{__address__: '{address}'}}]\n"
        "  - name: om\n"
        "    metrics_path: /om\n"
        f"{common}"
        f"    targets: [{{__address__: '{address}'}}]\n"
    )
    return path


def test_native_histograms_and_exemplars_reach_prometheus(target: LocalServer, tmp_path: Path) -> None:
    binary = require_binary("prometheus")
    path = config(tmp_path / "rich.yaml", target, {"prometheus": HISTOGRAMS})
    promscrape = Path(sys.executable).with_name("promscrape")
    with LocalPrometheus(binary=binary, features=("native-histograms", "exemplar-storage")) as prometheus:
        run = subprocess.run(
            [
                str(promscrape),
                "local",
                "--once",
                "--config",
                str(path),
                "--remote-write",
                prometheus.write_url,
            ],
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert run.returncode == 0, f"stdout:\n{run.stdout}\nstderr:\n{run.stderr}"
        accepts = [dict(request[1])["Accept"] for request in target.requests]
        assert any(accept.startswith("application/vnd.google.protobuf") for accept in accepts)

        (histogram,) = prometheus.query("rich_latency_seconds")
        assert histogram["metric"] == {
            "__name__": "rich_latency_seconds",
            "path": "/a",
            "job": "native",
            "instance": target.base.removeprefix("http://"),
        }
        shape = histogram["histogram"][1]
        assert (shape["count"], shape["sum"]) == ("5", "2.5")
        assert [bucket[1:] for bucket in shape["buckets"]] == [
            ["-0.001", "0.001", "1"],
            ["0.5", "1", "3"],
            ["1", "2", "1"],
        ]
        (counter,) = prometheus.query("rich_requests_total")
        assert counter["value"][1] == "7"

        now = time.time()
        found = prometheus.api(
            "query_exemplars",
            {"query": '{__name__=~"rich_.+"}', "start": str(now - 600), "end": str(now + 60)},
        )
        exemplars = {
            series["seriesLabels"]["__name__"]: [
                (e["labels"], e["value"], e["timestamp"]) for e in series["exemplars"]
            ]
            for series in found
        }
        assert exemplars == {
            "rich_requests_total": [({"trace_id": "abc"}, "0.5", EXEMPLAR_S)],
            "rich_latency_seconds": [({"trace_id": "def"}, "0.7", EXEMPLAR_S)],
            "rich_events_total": [({"trace_id": "ghi"}, "1", EXEMPLAR_S + 0.5)],
        }


def test_metadata_arrives_over_1_0_and_2_0(target: LocalServer, tmp_path: Path) -> None:
    endpoints = {
        "one": HISTOGRAMS,
        "two": HISTOGRAMS + "    protobuf_message: io.prometheus.write.v2.Request\n",
    }
    path = config(tmp_path / "rich.yaml", target, endpoints)
    out, err = io.StringIO(), io.StringIO()
    run = LocalRun(LocalOptions(config=path, remote_write=None, duration_s=None), out, err)
    assert run.execute() == 0, f"{out.getvalue()}\n{err.getvalue()}"
    assert run.receiver is not None
    received = run.receiver.received
    assert received.errors == []
    # One shard per job: 1.0 sends its series and, apart, its metadata; 2.0 one request each.
    assert received.protocols == {"1.0": 4, "2.0": 2}
    families = {name: (meta.type, meta.help, meta.unit) for name, meta in received.metadata.items()}
    assert families == {
        "rich_requests_total": (1, "Requests.", ""),
        "rich_latency_seconds": (3, "Latency.", ""),
        "rich_events": (1, "Events.", ""),
        "rich_temperature_celsius": (2, "Temperature.", "celsius"),
    }
    per_series = {
        name: [(meta.type, meta.help, meta.unit) for meta in received.metadata_of(name).values()]
        for name in ("rich_events_total", "rich_temperature_celsius", "rich_latency_seconds")
    }
    assert per_series == {
        "rich_events_total": [(1, "Events.", "")],
        "rich_temperature_celsius": [(2, "Temperature.", "celsius")],
        "rich_latency_seconds": [(3, "Latency.", "")],
    }
    (histograms,) = received.histograms_of("rich_latency_seconds").values()
    assert len(histograms) == 2  # one over 1.0, one over 2.0
