"""Real HTTP servers on 127.0.0.1 for the tests: scrape targets and remote-write receivers.

Every test that needs a peer talks to one of these over a socket (never a mock of urllib3), so
what is asserted is what went over the wire.
"""

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from promscrape.remote_write.decode import decode_write_request

Route = Callable[[BaseHTTPRequestHandler], None]
Series = tuple[tuple[str, str], ...]


@dataclass
class LocalServer:
    """A threaded HTTP/1.1 server whose paths are plain functions; it records every request.

    `requests` holds (path with query, headers in wire order, client port) per request; a route
    answering a POST reads the body itself (`read_body`).
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
    """200 with `body`; keyword headers use `_` for `-` (Content_Encoding="gzip")."""

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
    """`status` with an empty body and the given headers (names as given)."""

    def route(h: BaseHTTPRequestHandler) -> None:
        h.send_response(status)
        for name, value in headers.items():
            h.send_header(name, value)
        h.send_header("Content-Length", "0")
        h.end_headers()

    return route


def wire_route(payload: bytes) -> Route:
    """Writes `payload` as the whole response, status line included, then closes the connection."""

    def route(h: BaseHTTPRequestHandler) -> None:
        h.wfile.write(payload)
        h.wfile.flush()
        h.close_connection = True

    return route


def free_port() -> int:
    """A loopback port nobody listens on (a refused connection)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Reply:
    """One scripted answer of a Recorder."""

    status: int = 204
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


@dataclass
class Received:
    """One request a Recorder got: its headers by name and its body."""

    headers: dict[str, str]
    body: bytes


class Recorder:
    """A route answering each request with the next scripted reply (the last one repeats).

    It records every request's headers and body: a remote-write receiver whose answers a test
    chooses (204s, 500s, 429 with Retry-After, a slow reply).
    """

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies) or [Reply()]
        self.received: list[Received] = []
        self._lock = threading.Lock()

    def script(self, *replies: Reply) -> None:
        self.replies = list(replies)

    def __call__(self, h: BaseHTTPRequestHandler) -> None:
        body = read_body(h)
        with self._lock:
            self.received.append(Received(dict(h.headers.items()), body))
            reply = self.replies[min(len(self.received), len(self.replies)) - 1]
        if reply.delay_s:
            time.sleep(reply.delay_s)
        h.send_response(reply.status)
        for name, value in reply.headers.items():
            h.send_header(name, value)
        h.send_header("Content-Length", str(len(reply.body)))
        h.end_headers()
        h.wfile.write(reply.body)

    def samples(self) -> list[tuple[Series, float, int]]:
        """Every sample received, decoded independently: (sorted labels, value, timestamp), sorted."""
        return sorted(
            (tuple(sorted(series.labels)), sample.value, sample.timestamp)
            for received in self.received
            for series in decode_write_request(received.body)
            for sample in series.samples
        )
