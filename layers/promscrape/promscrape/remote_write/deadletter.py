"""Dead letters: remote write batches still undelivered when the scraper's time ran out.

Where Prometheus keeps retrying from its WAL, this project puts the exact request (snappy body,
base64 in JSON) on the dead-letter queue so it can be replayed later (REFERENCE §16). Secrets are
never stored (no header values, the URL without its password): replay takes the endpoint, with its
secrets, from the config.

A letter holds a request of one protocol: a 1.0 WriteRequest or a 2.0 Request (`protocol`; letters
written before 2.0 existed have no such field and are 1.0), and is replayed with that protocol.
"""

import base64
import binascii
import time
from typing import TYPE_CHECKING, Literal, Self

import urllib3
from pydantic import BaseModel, ConfigDict, Field, field_validator

from promscrape.http import strip_password
from promscrape.remote_write import v1
from promscrape.remote_write.send import Protocol, SendResult, send_compressed

if TYPE_CHECKING:
    from promscrape.config import RemoteWriteEndpoint


class DeadLetter(BaseModel):
    """One undelivered remote write request, as a JSON message."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["remote_write"] = "remote_write"
    endpoint_name: str
    endpoint_url: str = Field(description="where it was sent; a password in the URL shows as ***")
    protocol: Protocol = Field(
        default="1.0",
        description='"1.0": the payload is a WriteRequest; "2.0": an io.prometheus.write.v2.Request',
    )
    payload: str = Field(description="base64 of the snappy (block format) request, as sent", repr=False)
    error: str = Field(description="the last error of the send")
    sample_count: int = Field(ge=0)
    created_ms: int = Field(description="epoch milliseconds at which the batch was given up")

    @field_validator("payload")
    @classmethod
    def _payload_is_base64(cls, value: str) -> str:
        """A payload that is not base64 could never be replayed: refuse it at the edge."""
        try:
            base64.b64decode(value, validate=True)
        except binascii.Error as exc:
            raise ValueError(f"payload is not base64: {exc}") from exc
        return value

    @classmethod
    def from_request(
        cls,
        endpoint: "RemoteWriteEndpoint",
        body_uncompressed: bytes,
        *,
        error: str,
        sample_count: int,
        created_ms: int | None = None,
        protocol: Protocol = "1.0",
    ) -> Self:
        """The dead letter of an uncompressed request of `protocol` that endpoint did not accept."""
        return cls(
            endpoint_name=endpoint.name,
            endpoint_url=strip_password(endpoint.url),
            protocol=protocol,
            payload=base64.b64encode(v1.compress(body_uncompressed)).decode("ascii"),
            error=error,
            sample_count=sample_count,
            created_ms=int(time.time() * 1000) if created_ms is None else created_ms,
        )

    def body(self) -> bytes:
        """The snappy-compressed request, ready to POST."""
        return base64.b64decode(self.payload, validate=True)

    def body_uncompressed(self) -> bytes:
        """The request's protobuf bytes (a WriteRequest or a 2.0 Request, as `protocol` says)."""
        return v1.decompress(self.body())

    def to_json(self) -> str:
        """The message body for the dead-letter queue."""
        return self.model_dump_json()

    @classmethod
    def from_json(cls, text: str | bytes) -> Self:
        """Parse and validate a dead-letter queue message body."""
        return cls.model_validate_json(text)


def replay(
    dead_letter: DeadLetter,
    endpoint: "RemoteWriteEndpoint",
    deadline: float,
    pool: urllib3.PoolManager | None = None,
) -> SendResult:
    """Send a dead letter's request again to its endpoint (same name; the URL may have moved), with
    the letter's protocol whatever the endpoint is configured with now (the payload is of that one).

    The endpoint comes from the current config because the dead letter holds no header secrets. A
    2.0 letter that the endpoint now refuses with 415 fails with `unsupported` set.
    """
    if endpoint.name != dead_letter.endpoint_name:
        raise ValueError(
            f"dead letter is for remote_write endpoint {dead_letter.endpoint_name!r}, not {endpoint.name!r}"
        )
    return send_compressed(
        endpoint, dead_letter.body(), deadline=deadline, protocol=dead_letter.protocol, pool=pool
    )
