"""Target labels, URL, drop errors and offset hash, against REFERENCE §6 and Prometheus's Go code.

The hash vectors are derived by hand from the Go definitions (scrape/target.go `hash()`,
model/labels/labels_stringlabels.go `Hash()`), written out byte by byte below, and checked with
the FNV-1a and xxHash64 reference vectors so that the primitives are known right first.
"""

from typing import Any

import pytest
import xxhash
from promscrape.config import ScrapeJob
from promscrape.targets import (
    DroppedTarget,
    Target,
    TargetBuilder,
    build_url,
    encode_params,
    fnv1a64,
    labels_hash,
    offset_seed,
    target_hash,
)

SEED = offset_seed("promscrape")


def job(**arguments: Any) -> ScrapeJob:
    return ScrapeJob.model_validate({"name": "prometheus", "forward_to": ["rw"], **arguments})


def build(discovered: dict[str, str], **arguments: Any) -> Target | DroppedTarget:
    return TargetBuilder(job(**arguments), SEED).build(discovered)


def built(discovered: dict[str, str], **arguments: Any) -> Target:
    result = build(discovered, **arguments)
    assert isinstance(result, Target), result
    return result


def copy_to(label: str, target_label: str) -> dict[str, Any]:
    """A relabel rule that makes an internal label visible as a public one."""
    return {"source_labels": [label], "target_label": target_label}


# --- hash primitives --------------------------------------------------------------------------

# Go's hash/fnv golden64a vectors (fnv_test.go).
FNV1A64_GOLDEN = [
    (b"", 0xCBF29CE484222325),
    (b"a", 0xAF63DC4C8601EC8C),
    (b"ab", 0x089C4407B545986A),
    (b"abc", 0xE71FA2190541574B),
]


@pytest.mark.parametrize(("data", "expected"), FNV1A64_GOLDEN)
def test_fnv1a64_golden(data: bytes, expected: int) -> None:
    assert fnv1a64(data) == expected


# xxHash64 reference vectors (seed 0), as cespare/xxhash Sum64 gives them.
@pytest.mark.parametrize(("data", "expected"), [(b"", 0xEF46DB3751D8E999), (b"abc", 0x44BC2CF5AD770999)])
def test_xxhash64_reference(data: bytes, expected: int) -> None:
    assert xxhash.xxh64_intdigest(data) == expected


LABEL_ENCODINGS = [
    # one byte of length for sizes under 255
    ([("job", "a")], b"\x03job\x01a"),
    ([("a", ""), ("b", "c")], b"\x01a\x00\x01b\x01c"),
    # 254 still fits one byte; 255 and more: 0xFF then 3 bytes little-endian
    ([("a", "x" * 254)], b"\x01a\xfe" + b"x" * 254),
    ([("a", "x" * 255)], b"\x01a\xff\xff\x00\x00" + b"x" * 255),
    ([("a", "x" * 300)], b"\x01a\xff\x2c\x01\x00" + b"x" * 300),
    # lengths are UTF-8 byte counts
    ([("é", "ü")], b"\x02\xc3\xa9\x02\xc3\xbc"),
]


@pytest.mark.parametrize(("items", "encoded"), LABEL_ENCODINGS)
def test_labels_hash_is_xxhash_of_stringlabels_encoding(items: list[tuple[str, str]], encoded: bytes) -> None:
    assert labels_hash(items) == xxhash.xxh64_intdigest(encoded)


def test_target_hash_prefixes_the_labels_hash_as_16_digit_decimal() -> None:
    items = [("job", "a")]
    expected = fnv1a64(b"%016d" % xxhash.xxh64_intdigest(b"\x03job\x01a") + b"http://h:1/metrics")
    assert target_hash(items, "http://h:1/metrics") == expected


def test_offset_seed_is_fnv_of_stack_name_and_empty_external_labels() -> None:
    assert offset_seed("promscrape") == fnv1a64(b"promscrape{}") == 16012145211135968399


def test_offset_worked_example() -> None:
    """A default target of job "prometheus" at localhost:9090, stack "promscrape", interval 1m.

    Full label set (Prometheus keeps every label but __meta_*), sorted, stringlabels-encoded:
      0b __address__ 0e localhost:9090
      24 __always_scrape_classic_histograms__ 05 false
      26 __convert_classic_histograms_to_nhcb__ 05 false
      10 __metrics_path__ 08 /metrics
      0a __scheme__ 04 http
      13 __scrape_interval__ 02 1m
      1c __scrape_native_histograms__ 05 false
      12 __scrape_timeout__ 03 10s
      08 instance 0e localhost:9090
      03 job 0a prometheus
    labels.Hash() = xxh64(that) = 17621450086246168859
    hash() = fnv1a64("17621450086246168859" + "http://localhost:9090/metrics") = 1991811103938713341
    seed = fnv1a64("promscrape{}") = 16012145211135968399
    offset = (hash ^ seed) % 60e9 ns = 57443269234 ns; with a 15 s interval: 12443269234 ns
    """
    encoded = (
        b"\x0b__address__\x0elocalhost:9090"
        b"\x24__always_scrape_classic_histograms__\x05false"
        b"\x26__convert_classic_histograms_to_nhcb__\x05false"
        b"\x10__metrics_path__\x08/metrics"
        b"\x0a__scheme__\x04http"
        b"\x13__scrape_interval__\x021m"
        b"\x1c__scrape_native_histograms__\x05false"
        b"\x12__scrape_timeout__\x0310s"
        b"\x08instance\x0elocalhost:9090"
        b"\x03job\x0aprometheus"
    )
    assert xxhash.xxh64_intdigest(encoded) == 17621450086246168859
    assert fnv1a64(b"17621450086246168859http://localhost:9090/metrics") == 1991811103938713341
    assert (1991811103938713341 ^ SEED) % 60_000_000_000 == 57443269234

    target = built({"__address__": "localhost:9090"})
    assert target.offset_ns == 57443269234
    assert target.url == "http://localhost:9090/metrics"
    # 15 s interval: the label set changes (__scrape_interval__ = 15s), so the hash does too.
    fifteen = built({"__address__": "localhost:9090"}, scrape_interval="15s")
    assert fifteen.offset_ns != 12443269234
    assert 0 <= fifteen.offset_ns < 15_000_000_000


def test_offset_ignores_meta_labels_but_not_internal_ones() -> None:
    plain = built({"__address__": "h:1"})
    assert built({"__address__": "h:1", "__meta_x": "y"}).offset_ns == plain.offset_ns
    assert built({"__address__": "h:1", "__tmp": "y"}).offset_ns != plain.offset_ns
    assert built({"__address__": "h:1", "__scrape_native_histograms__": "False"}).offset_ns != plain.offset_ns


def test_offset_depends_on_seed() -> None:
    target = {"__address__": "h:1"}
    a = TargetBuilder(job(), offset_seed("stack-a")).build(target)
    b = TargetBuilder(job(), offset_seed("stack-b")).build(target)
    assert isinstance(a, Target) and isinstance(b, Target)
    assert a.offset_ns != b.offset_ns


# --- labels -------------------------------------------------------------------------------------

LABEL_CASES: list[tuple[str, dict[str, Any], dict[str, str], dict[str, str]]] = [
    ("defaults", {}, {"__address__": "h:9100"}, {"instance": "h:9100", "job": "prometheus"}),
    ("job_name", {"job_name": "node"}, {"__address__": "h:9100"}, {"instance": "h:9100", "job": "node"}),
    ("target job kept", {}, {"__address__": "h:1", "job": "mine"}, {"instance": "h:1", "job": "mine"}),
    (
        "target instance kept",
        {},
        {"__address__": "h:1", "instance": "i"},
        {"instance": "i", "job": "prometheus"},
    ),
    ("empty job set", {}, {"__address__": "h:1", "job": ""}, {"instance": "h:1", "job": "prometheus"}),
    (
        "empty instance set",
        {},
        {"__address__": "h:1", "instance": ""},
        {"instance": "h:1", "job": "prometheus"},
    ),
    ("empty label dropped", {}, {"__address__": "h:1", "a": ""}, {"instance": "h:1", "job": "prometheus"}),
    (
        "other labels kept",
        {},
        {"__address__": "h:1", "zone": "a"},
        {"instance": "h:1", "job": "prometheus", "zone": "a"},
    ),
    ("no port added", {}, {"__address__": "h"}, {"instance": "h", "job": "prometheus"}),
    (
        "__ labels private",
        {},
        {"__address__": "h:1", "__tmp": "x", "__meta_a": "b"},
        {"instance": "h:1", "job": "prometheus"},
    ),
    (
        "meta usable in relabeling then deleted",
        {"relabel_configs": [copy_to("__meta_zone", "zone")]},
        {"__address__": "h:1", "__meta_zone": "eu"},
        {"instance": "h:1", "job": "prometheus", "zone": "eu"},
    ),
    (
        "address from relabeling, instance follows",
        {"relabel_configs": [copy_to("__meta_ip", "__address__")]},
        {"__address__": "h:1", "__meta_ip": "10.0.0.1:9"},
        {"instance": "10.0.0.1:9", "job": "prometheus"},
    ),
    (
        "instance from relabeling",
        {"relabel_configs": [{"target_label": "instance", "replacement": "x"}]},
        {"__address__": "h:1"},
        {"instance": "x", "job": "prometheus"},
    ),
    (
        "scrape settings visible to relabeling",
        {
            "scheme": "https",
            "metrics_path": "/m",
            "params": {"p": ["1", "2"]},
            "relabel_configs": [
                copy_to("__scheme__", "s"),
                copy_to("__metrics_path__", "m"),
                copy_to("__param_p", "p"),
                copy_to("__scrape_native_histograms__", "n"),
                copy_to("__always_scrape_classic_histograms__", "c"),
                copy_to("__convert_classic_histograms_to_nhcb__", "h"),
            ],
        },
        {"__address__": "h:1"},
        {
            "c": "false",
            "h": "false",
            "instance": "h:1",
            "job": "prometheus",
            "m": "/m",
            "n": "false",
            "p": "1",
            "s": "https",
        },
    ),
]


LABEL_CASES.append(
    (
        # Prometheus Sets the discovered labels, then the job's defaults, so a labelmap visits
        # __scheme__ after a_scheme even though it sorts first: the default wins.
        "labelmap visits defaults after discovered labels",
        {
            "relabel_configs": [
                {"regex": "__(scheme)__|a_(scheme)", "replacement": "$1$2", "action": "labelmap"}
            ]
        },
        {"__address__": "h:1", "a_scheme": "ftp"},
        {"a_scheme": "ftp", "instance": "h:1", "job": "prometheus", "scheme": "http"},
    )
)


@pytest.mark.parametrize(
    ("arguments", "discovered", "labels"),
    [case[1:] for case in LABEL_CASES],
    ids=[case[0] for case in LABEL_CASES],
)
def test_public_labels(arguments: dict[str, Any], discovered: dict[str, str], labels: dict[str, str]) -> None:
    target = built(discovered, **arguments)
    assert target.labels == labels
    assert list(target.labels) == sorted(labels)


# model.Duration's String() in the __scrape_interval__ / __scrape_timeout__ defaults.
DURATION_LABELS = [
    ("1m30s", "10s", "1m30s", "10s"),
    ("1d", "1d", "1d", "1d"),
    ("1s500ms", "1s", "1s500ms", "1s"),
    ("60s", "500ms", "1m", "500ms"),
    ("7d", "1h", "1w", "1h"),
    ("365d", "10s", "1y", "10s"),
    ("8d", "1m", "8d", "1m"),  # weeks only when exact
    ("14d", "1m", "2w", "1m"),
    ("366d", "1m", "366d", "1m"),
    ("1h0m0s", "10s", "1h", "10s"),
]


@pytest.mark.parametrize(("interval", "timeout", "interval_label", "timeout_label"), DURATION_LABELS)
def test_duration_labels(interval: str, timeout: str, interval_label: str, timeout_label: str) -> None:
    rules = [copy_to("__scrape_interval__", "i"), copy_to("__scrape_timeout__", "t")]
    target = built(
        {"__address__": "h:1"}, scrape_interval=interval, scrape_timeout=timeout, relabel_configs=rules
    )
    assert (target.labels["i"], target.labels["t"]) == (interval_label, timeout_label)


INTERVAL_CASES = [
    ({}, {}, 60_000, 10_000),
    ({"scrape_interval": "15s", "scrape_timeout": "5s"}, {}, 15_000, 5_000),
    ({}, {"__scrape_interval__": "1m30s", "__scrape_timeout__": "1s500ms"}, 90_000, 1_500),
    ({}, {"__scrape_interval__": "1s", "__scrape_timeout__": "1s"}, 1_000, 1_000),
    ({}, {"__scrape_interval__": "5m"}, 300_000, 10_000),
]


@pytest.mark.parametrize(("arguments", "extra", "interval_ms", "timeout_ms"), INTERVAL_CASES)
def test_interval_and_timeout(
    arguments: dict[str, Any], extra: dict[str, str], interval_ms: int, timeout_ms: int
) -> None:
    target = built({"__address__": "h:1", **extra}, **arguments)
    assert (target.interval_ms, target.timeout_ms) == (interval_ms, timeout_ms)
    assert 0 <= target.offset_ns < interval_ms * 1_000_000


@pytest.mark.parametrize(
    "value", ["true", "True", "TRUE", "t", "T", "1", "false", "False", "FALSE", "f", "F", "0"]
)
def test_histogram_labels_accept_go_booleans(value: str) -> None:
    for name in (
        "__scrape_native_histograms__",
        "__always_scrape_classic_histograms__",
        "__convert_classic_histograms_to_nhcb__",
    ):
        assert isinstance(build({"__address__": "h:1", name: value}), Target)


# --- drop errors (exact texts) -----------------------------------------------------------------

ERROR_CASES: list[tuple[dict[str, Any], dict[str, str], str]] = [
    ({}, {}, "no address"),
    ({}, {"__address__": ""}, "no address"),
    (
        {"relabel_configs": [{"action": "labeldrop", "regex": "__address__"}]},
        {"__address__": "h:1"},
        "no address",
    ),
    ({}, {"__address__": "x/y"}, '"x/y" is not a valid hostname'),
    ({}, {"__address__": "http://h:1"}, '"http://h:1" is not a valid hostname'),
    ({}, {"__address__": 'a"b/\n'}, '"a\\"b/\\n" is not a valid hostname'),
    (
        {},
        {"__address__": "h", "__scrape_interval__": "foo"},
        'error parsing scrape interval: not a valid duration string: "foo"',
    ),
    (
        {},
        {"__address__": "h", "__scrape_interval__": "1x"},
        'error parsing scrape interval: unknown unit "x" in duration "1x"',
    ),
    (
        {},
        {"__address__": "h", "__scrape_interval__": "1s1m"},
        'error parsing scrape interval: not a valid duration string: "1s1m"',
    ),
    (
        {},
        {"__address__": "h", "__scrape_interval__": "300y"},
        "error parsing scrape interval: duration out of range",
    ),
    (
        {"relabel_configs": [{"action": "labeldrop", "regex": "__scrape_interval__"}]},
        {"__address__": "h"},
        "error parsing scrape interval: empty duration string",
    ),
    ({}, {"__address__": "h", "__scrape_interval__": "0"}, "scrape interval cannot be 0"),
    ({}, {"__address__": "h", "__scrape_interval__": "0s"}, "scrape interval cannot be 0"),
    (
        {},
        {"__address__": "h", "__scrape_timeout__": "bar"},
        'error parsing scrape timeout: not a valid duration string: "bar"',
    ),
    ({}, {"__address__": "h", "__scrape_timeout__": "0ms"}, "scrape timeout cannot be 0"),
    # the interval is checked first
    (
        {},
        {"__address__": "h", "__scrape_interval__": "x", "__scrape_timeout__": "y"},
        'error parsing scrape interval: not a valid duration string: "x"',
    ),
    (
        {},
        {"__address__": "h", "__scrape_timeout__": "2m"},
        'scrape timeout cannot be greater than scrape interval ("2m" > "1m")',
    ),
    (
        {},
        {"__address__": "h", "__scrape_interval__": "60s", "__scrape_timeout__": "61000ms"},
        'scrape timeout cannot be greater than scrape interval ("61000ms" > "60s")',
    ),
    (
        {},
        {"__address__": "h", "__scrape_native_histograms__": "yes"},
        'error parsing scrape native histograms: strconv.ParseBool: parsing "yes": invalid syntax',
    ),
    (
        {},
        {"__address__": "h", "__always_scrape_classic_histograms__": "tRUE"},
        'error parsing always scrape classic histograms: strconv.ParseBool: parsing "tRUE": invalid syntax',
    ),
    (
        {},
        {"__address__": "h", "__convert_classic_histograms_to_nhcb__": "2"},
        'error parsing convert classic histograms to nhcb: strconv.ParseBool: parsing "2": invalid syntax',
    ),
    # the address is checked before the durations
    ({}, {"__address__": "a/b", "__scrape_interval__": "x"}, '"a/b" is not a valid hostname'),
]


@pytest.mark.parametrize(("arguments", "discovered", "error"), ERROR_CASES)
def test_drop_errors(arguments: dict[str, Any], discovered: dict[str, str], error: str) -> None:
    result = build(discovered, **arguments)
    assert result == DroppedTarget(discovered, error)


@pytest.mark.parametrize(
    ("discovered", "error"),
    [
        ({"__address__": "h\ud800:1"}, 'invalid label value for "__address__": "h\\ufffd:1"'),
        ({"__address__": "h:1", "__param_x": "\ud800"}, 'invalid label value for "__param_x": "\\ufffd"'),
        (
            {"__address__": "h:1", "__metrics_path__": "/\udfff"},
            'invalid label value for "__metrics_path__": "/\\ufffd"',
        ),
    ],
)
def test_invalid_utf8_in_url_labels_drops_the_target(discovered: dict[str, str], error: str) -> None:
    """Checked before the URL is built: building it would raise and fail every job of the tick."""
    assert build(discovered) == DroppedTarget(discovered, error)


def test_invalid_utf8_value_drops_the_target() -> None:
    result = build({"__address__": "h:1", "a": "\ud800"})
    assert isinstance(result, DroppedTarget)
    assert result.error is not None and result.error.startswith('invalid label value for "a": ')


@pytest.mark.parametrize(
    "rules",
    [
        [{"action": "drop", "source_labels": ["__address__"], "regex": "h:.*"}],
        [{"action": "keep", "source_labels": ["zone"], "regex": "eu"}],
    ],
)
def test_relabel_drop_has_no_error(rules: list[dict[str, Any]]) -> None:
    discovered = {"__address__": "h:1"}
    assert build(discovered, relabel_configs=rules) == DroppedTarget(discovered, None)


def test_discovered_labels_are_not_changed() -> None:
    discovered = {"__address__": "h:1", "__meta_a": "b", "e": ""}
    built(discovered, relabel_configs=[copy_to("__meta_a", "a")])
    assert discovered == {"__address__": "h:1", "__meta_a": "b", "e": ""}


# --- URL ----------------------------------------------------------------------------------------

# url.URL{Scheme, Host, Path, RawQuery}.String(): derived from net/url shouldEscape and String().
# The path, host and query escapes were also compared with the scrapeUrl that Debian's Prometheus
# (2.42, same Target.URL()) showed in /api/v1/targets for the same labels and params.
URL_CASES = [
    ("http", "h:1", "/metrics", "", "http://h:1/metrics"),
    ("https", "h:1", "/metrics", "", "https://h:1/metrics"),
    ("http", "h:1", "metrics", "", "http://h:1/metrics"),  # leading / added
    ("http", "h:1", "", "", "http://h:1"),
    ("http", "h:1", "/", "", "http://h:1/"),
    ("http", "h:1", "/a b", "", "http://h:1/a%20b"),
    ("http", "h:1", "/a?b", "", "http://h:1/a%3Fb"),
    ("http", "h:1", "/a#b", "", "http://h:1/a%23b"),
    ("http", "h:1", "/a%2Fb", "", "http://h:1/a%252Fb"),
    ("http", "h:1", "/$&+,/:;=@", "", "http://h:1/$&+,/:;=@"),
    ("http", "h:1", "/-_.~", "", "http://h:1/-_.~"),
    ("http", "h:1", "/!*'()", "", "http://h:1/%21%2A%27%28%29"),
    ("http", "h:1", '/"<>[]{}|\\^`', "", "http://h:1/%22%3C%3E%5B%5D%7B%7D%7C%5C%5E%60"),
    ("http", "h:1", "/é", "", "http://h:1/%C3%A9"),
    ("http", "h:1", "*", "", "http://h:1/*"),
    ("http", "[::1]:9090", "/metrics", "", "http://[::1]:9090/metrics"),
    ("http", "a b:1", "/", "", "http://a%20b:1/"),
    ("http", "é:1", "/", "", "http://%C3%A9:1/"),
    ("http", "a%b@c?:1", "/", "", "http://a%25b%40c%3F:1/"),
    ("http", "!$&'()*+,;=<>\":1", "/", "", "http://!$&'()*+,;=<>\":1/"),
    ("", "h:1", "/metrics", "", "//h:1/metrics"),
    ("http", "h:1", "/metrics", "a=1", "http://h:1/metrics?a=1"),
]


@pytest.mark.parametrize(("scheme", "host", "path", "query", "url"), URL_CASES)
def test_build_url(scheme: str, host: str, path: str, query: str, url: str) -> None:
    assert build_url(scheme, host, path, query) == url


# url.Values.Encode(): keys sorted, values in order, QueryEscape (space as +).
PARAM_CASES = [
    ({}, ""),
    ({"a": []}, ""),
    ({"b": ["2"], "a": ["1"]}, "a=1&b=2"),
    ({"a": ["1", "2"]}, "a=1&a=2"),
    ({"a b": ["x y"]}, "a+b=x+y"),
    ({"q": ["&=/?#+%é~-_."]}, "q=%26%3D%2F%3F%23%2B%25%C3%A9~-_."),
    (
        {"module": ["http_2xx"], "target": ["https://example.com/x?y=1"]},
        "module=http_2xx&target=https%3A%2F%2Fexample.com%2Fx%3Fy%3D1",
    ),
]


@pytest.mark.parametrize(("params", "query"), PARAM_CASES)
def test_encode_params(params: dict[str, list[str]], query: str) -> None:
    assert encode_params(params) == query


TARGET_URL_CASES: list[tuple[dict[str, Any], dict[str, str], str]] = [
    ({}, {"__address__": "h:1"}, "http://h:1/metrics"),
    ({"scheme": "https", "metrics_path": "/probe"}, {"__address__": "h:1"}, "https://h:1/probe"),
    ({}, {"__address__": "h:1", "__scheme__": "https", "__metrics_path__": "x y"}, "https://h:1/x%20y"),
    ({"params": {"b": ["2"], "a": ["1"]}}, {"__address__": "h:1"}, "http://h:1/metrics?a=1&b=2"),
    # a __param_ label set by the target wins over the job's first value; later values stay
    ({"params": {"a": ["1", "2"]}}, {"__address__": "h:1", "__param_a": "z"}, "http://h:1/metrics?a=z&a=2"),
    ({}, {"__address__": "h:1", "__param_target": "x y"}, "http://h:1/metrics?target=x+y"),
    ({"params": {"a": []}}, {"__address__": "h:1"}, "http://h:1/metrics"),
    (
        {
            "params": {"module": ["http_2xx"]},
            "relabel_configs": [
                copy_to("__address__", "__param_target"),
                {"target_label": "__address__", "replacement": "bb:9115"},
            ],
        },
        {"__address__": "https://example.com"},
        "http://bb:9115/metrics?module=http_2xx&target=https%3A%2F%2Fexample.com",
    ),
]


@pytest.mark.parametrize(("arguments", "discovered", "url"), TARGET_URL_CASES)
def test_target_url(arguments: dict[str, Any], discovered: dict[str, str], url: str) -> None:
    assert built(discovered, **arguments).url == url
