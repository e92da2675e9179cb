"""Job and remote-write configuration: Alloy's `prometheus.scrape` arguments as pydantic models.

Every argument and block of Alloy's `prometheus.scrape` reference is a field here with Alloy's
name, type and default, so a job written for Alloy reads the same. Arguments this project does
not implement yet are rejected when set to anything but their default (`<name> is not supported
yet`); the implemented ones are listed once, in IMPLEMENTED_ARGUMENTS.

Durations are int milliseconds in memory (`job.scrape_interval == 60000`), Prometheus duration
strings (`"1m30s"`) on input and in every dump. Secrets are `SecretStr`: never printed, and
dumped in clear only by `to_item(reveal=True)`, which is what the store (DynamoDB, encrypted at
rest) and the scrape queue (SQS with server-side encryption) receive; any other dump masks them.
Validation errors never show input values in `str(error)` or `describe_validation_error(error)`;
`ValidationError.errors()` still carries the input, so never log that.
"""

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Final, Self
from urllib.parse import urlsplit, urlunsplit

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    SecretStr,
    SerializationInfo,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from promscrape.durations import format_duration, format_go_duration, parse_duration
from promscrape.gostring import go_quote
from promscrape.relabel import RelabelConfig

__all__ = [
    "ALLOY_DEFAULT_SCRAPE_PROTOCOLS",
    "ALLOY_PROTO_FIRST_SCRAPE_PROTOCOLS",
    "IMPLEMENTED_ARGUMENTS",
    "PROTOBUF_MESSAGES",
    "SCRAPE_PROTOCOLS",
    "Authorization",
    "BasicAuth",
    "Clustering",
    "ConfigError",
    "ConfigFile",
    "OAuth2",
    "RelabelConfig",
    "RemoteWriteEndpoint",
    "ScrapeJob",
    "TLSConfig",
    "alloy_scrape_protocols",
    "describe_validation_error",
    "load_config",
    "parse_config",
]

# The prometheus.scrape arguments this project implements; every other one must keep its default.
IMPLEMENTED_ARGUMENTS: Final[frozenset[str]] = frozenset(
    {
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
)
# Protocols Prometheus knows (config.ScrapeProtocolsHeaders), sorted as its error messages list them.
SCRAPE_PROTOCOLS: Final = (
    "OpenMetricsText0.0.1",
    "OpenMetricsText1.0.0",
    "PrometheusProto",
    "PrometheusText0.0.4",
    "PrometheusText1.0.0",
)
# Alloy's defaults: Prometheus's DefaultScrapeProtocols, and DefaultProtoFirstScrapeProtocols, which
# replaces them when native histograms are scraped (protobuf is the format that carries them).
ALLOY_DEFAULT_SCRAPE_PROTOCOLS: Final = (
    "OpenMetricsText1.0.0",
    "OpenMetricsText0.0.1",
    "PrometheusText1.0.0",
    "PrometheusText0.0.4",
)
ALLOY_PROTO_FIRST_SCRAPE_PROTOCOLS: Final = ("PrometheusProto", *ALLOY_DEFAULT_SCRAPE_PROTOCOLS)
# client_golang exp/api/remote WriteMessageType values: remote write 1.0 and 2.0.
PROTOBUF_MESSAGES: Final = ("prometheus.WriteRequest", "io.prometheus.write.v2.Request")
# prometheus/common config.ReservedHeaders: http_headers may not set these.
RESERVED_HEADERS: Final = frozenset(
    {
        "Authorization",
        "Host",
        "Content-Encoding",
        "Content-Length",
        "Content-Type",
        "User-Agent",
        "Connection",
        "Keep-Alive",
        "Proxy-Authenticate",
        "Proxy-Authorization",
        "Www-Authenticate",
        "Accept-Encoding",
        "X-Prometheus-Remote-Write-Version",
        "X-Prometheus-Remote-Read-Version",
        "X-Prometheus-Scrape-Timeout-Seconds",
        "X-Amz-Date",
        "X-Amz-Security-Token",
        "X-Amz-Content-Sha256",
    }
)
# prometheus/config reservedHeaders: a remote-write endpoint's `headers` may not set these (the
# protocol's own headers, hop-by-hop and SigV4 ones), compared case-insensitively as Prometheus does.
REMOTE_WRITE_RESERVED_HEADERS: Final = frozenset(
    name.lower() for name in RESERVED_HEADERS - {"Authorization", "X-Prometheus-Scrape-Timeout-Seconds"}
)
# Job and endpoint names become DynamoDB keys (`JOB#<name>`) and shard ids: keep them plain.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]*")
_MASK = "**********"


class ConfigError(ValueError):
    """A configuration that cannot be used; the message names the job or endpoint and argument."""


class _Problems(ValueError):
    """Several messages from one validator, kept apart so they are listed one per line."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("; ".join(lines))
        self.lines = lines


def _duration_input(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError(f'expected a duration string such as "1m30s", got {type(value).__name__}')
    return parse_duration(value)


def _not_bool(value: Any) -> Any:
    """YAML `true` is not a number (pydantic would read it as 1)."""
    if isinstance(value, bool):
        raise ValueError("expected an integer, got a boolean")
    return value


def _dump_secret(value: SecretStr, info: SerializationInfo) -> str:
    if info.context and info.context.get("reveal"):
        return value.get_secret_value()
    return _MASK


Duration = Annotated[int, BeforeValidator(_duration_input), PlainSerializer(format_duration, return_type=str)]
Secret = Annotated[SecretStr, PlainSerializer(_dump_secret, return_type=str)]
Int = Annotated[int, BeforeValidator(_not_bool)]
UInt = Annotated[int, BeforeValidator(_not_bool), Field(ge=0)]


class _Model(BaseModel):
    """Unknown keys are errors, and no input value (secrets!) ever appears in an error."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    def to_item(self, *, reveal: bool = False) -> dict[str, Any]:
        """JSON-safe dict of the arguments that differ from their defaults; durations as strings.

        Secrets are masked unless `reveal=True` (only for the encrypted store and queue).
        """
        return self.model_dump(mode="json", exclude_defaults=True, context={"reveal": reveal})


class BasicAuth(_Model):
    """The `basic_auth` block."""

    password_file: str = ""
    password: Secret | None = None
    username: str = ""


class Authorization(_Model):
    """The `authorization` block."""

    credentials_file: str = ""
    credentials: Secret | None = None
    type: str = ""


class TLSConfig(_Model):
    """The `tls_config` block."""

    ca_pem: str = ""
    ca_file: str = ""
    cert_pem: str = ""
    cert_file: str = ""
    insecure_skip_verify: bool = False
    key_file: str = ""
    key_pem: Secret | None = None
    min_version: str = ""
    server_name: str = ""


class OAuth2(_Model):
    """The `oauth2` block (with its own `tls_config`)."""

    client_id: str
    token_url: str
    audience: str = ""
    claims: dict[str, Any] = {}
    client_certificate_key: Secret | None = None
    client_certificate_key_file: str = ""
    client_certificate_key_id: str = ""
    client_secret: Secret | None = None
    client_secret_file: str = ""
    endpoint_params: dict[str, str] = {}
    grant_type: str = "client_credentials"
    iss: str = ""
    no_proxy: str = ""
    proxy_connect_header: dict[str, list[Secret]] = {}
    proxy_from_environment: bool = False
    proxy_url: str = ""
    scopes: list[str] = []
    signature_algorithm: str = "RS256"
    tls_config: TLSConfig | None = None


class Clustering(_Model):
    """The `clustering` block; `enabled = false` is a no-op, as in Alloy."""

    enabled: bool


def _canonical_header(name: str) -> str:
    """Go's http.CanonicalHeaderKey for the usual token characters."""
    return "-".join(part[:1].upper() + part[1:].lower() for part in name.split("-"))


def _check_name(kind: str, name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ValueError(
            f"{kind} name {go_quote(name)} must start with a letter or digit and use only "
            "letters, digits and _ . : -"
        )
    return name


class ScrapeJob(_Model):
    """One `prometheus.scrape` component: a job, its targets and where its samples go."""

    name: str = Field(description="the job's own name (Alloy's component label); job label default")
    forward_to: list[str] = Field(description="names of remote_write endpoints")
    targets: list[dict[str, str]] = Field(
        default=[], description="label sets; stored as separate items, so optional here"
    )
    bearer_token_file: str = ""
    bearer_token: Secret | None = None
    body_size_limit: Int = 0
    convert_classic_histograms_to_nhcb: bool = False
    enable_compression: bool = True
    enable_http2: bool = True
    enable_protobuf_negotiation: bool = False
    enable_type_and_unit_labels: bool = False
    extra_metrics: bool = False
    follow_redirects: bool = True
    http_headers: dict[str, list[Secret]] = {}
    honor_labels: bool = False
    honor_timestamps: bool = True
    honor_metadata: bool = False
    job_name: str = ""
    label_limit: UInt = 0
    label_name_length_limit: UInt = 0
    label_value_length_limit: UInt = 0
    metric_name_escaping_scheme: str = "underscores"
    metric_name_validation_scheme: str = "legacy"
    metrics_path: str = "/metrics"
    native_histogram_bucket_limit: UInt = 0
    native_histogram_min_bucket_factor: Annotated[float, Field(allow_inf_nan=False)] = 0.0
    no_proxy: str = ""
    params: dict[str, list[str]] = {}
    proxy_connect_header: dict[str, list[Secret]] = {}
    proxy_from_environment: bool = False
    proxy_url: str = ""
    sample_limit: UInt = 0
    scheme: str = "http"
    scrape_classic_histograms: bool = False
    scrape_failure_log_file: str = ""
    scrape_fallback_protocol: str = "PrometheusText0.0.4"
    scrape_interval: Duration = 60_000
    scrape_native_histograms: bool = False
    scrape_protocols: list[str] = list(ALLOY_DEFAULT_SCRAPE_PROTOCOLS)
    scrape_timeout: Duration = 10_000
    target_limit: UInt = 0
    track_timestamps_staleness: bool = False
    relabel_configs: list[RelabelConfig] = []
    metric_relabel_configs: list[RelabelConfig] = []
    basic_auth: BasicAuth | None = None
    authorization: Authorization | None = None
    oauth2: OAuth2 | None = None
    tls_config: TLSConfig | None = None
    clustering: Clustering | None = None

    @property
    def job_label(self) -> str:
        """The `job` target label: job_name, else the job's name (Alloy: the component name)."""
        return self.job_name or self.name

    @field_validator("name")
    @classmethod
    def _valid_name(cls, name: str) -> str:
        return _check_name("job", name)

    @field_validator("forward_to")
    @classmethod
    def _unique_endpoints(cls, names: list[str]) -> list[str]:
        seen: set[str] = set()
        for name in names:
            if name in seen:
                raise ValueError(f"endpoint {go_quote(name)} is listed twice")
            seen.add(name)
        return names

    @field_validator("scheme")
    @classmethod
    def _http_or_https(cls, scheme: str) -> str:
        if scheme not in ("http", "https"):
            raise ValueError(f'must be "http" or "https", not {go_quote(scheme)}')
        return scheme

    @field_validator("http_headers", "proxy_connect_header")
    @classmethod
    def _not_reserved(cls, headers: dict[str, list[SecretStr]]) -> dict[str, list[SecretStr]]:
        for name in headers:
            canonical = _canonical_header(name)
            if canonical in RESERVED_HEADERS:
                raise ValueError(f"setting header {go_quote(canonical)} is not allowed")
        return headers

    @field_validator("scrape_protocols")
    @classmethod
    def _known_protocols(cls, protocols: list[str]) -> list[str]:
        """Alloy's checks (duplicates case-sensitively, then the name); an empty list as Prometheus."""
        if not protocols:
            raise ValueError("scrape_protocols cannot be empty")
        seen: set[str] = set()
        for protocol in protocols:
            if protocol in seen:
                raise ValueError(
                    f"duplicate scrape protocol {go_quote(protocol)}: make sure the scrape protocols "
                    "provided are unique"
                )
            _check_protocol(protocol, "scrape protocol")
            seen.add(protocol)
        return protocols

    @field_validator("scrape_fallback_protocol")
    @classmethod
    def _known_fallback(cls, protocol: str) -> str:
        """Any protocol, or "" for none: a body without a usable Content-Type then fails the scrape."""
        if protocol != "":
            _check_protocol(protocol, "scrape_fallback_protocol")
        return protocol

    @field_validator("metric_name_validation_scheme")
    @classmethod
    def _validation_scheme(cls, scheme: str) -> str:
        if scheme not in ("utf8", "legacy"):
            raise ValueError(
                f'invalid metric_name_validation_scheme {go_quote(scheme)}: must be either "utf8" or "legacy"'
            )
        return scheme

    @field_validator("metric_name_escaping_scheme")
    @classmethod
    def _escaping_scheme(cls, scheme: str) -> str:
        if scheme not in ("", "allow-utf-8", "underscores", "dots", "values"):
            raise ValueError(
                f"invalid metric_name_escaping_scheme: {go_quote(scheme)}, supported values: "
                "[allow-utf-8 underscores dots values]"
            )
        return scheme

    @model_validator(mode="after")
    def _alloy_checks(self) -> Self:
        """Alloy's Arguments.Validate, then the arguments this project does not implement yet."""
        if (
            self.metric_name_escaping_scheme == ""
            or "metric_name_escaping_scheme" not in self.model_fields_set
        ):
            # Alloy derives the escaping scheme from the validation scheme when it is unset.
            object.__setattr__(
                self, "metric_name_escaping_scheme", self._implied()["metric_name_escaping_scheme"]
            )
        if self.scrape_interval <= 0:
            raise ValueError("scrape_interval must be greater than 0s")
        if self.scrape_timeout <= 0:
            raise ValueError("scrape_timeout must be greater than 0s")
        if self.scrape_timeout > self.scrape_interval:
            raise ValueError(
                f"scrape_timeout ({format_go_duration(self.scrape_timeout)}) greater than scrape_interval "
                f"({format_go_duration(self.scrape_interval)}) for scrape config with job name "
                f"{go_quote(self.job_label)}"
            )
        protocols, native = alloy_scrape_protocols(
            self.scrape_protocols,
            scrape_native_histograms=self.scrape_native_histograms,
            enable_protobuf_negotiation=self.enable_protobuf_negotiation,
        )
        object.__setattr__(self, "scrape_protocols", protocols)
        object.__setattr__(self, "scrape_native_histograms", native)
        if self.metric_name_escaping_scheme == "allow-utf-8" and self.metric_name_validation_scheme != "utf8":
            raise ValueError(
                "metric_name_escaping_scheme cannot be set to 'allow-utf-8' while "
                "metric_name_validation_scheme is not set to 'utf8'"
            )
        # What Validate filled in was not written by the user: only what was written is refused.
        implied = self._implied()
        unsupported = [
            name
            for name in _NOT_IMPLEMENTED
            if not _is_default(self, name) and (name not in implied or getattr(self, name) != implied[name])
        ]
        if unsupported:
            raise _Problems([f"{name} is not supported yet" for name in unsupported])
        return self

    def _implied(self) -> dict[str, Any]:
        """What Alloy's Validate fills in for these arguments when they are left out, given the others.

        The escaping scheme follows the validation scheme; native histograms are on with the
        deprecated enable_protobuf_negotiation; the protocols are the proto-first list when native
        histograms are on (see alloy_scrape_protocols).
        """
        native = self.scrape_native_histograms
        return {
            "metric_name_escaping_scheme": (
                "underscores" if self.metric_name_validation_scheme == "legacy" else "allow-utf-8"
            ),
            "scrape_native_histograms": self.enable_protobuf_negotiation,
            "scrape_protocols": list(
                ALLOY_PROTO_FIRST_SCRAPE_PROTOCOLS if native else ALLOY_DEFAULT_SCRAPE_PROTOCOLS
            ),
        }

    @model_validator(mode="wrap")
    @classmethod
    def _name_the_job(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Self:
        """Every error starts with `job "<name>": `; defined last, so it wraps every other check."""
        return _naming_errors("job", data, handler)

    def to_item(self, *, reveal: bool = False, with_targets: bool = False) -> dict[str, Any]:
        """The job as a JSON-safe dict (what DynamoDB's `config` and the scrape queue carry).

        Arguments at their defaults are left out, and so are those at the value Alloy's Validate
        fills in from the others (see _implied), so a default that changes later applies to
        stored jobs too; an argument that differs from what would be filled in is always kept
        (`underscores` under utf8 validation), so an item validates again to the same job.
        `targets` are left out unless asked for: the store keeps each target as its own item.
        """
        item = super().to_item(reveal=reveal)
        for name, implied in self._implied().items():
            value = getattr(self, name)
            if value == implied:
                item.pop(name, None)
            else:
                item[name] = list(value) if isinstance(value, list) else value
        if not with_targets:
            item.pop("targets", None)
        return item


def alloy_scrape_protocols(
    protocols: list[str], *, scrape_native_histograms: bool, enable_protobuf_negotiation: bool
) -> tuple[list[str], bool]:
    """The (scrape_protocols, scrape_native_histograms) in effect, as Alloy's Arguments.Validate sets them.

    `enable_protobuf_negotiation = true` (deprecated) means the proto-first list and native
    histograms, and may not be combined with a scrape_protocols other than the default. With
    `scrape_native_histograms = true` the default list (unset, or written out in full: Alloy
    compares values, so it cannot tell them apart) becomes the proto-first one, and a list without
    PrometheusProto is an error. The list itself is checked by the scrape_protocols validator.
    """
    default = list(ALLOY_DEFAULT_SCRAPE_PROTOCOLS)
    if enable_protobuf_negotiation:
        if protocols != default:
            raise ValueError(
                "both enable_protobuf_negotiation and scrape_protocols are set, only one can be set at a time"
            )
        protocols = list(ALLOY_PROTO_FIRST_SCRAPE_PROTOCOLS)
        scrape_native_histograms = True
    if scrape_native_histograms:
        if protocols == default:
            protocols = list(ALLOY_PROTO_FIRST_SCRAPE_PROTOCOLS)
        if "PrometheusProto" not in protocols:
            raise ValueError(
                "scrape_native_histograms is set to true, but PrometheusProto is not in scrape_protocols"
            )
    return protocols, scrape_native_histograms


def _naming_errors(kind: str, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """Validate; every error line then names what failed (`job "node": ...`), as users look it up."""
    try:
        return handler(data)
    except ValidationError as exc:
        name = data.get("name") if isinstance(data, Mapping) else None
        label = go_quote(name) if isinstance(name, str) else "(without a name)"
        raise _Problems([f"{kind} {label}: {line}" for line in describe_validation_error(exc)]) from None


def _check_protocol(protocol: str, what: str) -> None:
    if protocol not in SCRAPE_PROTOCOLS:
        supported = " ".join(sorted(SCRAPE_PROTOCOLS))
        raise ValueError(
            f"invalid {what} {go_quote(protocol)}: "
            f"unknown scrape protocol {protocol}, supported: [{supported}]"
        )


_NOT_IMPLEMENTED: Final = tuple(
    name for name in ScrapeJob.model_fields if name not in IMPLEMENTED_ARGUMENTS and name != "name"
)


def _is_default(job: ScrapeJob, name: str) -> bool:
    value = getattr(job, name)
    if name == "clustering":
        return value is None or not value.enabled
    return bool(value == ScrapeJob.model_fields[name].default)


class RemoteWriteEndpoint(_Model):
    """One remote-write endpoint (Alloy's `prometheus.remote_write` endpoint block, flattened)."""

    name: str
    url: str
    headers: dict[str, Secret] = {}
    remote_timeout: Duration = 30_000
    max_samples_per_send: Int = Field(default=2000, gt=0)
    retry_on_http_429: bool = True
    min_backoff: Duration = 30
    max_backoff: Duration = 5_000
    protobuf_message: str = PROTOBUF_MESSAGES[0]
    send_exemplars: bool = True
    send_native_histograms: bool = False

    @field_validator("name")
    @classmethod
    def _valid_name(cls, name: str) -> str:
        return _check_name("endpoint", name)

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        scheme, sep, rest = url.partition("://")
        if not sep or scheme not in ("http", "https") or not rest or rest.startswith("/") or not _splits(url):
            raise ValueError(f"{_redact_userinfo(url)} is not an http:// or https:// URL with a host")
        return url

    def __repr_args__(self) -> Any:
        """The URL's userinfo password is a secret too: reprs show it redacted."""
        for name, value in super().__repr_args__():
            yield name, (_redact_userinfo(value)[1:-1] if name == "url" else value)

    @field_validator("headers")
    @classmethod
    def _not_reserved(cls, headers: dict[str, SecretStr]) -> dict[str, SecretStr]:
        """Prometheus's validateHeaders: the protocol's headers are the sender's, not the user's."""
        for name in headers:
            if name.lower() in REMOTE_WRITE_RESERVED_HEADERS:
                raise ValueError(f"{name} is a reserved header. It must not be changed")
        return headers

    @model_validator(mode="after")
    def _one_authentication(self) -> Self:
        """Prometheus takes Authorization only from one authentication setting, never from two.

        This endpoint has no auth blocks yet, so the `Authorization` header is how it authenticates
        (bearer tokens, API keys); userinfo in the URL is the other way (basic auth). Both at once
        would leave one silently unused.
        """
        has_header = any(name.lower() == "authorization" for name in self.headers)
        if has_header and "@" in urlsplit(self.url).netloc:
            raise ValueError(
                "at most one of an Authorization header and a user:password@ in the URL must be configured"
            )
        return self

    @model_validator(mode="after")
    def _known_protobuf_message(self) -> Self:
        """Alloy's endpoint check, worded as Alloy (and client_golang's WriteMessageType) words it."""
        if self.protobuf_message not in PROTOBUF_MESSAGES:
            raise ValueError(
                f"invalid protobuf_message {go_quote(self.protobuf_message)} for endpoint "
                f"{go_quote(self.name)}: unknown type for remote write protobuf message "
                f"{self.protobuf_message}, supported: {', '.join(PROTOBUF_MESSAGES)}"
            )
        return self

    @model_validator(mode="after")
    def _positive_durations(self) -> Self:
        if self.remote_timeout <= 0:
            raise ValueError("remote_timeout must be greater than 0s")
        if self.min_backoff > self.max_backoff:
            raise ValueError(
                f"min_backoff ({format_duration(self.min_backoff)}) greater than max_backoff "
                f"({format_duration(self.max_backoff)})"
            )
        return self

    @model_validator(mode="wrap")
    @classmethod
    def _name_the_endpoint(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Self:
        """Every error starts with `remote_write "<name>": `; defined last, so it wraps the rest."""
        return _naming_errors("remote_write", data, handler)


class ConfigFile(_Model):
    """The YAML file: `remote_write` endpoints and `jobs`; every forward_to must name an endpoint."""

    remote_write: list[RemoteWriteEndpoint] = []
    jobs: list[ScrapeJob] = []

    @model_validator(mode="after")
    def _references(self) -> Self:
        problems: list[str] = []
        endpoints: set[str] = set()
        for endpoint in self.remote_write:
            if endpoint.name in endpoints:
                problems.append(f"remote_write {go_quote(endpoint.name)}: the name is used twice")
            endpoints.add(endpoint.name)
        jobs: set[str] = set()
        for job in self.jobs:
            if job.name in jobs:
                problems.append(f"job {go_quote(job.name)}: the name is used twice")
            jobs.add(job.name)
            problems.extend(
                f"job {go_quote(job.name)}: forward_to: no remote_write endpoint named {go_quote(name)}"
                for name in job.forward_to
                if name not in endpoints
            )
        if problems:
            raise _Problems(problems)
        return self


def _splits(url: str) -> bool:
    """Whether the URL parses at all (urlsplit rejects e.g. an unclosed IPv6 bracket)."""
    try:
        urlsplit(url)
    except ValueError:
        return False
    return True


def _redact_userinfo(url: str) -> str:
    """The URL quoted as Go does, its userinfo's password (a secret) replaced by `xxxxx`."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return go_quote(url.split("@")[-1])
    userinfo, at, host = parts.netloc.rpartition("@")
    if at and ":" in userinfo:
        url = urlunsplit(parts._replace(netloc=f"{userinfo.split(':', 1)[0]}:xxxxx@{host}"))
    return go_quote(url)


def describe_validation_error(exc: ValidationError) -> list[str]:
    """One readable line per error: `<argument path>: <message>`, never the input values."""
    return [line for error in exc.errors(include_url=False, include_input=False) for line in _describe(error)]


def _describe(error: ErrorDetails) -> list[str]:
    location = [str(part) for part in error["loc"]]
    cause = error.get("ctx", {}).get("error")
    messages = cause.lines if isinstance(cause, _Problems) else [error["msg"].removeprefix("Value error, ")]
    if error["type"] == "extra_forbidden":
        where = ".".join(location[:-1])
        return [f"{where + ': ' if where else ''}unknown argument {go_quote(location[-1])}"]
    if error["type"] == "missing":
        return [f"{'.'.join(location)} is required"]
    # A job's or endpoint's own message already names it; its list position adds nothing.
    if len(location) == 2 and location[0] in ("jobs", "remote_write") and location[1].isdigit():
        return messages
    prefix = ".".join(location)
    return [f"{prefix}: {message}" if prefix else message for message in messages]


def parse_config(data: Any, source: str = "configuration") -> ConfigFile:
    """Validate an already loaded YAML/JSON document; ConfigError lists every problem found."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: expected a mapping with 'remote_write' and 'jobs'")
    try:
        return ConfigFile.model_validate(data)
    except ValidationError as exc:
        lines = describe_validation_error(exc)
        raise ConfigError("\n  ".join([f"{source}: invalid configuration:", *lines])) from None


def load_config(path: str | Path) -> ConfigFile:
    """Read and validate a YAML configuration file."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    return parse_config(data, str(path))
