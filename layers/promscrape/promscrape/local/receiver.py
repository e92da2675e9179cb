"""The built-in remote-write receiver of `promscrape local`: decodes what arrives and keeps it.

It uses the independent decoder (`remote_write.decode`), so a local run checks the encoders too, and
its counts let the runner tell whether every sample was delivered. Answers like Prometheus's
receiver: the Content-Type names the message (1.0 `prometheus.WriteRequest`, the default, or 2.0
`io.prometheus.write.v2.Request`); an unknown one, or a Content-Encoding other than snappy, is
answered 415; a body that does not decode 400; success 204, for 2.0 with the `-Written` headers
counting what the request held.
"""

import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from promscrape.remote_write import v2
from promscrape.remote_write.decode import (
    PROTO_V1,
    DecodedExemplar,
    DecodedHistogram,
    DecodedMetadata,
    DecodedSeries,
    decode_metadata,
    decode_request_v2,
    decode_write_request,
    proto_message,
)

WRITE_PATH = "/api/v1/write"
SNAPPY = "snappy"

SeriesKey = tuple[tuple[str, str], ...]


@dataclass
class Received:
    """Everything the receiver accepted, per series (labels sorted): float samples as (timestamp ms,
    value), native histogram samples, exemplars, and for 2.0 the series' metadata; 1.0 metadata by
    metric family. `protocols` counts requests by message ("1.0", "2.0")."""

    requests: int = 0
    samples: int = 0
    series: dict[SeriesKey, list[tuple[int, float]]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    histograms: dict[SeriesKey, list[DecodedHistogram]] = field(default_factory=dict)
    exemplars: dict[SeriesKey, list[DecodedExemplar]] = field(default_factory=dict)
    metadata: dict[str, DecodedMetadata] = field(default_factory=dict)
    series_metadata: dict[SeriesKey, DecodedMetadata] = field(default_factory=dict)
    protocols: Counter[str] = field(default_factory=Counter)

    def add(self, decoded: Iterable[DecodedSeries], protocol: str) -> v2.Counts:
        """Record one request's series (of protocol "1.0" or "2.0"); the samples, histogram samples
        and exemplars it held."""
        samples = histograms = exemplars = 0
        for one in decoded:
            key = tuple(sorted(one.labels))
            points = [(sample.timestamp, sample.value) for sample in one.samples]
            self.series.setdefault(key, []).extend(points)
            samples += len(points)
            if one.histograms:
                self.histograms.setdefault(key, []).extend(one.histograms)
                histograms += len(one.histograms)
            if one.exemplars:
                self.exemplars.setdefault(key, []).extend(one.exemplars)
                exemplars += len(one.exemplars)
            if one.metadata is not None:
                self.series_metadata[key] = one.metadata
        self.requests += 1
        self.samples += samples
        self.protocols[protocol] += 1
        return v2.Counts(samples, histograms, exemplars)

    def add_metadata(self, entries: Iterable[DecodedMetadata]) -> None:
        """Record 1.0 MetricMetadata: the latest per metric family, as Prometheus keeps it."""
        for entry in entries:
            self.metadata[entry.family] = entry

    def _named[T](self, table: dict[SeriesKey, T], name: str) -> dict[SeriesKey, T]:
        """The entries of series named `name`, keyed by their labels without `__name__`."""
        return {
            tuple(pair for pair in key if pair[0] != "__name__"): value
            for key, value in table.items()
            if ("__name__", name) in key
        }

    def latest(self, name: str) -> dict[SeriesKey, float]:
        """The last value of each series named `name`, keyed by its labels without `__name__`."""
        return {
            labels: max(samples)[1] for labels, samples in self._named(self.series, name).items() if samples
        }

    def histograms_of(self, name: str) -> dict[SeriesKey, list[DecodedHistogram]]:
        """The native histogram samples of each series named `name`, in arrival order."""
        return self._named(self.histograms, name)

    def exemplars_of(self, name: str) -> dict[SeriesKey, list[DecodedExemplar]]:
        """The exemplars of each series named `name`, in arrival order."""
        return self._named(self.exemplars, name)

    def metadata_of(self, name: str) -> dict[SeriesKey, DecodedMetadata]:
        """The 2.0 metadata last sent with each series named `name` (1.0 sends it per family:
        `metadata`)."""
        return self._named(self.series_metadata, name)

    @property
    def histogram_samples(self) -> int:
        """Native histogram samples received."""
        return sum(len(points) for points in self.histograms.values())

    @property
    def exemplar_count(self) -> int:
        """Exemplars received."""
        return sum(len(points) for points in self.exemplars.values())

    def summary(self) -> str:
        """One line for `promscrape local`: what arrived, how, with what metadata."""
        protocols = ", ".join(f"{count} as {name}" for name, count in sorted(self.protocols.items()))
        families = len(self.metadata) + len(
            {
                dict(key).get("__name__", "")
                for key, meta in self.series_metadata.items()
                if meta.type or meta.help or meta.unit
            }
        )
        return (
            f"{self.samples} sample(s), {self.histogram_samples} histogram sample(s) and "
            f"{self.exemplar_count} exemplar(s) of {len(self.series)} series in {self.requests} "
            f"request(s){f' ({protocols})' if protocols else ''}, metadata of {families} metric(s)"
        )


class Receiver:
    """An HTTP remote-write receiver on loopback, served from a daemon thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.received = Received()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                if self.path.split("?", 1)[0] != WRITE_PATH:
                    self.refuse(404, f"remote write goes to {WRITE_PATH}")
                    return
                length = self.headers.get("Content-Length")
                if length is None or not length.isdigit():
                    self.refuse(411, "Content-Length required")
                    return
                body = self.rfile.read(int(length))
                status, problem, written = receiver.answer(
                    body,
                    content_encoding=self.headers.get("Content-Encoding", ""),
                    content_type=self.headers.get("Content-Type", ""),
                )
                if problem is not None:
                    self.refuse(status, problem)
                    return
                self.send_response(status)
                if written is not None:
                    self.send_header(v2.WRITTEN_SAMPLES_HEADER, str(written.samples))
                    self.send_header(v2.WRITTEN_HISTOGRAMS_HEADER, str(written.histograms))
                    self.send_header(v2.WRITTEN_EXEMPLARS_HEADER, str(written.exemplars))
                self.end_headers()

            def refuse(self, status: int, message: str) -> None:
                """An error as Go's http.Error writes it: the message and a newline, as plain text."""
                body = f"{message}\n".encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("X-Content-Type-Options", "nosniff")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

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

    def answer(
        self, body: bytes, *, content_encoding: str, content_type: str
    ) -> tuple[int, str | None, v2.Counts | None]:
        """Decode and record one request: (HTTP status, why it was refused or None, what a 2.0
        request held for the `-Written` headers or None)."""
        status, problem, written = self._decode(body, content_encoding, content_type)
        if problem is not None:
            with self._lock:
                self.received.errors.append(problem)
        return status, problem, written

    def _decode(
        self, body: bytes, content_encoding: str, content_type: str
    ) -> tuple[int, str | None, v2.Counts | None]:
        """Prometheus's checks in its order: the message, then the encoding (empty is snappy)."""
        try:
            message = proto_message(content_type)
        except ValueError as error:
            return 415, str(error), None
        encoding = content_encoding.strip()
        if encoding and encoding != SNAPPY:
            problem = (
                f"{encoding} encoding (compression) is not accepted by this server; "
                f"only {SNAPPY} is acceptable"
            )
            return 415, problem, None
        try:
            if message == PROTO_V1:
                decoded = decode_write_request(body, compressed=True)
                metadata = decode_metadata(body, compressed=True)
            else:
                decoded = decode_request_v2(body, compressed=True)
                metadata = []
        except Exception as error:  # any undecodable body is the sender's fault: answer 400
            return 400, f"cannot decode the {message}: {error}", None
        with self._lock:
            counts = self.received.add(decoded, "1.0" if message == PROTO_V1 else "2.0")
            self.received.add_metadata(metadata)
        return 204, None, None if message == PROTO_V1 else counts

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
