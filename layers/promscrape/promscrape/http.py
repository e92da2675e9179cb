"""The scrape request: Prometheus's headers, one deadline over the whole exchange, a body limit.

urllib3 is used raw (`preload_content=False`, `decode_content=False`) so that only gzip is
decoded, by us, counting decompressed bytes against `body_size_limit` while reading: a gzip bomb
or an endless body stops at the limit, never after buffering it. Errors carry Prometheus's texts
(scrape/scrape.go, Go's net/http) so `promscrape status` reads like Prometheus's targets page.
"""

import contextlib
import http.client
import socket
import threading
import time
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urljoin, urlsplit

import urllib3
from pydantic import SecretStr
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    LocationValueError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)

from promscrape import USER_AGENT

# Media type asked for by each scrape protocol (REFERENCE §1); the 1.0.0 ones carry `escaping=`.
PROTOCOL_MEDIA_TYPES: dict[str, str] = {
    "PrometheusProto": (
        "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"
    ),
    "PrometheusText0.0.4": "text/plain;version=0.0.4",
    "PrometheusText1.0.0": "text/plain;version=1.0.0",
    "OpenMetricsText0.0.1": "application/openmetrics-text;version=0.0.1",
    "OpenMetricsText1.0.0": "application/openmetrics-text;version=1.0.0",
}
_ESCAPING_PROTOCOLS = frozenset({"PrometheusText1.0.0", "OpenMetricsText1.0.0"})

BODY_SIZE_LIMIT_EXCEEDED = "body size limit exceeded"
DEADLINE_EXCEEDED = "context deadline exceeded"
MAX_REDIRECTS = 10  # Go's http.Client default
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Go drops these on a redirect to another host (net/http shouldCopyHeaderOnRedirect).
_SENSITIVE_ON_REDIRECT = frozenset({"authorization", "www-authenticate", "cookie", "cookie2"})
_READ_CHUNK = 64 * 1024


class ScrapeError(Exception):
    """A failed fetch; `str()` is the error text Prometheus would report for it."""


@dataclass(frozen=True, slots=True)
class FetchResult:
    body: bytes
    content_type: str | None


# The request in flight on this thread, so that its connection can be found by its watchdog.
_in_flight = threading.local()


class _Watchdog:
    """Shuts the socket of a request whose response headers have not arrived by the deadline.

    Socket timeouts restart with every byte, so a target dripping its headers would never time
    out on them; the body is bounded by `_read_chunk` instead, so the watchdog stops at headers.
    """

    def __init__(self, remaining_s: float) -> None:
        self.connection: HTTPConnection | None = None
        self.fired = False
        self._done = False
        self._lock = threading.Lock()
        self._timer = threading.Timer(remaining_s, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.fired = True
            sock = self.connection.sock if self.connection is not None else None
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def stop(self) -> bool:
        """Disarm; whether it fired."""
        self._timer.cancel()
        with self._lock:
            self._done = True
            return self.fired


class _Watched:
    """Hands the connection to the watchdog of the request in flight on this thread."""

    def request(self, *args: Any, **kwargs: Any) -> None:
        watchdog = getattr(_in_flight, "watchdog", None)
        if watchdog is not None:
            watchdog.connection = self
        super().request(*args, **kwargs)  # type: ignore[misc]


class _WatchedHTTPConnection(_Watched, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_Watched, HTTPSConnection):
    pass


class _WatchedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


def new_pool(maxsize: int = 32) -> urllib3.PoolManager:
    """One pool per process, reused by warm invocations; maxsize covers the scrape concurrency.

    Its connections let `fetch` bound the wait for response headers too (see _Watchdog).
    """
    pool = urllib3.PoolManager(num_pools=64, maxsize=maxsize, retries=False)
    pool.pool_classes_by_scheme = {"http": _WatchedHTTPConnectionPool, "https": _WatchedHTTPSConnectionPool}
    return pool


def accept_header(protocols: Sequence[str], escaping_scheme: str = "underscores") -> str:
    """Prometheus's acceptHeader: q from 0.6 down in the configured order, then `*/*`."""
    weight = len(PROTOCOL_MEDIA_TYPES) + 1
    entries = []
    for protocol in protocols:
        entry = PROTOCOL_MEDIA_TYPES[protocol]
        if protocol in _ESCAPING_PROTOCOLS:
            entry += f";escaping={escaping_scheme}"
        entries.append(f"{entry};q=0.{weight}")
        weight -= 1
    entries.append(f"*/*;q=0.{weight}")
    return ",".join(entries)


def format_timeout_seconds(timeout_ms: int) -> str:
    """Go's FormatFloat(timeout.Seconds(), 'f', -1, 64), byte for byte: `10`, `1.5`, never an exponent.

    Duration.Seconds() is float64(whole seconds) + float64(nanoseconds)/1e9, two roundings, so 1118 ms
    goes out as `1.1179999999999999`, not `1.118`. Python's floats are the same IEEE doubles and its
    repr the same shortest round-trip digits; Decimal only writes them without an exponent.
    """
    whole, rest_ms = divmod(timeout_ms, 1000)
    seconds = float(whole) + float(rest_ms * 1_000_000) / 1e9
    return format(Decimal(repr(seconds)).normalize(), "f")


def scrape_headers(
    *,
    protocols: Sequence[str],
    enable_compression: bool,
    timeout_ms: int,
    http_headers: Mapping[str, Sequence[SecretStr | str]] | None = None,
    escaping_scheme: str = "underscores",
) -> urllib3.HTTPHeaderDict:
    """The headers of REFERENCE §1, then the job's own headers added (several values allowed)."""
    headers = urllib3.HTTPHeaderDict(
        {
            "Accept": accept_header(protocols, escaping_scheme),
            "Accept-Encoding": "gzip" if enable_compression else "identity",
            "User-Agent": USER_AGENT,
            "X-Prometheus-Scrape-Timeout-Seconds": format_timeout_seconds(timeout_ms),
        }
    )
    for name, values in (http_headers or {}).items():
        for value in values:
            headers.add(name, value.get_secret_value() if isinstance(value, SecretStr) else value)
    return headers


def fetch(
    pool: urllib3.PoolManager,
    url: str,
    headers: urllib3.HTTPHeaderDict,
    *,
    timeout_s: float,
    body_size_limit: int = 0,
    follow_redirects: bool = True,
) -> FetchResult:
    """GET `url` within `timeout_s` (connect, request and the whole body); raise ScrapeError."""
    deadline = time.monotonic() + timeout_s
    limit = body_size_limit if body_size_limit > 0 else None
    response = _get(pool, url, headers, deadline, follow_redirects)
    try:
        if response.status != 200:
            # Go's resp.Status is the status line as the server sent it: no reason filled in.
            raise ScrapeError(
                f"server returned HTTP status {response.status} {response.reason or ''}".rstrip()
            )
        content_encoding = response.headers.get("Content-Encoding")
        if content_encoding == "gzip":
            body = _read_gzip(response, deadline, limit)
        else:
            body = _read_plain(response, deadline, limit)
    except BaseException:
        response.close()
        response.release_conn()
        raise
    response.release_conn()
    return FetchResult(body=body, content_type=response.headers.get("Content-Type"))


def strip_password(url: str) -> str:
    """The URL as Go's http.Client names it in errors: a password in the userinfo becomes `***`."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    userinfo = parts.netloc.rpartition("@")[0]
    user = userinfo.partition(":")[0]
    return url.replace(f"{userinfo}@", f"{user}:***@", 1)


def _get(
    pool: urllib3.PoolManager,
    url: str,
    headers: urllib3.HTTPHeaderDict,
    deadline: float,
    follow_redirects: bool,
) -> urllib3.BaseHTTPResponse:
    """Send the GET, following redirects as Go's http.Client does, every hop within the one deadline.

    Go's rules, so a target sees the same requests as from Prometheus: at most 10 requests (the
    10th redirect fails naming its raw Location); each hop carries the first request's headers
    plus a Referer naming the previous URL (none from https to http; a Referer the job set is
    kept); credentials are dropped for good once a hop leaves the first host and its subdomains.
    """
    initial_host = urlsplit(url).hostname or ""
    explicit_referer = "Referer" in headers
    current_url, current_headers = url, headers
    stripped = False
    sent = 0
    while True:
        response = _request(pool, current_url, current_headers, deadline)
        sent += 1
        location = response.headers.get("Location")
        if not follow_redirects or response.status not in _REDIRECT_STATUSES or not location:
            return response
        response.close()
        response.release_conn()
        if sent >= MAX_REDIRECTS:
            raise ScrapeError(f'Get "{location}": stopped after {MAX_REDIRECTS} redirects')
        next_url = urljoin(current_url, location)
        stripped = stripped or not _is_domain_or_subdomain(urlsplit(next_url).hostname or "", initial_host)
        current_headers = urllib3.HTTPHeaderDict(
            [(k, v) for k, v in headers.iteritems() if not (stripped and k.lower() in _SENSITIVE_ON_REDIRECT)]
        )
        if not explicit_referer and not (current_url.startswith("https:") and next_url.startswith("http:")):
            current_headers["Referer"] = _without_userinfo(current_url)
        current_url = next_url


def _request(
    pool: urllib3.PoolManager, url: str, headers: urllib3.HTTPHeaderDict, deadline: float
) -> urllib3.BaseHTTPResponse:
    """One GET up to its response headers, which the watchdog bounds by the deadline."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise ScrapeError(f'Get "{strip_password(url)}": {DEADLINE_EXCEEDED}')
    _in_flight.watchdog = watchdog = _Watchdog(remaining)
    try:
        response = pool.request(
            "GET",
            url,
            headers=headers,
            timeout=urllib3.Timeout(total=remaining),
            retries=False,
            redirect=False,
            preload_content=False,
            decode_content=False,
        )
    except (HTTPError, OSError) as exc:
        detail = DEADLINE_EXCEEDED if watchdog.stop() else request_error(url, exc)
        raise ScrapeError(f'Get "{strip_password(url)}": {detail}') from exc
    finally:
        _in_flight.watchdog = None
    if watchdog.stop():
        # Cut off while the headers dripped in: what was parsed of them is not a response.
        response.close()
        response.release_conn()
        raise ScrapeError(f'Get "{strip_password(url)}": {DEADLINE_EXCEEDED}')
    return response


def _is_domain_or_subdomain(sub: str, parent: str) -> bool:
    """Go's isDomainOrSubdomain on lower-case host names (an IPv6 address is never a subdomain)."""
    if sub == parent:
        return True
    if ":" in sub or "%" in sub:
        return False
    return sub.endswith("." + parent)


def _without_userinfo(url: str) -> str:
    """Go's refererForURL: the URL with any `user[:password]@` removed."""
    netloc = urlsplit(url).netloc
    if "@" not in netloc:
        return url
    return url.replace(netloc.rpartition("@")[0] + "@", "", 1)


def request_error(url: str, exc: BaseException) -> str:
    """Go's wording for what can go wrong before the response headers arrive (dial, TLS, timeout)."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = f"{parts.hostname}:{port}"
    if isinstance(exc, NameResolutionError):
        return f"dial tcp: lookup {parts.hostname}: no such host"
    if isinstance(exc, NewConnectionError):
        cause = exc.__context__ or exc.__cause__
        if isinstance(cause, ConnectionRefusedError):
            return f"dial tcp {address}: connect: connection refused"
        return f"dial tcp {address}: {cause or exc}"
    if isinstance(exc, ConnectTimeoutError | ReadTimeoutError | TimeoutError):
        return DEADLINE_EXCEEDED
    if isinstance(exc, SSLError):
        return f"tls: {exc}"
    if isinstance(exc, LocationValueError):
        return f"invalid URL: {exc}"
    if isinstance(exc, ProtocolError):
        return "EOF" if isinstance(exc.__context__, http.client.RemoteDisconnected) else str(exc)
    return str(exc)


def _read_chunk(response: urllib3.BaseHTTPResponse, deadline: float) -> bytes:
    """At most one socket read, bounded by what is left of the deadline (a slow drip times out)."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise ScrapeError(DEADLINE_EXCEEDED)
    connection = response.connection
    if connection is not None and connection.sock is not None:
        connection.sock.settimeout(remaining)
    try:
        return response.read1(_READ_CHUNK, decode_content=False)
    except ReadTimeoutError as exc:
        raise ScrapeError(DEADLINE_EXCEEDED) from exc
    except (HTTPError, OSError) as exc:
        if time.monotonic() >= deadline:
            raise ScrapeError(DEADLINE_EXCEEDED) from exc
        if _is_truncated(exc):
            raise ScrapeError("unexpected EOF") from exc
        raise ScrapeError(str(exc)) from exc


def _is_truncated(exc: BaseException) -> bool:
    """urllib3 wraps a short body (Content-Length or chunking not honoured) in ProtocolError."""
    causes = (exc, exc.__context__, *exc.args)
    return any(isinstance(c, http.client.IncompleteRead) for c in causes)


def _read_plain(response: urllib3.BaseHTTPResponse, deadline: float, limit: int | None) -> bytes:
    """Read the body as sent; `limit` bytes or more fail (Go: LimitReader(limit), n >= limit)."""
    chunks: list[bytes] = []
    size = 0
    while chunk := _read_chunk(response, deadline):
        size += len(chunk)
        if limit is not None and size >= limit:
            raise ScrapeError(BODY_SIZE_LIMIT_EXCEEDED)
        chunks.append(chunk)
    return b"".join(chunks)


def _read_gzip(response: urllib3.BaseHTTPResponse, deadline: float, limit: int | None) -> bytes:
    """Gunzip while reading (multi-member like Go), never producing more than `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    received = False
    pending = b""
    while True:
        if not pending:
            pending = _read_chunk(response, deadline)
            if not pending:
                break
        if decompressor.eof:
            decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
        received = True
        # Cap the output so a bomb cannot expand past the limit in one call.
        max_length = limit - size if limit is not None else 0
        try:
            out = decompressor.decompress(pending, max_length)
        except zlib.error as exc:
            raise ScrapeError(_gzip_error(exc)) from exc
        size += len(out)
        if limit is not None and size >= limit:
            raise ScrapeError(BODY_SIZE_LIMIT_EXCEEDED)
        chunks.append(out)
        pending = decompressor.unconsumed_tail if decompressor.unconsumed_tail else decompressor.unused_data
    if not received:
        raise ScrapeError("EOF")
    if not decompressor.eof:
        raise ScrapeError("unexpected EOF")
    return b"".join(chunks)


def _gzip_error(exc: zlib.error) -> str:
    """Go's compress/gzip texts for the ways zlib reports a bad stream."""
    text = str(exc)
    if "header" in text:
        return "gzip: invalid header"
    if "check" in text:
        return "gzip: invalid checksum"
    return f"flate: corrupt input ({text})"
