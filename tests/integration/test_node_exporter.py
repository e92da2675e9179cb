"""A real node_exporter scraped by `promscrape local --once` into a real Prometheus.

Everything is a real process on loopback: Prometheus (remote-write receiver, own storage),
prometheus-node-exporter, and the installed `promscrape` console script, which runs the real
handlers against an embedded AWS. The test reads node_exporter itself with the careful parser just
before and just after the run, then checks through Prometheus's HTTP API that `up` is 1 with the
right job and instance and that exactly the node_* series node_exporter exposed arrived, with
their values wherever a value cannot have moved between the two reads.
"""

import math
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from binaries import require_binary
from promscrape import exposition
from promscrape.local.prometheus import LocalPrometheus, free_port

pytestmark = pytest.mark.integration

JOB = "node"
SeriesKey = tuple[tuple[str, str], ...]
# Gauges node_exporter 1.5 exposes that do not move while the machine runs.
STATIC_GAUGES = frozenset(
    {"node_boot_time_seconds", "node_memory_MemTotal_bytes", "node_filesystem_size_bytes"}
)
MONOTONIC_SUFFIXES = ("_bucket", "_count", "_sum")


@pytest.fixture
def prometheus() -> Iterator[LocalPrometheus]:
    with LocalPrometheus(binary=require_binary("prometheus")) as running:
        yield running


@pytest.fixture
def node_exporter(tmp_path: Path) -> Iterator[str]:
    """node_exporter on a free loopback port; yields its host:port."""
    binary = require_binary("prometheus-node-exporter")
    address = f"127.0.0.1:{free_port()}"
    log = (tmp_path / "node_exporter.log").open("wb")
    process = subprocess.Popen([binary, f"--web.listen-address={address}"], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://{address}/metrics", timeout=5) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError):
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"node_exporter did not start: {(tmp_path / 'node_exporter.log').read_text()}")
            time.sleep(0.1)
        yield address
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def read_node_series(address: str) -> tuple[dict[SeriesKey, float], dict[str, str]]:
    """node_* series of one scrape (labels sorted, `__name__` included) and each family's TYPE."""
    with urllib.request.urlopen(f"http://{address}/metrics", timeout=30) as response:
        body = response.read()
        content_type = response.headers.get("Content-Type")
    parsed = exposition.new(body, content_type).parse()
    assert parsed.error is None, parsed.error
    values: dict[SeriesKey, float] = {}
    for key, value in zip(parsed.keys, parsed.values, strict=True):
        name, labels = parsed.series[key]
        if name.startswith("node_"):
            values[tuple(sorted([("__name__", name), *labels]))] = value
    types = {family: metadata.type for family, metadata in parsed.metadata.items()}
    return values, types


def family_type(name: str, types: dict[str, str]) -> str:
    """The TYPE of the family a sample name belongs to (histogram/summary suffixes stripped)."""
    if name in types:
        return types[name]
    for suffix in MONOTONIC_SUFFIXES:
        if name.endswith(suffix) and name.removesuffix(suffix) in types:
            return types[name.removesuffix(suffix)]
    return "unknown"


def cannot_have_moved(name: str, types: dict[str, str]) -> bool:
    """Equal before and after implies equal in between: counters, classic histogram/summary
    counts, sums and buckets (while the sum only grows), info metrics, and static gauges."""
    kind = family_type(name, types)
    return (
        kind == "counter"
        or (kind in ("histogram", "summary") and name.endswith(MONOTONIC_SUFFIXES))
        or name.endswith("_info")
        or name in STATIC_GAUGES
    )


def same_value(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def test_node_exporter_through_promscrape_into_prometheus(
    prometheus: LocalPrometheus, node_exporter: str, tmp_path: Path
) -> None:
    config = tmp_path / "node.yaml"
    config.write_text(
        "remote_write:\n"
        "  - name: prometheus\n"
        "    url: http://127.0.0.1:1/replaced-by-the-command-line\n"
        "jobs:\n"
        f"  - name: {JOB}\n"
        "    scrape_interval: 15s\n"
        "    targets:\n"
        f"      - __address__: {node_exporter}\n"
        "    forward_to: [prometheus]\n"
    )
    promscrape = Path(sys.executable).with_name("promscrape")
    assert promscrape.exists(), "the console script is missing: pip install -e '.[dev]'"

    before, types = read_node_series(node_exporter)
    run = subprocess.run(
        [str(promscrape), "local", "--once", "--config", str(config), "--remote-write", prometheus.write_url],
        capture_output=True,
        text=True,
        timeout=180,
    )
    after, _ = read_node_series(node_exporter)
    assert run.returncode == 0, f"stdout:\n{run.stdout}\nstderr:\n{run.stderr}"

    up = prometheus.query("up")
    assert [(sample["metric"], sample["value"][1]) for sample in up] == [
        ({"__name__": "up", "instance": node_exporter, "job": JOB}, "1")
    ]

    arrived: dict[SeriesKey, float] = {}
    for sample in prometheus.query(f'{{__name__=~"node_.+",job="{JOB}",instance="{node_exporter}"}}'):
        labels = {k: v for k, v in sample["metric"].items() if k not in ("job", "instance")}
        arrived[tuple(sorted(labels.items()))] = float(sample["value"][1])

    # Exactly node_exporter's series (the set changes only if the machine did, between the reads).
    stable = before.keys() & after.keys()
    assert stable - arrived.keys() == set(), "series exposed by node_exporter did not arrive"
    assert arrived.keys() - (before.keys() | after.keys()) == set(), "series arrived that were never exposed"
    assert len(stable) > 100  # node_exporter exposes hundreds; an empty run must not pass

    checked = 0
    for key in stable:
        name = dict(key)["__name__"]
        if same_value(before[key], after[key]) and cannot_have_moved(name, types):
            assert same_value(arrived[key], before[key]), f"{key}: {arrived[key]} != {before[key]}"
            checked += 1
    assert checked > 10
    cpus = {dict(key)["cpu"] for key in stable if dict(key)["__name__"] == "node_cpu_seconds_total"}
    assert {dict(key)["cpu"] for key in arrived if dict(key)["__name__"] == "node_cpu_seconds_total"} == cpus
