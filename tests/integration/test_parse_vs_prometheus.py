"""`promscrape parse` against what a real Prometheus ingests from the same exposition.

One Prometheus (Debian's 2.42) scrapes every exposition of the table below and the conformance
files, each served from loopback as its own job (`honor_labels`, `honor_timestamps`). For each,
the lines `promscrape parse` prints are read back and compared with the raw samples Prometheus
stored: the same series (label sets exactly, `job`/`instance` removed), one printed line per
stored series, the printed value equal to Go's FormatFloat of the stored value (NaN == NaN),
explicit timestamps equal. An exposition Prometheus refuses (`up` 0) must make `promscrape parse`
fail with the same error (Prometheus 3's wording, translated to 2.42's; see below). HELP and TYPE
are compared with Prometheus's metadata API.

Prometheus 3 is the reference (REFERENCE.md §3); where Debian's 2.42 behaves differently the
comparison accounts for it precisely instead of skipping the exposition:
- LE_QUANTILE_CANONICAL: Prometheus 3 rewrites `le`/`quantile` values to FormatOpenMetricsFloat
  (`1` -> `1.0`) while the last `# TYPE` seen is histogram/summary; 2.42 stores them as written.
  The stored values are rewritten with an independent implementation before comparing.
- ERROR_WORDING: Prometheus 3's parse errors quote the offending text
  (`X, got "..." ("TOKEN") while parsing: "..."`, `<strconv error> while parsing: "..."`,
  `invalid UTF-8 label value: "..."`, `help text "..." is not a valid utf8 string`); 2.42 says
  `X, got "TOKEN"`, `"TOKEN" is not a valid start token`, `<strconv error>`, `invalid UTF-8
  label value`, `help text is not a valid utf8 string`. Our message is translated to 2.42's form
  by `as_prometheus_242` before comparing. (2.42's errors after relabeling also name the target
  labels `job`/`instance`, which `promscrape parse` does not have: they are removed.)
- QUOTED_NAMES: the 1.0.0 quoted-name syntax (`{"name",a="1"}`, `# TYPE "name" ...`) is
  Prometheus 3's; 2.42 refuses it. Such cases carry `served_to_242`, the same exposition written
  without quotes, which is what 2.42 scrapes.
"""

import io
import math
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from binaries import require_binary
from prometheus_harness import Scraped, ScrapingPrometheus, SeriesKey, scrape_all
from promscrape import cli, exposition

pytestmark = pytest.mark.integration

CONTENT_TYPE = "text/plain; version=0.0.4"
# Replaced by timestamps 30 s (31 s) before the run: much older ones fall out of the TSDB head.
TS = b"<TS>"
TS_EARLIER = b"<TS-1s>"


@dataclass(frozen=True)
class Case:
    name: str  # also the Prometheus job name
    body: bytes
    served_to_242: bytes | None = None  # QUOTED_NAMES: the 2.42-syntax equivalent of body


CASES = [
    # --- HELP, TYPE, comments, blank lines ---
    Case("comments_help_type", b"# HELP m Some help.\n# TYPE m counter\n# a comment\n#tight\n\nm 1\n# EOF\n"),
    Case("help_spacing", b"# HELP m   two  spaces \n# HELP n\n# TYPE m gauge\nm 1\nn 2\n"),
    Case("help_escapes", b'# HELP m a\\\\b \\n c \\z \\" end\n# TYPE m gauge\nm 1\n'),
    Case("type_after_sample_and_retyped", b"m 1\n# TYPE m untyped\n# TYPE n gauge\n# TYPE n counter\nn 2\n"),
    Case("whitespace_only_lines", b"m 1\n   \n\t\n\nn 2\n"),
    Case("no_final_newline", b"m 1\nn 2"),
    Case("empty_body", b""),
    Case("only_metadata", b"# HELP m x\n# TYPE m gauge\n"),
    # --- label values: escapes, unknown escapes, raw bytes, UTF-8 ---
    Case("label_escapes", b'm{a="b\\\\s",q="x\\"y",n="l1\\nl2"} 1\n'),
    Case("unknown_escapes_stay", b'm{a="\\z\\t\\u00e9\\0"} 1\n'),
    Case("raw_linefeed_in_label_value", b'm{a="x\ny"} 1\n'),
    Case("separators_in_label_value", b'm{a="{},=# \\"} "} 1\n'),
    Case("utf8", '# HELP m ünïcödé ✓\nm{a="héllo ✓ 日本",b="🙂"} 1\n'.encode()),
    Case("null_bytes", b'# HELP m a\x00b\nm{a="x\x00y"} 1\n'),
    Case("empty_label_values", b'm{a="",b="x"} 1\nn{a=""} 2\n'),
    # --- leniencies and spacing ---
    Case("trailing_comma", b'm{a="1",} 1\nn{a="1",b="2",} 2\n'),
    Case("missing_comma_and_spaces", b'm { a = "1" b = "2" } 1\nn{a="1"b="2"} 2\n'),
    Case("tabs_between_tokens", b'm{a="1"}\t\t1\nn \t 2\t' + TS + b"\n"),
    Case("trailing_whitespace", b"m 1 \nn 2\t\n"),
    Case("empty_braces", b"m{} 1\n"),
    Case("name_characters", b"a:b_c:d 1\n_x 2\n:y 3\nZ9 4\n"),
    # --- values ---
    Case(
        "value_spellings",
        b"a NaN\nb nan\nc NAN\nd Inf\ne +Inf\nf -Inf\ng inf\nh +inf\ni Infinity\n"
        b"j -infinity\nk +INFINITY\nl -iNf\n",
    ),
    Case(
        "number_forms",
        b"a .5\nb 5.\nc -0\nd +1\ne 1e5\nf 1E-5\ng 1.7976931348623157e308\nh 5e-324\n"
        b"i 123456789012345678\nj 0.1\nk 100000\nl 1000000\nm 1e-05\nn 0001.50\no -1.5e-7\n",
    ),
    # --- timestamps ---
    Case("explicit_timestamps", b"m 1 " + TS + b'\nn{a="1"} NaN ' + TS + b"\no 2 0000" + TS + b"\n"),
    # --- histogram and summary label canonicalisation (LE_QUANTILE_CANONICAL) ---
    Case(
        "histogram_le",
        b"# TYPE h histogram\n"
        + b"".join(
            b'h_bucket{le="%s"} %d\n' % (le, i)
            for i, le in enumerate(
                [
                    b"-1",
                    b"0",
                    b"02",
                    b"1",
                    b"1.5",
                    b"10",
                    b"1e3",
                    b"100000",
                    b"1000000",
                    b"1234567",
                    b"0.00001",
                    b"0.0001",
                    b"abc",
                    b"+Inf",
                ]
            )
        )
        + b"h_sum 3\nh_count 14\n",
    ),
    Case(
        "summary_quantile",
        b'# TYPE s summary\ns{quantile="0"} 1\ns{quantile="0.5"} 2\ns{quantile="1"} 3\n'
        b's{quantile="0.99",le="1"} 4\ns_sum 10\ns_count 4\n',
    ),
    Case("le_in_gauge_stays", b'# TYPE g gauge\ng{le="1"} 1\ng{quantile="0"} 2\n'),
    Case(
        "le_follows_last_type_line",
        b'# TYPE h histogram\nother{le="1"} 1\n# TYPE g gauge\nh_bucket{le="1"} 2\n',
    ),
    # --- duplicates ---
    Case("duplicate_series", b'm 1\nm 2\nn{a="1"} 3\nn{a="1"} 4\n'),
    Case("duplicate_series_reordered_labels", b'a{x="1",y="2"} 1\na{y="2",x="1"} 2\n'),
    Case("duplicate_series_via_empty_label", b'm{a=""} 1\nm 2\n'),
    # --- quoted names (QUOTED_NAMES) ---
    Case(
        "quoted_names",
        b'# TYPE "q_total" counter\n{"q_total",a="1"} 1\nr{"b"="2"} 2\n{"s"} 3\n',
        served_to_242=b'# TYPE q_total counter\nq_total{a="1"} 1\nr{b="2"} 2\ns 3\n',
    ),
    Case("quoted_name_invalid_legacy", b'{"\tm"} 1\n', served_to_242=b"\tm 1\n"),
    # --- expositions Prometheus refuses ---
    Case("crlf", b"m 1\r\n"),
    Case("crlf_after_help", b"# HELP m x\r\nm 1\r\n"),
    Case("backslash_linefeed_in_label_value", b'm{a="x\\\ny"} 1\n'),
    Case("type_two_spaces", b"# TYPE m  counter\nm 1\n"),
    Case("type_trailing_space", b"# TYPE m counter \nm 1\n"),
    Case("type_unknown_word", b"# TYPE m info\nm 1\n"),
    Case("type_missing", b"# TYPE m\nm 1\n"),
    Case("value_plus_nan", b"m +NaN\n"),
    Case("value_minus_nan", b"m -NaN\n"),
    Case("value_hex", b"m 0x1p3\n"),
    Case("value_underscore", b"m 1_000\n"),
    Case("value_out_of_range", b"m 1e400\n"),
    Case("value_non_ascii_digit", "m ١\n".encode()),
    Case("value_partial_infinity", b"m Infinit\n"),
    Case("value_missing", b"m\n"),
    Case("timestamp_fraction", b"m 1 1.5\n"),
    Case("timestamp_negative", b"m 1 -5\n"),
    Case("timestamp_out_of_range", b"m 1 99999999999999999999\n"),
    Case("token_after_timestamp", b"m 1 " + TS + b" 5\n"),
    Case("duplicate_label_name", b'm{a="1",a="2"} 1\n'),
    Case("name_label_in_block", b'm{__name__="x"} 1\n'),
    Case("label_name_invalid", b'm{a-b="1"} 1\n'),
    Case("label_value_unquoted", b"m{a=1} 1\n"),
    Case("unclosed_brace", b'm{a="1" 1\n'),
    Case("metric_name_leading_digit", b"1m 1\n"),
    Case("leading_space", b" m 1\n"),
    Case("leading_tab", b"\tm 1\n"),
    Case("invalid_utf8_label_value", b'm{a="\xff"} 1\n'),
    Case("invalid_utf8_help", b"# HELP m \xff\nm 1\n"),
    Case("error_after_good_samples", b"m 1\nn 2\nbad line here\n"),
    # --- more corners ---
    Case("meta_separators", b"#\tHELP\tm\thelp\twith tab\n#  TYPE  m gauge\n# type m counter\nm 1\n"),
    Case("help_only_spaces", b"# HELP m   \nm 1\n"),
    Case("help_quoted_name", b'# HELP "m" quoted\nm 1\n', served_to_242=b"# HELP m quoted\nm 1\n"),
    Case("comment_invalid_utf8", b"# \xff\xfe\nm 1\n"),
    Case("no_space_before_value", b'm{a="1"}1\n'),
    Case("control_characters_in_label_value", b'm{a="x\ty\x01z"} 1\n'),
    Case("double_underscore_label", b'm{__x="1"} 1\n'),
    Case("duplicate_label_one_empty", b'm{a="1",a=""} 1\n'),
    Case("empty_name_label", b'm{__name__=""} 1\n'),
    Case("timestamps_two_per_series", b"m 1 " + TS_EARLIER + b"\nm 2 " + TS + b"\n"),
    Case("duplicate_series_same_timestamp", b"m 1 " + TS + b"\nm 2 " + TS + b"\n"),
    Case("repeated_sample_same_timestamp", b"m 1 " + TS + b"\nm 1 " + TS + b"\n"),
    Case("trailing_space_after_timestamp", b"m 1 " + TS + b"  \n"),
    Case("type_upper_case_word", b"# TYPE m COUNTER\nm 1\n"),
    Case("help_without_name", b"# HELP\nm 1\n"),
    Case("double_comma", b'm{a="1",,b="2"} 1\n'),
    Case("leading_comma", b'm{,a="1"} 1\n'),
    Case("escaped_quote_unterminated", b'm{a="x\\"} 1\n'),
    Case("value_exponent_only", b"m 1e\n"),
    Case("value_dot", b"m .\n"),
    Case("timestamp_plus_sign", b"m 1 +5\n"),
    Case("no_value_after_labels", b'm{a="1"}\n'),
    Case("byte_order_mark", b"\xef\xbb\xbfm 1\n"),
]

CONFORMANCE_FILES = ("alltypes.237mfs.prom.txt", "expfmt-text")


def conformance_job(file_name: str) -> str:
    return "conformance_" + re.sub(r"[^a-zA-Z0-9_]", "_", file_name)


# ---------------------------------------------------------------- independent Go float formatting


def go_format_g(f: float) -> str:
    """Go `strconv.FormatFloat(f, 'g', -1, 64)`, from Python's shortest round-trip digits."""
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    if f == 0:
        return "-0" if math.copysign(1.0, f) < 0 else "0"
    sign, digit_tuple, exponent = Decimal(repr(f)).as_tuple()
    digits = "".join(map(str, digit_tuple)).rstrip("0")
    assert isinstance(exponent, int)
    exponent += len(digit_tuple) - len(digits)
    point = len(digits) + exponent  # value = 0.<digits> * 10**point
    prefix = "-" if sign else ""
    exp = point - 1
    if exp < -4 or exp >= 6:  # shortest formatting uses %e when exp < -4 || exp >= 6
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{prefix}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if point <= 0:
        return f"{prefix}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return prefix + digits + "0" * (point - len(digits))
    return f"{prefix}{digits[:point]}.{digits[point:]}"


_GO_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_GO_HEX = re.compile(r"[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?[0-9]+")
_GO_INF = re.compile(r"[+-]?(?:inf|infinity)", re.IGNORECASE)


def go_parse_float(text: str) -> float | None:
    """Go `strconv.ParseFloat(text, 64)`; None where Go returns an error."""
    if "_" in text:
        raise AssertionError(f"the normaliser does not model Go's underscore rules: {text!r}")
    if _GO_INF.fullmatch(text):
        return -math.inf if text.startswith("-") else math.inf
    if text.lower() == "nan":
        return math.nan
    if _GO_HEX.fullmatch(text):
        return float.fromhex(text)
    if _GO_DECIMAL.fullmatch(text):
        value = float(text)
        return None if math.isinf(value) else value  # out of range: ErrRange
    return None


def open_metrics_float(f: float) -> str:
    """Prometheus 3 `formatOpenMetricsFloat` (the canonical `le`/`quantile` form)."""
    if f == 0:
        return "0.0"
    text = go_format_g(f)
    return text if math.isnan(f) or math.isinf(f) or "e" in text or "." in text else text + ".0"


# ------------------------------------------------------------------------ Prometheus 2.42 -> 3

_META_TYPE = re.compile(rb"[ \t]*#[ \t]+TYPE[ \t]+(?:\"((?:[^\"\\]|\\.)*)\"|(\S+))[ \t](.*)")
_SAMPLE_NAME = re.compile(rb"[ \t]*(?:([a-zA-Z_:][a-zA-Z0-9_:]*)|\{\"((?:[^\"\\]|\\.)*)\")")


def names_by_last_type(body: bytes) -> dict[str, str]:
    """Metric name -> the type of the last `# TYPE` line before its samples (Prometheus 3's p.mtype)."""
    mtype = ""
    seen: dict[str, str] = {}
    for line in body.split(b"\n"):
        meta = _META_TYPE.match(line)
        if meta is not None:
            mtype = meta.group(3).decode()
            continue
        sample = _SAMPLE_NAME.match(line)
        if sample is None or line.lstrip(b" \t").startswith(b"#"):
            continue
        name = (sample.group(1) or sample.group(2)).decode()
        if seen.setdefault(name, mtype) != mtype:
            raise AssertionError(f"{name} has samples under two TYPEs: the normaliser cannot tell them apart")
    return seen


def canonical_like_prometheus_3(key: SeriesKey, mtypes: dict[str, str]) -> SeriesKey:
    """LE_QUANTILE_CANONICAL applied to a series 2.42 stored."""
    labels = dict(key)
    special = {"histogram": "le", "summary": "quantile"}.get(mtypes.get(labels["__name__"], ""))
    if special is None or special not in labels:
        return key
    value = go_parse_float(labels[special])
    if value is None:
        return key
    labels[special] = open_metrics_float(value)
    return tuple(sorted(labels.items()))


_GO_QUOTED = r'"(?:[^"\\]|\\.)*"'
_PARSE_ERROR_3 = re.compile(rf"(.*?), got {_GO_QUOTED} \(\"(\w+)\"\) while parsing: {_GO_QUOTED}", re.S)
_WHILE_PARSING_3 = re.compile(rf"(.*) while parsing: {_GO_QUOTED}", re.S)
_INVALID_UTF8_LABEL_3 = re.compile(rf"invalid UTF-8 label value: {_GO_QUOTED}", re.S)
_INVALID_UTF8_HELP_3 = re.compile(rf"help text {_GO_QUOTED} is not a valid utf8 string", re.S)


def as_prometheus_242(message: str) -> str:
    """ERROR_WORDING: Prometheus 3's parse error as 2.42 words it."""
    parse_error = _PARSE_ERROR_3.fullmatch(message)
    if parse_error is not None:
        expected, token = parse_error.groups()
        if expected == "expected a valid start token":
            return f'"{token}" is not a valid start token'
        return f'{expected}, got "{token}"'
    while_parsing = _WHILE_PARSING_3.fullmatch(message)
    if while_parsing is not None:
        return while_parsing.group(1)
    if _INVALID_UTF8_LABEL_3.fullmatch(message):
        return "invalid UTF-8 label value"
    if _INVALID_UTF8_HELP_3.fullmatch(message):
        return "help text is not a valid utf8 string"
    return message


def without_target_labels(message: str, job: str, address: str) -> str:
    """2.42's error after relabeling names the series with job/instance; `promscrape parse` has none."""
    for label in (f'instance="{address}"', f'job="{job}"'):
        message = message.replace(f", {label}", "").replace(f"{label}, ", "").replace(label, "")
    return message


# ------------------------------------------------------------------------- what promscrape prints

_PRINTED_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_PRINTED_LABEL = re.compile(rf"([a-zA-Z_][a-zA-Z0-9_]*|{_GO_QUOTED})=({_GO_QUOTED})")
_PRINTED_TAIL = re.compile(r" (\S+)(?: ([0-9]+))?")
_UNESCAPE = re.compile(r'\\([\\"n])')


def unquote(quoted: str) -> str:
    return _UNESCAPE.sub(lambda m: "\n" if m.group(1) == "n" else m.group(1), quoted[1:-1])


def read_printed(line: str) -> tuple[SeriesKey, str, int | None]:
    """One line of `promscrape parse`: (sorted labels with __name__, value text, timestamp)."""
    labels: list[tuple[str, str]] = []
    i = 0
    if line.startswith("{"):
        name_match = re.compile(_GO_QUOTED).match(line, 1)
        assert name_match is not None, line
        name = unquote(name_match.group())
        i = name_match.end()
        braces = True
    else:
        name_match = _PRINTED_NAME.match(line)
        assert name_match is not None, line
        name = name_match.group()
        i = name_match.end()
        braces = line.startswith("{", i)
        i += braces
    if braces:
        while not line.startswith("}", i):
            if line.startswith(",", i):
                i += 1
            pair = _PRINTED_LABEL.match(line, i)
            assert pair is not None, line
            label = pair.group(1)
            labels.append((unquote(label) if label.startswith('"') else label, unquote(pair.group(2))))
            i = pair.end()
        i += 1
    tail = _PRINTED_TAIL.fullmatch(line, i)
    assert tail is not None, line
    timestamp = None if tail.group(2) is None else int(tail.group(2))
    return tuple(sorted([("__name__", name), *labels])), tail.group(1), timestamp


def promscrape_parse(body: bytes, tmp_path: Path) -> tuple[int, list[str], str]:
    """Run `promscrape parse` on the body: (exit status, printed lines, error text)."""
    path = tmp_path / "exposition.txt"
    path.write_bytes(body)
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["parse", str(path), "--content-type", CONTENT_TYPE], out, err)
    # Metadata lines (`# TYPE`, `# HELP`, `# UNIT`) come first; Prometheus's query API has no such lines.
    lines = [line for line in out.getvalue().splitlines() if not line.startswith("#")]
    return code, lines, err.getvalue().strip()


def render(key: SeriesKey) -> str:
    """A series for difference messages."""
    labels = dict(key)
    name = labels.pop("__name__", "")
    return name + "{" + ",".join(f"{k}={v!r}" for k, v in sorted(labels.items())) + "}"


def differences(
    printed: list[str], stored: dict[SeriesKey, list[tuple[int, float]]], mtypes: dict[str, str]
) -> list[str]:
    """How the printed samples differ from the ones Prometheus stored (empty when they agree)."""
    ours: dict[SeriesKey, list[tuple[str, int | None]]] = {}
    for line in printed:
        key, value, timestamp = read_printed(line)
        ours.setdefault(key, []).append((value, timestamp))
    theirs: dict[SeriesKey, list[tuple[int, float]]] = {}
    for stored_key, samples in stored.items():
        key = canonical_like_prometheus_3(stored_key, mtypes)
        if theirs.setdefault(key, samples) is not samples:
            raise AssertionError(f"two stored series are {render(key)} in Prometheus 3: not modelled")
    found = []
    for key in sorted(ours.keys() - theirs.keys()):
        found.append(f"only printed by promscrape: {render(key)} {ours[key]}")
    for key in sorted(theirs.keys() - ours.keys()):
        found.append(f"only stored by Prometheus: {render(key)} {theirs[key][:3]}")
    for key in sorted(ours.keys() & theirs.keys()):
        printed_samples, stored_samples = ours[key], theirs[key]
        explicit = [timestamp for _, timestamp in printed_samples if timestamp is not None]
        if not explicit:
            stored_values = {go_format_g(value) for _, value in stored_samples}
            if len(printed_samples) != 1 or stored_values != {printed_samples[0][0]}:
                found.append(
                    f"{render(key)}: printed {printed_samples}, stored values {sorted(stored_values)}"
                )
        elif len(explicit) != len(printed_samples):
            raise AssertionError(f"{render(key)} mixes samples with and without timestamps: not modelled")
        else:
            stored_at = {timestamp: go_format_g(value) for timestamp, value in stored_samples}
            printed_at = {timestamp: value for value, timestamp in printed_samples}
            if len(printed_at) != len(printed_samples) or printed_at != stored_at:
                found.append(f"{render(key)}: printed {printed_samples}, stored {sorted(stored_at.items())}")
    return found


# ---------------------------------------------------------------------------------------- tests


@dataclass
class Run:
    """The bodies as scraped and what Prometheus made of them, by job."""

    bodies: dict[str, bytes]
    served: dict[str, bytes]
    scraped: dict[str, Scraped]


@pytest.fixture(scope="module")
def run(conformance_dir: Path) -> Iterator[Run]:
    now_ms = int(time.time() * 1000)
    stamps = {TS: str(now_ms - 30_000).encode(), TS_EARLIER: str(now_ms - 31_000).encode()}

    def stamped(body: bytes) -> bytes:
        for placeholder, stamp in stamps.items():
            body = body.replace(placeholder, stamp)
        return body

    bodies = {case.name: stamped(case.body) for case in CASES}
    served = {case.name: stamped(case.served_to_242 or case.body) for case in CASES}
    for file_name in CONFORMANCE_FILES:
        bodies[conformance_job(file_name)] = served[conformance_job(file_name)] = (
            conformance_dir / "prometheus" / file_name
        ).read_bytes()
    with ScrapingPrometheus(binary=require_binary("prometheus")) as prometheus:
        yield Run(bodies, served, scrape_all(prometheus, served))


def check(run: Run, job: str, tmp_path: Path) -> None:
    body = run.bodies[job]
    code, printed, error = promscrape_parse(body, tmp_path)
    scraped = run.scraped[job]
    if scraped.health != "up":
        assert code == 1, f"Prometheus refused it ({scraped.last_error!r}); promscrape printed {printed}"
        ours = re.sub(r"^line [0-9]+: ", "", error)
        theirs = without_target_labels(scraped.last_error, job, scraped.instance)
        assert as_prometheus_242(ours) == theirs, f"promscrape: {ours!r}"
        return
    assert code == 0, f"Prometheus ingested it; promscrape parse failed: {error}"
    assert differences(printed, scraped.samples, names_by_last_type(run.served[job])) == []
    parsed = exposition.new(body, CONTENT_TYPE).parse()
    ours_meta = {name: (meta.type, meta.help or "") for name, meta in parsed.metadata.items()}
    assert ours_meta == scraped.metadata


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_exposition_like_prometheus(run: Run, case: Case, tmp_path: Path) -> None:
    check(run, case.name, tmp_path)


@pytest.mark.parametrize("file_name", CONFORMANCE_FILES)
def test_conformance_file_like_prometheus(run: Run, file_name: str, tmp_path: Path) -> None:
    job = conformance_job(file_name)
    assert run.scraped[job].health == "up", run.scraped[job].last_error
    check(run, job, tmp_path)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "0"),
        (-0.0, "-0"),
        (1.0, "1"),
        (100000.0, "100000"),
        (1e6, "1e+06"),
        (1234567.0, "1.234567e+06"),
        (1e-5, "1e-05"),
        (0.0001, "0.0001"),
        (1.5e-7, "1.5e-07"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (123456789012345678.0, "1.2345678901234568e+17"),
        (math.inf, "+Inf"),
        (math.nan, "NaN"),
    ],
)
def test_go_format_g(value: float, text: str) -> None:
    """The comparison's own FormatFloat, on values whose Go output is known."""
    assert go_format_g(value) == text


@pytest.mark.parametrize(
    ("label", "canonical"),
    [
        ("1", "1.0"),
        ("0", "0.0"),
        ("-0", "0.0"),
        ("01", "1.0"),
        ("1e3", "1000.0"),
        ("1000000", "1e+06"),
        ("0.00001", "1e-05"),
        ("+Inf", "+Inf"),
        ("0x1p3", "8.0"),
    ],
)
def test_open_metrics_float(label: str, canonical: str) -> None:
    parsed = go_parse_float(label)
    assert parsed is not None
    assert open_metrics_float(parsed) == canonical


@pytest.mark.parametrize("label", ["abc", "1e400", "+NaN", " 1", ""])
def test_go_parse_float_refuses(label: str) -> None:
    assert go_parse_float(label) is None


M = (("__name__", "m"),)
BUCKET = (("__name__", "h_bucket"), ("le", "1"))


@pytest.mark.parametrize(
    ("printed", "stored", "found"),
    [
        (["m 1"], {M: [(10, 1.0), (20, 1.0)]}, []),
        (["m NaN"], {M: [(10, math.nan)]}, []),
        (["m 1e+06"], {M: [(10, 1e6)]}, []),
        (["m 1000000"], {M: [(10, 1e6)]}, ["m{}: printed [('1000000', None)], stored values ['1e+06']"]),
        (["m -0"], {M: [(10, 0.0)]}, ["m{}: printed [('-0', None)], stored values ['0']"]),
        (["m 1", "m 2"], {M: [(10, 1.0)]}, ["m{}: printed [('1', None), ('2', None)], stored values ['1']"]),
        (["m 1"], {}, ["only printed by promscrape: m{} [('1', None)]"]),
        ([], {M: [(10, 1.0)]}, ["only stored by Prometheus: m{} [(10, 1.0)]"]),
        (["m 1 10"], {M: [(10, 1.0)]}, []),
        (["m 1 10"], {M: [(11, 1.0)]}, ["m{}: printed [('1', 10)], stored [(11, '1')]"]),
        (['h_bucket{le="1.0"} 1'], {BUCKET: [(10, 1.0)]}, []),
        (['{"m"} 1'], {M: [(10, 1.0)]}, []),
        (['m{"a.b"="x\\"\\n\\\\"} 1'], {(*M, ("a.b", 'x"\n\\')): [(10, 1.0)]}, []),
    ],
)
def test_differences(
    printed: list[str], stored: dict[SeriesKey, list[tuple[int, float]]], found: list[str]
) -> None:
    """The comparison itself: what it accepts and what it reports."""
    assert differences(printed, stored, {"h_bucket": "histogram"}) == found


@pytest.mark.parametrize(
    ("prometheus_3", "prometheus_242"),
    [
        (
            'expected label value, got "1" ("INVALID") while parsing: "m{a=1"',
            'expected label value, got "INVALID"',
        ),
        (
            'expected a valid start token, got "\\xef" ("INVALID") while parsing: "\\xef"',
            '"INVALID" is not a valid start token',
        ),
        (
            'strconv.ParseFloat: parsing "1\\r": invalid syntax while parsing: "m 1\\r"',
            'strconv.ParseFloat: parsing "1\\r": invalid syntax',
        ),
        ('invalid UTF-8 label value: "\\"\\xff\\""', "invalid UTF-8 label value"),
        ('help text "\\xff" is not a valid utf8 string', "help text is not a valid utf8 string"),
        ('invalid metric type " counter"', 'invalid metric type " counter"'),
    ],
)
def test_as_prometheus_242(prometheus_3: str, prometheus_242: str) -> None:
    assert as_prometheus_242(prometheus_3) == prometheus_242
