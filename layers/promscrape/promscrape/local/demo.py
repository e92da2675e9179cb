"""A demo exporter for `promscrape local --demo`: every metric type, escaping, moving values.

Values are a pure function of the time since start, so counters only grow, two scrapes at the same
moment agree, and the page can be tested without a server.
"""

import gzip
import math
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# (method, path, code, requests per second)
_REQUEST_RATES: tuple[tuple[str, str, str, float], ...] = (
    ("GET", "/", "200", 5.0),
    ("GET", "/api/items", "200", 2.5),
    ("POST", "/api/items", "201", 0.5),
    ("GET", "/api/items", "500", 0.05),
)
_ROOMS: tuple[tuple[str, float], ...] = (("kitchen", 21.0), ("cellar", 12.5), ("attic", 25.0))
# Share of requests whose duration is at most each bound (cumulative, ends at +Inf).
_DURATION_BUCKETS: tuple[tuple[str, float], ...] = (
    ("0.005", 0.10),
    ("0.01", 0.25),
    ("0.025", 0.50),
    ("0.05", 0.70),
    ("0.1", 0.85),
    ("0.25", 0.95),
    ("0.5", 0.98),
    ("1", 0.995),
    ("+Inf", 1.0),
)
_MEAN_DURATION_S = 0.042
_QUANTILES: tuple[tuple[str, float], ...] = (("0.5", 1200.0), ("0.9", 5400.0), ("0.99", 21000.0))
_MEAN_SIZE_BYTES = 2100.0


def escape_label_value(value: str) -> str:
    """Text format escaping of a label value: backslash, double quote, line feed."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def escape_help(text: str) -> str:
    """Text format escaping of HELP text: backslash and line feed only."""
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _labels(pairs: tuple[tuple[str, str], ...]) -> str:
    return "{" + ",".join(f'{name}="{escape_label_value(value)}"' for name, value in pairs) + "}"


def _family(lines: list[str], name: str, kind: str, help_text: str) -> None:
    lines.append(f"# HELP {name} {escape_help(help_text)}")
    lines.append(f"# TYPE {name} {kind}")


def render(elapsed_s: float, start_time_s: float) -> str:
    """The exposition `elapsed_s` seconds after a start at `start_time_s` (epoch seconds)."""
    elapsed_s = max(elapsed_s, 0.0)
    lines: list[str] = []

    _family(lines, "demo_requests_total", "counter", "Requests handled, by method, path and status code.")
    for method, path, code, rate in _REQUEST_RATES:
        labels = _labels((("method", method), ("path", path), ("code", code)))
        lines.append(f"demo_requests_total{labels} {math.floor(rate * elapsed_s)}")

    _family(
        lines, "demo_temperature_celsius", "gauge", "Temperature by room: a sine with a ten minute period."
    )
    for index, (room, base) in enumerate(_ROOMS):
        value = base + 2.0 * math.sin(2 * math.pi * elapsed_s / 600 + index)
        lines.append(f"demo_temperature_celsius{_labels((('room', room),))} {value:.3f}")

    requests = math.floor(sum(rate for _, _, _, rate in _REQUEST_RATES) * elapsed_s)
    _family(lines, "demo_request_duration_seconds", "histogram", "Time to handle a request.")
    for bound, share in _DURATION_BUCKETS:
        lines.append(
            f"demo_request_duration_seconds_bucket{_labels((('le', bound),))} {math.floor(requests * share)}"
        )
    lines.append(f"demo_request_duration_seconds_sum {requests * _MEAN_DURATION_S:.6f}")
    lines.append(f"demo_request_duration_seconds_count {requests}")

    _family(lines, "demo_response_size_bytes", "summary", "Size of the responses sent.")
    swing = 1.0 + 0.2 * math.sin(2 * math.pi * elapsed_s / 300)
    for quantile, size in _QUANTILES:
        lines.append(f"demo_response_size_bytes{_labels((('quantile', quantile),))} {size * swing:.1f}")
    lines.append(f"demo_response_size_bytes_sum {requests * _MEAN_SIZE_BYTES:.1f}")
    lines.append(f"demo_response_size_bytes_count {requests}")

    _family(
        lines,
        "demo_label_escaping",
        "gauge",
        'Label values that need escaping: a backslash (\\), a double quote (") and a line feed (\n).',
    )
    escaped = (("path", "C:\\Program Files\\demo"), ("quote", 'say "hi"'), ("text", "line one\nline two"))
    lines.append(f"demo_label_escaping{_labels(escaped)} 1")

    _family(lines, "demo_queue_depth", "untyped", "Items waiting, a sawtooth that empties every minute.")
    lines.append(f"demo_queue_depth {math.floor(elapsed_s) % 60}")

    _family(lines, "demo_start_time_seconds", "gauge", "Start time of the demo exporter, epoch seconds.")
    lines.append(f"demo_start_time_seconds {start_time_s:.3f}")
    return "\n".join(lines) + "\n"


class DemoExporter:
    """The demo exporter on a loopback port, served from a daemon thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.start_time_s = time.time()
        self._start_monotonic = time.monotonic()
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.split("?", 1)[0] != "/metrics":
                    self.send_error(404, "try /metrics")
                    return
                body = exporter.page().encode()
                gzipped = "gzip" in self.headers.get("Accept-Encoding", "")
                if gzipped:
                    body = gzip.compress(body)
                self.send_response(200)
                self.send_header("Content-Type", CONTENT_TYPE)
                if gzipped:
                    self.send_header("Content-Encoding", "gzip")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: the runner prints its own summary."""

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="demo-exporter", daemon=True
        )

    @property
    def address(self) -> str:
        """host:port, the target's `__address__`."""
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    def page(self) -> str:
        return render(time.monotonic() - self._start_monotonic, self.start_time_s)

    def start(self) -> "DemoExporter":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "DemoExporter":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
