"""The dead-letter queue, for a person: `promscrape dlq list` shows it, `promscrape dlq redrive` empties it.

The DLQ holds two kinds of message (ARCHITECTURE, "DLQ"):

- remote-write dead letters (`DeadLetter`): batches an endpoint did not accept before the scraper's
  time ran out. They are replayable: the samples are in the payload, and the endpoint's current URL
  and headers (the secrets a dead letter never holds) come from the Targets table. Each is replayed
  with the protocol it was sent with (remote write 1.0 or 2.0: its payload is of that protocol),
  which both commands show.
- shard messages (`ShardMessage`) that kept failing on the scrape queue. They are NOT replayed: a
  scrape is a reading of a target at a moment; scraping now would record the present under a plan
  made for the past, and Prometheus never back-fills missed scrapes either (the scrape queue's
  one-hour retention says the same). `redrive` reports them and deletes them only when asked with
  `discard_shards`; the cause (an error in the scraper's logs) is what deserves attention.

Anything else is reported as unrecognised and left in place. Messages are held invisible while
they are looked at, and those not deleted get their visibility back (timeout 0) before returning,
so `list` changes nothing and a failed replay can be retried at once.
"""

import contextlib
import json
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal
from urllib.parse import urlsplit

import urllib3
from pydantic import ValidationError

from promscrape.config import RemoteWriteEndpoint, describe_validation_error
from promscrape.durations import format_duration
from promscrape.messages import ShardMessage
from promscrape.remote_write.deadletter import DeadLetter, replay
from promscrape.settings import DeadLetterQueueUrl, Environment, TargetsTable
from promscrape.texttable import align

if TYPE_CHECKING:
    from botocore.client import BaseClient

    from promscrape.store import Store

SQS_BATCH = 10
MAX_VISIBILITY_S = 43_200
# Seconds a listed message stays hidden at most if the command dies before giving it back.
LIST_VISIBILITY_S = 30
DEFAULT_TIMEOUT_S = 30.0
# Long polling asks every SQS server, so an empty answer means an empty queue (a short poll may
# miss messages on a small queue); the last receive costs this wait.
RECEIVE_WAIT_S = 1
REDACTED = "***"

Kind = Literal["remote_write", "shard", "unrecognised"]


class DlqEnvironment(Environment):
    """Where the DLQ and the endpoints are: the stack's DeadLetterQueueUrl and TargetsTableName."""

    origin: ClassVar[str] = "the outputs DeadLetterQueueUrl and TargetsTableName of `sam deploy`"

    queue_url: DeadLetterQueueUrl
    targets_table: TargetsTable

    def store(self, client: "BaseClient | None" = None) -> "Store":
        """A Store for reading endpoints; only the Targets table is used, so no Status table is named."""
        from promscrape.store import Store

        return Store(self.targets_table, "", client=client)


@dataclass(frozen=True)
class Entry:
    """One DLQ message, classified. `problem` says why an unrecognised one is not understood."""

    message_id: str
    kind: Kind
    sent_ms: int
    letter: DeadLetter | None = None
    shard: ShardMessage | None = None
    problem: str = ""

    @property
    def endpoint(self) -> str:
        return self.letter.endpoint_name if self.letter else "-"

    @property
    def samples(self) -> str:
        return str(self.letter.sample_count) if self.letter else "-"

    @property
    def protocol(self) -> str:
        """The remote write protocol of a dead letter's payload ("1.0" or "2.0"), else "-"."""
        return self.letter.protocol if self.letter else "-"

    @property
    def created_ms(self) -> int:
        """When the work was given up (dead letter) or planned (shard); else when SQS got the message."""
        if self.letter:
            return self.letter.created_ms
        if self.shard:
            return self.shard.scheduled_ms
        return self.sent_ms

    def description(self) -> str:
        """The error column: what went wrong, never a secret (shards carry endpoint headers)."""
        if self.letter:
            return self.letter.error
        if self.shard:
            planned = datetime.fromtimestamp(self.shard.scheduled_ms / 1000, UTC).strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            )
            job = self.shard.job.get("name", "?")
            return (
                f"shard {self.shard.shard_id} of job {job} ({len(self.shard.targets)} target(s), "
                f"planned {planned}) kept failing"
            )
        return f"unrecognised message: {self.problem}"


def classify(message_id: str, body: str, sent_ms: int) -> Entry:
    """A DLQ message body as a dead letter, a shard or unrecognised (the reason without the body)."""
    try:
        document = json.loads(body)
    except ValueError:
        return Entry(message_id, "unrecognised", sent_ms, problem="not JSON")
    if not isinstance(document, dict):
        return Entry(message_id, "unrecognised", sent_ms, problem="not a JSON object")
    try:
        if document.get("kind") == "remote_write":
            return Entry(message_id, "remote_write", sent_ms, letter=DeadLetter.model_validate(document))
        if "shard_id" in document:
            return Entry(message_id, "shard", sent_ms, shard=ShardMessage.model_validate(document))
    except ValidationError as error:
        what = "remote_write dead letter" if document.get("kind") == "remote_write" else "shard message"
        return Entry(
            message_id,
            "unrecognised",
            sent_ms,
            problem=f"invalid {what}: {'; '.join(describe_validation_error(error))}",
        )
    return Entry(
        message_id, "unrecognised", sent_ms, problem="neither a remote-write dead letter nor a shard message"
    )


class _Held:
    """Messages received and kept invisible until released (visibility 0) or deleted.

    A message that reappears (its visibility ran out while others were handled) is not yielded
    twice: only its newest receipt handle is kept, the one SQS honours.
    """

    def __init__(self, sqs: "BaseClient", queue_url: str, visibility_s: int) -> None:
        self._sqs = sqs
        self._queue_url = queue_url
        self._visibility_s = visibility_s
        self._handles: dict[str, str] = {}
        self._seen: set[str] = set()

    def entries(self) -> Iterator[Entry]:
        """Every message of the queue once, until a receive comes back empty."""
        while True:
            messages = self._sqs.receive_message(
                QueueUrl=self._queue_url,
                MaxNumberOfMessages=SQS_BATCH,
                VisibilityTimeout=self._visibility_s,
                WaitTimeSeconds=RECEIVE_WAIT_S,
                MessageSystemAttributeNames=["SentTimestamp"],
            ).get("Messages", [])
            if not messages:
                return
            fresh = []
            for message in messages:
                self._handles[message["MessageId"]] = message["ReceiptHandle"]
                if message["MessageId"] not in self._seen:
                    self._seen.add(message["MessageId"])
                    fresh.append(message)
            for message in fresh:
                sent_ms = int(message.get("Attributes", {}).get("SentTimestamp", 0))
                yield classify(message["MessageId"], message["Body"], sent_ms)

    def delete(self, entry: Entry) -> None:
        """Remove a handled message from the queue for good."""
        self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=self._handles.pop(entry.message_id))

    def release_all(self) -> None:
        """Make every message not deleted visible again now. A failed release only means the
        message comes back when its visibility timeout ends."""
        handles = list(self._handles.items())
        self._handles.clear()
        for start in range(0, len(handles), SQS_BATCH):
            self._sqs.change_message_visibility_batch(
                QueueUrl=self._queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": handle, "VisibilityTimeout": 0}
                    for index, (_, handle) in enumerate(handles[start : start + SQS_BATCH])
                ],
            )


@contextlib.contextmanager
def _holding(sqs: "BaseClient", queue_url: str, visibility_s: int) -> Iterator[_Held]:
    """Hold messages for the duration of the block; whatever happens, give back what is left."""
    held = _Held(sqs, queue_url, visibility_s)
    try:
        yield held
    finally:
        held.release_all()


def list_entries(sqs: "BaseClient", queue_url: str) -> list[Entry]:
    """Every message on the DLQ, classified, oldest first; the queue is left as it was."""
    with _holding(sqs, queue_url, LIST_VISIBILITY_S) as held:
        entries = list(held.entries())
    return sorted(entries, key=lambda entry: (entry.created_ms, entry.message_id))


def load_endpoints(store: "Store") -> dict[str, dict[str, Any]]:
    """The remote-write endpoints of the Targets table by name, as stored (secrets in clear)."""
    return {str(item["name"]): item for item in store.load_all().endpoints}


def secret_values(endpoints: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Every header value and URL password of the stored endpoints: what output must never show."""
    secrets: list[str] = []
    for item in endpoints.values():
        headers = item.get("headers")
        if isinstance(headers, Mapping):
            secrets.extend(str(value) for value in headers.values())
        with contextlib.suppress(ValueError):
            password = urlsplit(str(item.get("url", ""))).password
            if password:
                secrets.append(password)
    return sorted({secret for secret in secrets if secret}, key=len, reverse=True)


def redact(text: str, secrets: Sequence[str]) -> str:
    """text with every secret replaced by ***, longest first (one may contain another)."""
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text


def _age(created_ms: int, now_ms: int) -> str:
    return format_duration(max(0, now_ms - created_ms) // 1000 * 1000)


LIST_COLUMNS = ("MESSAGE ID", "KIND", "ENDPOINT", "PROTOCOL", "SAMPLES", "AGE", "ERROR")


def format_table(entries: Sequence[Entry], now_ms: int, secrets: Sequence[str] = ()) -> str:
    """What `promscrape dlq list` prints: an aligned table, the error column last and unpadded."""
    if not entries:
        return "the dead-letter queue is empty\n"
    rows = [LIST_COLUMNS]
    for entry in entries:
        error = redact(entry.description(), secrets).replace("\n", " ")
        rows.append(
            (
                entry.message_id,
                entry.kind,
                entry.endpoint,
                entry.protocol,
                entry.samples,
                _age(entry.created_ms, now_ms),
                error,
            )
        )
    return align(rows)


Result = Literal["delivered", "would replay", "failed", "left", "discarded", "would discard"]


@dataclass(frozen=True)
class Outcome:
    """What redrive did with one message; `detail` is already free of secrets."""

    entry: Entry
    result: Result
    detail: str = ""

    def line(self) -> str:
        """One line per message: id, kind, endpoint, protocol, samples, outcome."""
        entry = self.entry
        samples = f"{entry.samples} sample(s)" if entry.letter else "-"
        text = (
            f"{entry.message_id}  {entry.kind}  {entry.endpoint}  {entry.protocol}  {samples}  {self.result}"
        )
        return text + (f": {self.detail}" if self.detail else "")


@dataclass
class RedriveReport:
    """Every outcome, and how many letters --endpoint left untouched."""

    dry_run: bool = False
    outcomes: list[Outcome] = field(default_factory=list)
    skipped: int = 0

    def count(self, *results: Result) -> int:
        return sum(1 for outcome in self.outcomes if outcome.result in results)

    @property
    def failed(self) -> bool:
        return self.count("failed") > 0

    def total(self) -> str:
        """The closing line."""
        sent = [o for o in self.outcomes if o.result in ("delivered", "would replay")]
        samples = sum(o.entry.letter.sample_count for o in sent if o.entry.letter)
        parts = [
            f"{len(sent)} {'would replay' if self.dry_run else 'delivered'} ({samples} sample(s))",
            f"{self.count('failed')} failed",
            f"{self.count('left')} left",
            f"{self.count('discarded', 'would discard')} {'would discard' if self.dry_run else 'discarded'}",
        ]
        if self.skipped:
            parts.append(f"{self.skipped} for other endpoints untouched")
        return ("dry run, " if self.dry_run else "") + "total: " + ", ".join(parts)


@dataclass(frozen=True)
class RedriveOptions:
    """`promscrape dlq redrive` flags: which letters, how many, and whether to act at all."""

    endpoint: str | None = None
    max_letters: int | None = None
    dry_run: bool = False
    discard_shards: bool = False
    timeout_s: float = DEFAULT_TIMEOUT_S


class _Endpoints:
    """The Targets table's endpoints, validated on first use (an invalid one fails only its letters)."""

    def __init__(self, raw: Mapping[str, Mapping[str, Any]]) -> None:
        self._raw = raw
        self._valid: dict[str, RemoteWriteEndpoint | str] = {}

    def get(self, name: str) -> RemoteWriteEndpoint | str:
        """The endpoint, or why there is none to replay to."""
        if name not in self._valid:
            item = self._raw.get(name)
            if item is None:
                self._valid[name] = (
                    f"remote_write endpoint {name!r} is not in the Targets table "
                    "(apply a config that has it to replay its dead letters)"
                )
            else:
                try:
                    self._valid[name] = RemoteWriteEndpoint.model_validate(item)
                except ValidationError as error:
                    reasons = "; ".join(describe_validation_error(error))
                    self._valid[name] = f"invalid in the Targets table: {reasons}"
        return self._valid[name]


def _replay_one(
    letter: DeadLetter,
    endpoints: _Endpoints,
    options: RedriveOptions,
    pool: urllib3.PoolManager | None,
) -> tuple[Result, str]:
    """Send one dead letter again (or only check it can be, in a dry run)."""
    endpoint = endpoints.get(letter.endpoint_name)
    if isinstance(endpoint, str):
        return "failed", endpoint
    if options.dry_run:
        return "would replay", ""
    result = replay(letter, endpoint, deadline=time.monotonic() + options.timeout_s, pool=pool)
    if result.ok:
        return "delivered", f"HTTP {result.status}, {result.attempts} attempt(s)"
    if result.unsupported:
        hint = " (the receiver does not accept remote write 2.0: this letter cannot be replayed there)"
    elif result.retryable:
        hint = ""
    else:
        hint = " (the receiver refuses this batch: a retry will not help)"
    return "failed", f"{result.error}, {result.attempts} attempt(s){hint}"


def redrive(
    sqs: "BaseClient",
    store: "Store",
    queue_url: str,
    options: RedriveOptions,
    *,
    pool: urllib3.PoolManager | None = None,
    progress: Callable[[Outcome], None] | None = None,
) -> RedriveReport:
    """Replay the DLQ's remote-write dead letters; delete each one only after a 2xx.

    A failed one stays on the queue, visible again at once. Shards are deleted only with
    discard_shards; unrecognised messages are always left. `progress` sees each outcome as it
    happens (a long redrive shows it is moving).
    """
    raw = load_endpoints(store)
    secrets = secret_values(raw)
    endpoints = _Endpoints(raw)
    report = RedriveReport(dry_run=options.dry_run)
    visibility_s = min(MAX_VISIBILITY_S, math.ceil(options.timeout_s) * SQS_BATCH + 30)
    replayed = 0
    with _holding(sqs, queue_url, visibility_s) as held:
        for entry in held.entries():
            if options.max_letters is not None and replayed >= options.max_letters:
                break
            if entry.letter is not None and options.endpoint not in (None, entry.letter.endpoint_name):
                report.skipped += 1
                continue
            if entry.letter is not None:
                replayed += 1
                result, detail = _replay_one(entry.letter, endpoints, options, pool)
                if result == "delivered":
                    held.delete(entry)
            elif entry.shard is not None and options.discard_shards:
                result, detail = ("would discard", "") if options.dry_run else ("discarded", "")
                if not options.dry_run:
                    held.delete(entry)
            elif entry.shard is not None:
                result, detail = "left", "a late scrape is worthless; --discard-shards removes it"
            else:
                result, detail = "left", entry.problem
            outcome = Outcome(entry, result, redact(detail, secrets).replace("\n", " "))
            report.outcomes.append(outcome)
            if progress is not None:
                progress(outcome)
    return report


def list_table(sqs: "BaseClient", store: "Store", queue_url: str) -> str:
    """`promscrape dlq list`: the table, secrets of the stored endpoints redacted from errors."""
    secrets = secret_values(load_endpoints(store))
    return format_table(list_entries(sqs, queue_url), int(time.time() * 1000), secrets)
