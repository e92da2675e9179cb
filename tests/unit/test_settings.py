"""settings.py: the functions' environment, checked at the edge with errors that name the variable."""

import pytest
from promscrape.settings import Settings, SettingsError

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
