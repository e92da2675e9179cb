"""Send one remote write request (1.0 or 2.0), retrying as Prometheus's queue manager does, within a
deadline.

Prometheus retries a recoverable failure forever; a Lambda cannot, so the caller gives a deadline
(time.monotonic() seconds) that fits the function's timeout, and a batch still undelivered then is
the caller's to dead-letter (REFERENCE §11, §16). Header values of the endpoint are secrets: they
go on the wire and nowhere else.

A 2.0 request (REFERENCE §12) differs in its headers and in what its answer means: a receiver that
answers 415 does not speak 2.0 (the caller re-sends the series as 1.0, and this process remembers
the endpoint: `negotiated_protocol`), and a 2xx must confirm what was written in the `-Written`
headers, as Prometheus checks it.
"""

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Literal
from urllib.parse import unquote

import cramjam
import urllib3
from urllib3.exceptions import HTTPError, LocationValueError

from promscrape.http import request_error, strip_password
from promscrape.remote_write import v1, v2

if TYPE_CHECKING:
    from promscrape.config import RemoteWriteEndpoint

logger = logging.getLogger(__name__)

Protocol = Literal["1.0", "2.0"]
PROTOCOLS: tuple[Protocol, ...] = ("1.0", "2.0")
_PROTOCOL_HEADERS: dict[Protocol, dict[str, str]] = {"1.0": v1.HEADERS, "2.0": v2.HEADERS}
UNSUPPORTED_MEDIA_TYPE = 415

# Prometheus reads at most this much of an error response into its error message.
MAX_ERROR_BODY = 1024
_INTEGER = re.compile(r"[+-]?[0-9]+")
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1
    )
}
# "Mon, 02 Jan 2006 15:04:05 GMT" as Go's time.Parse reads it (the hour may have one digit).
_HTTP_DATE = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), ([0-9]{2}) (" + "|".join(_MONTHS) + r") ([0-9]{4}) "
    r"([0-9]{1,2}):([0-9]{2}):([0-9]{2}) GMT"
)


@dataclass(frozen=True)
class SendResult:
    """Outcome of send_request.

    `retryable` tells whether the last failure was one Prometheus would still be retrying (5xx,
    429 with retry_on_http_429, network error, deadline): the batch is worth a dead letter.
    `unsupported`: the endpoint answered 415 to a 2.0 request; the same series should go as 1.0.
    `written`: for a 2.0 request that got a 2xx, what the receiver's `-Written` headers confirm.
    """

    ok: bool
    status: int | None
    error: str | None
    attempts: int
    retryable: bool = False
    unsupported: bool = False
    written: v2.WrittenStats | None = None


@dataclass(frozen=True)
class _Failure:
    """One failed attempt: its error text, whether to retry, and the server's Retry-After (s)."""

    status: int | None
    error: str
    recoverable: bool
    retry_after: float = 0.0


@dataclass(frozen=True)
class _Delivered:
    """A 2xx answer: its status and, for a 2.0 request, its `-Written` headers as read."""

    status: int
    written: v2.WrittenStats | None = None


# A retry started with less time than this left would only time out and hide the real error.
MIN_RETRY_WINDOW_S = 0.1

# Endpoints (name, URL) that answered 415 to a 2.0 request in this process: sent 1.0 from then on.
_V1_ONLY: set[tuple[str, str]] = set()


def negotiated_protocol(endpoint: "RemoteWriteEndpoint", configured: Protocol) -> Protocol:
    """The protocol to send to endpoint with: the configured one, unless the endpoint refused 2.0
    with a 415 earlier in this process (the spec's fallback, remembered as long as the process)."""
    if configured == "2.0" and (endpoint.name, endpoint.url) in _V1_ONLY:
        return "1.0"
    return configured


def request_counts(body_uncompressed: bytes) -> v2.Counts:
    """Samples, histograms and exemplars of an uncompressed 2.0 Request, read off the wire.

    What `-Written` is checked against when the caller did not say (a dead letter's replay). It
    never raises: a malformed tail is not counted (the receiver will refuse the body anyway).
    """
    counts = [0, 0, 0]  # TimeSeries fields 2, 3, 4
    for number, start, end in _fields(body_uncompressed, 0, len(body_uncompressed)):
        if number == 5 and start >= 0:
            for inner, inner_start, _ in _fields(body_uncompressed, start, end):
                if 2 <= inner <= 4 and inner_start >= 0:
                    counts[inner - 2] += 1
    return v2.Counts(*counts)


def _body_counts(compressed: bytes) -> v2.Counts:
    """request_counts of a snappy body; nothing for a body that does not decompress (which no 2.0
    receiver could have written)."""
    try:
        raw = v1.decompress(compressed)
    except cramjam.DecompressionError:
        return v2.Counts()
    return request_counts(raw)


def _varint_at(data: bytes, pos: int, end: int) -> tuple[int, int]:
    """(value, next position) of the varint at pos, or (-1, end) when it runs past end."""
    value = shift = 0
    while pos < end and shift < 64:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
    return -1, end


def _fields(data: bytes, pos: int, end: int) -> list[tuple[int, int, int]]:
    """(field number, start, end) of each field in data[pos:end]; start is -1 for a field that is
    not length-delimited. Stops at the first malformed field."""
    fields: list[tuple[int, int, int]] = []
    while pos < end:
        tag, pos = _varint_at(data, pos, end)
        if tag < 0:
            break
        number, wire_type = tag >> 3, tag & 7
        if wire_type == 0:
            value, pos = _varint_at(data, pos, end)
            if value < 0:
                break
            fields.append((number, -1, pos))
        elif wire_type in (1, 5):
            pos += 8 if wire_type == 1 else 4
            if pos > end:
                break
            fields.append((number, -1, pos))
        elif wire_type == 2:
            size, pos = _varint_at(data, pos, end)
            if size < 0 or pos + size > end:
                break
            fields.append((number, pos, pos + size))
            pos += size
        else:
            break
    return fields


@cache
def shared_pool() -> urllib3.PoolManager:
    """The connection pool shared by all sends of this process (kept warm across invocations)."""
    return urllib3.PoolManager(num_pools=32, maxsize=8)


def _http_date_epoch(text: str) -> float | None:
    """Epoch seconds of an HTTP date in Go's http.TimeFormat, else None (locale-independent)."""
    match = _HTTP_DATE.fullmatch(text)
    if match is None:
        return None
    day, month, year, hour, minute, second = match.group(1, 2, 3, 4, 5, 6)
    try:
        moment = datetime(
            int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second), tzinfo=UTC
        )
    except ValueError:
        return None
    return moment.timestamp()


def retry_after_seconds(value: str | None, now_epoch: float) -> float:
    """Retry-After as Prometheus reads it: an HTTP date or integer seconds, whole seconds.

    0 means "use the backoff" (absent, unparsable, zero); a negative value (a date in the past)
    also falls back to the backoff.
    """
    if not value:
        return 0.0
    epoch = _http_date_epoch(value)
    if epoch is not None:
        return float(int(epoch - now_epoch))  # Go truncates toward zero to whole seconds
    if _INTEGER.fullmatch(value):
        return float(int(value))
    return 0.0


def _headers(endpoint: "RemoteWriteEndpoint", retry_attempt: int, protocol: Protocol) -> dict[str, str]:
    """Endpoint headers, then the protocol's own headers (which win), then Retry-Attempt.

    Userinfo in the URL becomes basic auth unless an Authorization header is set, as Go's client does.
    """
    headers = {name: value.get_secret_value() for name, value in endpoint.headers.items()}
    auth = urllib3.util.parse_url(endpoint.url).auth
    if auth and not any(name.lower() == "authorization" for name in headers):
        headers["Authorization"] = urllib3.util.make_headers(basic_auth=unquote(auth))["authorization"]
    headers.update(_PROTOCOL_HEADERS[protocol])
    if retry_attempt > 0:
        headers["Retry-Attempt"] = str(retry_attempt)
    return headers


def _first_line(raw: bytes) -> str:
    """What Prometheus quotes of an error response: its first line (bufio.ScanLines), as sent."""
    line = raw.split(b"\n", 1)[0].removesuffix(b"\r")
    return line.decode("utf-8", "replace")


def _attempt(
    endpoint: "RemoteWriteEndpoint",
    body: bytes,
    retry_attempt: int,
    timeout: float,
    pool: urllib3.PoolManager,
    protocol: Protocol,
) -> _Failure | _Delivered:
    """One POST: the 2xx answer, or the failure classified as Prometheus's client does."""
    try:
        response = pool.request(
            "POST",
            endpoint.url,
            body=body,
            headers=_headers(endpoint, retry_attempt, protocol),
            timeout=urllib3.Timeout(total=timeout),
            retries=False,
            redirect=False,
            preload_content=False,
        )
    except LocationValueError as exc:
        return _Failure(None, _post_error(endpoint.url, exc), recoverable=False)
    except HTTPError as exc:
        return _Failure(None, _post_error(endpoint.url, exc), recoverable=True)
    except ValueError:
        # http.client rejects a header value with CR/LF and quotes it: never repeat that text.
        names = ", ".join(sorted(endpoint.headers))
        return _Failure(None, f"invalid header value in one of the endpoint's headers ({names})", False)
    try:
        status = response.status
        if 200 <= status < 300:
            return _Delivered(status, v2.written_stats(response.headers) if protocol == "2.0" else None)
        line = _first_line(response.read(MAX_ERROR_BODY))
        error = f"server returned HTTP status {status} {response.reason or ''}".rstrip() + f": {line}"
        recoverable = status // 100 == 5 or (status == 429 and endpoint.retry_on_http_429)
        retry_after = (
            retry_after_seconds(response.headers.get("Retry-After"), time.time()) if recoverable else 0.0
        )
        return _Failure(status, error, recoverable, retry_after)
    except HTTPError as exc:
        return _Failure(None, _post_error(endpoint.url, exc), recoverable=True)
    finally:
        response.drain_conn()
        response.release_conn()


def _post_error(url: str, exc: BaseException) -> str:
    """Go's url.Error text for a POST that got no response: `Post "<url, no password>": <cause>`."""
    return f'Post "{strip_password(url)}": {request_error(url, exc)}'


def send_request(
    endpoint: "RemoteWriteEndpoint",
    body_uncompressed: bytes,
    *,
    deadline: float,
    pool: urllib3.PoolManager | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> SendResult:
    """POST one WriteRequest, snappy-compressed here; see send_compressed."""
    return send_compressed(
        endpoint, v1.compress(body_uncompressed), deadline=deadline, pool=pool, sleep=sleep
    )


def send_compressed(
    endpoint: "RemoteWriteEndpoint",
    body: bytes,
    *,
    deadline: float,
    protocol: Protocol = "1.0",
    pool: urllib3.PoolManager | None = None,
    sleep: Callable[[float], None] = time.sleep,
    counts: v2.Counts | None = None,
) -> SendResult:
    """POST an already snappy-compressed request of `protocol` ("1.0": a WriteRequest, "2.0": an
    io.prometheus.write.v2.Request), retrying recoverable failures until deadline.

    Backoff starts at min_backoff; a positive Retry-After (5xx/429) replaces it and may exceed
    max_backoff; the next backoff is min(2 x wait, max_backoff). A wait that would end past the
    deadline is not taken: the last failure is returned with retryable=True. `sleep` is how the
    wait is spent (tests record it).

    2.0 only: a 415 returns at once with unsupported=True (and the endpoint is remembered, see
    negotiated_protocol); a 2xx whose `-Written` headers report nothing written while the request
    held something is Prometheus's non-recoverable failure. `counts` is what the request holds
    (read from the body when not given).
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"remote write protocol must be one of {', '.join(PROTOCOLS)}, not {protocol!r}")
    pool = pool or shared_pool()
    backoff = endpoint.min_backoff / 1000
    max_backoff = endpoint.max_backoff / 1000
    attempts = 0
    failure = _Failure(None, "remote write deadline exceeded before the first attempt", recoverable=True)
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or (attempts and remaining < MIN_RETRY_WINDOW_S):
            break
        timeout = min(endpoint.remote_timeout / 1000, remaining)
        outcome = _attempt(endpoint, body, attempts, timeout, pool, protocol)
        attempts += 1
        if isinstance(outcome, _Delivered):
            return _delivered(outcome, attempts, body, counts)
        failure = outcome
        if protocol == "2.0" and failure.status == UNSUPPORTED_MEDIA_TYPE:
            _V1_ONLY.add((endpoint.name, endpoint.url))
            return SendResult(False, failure.status, failure.error, attempts, unsupported=True)
        if not failure.recoverable:
            return SendResult(False, failure.status, failure.error, attempts, retryable=False)
        wait = failure.retry_after if failure.retry_after > 0 else backoff
        if time.monotonic() + wait >= deadline:
            break
        logger.warning(
            "Failed to send batch, retrying",
            extra={"endpoint": endpoint.name, "err": failure.error, "attempt": attempts, "wait_s": wait},
        )
        sleep(wait)
        backoff = min(wait * 2, max_backoff)
    return SendResult(False, failure.status, failure.error, attempts, retryable=True)


def _delivered(outcome: _Delivered, attempts: int, body: bytes, counts: v2.Counts | None) -> SendResult:
    """The result of a 2xx; for 2.0, Prometheus's check of the `-Written` headers (PRW 2.0 spec,
    "Required Written Response Headers"): nothing written of a non-empty request is a failure that
    a retry would not change."""
    written = outcome.written
    if written is None:
        return SendResult(ok=True, status=outcome.status, error=None, attempts=attempts)
    sent = counts if counts is not None else _body_counts(body)
    if sent.samples + sent.histograms + sent.exemplars > 0 and (
        written.samples + written.histograms + written.exemplars == 0
    ):
        # Prometheus's text word for word, its spelling of "assumining" included (queue_manager.go).
        error = (
            f"sent v2 request with {sent.samples} samples, {sent.histograms} histograms and "
            f"{sent.exemplars} exemplars; got 2xx, but PRW 2.0 response header statistics indicate "
            f"{written.samples} samples, {written.histograms} histograms and {written.exemplars} exemplars "
            "were accepted; assumining failure e.g. the target only supports PRW 1.0 "
            "prometheus.WriteRequest, but does not check the Content-Type header correctly"
        )
        return SendResult(False, outcome.status, error, attempts, retryable=False, written=written)
    return SendResult(ok=True, status=outcome.status, error=None, attempts=attempts, written=written)
