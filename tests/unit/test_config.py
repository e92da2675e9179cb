"""Job configuration: Alloy's prometheus.scrape arguments, their defaults, checks and dumps."""

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from promscrape import config
from promscrape.config import (
    ALLOY_DEFAULT_SCRAPE_PROTOCOLS,
    ALLOY_PROTO_FIRST_SCRAPE_PROTOCOLS,
    IMPLEMENTED_ARGUMENTS,
    PROTOBUF_MESSAGES,
    ConfigError,
    ConfigFile,
    RemoteWriteEndpoint,
    ScrapeJob,
    alloy_scrape_protocols,
    describe_validation_error,
    load_config,
    parse_config,
)
from promscrape.relabel import RelabelConfig
from pydantic import ValidationError

SECRET = "s3cr3t-value-never-shown"


def job(**arguments: Any) -> dict[str, Any]:
    return {"name": "node", "forward_to": ["prom"], **arguments}


def job_errors(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        ScrapeJob.model_validate(data)
    return describe_validation_error(caught.value)


# Alloy's prometheus.scrape arguments table: name -> default (in this model's units).
ALLOY_DEFAULTS: dict[str, Any] = {
    "targets": [],
    "bearer_token_file": "",
    "bearer_token": None,
    "body_size_limit": 0,
    "convert_classic_histograms_to_nhcb": False,
    "enable_compression": True,
    "enable_http2": True,
    "enable_protobuf_negotiation": False,
    "enable_type_and_unit_labels": False,
    "extra_metrics": False,
    "follow_redirects": True,
    "http_headers": {},
    "honor_labels": False,
    "honor_timestamps": True,
    "honor_metadata": False,
    "job_name": "",
    "label_limit": 0,
    "label_name_length_limit": 0,
    "label_value_length_limit": 0,
    "metric_name_escaping_scheme": "underscores",
    "metric_name_validation_scheme": "legacy",
    "metrics_path": "/metrics",
    "native_histogram_bucket_limit": 0,
    "native_histogram_min_bucket_factor": 0.0,
    "no_proxy": "",
    "params": {},
    "proxy_connect_header": {},
    "proxy_from_environment": False,
    "proxy_url": "",
    "sample_limit": 0,
    "scheme": "http",
    "scrape_classic_histograms": False,
    "scrape_failure_log_file": "",
    "scrape_fallback_protocol": "PrometheusText0.0.4",
    "scrape_interval": 60_000,
    "scrape_native_histograms": False,
    "scrape_protocols": [
        "OpenMetricsText1.0.0",
        "OpenMetricsText0.0.1",
        "PrometheusText1.0.0",
        "PrometheusText0.0.4",
    ],
    "scrape_timeout": 10_000,
    "target_limit": 0,
    "track_timestamps_staleness": False,
    "relabel_configs": [],
    "metric_relabel_configs": [],
    "basic_auth": None,
    "authorization": None,
    "oauth2": None,
    "tls_config": None,
    "clustering": None,
}


def test_every_alloy_argument_and_block_with_its_default() -> None:
    parsed = ScrapeJob.model_validate(job())
    assert set(ScrapeJob.model_fields) == {"name", "forward_to", *ALLOY_DEFAULTS}
    assert {name: getattr(parsed, name) for name in ALLOY_DEFAULTS} == ALLOY_DEFAULTS
    assert ALLOY_DEFAULT_SCRAPE_PROTOCOLS == (
        "OpenMetricsText1.0.0",
        "OpenMetricsText0.0.1",
        "PrometheusText1.0.0",
        "PrometheusText0.0.4",
    )
    assert ALLOY_PROTO_FIRST_SCRAPE_PROTOCOLS == (
        "PrometheusProto",
        "OpenMetricsText1.0.0",
        "OpenMetricsText0.0.1",
        "PrometheusText1.0.0",
        "PrometheusText0.0.4",
    )


def test_implemented_arguments() -> None:
    expected = {
        "targets",
        "forward_to",
        "job_name",
        "scrape_interval",
        "scrape_timeout",
        "metrics_path",
        "scheme",
        "params",
        "honor_labels",
        "honor_timestamps",
        "body_size_limit",
        "enable_compression",
        "follow_redirects",
        "http_headers",
        "relabel_configs",
        "metric_relabel_configs",
        "sample_limit",
        "label_limit",
        "label_name_length_limit",
        "label_value_length_limit",
        "scrape_protocols",
        "scrape_fallback_protocol",
        "enable_protobuf_negotiation",
        "scrape_native_histograms",
        "scrape_classic_histograms",
        "native_histogram_bucket_limit",
        "native_histogram_min_bucket_factor",
        "convert_classic_histograms_to_nhcb",
        "honor_metadata",
        "metric_name_validation_scheme",
        "metric_name_escaping_scheme",
        "enable_type_and_unit_labels",
    }
    assert expected == IMPLEMENTED_ARGUMENTS


def test_implemented_arguments_accept_other_values() -> None:
    parsed = ScrapeJob.model_validate(
        job(
            targets=[{"__address__": "127.0.0.1:9100", "env": "dev"}],
            job_name="node-exporter",
            scrape_interval="1m30s",
            scrape_timeout="15s",
            metrics_path="/probe",
            scheme="https",
            params={"module": ["http_2xx", "icmp"]},
            honor_labels=True,
            honor_timestamps=False,
            body_size_limit=1 << 20,
            enable_compression=False,
            follow_redirects=False,
            http_headers={"X-Token": [SECRET]},
            relabel_configs=[{"source_labels": ["__address__"], "target_label": "host"}],
            metric_relabel_configs=[{"regex": "go_.*", "source_labels": ["__name__"], "action": "drop"}],
            scrape_protocols=["PrometheusProto", "PrometheusText0.0.4"],
            scrape_fallback_protocol="OpenMetricsText1.0.0",
        )
    )
    assert parsed.scrape_protocols == ["PrometheusProto", "PrometheusText0.0.4"]
    assert parsed.scrape_fallback_protocol == "OpenMetricsText1.0.0"
    assert parsed.scrape_interval == 90_000
    assert parsed.scrape_timeout == 15_000
    assert parsed.params == {"module": ["http_2xx", "icmp"]}
    assert parsed.http_headers["X-Token"][0].get_secret_value() == SECRET
    assert parsed.relabel_configs == [RelabelConfig(source_labels=["__address__"], target_label="host")]
    assert parsed.metric_relabel_configs[0].action == "drop"
    assert parsed.job_label == "node-exporter"


@pytest.mark.parametrize(
    ("argument", "value"),
    [
        ("bearer_token_file", "/var/run/token"),
        ("bearer_token", SECRET),
        ("enable_http2", False),
        ("extra_metrics", True),
        ("no_proxy", "localhost"),
        ("proxy_connect_header", {"X-Proxy": [SECRET]}),
        ("proxy_from_environment", True),
        ("proxy_url", "http://proxy:3128"),
        ("scrape_failure_log_file", "/tmp/failures.log"),
        ("target_limit", 100),
        ("track_timestamps_staleness", True),
        ("basic_auth", {"username": "u", "password": SECRET}),
        ("authorization", {"type": "Bearer", "credentials": SECRET}),
        ("oauth2", {"client_id": "id", "token_url": "https://t", "client_secret": SECRET}),
        ("tls_config", {"insecure_skip_verify": True}),
        ("clustering", {"enabled": True}),
    ],
)
def test_not_implemented_arguments_are_rejected_by_name(argument: str, value: Any) -> None:
    assert argument not in IMPLEMENTED_ARGUMENTS
    errors = job_errors(job(**{argument: value}))
    assert errors == [f'job "node": {argument} is not supported yet']
    assert SECRET not in str(errors)


@pytest.mark.parametrize(
    ("argument", "value"),
    [
        ("enable_http2", True),
        ("sample_limit", 0),
        ("clustering", {"enabled": False}),
    ],
)
def test_not_implemented_arguments_at_their_default_are_accepted(argument: str, value: Any) -> None:
    parsed = ScrapeJob.model_validate(job(**{argument: value}))
    assert parsed.metric_name_escaping_scheme == "underscores"


def test_several_unsupported_arguments_are_all_named() -> None:
    assert job_errors(job(track_timestamps_staleness=True, enable_http2=False)) == [
        'job "node": enable_http2 is not supported yet',
        'job "node": track_timestamps_staleness is not supported yet',
    ]


@pytest.mark.parametrize(
    "argument", ["sample_limit", "label_limit", "label_name_length_limit", "label_value_length_limit"]
)
def test_limits_are_accepted(argument: str) -> None:
    assert getattr(ScrapeJob.model_validate(job(**{argument: 7})), argument) == 7


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        (
            {"scrape_protocols": ["Foo"]},
            'scrape_protocols: invalid scrape protocol "Foo": unknown scrape protocol Foo, supported: '
            "[OpenMetricsText0.0.1 OpenMetricsText1.0.0 PrometheusProto PrometheusText0.0.4 "
            "PrometheusText1.0.0]",
        ),
        (
            {"scrape_protocols": ["PrometheusText0.0.4", "PrometheusText0.0.4"]},
            'scrape_protocols: duplicate scrape protocol "PrometheusText0.0.4": make sure the scrape '
            "protocols provided are unique",
        ),
        ({"scrape_protocols": []}, "scrape_protocols: scrape_protocols cannot be empty"),
        (
            {"scrape_fallback_protocol": "PrometheusText0_0_4"},
            'scrape_fallback_protocol: invalid scrape_fallback_protocol "PrometheusText0_0_4": unknown '
            "scrape protocol PrometheusText0_0_4, supported: [OpenMetricsText0.0.1 OpenMetricsText1.0.0 "
            "PrometheusProto PrometheusText0.0.4 PrometheusText1.0.0]",
        ),
        (
            {"scrape_timeout": "2m"},
            "scrape_timeout (2m0s) greater than scrape_interval (1m0s) for scrape config with job name "
            '"node"',
        ),
        (
            {"scrape_timeout": "1m30s", "scrape_interval": "1m", "job_name": "nodes"},
            "scrape_timeout (1m30s) greater than scrape_interval (1m0s) for scrape config with job name "
            '"nodes"',
        ),
        (
            {"scrape_interval": "500ms", "scrape_timeout": "1s"},
            'scrape_timeout (1s) greater than scrape_interval (500ms) for scrape config with job name "node"',
        ),
        ({"scrape_interval": "0s"}, "scrape_interval must be greater than 0s"),
        ({"scrape_timeout": "0"}, "scrape_timeout must be greater than 0s"),
        ({"scrape_interval": "1x"}, 'scrape_interval: unknown unit "x" in duration "1x"'),
        ({"scrape_interval": "1.5s"}, 'scrape_interval: unknown unit "." in duration "1.5s"'),
        ({"scrape_timeout": 10}, 'scrape_timeout: expected a duration string such as "1m30s", got int'),
        ({"scheme": "ftp"}, 'scheme: must be "http" or "https", not "ftp"'),
        ({"bogus": 1}, 'unknown argument "bogus"'),
        ({"body_size_limit": True}, "body_size_limit: expected an integer, got a boolean"),
        (
            {"http_headers": {"user-agent": [SECRET]}},
            'http_headers: setting header "User-Agent" is not allowed',
        ),
        (
            {"http_headers": {"X-Prometheus-Scrape-Timeout-Seconds": ["1"]}},
            'http_headers: setting header "X-Prometheus-Scrape-Timeout-Seconds" is not allowed',
        ),
        ({"http_headers": {"X-Token": SECRET}}, "http_headers.X-Token: Input should be a valid list"),
        (
            {"metric_name_validation_scheme": "strict"},
            'metric_name_validation_scheme: invalid metric_name_validation_scheme "strict": must be either '
            '"utf8" or "legacy"',
        ),
        (
            {"metric_name_escaping_scheme": "allow-utf-8"},
            "metric_name_escaping_scheme cannot be set to 'allow-utf-8' while metric_name_validation_scheme "
            "is not set to 'utf8'",
        ),
        ({"forward_to": ["prom", "prom"]}, 'forward_to: endpoint "prom" is listed twice'),
        ({"targets": [{"__address__": 9100}]}, "targets.0.__address__: Input should be a valid string"),
        (
            {"relabel_configs": [{"action": "hashmod", "target_label": "x"}]},
            "relabel_configs.0: relabel configuration for hashmod requires non-zero modulus",
        ),
        (
            {"metric_relabel_configs": [{"action": "Foo"}]},
            'metric_relabel_configs.0: unknown relabel action "Foo"',
        ),
    ],
)
def test_invalid_jobs_name_the_job_and_argument(arguments: dict[str, Any], error: str) -> None:
    assert job_errors(job(**arguments)) == [f'job "node": {error}']


def test_required_arguments() -> None:
    assert job_errors({"name": "x"}) == ['job "x": forward_to is required']
    assert job_errors({"forward_to": []}) == ["job (without a name): name is required"]


@pytest.mark.parametrize("name", ["", "has space", "a#b", "-lead", "ünï"])
def test_job_names_are_plain(name: str) -> None:
    assert job_errors({"name": name, "forward_to": []})[0].endswith(
        "must start with a letter or digit and use only letters, digits and _ . : -"
    )


def test_dynamodb_numbers_are_accepted() -> None:
    parsed = ScrapeJob.model_validate(job(body_size_limit=Decimal("1024")))
    assert parsed.body_size_limit == 1024


def test_secrets_never_shown() -> None:
    parsed = ScrapeJob.model_validate(job(http_headers={"X-Token": [SECRET, SECRET + "2"]}))
    shown = [
        repr(parsed),
        str(parsed),
        str(parsed.to_item()),
        parsed.model_dump_json(),
        str(parsed.model_dump()),
    ]
    assert all(SECRET not in text for text in shown)
    assert parsed.to_item()["http_headers"] == {"X-Token": ["**********", "**********"]}
    assert parsed.to_item(reveal=True)["http_headers"] == {"X-Token": [SECRET, SECRET + "2"]}


def test_secrets_never_in_errors() -> None:
    data = job(http_headers={"X-Token": [SECRET]}, bearer_token=SECRET, scrape_interval="bad")
    with pytest.raises(ValidationError) as caught:
        ScrapeJob.model_validate(data)
    assert SECRET not in str(caught.value)
    assert SECRET not in repr(describe_validation_error(caught.value))
    with pytest.raises(ConfigError) as config_error:
        parse_config(
            {"remote_write": [{"name": "prom", "url": "x", "headers": {"A": SECRET}}], "jobs": [data]}
        )
    assert SECRET not in str(config_error.value)


def test_to_item_round_trips_through_json() -> None:
    original = ScrapeJob.model_validate(
        job(
            targets=[{"__address__": "a:1"}],
            scrape_interval="1m30s",
            scrape_timeout="1s500ms",
            http_headers={"X-Token": [SECRET]},
            params={"a": ["1", "2"]},
            relabel_configs=[
                {"regex": "(.+)", "source_labels": ["a"], "target_label": "b", "replacement": "$1x"}
            ],
        )
    )
    item = json.loads(json.dumps(original.to_item(reveal=True)))
    assert item == {
        "name": "node",
        "forward_to": ["prom"],
        "scrape_interval": "1m30s",
        "scrape_timeout": "1s500ms",
        "http_headers": {"X-Token": [SECRET]},
        "params": {"a": ["1", "2"]},
        "relabel_configs": [
            {"regex": "(.+)", "source_labels": ["a"], "target_label": "b", "replacement": "$1x"}
        ],
    }
    assert ScrapeJob.model_validate(item) == original.model_copy(update={"targets": []})
    with_targets = original.to_item(reveal=True, with_targets=True)
    assert with_targets["targets"] == [{"__address__": "a:1"}]
    assert ScrapeJob.model_validate(json.loads(json.dumps(with_targets))) == original


def test_defaults_are_left_out_of_items() -> None:
    assert ScrapeJob.model_validate(job(scrape_interval="60s", scheme="http")).to_item() == {
        "name": "node",
        "forward_to": ["prom"],
    }


def test_model_dump_has_duration_strings() -> None:
    dumped = ScrapeJob.model_validate(job(scrape_interval="15s")).model_dump()
    assert dumped["scrape_interval"] == "15s"
    assert dumped["scrape_timeout"] == "10s"


def test_remote_write_endpoint_defaults() -> None:
    endpoint = RemoteWriteEndpoint.model_validate(
        {"name": "prom", "url": "http://127.0.0.1:9090/api/v1/write"}
    )
    assert (
        endpoint.headers,
        endpoint.remote_timeout,
        endpoint.max_samples_per_send,
        endpoint.retry_on_http_429,
        endpoint.min_backoff,
        endpoint.max_backoff,
    ) == ({}, 30_000, 2000, True, 30, 5000)


def test_remote_write_endpoint_round_trip_and_secrets() -> None:
    endpoint = RemoteWriteEndpoint.model_validate(
        {
            "name": "mimir",
            "url": "https://mimir.example.com/api/v1/push",
            "headers": {"X-Scope-OrgID": SECRET},
            "remote_timeout": "10s",
            "max_samples_per_send": 500,
            "retry_on_http_429": False,
            "min_backoff": "100ms",
            "max_backoff": "1m",
        }
    )
    assert SECRET not in repr(endpoint) and SECRET not in str(endpoint.to_item())
    item = json.loads(json.dumps(endpoint.to_item(reveal=True)))
    assert item["headers"] == {"X-Scope-OrgID": SECRET}
    assert item["remote_timeout"] == "10s" and item["max_backoff"] == "1m"
    assert RemoteWriteEndpoint.model_validate(item) == endpoint


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({"url": "ftp://host/x"}, 'url: "ftp://host/x" is not an http:// or https:// URL with a host'),
        ({"url": "localhost:9090"}, 'url: "localhost:9090" is not an http:// or https:// URL with a host'),
        ({"url": "http:///x"}, 'url: "http:///x" is not an http:// or https:// URL with a host'),
        (
            {"url": "http://h", "max_samples_per_send": 0},
            "max_samples_per_send: Input should be greater than 0",
        ),
        ({"url": "http://h", "remote_timeout": "0s"}, "remote_timeout must be greater than 0s"),
        ({"url": "http://h", "min_backoff": "10s"}, "min_backoff (10s) greater than max_backoff (5s)"),
        ({"url": "http://h", "queue_config": {}}, 'unknown argument "queue_config"'),
        ({"url": "http://h", "headers": {"A": 1}}, "headers.A: Input should be a valid string"),
        ({"url": "http://[::1/x"}, 'url: "http://[::1/x" is not an http:// or https:// URL with a host'),
        # Prometheus's reserved headers: the sender's own, hop-by-hop and SigV4 ones, any case.
        (
            {"url": "http://h", "headers": {"Content-Encoding": "gzip"}},
            "headers: Content-Encoding is a reserved header. It must not be changed",
        ),
        (
            {"url": "http://h", "headers": {"content-type": "text/plain"}},
            "headers: content-type is a reserved header. It must not be changed",
        ),
        (
            {"url": "http://h", "headers": {"User-Agent": "me"}},
            "headers: User-Agent is a reserved header. It must not be changed",
        ),
        (
            {"url": "http://h", "headers": {"X-Prometheus-Remote-Write-Version": "2.0.0"}},
            "headers: X-Prometheus-Remote-Write-Version is a reserved header. It must not be changed",
        ),
        (
            {"url": "http://h", "headers": {"HOST": "other"}},
            "headers: HOST is a reserved header. It must not be changed",
        ),
        (
            {"url": "http://h", "headers": {"X-Amz-Date": "now"}},
            "headers: X-Amz-Date is a reserved header. It must not be changed",
        ),
        # Authorization comes from one place: the header or the URL's userinfo, not both.
        (
            {"url": f"https://user:{SECRET}@h/push", "headers": {"authorization": "Bearer t"}},
            "at most one of an Authorization header and a user:password@ in the URL must be configured",
        ),
        # The URL's password is a secret: redacted as Go's URL.Redacted() does.
        (
            {"url": f"ftp://user:{SECRET}@h/x"},
            'url: "ftp://user:xxxxx@h/x" is not an http:// or https:// URL with a host',
        ),
    ],
)
def test_invalid_remote_write_endpoints(arguments: dict[str, Any], error: str) -> None:
    with pytest.raises(ValidationError) as caught:
        RemoteWriteEndpoint.model_validate({"name": "prom", **arguments})
    assert describe_validation_error(caught.value) == [f'remote_write "prom": {error}']


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": f"Bearer {SECRET}"},
        {"X-Scope-OrgID": "tenant-1", "Retry-After": "1"},
        {"X-Prometheus-Scrape-Timeout-Seconds": "10"},  # reserved for scrapes only
    ],
)
def test_remote_write_headers_that_are_allowed(headers: dict[str, str]) -> None:
    endpoint = RemoteWriteEndpoint.model_validate(
        {"name": "prom", "url": "https://h/push", "headers": headers}
    )
    assert {name: value.get_secret_value() for name, value in endpoint.headers.items()} == headers


def test_remote_write_url_password_never_in_repr() -> None:
    endpoint = RemoteWriteEndpoint.model_validate(
        {"name": "prom", "url": f"https://user:{SECRET}@h:9/push?a@b"}
    )
    assert "url='https://user:xxxxx@h:9/push?a@b'" in repr(endpoint)
    assert SECRET not in repr(endpoint) and SECRET not in str(endpoint)
    assert endpoint.url == f"https://user:{SECRET}@h:9/push?a@b"


def test_example_config_loads(repo_root: Path) -> None:
    config = load_config(repo_root / "examples" / "config.yaml")
    assert [endpoint.name for endpoint in config.remote_write] == ["local-prometheus", "mimir"]
    assert [(j.name, j.job_label, j.forward_to) for j in config.jobs] == [
        ("node", "node", ["local-prometheus", "mimir"]),
        ("blackbox", "blackbox-http", ["mimir"]),
    ]
    node, blackbox = config.jobs
    assert (node.scrape_interval, node.scrape_timeout) == (15_000, 10_000)
    assert node.targets[0] == {"__address__": "127.0.0.1:9100", "env": "dev"}
    assert node.relabel_configs[0].regex == "([^:]+):\\d+"
    assert blackbox.params == {"module": ["http_2xx"]}
    assert blackbox.relabel_configs[-1].action == "hashmod"
    assert config.remote_write[1].max_samples_per_send == 1000


CONFIG_ERRORS = [
    (
        {"remote_write": [{"name": "prom", "url": "http://h"}], "jobs": [job(forward_to=["prom", "cloud"])]},
        ['job "node": forward_to: no remote_write endpoint named "cloud"'],
    ),
    (
        {
            "remote_write": [{"name": "prom", "url": "http://h"}, {"name": "prom", "url": "http://i"}],
            "jobs": [job(), job()],
        },
        ['remote_write "prom": the name is used twice', 'job "node": the name is used twice'],
    ),
    (
        {"remote_write": [], "jobs": [], "scrape_configs": []},
        ['unknown argument "scrape_configs"'],
    ),
    (
        {
            "remote_write": [{"name": "prom", "url": "nope"}],
            "jobs": [job(sample_limit=5, scrape_interval="5s", scrape_timeout="6s"), {"name": "x"}],
        },
        [
            'remote_write "prom": url: "nope" is not an http:// or https:// URL with a host',
            'job "node": scrape_timeout (6s) greater than scrape_interval (5s) for scrape config with '
            'job name "node"',
            'job "x": forward_to is required',
        ],
    ),
    (
        {"jobs": ["just a string"]},
        ["job (without a name): Input should be a valid dictionary or instance of ScrapeJob"],
    ),
]


@pytest.mark.parametrize(("document", "lines"), CONFIG_ERRORS)
def test_config_file_errors(document: dict[str, Any], lines: list[str]) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(document, "jobs.yaml")
    assert str(caught.value) == "\n  ".join(["jobs.yaml: invalid configuration:", *lines])


def test_load_config_errors(tmp_path: Path) -> None:
    not_yaml = tmp_path / "bad.yaml"
    not_yaml.write_text("jobs: [\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: not valid YAML: "):
        load_config(not_yaml)
    a_list = tmp_path / "list.yaml"
    a_list.write_text("- 1\n")
    with pytest.raises(ConfigError, match=r"list\.yaml: expected a mapping with 'remote_write' and 'jobs'"):
        load_config(a_list)
    with pytest.raises(ConfigError, match=r"missing\.yaml: cannot read: No such file or directory"):
        load_config(tmp_path / "missing.yaml")


def test_empty_config_file_is_valid() -> None:
    assert parse_config({}) == ConfigFile()


# ---- scrape protocols (REFERENCE §1, Alloy's prometheus.scrape Validate) ----

SUPPORTED = (
    "[OpenMetricsText0.0.1 OpenMetricsText1.0.0 PrometheusProto PrometheusText0.0.4 PrometheusText1.0.0]"
)
OM1, OM0, PT1, PT0, PROTO = (
    "OpenMetricsText1.0.0",
    "OpenMetricsText0.0.1",
    "PrometheusText1.0.0",
    "PrometheusText0.0.4",
    "PrometheusProto",
)


@pytest.mark.parametrize(
    "protocols",
    [[OM1], [OM0], [PT1], [PT0], [PROTO], [PT0, PROTO], [PROTO, OM1, OM0, PT1, PT0], [PT1, OM0, PT0]],
)
def test_every_protocol_is_accepted_in_any_order(protocols: list[str]) -> None:
    parsed = ScrapeJob.model_validate(job(scrape_protocols=protocols))
    assert parsed.scrape_protocols == protocols
    assert parsed.to_item()["scrape_protocols"] == protocols


@pytest.mark.parametrize("fallback", [OM1, OM0, PT1, PT0, PROTO, ""])
def test_every_fallback_protocol_and_none_are_accepted(fallback: str) -> None:
    parsed = ScrapeJob.model_validate(job(scrape_fallback_protocol=fallback))
    assert parsed.scrape_fallback_protocol == fallback
    item = parsed.to_item()
    assert item.get("scrape_fallback_protocol", PT0) == fallback
    assert ScrapeJob.model_validate(item) == parsed


def test_default_protocols_are_alloys_and_stay_out_of_items() -> None:
    parsed = ScrapeJob.model_validate(job())
    assert parsed.scrape_protocols == [OM1, OM0, PT1, PT0]
    assert parsed.scrape_fallback_protocol == PT0
    explicit = ScrapeJob.model_validate(job(scrape_protocols=[OM1, OM0, PT1, PT0]))
    assert explicit.to_item() == {"name": "node", "forward_to": ["prom"]}


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({"scrape_protocols": []}, "scrape_protocols: scrape_protocols cannot be empty"),
        (
            {"scrape_protocols": [PT0, "prometheustext0.0.4"]},
            'scrape_protocols: invalid scrape protocol "prometheustext0.0.4": unknown scrape protocol '
            f"prometheustext0.0.4, supported: {SUPPORTED}",
        ),
        (
            {"scrape_protocols": [PROTO, OM1, PROTO]},
            'scrape_protocols: duplicate scrape protocol "PrometheusProto": make sure the scrape '
            "protocols provided are unique",
        ),
        (
            {"scrape_protocols": ["Foo", "Foo"]},
            'scrape_protocols: invalid scrape protocol "Foo": unknown scrape protocol Foo, supported: '
            f"{SUPPORTED}",
        ),
        (
            {"scrape_protocols": ["OpenMetricsText2.0.0"]},
            'scrape_protocols: invalid scrape protocol "OpenMetricsText2.0.0": unknown scrape protocol '
            f"OpenMetricsText2.0.0, supported: {SUPPORTED}",
        ),
        ({"scrape_protocols": PT0}, "scrape_protocols: Input should be a valid list"),
        (
            {"scrape_fallback_protocol": "Prometheusproto"},
            'scrape_fallback_protocol: invalid scrape_fallback_protocol "Prometheusproto": unknown '
            f"scrape protocol Prometheusproto, supported: {SUPPORTED}",
        ),
        (
            {"scrape_fallback_protocol": " "},
            'scrape_fallback_protocol: invalid scrape_fallback_protocol " ": unknown scrape protocol  , '
            f"supported: {SUPPORTED}",
        ),
        (
            {"scrape_native_histograms": True, "scrape_protocols": [OM1, PT0]},
            "scrape_native_histograms is set to true, but PrometheusProto is not in scrape_protocols",
        ),
        (
            {"enable_protobuf_negotiation": True, "scrape_protocols": [PT0]},
            "both enable_protobuf_negotiation and scrape_protocols are set, only one can be set at a time",
        ),
        (
            {"enable_protobuf_negotiation": True, "scrape_protocols": [PROTO, OM1, OM0, PT1, PT0]},
            "both enable_protobuf_negotiation and scrape_protocols are set, only one can be set at a time",
        ),
    ],
)
def test_invalid_protocol_arguments(arguments: dict[str, Any], error: str) -> None:
    assert job_errors(job(**arguments)) == [f'job "node": {error}']


DEFAULT = [OM1, OM0, PT1, PT0]
PROTO_FIRST = [PROTO, OM1, OM0, PT1, PT0]


@pytest.mark.parametrize(
    ("protocols", "native", "negotiation", "expected"),
    [
        (DEFAULT, False, False, (DEFAULT, False)),
        ([PT0], False, False, ([PT0], False)),
        (DEFAULT, True, False, (PROTO_FIRST, True)),
        ([PT0, PROTO], True, False, ([PT0, PROTO], True)),
        ([PROTO], True, False, ([PROTO], True)),
        (DEFAULT, False, True, (PROTO_FIRST, True)),
        (DEFAULT, True, True, (PROTO_FIRST, True)),
    ],
)
def test_alloy_scrape_protocols(
    protocols: list[str], native: bool, negotiation: bool, expected: tuple[list[str], bool]
) -> None:
    given = list(protocols)
    assert (
        alloy_scrape_protocols(
            protocols, scrape_native_histograms=native, enable_protobuf_negotiation=negotiation
        )
        == expected
    )
    assert protocols == given


@pytest.mark.parametrize(
    ("protocols", "native", "negotiation", "error"),
    [
        (
            [OM1],
            True,
            False,
            "scrape_native_histograms is set to true, but PrometheusProto is not in scrape_protocols",
        ),
        (
            [PT0],
            False,
            True,
            "both enable_protobuf_negotiation and scrape_protocols are set, only one can be set",
        ),
        (PROTO_FIRST, True, True, "both enable_protobuf_negotiation and scrape_protocols are set"),
    ],
)
def test_alloy_scrape_protocols_errors(
    protocols: list[str], native: bool, negotiation: bool, error: str
) -> None:
    with pytest.raises(ValueError, match=error):
        alloy_scrape_protocols(
            protocols, scrape_native_histograms=native, enable_protobuf_negotiation=negotiation
        )


@pytest.fixture
def native_histograms_implemented(monkeypatch: pytest.MonkeyPatch) -> None:
    """As once the scraper wires native histograms: those two arguments are no longer refused."""
    gated = {"scrape_native_histograms", "enable_protobuf_negotiation"}
    monkeypatch.setattr(
        config, "_NOT_IMPLEMENTED", tuple(n for n in config._NOT_IMPLEMENTED if n not in gated)
    )


@pytest.mark.parametrize(
    ("arguments", "protocols", "native", "item"),
    [
        ({"scrape_native_histograms": True}, PROTO_FIRST, True, {"scrape_native_histograms": True}),
        (
            {"scrape_native_histograms": True, "scrape_protocols": DEFAULT},
            PROTO_FIRST,
            True,
            {"scrape_native_histograms": True},
        ),
        (
            {"scrape_native_histograms": True, "scrape_protocols": [PT0, PROTO]},
            [PT0, PROTO],
            True,
            {"scrape_native_histograms": True, "scrape_protocols": [PT0, PROTO]},
        ),
        ({"enable_protobuf_negotiation": True}, PROTO_FIRST, True, {"enable_protobuf_negotiation": True}),
        (
            {"enable_protobuf_negotiation": True, "scrape_native_histograms": True},
            PROTO_FIRST,
            True,
            {"enable_protobuf_negotiation": True},
        ),
        (
            {"scrape_native_histograms": True, "scrape_protocols": PROTO_FIRST},
            PROTO_FIRST,
            True,
            {"scrape_native_histograms": True},
        ),
    ],
)
@pytest.mark.usefixtures("native_histograms_implemented")
def test_derived_protocols_and_their_items(
    arguments: dict[str, Any], protocols: list[str], native: bool, item: dict[str, Any]
) -> None:
    parsed = ScrapeJob.model_validate(job(**arguments))
    assert (parsed.scrape_protocols, parsed.scrape_native_histograms) == (protocols, native)
    dumped = json.loads(json.dumps(parsed.to_item()))
    assert dumped == {"name": "node", "forward_to": ["prom"], **item}
    assert ScrapeJob.model_validate(dumped) == parsed


# ---- remote write protobuf_message (Alloy's prometheus.remote_write endpoint) ----


def test_protobuf_messages() -> None:
    assert PROTOBUF_MESSAGES == ("prometheus.WriteRequest", "io.prometheus.write.v2.Request")


@pytest.mark.parametrize(
    ("arguments", "message", "item"),
    [
        ({}, "prometheus.WriteRequest", {}),
        ({"protobuf_message": "prometheus.WriteRequest"}, "prometheus.WriteRequest", {}),
        (
            {"protobuf_message": "io.prometheus.write.v2.Request"},
            "io.prometheus.write.v2.Request",
            {"protobuf_message": "io.prometheus.write.v2.Request"},
        ),
    ],
)
def test_remote_write_protobuf_message(arguments: dict[str, Any], message: str, item: dict[str, Any]) -> None:
    endpoint = RemoteWriteEndpoint.model_validate({"name": "prom", "url": "http://h/push", **arguments})
    assert endpoint.protobuf_message == message
    assert endpoint.to_item() == {"name": "prom", "url": "http://h/push", **item}
    assert RemoteWriteEndpoint.model_validate(endpoint.to_item()) == endpoint


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (
            "io.prometheus.write.v3.Request",
            'invalid protobuf_message "io.prometheus.write.v3.Request" for endpoint "prom": unknown type '
            "for remote write protobuf message io.prometheus.write.v3.Request, supported: "
            "prometheus.WriteRequest, io.prometheus.write.v2.Request",
        ),
        (
            "Prometheus.WriteRequest",
            'invalid protobuf_message "Prometheus.WriteRequest" for endpoint "prom": unknown type for '
            "remote write protobuf message Prometheus.WriteRequest, supported: prometheus.WriteRequest, "
            "io.prometheus.write.v2.Request",
        ),
        (
            "",
            'invalid protobuf_message "" for endpoint "prom": unknown type for remote write protobuf '
            "message , supported: prometheus.WriteRequest, io.prometheus.write.v2.Request",
        ),
        (
            "2.0",
            'invalid protobuf_message "2.0" for endpoint "prom": unknown type for remote write protobuf '
            "message 2.0, supported: prometheus.WriteRequest, io.prometheus.write.v2.Request",
        ),
        (2, "protobuf_message: Input should be a valid string"),
    ],
)
def test_invalid_remote_write_protobuf_message(value: Any, error: str) -> None:
    with pytest.raises(ValidationError) as caught:
        RemoteWriteEndpoint.model_validate(
            {"name": "prom", "url": "http://h/push", "protobuf_message": value}
        )
    assert describe_validation_error(caught.value) == [f'remote_write "prom": {error}']


def test_protobuf_message_error_in_a_config_file() -> None:
    document = {
        "remote_write": [{"name": "v2", "url": "http://h", "protobuf_message": "v2"}],
        "jobs": [job(forward_to=["v2"])],
    }
    with pytest.raises(ConfigError) as caught:
        parse_config(document, "c.yaml")
    assert str(caught.value) == (
        "c.yaml: invalid configuration:\n"
        '  remote_write "v2": invalid protobuf_message "v2" for endpoint "v2": unknown type for remote '
        "write protobuf message v2, supported: prometheus.WriteRequest, io.prometheus.write.v2.Request"
    )


@pytest.fixture
def name_schemes_implemented(monkeypatch: pytest.MonkeyPatch) -> None:
    """As once the scraper wires the name schemes: those arguments are no longer refused."""
    gated = {"metric_name_validation_scheme", "metric_name_escaping_scheme"}
    monkeypatch.setattr(
        config, "_NOT_IMPLEMENTED", tuple(n for n in config._NOT_IMPLEMENTED if n not in gated)
    )


@pytest.mark.parametrize(
    ("arguments", "escaping", "item"),
    [
        ({}, "underscores", {}),
        ({"metric_name_escaping_scheme": ""}, "underscores", {}),
        ({"metric_name_escaping_scheme": "underscores"}, "underscores", {}),
        ({"metric_name_escaping_scheme": "values"}, "values", {"metric_name_escaping_scheme": "values"}),
        ({"metric_name_validation_scheme": "utf8"}, "allow-utf-8", {"metric_name_validation_scheme": "utf8"}),
        (
            {"metric_name_validation_scheme": "utf8", "metric_name_escaping_scheme": ""},
            "allow-utf-8",
            {"metric_name_validation_scheme": "utf8"},
        ),
        (
            {"metric_name_validation_scheme": "utf8", "metric_name_escaping_scheme": "underscores"},
            "underscores",
            {"metric_name_validation_scheme": "utf8", "metric_name_escaping_scheme": "underscores"},
        ),
        (
            {"metric_name_validation_scheme": "utf8", "metric_name_escaping_scheme": "dots"},
            "dots",
            {"metric_name_validation_scheme": "utf8", "metric_name_escaping_scheme": "dots"},
        ),
    ],
)
@pytest.mark.usefixtures("name_schemes_implemented")
def test_escaping_scheme_follows_validation_when_unset(
    arguments: dict[str, Any], escaping: str, item: dict[str, Any]
) -> None:
    """Alloy fills an unset escaping scheme in from the validation scheme (REFERENCE §1)."""
    parsed = ScrapeJob.model_validate(job(**arguments))
    assert parsed.metric_name_escaping_scheme == escaping
    dumped = json.loads(json.dumps(parsed.to_item()))
    assert dumped == {"name": "node", "forward_to": ["prom"], **item}
    assert ScrapeJob.model_validate(dumped) == parsed


@pytest.mark.parametrize("factor", [float("nan"), float("inf")])
def test_min_bucket_factor_must_be_finite(factor: float) -> None:
    assert job_errors(job(native_histogram_min_bucket_factor=factor)) == [
        'job "node": native_histogram_min_bucket_factor: Input should be a finite number'
    ]
