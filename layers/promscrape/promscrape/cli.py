"""The `promscrape` command: parse an exposition, apply a config, show status, run locally.

Thin on purpose: each command parses its arguments and calls a module; imports happen inside the
commands so `promscrape parse` does not pay for boto3 and moto.
"""

import argparse
import contextlib
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from botocore.client import BaseClient

    from promscrape.exposition.model import Exposition
    from promscrape.settings import Environment
    from promscrape.store import Store


def sample_line_number(body: bytes, index: int) -> int | None:
    """The line of the `index`-th sample (0-based) of a text exposition: the index-th line that is
    neither blank nor a `#` line. None when the body has fewer (raw line feeds in label values)."""
    seen = 0
    for number, line in enumerate(body.split(b"\n"), start=1):
        stripped = line.lstrip(b" \t")
        if stripped and not stripped.startswith(b"#"):
            if seen == index:
                return number
            seen += 1
    return None


def scraped_samples(body: bytes, content_type: str | None) -> list[str]:
    """The lines `promscrape parse` prints for `body`; raises ParseError when the scrape fails.

    The parser is the one a scrape answered with `content_type` would use, native and classic
    histograms both kept. Parse errors come with their line (text formats) or byte offset
    (protobuf); the errors Prometheus raises while appending (invalid metric or label names, a
    missing `__name__`) are found by running the scraper's own pipeline without target labels,
    and are given the line of the offending sample in a text format. What is printed is
    `render.render_exposition` of what Prometheus stores: a series (labels sorted, empty ones
    dropped) repeated at the same timestamp keeps its first sample, so `a{x="1",y="2"}` and
    `a{y="2",x="1"}` are one series.
    """
    from promscrape import exposition
    from promscrape.exposition.model import ParseError
    from promscrape.exposition.render import render_exposition
    from promscrape.pipeline import process

    parser = exposition.new(body, content_type, native_histograms=True, classic_histograms=True)
    parsed = parser.parse()
    if parsed.error is not None:
        raise parsed.error
    result = process(
        parsed,
        target_labels={},
        honor_labels=False,
        honor_timestamps=True,
        metric_relabeler=None,
        scrape_ts_ms=0,
        cache=None,
    )
    if result.error is not None:
        binary = getattr(parser, "media_type", None) == exposition.PROTOBUF_MEDIA_TYPE
        line = None if binary else sample_line_number(body, result.samples_scraped - 1)
        raise ParseError(result.error, line=line)
    return list(render_exposition(_first_per_timestamp(parsed)))


def _first_per_timestamp(parsed: "Exposition") -> "Exposition":
    """The samples Prometheus stores: the first of a series at one timestamp, float or histogram."""
    from promscrape.exposition.model import Exposition
    from promscrape.exposition.render import render_series

    seen: set[tuple[str, int | None]] = set()
    rendered: dict[str, str] = {}

    def first(key: str, timestamp: int | None) -> bool:
        series = rendered.get(key)
        if series is None:
            series = rendered[key] = render_series(*parsed.series[key])
        if (series, timestamp) in seen:
            return False
        seen.add((series, timestamp))
        return True

    columns = zip(parsed.keys, parsed.timestamps, strict=True)
    kept = [i for i, (key, timestamp) in enumerate(columns) if first(key, timestamp)]
    starts = parsed.start_timestamps
    return Exposition(
        keys=[parsed.keys[i] for i in kept],
        values=[parsed.values[i] for i in kept],
        timestamps=[parsed.timestamps[i] for i in kept],
        series=parsed.series,
        metadata=parsed.metadata,
        exemplars={n: parsed.exemplars[i] for n, i in enumerate(kept) if i in parsed.exemplars},
        start_timestamps={n: starts[i] for n, i in enumerate(kept) if i in starts},
        histograms=[sample for sample in parsed.histograms if first(sample.key, sample.timestamp_ms)],
    )


def _parse(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Print what the scraper would see, or the first error (nothing is ingested then)."""
    from promscrape.exposition.model import ParseError

    body = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    try:
        lines = scraped_samples(body, args.content_type)
    except ParseError as error:
        err.write(f"{error}\n")
        return 1
    out.writelines(f"{line}\n" for line in lines)
    return 0


class CommandError(Exception):
    """A command cannot run as asked; the message says what to do."""


def _environment[E: "Environment"](model: type[E]) -> E:
    """The variables `model` needs, read from os.environ; a missing or bad one is a CommandError."""
    from promscrape.settings import SettingsError

    try:
        return model.from_env()
    except SettingsError as error:
        raise CommandError(str(error)) from None


def _store() -> "Store":
    """The Store on the tables the environment names (the stack's TargetsTableName/StatusTableName)."""
    from promscrape.settings import TablesEnvironment
    from promscrape.store import Store

    tables = _environment(TablesEnvironment)
    return Store(tables.targets_table, tables.status_table)


@contextlib.contextmanager
def _aws_errors() -> Iterator[None]:
    """AWS failures (no credentials, missing table, access denied) as one line, not a traceback."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except (BotoCoreError, ClientError) as error:
        raise CommandError(str(error)) from None


def _apply(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Load a config file into the Targets table: endpoints, jobs, and each job's targets replaced."""
    from promscrape.config import ConfigError, load_config

    store = _store()
    try:
        config = load_config(Path(args.file))
    except ConfigError as error:
        raise CommandError(str(error)) from None
    with _aws_errors():
        out.write(f"{store.put_config(config)}\n")
    return 0


def _status(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """The per-target status table from the Status table."""
    from promscrape.local.runner import format_status_table

    with _aws_errors():
        out.write(format_status_table(_store().read_status()))
    return 0


def _local(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run the real handlers against an embedded AWS on this machine."""
    from promscrape.durations import parse_duration
    from promscrape.local.runner import LocalOptions, run_local

    try:
        duration_s = None if args.once else parse_duration(args.duration) / 1000
    except ValueError as error:
        err.write(f"--duration: {error}\n")
        return 2
    options = LocalOptions(
        config=Path(args.config),
        remote_write=args.remote_write,
        duration_s=duration_s,
        demo=args.demo,
    )
    return run_local(options, out=out, err=err)


def _dlq_clients() -> tuple["BaseClient", "Store", str]:
    """SQS client, Store and queue URL from DEAD_LETTER_QUEUE_URL and TARGETS_TABLE."""
    import boto3

    from promscrape.dlq import DlqEnvironment

    environment = _environment(DlqEnvironment)
    return boto3.client("sqs"), environment.store(), environment.queue_url


def _dlq_list(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """The DLQ as a table; nothing on it changes."""
    from promscrape.dlq import list_table

    with _aws_errors():
        sqs, store, queue_url = _dlq_clients()
        out.write(list_table(sqs, store, queue_url))
    return 0


def _dlq_redrive(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Replay undelivered batches to their endpoints; 1 when any could not be delivered."""
    from promscrape.dlq import RedriveOptions, redrive
    from promscrape.durations import parse_duration

    try:
        timeout_s = parse_duration(args.timeout) / 1000
    except ValueError as error:
        raise CommandError(f"--timeout: {error}") from None
    options = RedriveOptions(
        endpoint=args.endpoint,
        max_letters=args.max,
        dry_run=args.dry_run,
        discard_shards=args.discard_shards,
        timeout_s=timeout_s,
    )
    with _aws_errors():
        sqs, store, queue_url = _dlq_clients()
        report = redrive(
            sqs, store, queue_url, options, progress=lambda outcome: out.write(outcome.line() + "\n")
        )
    out.write(report.total() + "\n")
    return 1 if report.failed else 0


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, not {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="promscrape", description="Prometheus scraping as Grafana Alloy's prometheus.scrape does it."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    parse = commands.add_parser(
        "parse",
        help="print what the scraper would see in an exposition: metadata, samples, exemplars, histograms",
    )
    parse.add_argument("file", nargs="?", default="-", help="exposition file, or - for standard input")
    parse.add_argument(
        "--content-type",
        default=None,
        help="Content-Type the target would send; picks the parser (text/plain, "
        "application/openmetrics-text, application/vnd.google.protobuf; anything else is read as "
        "Prometheus text)",
    )
    parse.set_defaults(run=_parse)

    apply = commands.add_parser("apply", help="load a config file (jobs, targets, endpoints) into DynamoDB")
    apply.add_argument("file", help="YAML config file")
    apply.set_defaults(run=_apply)

    status = commands.add_parser("status", help="print the status of every target")
    status.set_defaults(run=_status)

    local = commands.add_parser("local", help="run the real handlers on this machine against embedded AWS")
    local.add_argument("--config", required=True, help="YAML config file")
    local.add_argument(
        "--remote-write", metavar="URL", help="send to this URL instead of the file's endpoints"
    )
    when = local.add_mutually_exclusive_group()
    when.add_argument("--duration", default="3m", help="how long to run, e.g. 90s or 3m (default 3m)")
    when.add_argument("--once", action="store_true", help="scrape every target once, now, and exit")
    local.add_argument(
        "--demo",
        action="store_true",
        help="also start the demo exporter and, if installed, a local Prometheus",
    )
    local.set_defaults(run=_local)

    dlq = commands.add_parser("dlq", help="show or replay the dead-letter queue")
    dlq_commands = dlq.add_subparsers(dest="dlq_command", required=True)
    dlq_list = dlq_commands.add_parser("list", help="print the dead-letter queue without changing it")
    dlq_list.set_defaults(run=_dlq_list)
    dlq_redrive = dlq_commands.add_parser(
        "redrive", help="send undelivered remote-write batches again; delete each after a 2xx"
    )
    dlq_redrive.add_argument("--endpoint", metavar="NAME", help="only the batches of this endpoint")
    dlq_redrive.add_argument("--max", metavar="N", type=_positive_int, help="replay at most N batches")
    dlq_redrive.add_argument("--dry-run", action="store_true", help="say what would be done, send nothing")
    dlq_redrive.add_argument(
        "--discard-shards",
        action="store_true",
        help="delete failed shard messages (a late scrape is worthless, so they are never replayed)",
    )
    dlq_redrive.add_argument("--timeout", default="30s", help="time to deliver one batch, retries included")
    dlq_redrive.set_defaults(run=_dlq_redrive)
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    out = out or sys.stdout
    err = err or sys.stderr
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args, out, err))
    except BrokenPipeError:
        return 0
    except CommandError as error:
        err.write(f"promscrape {args.command}: {error}\n")
        return 2
    except OSError as error:
        err.write(f"promscrape {args.command}: {error}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
