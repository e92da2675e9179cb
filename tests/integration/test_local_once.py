"""`promscrape local --once` end to end: real handlers, embedded AWS, real HTTP on loopback.

The demo exporter is scraped into the built-in receiver (checked series by series), a refusing
endpoint makes the run dead-letter and fail, and `--demo` runs the `make run` configuration.
"""

import io
import subprocess
import sys
from pathlib import Path

import pytest
from binaries import require_binary
from promscrape import exposition
from promscrape.local.demo import CONTENT_TYPE, DemoExporter
from promscrape.local.receiver import Receiver
from promscrape.local.runner import LocalOptions, LocalRun

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
REPORT_METRICS = {
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
}


def run_once(config: Path, remote_write: str | None = None) -> tuple[int, str, str, LocalRun]:
    out, err = io.StringIO(), io.StringIO()
    run = LocalRun(LocalOptions(config=config, remote_write=remote_write, duration_s=None), out, err)
    return run.execute(), out.getvalue(), err.getvalue(), run


def test_once_into_the_builtin_receiver(tmp_path: Path) -> None:
    config = tmp_path / "demo.yaml"
    with DemoExporter() as demo:
        config.write_text(
            f"jobs:\n  - name: demo\n    targets:\n      - __address__: {demo.address}\n        env: test\n"
        )
        code, out, err, run = run_once(config)
        page = exposition.new(demo.page().encode(), CONTENT_TYPE).parse()
    assert code == 0, f"{out}\n{err}"
    assert run.receiver is not None
    received = run.receiver.received
    assert received.errors == []

    target = (("env", "test"), ("instance", demo.address), ("job", "demo"))
    expected = {
        tuple(sorted([("__name__", name), *labels, *target]))
        for name, labels in map(page.series.get, page.keys)
    }
    scraped = {key for key in received.series if dict(key)["__name__"] not in REPORT_METRICS}
    assert scraped == expected
    assert all(len(samples) == 1 for samples in received.series.values())
    assert received.samples == len(page.keys) + len(REPORT_METRICS)

    assert received.latest("up") == {target: 1.0}
    assert received.latest("scrape_samples_scraped") == {target: float(len(page.keys))}
    assert received.latest("scrape_samples_post_metric_relabeling") == {target: float(len(page.keys))}
    escaping = received.latest("demo_label_escaping")
    assert escaping == {
        tuple(
            sorted(
                [
                    ("path", "C:\\Program Files\\demo"),
                    ("quote", 'say "hi"'),
                    ("text", "line one\nline two"),
                    *target,
                ]
            )
        ): 1.0
    }
    assert received.latest("demo_start_time_seconds") == {target: round(demo.start_time_s, 3)}

    status_lines = [line.split() for line in out.splitlines() if line.startswith(f"http://{demo.address}/")]
    assert [line[:3] for line in status_lines] == [[f"http://{demo.address}/metrics", "demo", "up"]]
    assert "1 of 1 planned scrape(s) done" in out


def test_once_fails_when_samples_are_not_delivered(tmp_path: Path) -> None:
    """An endpoint answering 404 is not retried: the batch is dead-lettered and the run fails."""
    config = tmp_path / "demo.yaml"
    with DemoExporter() as demo, Receiver() as receiver:
        config.write_text(f"jobs:\n  - name: demo\n    targets:\n      - __address__: {demo.address}\n")
        refusing = receiver.url.replace("/api/v1/write", "/not-the-write-path")
        code, out, err, _ = run_once(config, remote_write=refusing)
    assert code == 1, f"{out}\n{err}"
    assert "problem: dead-letter queue: " in err
    assert "sample(s) not delivered to local: server returned HTTP status 404" in err


def test_make_run_configuration_once_with_demo() -> None:
    """examples/demo.yaml with --demo: both jobs scrape the demo exporter (into Prometheus if installed)."""
    promscrape = Path(sys.executable).with_name("promscrape")
    run = subprocess.run(
        [str(promscrape), "local", "--once", "--demo", "--config", str(REPO_ROOT / "examples" / "demo.yaml")],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=REPO_ROOT,
    )
    assert run.returncode == 0, f"stdout:\n{run.stdout}\nstderr:\n{run.stderr}"
    rows = [line.split() for line in run.stdout.splitlines() if line.startswith("http://127.0.0.1:")]
    assert sorted(row[1:3] for row in rows) == [["demo", "up"], ["demo-filtered", "up"]]
    assert "2 of 2 planned scrape(s) done" in run.stdout
    require_binary("prometheus")
    assert "Prometheus at http://127.0.0.1:" in run.stdout
    assert "graph: http://127.0.0.1:" in run.stdout
