"""Content negotiation end to end: the Accept header a job sends, the Content-Type a target answers
with, and the parser `exposition.new` picks for it (Prometheus 3's textparse.New, REFERENCE §1-2).

Targets are real HTTP servers on 127.0.0.1 (tests/http_servers.py); one of them negotiates with
prometheus_client's own choose_encoder, as a Python exporter does.
"""

import gzip
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from http_servers import LocalServer, Route
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Gauge, Info
from prometheus_client.exposition import choose_encoder
from promscrape import exposition
from promscrape.config import ScrapeJob
from promscrape.exposition import FALLBACK_MEDIA_TYPES, Exposition, Metadata, NoParser, parse_media_type
from promscrape.exposition.fast import FastTextParser
from promscrape.exposition.openmetrics import OpenMetricsParser
from promscrape.exposition.protobuf import ProtobufParser
from promscrape.http import fetch, new_pool, scrape_headers
from protowire import GAUGE, HISTOGRAM, double, family, label, message, sint, uint, uvarint, zigzag

PROTO_CT = "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"
OM_CT = "application/openmetrics-text; version=1.0.0; charset=utf-8"
TEXT_CT = "text/plain; version=0.0.4; charset=utf-8"
NO_FALLBACK = "no fallback_scrape_protocol specified for target"

# One gauge sample per format; the timestamps tell the parsers apart (OpenMetrics: float seconds).
TEXT_BODY = b'# TYPE g gauge\ng{x="1"} 2 1500\n'
OM_BODY = b'# TYPE g gauge\ng{x="1"} 2 1.5\n# EOF\n'


# g{x="1"} 2 at 1500 ms (Metric: 1 label, 2 gauge, 6 timestamp_ms).
PROTO_BODY = family("g", GAUGE, label("x", "1") + message(2, double(1, 2.0)) + uint(6, 1500))
# A histogram exposed both ways: classic buckets le=1: 1 and a native schema-0 bucket (1,2]: 1.
BOTH_HISTOGRAM = family(
    "h",
    HISTOGRAM,
    message(
        7,
        uint(1, 2)  # sample_count
        + double(2, 3.0)  # sample_sum
        + message(3, uint(1, 1) + double(2, 1.0))  # bucket: cumulative_count 1, upper_bound 1
        + sint(5, 0)  # schema
        + double(6, 0.001)  # zero_threshold
        + uint(7, 1)  # zero_count
        + message(12, sint(1, 1) + uint(2, 1))  # positive_span {offset 1, length 1}
        + message(13, uvarint(zigzag(1))),  # positive_delta [1], packed
    ),
)


def samples(result: Exposition) -> list[tuple[str, float, int | None]]:
    return list(zip(result.keys, result.values, result.timestamps, strict=True))


# ---- exposition.new: Prometheus's TestNewParser, plus every fallback protocol ----

NEW_PARSER_CASES: list[tuple[str | None, str, type, str]] = [
    # (Content-Type, scrape_fallback_protocol, parser chosen, the error without a fallback)
    (None, "", NoParser, f"non-compliant scrape target sending blank Content-Type and {NO_FALLBACK}"),
    ("", "", NoParser, f"non-compliant scrape target sending blank Content-Type and {NO_FALLBACK}"),
    (None, "PrometheusText0.0.4", FastTextParser, ""),
    (None, "PrometheusText1.0.0", FastTextParser, ""),
    (None, "OpenMetricsText0.0.1", OpenMetricsParser, ""),
    (None, "OpenMetricsText1.0.0", OpenMetricsParser, ""),
    (None, "PrometheusProto", ProtobufParser, ""),
    (
        "invalid/",
        "",
        NoParser,
        'cannot parse Content-Type "invalid/" and no fallback_scrape_protocol for target\n'
        "mime: expected token after slash",
    ),
    ("invalid/", "PrometheusText0.0.4", FastTextParser, ""),
    ("invalid/", "OpenMetricsText0.0.1", OpenMetricsParser, ""),
    ("invalid/", "PrometheusProto", ProtobufParser, ""),
    (
        "invalid/invalid/invalid",
        "",
        NoParser,
        'cannot parse Content-Type "invalid/invalid/invalid" and no fallback_scrape_protocol for target\n'
        "mime: unexpected content after media subtype",
    ),
    ("invalid/invalid/invalid", "PrometheusText1.0.0", FastTextParser, ""),
    (
        "/",
        "",
        NoParser,
        'cannot parse Content-Type "/" and no fallback_scrape_protocol for target\nmime: no media type',
    ),
    ("/", "PrometheusText1.0.0", FastTextParser, ""),
    (
        "application/openmetrics-text; charset=UTF-8; charset=utf-8",
        "",
        NoParser,
        'cannot parse Content-Type "application/openmetrics-text; charset=UTF-8; charset=utf-8" and no '
        "fallback_scrape_protocol for target\nmime: duplicate parameter name",
    ),
    (
        "application/openmetrics-text; charset=UTF-8; charset=utf-8",
        "OpenMetricsText1.0.0",
        OpenMetricsParser,
        "",
    ),
    (
        "text/plain; version",
        "",
        NoParser,
        'cannot parse Content-Type "text/plain; version" and no fallback_scrape_protocol for target\n'
        "mime: invalid media parameter",
    ),
    (
        "text",
        "",
        NoParser,
        f'received unsupported Content-Type "text" and {NO_FALLBACK}',
    ),
    (
        "text;plain",
        "",
        NoParser,
        'cannot parse Content-Type "text;plain" and no fallback_scrape_protocol for target\n'
        "mime: invalid media parameter",
    ),
    (
        "text:plain",
        "",
        NoParser,
        'cannot parse Content-Type "text:plain" and no fallback_scrape_protocol for target\n'
        "mime: expected slash after first token",
    ),
    # Go reads the header's bytes as UTF-8: a Latin-1 NBSP byte is not a space there.
    (
        "text/plain\xa0",
        "",
        NoParser,
        'cannot parse Content-Type "text/plain\\xa0" and no fallback_scrape_protocol for target\n'
        "mime: unexpected content after media subtype",
    ),
    ("application/openmetrics-text", "", OpenMetricsParser, ""),
    ("application/openmetrics-text; charset=utf-8", "", OpenMetricsParser, ""),
    ("application/openmetrics-text; version=1.0.0; charset=utf-8", "", OpenMetricsParser, ""),
    ("Application/OpenMetrics-Text;version=0.0.1", "", OpenMetricsParser, ""),
    ('application/openmetrics-text; version="1.0.0";', "", OpenMetricsParser, ""),
    ("text/plain", "", FastTextParser, ""),
    ("text/plain; version=0.0.4", "", FastTextParser, ""),
    ("TEXT/Plain ; Version=1.0.0; escaping=allow-utf-8", "", FastTextParser, ""),
    (" text/plain ", "", FastTextParser, ""),
    ("text/plain;", "", FastTextParser, ""),
    ('text/plain; a="\\"x\\""', "", FastTextParser, ""),
    ("application/vnd.google.protobuf", "", ProtobufParser, ""),
    (PROTO_CT, "OpenMetricsText1.0.0", ProtobufParser, ""),
    # The version is not looked at: a protocol the job did not ask for is still parsed.
    ("application/openmetrics-text; version=9.9.9", "PrometheusText0.0.4", OpenMetricsParser, ""),
    ("text/html", "", NoParser, f'received unsupported Content-Type "text/html" and {NO_FALLBACK}'),
    ("text/html", "PrometheusText0.0.4", FastTextParser, ""),
    ("text/html", "PrometheusProto", ProtobufParser, ""),
    (
        "application/json; charset=utf-8",
        "",
        NoParser,
        f'received unsupported Content-Type "application/json; charset=utf-8" and {NO_FALLBACK}',
    ),
    (
        'text/"plain"',
        "",
        NoParser,
        'cannot parse Content-Type "text/\\"plain\\"" and no fallback_scrape_protocol for target\n'
        "mime: expected token after slash",
    ),
]


@pytest.mark.parametrize(("content_type", "fallback", "parser", "error"), NEW_PARSER_CASES)
def test_new_picks_the_parser(content_type: str | None, fallback: str, parser: type, error: str) -> None:
    chosen = exposition.new(b"a 1\n", content_type, fallback)
    assert type(chosen) is parser
    if parser is NoParser:
        result = chosen.parse()
        assert (result.keys, str(result.error)) == ([], error)


def test_no_parser_accepts_an_empty_body() -> None:
    """Prometheus appends an empty body as an empty scrape before choosing any parser."""
    assert exposition.new(b"", None, "").parse() == Exposition()
    assert exposition.new(b"", "text/html", "").parse() == Exposition()


def test_fallback_media_types() -> None:
    assert FALLBACK_MEDIA_TYPES == {
        "PrometheusProto": "application/vnd.google.protobuf",
        "PrometheusText0.0.4": "text/plain",
        "PrometheusText1.0.0": "text/plain",
        "OpenMetricsText0.0.1": "application/openmetrics-text",
        "OpenMetricsText1.0.0": "application/openmetrics-text",
    }


def test_unknown_fallback_is_a_programming_error() -> None:
    """The job's validation rejects it first; new() refuses it rather than guess."""
    with pytest.raises(ValueError, match="unknown scrape_fallback_protocol 'PrometheusText'"):
        exposition.new(b"a 1\n", "text/plain", "PrometheusText")


@pytest.mark.parametrize(
    ("content_type", "parsed"),
    [
        ("text/plain", ("text/plain", None)),
        ("Text/Plain; Charset=UTF-8", ("text/plain", None)),
        ("\ttext/plain\u2028; a=b", ("text/plain", None)),
        ("text/pla\u0130n", ("text/plain", None)),  # Go's ToLower: U+0130 is "i"
        ("application/openmetrics-text; a=1; a=1", ("application/openmetrics-text", None)),
        ("application/openmetrics-text; a=1; A=2", ("", "mime: duplicate parameter name")),
        ('x/y; a="b', ("x/y", "mime: invalid media parameter")),
        ('x/y; a="b\\\\"', ("x/y", None)),
        ("x/y; =b", ("x/y", "mime: invalid media parameter")),
        ("x/y; a=", ("x/y", "mime: invalid media parameter")),
        ("x/y; a=b ;", ("x/y", None)),
        ("x/y;;", ("x/y", "mime: invalid media parameter")),
        ("", ("", "mime: no media type")),
        (";a=b", ("", "mime: no media type")),
        ("x/", ("", "mime: expected token after slash")),
        ("x y", ("", "mime: expected slash after first token")),
        ("x/y z", ("", "mime: unexpected content after media subtype")),
    ],
)
def test_parse_media_type_is_gos(content_type: str, parsed: tuple[str, str | None]) -> None:
    """Go's mime.ParseMediaType, reduced to the media type and its error text."""
    assert parse_media_type(content_type) == parsed


# ---- the protobuf parser gets the job's histogram arguments ----


@pytest.mark.parametrize(
    ("native", "classic", "classic_keys", "native_keys"),
    [
        (False, False, ['h_bucket{le="1.0"}', 'h_bucket{le="+Inf"}', "h_sum", "h_count"], []),
        (True, False, [], ["h"]),
        (True, True, ['h_bucket{le="1.0"}', 'h_bucket{le="+Inf"}', "h_sum", "h_count"], ["h"]),
    ],
)
def test_histogram_arguments_reach_the_protobuf_parser(
    native: bool, classic: bool, classic_keys: list[str], native_keys: list[str]
) -> None:
    result = exposition.new(
        BOTH_HISTOGRAM, PROTO_CT, native_histograms=native, classic_histograms=classic
    ).parse()
    assert result.error is None
    assert sorted(result.keys) == sorted(classic_keys)
    assert [h.key for h in result.histograms] == native_keys


# ---- over HTTP: fetch, then exposition.new on what came back ----


@pytest.fixture(scope="module")
def pool():
    return new_pool()


def answer(body: bytes, *headers: tuple[str, str]) -> Route:
    """200 with `body` and exactly these headers (none: no Content-Type at all)."""

    def route(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        for name, value in headers:
            h.send_header(name, value)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    return route


def scrape(pool: Any, route: Route, job: ScrapeJob) -> tuple[exposition.Parser, Exposition, str]:
    """Fetch as the scraper does (the job's headers), parse; (parser, result, Accept sent)."""
    headers = scrape_headers(
        protocols=job.scrape_protocols,
        enable_compression=job.enable_compression,
        timeout_ms=job.scrape_timeout,
        escaping_scheme=job.metric_name_escaping_scheme,
    )
    with LocalServer({"/metrics": route}) as server:
        response = fetch(pool, f"{server.base}/metrics", headers, timeout_s=5)
        accept = dict(server.requests[0][1])["Accept"]
    parser = exposition.new(response.body, response.content_type, job.scrape_fallback_protocol)
    return parser, parser.parse(), accept


def make_job(**arguments: Any) -> ScrapeJob:
    return ScrapeJob.model_validate({"name": "node", "forward_to": [], **arguments})


GAUGE_SAMPLE = [('g{x="1"}', 2.0, 1500)]


@pytest.mark.parametrize(
    ("route", "arguments", "parser", "expected"),
    [
        (answer(TEXT_BODY, ("Content-Type", TEXT_CT)), {}, FastTextParser, GAUGE_SAMPLE),
        (answer(OM_BODY, ("Content-Type", OM_CT)), {}, OpenMetricsParser, GAUGE_SAMPLE),
        (answer(PROTO_BODY, ("Content-Type", PROTO_CT)), {}, ProtobufParser, GAUGE_SAMPLE),
        (
            answer(gzip.compress(PROTO_BODY), ("Content-Type", PROTO_CT), ("Content-Encoding", "gzip")),
            {},
            ProtobufParser,
            GAUGE_SAMPLE,
        ),
        # No Content-Type at all: the job's fallback protocol decides.
        (answer(TEXT_BODY), {}, FastTextParser, GAUGE_SAMPLE),
        (
            answer(OM_BODY),
            {"scrape_fallback_protocol": "OpenMetricsText1.0.0"},
            OpenMetricsParser,
            GAUGE_SAMPLE,
        ),
        (answer(PROTO_BODY), {"scrape_fallback_protocol": "PrometheusProto"}, ProtobufParser, GAUGE_SAMPLE),
        # Garbage and unknown types use it too.
        (answer(TEXT_BODY, ("Content-Type", "garbage")), {}, FastTextParser, GAUGE_SAMPLE),
        (answer(TEXT_BODY, ("Content-Type", "text/plain; ;")), {}, FastTextParser, GAUGE_SAMPLE),
        (
            answer(OM_BODY, ("Content-Type", "text/html; charset=utf-8")),
            {"scrape_fallback_protocol": "OpenMetricsText0.0.1"},
            OpenMetricsParser,
            GAUGE_SAMPLE,
        ),
    ],
    ids=[
        "text",
        "openmetrics",
        "protobuf",
        "protobuf-gzip",
        "none",
        "none-om",
        "none-proto",
        "garbage",
        "bad-params",
        "html-om",
    ],
)
def test_scrape_picks_the_parser_and_reads_the_samples(
    pool: Any, route: Route, arguments: dict[str, Any], parser: type, expected: list[Any]
) -> None:
    chosen, result, _ = scrape(pool, route, make_job(**arguments))
    assert type(chosen) is parser
    assert result.error is None
    assert samples(result) == expected


@pytest.mark.parametrize(
    ("headers", "error"),
    [
        ((), f"non-compliant scrape target sending blank Content-Type and {NO_FALLBACK}"),
        (
            (("Content-Type", ""),),
            f"non-compliant scrape target sending blank Content-Type and {NO_FALLBACK}",
        ),
        (
            (("Content-Type", "garbage/"),),
            'cannot parse Content-Type "garbage/" and no fallback_scrape_protocol for target\n'
            "mime: expected token after slash",
        ),
        (
            (("Content-Type", "text/html; charset=utf-8"),),
            f'received unsupported Content-Type "text/html; charset=utf-8" and {NO_FALLBACK}',
        ),
    ],
    ids=["none", "blank", "garbage", "html"],
)
def test_without_a_fallback_the_scrape_fails(
    pool: Any, headers: tuple[tuple[str, str], ...], error: str
) -> None:
    chosen, result, _ = scrape(pool, answer(TEXT_BODY, *headers), make_job(scrape_fallback_protocol=""))
    assert type(chosen) is NoParser
    assert samples(result) == []
    assert str(result.error) == error


def test_without_a_fallback_an_empty_body_is_an_empty_scrape(pool: Any) -> None:
    chosen, result, _ = scrape(pool, answer(b""), make_job(scrape_fallback_protocol=""))
    assert type(chosen) is NoParser
    assert result == Exposition()


def test_text_parser_on_an_openmetrics_body_sent_as_text(pool: Any) -> None:
    """The media type decides, not the body: OpenMetrics sent as text/plain is read as text."""
    _, result, _ = scrape(pool, answer(OM_BODY, ("Content-Type", "text/plain")), make_job())
    assert samples(result) == []
    assert str(result.error).startswith("line 2: ")


# ---- against a real exporter's negotiation: prometheus_client's choose_encoder ----


def exporter() -> Route:
    """A Python exporter: the format its choose_encoder picks from our Accept header."""
    registry = CollectorRegistry()
    Gauge("temperature_celsius", "Room temperature", ["room"], registry=registry).labels("a").set(21.5)
    Info("build", "Build facts", registry=registry).info({"version": "1.2"})

    def route(h: BaseHTTPRequestHandler) -> None:
        encoder, content_type = choose_encoder(h.headers.get("Accept", ""))
        answer(encoder(registry), ("Content-Type", content_type))(h)

    return route


EXPORTER_SAMPLES = [('temperature_celsius{room="a"}', 21.5, None), ('build_info{version="1.2"}', 1.0, None)]
OM_DEFAULT_ACCEPT = (
    "application/openmetrics-text;version=1.0.0;escaping=underscores;q=0.6,"
    "application/openmetrics-text;version=0.0.1;q=0.5,"
    "text/plain;version=1.0.0;escaping=underscores;q=0.4,"
    "text/plain;version=0.0.4;q=0.3,*/*;q=0.2"
)


@pytest.mark.parametrize(
    ("arguments", "accept", "parser", "build_metadata"),
    [
        ({}, OM_DEFAULT_ACCEPT, OpenMetricsParser, ("build", Metadata("info", "Build facts"))),
        (
            {"scrape_protocols": ["PrometheusText1.0.0"]},
            "text/plain;version=1.0.0;escaping=underscores;q=0.6,*/*;q=0.5",
            FastTextParser,
            ("build_info", Metadata("gauge", "Build facts")),
        ),
        (
            {"scrape_protocols": ["PrometheusText0.0.4"]},
            "text/plain;version=0.0.4;q=0.6,*/*;q=0.5",
            FastTextParser,
            ("build_info", Metadata("gauge", "Build facts")),
        ),
        # The exporter has no protobuf: it answers the next format it knows.
        (
            {"scrape_protocols": ["PrometheusProto", "OpenMetricsText1.0.0"]},
            "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,"
            "application/openmetrics-text;version=1.0.0;escaping=underscores;q=0.5,*/*;q=0.4",
            OpenMetricsParser,
            ("build", Metadata("info", "Build facts")),
        ),
    ],
    ids=["default", "text-1.0.0", "text-0.0.4", "proto-first"],
)
def test_negotiation_with_a_python_exporter(
    pool: Any, arguments: dict[str, Any], accept: str, parser: type, build_metadata: tuple[str, Metadata]
) -> None:
    chosen, result, sent = scrape(pool, exporter(), make_job(**arguments))
    assert sent == accept
    assert type(chosen) is parser
    assert result.error is None
    assert samples(result) == EXPORTER_SAMPLES
    family, metadata = build_metadata
    assert result.metadata == {
        "temperature_celsius": Metadata("gauge", "Room temperature"),
        family: metadata,
    }


def test_conformance_protobuf_over_http(pool: Any, conformance_dir: Any) -> None:
    """The expfmt protobuf vector, served gzipped as a Go client_golang target serves it."""
    body = (conformance_dir / "prometheus" / "expfmt-protobuf").read_bytes()
    route = answer(gzip.compress(body), ("Content-Type", PROTO_CT), ("Content-Encoding", "gzip"))
    chosen, result, _ = scrape(pool, route, make_job())
    direct = ProtobufParser(body).parse()
    assert type(chosen) is ProtobufParser
    assert result.error is None
    assert samples(result) == samples(direct)
    assert len(result.metadata) == 37


@settings(max_examples=400, deadline=None)
@given(
    content_type=st.one_of(
        st.text(max_size=80),
        st.text(alphabet='ab/; =",\\\t\r\n\xa0\u2028\u0130', max_size=40),
        st.builds(
            lambda media, rest: media + rest,
            st.sampled_from(sorted(exposition.MEDIA_TYPES)),
            st.text(max_size=30),
        ),
    ),
    fallback=st.sampled_from(["", *FALLBACK_MEDIA_TYPES]),
)
def test_any_content_type_picks_a_parser_without_raising(content_type: str, fallback: str) -> None:
    media, error = parse_media_type(content_type)
    chosen = exposition.new(b"a 1\n", content_type, fallback)
    if error is None and media in exposition.MEDIA_TYPES:
        assert chosen.media_type == media
    elif fallback:
        assert chosen.media_type == FALLBACK_MEDIA_TYPES[fallback]
    else:
        assert type(chosen) is NoParser
        assert chosen.parse().error is not None
