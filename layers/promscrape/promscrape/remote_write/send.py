"""Send one remote write 1.0 request, retrying as Prometheus's queue manager does, within a deadline.

Prometheus retries a recoverable failure forever; a Lambda cannot, so the caller gives a deadline
(time.monotonic() seconds) that fits the function's timeout, and a batch still undelivered then is
the caller's to dead-letter (REFERENCE §11, §16). Header values of the endpoint are secrets: they
go on the wire and nowhere else.
"""

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING
from urllib.parse import unquote

import urllib3
from urllib3.exceptions import HTTPError, LocationValueError

from promscrape.http import request_error, strip_password
from promscrape.remote_write import v1

if TYPE_CHECKING:
    from promscrape.config import RemoteWriteEndpoint

logger = logging.getLogger(__name__)

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
    """

    ok: bool
    status: int | None
    error: str | None
    attempts: int
    retryable: bool = False


@dataclass(frozen=True)
class _Failure:
    """One failed attempt: its error text, whether to retry, and the server's Retry-After (s)."""

    status: int | None
    error: str
    recoverable: bool
    retry_after: float = 0.0


# A retry started with less time than this left would only time out and hide the real error.
MIN_RETRY_WINDOW_S = 0.1


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


def _headers(endpoint: "RemoteWriteEndpoint", retry_attempt: int) -> dict[str, str]:
    """Endpoint headers, then the protocol's own headers (which win), then Retry-Attempt.

    Userinfo in the URL becomes basic auth unless an Authorization header is set, as Go's client does.
    """
    headers = {name: value.get_secret_value() for name, value in endpoint.headers.items()}
    auth = urllib3.util.parse_url(endpoint.url).auth
    if auth and not any(name.lower() == "authorization" for name in headers):
        headers["Authorization"] = urllib3.util.make_headers(basic_auth=unquote(auth))["authorization"]
    headers.update(v1.HEADERS)
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
) -> _Failure | int:
    """One POST: the 2xx status, or the failure classified as Prometheus's client does."""
    try:
        response = pool.request(
            "POST",
            endpoint.url,
            body=body,
            headers=_headers(endpoint, retry_attempt),
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
            return status
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
    pool: urllib3.PoolManager | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> SendResult:
    """POST an already snappy-compressed WriteRequest, retrying recoverable failures until deadline.

    Backoff starts at min_backoff; a positive Retry-After (5xx/429) replaces it and may exceed
    max_backoff; the next backoff is min(2 x wait, max_backoff). A wait that would end past the
    deadline is not taken: the last failure is returned with retryable=True. `sleep` is how the
    wait is spent (tests record it).
    """
    pool = pool or shared_pool()
    backoff = endpoint.min_backoff / 1000
    max_backoff = endpoint.max_backoff / 1000
    attempts = 0
    failure = _Failure(None, "remote write deadline exceeded before the first attempt", recoverable=True)
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or (attempts and remaining < MIN_RETRY_WINDOW_S):
            break
        outcome = _attempt(endpoint, body, attempts, min(endpoint.remote_timeout / 1000, remaining), pool)
        attempts += 1
        if isinstance(outcome, int):
            return SendResult(ok=True, status=outcome, error=None, attempts=attempts)
        failure = outcome
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
