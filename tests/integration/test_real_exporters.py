"""Real exporters scraped by `promscrape local --once` into a real VictoriaMetrics.

Pushgateway (pushed groups carry their own job and instance: `honor_labels` both ways) and the
blackbox exporter (the probed URL travels through `__param_target`, the relabeling Alloy's docs
show) are scraped by the installed `promscrape` console script; VictoriaMetrics is the
remote-write receiver and the test reads everything back through its Prometheus-compatible API.
"""

import json
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from binaries import require_binary
from promscrape.local.prometheus import free_port

pytestmark = pytest.mark.integration


@contextmanager
def serve(binary: str, args: list[str], ready_url: str, log_path: Path) -> Iterator[None]:
    """Run a server until the test ends; ready when `ready_url` answers 200."""
    log = log_path.open("wb")
    process = subprocess.Popen([require_binary(binary), *args], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(ready_url, timeout=5) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError):
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{binary} did not start: {log_path.read_text()}")
            time.sleep(0.1)
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.fixture
def victoria_metrics(tmp_path: Path) -> Iterator[str]:
    """VictoriaMetrics on a free port, answering queries about data just written; yields its URL."""
    url = f"http://127.0.0.1:{free_port()}"
    args = [
        f"-httpListenAddr={url.removeprefix('http://')}",
        f"-storageDataPath={tmp_path / 'vm'}",
        "-search.latencyOffset=0s",
        "-search.disableCache",
    ]
    with serve("victoria-metrics", args, f"{url}/health", tmp_path / "vm.log"):
        yield url


@pytest.fixture
def pushgateway(tmp_path: Path) -> Iterator[str]:
    address = f"127.0.0.1:{free_port()}"
    args = [f"--web.listen-address={address}"]
    with serve("prometheus-pushgateway", args, f"http://{address}/-/ready", tmp_path / "pg.log"):
        yield address


@pytest.fixture
def blackbox_exporter(tmp_path: Path) -> Iterator[str]:
    address = f"127.0.0.1:{free_port()}"
    config = tmp_path / "blackbox.yml"
    config.write_text("modules:\n  http_2xx:\n    prober: http\n    timeout: 5s\n")
    args = [f"--config.file={config}", f"--web.listen-address={address}"]
    with serve("prometheus-blackbox-exporter", args, f"http://{address}/-/healthy", tmp_path / "bb.log"):
        yield address


def query(victoria_metrics: str, promql: str) -> dict[tuple[tuple[str, str], ...], str]:
    """Instant query: labels (sorted, `__name__` included) -> value, once the answer is non-empty."""
    deadline = time.monotonic() + 30
    while True:
        url = f"{victoria_metrics}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
        with urllib.request.urlopen(url, timeout=10) as response:
            result = json.load(response)["data"]["result"]
        if result or time.monotonic() > deadline:
            return {tuple(sorted(sample["metric"].items())): sample["value"][1] for sample in result}
        time.sleep(0.5)


def test_pushgateway_and_blackbox_into_victoria_metrics(
    victoria_metrics: str, pushgateway: str, blackbox_exporter: str, tmp_path: Path
) -> None:
    pushed = b'some_metric{label="val1"} 42\n# TYPE another_metric gauge\nanother_metric 2398.283\n'
    push = urllib.request.Request(
        f"http://{pushgateway}/metrics/job/some_job/instance/some_instance", data=pushed, method="POST"
    )
    with urllib.request.urlopen(push, timeout=10) as response:
        assert response.status == 200
    probed = f"http://{pushgateway}/metrics"
    config = tmp_path / "exporters.yaml"
    config.write_text(
        f"""
remote_write:
  - name: vm
    url: http://127.0.0.1:1/replaced-by-the-command-line
jobs:
  - name: pushgateway
    honor_labels: true
    targets: [{{__address__: "{pushgateway}"}}]
    forward_to: [vm]
  - name: pushgateway-plain
    targets: [{{__address__: "{pushgateway}"}}]
    forward_to: [vm]
  - name: blackbox
    metrics_path: /probe
    params: {{module: [http_2xx]}}
    targets: [{{__address__: "{probed}"}}]
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: "{blackbox_exporter}"
    forward_to: [vm]
"""
    )
    promscrape = Path(sys.executable).with_name("promscrape")
    run = subprocess.run(
        [
            str(promscrape),
            "local",
            "--once",
            "--config",
            str(config),
            "--remote-write",
            f"{victoria_metrics}/api/v1/write",
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, f"stdout:\n{run.stdout}\nstderr:\n{run.stderr}"

    assert query(victoria_metrics, "up") == {
        (("__name__", "up"), ("instance", pushgateway), ("job", "pushgateway")): "1",
        (("__name__", "up"), ("instance", pushgateway), ("job", "pushgateway-plain")): "1",
        (("__name__", "up"), ("instance", probed), ("job", "blackbox")): "1",
    }
    # honor_labels: the pushed group's own job and instance win.
    assert query(victoria_metrics, 'some_metric{job="some_job"}') == {
        (
            ("__name__", "some_metric"),
            ("instance", "some_instance"),
            ("job", "some_job"),
            ("label", "val1"),
        ): "42"
    }
    # honor_labels false: the target's labels win, the scraped ones are kept as exported_*.
    assert query(victoria_metrics, 'another_metric{job="pushgateway-plain"}') == {
        (
            ("__name__", "another_metric"),
            ("exported_instance", "some_instance"),
            ("exported_job", "some_job"),
            ("instance", pushgateway),
            ("job", "pushgateway-plain"),
        ): "2398.283"
    }
    assert query(victoria_metrics, "probe_success") == {
        (("__name__", "probe_success"), ("instance", probed), ("job", "blackbox")): "1"
    }
