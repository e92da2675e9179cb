"""SQS access: shard messages to the scrape queue, dead letters to the DLQ.

Shards go out with SendMessageBatch (10 entries a request: a tenth of the requests, and SQS bills
per request), each entry with its own DelaySeconds so the scrape happens at its offset inside the
minute without anyone sleeping.
"""

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from promscrape.messages import ShardMessage

if TYPE_CHECKING:
    from botocore.client import BaseClient

MAX_BATCH_ENTRIES = 10
MAX_DELAY_S = 900
# SQS accepts 1 MiB per request; a shard message stays under 256 KiB so that a batch of ten
# still fits the 6 MB payload of the scraper's invocation.
MAX_BATCH_BYTES = 1_048_576
MAX_SHARD_MESSAGE_BYTES = 262_144


class SendError(RuntimeError):
    """Some messages were not accepted by SQS even after a retry; `failed` names them."""

    def __init__(self, failed: Mapping[str, str]) -> None:
        self.failed = dict(failed)
        details = ", ".join(f"{name} ({reason})" for name, reason in self.failed.items())
        super().__init__(f"SQS did not accept {len(self.failed)} message(s): {details}")


def _batches(entries: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Entries grouped by 10, without a request exceeding SQS's size limit."""
    batches: list[list[dict[str, Any]]] = []
    size = MAX_BATCH_BYTES
    for entry in entries:
        entry_size = len(entry["MessageBody"].encode())
        if len(batches) == 0 or len(batches[-1]) == MAX_BATCH_ENTRIES or size + entry_size > MAX_BATCH_BYTES:
            batches.append([])
            size = 0
        batches[-1].append(entry)
        size += entry_size
    return batches


def _send_batch(client: "BaseClient", queue_url: str, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Send one batch; return the Failed entries of the response."""
    response = client.send_message_batch(QueueUrl=queue_url, Entries=batch)
    return list(response.get("Failed", []))


def send_shards(client: "BaseClient", queue_url: str, messages: Sequence[tuple[ShardMessage, int]]) -> int:
    """Send every (shard, delay in seconds) to the queue; return how many were sent.

    Entries SQS reports as failed are sent once more unless SQS blames the sender (retrying
    those cannot help); what still fails raises SendError naming the shard ids. Invalid delays
    and oversized shards raise ValueError before anything is sent.
    """
    entries: list[dict[str, Any]] = []
    names: dict[str, str] = {}
    for index, (message, delay_s) in enumerate(messages):
        if not 0 <= delay_s <= MAX_DELAY_S:
            raise ValueError(f"shard {message.shard_id}: DelaySeconds {delay_s} is outside 0..{MAX_DELAY_S}")
        body = message.model_dump_json()
        if len(body.encode()) > MAX_SHARD_MESSAGE_BYTES:
            raise ValueError(
                f"shard {message.shard_id}: message of {len(body.encode())} bytes exceeds "
                f"{MAX_SHARD_MESSAGE_BYTES}; make shards smaller"
            )
        entry_id = f"m{index}"
        names[entry_id] = message.shard_id
        entries.append({"Id": entry_id, "MessageBody": body, "DelaySeconds": int(delay_s)})

    by_id = {entry["Id"]: entry for entry in entries}
    failed: dict[str, str] = {}
    for batch in _batches(entries):
        first_failures = _send_batch(client, queue_url, batch)
        retry = [by_id[failure["Id"]] for failure in first_failures if not failure.get("SenderFault")]
        for failure in first_failures:
            if failure.get("SenderFault"):
                failed[names[failure["Id"]]] = f"{failure.get('Code')}: {failure.get('Message', '')}"
        if retry:
            for failure in _send_batch(client, queue_url, retry):
                failed[names[failure["Id"]]] = f"{failure.get('Code')}: {failure.get('Message', '')}"
    if failed:
        raise SendError(failed)
    return len(entries)


def send_dead_letter(
    client: "BaseClient", queue_url: str, body: str, attributes: Mapping[str, str | int] | None = None
) -> str:
    """Put one dead letter (a DeadLetter's JSON) on the DLQ; attributes help filtering; returns its id."""
    message_attributes = {
        name: (
            {"DataType": "Number", "StringValue": str(value)}
            if isinstance(value, int) and not isinstance(value, bool)
            else {"DataType": "String", "StringValue": str(value)}
        )
        for name, value in (attributes or {}).items()
    }
    kwargs: dict[str, Any] = {"QueueUrl": queue_url, "MessageBody": body}
    if message_attributes:
        kwargs["MessageAttributes"] = message_attributes
    return str(client.send_message(**kwargs)["MessageId"])
