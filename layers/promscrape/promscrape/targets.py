"""Target labels, scrape URL and scrape offset, as Prometheus 3 builds them (REFERENCE §6).

Follows `scrape.PopulateDiscoveredLabels` / `PopulateLabels`, `Target.URL()` and `Target.hash()` /
`offset()` of Prometheus's scrape/target.go so that a target gets the labels, the URL and the place
inside its interval that Alloy's `prometheus.scrape` would give it. The per-job work (defaults,
relabel rules, params) is done once in `TargetBuilder`; `build()` is the per-target hot path.

The offset seed: Prometheus hashes the host name and the external labels (`hostname +
labels.String()`); a Lambda has no stable host name, so the stack name takes its place. Alloy's
scrape manager has no external labels, so their string is always `{}`.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote, quote_plus

import xxhash

from promscrape.durations import format_duration, parse_duration
from promscrape.gostring import go_quote
from promscrape.relabel import Relabeler, compile_rules

if TYPE_CHECKING:
    from promscrape.config import ScrapeJob

ADDRESS = "__address__"
SCHEME = "__scheme__"
METRICS_PATH = "__metrics_path__"
SCRAPE_INTERVAL = "__scrape_interval__"
SCRAPE_TIMEOUT = "__scrape_timeout__"
SCRAPE_NATIVE_HISTOGRAMS = "__scrape_native_histograms__"
ALWAYS_SCRAPE_CLASSIC_HISTOGRAMS = "__always_scrape_classic_histograms__"
CONVERT_CLASSIC_HISTOGRAMS_TO_NHCB = "__convert_classic_histograms_to_nhcb__"
PARAM_PREFIX = "__param_"
META_PREFIX = "__meta_"
RESERVED_PREFIX = "__"
JOB = "job"
INSTANCE = "instance"

# The boolean target labels of Prometheus 3.13 and the words of their drop errors.
_BOOLEAN_LABELS: tuple[tuple[str, str], ...] = (
    (SCRAPE_NATIVE_HISTOGRAMS, "scrape native histograms"),
    (ALWAYS_SCRAPE_CLASSIC_HISTOGRAMS, "always scrape classic histograms"),
    (CONVERT_CLASSIC_HISTOGRAMS_TO_NHCB, "convert classic histograms to nhcb"),
)
# Go's strconv.ParseBool.
_GO_BOOLS: dict[str, bool] = {
    **dict.fromkeys(("1", "t", "T", "TRUE", "true", "True"), True),
    **dict.fromkeys(("0", "f", "F", "FALSE", "false", "False"), False),
}

_FNV_OFFSET = 0xCBF29CE484222325
_FNV_PRIME = 0x100000001B3
_U64 = 0xFFFFFFFFFFFFFFFF
_NS_PER_MS = 1_000_000
# Alloy's scrape manager is given no external labels: labels.String() of the empty set.
_EXTERNAL_LABELS_STRING = "{}"

# Go's url escaping (net/url shouldEscape): besides ASCII letters, digits and `-_.~`, a path keeps
# `$&+,/:;=@` and a host keeps `!$&'()*+,;=:[]<>"`; everything else is %XX of its UTF-8 bytes.
_PATH_SAFE = "$&+,/:;=@"
_HOST_SAFE = "!$&'()*+,;=:[]<>\""


@dataclass(frozen=True, slots=True)
class Target:
    """A target ready to plan: what the scraper needs, and where it sits inside its interval."""

    url: str
    labels: dict[str, str]  # public labels only (no `__` names), sorted by name
    interval_ms: int
    timeout_ms: int
    offset_ns: int  # scrapes happen at epoch nanoseconds t with t % interval == offset_ns


@dataclass(frozen=True, slots=True)
class DroppedTarget:
    """A target that is not scraped: `error` is None when relabeling dropped it on purpose."""

    discovered_labels: Mapping[str, str]
    error: str | None


def fnv1a64(data: bytes) -> int:
    """FNV-1a 64 (Go's hash/fnv New64a)."""
    h = _FNV_OFFSET
    for byte in data:
        h = ((h ^ byte) * _FNV_PRIME) & _U64
    return h


def offset_seed(stack_name: str) -> int:
    """Prometheus's offset seed with the stack name in place of the host name (see module doc)."""
    return fnv1a64((stack_name + _EXTERNAL_LABELS_STRING).encode())


def _encode_size(size: int) -> bytes:
    if size < 255:
        return bytes((size,))
    return b"\xff" + size.to_bytes(3, "little")


def labels_hash(sorted_items: list[tuple[str, str]]) -> int:
    """labels.Hash() of the default stringlabels build: xxhash64 of the encoded sorted labels.

    Each name and value is its UTF-8 bytes preceded by its length: one byte under 255, else 0xFF
    and three bytes little-endian. Raises UnicodeEncodeError on a value that is not valid UTF-8.
    """
    data = bytearray()
    for name, value in sorted_items:
        for text in (name, value):
            raw = text.encode()
            n = len(raw)
            if n < 255:
                data.append(n)
            else:
                data += _encode_size(n)
            data += raw
    return xxhash.xxh64_intdigest(bytes(data))


def target_hash(sorted_items: list[tuple[str, str]], url: str) -> int:
    """Target.hash(): FNV-1a64 of `sprintf("%016d", labels.Hash())` followed by the URL."""
    return fnv1a64(f"{labels_hash(sorted_items):016d}{url}".encode())


def build_url(scheme: str, address: str, path: str, query: str) -> str:
    """url.URL{Scheme, Host, Path, RawQuery}.String() for a non-empty host."""
    escaped_path = "*" if path == "*" else quote(path, safe=_PATH_SAFE)
    if escaped_path and escaped_path[0] != "/":
        escaped_path = "/" + escaped_path
    url = f"{scheme}:" if scheme else ""
    url += "//" + quote(address, safe=_HOST_SAFE) + escaped_path
    return f"{url}?{query}" if query else url


def encode_params(params: Mapping[str, list[str]]) -> str:
    """url.Values.Encode(): keys sorted, every value of a key, QueryEscape'd, joined by `&`."""
    return "&".join(
        f"{quote_plus(key, safe='')}={quote_plus(value, safe='')}"
        for key in sorted(params)
        for value in params[key]
    )


def _duration_error(exc: ValueError) -> str:
    """model.ParseDuration's error text: durations.py names the text after "out of range", Go not."""
    message = str(exc)
    return "duration out of range" if message.startswith("duration out of range") else message


class TargetBuilder:
    """Builds the targets of one job: per-job values computed once, `build()` per target."""

    def __init__(self, job: "ScrapeJob", seed: int) -> None:
        self.job = job
        self.seed = seed
        self.relabeler: Relabeler = compile_rules(job.relabel_configs)
        defaults = [
            (JOB, job.job_label),
            (SCRAPE_INTERVAL, format_duration(job.scrape_interval)),
            (SCRAPE_TIMEOUT, format_duration(job.scrape_timeout)),
            (METRICS_PATH, job.metrics_path),
            (SCHEME, job.scheme),
            (SCRAPE_NATIVE_HISTOGRAMS, _go_bool(job.scrape_native_histograms)),
            (ALWAYS_SCRAPE_CLASSIC_HISTOGRAMS, _go_bool(job.scrape_classic_histograms)),
            (CONVERT_CLASSIC_HISTOGRAMS_TO_NHCB, _go_bool(job.convert_classic_histograms_to_nhcb)),
        ]
        # `lb.Set(name, "")` deletes: a default with an empty value sets nothing.
        self._defaults = [(k, v) for k, v in defaults if v != ""]
        self._defaults += [(PARAM_PREFIX + k, v[0]) for k, v in job.params.items() if v and v[0] != ""]
        self._params: dict[str, list[str]] = {k: list(v) for k, v in job.params.items()}
        self._query = encode_params(self._params)
        self._durations: dict[str, int] = {}

    def _duration(self, text: str) -> int:
        """Parse a duration label, memoised: a job's targets share a handful of values."""
        ms = self._durations.get(text)
        if ms is None:
            ms = parse_duration(text)
            self._durations[text] = ms
        return ms

    def _query_with(self, items: list[tuple[str, str]]) -> str:
        """Target.URL()'s query: a `__param_<k>` label replaces the first value of k, or adds k."""
        params = {k: list(v) for k, v in self._params.items()}
        for name, value in items:
            if not name.startswith(PARAM_PREFIX):
                continue
            key = name[len(PARAM_PREFIX) :]
            if params.get(key):
                params[key][0] = value
            else:
                params[key] = [value]
        return encode_params(params)

    def build(self, discovered: Mapping[str, str]) -> Target | DroppedTarget:
        """PopulateLabels + Target.URL() + Target.hash() for one target's discovered labels."""
        lb = {k: v for k, v in discovered.items() if v != ""}
        for name, value in self._defaults:
            if not lb.get(name):
                lb[name] = value
        result = self.relabeler.process_target(lb)
        if result is None:
            return DroppedTarget(discovered, None)
        lb = result

        address = lb.get(ADDRESS, "")
        if not address:
            return DroppedTarget(discovered, "no address")
        if "/" in address:
            return DroppedTarget(discovered, f"{go_quote(address)} is not a valid hostname")

        interval_text = lb.get(SCRAPE_INTERVAL, "")
        try:
            interval_ms = self._duration(interval_text)
        except ValueError as exc:
            return DroppedTarget(discovered, f"error parsing scrape interval: {_duration_error(exc)}")
        if interval_ms == 0:
            return DroppedTarget(discovered, "scrape interval cannot be 0")
        timeout_text = lb.get(SCRAPE_TIMEOUT, "")
        try:
            timeout_ms = self._duration(timeout_text)
        except ValueError as exc:
            return DroppedTarget(discovered, f"error parsing scrape timeout: {_duration_error(exc)}")
        if timeout_ms == 0:
            return DroppedTarget(discovered, "scrape timeout cannot be 0")
        if timeout_ms > interval_ms:
            return DroppedTarget(
                discovered,
                "scrape timeout cannot be greater than scrape interval "
                f"({go_quote(timeout_text)} > {go_quote(interval_text)})",
            )
        for name, words in _BOOLEAN_LABELS:
            value = lb.get(name, "")
            if value not in _GO_BOOLS:
                return DroppedTarget(
                    discovered,
                    f"error parsing {words}: strconv.ParseBool: parsing {go_quote(value)}: invalid syntax",
                )

        if not lb.get(INSTANCE):
            lb[INSTANCE] = address
        # One pass: the labels the target keeps (all but __meta_*; relabeling deletes empty values),
        # its public ones, and whether any __param_ label changes the URL.
        items: list[tuple[str, str]] = []
        public: list[tuple[str, str]] = []
        has_params = False
        for item in sorted(lb.items()):
            name = item[0]
            if name.startswith(RESERVED_PREFIX):
                if name.startswith(META_PREFIX):
                    continue
                has_params = has_params or name.startswith(PARAM_PREFIX)
            else:
                public.append(item)
            items.append(item)

        try:
            query = self._query_with(items) if has_params else self._query
            url = build_url(lb.get(SCHEME, ""), address, lb.get(METRICS_PATH, ""), query)
            hashed = target_hash(items, url)
        except UnicodeEncodeError:
            # Go checks label values are valid UTF-8; a str with a lone surrogate is the only way here.
            name, value = next((k, v) for k, v in items if not (_is_utf8(k) and _is_utf8(v)))
            return DroppedTarget(discovered, f"invalid label value for {go_quote(name)}: {go_quote(value)}")
        interval_ns = interval_ms * _NS_PER_MS
        return Target(
            url=url,
            labels=dict(public),
            interval_ms=interval_ms,
            timeout_ms=timeout_ms,
            offset_ns=(hashed ^ self.seed) % interval_ns,
        )


def _go_bool(value: bool) -> str:
    return "true" if value else "false"


def _is_utf8(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True
