"""The exposition parsers: CPU per sample and peak memory of OpenMetrics and protobuf parsing.

For the payloads of benchmarks/payloads.py at 1k, 10k and 100k series (families of 48, 5 labels a
series, counters, gauges and classic histograms) written as OpenMetrics text
(`generate_openmetrics`) and as delimited protobuf (`generate_protobuf`, client_golang's shape),
it measures, each in a fresh subprocess so its peak RSS (VmHWM) is its own:
  om       - promscrape's OpenMetrics parser (`OpenMetricsParser(body).parse()`) on the OM body
  om-lazy  - the same, `parse()` alone (see below)
  pb       - promscrape's protobuf parser (`ProtobufParser(body).parse()`) on the protobuf body
  client   - prometheus_client's OpenMetrics parser (`text_string_to_metric_families`, the
             reference) on the same OM body, decoded from bytes as the others get them
A round is one whole parse that leaves every sample's metric name and labels in hand: promscrape's
parsers may resolve `Exposition.series` lazily (the pipeline asks only for keys its per-target
cache lacks), so an `om`/`pb` round reads every entry, the work prometheus_client always does;
`om-lazy` shows what a repeat scrape, whose keys the cache knows, pays. `1st` is the first round
in the fresh process (the parsers' bounded memos empty, as for a new target in a new Lambda),
`best` the best of N rounds of the same body (memos warm, a repeat scrape). CPU is
time.process_time(), per sample that parser gave. Ratios are prometheus_client's best against
ours; the bar is 10x at 100k series, for `om` and `pb`.

`--profile KIND` prints where the time of a first round goes (cProfile) instead.

Run: .venv/bin/python benchmarks/parsers.py [--quick] [--profile KIND]
"""

import cProfile
import pstats
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

import payloads
from pipeline import arguments, child, machine, peak_rss_mb, print_header, print_row, run_child

SIZES = (1_000, 10_000, 100_000)
QUICK_SIZES = (1_000,)
PARSERS = {
    "om": "promscrape OpenMetrics",
    "om-lazy": "promscrape OpenMetrics, parse() alone",
    "pb": "promscrape protobuf",
    "client": "prometheus_client OpenMetrics",
}
BODY_OF = {"om": "om", "om-lazy": "om", "pb": "pb", "client": "om"}
BAR = 10.0
BAR_SERIES = 100_000
BAR_KINDS = ("om", "pb")


def parse_once(kind: str) -> Callable[[bytes], int]:
    """The round of `kind`: parse a body (and, but for om-lazy, resolve every series); the samples."""
    if kind == "client":
        from prometheus_client.openmetrics.parser import text_string_to_metric_families

        def client(body: bytes) -> int:
            return sum(len(family.samples) for family in text_string_to_metric_families(body.decode()))

        return client

    if kind == "pb":
        from promscrape.exposition.protobuf import ProtobufParser as parser
    else:
        from promscrape.exposition.openmetrics import OpenMetricsParser as parser
    resolve = kind != "om-lazy"

    def ours(body: bytes) -> int:
        exposition = parser(body).parse()
        if exposition.error is not None:
            raise RuntimeError(f"{kind} parser rejected the payload: {exposition.error}")
        if resolve:
            deque(exposition.series.values(), maxlen=0)  # every (name, labels), consumed at C speed
        return len(exposition.values)

    return ours


def measure(kind: str, path: Path, rounds: int) -> dict[str, float]:
    """Run in the child process: the first round's and the best round's CPU per sample, peak RSS."""
    body = path.read_bytes()
    once = parse_once(kind)
    times = []
    samples = 0
    for _ in range(rounds):
        start = time.process_time()
        samples = once(body)
        times.append(time.process_time() - start)
    return {
        "first_us": times[0] / samples * 1e6,
        "best_us": min(times) / samples * 1e6,
        "samples": samples,
        "peak_rss_mb": peak_rss_mb(),
    }


def write_bodies(directory: Path, size: int) -> dict[str, Path]:
    """The OM and protobuf payloads of `size` series as files the children read."""
    paths = {"om": directory / f"payload-{size}.om.txt", "pb": directory / f"payload-{size}.pb"}
    paths["om"].write_bytes(payloads.generate_openmetrics(size))
    paths["pb"].write_bytes(payloads.generate_protobuf(size))
    return paths


def profile(kind: str, size: int, top: int = 20) -> None:
    """cProfile of a first round on `size` series in this process (nothing parsed before)."""
    with tempfile.TemporaryDirectory() as tmp:
        body = write_bodies(Path(tmp), size)[BODY_OF[kind]].read_bytes()
    once = parse_once(kind)
    profiler = cProfile.Profile(time.process_time)
    samples = profiler.runcall(once, body)
    print(f"{kind}: first round on {size} series, {samples} samples; top {top} by own time:")
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(top)


def main() -> None:
    parser = arguments(__doc__ or "")
    parser.add_argument("--profile", choices=tuple(PARSERS), help="profile one parser's first round instead")
    args = parser.parse_args()
    if child(args, measure):
        return
    if args.profile:
        profile(args.profile, QUICK_SIZES[-1] if args.quick else BAR_SERIES)
        return

    sizes = QUICK_SIZES if args.quick else SIZES
    width = max(len(name) for name in PARSERS.values())
    print(f"machine: {machine()}")
    columns = ("series", "parser".ljust(width), "body MB", "samples", "us 1st", "us best", "client/1st",
               "client/best", "peak RSS MB")  # fmt: skip
    print("CPU in us per sample (time.process_time: 1st round, best of N); peak RSS in MB (VmHWM)")
    print_header(columns)
    verdicts = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            paths = write_bodies(Path(tmp), size)
            rounds = 2 if args.quick else max(3, min(20, 300_000 // size))
            rounds_of = {"client": max(1, rounds // 3)}
            got = {
                kind: run_child(kind, paths[BODY_OF[kind]], rounds_of.get(kind, rounds), __file__)
                for kind in PARSERS
            }
            if len({int(result["samples"]) for result in got.values()}) != 1:
                raise RuntimeError(f"the parsers disagree on the samples of {size} series: {got}")
            client = got["client"]["best_us"]
            for kind, result in got.items():
                cells = (
                    f"{size}", PARSERS[kind], f"{paths[BODY_OF[kind]].stat().st_size / 1e6:.1f}",
                    f"{int(result['samples'])}", f"{result['first_us']:.2f}", f"{result['best_us']:.2f}",
                    f"{client / result['first_us']:.1f}x", f"{client / result['best_us']:.1f}x",
                    f"{result['peak_rss_mb']:.0f}",
                )  # fmt: skip
                print_row(cells, columns, left=1)
            if size == BAR_SERIES:
                verdicts = [
                    f"{kind} {which} {client / got[kind][f'{key}_us']:.1f}x "
                    + ("meets" if client / got[kind][f"{key}_us"] >= BAR else "MISSES")
                    for kind in BAR_KINDS
                    for which, key in (("1st", "first"), ("best", "best"))
                ]
    print()
    if verdicts:
        print(f"bar ({BAR:.0f}x prometheus_client at {BAR_SERIES} series): " + "; ".join(verdicts))
    else:
        print(f"bar ({BAR:.0f}x prometheus_client) is judged at {BAR_SERIES} series: not run with --quick")


if __name__ == "__main__":
    main()
