"""`promscrape parse` on every format: metadata, samples, exemplars, native histograms, errors.

Expositions are the conformance files of each format and protobuf bodies built with the tiny
independent encoder of tests/protowire.py (field numbers of REFERENCE §5), so the expected lines
are exact.
"""

import gzip
import io
import struct
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from promscrape.cli import main, scraped_samples
from promscrape.exposition.model import ParseError
from protowire import double, family, label, message, sint, uint, uvarint, zigzag

TEXT = "text/plain; version=0.0.4"
OPENMETRICS = "application/openmetrics-text; version=1.0.0"
PROTOBUF = "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, out, err)
    return code, out.getvalue(), err.getvalue()


def parse(tmp_path: Path, body: bytes, content_type: str | None) -> tuple[int, str, str]:
    path = tmp_path / "exposition"
    path.write_bytes(body)
    options = [] if content_type is None else ["--content-type", content_type]
    return run(["parse", *options, str(path)])


# ---------------------------------------------------------------- protobuf bodies (tests/protowire.py)


def timestamp(field: int, seconds: int, nanos: int = 0) -> bytes:
    return message(field, uint(1, seconds), uint(2, nanos))


def exemplar(field: int, value: float, *labels: bytes) -> bytes:
    return message(field, *labels, double(2, value), timestamp(3, 1_700_000_000, 250_000_000))


def span(field: int, offset: int, length: int) -> bytes:
    return message(field, sint(1, offset), uint(2, length))


NATIVE = b"".join(
    [
        uint(1, 11),  # zero bucket 2 + negative 2, 1 + positive 1, 2, 1, 2: valid as Prometheus checks
        double(2, 12.5),
        message(3, uint(1, 4), double(2, 1.0)),
        sint(5, 0),
        double(6, 0.001),
        uint(7, 2),
        span(9, 0, 2),
        message(10, *(uvarint(zigzag(d)) for d in (2, -1))),
        span(12, 0, 2),
        span(12, 1, 2),
        message(13, *(uvarint(zigzag(d)) for d in (1, 1, -1, 1))),
        timestamp(15, 1_700_000_000, 500_000_000),
        exemplar(16, 0.7, label("trace_id", "abc")),
    ]
)
FLOAT_NATIVE = b"".join(
    [
        double(4, 6.5),
        double(2, -1.25),
        sint(5, -1),
        span(12, -1, 2),
        message(14, struct.pack("<2d", 1.5, 5.0)),
    ]
)
CLASSIC = b"".join(
    [
        uint(1, 7),
        double(2, 3.5),
        message(3, uint(1, 2), double(2, 1.0), exemplar(3, 0.5, label("id", "b1"))),
        message(3, uint(1, 5), double(2, 2.0)),
    ]
)

PROTOBUF_BODY = b"".join(
    [
        family(
            "requests_total",
            0,
            label("code", "200")
            + message(3, double(1, 42), exemplar(2, 1, label("trace_id", "x")), timestamp(3, 1_699_999_000)),
            help_text="Requests.",
        ),
        family(
            "temperature_celsius", 1, label("room", 'a "b"') + message(2, double(1, 21.5)) + uint(6, 1000)
        ),
        family(
            "latency_seconds",
            4,
            label("path", "/a") + message(7, NATIVE),
            help_text="Latency.",
            unit="seconds",
        ),
        family("depth", 5, message(7, FLOAT_NATIVE)),
        family("size_bytes", 4, message(7, CLASSIC)),
        family("rpc", 2, message(4, uint(1, 3), double(2, 0.9), message(3, double(1, 0.5), double(2, 0.25)))),
        family("plain", 3, message(5, double(1, 1e6)) + uint(6, 0)),
    ]
)

PROTOBUF_LINES = [
    "# TYPE depth gaugehistogram",
    "# TYPE latency_seconds histogram",
    "# HELP latency_seconds Latency.",
    "# UNIT latency_seconds seconds",
    "# TYPE plain unknown",
    "# TYPE requests_total counter",
    "# HELP requests_total Requests.",
    "# TYPE rpc summary",
    "# TYPE size_bytes histogram",
    "# TYPE temperature_celsius gauge",
    'requests_total{code="200"} 42 st=1699999000000',
    '  # {trace_id="x"} 1 1700000000250',
    'temperature_celsius{room="a \\"b\\""} 21.5 1000',
    'latency_seconds_count{path="/a"} 11 st=1700000000500',
    'latency_seconds_sum{path="/a"} 12.5 st=1700000000500',
    'latency_seconds_bucket{le="1.0",path="/a"} 4 st=1700000000500',
    'latency_seconds_bucket{le="+Inf",path="/a"} 11 st=1700000000500',
    "size_bytes_count 7",
    "size_bytes_sum 3.5",
    'size_bytes_bucket{le="1.0"} 2',
    '  # {id="b1"} 0.5 1700000000250',
    'size_bytes_bucket{le="2.0"} 5',
    'size_bytes_bucket{le="+Inf"} 7',
    "rpc_count 3",
    "rpc_sum 0.9",
    'rpc{quantile="0.5"} 0.25',
    "plain 1e+06",
    'latency_seconds{path="/a"} {count:11, sum:12.5, schema:0, zero_threshold:0.001, zero_count:2, '
    "[-2,-1):1, [-1,-0.5):2, [-0.001,0.001]:2, (0.5,1]:1, (1,2]:2, (4,8]:1, (8,16]:2} st=1700000000500",
    '  # {trace_id="abc"} 0.7 1700000000250',
    "depth {count:6.5, sum:-1.25, schema:-1, zero_threshold:0, zero_count:0, (0.0625,0.25]:1.5, (0.25,1]:5}",
]


def test_protobuf_every_type(tmp_path: Path) -> None:
    """Native (integer, float), classic and gauge histograms, exemplars, start timestamps, units.

    Native histograms come after the float samples; a native histogram with classic buckets is
    printed both ways (classic_histograms), its classic series in Prometheus's protobuf order.
    """
    assert parse(tmp_path, PROTOBUF_BODY, PROTOBUF) == (
        0,
        "".join(f"{line}\n" for line in PROTOBUF_LINES),
        "",
    )


def test_protobuf_from_standard_input(monkeypatch: pytest.MonkeyPatch) -> None:
    """A binary body through stdin: read as bytes, never decoded as text."""
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(PROTOBUF_BODY), encoding="ascii"))
    code, out, err = run(["parse", "--content-type", PROTOBUF, "-"])
    assert (code, out.splitlines(), err) == (0, PROTOBUF_LINES, "")


# ------------------------------------------------------------------- text and OpenMetrics

VECTORS = [
    # metadata first, families sorted, TYPE then HELP then UNIT; HELP escaped as text writes it
    (
        b"# HELP b Help \\\\ \\n here.\n# TYPE b gauge\nb 1\n# TYPE a counter\na 2\n",
        TEXT,
        ["# TYPE a counter", "# TYPE b gauge", "# HELP b Help \\\\ \\n here.", "b 1", "a 2"],
    ),
    (b'# HELP m help\n\nm{a="",b="x"} 1\n', TEXT, ["# TYPE m unknown", "# HELP m help", 'm{b="x"} 1']),
    (
        b'# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="1000000"} 3\nh_bucket{le="+Inf"} 3\n',
        None,
        ["# TYPE h histogram", 'h_bucket{le="1.0"} 2', 'h_bucket{le="1e+06"} 3', 'h_bucket{le="+Inf"} 3'],
    ),
    (b'# TYPE s summary\ns{quantile="0.5"} 1\n', TEXT, ["# TYPE s summary", 's{quantile="0.5"} 1']),
    (b"m 1\nm 2\nm 3 7\nm 4\nm 5 7\nm 6 8\n", TEXT, ["m 1", "m 3 7", "m 6 8"]),
    # OpenMetrics: unit, float-second timestamps in ms, exemplars under their sample, labels sorted
    (
        b"# TYPE a_seconds counter\n# UNIT a_seconds seconds\n# HELP a_seconds Help.\n"
        b'a_seconds_total 1 # {id="x"} 0.5 1.5\n'
        b'a_seconds_total{b="1"} 2 1.5 # {z="2",a="1"} 7\n# EOF\n',
        OPENMETRICS,
        [
            "# TYPE a_seconds counter",
            "# HELP a_seconds Help.",
            "# UNIT a_seconds seconds",
            "a_seconds_total 1",
            '  # {id="x"} 0.5 1500',
            'a_seconds_total{b="1"} 2 1500',
            '  # {a="1",z="2"} 7',
        ],
    ),
    (
        b'# TYPE s stateset\ns{s="a"} 1\ns{s="b"} 0\n# TYPE i info\ni_info{v="1"} 1\n# EOF',
        "application/openmetrics-text",
        ["# TYPE i info", "# TYPE s stateset", 's{s="a"} 1', 's{s="b"} 0', 'i_info{v="1"} 1'],
    ),
    (b"# EOF\n", OPENMETRICS, []),
    (b"", PROTOBUF, []),
]


@pytest.mark.parametrize(("body", "content_type", "lines"), VECTORS)
def test_parse_prints(tmp_path: Path, body: bytes, content_type: str | None, lines: list[str]) -> None:
    assert parse(tmp_path, body, content_type) == (0, "".join(f"{line}\n" for line in lines), "")


ERRORS = [
    (b"a 1\nb{ 1\n", TEXT, 'line 2: expected label name, got "1" ("INVALID") while parsing: "b{ 1"'),
    (
        b"# TYPE a counter\na_total 1\nb{ 1\n# EOF\n",
        OPENMETRICS,
        'line 3: expected label name, got " " ("INVALID") while parsing: "b{ "',
    ),
    (b"a_total 1\n", OPENMETRICS, "line 2: data does not end with # EOF"),
    (b"\x08\x0a\x03abc\x22\x02\x10\x01", PROTOBUF, "byte 8: unexpected EOF"),
    (b"\xff\xff\xff\xff\xff\xff", PROTOBUF, "byte 0: clientpb: invalid varint encountered"),
    # found while appending, as Prometheus does: no line to name in a binary body
    (
        family("a.b", 1, message(2, double(1, 1))),
        PROTOBUF,
        'invalid metric name or label names: {__name__="a.b"}',
    ),
    (
        b'# TYPE "a.b" gauge\n{"a.b"} 1\n',
        TEXT,
        'line 2: invalid metric name or label names: {__name__="a.b"}',
    ),
    (
        b'# TYPE a gauge\na 1\na{x="1"} 1 # {a="b"} 1\n{"a.b"} 1\n# EOF\n',
        OPENMETRICS,
        'line 4: invalid metric name or label names: {__name__="a.b"}',
    ),
]


@pytest.mark.parametrize(("body", "content_type", "message"), ERRORS)
def test_parse_errors(tmp_path: Path, body: bytes, content_type: str, message: str) -> None:
    """Exit status 1, nothing printed, the error on one line naming the line or byte offset."""
    assert parse(tmp_path, body, content_type) == (1, "", f"{message}\n")


# ---------------------------------------------------------------------- conformance files


def lines_of(conformance_dir: Path, name: str, content_type: str) -> list[str]:
    body = (conformance_dir / "prometheus" / name).read_bytes()
    if name.endswith(".gz"):
        body = gzip.decompress(body)
    code, out, err = run_on(body, content_type)
    assert (code, err) == (0, "")
    return out.splitlines()


def run_on(body: bytes, content_type: str | None) -> tuple[int, str, str]:
    try:
        return 0, "".join(f"{line}\n" for line in scraped_samples(body, content_type)), ""
    except ParseError as error:
        return 1, "", str(error)


@pytest.mark.parametrize(
    ("name", "content_type", "counts", "first_sample"),
    [
        # (metadata lines, sample lines, exemplar lines, native histogram lines)
        (
            "alltypes.237mfs.prom.txt",
            TEXT,
            (474, 1857, 0, 0),
            "go_gc_cycles_automatic_gc_cycles_total 190932",
        ),
        (
            "expfmt-text",
            TEXT,
            (74, 248, 0, 0),
            'http_request_duration_microseconds{handler="/",quantile="0.5"} 0',
        ),
        (
            "expfmt-text.gz",
            TEXT,
            (74, 248, 0, 0),
            'http_request_duration_microseconds{handler="/",quantile="0.5"} 0',
        ),
        (
            "expfmt-protobuf",
            PROTOBUF,
            (74, 248, 0, 0),
            "process_virtual_memory_bytes 5.41478912e+08",
        ),
        (
            "expfmt-protobuf.gz",
            PROTOBUF,
            (74, 248, 0, 0),
            "process_virtual_memory_bytes 5.41478912e+08",
        ),
        ("expfmt-protobuf-multimessage", PROTOBUF, (12, 6, 0, 0), 'swap_free{host="omsk"} 9.77911808e+08'),
        ("alltypes.5mfs.om.txt", OPENMETRICS, (10, 53, 6, 0), "go_build_info 1"),
        (
            "1histogram.om.txt",
            OPENMETRICS,
            (2, 42, 0, 0),
            'golang_manual_histogram_seconds_bucket{address="0.0.0.0",generation="20",le="0.005",'
            'port="5001"} 0',
        ),
    ],
)
def test_conformance_files(
    conformance_dir: Path, name: str, content_type: str, counts: tuple[int, int, int, int], first_sample: str
) -> None:
    lines = lines_of(conformance_dir, name, content_type)
    metadata = [line for line in lines if line.startswith("# ")]
    exemplars = [line for line in lines if line.startswith("  # ")]
    histograms = [line for line in lines if " {count:" in line]
    samples = [line for line in lines if not line.startswith(("# ", "  # ")) and " {count:" not in line]
    assert lines[: len(metadata)] == metadata
    assert (len(metadata), len(samples), len(exemplars), len(histograms)) == counts
    assert samples[0] == first_sample


def test_protobuf_and_text_conformance_files_print_the_same(conformance_dir: Path) -> None:
    """expfmt-protobuf and expfmt-text hold the same 37 families: the same lines, once sorted."""
    text = lines_of(conformance_dir, "expfmt-text", TEXT)
    binary = lines_of(conformance_dir, "expfmt-protobuf", PROTOBUF)
    assert sorted(binary) == sorted(text)
    assert len([line for line in text if line.startswith("# TYPE ")]) == 37


def test_protobuf_multimessage_exact(conformance_dir: Path) -> None:
    assert lines_of(conformance_dir, "expfmt-protobuf-multimessage", PROTOBUF) == [
        *[
            line
            for name, kind in [
                ("swap_free", "gauge"),
                ("swap_in", "counter"),
                ("swap_out", "counter"),
                ("swap_total", "gauge"),
                ("swap_used", "gauge"),
                ("swap_used_percent", "gauge"),
            ]
            for line in (f"# TYPE {name} {kind}", f"# HELP {name} Telegraf collected metric")
        ],
        'swap_free{host="omsk"} 9.77911808e+08',
        'swap_in{host="omsk"} 2.031616e+06',
        'swap_out{host="omsk"} 1.579008e+07',
        'swap_total{host="omsk"} 9.93185792e+08',
        'swap_used{host="omsk"} 1.5273984e+07',
        'swap_used_percent{host="omsk"} 1.5378778193395661',
    ]


def test_openmetrics_exemplars_follow_their_samples(conformance_dir: Path) -> None:
    lines = lines_of(conformance_dir, "alltypes.5mfs.om.txt", OPENMETRICS)
    at = lines.index('rpc_durations_histogram_seconds_bucket{le="-0.0002899999999999998"} 3')
    assert lines[at : at + 4] == [
        'rpc_durations_histogram_seconds_bucket{le="-0.0002899999999999998"} 3',
        '  # {dummyID="17783"} -0.0003825067330956884 1726839814223',
        'rpc_durations_histogram_seconds_bucket{le="-0.0001899999999999998"} 5',
        '  # {dummyID="84741"} -0.00020178290006788965 1726839814829',
    ]


# ------------------------------------------------------------------------- hostile bodies


@settings(max_examples=300, deadline=None)
@given(
    body=st.one_of(
        st.binary(max_size=200),
        st.lists(
            st.sampled_from([PROTOBUF_BODY[i : i + 9] for i in range(0, len(PROTOBUF_BODY), 9)]), max_size=30
        ).map(b"".join),
    ),
    content_type=st.sampled_from([TEXT, OPENMETRICS, PROTOBUF, None, "garbage"]),
)
def test_hostile_bodies_print_or_fail_with_a_parse_error(body: bytes, content_type: str | None) -> None:
    """Whatever the parser makes of a body, the command prints it or names the error."""
    code, out, err = run_on(body, content_type)
    assert (code == 0 and err == "") or (code == 1 and out == "" and err)
