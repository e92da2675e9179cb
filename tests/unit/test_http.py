"""promscrape.http against real HTTP servers on 127.0.0.1: headers, gzip, limits, deadline, redirects."""

import gzip
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from promscrape import USER_AGENT
from promscrape.http import (
    FetchResult,
    ScrapeError,
    accept_header,
    fetch,
    format_timeout_seconds,
    new_pool,
    scrape_headers,
)
from pydantic import SecretStr

Route = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class LocalServer:
    """A threaded HTTP/1.1 server whose paths are plain functions; it records every request.

    Shared by the scrape and handler tests (targets and remote-write receivers); a route answering
    a POST reads the body itself (`read_body`).
    """

    routes: dict[str, Route]
    requests: list[tuple[str, list[tuple[str, str]], int]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def base(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> "LocalServer":
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                outer.requests.append((self.path, list(self.headers.items()), self.client_address[1]))
                route = outer.routes.get(path)
                if route is None:
                    self.send_error(404)
                    return
                try:
                    route(self)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            do_POST = do_GET

            def log_message(self, *args: object) -> None:
                """Quiet: the tests assert on what they need."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, args=(0.01,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.shutdown()
        self.server.server_close()


def read_body(h: BaseHTTPRequestHandler) -> bytes:
    return h.rfile.read(int(h.headers.get("Content-Length", "0")))


def body_route(body: bytes, content_type: str = "text/plain; version=0.0.4", **headers: str) -> Route:
    def route(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            h.send_header(name.replace("_", "-"), value)
        h.end_headers()
        h.wfile.write(body)

    return route


def status_route(status: int, **headers: str) -> Route:
    def route(h: BaseHTTPRequestHandler) -> None:
        h.send_response(status)
        for name, value in headers.items():
            h.send_header(name, value)
        h.send_header("Content-Length", "0")
        h.end_headers()

    return route


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


@pytest.mark.parametrize(
    ("protocols", "escaping", "expected"),
    [
        (["PrometheusText0.0.4"], "underscores", "text/plain;version=0.0.4;q=0.6,*/*;q=0.5"),
        (
            ALLOY_DEFAULT,
            "underscores",
            "application/openmetrics-text;version=1.0.0;escaping=underscores;q=0.6,"
            "application/openmetrics-text;version=0.0.1;q=0.5,"
            "text/plain;version=1.0.0;escaping=underscores;q=0.4,"
            "text/plain;version=0.0.4;q=0.3,*/*;q=0.2",
        ),
        (
            ["PrometheusText1.0.0", "PrometheusText0.0.4"],
            "allow-utf-8",
            "text/plain;version=1.0.0;escaping=allow-utf-8;q=0.6,text/plain;version=0.0.4;q=0.5,*/*;q=0.4",
        ),
        (
            ["PrometheusProto", *ALLOY_DEFAULT],
            "dots",
            "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,"
            "application/openmetrics-text;version=1.0.0;escaping=dots;q=0.5,"
            "application/openmetrics-text;version=0.0.1;q=0.4,"
            "text/plain;version=1.0.0;escaping=dots;q=0.3,"
            "text/plain;version=0.0.4;q=0.2,*/*;q=0.1",
        ),
    ],
)
def test_accept_header(protocols: list[str], escaping: str, expected: str) -> None:
    assert accept_header(protocols, escaping) == expected


@pytest.mark.parametrize(
    ("ms", "text"),
    [(10_000, "10"), (1_500, "1.5"), (250, "0.25"), (1, "0.001"), (60_000, "60"), (123_456, "123.456")],
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


def test_redirect_loop_stops_after_ten(pool) -> None:
    with LocalServer({"/loop": redirect("/loop")}) as server:
        url = f"{server.base}/loop"
        assert error_of(pool, url) == f'Get "{url}": stopped after 10 redirects'
        assert len(server.requests) == 11


def test_redirect_to_other_host_drops_authorization(pool) -> None:
    with LocalServer({"/metrics": body_route(b"up 1\n")}) as target:
        other = target.base.replace("127.0.0.1", "localhost")
        with LocalServer({"/old": redirect(f"{other}/metrics")}) as first:
            headers = default_headers()
            headers.add("Authorization", "Bearer x")
            headers.add("X-Tenant", "t")
            fetch(pool, f"{first.base}/old", headers, timeout_s=5)
        first_headers = dict(first.requests[0][1])
        target_headers = dict(target.requests[0][1])
    assert first_headers["Authorization"] == "Bearer x"
    assert "Authorization" not in target_headers
    assert target_headers["X-Tenant"] == "t"


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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
