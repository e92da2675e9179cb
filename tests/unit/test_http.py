"""promscrape.http against real HTTP servers on 127.0.0.1: headers, gzip, limits, deadline, redirects."""

import gzip
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest
from http_servers import LocalServer, Route, body_route, free_port, status_route, wire_route
from promscrape import USER_AGENT, config
from promscrape.config import SCRAPE_PROTOCOLS, ScrapeJob
from promscrape.http import (
    PROTOCOL_MEDIA_TYPES,
    FetchResult,
    ScrapeError,
    _is_domain_or_subdomain,
    accept_header,
    fetch,
    format_timeout_seconds,
    new_pool,
    scrape_headers,
    strip_password,
)
from pydantic import SecretStr


@pytest.fixture(scope="module")
def pool():
    return new_pool()


def default_headers(timeout_ms: int = 10_000, compression: bool = True):
    return scrape_headers(
        protocols=["PrometheusText0.0.4"], enable_compression=compression, timeout_ms=timeout_ms
    )


def get(pool, url: str, **kwargs) -> FetchResult:
    kwargs.setdefault("timeout_s", 5.0)
    return fetch(pool, url, default_headers(), **kwargs)


def error_of(pool, url: str, **kwargs) -> str:
    with pytest.raises(ScrapeError) as info:
        get(pool, url, **kwargs)
    return str(info.value)


ALLOY_DEFAULT = ["OpenMetricsText1.0.0", "OpenMetricsText0.0.1", "PrometheusText1.0.0", "PrometheusText0.0.4"]
PROTO = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"
# REFERENCE §1, byte for byte: the first entry gets q=0.6 whatever the list's length (Prometheus
# starts at len(ScrapeProtocolsHeaders)+1), only the two 1.0.0 entries carry escaping=.
ACCEPT_HEADERS = [
    (["PrometheusText0.0.4"], "underscores", "text/plain;version=0.0.4;q=0.6,*/*;q=0.5"),
    (["PrometheusText0.0.4"], "allow-utf-8", "text/plain;version=0.0.4;q=0.6,*/*;q=0.5"),
    (["OpenMetricsText0.0.1"], "dots", "application/openmetrics-text;version=0.0.1;q=0.6,*/*;q=0.5"),
    (["PrometheusProto"], "values", f"{PROTO};q=0.6,*/*;q=0.5"),
    (["PrometheusText1.0.0"], "underscores", "text/plain;version=1.0.0;escaping=underscores;q=0.6,*/*;q=0.5"),
    (["PrometheusText1.0.0"], "allow-utf-8", "text/plain;version=1.0.0;escaping=allow-utf-8;q=0.6,*/*;q=0.5"),
    (["PrometheusText1.0.0"], "dots", "text/plain;version=1.0.0;escaping=dots;q=0.6,*/*;q=0.5"),
    (["PrometheusText1.0.0"], "values", "text/plain;version=1.0.0;escaping=values;q=0.6,*/*;q=0.5"),
    (
        ["OpenMetricsText1.0.0"],
        "underscores",
        "application/openmetrics-text;version=1.0.0;escaping=underscores;q=0.6,*/*;q=0.5",
    ),
    (
        ["OpenMetricsText1.0.0"],
        "allow-utf-8",
        "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,*/*;q=0.5",
    ),
    (
        ["OpenMetricsText1.0.0"],
        "dots",
        "application/openmetrics-text;version=1.0.0;escaping=dots;q=0.6,*/*;q=0.5",
    ),
    (
        ["OpenMetricsText1.0.0"],
        "values",
        "application/openmetrics-text;version=1.0.0;escaping=values;q=0.6,*/*;q=0.5",
    ),
    # Alloy's default list under legacy validation (the REFERENCE example), utf8, and explicit schemes.
    (
        ALLOY_DEFAULT,
        "underscores",
        "application/openmetrics-text;version=1.0.0;escaping=underscores;q=0.6,"
        "application/openmetrics-text;version=0.0.1;q=0.5,"
        "text/plain;version=1.0.0;escaping=underscores;q=0.4,"
        "text/plain;version=0.0.4;q=0.3,*/*;q=0.2",
    ),
    (
        ALLOY_DEFAULT,
        "allow-utf-8",
        "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,"
        "application/openmetrics-text;version=0.0.1;q=0.5,"
        "text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,"
        "text/plain;version=0.0.4;q=0.3,*/*;q=0.2",
    ),
    (
        ALLOY_DEFAULT,
        "dots",
        "application/openmetrics-text;version=1.0.0;escaping=dots;q=0.6,"
        "application/openmetrics-text;version=0.0.1;q=0.5,"
        "text/plain;version=1.0.0;escaping=dots;q=0.4,"
        "text/plain;version=0.0.4;q=0.3,*/*;q=0.2",
    ),
    (
        ALLOY_DEFAULT,
        "values",
        "application/openmetrics-text;version=1.0.0;escaping=values;q=0.6,"
        "application/openmetrics-text;version=0.0.1;q=0.5,"
        "text/plain;version=1.0.0;escaping=values;q=0.4,"
        "text/plain;version=0.0.4;q=0.3,*/*;q=0.2",
    ),
    (
        ["PrometheusText1.0.0", "PrometheusText0.0.4"],
        "allow-utf-8",
        "text/plain;version=1.0.0;escaping=allow-utf-8;q=0.6,text/plain;version=0.0.4;q=0.5,*/*;q=0.4",
    ),
    # The proto-first list (scrape_native_histograms): five entries, `*/*` at q=0.1.
    (
        ["PrometheusProto", *ALLOY_DEFAULT],
        "dots",
        f"{PROTO};q=0.6,"
        "application/openmetrics-text;version=1.0.0;escaping=dots;q=0.5,"
        "application/openmetrics-text;version=0.0.1;q=0.4,"
        "text/plain;version=1.0.0;escaping=dots;q=0.3,"
        "text/plain;version=0.0.4;q=0.2,*/*;q=0.1",
    ),
    (
        ["PrometheusProto", *ALLOY_DEFAULT],
        "underscores",
        f"{PROTO};q=0.6,"
        "application/openmetrics-text;version=1.0.0;escaping=underscores;q=0.5,"
        "application/openmetrics-text;version=0.0.1;q=0.4,"
        "text/plain;version=1.0.0;escaping=underscores;q=0.3,"
        "text/plain;version=0.0.4;q=0.2,*/*;q=0.1",
    ),
    (
        ["PrometheusText0.0.4", "PrometheusProto"],
        "underscores",
        f"text/plain;version=0.0.4;q=0.6,{PROTO};q=0.5,*/*;q=0.4",
    ),
]


@pytest.mark.parametrize(("protocols", "escaping", "expected"), ACCEPT_HEADERS)
def test_accept_header(protocols: list[str], escaping: str, expected: str) -> None:
    assert accept_header(protocols, escaping) == expected


def test_every_scrape_protocol_has_its_media_type() -> None:
    assert PROTOCOL_MEDIA_TYPES == {
        "PrometheusProto": PROTO,
        "PrometheusText0.0.4": "text/plain;version=0.0.4",
        "PrometheusText1.0.0": "text/plain;version=1.0.0",
        "OpenMetricsText0.0.1": "application/openmetrics-text;version=0.0.1",
        "OpenMetricsText1.0.0": "application/openmetrics-text;version=1.0.0",
    }
    assert sorted(PROTOCOL_MEDIA_TYPES) == list(SCRAPE_PROTOCOLS)


@pytest.fixture
def name_schemes_implemented(monkeypatch: pytest.MonkeyPatch) -> None:
    """As once the scraper wires the name schemes: those arguments are no longer refused."""
    gated = {"metric_name_validation_scheme", "metric_name_escaping_scheme"}
    monkeypatch.setattr(
        config, "_NOT_IMPLEMENTED", tuple(n for n in config._NOT_IMPLEMENTED if n not in gated)
    )


DEFAULT_LEGACY = (
    "application/openmetrics-text;version=1.0.0;escaping=underscores;q=0.6,"
    "application/openmetrics-text;version=0.0.1;q=0.5,"
    "text/plain;version=1.0.0;escaping=underscores;q=0.4,"
    "text/plain;version=0.0.4;q=0.3,*/*;q=0.2"
)
DEFAULT_UTF8 = (
    "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,"
    "application/openmetrics-text;version=0.0.1;q=0.5,"
    "text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,"
    "text/plain;version=0.0.4;q=0.3,*/*;q=0.2"
)


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({}, DEFAULT_LEGACY),
        ({"metric_name_escaping_scheme": ""}, DEFAULT_LEGACY),
        ({"metric_name_escaping_scheme": "underscores"}, DEFAULT_LEGACY),
        # Unset (or ""), the escaping scheme follows the validation scheme, as in Alloy's Validate.
        ({"metric_name_validation_scheme": "utf8"}, DEFAULT_UTF8),
        ({"metric_name_validation_scheme": "utf8", "metric_name_escaping_scheme": ""}, DEFAULT_UTF8),
        (
            {"metric_name_validation_scheme": "utf8", "metric_name_escaping_scheme": "underscores"},
            DEFAULT_LEGACY,
        ),
        (
            {"metric_name_validation_scheme": "utf8", "metric_name_escaping_scheme": "dots"},
            "application/openmetrics-text;version=1.0.0;escaping=dots;q=0.6,"
            "application/openmetrics-text;version=0.0.1;q=0.5,"
            "text/plain;version=1.0.0;escaping=dots;q=0.4,"
            "text/plain;version=0.0.4;q=0.3,*/*;q=0.2",
        ),
        ({"scrape_protocols": ["PrometheusText0.0.4"]}, "text/plain;version=0.0.4;q=0.6,*/*;q=0.5"),
    ],
)
@pytest.mark.usefixtures("name_schemes_implemented")
def test_accept_header_of_a_job(arguments: dict[str, str], expected: str) -> None:
    """The scraper's call: the job's protocols and its (derived) escaping scheme, as Alloy sends them."""
    job = ScrapeJob.model_validate({"name": "j", "forward_to": [], **arguments})
    headers = scrape_headers(
        protocols=job.scrape_protocols,
        enable_compression=True,
        timeout_ms=10_000,
        escaping_scheme=job.metric_name_escaping_scheme,
    )
    assert headers["Accept"] == expected


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (10_000, "10"),
        (1_500, "1.5"),
        (250, "0.25"),
        (1, "0.001"),
        (60_000, "60"),
        (123_456, "123.456"),
        # Go's Duration.Seconds() rounds twice (whole seconds + nanoseconds/1e9): not the decimal.
        (1_118, "1.1179999999999999"),
        (1_128, "1.1280000000000001"),
        (86_400_000, "86400"),
    ],
)
def test_timeout_header_is_shortest_float(ms: int, text: str) -> None:
    assert format_timeout_seconds(ms) == text


@pytest.mark.parametrize(("compression", "encoding"), [(True, "gzip"), (False, "identity")])
def test_request_headers_received_exactly(pool, compression: bool, encoding: str) -> None:
    headers = scrape_headers(
        protocols=["PrometheusText0.0.4"],
        enable_compression=compression,
        timeout_ms=1_500,
        http_headers={"X-Tenant": [SecretStr("a"), SecretStr("b")], "X-Plain": ["p"]},
    )
    with LocalServer({"/metrics": body_route(b"up 1\n")}) as server:
        fetch(pool, f"{server.base}/metrics?x=1", headers, timeout_s=5)
        (path, received, _), *_ = server.requests
    assert path == "/metrics?x=1"
    assert received == [
        ("Host", server.base.removeprefix("http://")),
        ("Accept", "text/plain;version=0.0.4;q=0.6,*/*;q=0.5"),
        ("Accept-Encoding", encoding),
        ("User-Agent", USER_AGENT),
        ("X-Prometheus-Scrape-Timeout-Seconds", "1.5"),
        ("X-Tenant", "a"),
        ("X-Tenant", "b"),
        ("X-Plain", "p"),
    ]


LIMIT_ERROR = "body size limit exceeded"
PAYLOAD = b'# TYPE a counter\na_total 1\nb{x="y"} 2.5\n'


@pytest.mark.parametrize(
    ("route", "expected_body", "expected_type"),
    [
        (body_route(PAYLOAD), PAYLOAD, "text/plain; version=0.0.4"),
        (body_route(gzip.compress(PAYLOAD), Content_Encoding="gzip"), PAYLOAD, "text/plain; version=0.0.4"),
        # Two gzip members, as Go's multistream reader accepts them.
        (
            body_route(gzip.compress(PAYLOAD[:10]) + gzip.compress(PAYLOAD[10:]), Content_Encoding="gzip"),
            PAYLOAD,
            "text/plain; version=0.0.4",
        ),
        # Only gzip is decoded: anything else is handed on as sent.
        (body_route(b"\x1b\x00raw", Content_Encoding="br"), b"\x1b\x00raw", "text/plain; version=0.0.4"),
        (body_route(b"", content_type="application/openmetrics-text"), b"", "application/openmetrics-text"),
    ],
    ids=["plain", "gzip", "gzip-multimember", "brotli-untouched", "empty"],
)
def test_body_and_content_type(pool, route: Route, expected_body: bytes, expected_type: str) -> None:
    with LocalServer({"/metrics": route}) as server:
        result = get(pool, f"{server.base}/metrics")
    assert result == FetchResult(body=expected_body, content_type=expected_type)


def test_missing_content_type_is_none(pool) -> None:
    def route(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", "5")
        h.end_headers()
        h.wfile.write(b"up 1\n")

    with LocalServer({"/metrics": route}) as server:
        assert get(pool, f"{server.base}/metrics") == FetchResult(body=b"up 1\n", content_type=None)


@pytest.mark.parametrize("gzipped", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize(("size", "ok"), [(999, True), (1000, False), (5000, False)])
def test_body_size_limit_boundary(pool, gzipped: bool, size: int, ok: bool) -> None:
    body = b"#" * (size - 1) + b"\n"
    route = body_route(gzip.compress(body), Content_Encoding="gzip") if gzipped else body_route(body)
    with LocalServer({"/metrics": route}) as server:
        if ok:
            assert get(pool, f"{server.base}/metrics", body_size_limit=1000).body == body
        else:
            assert (
                error_of(pool, f"{server.base}/metrics", body_size_limit=1000) == "body size limit exceeded"
            )


def test_zero_body_size_limit_means_unlimited(pool) -> None:
    body = b"x" * 300_000
    with LocalServer({"/metrics": body_route(body)}) as server:
        assert get(pool, f"{server.base}/metrics", body_size_limit=0).body == body


ZEROS_MEMBER = gzip.compress(b"\0" * (1 << 20), compresslevel=9)  # ~1 KiB on the wire, 1 MiB inflated


def test_gzip_bomb_stops_early(pool) -> None:
    """An endless multi-member gzip of zeros: the client stops at the limit, the server cannot finish."""
    max_members = 50_000  # 50 GiB inflated, ~50 MiB on the wire: far beyond any socket buffering
    sent = [0]

    def bomb(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Encoding", "gzip")
        h.send_header("Connection", "close")
        h.end_headers()
        h.close_connection = True
        for _ in range(max_members):
            h.wfile.write(ZEROS_MEMBER)
            sent[0] += 1

    with LocalServer({"/metrics": bomb}) as server:
        assert error_of(pool, f"{server.base}/metrics", body_size_limit=4 << 20) == "body size limit exceeded"
    assert sent[0] < max_members


def test_endless_plain_body_hits_limit(pool) -> None:
    sent = [0]

    def endless(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Connection", "close")
        h.end_headers()
        h.close_connection = True
        chunk = b"a 1\n" * 4096
        for _ in range(100_000):
            h.wfile.write(chunk)
            sent[0] += 1

    with LocalServer({"/metrics": endless}) as server:
        assert error_of(pool, f"{server.base}/metrics", body_size_limit=1 << 20) == "body size limit exceeded"
    assert sent[0] < 100_000


def drip(byte_every_s: float, total: int) -> Route:
    """Headers at once, then a byte at a time: every read succeeds, only the deadline can stop it."""

    def route(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", str(total))
        h.end_headers()
        h.wfile.flush()
        for _ in range(total):
            time.sleep(byte_every_s)
            h.wfile.write(b"#")
            h.wfile.flush()

    return route


def test_slow_drip_body_times_out(pool) -> None:
    with LocalServer({"/metrics": drip(0.05, 200)}) as server:
        assert error_of(pool, f"{server.base}/metrics", timeout_s=0.3) == "context deadline exceeded"


def test_slow_drip_gzip_body_times_out(pool) -> None:
    body = gzip.compress(b"a 1\n" * 1000)

    def route(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Encoding", "gzip")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        for byte in body:
            time.sleep(0.05)
            h.wfile.write(bytes([byte]))
            h.wfile.flush()

    with LocalServer({"/metrics": route}) as server:
        assert error_of(pool, f"{server.base}/metrics", timeout_s=0.3) == "context deadline exceeded"


def test_headers_never_arrive_times_out(pool) -> None:
    release = threading.Event()

    def stall(h: BaseHTTPRequestHandler) -> None:
        release.wait(5)

    with LocalServer({"/metrics": stall}) as server:
        url = f"{server.base}/metrics"
        assert error_of(pool, url, timeout_s=0.3) == f'Get "{url}": context deadline exceeded'
        release.set()


def test_slow_drip_headers_time_out(pool) -> None:
    """Each header byte arrives well within a socket timeout: only the deadline can stop it."""

    def route(h: BaseHTTPRequestHandler) -> None:
        h.wfile.write(b"HTTP/1.1 200 OK\r\n")
        h.wfile.flush()
        for _ in range(100):
            time.sleep(0.05)
            h.wfile.write(b"X")
            h.wfile.flush()
        h.close_connection = True

    with LocalServer({"/metrics": route}) as server:
        url = f"{server.base}/metrics"
        assert error_of(pool, url, timeout_s=0.3) == f'Get "{url}": context deadline exceeded'


def test_pool_is_reusable_after_a_timeout(pool) -> None:
    with LocalServer({"/metrics": drip(0.05, 200), "/ok": body_route(b"up 1\n")}) as server:
        assert error_of(pool, f"{server.base}/metrics", timeout_s=0.2) == "context deadline exceeded"
        assert get(pool, f"{server.base}/ok").body == b"up 1\n"


def redirect(to: str, status: int = 302) -> Route:
    return status_route(status, Location=to)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirect_followed(pool, status: int) -> None:
    routes = {"/old": redirect("/metrics", status), "/metrics": body_route(b"up 1\n")}
    with LocalServer(routes) as server:
        assert get(pool, f"{server.base}/old").body == b"up 1\n"
        assert [path for path, _, _ in server.requests] == ["/old", "/metrics"]


@pytest.mark.parametrize(
    ("status", "text"), [(301, "301 Moved Permanently"), (302, "302 Found"), (307, "307 Temporary Redirect")]
)
def test_redirect_not_followed(pool, status: int, text: str) -> None:
    routes = {"/old": redirect("/metrics", status), "/metrics": body_route(b"up 1\n")}
    with LocalServer(routes) as server:
        assert (
            error_of(pool, f"{server.base}/old", follow_redirects=False)
            == f"server returned HTTP status {text}"
        )
        assert [path for path, _, _ in server.requests] == ["/old"]


def test_redirect_loop_stops_after_ten_requests(pool) -> None:
    """Go's defaultCheckRedirect: the 10th redirect fails, and the error names its raw Location."""
    with LocalServer({"/loop": redirect("/loop")}) as server:
        assert error_of(pool, f"{server.base}/loop") == 'Get "/loop": stopped after 10 redirects'
        assert len(server.requests) == 10


def test_nine_redirects_are_followed(pool) -> None:
    routes: dict[str, Route] = {f"/r{i}": redirect(f"/r{i + 1}") for i in range(9)}
    routes["/r9"] = body_route(b"up 1\n")
    with LocalServer(routes) as server:
        assert get(pool, f"{server.base}/r0").body == b"up 1\n"
        assert len(server.requests) == 10


def test_redirect_carries_referer_of_the_previous_hop(pool) -> None:
    routes = {"/a": redirect("/b?x=1"), "/b": redirect("/metrics"), "/metrics": body_route(b"up 1\n")}
    with LocalServer(routes) as server:
        get(pool, f"{server.base}/a")
        referers = [dict(headers).get("Referer") for _, headers, _ in server.requests]
    assert referers == [None, f"{server.base}/a", f"{server.base}/b?x=1"]


def test_referer_set_by_the_job_is_kept(pool) -> None:
    with LocalServer({"/a": redirect("/metrics"), "/metrics": body_route(b"up 1\n")}) as server:
        headers = default_headers()
        headers.add("Referer", "https://grafana.example/")
        fetch(pool, f"{server.base}/a", headers, timeout_s=5)
        referers = [dict(headers).get("Referer") for _, headers, _ in server.requests]
    assert referers == ["https://grafana.example/", "https://grafana.example/"]


def test_redirect_to_other_host_drops_authorization_for_good(pool) -> None:
    """127.0.0.1 -> localhost -> 127.0.0.1: once off the first host, credentials stay dropped."""
    with LocalServer({"/metrics": body_route(b"up 1\n")}) as target:
        with LocalServer({"/back": redirect(f"{target.base}/metrics")}) as other:
            elsewhere = other.base.replace("127.0.0.1", "localhost")
            with LocalServer({"/old": redirect(f"{elsewhere}/back")}) as first:
                headers = default_headers()
                headers.add("Authorization", "Bearer x")
                headers.add("X-Tenant", "t")
                fetch(pool, f"{first.base}/old", headers, timeout_s=5)
        hops = [dict(first.requests[0][1]), dict(other.requests[0][1]), dict(target.requests[0][1])]
    assert [hop.get("Authorization") for hop in hops] == ["Bearer x", None, None]
    assert [hop.get("X-Tenant") for hop in hops] == ["t", "t", "t"]


@pytest.mark.parametrize(
    ("dest", "initial", "same"),
    [
        ("example.com", "example.com", True),
        ("metrics.example.com", "example.com", True),
        ("badexample.com", "example.com", False),
        ("example.com", "metrics.example.com", False),
        ("::1", "1", False),
    ],
)
def test_domain_or_subdomain(dest: str, initial: str, same: bool) -> None:
    assert _is_domain_or_subdomain(dest, initial) is same


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://127.0.0.1:9100/metrics", "http://127.0.0.1:9100/metrics"),
        ("http://user@h:1/m", "http://user@h:1/m"),
        ("http://user:pa%40ss@h:1/m?x=1", "http://user:***@h:1/m?x=1"),
        ("https://u:@h/m", "https://u:***@h/m"),
    ],
)
def test_strip_password(url: str, shown: str) -> None:
    assert strip_password(url) == shown


@pytest.mark.parametrize(
    ("status", "text"),
    [
        (503, "server returned HTTP status 503 Service Unavailable"),
        (404, "server returned HTTP status 404 Not Found"),
        (500, "server returned HTTP status 500 Internal Server Error"),
        (204, "server returned HTTP status 204 No Content"),
    ],
)
def test_non_200_status(pool, status: int, text: str) -> None:
    with LocalServer({"/metrics": status_route(status)}) as server:
        assert error_of(pool, f"{server.base}/metrics") == text


@pytest.mark.parametrize(
    ("status_line", "text"),
    [
        (b"HTTP/1.1 503", "server returned HTTP status 503"),
        (b"HTTP/1.1 503 Backend Down", "server returned HTTP status 503 Backend Down"),
        (b"HTTP/1.1 299 Fine", "server returned HTTP status 299 Fine"),
    ],
)
def test_status_text_is_the_servers(pool, status_line: bytes, text: str) -> None:
    """Go's resp.Status is the status line as sent: no standard reason is filled in."""
    with LocalServer({"/metrics": wire_route(status_line + b"\r\nContent-Length: 0\r\n\r\n")}) as server:
        assert error_of(pool, f"{server.base}/metrics") == text


def test_connection_refused(pool) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/metrics"
    assert error_of(pool, url) == f'Get "{url}": dial tcp 127.0.0.1:{port}: connect: connection refused'


GZIP_CLOSE = ("Content-Encoding: gzip", "Connection: close")


def raw_route(payload: bytes, *headers: str) -> Route:
    def route(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        for header in headers:
            name, value = header.split(": ")
            h.send_header(name, value)
        h.end_headers()
        h.wfile.write(payload)
        h.close_connection = True

    return route


@pytest.mark.parametrize(
    ("route", "text"),
    [
        (raw_route(b"short", "Content-Length: 100"), "unexpected EOF"),
        (
            raw_route(gzip.compress(PAYLOAD)[:-6], *GZIP_CLOSE),
            "unexpected EOF",
        ),
        (
            raw_route(b"not gzip at all", *GZIP_CLOSE),
            "gzip: invalid header",
        ),
        (raw_route(b"", "Content-Encoding: gzip", "Content-Length: 0"), "EOF"),
        (
            raw_route(
                gzip.compress(PAYLOAD)[:-8] + b"\0\0\0\0" + gzip.compress(PAYLOAD)[-4:],
                "Content-Encoding: gzip",
                "Connection: close",
            ),
            "gzip: invalid checksum",
        ),
    ],
    ids=["short-plain", "truncated-gzip", "not-gzip", "empty-gzip", "bad-crc"],
)
def test_broken_bodies(pool, route: Route, text: str) -> None:
    with LocalServer({"/metrics": route}) as server:
        assert error_of(pool, f"{server.base}/metrics") == text


def test_connection_reused_across_fetches(pool) -> None:
    with LocalServer({"/metrics": body_route(b"up 1\n")}) as server:
        for _ in range(3):
            get(pool, f"{server.base}/metrics")
        ports = {port for _, _, port in server.requests}
    assert len(server.requests) == 3
    assert len(ports) == 1


def chunks(data: bytes, size: int) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def test_chunked_gzip_body(pool) -> None:
    body = b"".join(f'm{{i="{i}"}} {i}\n'.encode() for i in range(20_000))
    compressed = gzip.compress(body)

    def route(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Encoding", "gzip")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        for piece in chunks(compressed, 777):
            h.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        h.wfile.write(b"0\r\n\r\n")

    with LocalServer({"/metrics": route}) as server:
        assert get(pool, f"{server.base}/metrics", body_size_limit=len(body) + 1).body == body
