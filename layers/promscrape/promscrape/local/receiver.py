"""The built-in remote-write receiver of `promscrape local`: decodes what arrives and keeps it.

It uses the independent decoder (`remote_write.decode`), so a local run checks the encoder too, and
its counts let the runner tell whether every sample was delivered. Answers like Prometheus's
receiver: 204 on success, 400 on a body that does not decode.
"""

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from promscrape.remote_write.decode import DecodedSeries, decode_write_request

WRITE_PATH = "/api/v1/write"

SeriesKey = tuple[tuple[str, str], ...]


@dataclass
class Received:
    """Everything the receiver accepted: per series (labels sorted) its (timestamp ms, value) list."""

    requests: int = 0
    samples: int = 0
    series: dict[SeriesKey, list[tuple[int, float]]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def add(self, decoded: Iterable[DecodedSeries]) -> int:
        """Record one request's series; the number of samples it held."""
        count = 0
        for one in decoded:
            key = tuple(sorted(one.labels))
            samples = [(sample.timestamp, sample.value) for sample in one.samples]
            self.series.setdefault(key, []).extend(samples)
            count += len(samples)
        self.requests += 1
        self.samples += count
        return count

    def latest(self, name: str) -> dict[SeriesKey, float]:
        """The last value of each series named `name`, keyed by its labels without `__name__`."""
        result: dict[SeriesKey, float] = {}
        for key, samples in self.series.items():
            labels = dict(key)
            if labels.get("__name__") == name and samples:
                del labels["__name__"]
                result[tuple(sorted(labels.items()))] = max(samples)[1]
        return result


class Receiver:
    """An HTTP remote-write receiver on loopback, served from a daemon thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.received = Received()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                if self.path.split("?", 1)[0] != WRITE_PATH:
                    self.send_error(404, f"remote write goes to {WRITE_PATH}")
                    return
                length = self.headers.get("Content-Length")
                if length is None or not length.isdigit():
                    self.send_error(411, "Content-Length required")
                    return
                body = self.rfile.read(int(length))
                problem = receiver.accept(
                    body,
                    content_encoding=self.headers.get("Content-Encoding", ""),
                    content_type=self.headers.get("Content-Type", ""),
                )
                if problem is not None:
                    self.send_error(400, problem)
                    return
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: the runner prints its own summary."""

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="receiver", daemon=True
        )

    @property
    def url(self) -> str:
        """The remote-write URL to give an endpoint."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{WRITE_PATH}"

    def accept(self, body: bytes, *, content_encoding: str, content_type: str) -> str | None:
        """Decode and record one request; the reason it was refused, or None."""
        if content_encoding.strip().lower() != "snappy":
            problem = f"unsupported Content-Encoding {content_encoding!r}: remote write 1.0 is snappy"
        elif content_type.split(";", 1)[0].strip().lower() != "application/x-protobuf":
            problem = f"unsupported Content-Type {content_type!r}"
        else:
            try:
                decoded = decode_write_request(body, compressed=True)
            except Exception as error:  # any undecodable body is the sender's fault: answer 400
                problem = f"cannot decode the WriteRequest: {error}"
            else:
                with self._lock:
                    self.received.add(decoded)
                return None
        with self._lock:
            self.received.errors.append(problem)
        return problem

    def counts(self) -> tuple[int, int, int]:
        """(requests, samples, series) accepted so far."""
        with self._lock:
            return self.received.requests, self.received.samples, len(self.received.series)

    def start(self) -> "Receiver":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "Receiver":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
