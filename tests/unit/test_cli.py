"""The `promscrape` command: parse (exact vectors), apply and status (against a moto server)."""

import io
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from promscrape.cli import main, sample_line_number
from promscrape.local.demo import CONTENT_TYPE, render
from promscrape.local.resources import create_resources, function_environment
from promscrape.local.runner import REGION, STACK_NAME, embedded_aws, patched_environ
from promscrape.store import Store

REPO_ROOT = Path(__file__).resolve().parents[2]


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, out, err)
    return code, out.getvalue(), err.getvalue()


def parse(tmp_path: Path, body: bytes, *options: str) -> tuple[int, str, str]:
    path = tmp_path / "exposition.txt"
    path.write_bytes(body)
    return run(["parse", *options, str(path)])


PARSE_VECTORS = [
    # labels sorted, values in Go's shortest form, timestamps kept
    (b'm{b="2",a="1"} 1\n', 'm{a="1",b="2"} 1\n'),
    (b"m 1e6\nn 1234567\no 0.1\np -0\n", "m 1e+06\nn 1.234567e+06\no 0.1\np -0\n"),
    (b"m NaN\nn +inf\no -Inf\np Infinity\n", "m NaN\nn +Inf\no -Inf\np +Inf\n"),
    (b"m 1 1700000000000\n", "m 1 1700000000000\n"),
    # escapes: \\, \" and \n unescaped and written back; an unknown escape stays literal
    (b'm{p="C:\\\\x \\"q\\"\\nz"} 1\n', 'm{p="C:\\\\x \\"q\\"\\nz"} 1\n'),
    (b'm{p="a\\zb"} 1\n', 'm{p="a\\\\zb"} 1\n'),
    # le and quantile canonical only inside histogram / summary families
    (
        b'# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="1000000"} 3\nh_bucket{le="+Inf"} 3\n',
        '# TYPE h histogram\nh_bucket{le="1.0"} 2\nh_bucket{le="1e+06"} 3\nh_bucket{le="+Inf"} 3\n',
    ),
    (b'# TYPE s summary\ns{quantile="0.5"} 1\n', '# TYPE s summary\ns{quantile="0.5"} 1\n'),
    (b'g{le="1"} 1\n', 'g{le="1"} 1\n'),
    # an empty label value is an absent label; blank lines are skipped; metadata comes first
    (b'# HELP m help\n\nm{a="",b="x"} 1\n', '# TYPE m unknown\n# HELP m help\nm{b="x"} 1\n'),
    # the same series at the same timestamp: the first sample wins, as in what Prometheus stores
    (b"m 1\nm 2\nm 3 7\nm 4\nm 5 7\nm 6 8\n", "m 1\nm 3 7\nm 6 8\n"),
    (b'a{x="1",y="2"} 1\na{y="2",x="1"} 2\n', 'a{x="1",y="2"} 1\n'),
    (b'm 1\nm{a=""} 2\n', "m 1\n"),
    (b"", ""),
]


@pytest.mark.parametrize(("body", "expected"), PARSE_VECTORS)
def test_parse_prints_samples(tmp_path: Path, body: bytes, expected: str) -> None:
    assert parse(tmp_path, body) == (0, expected, "")


PARSE_ERRORS = [
    (b"m 1\nm 1 1.5\n", "line 2: "),
    (b"m 1\r\n", "line 1: "),
    (b"# TYPE m  counter\nm 1\n", "line 1: "),
    (
        b'# comment\n\nm 1\n  {"my.metric"} 1\n',
        'line 4: invalid metric name or label names: {__name__="my.metric"}\n',
    ),
]


@pytest.mark.parametrize(("body", "expected_error"), PARSE_ERRORS)
def test_parse_errors_name_the_line(tmp_path: Path, body: bytes, expected_error: str) -> None:
    code, out, err = parse(tmp_path, body)
    assert (code, out) == (1, "")
    assert err.startswith(expected_error)
    assert len(err.splitlines()) == 1
    assert len(err) > len(expected_error) or expected_error.endswith("\n")


@pytest.mark.parametrize(
    ("content_type", "code", "stdout", "stderr"),
    [
        ("text/plain; version=0.0.4; charset=utf-8", 0, "m 1\n", ""),
        ("application/octet-stream", 0, "m 1\n", ""),
        ("application/openmetrics-text; version=1.0.0", 1, "", "line 2: data does not end with # EOF"),
    ],
)
def test_parse_content_type_picks_the_parser(
    tmp_path: Path, content_type: str, code: int, stdout: str, stderr: str
) -> None:
    result = parse(tmp_path, b"m 1\n", "--content-type", content_type)
    assert result[:2] == (code, stdout)
    assert stderr in result[2]


def test_parse_reads_standard_input(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b'x{b="1",a="2"} 3\n')))
    assert run(["parse", "-"]) == (0, 'x{a="2",b="1"} 3\n', "")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"x 1\n")))
    assert run(["parse"]) == (0, "x 1\n", "")


DEMO_METADATA = (
    "# TYPE demo_label_escaping gauge\n"
    '# HELP demo_label_escaping Label values that need escaping: a backslash (\\\\), a double quote (") '
    "and a line feed (\\n).\n"
    "# TYPE demo_queue_depth unknown\n"
    "# HELP demo_queue_depth Items waiting, a sawtooth that empties every minute.\n"
    "# TYPE demo_request_duration_seconds histogram\n"
    "# HELP demo_request_duration_seconds Time to handle a request.\n"
    "# TYPE demo_requests_total counter\n"
    "# HELP demo_requests_total Requests handled, by method, path and status code.\n"
    "# TYPE demo_response_size_bytes summary\n"
    "# HELP demo_response_size_bytes Size of the responses sent.\n"
    "# TYPE demo_start_time_seconds gauge\n"
    "# HELP demo_start_time_seconds Start time of the demo exporter, epoch seconds.\n"
    "# TYPE demo_temperature_celsius gauge\n"
    "# HELP demo_temperature_celsius Temperature by room: a sine with a ten minute period.\n"
)
DEMO_PAGE_AT_90S = (
    DEMO_METADATA
    + r"""demo_requests_total{code="200",method="GET",path="/"} 450
demo_requests_total{code="200",method="GET",path="/api/items"} 225
demo_requests_total{code="201",method="POST",path="/api/items"} 45
demo_requests_total{code="500",method="GET",path="/api/items"} 4
demo_temperature_celsius{room="kitchen"} 22.618
demo_temperature_celsius{room="cellar"} 14.363
demo_temperature_celsius{room="attic"} 25.396
demo_request_duration_seconds_bucket{le="0.005"} 72
demo_request_duration_seconds_bucket{le="0.01"} 181
demo_request_duration_seconds_bucket{le="0.025"} 362
demo_request_duration_seconds_bucket{le="0.05"} 506
demo_request_duration_seconds_bucket{le="0.1"} 615
demo_request_duration_seconds_bucket{le="0.25"} 687
demo_request_duration_seconds_bucket{le="0.5"} 709
demo_request_duration_seconds_bucket{le="1.0"} 720
demo_request_duration_seconds_bucket{le="+Inf"} 724
demo_request_duration_seconds_sum 30.408
demo_request_duration_seconds_count 724
demo_response_size_bytes{quantile="0.5"} 1428.3
demo_response_size_bytes{quantile="0.9"} 6427.1
demo_response_size_bytes{quantile="0.99"} 24994.4
demo_response_size_bytes_sum 1.5204e+06
demo_response_size_bytes_count 724
demo_label_escaping{path="C:\\Program Files\\demo",quote="say \"hi\"",text="line one\nline two"} 1
demo_queue_depth 30
demo_start_time_seconds 1.7e+09
"""
)


def test_parse_the_demo_exporter_page(tmp_path: Path) -> None:
    """Every metric type, escaping (backslash, quote, line feed) and `le` made canonical."""
    body = render(90.0, 1_700_000_000.0).encode()
    assert parse(tmp_path, body, "--content-type", CONTENT_TYPE) == (0, DEMO_PAGE_AT_90S, "")


@pytest.mark.parametrize(
    ("body", "index", "line"),
    [(b"a 1\n", 0, 1), (b"# x\n\n  a 1\n\tb 2\n", 1, 4), (b"a 1\n", 1, None), (b"#a 1\nb 1", 0, 2)],
)
def test_sample_line_number(body: bytes, index: int, line: int | None) -> None:
    assert sample_line_number(body, index) == line


@pytest.fixture
def stack_env() -> Iterator[Store]:
    """The template's tables in a moto server, with TARGETS_TABLE and STATUS_TABLE set."""
    with embedded_aws():
        session = boto3.Session(region_name=REGION)
        template = REPO_ROOT / "template.yaml"
        resources = create_resources(template, stack_name=STACK_NAME, session=session)
        environment = function_environment(
            template, "ScraperFunction", resources, stack_name=STACK_NAME, region=REGION
        )
        with patched_environ(dict(environment)):
            yield Store(
                environment["TARGETS_TABLE"], environment["STATUS_TABLE"], client=session.client("dynamodb")
            )


CONFIG = """\
remote_write:
  - name: main
    url: https://prometheus.example/api/v1/write
jobs:
  - name: node
    scrape_interval: 30s
    targets:
      - __address__: a:9100
      - __address__: b:9100
    forward_to: [main]
"""


def test_apply_loads_the_config_and_replaces_targets(stack_env: Store, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG)
    assert run(["apply", str(config)]) == (
        0,
        "1 job(s), 1 remote-write endpoint(s); targets: 2 added, 0 removed, 0 unchanged\n",
        "",
    )
    config.write_text(CONFIG.replace("b:9100", "c:9100"))
    assert run(["apply", str(config)]) == (
        0,
        "1 job(s), 1 remote-write endpoint(s); targets: 1 added, 1 removed, 1 unchanged\n",
        "",
    )
    catalog = stack_env.load_all()
    assert sorted(target["__address__"] for target in catalog.targets["node"]) == ["a:9100", "c:9100"]
    assert [job["name"] for job in catalog.jobs] == ["node"]
    assert [endpoint["url"] for endpoint in catalog.endpoints] == ["https://prometheus.example/api/v1/write"]


def test_apply_refuses_an_invalid_config(stack_env: Store, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG.replace("forward_to: [main]", "forward_to: [other]"))
    code, out, err = run(["apply", str(config)])
    assert (code, out) == (2, "")
    assert 'job "node": forward_to: no remote_write endpoint named "other"' in err


def test_status_prints_the_table(stack_env: Store) -> None:
    assert run(["status"]) == (0, "no target status recorded yet\n", "")
    stack_env.write_shard_status(
        "node/00/0",
        [
            {
                "url": "http://a:9100/metrics",
                "job": "node",
                "health": "up",
                "last_scrape_ms": 1_700_000_000_123,
                "duration_ms": 42,
                "samples": 1234,
                "error": None,
            },
            {
                "url": "http://b:9100/metrics",
                "job": "node",
                "health": "down",
                "last_scrape_ms": 1_700_000_001_000,
                "duration_ms": 3,
                "samples": 0,
                "error": "server returned HTTP status 503 Service Unavailable",
            },
        ],
        now_ms=1_700_000_002_000,
        ttl_s=10**9,
    )
    assert run(["status"]) == (
        0,
        "TARGET                 JOB   HEALTH  LAST SCRAPE               DURATION  SAMPLES  ERROR\n"
        "http://a:9100/metrics  node  up      2023-11-14 22:13:20.123Z  0.042s    1234     -\n"
        "http://b:9100/metrics  node  down    2023-11-14 22:13:21.000Z  0.003s    0        "
        "server returned HTTP status 503 Service Unavailable\n",
        "",
    )


TABLES_ORIGIN = "(the outputs TargetsTableName and StatusTableName of `sam deploy`)"


@pytest.mark.parametrize("command", [["status"], ["apply", "config.yaml"]])
@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"STATUS_TABLE": "promscrape-status"},
            f"missing environment variable(s): TARGETS_TABLE {TABLES_ORIGIN}",
        ),
        (
            {"TARGETS_TABLE": "", "STATUS_TABLE": ""},
            f"missing environment variable(s): TARGETS_TABLE, STATUS_TABLE {TABLES_ORIGIN}",
        ),
        (
            {"TARGETS_TABLE": "a b", "STATUS_TABLE": "promscrape-status"},
            "invalid environment: TARGETS_TABLE: Value error, not a DynamoDB table name: 'a b'",
        ),
    ],
)
def test_table_commands_need_the_table_names(
    monkeypatch: pytest.MonkeyPatch, command: list[str], environ: dict[str, str], message: str
) -> None:
    for name in ("TARGETS_TABLE", "STATUS_TABLE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert run(command) == (2, "", f"promscrape {command[0]}: {message}\n")


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["local", "--config", "x.yaml", "--duration", "soon"], "--duration: "),
        (
            ["local", "--config", "/nonexistent/x.yaml", "--once"],
            "promscrape local: /nonexistent/x.yaml: cannot read",
        ),
    ],
)
def test_local_refuses_bad_arguments(argv: list[str], error: str) -> None:
    code, out, err = run(argv)
    assert (code, out) == (2, "")
    assert err.startswith(error)
