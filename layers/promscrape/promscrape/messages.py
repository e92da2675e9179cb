"""The scrape queue's message: one shard of scrapes due at one moment of one job.

The dispatcher writes it, the scraper reads it; both validate it here, at the edge.
"""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class PlannedScrape(BaseModel):
    """One target, ready to scrape: target relabeling already happened in the dispatcher."""

    model_config = ConfigDict(frozen=True)

    url: str
    labels: dict[str, str] = Field(description="target labels that reach samples: no '__' names")
    interval_ms: int
    timeout_ms: int
    due_ms: int = Field(description="epoch milliseconds at which this scrape is planned")


class ShardMessage(BaseModel):
    """What one scraper invocation does: scrape every target, forward to every endpoint."""

    # The job and endpoints carry secrets in clear: a validation error must not quote them.
    model_config = ConfigDict(hide_input_in_errors=True)

    version: Literal[1] = 1
    shard_id: str = Field(description="stable name of the shard: job, slot and index")
    job: dict[str, Any] = Field(description="the job's configuration, as ScrapeJob.to_item dumps it")
    remote_write: list[dict[str, Any]] = Field(
        description="the job's forward_to endpoints, as promscrape.config.RemoteWriteEndpoint dumps them"
    )
    scheduled_ms: int = Field(description="the scheduler tick that planned this shard, epoch ms")
    targets: list[PlannedScrape]
