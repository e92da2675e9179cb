"""The environment, validated once at the edge so a bad deployment or shell fails loudly and early.

`Environment` is the one way to read required variables: the functions' `Settings` (template.yaml
sets them on both functions; the local runner sets the same ones), the `promscrape apply/status`
tables (`TablesEnvironment`) and `promscrape dlq` (dlq.DlqEnvironment) all subclass it, so each
reports every missing variable in one message. boto3 itself honours AWS_ENDPOINT_URL (the local
run's moto server), so it is not listed here.
"""

import os
import re
from collections.abc import Mapping
from typing import Annotated, ClassVar, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

# DynamoDB's rule for table names.
_TABLE_NAME = re.compile(r"[A-Za-z0-9_.-]{3,255}")


def _table_name(value: str) -> str:
    if not _TABLE_NAME.fullmatch(value):
        raise ValueError(f"not a DynamoDB table name: {value!r}")
    return value


def _queue_url(value: str) -> str:
    if not value.startswith(("https://", "http://")) or value.rstrip("/").count("/") < 4:
        raise ValueError(f"not an SQS queue URL (https://<endpoint>/<account>/<name>): {value!r}")
    return value


TableName = Annotated[str, AfterValidator(_table_name)]
QueueUrl = Annotated[str, AfterValidator(_queue_url)]


class SettingsError(ValueError):
    """The environment is incomplete or wrong; the message names every offending variable."""


# One declaration per variable, shared by the models that read it.
TargetsTable = Annotated[TableName, Field(alias="TARGETS_TABLE")]
StatusTable = Annotated[TableName, Field(alias="STATUS_TABLE")]
DeadLetterQueueUrl = Annotated[QueueUrl, Field(alias="DEAD_LETTER_QUEUE_URL")]


class Environment(BaseModel):
    """Required environment variables as a frozen model (field aliases are the variable names)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    # Where a person finds the values, added to the message when some are missing ("" for none).
    origin: ClassVar[str] = ""

    @classmethod
    def variable_names(cls) -> list[str]:
        """The environment variables read, in declaration order."""
        return [str(field.alias) for field in cls.model_fields.values()]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        """Read and check the variables (os.environ by default); SettingsError names every bad one.

        An empty variable counts as missing: an unset stack output exported as "" is no value.
        """
        environ = os.environ if environ is None else environ
        names = cls.variable_names()
        missing = [name for name in names if not environ.get(name)]
        if missing:
            where = f" ({cls.origin})" if cls.origin else ""
            raise SettingsError(f"missing environment variable(s): {', '.join(missing)}{where}")
        try:
            return cls.model_validate({name: environ[name] for name in names})
        except ValidationError as error:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
            raise SettingsError(f"invalid environment: {problems}") from None


class Settings(Environment):
    """Where the functions find their resources."""

    targets_table: TargetsTable
    status_table: StatusTable
    scrape_queue_url: QueueUrl = Field(alias="SCRAPE_QUEUE_URL")
    dead_letter_queue_url: DeadLetterQueueUrl
    stack_name: str = Field(alias="STACK_NAME", min_length=1)
    service_name: str = Field(alias="POWERTOOLS_SERVICE_NAME", min_length=1)


class TablesEnvironment(Environment):
    """The tables `promscrape apply` and `promscrape status` work on, from a person's shell."""

    origin: ClassVar[str] = "the outputs TargetsTableName and StatusTableName of `sam deploy`"

    targets_table: TargetsTable
    status_table: StatusTable
