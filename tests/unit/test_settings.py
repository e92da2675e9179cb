"""settings.py: the environment, checked at the edge with errors that name the variable.

Settings (the functions), TablesEnvironment (`promscrape apply/status`) and dlq.DlqEnvironment
(`promscrape dlq`) share Environment.from_env: the same checks and the same messages.
"""

import pytest
from promscrape.dlq import DlqEnvironment
from promscrape.settings import Environment, Settings, SettingsError, TablesEnvironment

GOOD = {
    "TARGETS_TABLE": "promscrape-TargetsTable-1ABC",
    "STATUS_TABLE": "promscrape-StatusTable-2DEF",
    "SCRAPE_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/promscrape-ScrapeQueue-3GHI",
    "DEAD_LETTER_QUEUE_URL": "http://127.0.0.1:5000/123456789012/promscrape-DeadLetterQueue",
    "STACK_NAME": "promscrape",
    "POWERTOOLS_SERVICE_NAME": "promscrape",
}


def test_reads_every_variable() -> None:
    settings = Settings.from_env({**GOOD, "UNRELATED": "x"})
    assert (
        settings.targets_table,
        settings.status_table,
        settings.scrape_queue_url,
        settings.dead_letter_queue_url,
        settings.stack_name,
        settings.service_name,
    ) == tuple(GOOD.values())


def test_variable_names() -> None:
    assert Settings.variable_names() == list(GOOD)


def test_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in GOOD.items():
        monkeypatch.setenv(name, value)
    assert Settings.from_env().stack_name == "promscrape"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({}, "missing environment variable(s): " + ", ".join(GOOD)),
        (
            {k: v for k, v in GOOD.items() if k != "STATUS_TABLE"},
            "missing environment variable(s): STATUS_TABLE",
        ),
        ({**GOOD, "SCRAPE_QUEUE_URL": ""}, "missing environment variable(s): SCRAPE_QUEUE_URL"),
        (
            {**GOOD, "TARGETS_TABLE": "no spaces allowed"},
            "invalid environment: TARGETS_TABLE: Value error, not a DynamoDB table name: 'no spaces allowed'",
        ),
        (
            {**GOOD, "DEAD_LETTER_QUEUE_URL": "promscrape-DeadLetterQueue"},
            "invalid environment: DEAD_LETTER_QUEUE_URL: Value error, not an SQS queue URL "
            "(https://<endpoint>/<account>/<name>): 'promscrape-DeadLetterQueue'",
        ),
    ],
)
def test_errors_name_the_variable(environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(environ)
    assert str(raised.value) == message


def test_settings_are_frozen() -> None:
    settings = Settings.from_env(GOOD)
    with pytest.raises(ValueError, match="frozen"):
        settings.stack_name = "other"  # type: ignore[misc]


TABLES_ORIGIN = " (the outputs TargetsTableName and StatusTableName of `sam deploy`)"
DLQ_ORIGIN = " (the outputs DeadLetterQueueUrl and TargetsTableName of `sam deploy`)"


@pytest.mark.parametrize(
    ("model", "names"),
    [
        (TablesEnvironment, ["TARGETS_TABLE", "STATUS_TABLE"]),
        (DlqEnvironment, ["DEAD_LETTER_QUEUE_URL", "TARGETS_TABLE"]),
    ],
)
def test_command_variable_names(model: type[Environment], names: list[str]) -> None:
    assert model.variable_names() == names


def test_command_environments_read_their_variables() -> None:
    assert TablesEnvironment.from_env(GOOD).model_dump() == {
        "targets_table": GOOD["TARGETS_TABLE"],
        "status_table": GOOD["STATUS_TABLE"],
    }
    assert DlqEnvironment.from_env(GOOD).model_dump() == {
        "queue_url": GOOD["DEAD_LETTER_QUEUE_URL"],
        "targets_table": GOOD["TARGETS_TABLE"],
    }


@pytest.mark.parametrize(
    ("model", "environ", "message"),
    [
        (
            TablesEnvironment,
            {},
            "missing environment variable(s): TARGETS_TABLE, STATUS_TABLE" + TABLES_ORIGIN,
        ),
        (
            TablesEnvironment,
            {"TARGETS_TABLE": "", "STATUS_TABLE": GOOD["STATUS_TABLE"]},
            "missing environment variable(s): TARGETS_TABLE" + TABLES_ORIGIN,
        ),
        (
            TablesEnvironment,
            {"TARGETS_TABLE": "t", "STATUS_TABLE": "promscrape status"},
            "invalid environment: TARGETS_TABLE: Value error, not a DynamoDB table name: 't'; "
            "STATUS_TABLE: Value error, not a DynamoDB table name: 'promscrape status'",
        ),
        (
            DlqEnvironment,
            {"STATUS_TABLE": GOOD["STATUS_TABLE"]},
            "missing environment variable(s): DEAD_LETTER_QUEUE_URL, TARGETS_TABLE" + DLQ_ORIGIN,
        ),
        (
            DlqEnvironment,
            {**GOOD, "DEAD_LETTER_QUEUE_URL": ""},
            "missing environment variable(s): DEAD_LETTER_QUEUE_URL" + DLQ_ORIGIN,
        ),
        (
            DlqEnvironment,
            {**GOOD, "DEAD_LETTER_QUEUE_URL": "sqs://queue"},
            "invalid environment: DEAD_LETTER_QUEUE_URL: Value error, not an SQS queue URL "
            "(https://<endpoint>/<account>/<name>): 'sqs://queue'",
        ),
    ],
)
def test_command_environment_errors(model: type[Environment], environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        model.from_env(environ)
    assert str(raised.value) == message
