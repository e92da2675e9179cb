"""The README's `aws dynamodb put-item` examples, run as written through the dispatcher."""

import json
import re
import shlex
from pathlib import Path

from promscrape.dispatcher import run_dispatch
from promscrape.messages import ShardMessage
from promscrape.settings import Settings

TICK_MS = 1_764_090_000_000  # a whole minute


def readme_items(repo_root: Path) -> list[dict]:
    """The `--item` JSON of every put-item command between the README's markers."""
    text = (repo_root / "README.md").read_text()
    block = re.search(r"<!-- readme-put-item:start -->(.*?)<!-- readme-put-item:end -->", text, re.S)
    assert block, "README lost its put-item examples"
    words = shlex.split(block.group(1).replace("```sh", "").replace("```", ""))
    commands = " ".join(words).count("aws dynamodb put-item")
    items = [json.loads(words[i + 1]) for i, word in enumerate(words) if word == "--item"]
    tables = {words[i + 1] for i, word in enumerate(words) if word == "--table-name"}
    assert len(items) == commands and tables == {"$TARGETS_TABLE"}
    return items


def test_readme_items_are_dispatched_as_documented(repo_root: Path, aws_env) -> None:
    items = readme_items(repo_root)
    assert len(items) == 3
    for item in items:
        aws_env.dynamodb.put_item(TableName=aws_env.targets_table, Item=item)

    report = run_dispatch(
        TICK_MS, aws_env.store(), aws_env.sqs, Settings.from_env(), clock_ms=lambda: TICK_MS
    )

    assert report.invalid_jobs == {}
    assert report.invalid_endpoints == {}
    assert report.targets == 1
    assert report.scrapes == 4  # scrape_interval 15s: four scrapes in the minute
    messages = [ShardMessage.model_validate_json(m.body) for m in aws_env.queued(aws_env.scrape_queue_url)]
    scrapes = [scrape for message in messages for scrape in message.targets]
    assert {scrape.url for scrape in scrapes} == {"http://10.0.0.12:9100/metrics"}
    assert {tuple(sorted(scrape.labels.items())) for scrape in scrapes} == {
        (("env", "prod"), ("instance", "10.0.0.12:9100"), ("job", "node"))
    }
    assert {scrape.interval_ms for scrape in scrapes} == {15_000}
    assert {message.remote_write[0]["url"] for message in messages} == {"http://127.0.0.1:9090/api/v1/write"}
