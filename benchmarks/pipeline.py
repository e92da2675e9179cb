"""The scrape hot path: CPU per sample and peak memory of parse -> label -> encode -> compress.

For generated bodies of 1k, 10k and 100k series (benchmarks/payloads.py: 5 labels, ~150 bytes a
line, HELP and TYPE on every family of 48 series), plus 1k series in families of 2 (the shape of
node_exporter's output), it measures, each in a fresh subprocess so its peak RSS (VmHWM) is its
own:
  first   - the first scrape in a fresh process (one round: nothing cached, encoders compiled)
  cold    - first scrape of a target: a new SeriesCache, keys never validated before (process-wide
            tables of label entries and compiled encoders warm from the previous rounds, as in a
            warm Lambda seeing a new target of a known exporter)
  warm    - repeat scrape of the same target: the SeriesCache of the previous scrape
  client  - prometheus_client's text_string_to_metric_families alone (parse only), the reference
CPU time is time.process_time() of the best of N rounds, per sample. The pipeline is
exposition.fast.parse -> pipeline.process -> requests of 2000 samples joined and snappy-compressed
one at a time (v1.compress), as the scraper's batches are. Also: the cold start (import time of
each Lambda handler module in a fresh interpreter, best of 3) and the machine.

Run: .venv/bin/python benchmarks/pipeline.py [--quick]
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent
REPO = BENCHMARKS.parent
SIZES = ((1_000, 48), (10_000, 48), (100_000, 48), (1_000, 2))
QUICK_SIZES = ((1_000, 48),)
KINDS = ("first", "cold", "warm", "client")
TARGET_LABELS = {"instance": "10.1.2.3:8080", "job": "app"}
SCRAPE_TS_MS = 1_767_225_600_000
HANDLERS = ("functions/dispatcher/app.py", "functions/scraper/app.py")
# What Lambda's environment gives the handlers (template.yaml); no AWS call happens at import.
HANDLER_ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "TARGETS_TABLE": "promscrape-targets",
    "STATUS_TABLE": "promscrape-status",
    "SCRAPE_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/promscrape-scrape",
    "DEAD_LETTER_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/promscrape-dlq",
    "STACK_NAME": "promscrape",
    "POWERTOOLS_SERVICE_NAME": "promscrape",
}


def measure(kind: str, path: Path, rounds: int) -> dict[str, float]:
    """Run in the child process: best CPU seconds per sample over `rounds`, and the peak RSS."""
    body = path.read_bytes()
    if kind == "client":
        from prometheus_client.parser import text_string_to_metric_families

        def once() -> int:
            return sum(len(family.samples) for family in text_string_to_metric_families(body.decode()))

    else:
        from promscrape import pipeline
        from promscrape.exposition import fast
        from promscrape.remote_write import v1

        cache = pipeline.SeriesCache()

        def once() -> int:
            if kind == "cold":  # "first" runs once in a fresh process: nothing to clear
                fast.forget_keys()
                cache.clear()
            result = pipeline.process(
                fast.parse(body),
                target_labels=TARGET_LABELS,
                honor_labels=False,
                honor_timestamps=True,
                metric_relabeler=None,
                scrape_ts_ms=SCRAPE_TS_MS,
                cache=cache,
            )
            assert result.error is None, result.error
            for part in v1.split_batches(result.series):  # as the scraper's batches are
                v1.compress(b"".join(part))
            return result.samples_scraped

        if kind == "warm":
            once()
    best = float("inf")
    samples = 0
    for _ in range(rounds):
        start = time.process_time()
        samples = once()
        best = min(best, time.process_time() - start)
    return {"us_per_sample": best / samples * 1e6, "samples": samples, "peak_rss_mb": peak_rss_mb()}


def peak_rss_mb() -> float:
    """This process's peak RSS: VmHWM on Linux (ru_maxrss would count the parent's RSS at fork)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(kind: str, path: Path, rounds: int, script: str = __file__) -> dict[str, float]:
    """One measurement in a fresh interpreter: `script --child KIND PATH ROUNDS` prints it as JSON."""
    out = subprocess.run(
        [sys.executable, script, "--child", kind, str(path), str(rounds)],
        check=True,
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    return json.loads(out.stdout)


def import_time(module_path: str) -> float:
    """Seconds to import a handler module in a fresh interpreter (best of 3)."""
    directory = str(REPO / Path(module_path).parent)
    code = (
        "import sys, time; sys.path.insert(0, sys.argv[1]); start = time.perf_counter(); import app; "
        "print(time.perf_counter() - start)"
    )
    env = {**os.environ, **HANDLER_ENV}
    times = []
    for _ in range(3):
        out = subprocess.run(
            [sys.executable, "-c", code, directory],
            check=True,
            capture_output=True,
            text=True,
            cwd=REPO,
            env=env,
        )
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return min(times)


def machine() -> str:
    """CPU model, cores, Python: what the figures depend on."""
    model = platform.processor() or "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return (
        f"{model}, {os.cpu_count()} CPUs, {platform.machine()}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()} ({platform.python_implementation()})"
    )


def print_header(columns: Sequence[str]) -> None:
    """A Markdown table's header row and rule."""
    print("| " + " | ".join(columns) + " |")
    print("|" + "|".join("-" * (len(column) + 2) for column in columns) + "|")


def print_row(cells: Sequence[str], columns: Sequence[str], left: int | None = None) -> None:
    """A Markdown table row, each cell right-aligned to its column's width (column `left` left-aligned)."""
    aligned = (
        cell.ljust(len(column)) if index == left else cell.rjust(len(column))
        for index, (cell, column) in enumerate(zip(cells, columns, strict=True))
    )
    print("| " + " | ".join(aligned) + " |")


def arguments(description: str) -> argparse.ArgumentParser:
    """A benchmark script's options: `--quick`, and `--child` (the fresh interpreter of run_child)."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: 1k series, few rounds")
    parser.add_argument("--child", nargs=3, metavar=("KIND", "PATH", "ROUNDS"), help=argparse.SUPPRESS)
    return parser


def child(args: argparse.Namespace, measure: Callable[[str, Path, int], dict[str, float]]) -> bool:
    """With `--child`: one measurement printed as JSON for run_child, and True."""
    if not args.child:
        return False
    kind, path, rounds = args.child
    print(json.dumps(measure(kind, Path(path), int(rounds))))
    return True


def main() -> None:
    args = arguments(__doc__ or "").parse_args()
    if child(args, measure):
        return

    sys.path.insert(0, str(BENCHMARKS))
    import payloads

    sizes = QUICK_SIZES if args.quick else SIZES
    print(f"machine: {machine()}")
    columns = (
        "series", "/family", "body MB", "first", "cold", "warm", "client",
        "client/cold", "client/warm", "RSS cold", "RSS warm", "RSS client",
    )  # fmt: skip
    print("CPU in us per sample (time.process_time, best of N); peak RSS in MB (VmHWM)")
    print_header(columns)
    with tempfile.TemporaryDirectory() as tmp:
        for size, per_family in sizes:
            path = Path(tmp) / f"payload-{size}-{per_family}.prom"
            path.write_bytes(payloads.generate(size, per_family=per_family))
            rounds = 2 if args.quick else max(3, min(20, 300_000 // size))
            rounds_of = {"first": 1, "client": max(1, rounds // 3)}
            got = {kind: run_child(kind, path, rounds_of.get(kind, rounds)) for kind in KINDS}
            us = {kind: got[kind]["us_per_sample"] for kind in KINDS}
            rss = {kind: got[kind]["peak_rss_mb"] for kind in KINDS}
            cells = (
                f"{size}", f"{per_family}", f"{path.stat().st_size / 1e6:.1f}",
                f"{us['first']:.2f}", f"{us['cold']:.2f}", f"{us['warm']:.2f}", f"{us['client']:.2f}",
                f"{us['client'] / us['cold']:.1f}x", f"{us['client'] / us['warm']:.1f}x",
                f"{rss['cold']:.0f}", f"{rss['warm']:.0f}", f"{rss['client']:.0f}",
            )  # fmt: skip
            print_row(cells, columns)
    print()
    print("cold start (import of the handler module in a fresh interpreter, best of 3):")
    for handler in HANDLERS:
        print(f"  {handler}: {import_time(handler) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
