"""`promscrape parse` against what a real Prometheus ingests from the same exposition, in every format.

One Prometheus (Debian's 2.42, with `--enable-feature=native-histograms,exemplar-storage`: 2.42
asks for protobuf only with native histograms on) scrapes every exposition below, each served
from loopback as its own job (`honor_labels`, `honor_timestamps`) with its own Content-Type:
- Prometheus text (`text/plain; version=0.0.4`): the hand-written table and the conformance files
  `alltypes.237mfs.prom.txt`, `expfmt-text`;
- OpenMetrics (`application/openmetrics-text; version=1.0.0`): hand-written cases, the conformance
  files `alltypes.5mfs.om.txt`, `1histogram.om.txt` and all 211 cases of the OpenMetrics suite
  (valid and invalid: both sides must accept or refuse alike);
- protobuf (delimited MetricFamily): hand-written messages (every type, classic and native
  histograms, integer and float, exemplars, start timestamps, broken bodies) and the conformance
  files `expfmt-protobuf`, `expfmt-protobuf-multimessage`.

For each, the lines `promscrape parse` prints are read back and compared with what Prometheus
stored, read through its HTTP API: the same series (label sets exactly, `job`/`instance`
removed), one printed line per stored series, the printed value equal to Go's FormatFloat of the
stored value (NaN == NaN), explicit timestamps equal; native histograms (count, sum, and every
non-empty bucket with its bounds and their inclusiveness, from the query API's `histogram`);
exemplars (`/api/v1/query_exemplars`: labels, value, and the timestamp when the exposition gives
one; without one Prometheus stamps the scrape's time); HELP, TYPE and UNIT from the metadata API.
An exposition Prometheus refuses (`up` 0) must make `promscrape parse` fail with the same error
(Prometheus 3's wording, translated to 2.42's; see below).

Prometheus 3 is the reference (REFERENCE.md); where Debian's 2.42 behaves differently the
comparison accounts for it precisely instead of skipping the exposition:
- LE_QUANTILE_CANONICAL: Prometheus 3 rewrites `le`/`quantile` values to FormatOpenMetricsFloat
  (`1` -> `1.0`) while the last `# TYPE` seen is histogram/summary, in both text formats; 2.42
  stores them as written. The stored values are rewritten with an independent implementation
  before comparing. (Protobuf: both versions format the bounds alike.)
- ERROR_WORDING: Prometheus 3's parse errors quote the offending text
  (`X, got "..." ("TOKEN") while parsing: "..."`, `<strconv error> while parsing: "..."`,
  `invalid UTF-8 label value: "..."`, `help text "..." is not a valid utf8 string`,
  `invalid timestamp NaN`, `unit "u" not a suffix of metric "m"`); 2.42 says `X, got "TOKEN"`,
  `"TOKEN" is not a valid start token` (OpenMetrics: `"TOKEN" "<last byte read>" is not a valid
  start token`), `<strconv error>`, `invalid UTF-8 label value`, `help text is not a valid utf8
  string`, `invalid timestamp`, `unit not a suffix of metric "m"`. Prometheus 3's protobuf
  decoder says `clientpb:` where 2.42's says `protobufparse:`. Our message is translated to
  2.42's form by `as_prometheus_242` before comparing. (2.42's errors after relabeling also name
  the target labels `job`/`instance`, which `promscrape parse` does not have: they are removed.)
- QUOTED_NAMES: the quoted-name syntax (`{"name",a="1"}`, `# TYPE "name" ...`) is Prometheus 3's,
  in text and OpenMetrics; 2.42 refuses it. Such cases carry `served_to_242`, the same exposition
  written without quotes, which is what 2.42 scrapes.
- OUTSIDE_THE_HOUR: samples whose explicit timestamp lies outside the hour before the comparison
  (the suite's `123`, `0.0000000001`, `1234567890`, an overflowing `int64(ts*1000)`) cannot be
  read back: Prometheus refuses most as out of bounds, and the query covers that hour only. They
  and their exemplars are left out (acceptance, errors and metadata are still compared); the
  hand-written OpenMetrics cases cover float-second timestamps with recent values.
- CLASSIC_BESIDE_NATIVE: `promscrape parse` keeps both forms of a protobuf histogram that has
  classic buckets and native spans (native and classic histograms on, as Prometheus 3 with
  `scrape_native_histograms` and `always_scrape_classic_histograms`); 2.42 has no such option and
  stores the native one only. The classic series of such histograms (those a parse with
  classic_histograms=False lacks) are left out.
- NATIVE_EXEMPLARS: 2.42 does not read the `exemplars` field (16) of a native histogram; they are
  left out.
- GAUGE_HISTOGRAM_NAMES: 2.42's protobuf parser gives a classic gauge histogram's series the
  family name without `_bucket`/`_count`/`_sum` (so `_count` and `_sum` collide and the first
  wins); Prometheus 3 names them like a histogram's. Our series are renamed the 2.42 way.
- The cases in DIFFERENT_IN_242, by name: outcomes where 2.42's parsers disagree with Prometheus
  3's (label-list error wording, trailing commas and exemplar placement in OpenMetrics, name
  validation in the protobuf parser, what makes a protobuf histogram native, float counts of
  classic histograms). For those, 2.42's exact error (or acceptance) is asserted, and that
  `promscrape parse` accepts or refuses as Prometheus 3 does.
Start timestamps (` st=` on printed lines) are not compared: neither version stores them without
the created-timestamp-zero-ingestion feature.
"""

import io
import math
import re
import struct
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest
from binaries import require_binary
from prometheus_harness import (
    Bucket,
    HistogramShape,
    Scraped,
    ScrapingPrometheus,
    SeriesKey,
    Served,
    StoredExemplar,
    scrape_all,
)
from promscrape import cli, exposition
from promscrape.exposition.model import Exposition, Labels
from protowire import (
    COUNTER,
    GAUGE,
    GAUGE_HISTOGRAM,
    HISTOGRAM,
    SUMMARY,
    UNTYPED,
    double,
    family,
    label,
    message,
    sint,
    uint,
    uvarint,
    zigzag,
)

pytestmark = pytest.mark.integration

TEXT = "text/plain; version=0.0.4"
OPENMETRICS = "application/openmetrics-text; version=1.0.0"
PROTOBUF = "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"
FEATURES = ("native-histograms", "exemplar-storage")
HOUR_MS = 3_600_000
# Replaced by timestamps 30 s (31 s) before the run: much older ones fall out of the TSDB head.
TS = b"<TS>"
TS_EARLIER = b"<TS-1s>"
TS_SECONDS = b"<TS_S>"  # the same instant in whole seconds, for OpenMetrics
TS_THOUSANDS = b"<TS_KS>"  # the same instant in thousands of seconds, e.g. 1795638.037 (`<TS_KS>e3`)


@dataclass(frozen=True)
class Case:
    name: str  # also the Prometheus job name
    # The exposition; a protobuf one is built from the recent timestamp (ms) the run picks.
    body: bytes | Callable[[int], bytes]
    served_to_242: bytes | None = None  # QUOTED_NAMES: the 2.42-syntax equivalent of body
    content_type: str = TEXT


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

OPENMETRICS_CASES = [
    Case(
        "om_float_second_timestamps",
        b"# TYPE a gauge\n"
        b'a{x="1"} 1 <TS_S>\n'
        b'a{x="2"} 2 <TS_S>.5\n'
        b'a{x="3"} 3 <TS_S>.9999\n'
        b'a{x="4"} 4 <TS_S>.0000000001\n'
        b'a{x="5"} 5 <TS_KS>e3\n'
        b'a{x="6"} 6 000<TS_S>.25\n'
        b"# EOF\n",
        content_type=OPENMETRICS,
    ),
    Case(
        "om_exemplars",
        b"# TYPE c counter\n"
        b'c_total{a="1"} 1 # {trace_id="x1"} 0.5 <TS_S>.125\n'
        b'c_created{a="1"} 1.5e9\n'
        b'c_total{a="2"} 2 # {trace_id="x2",span_id="s"} 1e3\n'
        b'c_total{a="3"} 3 <TS_S> # {q="a\\"b\\\\c"} -2 <TS_S>\n'
        b"# TYPE h histogram\n"
        b'h_bucket{le="1"} 1 # {t="1"} 0.5 <TS_S>.001\n'
        b'h_bucket{le="+Inf"} 2 # {} 7 <TS_S>\n'
        b"h_sum 7.5\n"
        b"h_count 2\n"
        b"# EOF\n",
        content_type=OPENMETRICS,
    ),
    Case(
        "om_quoted_names",
        b'# TYPE "q" counter\n# HELP "q" Quoted.\n{"q_total",a="1"} 1\nr{"b"="2"} 2\n# EOF\n',
        served_to_242=b'# TYPE q counter\n# HELP q Quoted.\nq_total{a="1"} 1\nr{b="2"} 2\n# EOF\n',
        content_type=OPENMETRICS,
    ),
    Case(
        "om_types_units_help",
        b"# TYPE t_seconds gauge\n"
        b"# UNIT t_seconds seconds\n"
        b'# HELP t_seconds Esc \\" \\\\ \\n \\z end.\n'
        b"t_seconds 1\n"
        b"# TYPE i info\n"
        b'i_info{v="1"} 1\n'
        b"# TYPE s stateset\n"
        b's{s="a"} 1\n'
        b's{s="b"} 0\n'
        b"# TYPE u unknown\n"
        b"u 3\n"
        b"# TYPE g gaugehistogram\n"
        b'g_bucket{le="1"} 1\n'
        b'g_bucket{le="+Inf"} 2\n'
        b"g_gcount 2\n"
        b"g_gsum 3\n"
        b"# TYPE sm summary\n"
        b'sm{quantile="0.50"} 1\n'
        b'sm{quantile="1"} 2\n'
        b"sm_sum 3\n"
        b"sm_count 2\n"
        b"sm_created 1.5e9\n"
        b"# EOF\n",
        content_type=OPENMETRICS,
    ),
    Case(
        "om_values",
        b"a .5\nb 1E3\nc -Inf\nd NaN\ne 1.7976931348623157e308\nf 00.1\ng -0\nh 9007199254740993\n# EOF\n",
        content_type=OPENMETRICS,
    ),
    Case("om_error_after_samples", b"a 1\nb 2\nc\n# EOF\n", content_type=OPENMETRICS),
    Case("om_crlf", b"a 1\r\n# EOF\r\n", content_type=OPENMETRICS),
    Case("om_two_spaces", b"a  1\n# EOF\n", content_type=OPENMETRICS),
    Case("om_text_without_eof", b"a 1\n", content_type=OPENMETRICS),
    Case("om_empty_body", b"", content_type=OPENMETRICS),
    Case("om_only_eof", b"# EOF", content_type=OPENMETRICS),
]

# ------------------------------------------------- protobuf, written by hand (tests/protowire.py)


def labels(**pairs: str) -> bytes:
    """Metric.label (1) for each pair."""
    return b"".join(label(name, value) for name, value in pairs.items())


def timestamp(number: int, ms: int) -> bytes:
    """A google.protobuf.Timestamp field of `ms` milliseconds."""
    return message(number, uint(1, ms // 1000), uint(2, ms % 1000 * 1_000_000))


def exemplar(value: float, ms: int | None = None, **pairs: str) -> bytes:
    return labels(**pairs) + double(2, value) + (b"" if ms is None else timestamp(3, ms))


def span(offset: int, length: int) -> bytes:
    """A BucketSpan message (the caller wraps it in its field)."""
    return sint(1, offset) + uint(2, length)


def packed_sint(number: int, values: list[int]) -> bytes:
    return message(number, b"".join(uvarint(zigzag(v)) for v in values))


def packed_double(number: int, values: list[float]) -> bytes:
    return message(number, struct.pack(f"<{len(values)}d", *values))


def histogram(*fields: bytes) -> bytes:
    """Metric.histogram (7)."""
    return message(7, *fields)


def bucket(cumulative: int, upper: float, *extra: bytes) -> bytes:
    """Histogram.bucket (3)."""
    return message(3, uint(1, cumulative), double(2, upper), *extra)


def pb_counter(ts: int) -> bytes:
    return family(
        "c_total",
        COUNTER,
        labels(a='x"y\\z\nw', u="ünï ✓", e="")
        + message(
            3,
            double(1, 7) + message(2, exemplar(0.5, ts, trace_id="abc")) + timestamp(3, ts - 5000),
        ),
        labels(a="b") + message(3, double(1, 1.5e9) + message(2, exemplar(-1, None, t="no-ts"))),
        help_text="Help \\ with\nline feed.",
    )


def pb_gauge_untyped(ts: int) -> bytes:
    return family(
        "g",
        GAUGE,
        labels(a="1") + message(2, double(1, 1.5)) + uint(6, ts),
        labels(a="2") + message(2, double(1, math.nan)) + uint(6, 0),
        labels(a="3") + message(2, double(1, -0.0)),
        labels(a="4") + message(2, double(1, math.inf)),
        labels(a="5") + message(2, double(1, 1e-320)),
    ) + family("u", UNTYPED, message(5, double(1, 3)), help_text="")


def pb_summary(ts: int) -> bytes:
    quantiles = [(0, 1), (0.5, 2), (1, 3), (0.99, 4), (1e6, 5), (1e-5, 6)]
    return family(
        "s",
        SUMMARY,
        message(
            4,
            uint(1, 10)
            + double(2, 5.5)
            + b"".join(message(3, double(1, q) + double(2, v)) for q, v in quantiles)
            + timestamp(4, ts - 60_000),
        ),
        labels(k="empty") + message(4, b""),
    )


def pb_classic_histogram(ts: int) -> bytes:
    return family(
        "h",
        HISTOGRAM,
        labels(p="/")
        + histogram(
            uint(1, 7),
            double(2, 3.5),
            bucket(1, 0.5),
            bucket(2, 1, message(3, exemplar(0.3, ts, t="q"))),
            bucket(5, 1e6),
            timestamp(15, ts - 1000),
        ),
    )


def pb_classic_histogram_float(ts: int) -> bytes:
    """A classic histogram with float counts (sample_count_float, cumulative_count_float)."""
    return family(
        "hf",
        HISTOGRAM,
        histogram(
            double(4, 2.5),
            double(2, 1),
            message(3, double(4, 1.5) + double(2, 1)),
            message(3, double(4, 2.5) + double(2, math.inf)),
        ),
    )


def pb_native_integer(ts: int) -> bytes:
    return family(
        "n",
        HISTOGRAM,
        histogram(
            uint(1, 10),  # zero 1 + negative 2, 1 + positive 3, 1, 2
            double(2, 2.5),
            sint(5, 0),
            double(6, 0.001),
            uint(7, 1),
            message(9, span(-1, 2)),
            packed_sint(10, [2, -1]),
            message(12, span(0, 2)),
            message(12, span(2, 1)),
            packed_sint(13, [3, -2, 1]),
            message(16, exemplar(0.7, ts, tid="n1")),
        )
        + uint(6, ts),
        labels(unpacked="yes")
        + histogram(
            uint(1, 4),
            double(2, -1),
            sint(5, 3),
            message(12, span(5, 2)),
            sint(13, 1),  # unpacked repeated deltas, as a proto2 producer may send
            sint(13, 2),
            uint(99, 1),  # an unknown field
        ),
    )


def pb_native_float(ts: int) -> bytes:
    return family(
        "nf",
        HISTOGRAM,
        histogram(
            double(4, 9.5),
            double(2, 2.5),
            sint(5, 1),
            double(6, 0.001),
            double(8, 1.5),
            message(12, span(0, 3)),
            packed_double(14, [1, 0, 7]),
            message(9, span(-2, 1)),
            packed_double(11, [0.25]),
        ),
    )


def pb_native_schemas(ts: int) -> bytes:
    return family(
        "ns",
        HISTOGRAM,
        labels(schema="-4")
        + histogram(
            uint(1, 2),
            double(2, 1000),
            sint(5, -4),
            message(12, span(1, 1)),
            packed_sint(13, [2]),
        ),
        labels(schema="8")
        + histogram(
            uint(1, 3),
            double(2, 3),
            sint(5, 8),
            message(12, span(100, 2)),
            packed_sint(13, [1, 1]),
        ),
        labels(schema="zero-only") + histogram(uint(1, 4), double(2, 0), double(6, 0.5), uint(7, 4)),
    )


def pb_native_and_classic(ts: int) -> bytes:
    return family(
        "nc",
        HISTOGRAM,
        histogram(
            uint(1, 4),
            double(2, 2),
            sint(5, 0),
            double(6, 0.001),
            message(12, span(0, 1)),
            packed_sint(13, [4]),
            bucket(4, 1),
        ),
    )


def pb_native_noop_span(ts: int) -> bytes:
    """An empty native histogram marked by a span of length 0, as client_golang writes one."""
    return family(
        "ne",
        HISTOGRAM,
        histogram(uint(1, 0), double(2, 0), sint(5, 3), message(12, span(0, 0))),
    )


def pb_gauge_histograms(ts: int) -> bytes:
    return family(
        "gh",
        GAUGE_HISTOGRAM,
        histogram(uint(1, 3), double(2, 1), bucket(1, 0.5), bucket(3, 1)),
    ) + family(
        "ghn",
        GAUGE_HISTOGRAM,
        histogram(
            uint(1, 3),
            double(2, 1),
            sint(5, 0),
            message(12, span(0, 1)),
            packed_sint(13, [3]),
        ),
    )


def pb_names(ts: int) -> bytes:
    return (
        family("a:b_c", GAUGE, labels(_x="1", Z9="2") + message(2, double(1, 1)))
        + family("dup_family", GAUGE, message(2, double(1, 1)))
        + family("dup_family", GAUGE, labels(z="1") + message(2, double(1, 2)))
    )


PROTOBUF_CASES = [
    Case("pb_counter", pb_counter, content_type=PROTOBUF),
    Case("pb_gauge_untyped", pb_gauge_untyped, content_type=PROTOBUF),
    Case("pb_summary", pb_summary, content_type=PROTOBUF),
    Case("pb_classic_histogram", pb_classic_histogram, content_type=PROTOBUF),
    Case("pb_classic_histogram_float", pb_classic_histogram_float, content_type=PROTOBUF),
    Case("pb_native_integer", pb_native_integer, content_type=PROTOBUF),
    Case("pb_native_float", pb_native_float, content_type=PROTOBUF),
    Case("pb_native_schemas", pb_native_schemas, content_type=PROTOBUF),
    Case("pb_native_and_classic", pb_native_and_classic, content_type=PROTOBUF),
    Case("pb_native_noop_span", pb_native_noop_span, content_type=PROTOBUF),
    Case("pb_gauge_histograms", pb_gauge_histograms, content_type=PROTOBUF),
    Case("pb_names", pb_names, content_type=PROTOBUF),
    Case(
        "pb_dotted_name",
        family("my.metric", GAUGE, message(2, double(1, 1))),
        content_type=PROTOBUF,
    ),
    Case(
        "pb_label_name_invalid",
        family("x", GAUGE, labels(**{"a-b": "1"}) + message(2, double(1, 1))),
        content_type=PROTOBUF,
    ),
    Case("pb_empty_name", family("", GAUGE, message(2, double(1, 1))), content_type=PROTOBUF),
    Case(
        "pb_duplicate_label",
        family("x", GAUGE, labels(a="1") + labels(a="2") + message(2, double(1, 1))),
        content_type=PROTOBUF,
    ),
    Case("pb_truncated", family("x", GAUGE, message(2, double(1, 1)))[:-3], content_type=PROTOBUF),
    Case("pb_length_varint_too_long", b"\x80\x80\x80\x80\x80\x01x", content_type=PROTOBUF),
    Case("pb_wrong_wire_type", family("x", HISTOGRAM, histogram(uint(6, 1))), content_type=PROTOBUF),
    Case(
        "pb_error_after_family",
        family("ok", GAUGE, message(2, double(1, 1))) + b"\x05\x0a",
        content_type=PROTOBUF,
    ),
    Case("pb_empty_body", b"", content_type=PROTOBUF),
]

# The files of conformance/prometheus/, each with the Content-Type it is served with.
CONFORMANCE_FILES = {
    "alltypes.237mfs.prom.txt": TEXT,
    "expfmt-text": TEXT,
    "alltypes.5mfs.om.txt": OPENMETRICS,
    "1histogram.om.txt": OPENMETRICS,
    "expfmt-protobuf": PROTOBUF,
    "expfmt-protobuf-multimessage": PROTOBUF,
}
OPENMETRICS_SUITE = (
    Path(__file__).resolve().parents[2] / ".." / "shared" / "conformance" / "openmetrics" / "parsers"
)
# The suite's case names; test_openmetrics_suite_is_complete fails when the vectors are missing.
SUITE_CASES = sorted(path.name for path in OPENMETRICS_SUITE.iterdir()) if OPENMETRICS_SUITE.is_dir() else []
SUITE_SIZE = 211


def conformance_job(file_name: str) -> str:
    return "conformance_" + re.sub(r"[^a-zA-Z0-9_]", "_", file_name)


def suite_job(case: str) -> str:
    return "om_suite_" + case


@dataclass(frozen=True)
class Differs:
    """What 2.42 does with an exposition whose outcome differs from Prometheus 3's."""

    reason: str
    error_242: str  # 2.42's scrape error; "" when 2.42 ingests the exposition
    accepted_by_3: bool  # what `promscrape parse` must do (Prometheus 3's outcome)


# OM_LABEL_LIST: Prometheus 3's parseLVals (rewritten for quoted UTF-8 names) says "expected label
# name" and "expected comma or brace close", its lexer reads a `"` where a label name or `=` is due
# as a quoted string (QSTRING), and `a{a}` is a metric name inside braces set twice; 2.42 said
# "expected label name or left brace", "expected comma", "expected comma or left brace", INVALID,
# and wanted the `=`. Both refuse.
_LABEL_LIST = "OM_LABEL_LIST"
# OM_SAMPLE_SUFFIX: after a sample's value Prometheus 3's parser has no error branch for a token
# the lexer cannot read (the sample counts; the next entry fails); 2.42 fails right there.
_SAMPLE_SUFFIX = "OM_SAMPLE_SUFFIX"
# OM_TRAILING_COMMA: Prometheus 3's OpenMetrics parser accepts `a{b="1",}` (REFERENCE §4); 2.42 did not.
_TRAILING_COMMA = "OM_TRAILING_COMMA"
# OM_EXEMPLAR_PLACEMENT: Prometheus 3 accepts an exemplar on any sample line (REFERENCE §4); 2.42
# only on counters' `_total` and histograms' `_bucket` lines.
_EXEMPLAR_PLACEMENT = "OM_EXEMPLAR_PLACEMENT"
# PB_NAME_VALIDATION: 2.42's protobuf parser checks metric and label names itself under the legacy
# rules; Prometheus 3's accepts UTF-8 names and the scrape refuses them later
# (`invalid metric name or label names: ...`).
_NAME_VALIDATION = "PB_NAME_VALIDATION"
# NATIVE_BY_SPANS: Prometheus 3 reads a protobuf histogram as native when it has a span (a
# zero-length one marks an empty native histogram, as client_golang writes it); 2.42 looked at the
# bucket deltas/counts instead and stores such a histogram as a classic one.
_NATIVE_BY_SPANS = "NATIVE_BY_SPANS"

# CLASSIC_FLOAT_COUNTS: 2.42 predates the float counts of classic histograms (`sample_count_float`,
# `cumulative_count_float`) and stores such a histogram's counts as 0.
_CLASSIC_FLOAT_COUNTS = "CLASSIC_FLOAT_COUNTS"

DIFFERENT_IN_242 = {
    suite_job("bad_invalid_labels_0"): Differs(
        _LABEL_LIST, 'expected label name or left brace, got "INVALID"', False
    ),
    suite_job("bad_invalid_labels_1"): Differs(
        _LABEL_LIST, 'expected label name or left brace, got "INVALID"', False
    ),
    suite_job("bad_invalid_labels_4"): Differs(
        _LABEL_LIST, 'expected label name or left brace, got "INVALID"', False
    ),
    suite_job("bad_invalid_labels_3"): Differs(_LABEL_LIST, 'expected comma, got "LNAME"', False),
    suite_job("bad_invalid_labels_8"): Differs(_LABEL_LIST, 'expected comma, got "LNAME"', False),
    suite_job("bad_missing_or_extra_commas_0"): Differs(_LABEL_LIST, 'expected comma, got "LNAME"', False),
    suite_job("bad_grouping_or_ordering_1"): Differs(
        _LABEL_LIST, 'expected comma or left brace, got "INVALID"', False
    ),
    suite_job("bad_missing_equal_or_label_value_0"): Differs(
        _LABEL_LIST, 'expected equal, got "BCLOSE"', False
    ),
    suite_job("bad_missing_equal_or_label_value_1"): Differs(
        _LABEL_LIST, 'expected equal, got "INVALID"', False
    ),
    suite_job("bad_missing_equal_or_label_value_2"): Differs(
        _LABEL_LIST, 'expected equal, got "INVALID"', False
    ),
    suite_job("bad_timestamp_6"): Differs(
        _SAMPLE_SUFFIX, 'expected timestamp or # symbol, got "INVALID"', False
    ),
    suite_job("bad_value_3"): Differs(_SAMPLE_SUFFIX, 'expected timestamp or # symbol, got "INVALID"', False),
    suite_job("bad_missing_or_extra_commas_2"): Differs(
        _TRAILING_COMMA, 'expected label name, got "BCLOSE"', True
    ),
    **{
        suite_job(case): Differs(_EXEMPLAR_PLACEMENT, f"metric name {name} does not support exemplars", True)
        for case, name in [
            ("bad_exemplars_on_unallowed_metric_types_0", "a"),
            ("bad_exemplars_on_unallowed_metric_types_1", "a_info"),
            ("bad_exemplars_on_unallowed_metric_types_2", "a"),
            ("bad_exemplars_on_unallowed_samples_0", "a_sum"),
            ("bad_exemplars_on_unallowed_samples_1", "a_sum"),
            ("bad_exemplars_on_unallowed_samples_3", "a_created"),
        ]
    },
    "pb_dotted_name": Differs(_NAME_VALIDATION, "invalid metric name: my.metric", False),
    "pb_label_name_invalid": Differs(_NAME_VALIDATION, "invalid label name: a-b", False),
    "pb_native_noop_span": Differs(_NATIVE_BY_SPANS, "", True),
    "pb_classic_histogram_float": Differs(_CLASSIC_FLOAT_COUNTS, "", True),
}

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
_START_TOKEN_3 = re.compile(
    rf"expected a valid start token, got ({_GO_QUOTED}) \(\"(\w+)\"\) while parsing: {_GO_QUOTED}", re.S
)
_QUOTED_CHARACTER = re.compile(r"\\x[0-9a-fA-F]{2}|\\u[0-9a-fA-F]{4}|\\U[0-9a-fA-F]{8}|\\.|[^\\]")
_PARSE_ERROR_3 = re.compile(rf"(.*?), got {_GO_QUOTED} \(\"(\w+)\"\) while parsing: {_GO_QUOTED}", re.S)
_WHILE_PARSING_3 = re.compile(rf"(.*) while parsing: {_GO_QUOTED}", re.S)
_INVALID_UTF8_LABEL_3 = re.compile(rf"invalid UTF-8 label value: {_GO_QUOTED}", re.S)
_INVALID_UTF8_HELP_3 = re.compile(rf"help text {_GO_QUOTED} is not a valid utf8 string", re.S)
_INVALID_TIMESTAMP_3 = re.compile(r"invalid (exemplar )?timestamp (?:NaN|[+-]Inf)")
_UNIT_SUFFIX_3 = re.compile(rf"unit {_GO_QUOTED} (not a suffix of metric {_GO_QUOTED})", re.S)


def as_prometheus_242(message: str, content_type: str = TEXT) -> str:
    """ERROR_WORDING: Prometheus 3's parse error as 2.42 words it for that format."""
    start_token = _START_TOKEN_3.fullmatch(message)
    if start_token is not None:
        got, token = start_token.groups()
        characters = _QUOTED_CHARACTER.findall(got[1:-1])
        if content_type == OPENMETRICS and characters:  # 2.42 adds the lexer's last byte: got's last
            return f'"{token}" "{characters[-1]}" is not a valid start token'
        return f'"{token}" is not a valid start token'
    parse_error = _PARSE_ERROR_3.fullmatch(message)
    if parse_error is not None:
        expected, token = parse_error.groups()
        return f'{expected}, got "{token}"'
    while_parsing = _WHILE_PARSING_3.fullmatch(message)
    if while_parsing is not None:
        return while_parsing.group(1)
    if _INVALID_UTF8_LABEL_3.fullmatch(message):
        return "invalid UTF-8 label value"
    if _INVALID_UTF8_HELP_3.fullmatch(message):
        return "help text is not a valid utf8 string"
    invalid_timestamp = _INVALID_TIMESTAMP_3.fullmatch(message)
    if invalid_timestamp is not None:
        return f"invalid {invalid_timestamp.group(1) or ''}timestamp"
    unit_suffix = _UNIT_SUFFIX_3.fullmatch(message)
    if unit_suffix is not None:
        return f"unit {unit_suffix.group(1)}"
    if message.startswith("clientpb: "):
        return "protobufparse: " + message.removeprefix("clientpb: ")
    return message


def without_target_labels(error: str, job: str, address: str) -> str:
    """2.42's error after relabeling names the series with job/instance; `promscrape parse` has none."""
    for target_label in (f'instance="{address}"', f'job="{job}"'):
        error = (
            error.replace(f", {target_label}", "").replace(f"{target_label}, ", "").replace(target_label, "")
        )
    return error


def series_keys(parsed: Exposition) -> set[SeriesKey]:
    """The float series of a parse, as sorted labels with `__name__`."""
    return {model_series_key(*parsed.series[key]) for key in set(parsed.keys)}


def model_series_key(name: str, labels: Labels) -> SeriesKey:
    return tuple(sorted([("__name__", name), *labels]))


def as_stored_by_242(printed: "Printed", body: bytes) -> "Printed":
    """What 2.42 keeps of a protobuf exposition: CLASSIC_BESIDE_NATIVE, NATIVE_EXEMPLARS and
    GAUGE_HISTOGRAM_NAMES applied to the printed lines."""
    both = exposition.new(body, PROTOBUF, native_histograms=True, classic_histograms=True).parse()
    native_only = exposition.new(body, PROTOBUF, native_histograms=True, classic_histograms=False).parse()
    classic_beside_native = series_keys(both) - series_keys(native_only)
    gauge_histograms = {name for name, meta in both.metadata.items() if meta.type == "gaugehistogram"}

    def renamed(key: SeriesKey) -> SeriesKey:
        labels = dict(key)
        name = labels["__name__"]
        for suffix in ("_bucket", "_count", "_sum"):
            if name.removesuffix(suffix) in gauge_histograms and name.endswith(suffix):
                labels["__name__"] = name.removesuffix(suffix)
        return tuple(sorted(labels.items()))

    kept = Printed(histograms=printed.histograms)
    for key, samples in printed.samples.items():
        if key not in classic_beside_native:
            kept.samples.setdefault(renamed(key), samples)  # colliding series: the first wins
    for key, exemplars in printed.exemplars.items():
        if key not in classic_beside_native:
            kept.exemplars[renamed(key)] = [e for e in exemplars if not e.on_native_histogram]
    return kept


# ------------------------------------------------------------------------- what promscrape prints

_PRINTED_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_PRINTED_LABEL = re.compile(rf"([a-zA-Z_][a-zA-Z0-9_]*|{_GO_QUOTED})=({_GO_QUOTED})")
_PRINTED_TAIL = re.compile(r" (\S+)(?: (-?[0-9]+))?(?: st=-?[0-9]+)?")
_PRINTED_HISTOGRAM_TAIL = re.compile(r" (\{count:[^}]*\})(?: (-?[0-9]+))?(?: st=-?[0-9]+)?")
_PRINTED_EXEMPLAR = re.compile(r" (\S+)(?: (-?[0-9]+))?")
_PRINTED_BUCKET = re.compile(r"([\[(])([^,]+),([^,]+?)([\])]):(\S+)")
_BOUNDARY_RULES = {("(", "]"): 0, ("[", ")"): 1, ("(", ")"): 2, ("[", "]"): 3}
_UNESCAPE = re.compile(r'\\([\\"n])')
EXEMPLAR_PREFIX = "  # "


def unquote(quoted: str) -> str:
    return _UNESCAPE.sub(lambda m: "\n" if m.group(1) == "n" else m.group(1), quoted[1:-1])


def read_labels(line: str, i: int) -> tuple[list[tuple[str, str]], int]:
    """`label="value",...}` from `i` (after the `{` or the quoted name's comma) to after the `}`."""
    labels: list[tuple[str, str]] = []
    while not line.startswith("}", i):
        if line.startswith(",", i):
            i += 1
        pair = _PRINTED_LABEL.match(line, i)
        assert pair is not None, line
        name = pair.group(1)
        labels.append((unquote(name) if name.startswith('"') else name, unquote(pair.group(2))))
        i = pair.end()
    return labels, i + 1


def read_series(line: str) -> tuple[SeriesKey, int]:
    """The series a printed line starts with (sorted labels with __name__) and where it ends."""
    if line.startswith("{"):
        name_match = re.compile(_GO_QUOTED).match(line, 1)
        assert name_match is not None, line
        name = unquote(name_match.group())
        labels, i = read_labels(line, name_match.end())
    else:
        name_match = _PRINTED_NAME.match(line)
        assert name_match is not None, line
        name = name_match.group()
        labels, i = (
            read_labels(line, name_match.end() + 1)
            if line.startswith("{", name_match.end())
            else (
                [],
                name_match.end(),
            )
        )
    return tuple(sorted([("__name__", name), *labels])), i


def read_printed(line: str) -> tuple[SeriesKey, str, int | None]:
    """One float sample line of `promscrape parse`: (series, value text, timestamp); ` st=` ignored
    (Prometheus keeps start timestamps only with the created-timestamp-zero-ingestion feature)."""
    key, i = read_series(line)
    tail = _PRINTED_TAIL.fullmatch(line, i)
    assert tail is not None, line
    return key, tail.group(1), None if tail.group(2) is None else int(tail.group(2))


def read_histogram(text: str) -> HistogramShape:
    """`{count:N, sum:S, schema:K, zero_threshold:Z, zero_count:C, (l,u]:n ...}` as the API's numbers."""
    parts = text[1:-1].split(", ")
    fields = dict(part.split(":", 1) for part in parts[:5])
    buckets: list[Bucket] = []
    for part in parts[5:]:
        match = _PRINTED_BUCKET.fullmatch(part)
        assert match is not None, text
        left, lower, upper, right, count = match.groups()
        buckets.append((_BOUNDARY_RULES[left, right], float(lower), float(upper), float(count)))
    return float(fields["count"]), float(fields["sum"]), tuple(buckets)


@dataclass(frozen=True)
class PrintedExemplar:
    labels: SeriesKey
    value: str
    timestamp: int | None
    on_native_histogram: bool


@dataclass
class Printed:
    """The lines of `promscrape parse`, by series (metadata lines left out: the API has no such lines)."""

    samples: dict[SeriesKey, list[tuple[str, int | None]]] = field(default_factory=dict)
    histograms: dict[SeriesKey, list[tuple[HistogramShape, int | None]]] = field(default_factory=dict)
    exemplars: dict[SeriesKey, list[PrintedExemplar]] = field(default_factory=dict)
    # OUTSIDE_THE_HOUR: series whose every printed sample lies outside the compared hour.
    unobservable: set[SeriesKey] = field(default_factory=set)


def read_lines(lines: list[str]) -> Printed:
    printed = Printed()
    last: tuple[SeriesKey, bool] | None = None
    for line in lines:
        if line.startswith(EXEMPLAR_PREFIX):
            assert last is not None, line
            labels, i = read_labels(line, len(EXEMPLAR_PREFIX) + 1)
            tail = _PRINTED_EXEMPLAR.fullmatch(line, i)
            assert tail is not None, line
            timestamp = None if tail.group(2) is None else int(tail.group(2))
            exemplar = PrintedExemplar(tuple(sorted(labels)), tail.group(1), timestamp, last[1])
            printed.exemplars.setdefault(last[0], []).append(exemplar)
            continue
        if line.startswith("#"):
            continue
        key, i = read_series(line)
        histogram_tail = _PRINTED_HISTOGRAM_TAIL.fullmatch(line, i)
        if histogram_tail is None:
            key, value, timestamp = read_printed(line)
            printed.samples.setdefault(key, []).append((value, timestamp))
            last = key, False
        else:
            ts_text = histogram_tail.group(2)
            shape = read_histogram(histogram_tail.group(1))
            printed.histograms.setdefault(key, []).append((shape, None if ts_text is None else int(ts_text)))
            last = key, True
    return printed


def within(printed: Printed, since_ms: int, until_ms: int) -> Printed:
    """OUTSIDE_THE_HOUR: the printed samples Prometheus's hour of storage can show."""
    kept = Printed()

    def visible(timestamp: int | None) -> bool:
        return timestamp is None or since_ms <= timestamp <= until_ms

    for key, samples in printed.samples.items():
        seen = [sample for sample in samples if visible(sample[1])]
        if seen:
            kept.samples[key] = seen
    for key, histograms in printed.histograms.items():
        shown = [histogram for histogram in histograms if visible(histogram[1])]
        if shown:
            kept.histograms[key] = shown
    kept.unobservable = (printed.samples.keys() | printed.histograms.keys()) - (
        kept.samples.keys() | kept.histograms.keys()
    )
    kept.exemplars = {k: v for k, v in printed.exemplars.items() if k not in kept.unobservable}
    return kept


def render(key: SeriesKey) -> str:
    """A series for difference messages."""
    labels = dict(key)
    name = labels.pop("__name__", "")
    return name + "{" + ",".join(f"{k}={v!r}" for k, v in sorted(labels.items())) + "}"


def canonical_keys[Stored](
    stored: dict[SeriesKey, Stored], mtypes: dict[str, str]
) -> dict[SeriesKey, Stored]:
    """LE_QUANTILE_CANONICAL applied to the series of what 2.42 stored."""
    canonical: dict[SeriesKey, Stored] = {}
    for stored_key, value in stored.items():
        key = canonical_like_prometheus_3(stored_key, mtypes)
        if canonical.setdefault(key, value) is not value:
            raise AssertionError(f"two stored series are {render(key)} in Prometheus 3: not modelled")
    return canonical


def differences(
    printed: Printed, stored: dict[SeriesKey, list[tuple[int, float]]], mtypes: dict[str, str]
) -> list[str]:
    """How the printed float samples differ from the ones Prometheus stored (empty when they agree)."""
    ours = printed.samples
    theirs = canonical_keys(stored, mtypes)
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


def by_bounds(shape: HistogramShape) -> HistogramShape:
    """The shape with its buckets lowest bound first (the order Histogram.String() and the API use)."""
    return shape[0], shape[1], tuple(sorted(shape[2], key=lambda bucket: (bucket[1], bucket[2])))


def histogram_differences(
    printed: Printed, stored: dict[SeriesKey, list[tuple[int, HistogramShape]]]
) -> list[str]:
    """How the printed native histograms differ from the stored ones."""
    found = []
    for key in sorted(printed.histograms.keys() ^ stored.keys()):
        side = "printed by promscrape" if key in printed.histograms else "stored by Prometheus"
        found.append(f"native histogram only {side}: {render(key)}")
    for key in sorted(printed.histograms.keys() & stored.keys()):
        ours = [(timestamp, by_bounds(shape)) for shape, timestamp in printed.histograms[key]]
        theirs = [(timestamp, by_bounds(shape)) for timestamp, shape in stored[key]]
        if any(timestamp is not None for timestamp, _ in ours):
            if dict(ours) != dict(theirs) or len(dict(ours)) != len(ours):
                found.append(f"{render(key)}: printed {ours}, stored {theirs}")
        elif len(ours) != 1 or {shape for _, shape in theirs} != {ours[0][1]}:
            found.append(f"{render(key)}: printed {[shape for _, shape in ours]}, stored {theirs[:3]}")
    return found


def exemplar_differences(
    printed: Printed, stored: dict[SeriesKey, list[StoredExemplar]], since_ms: int, until_ms: int
) -> list[str]:
    """How the printed exemplars differ from the stored ones. One without a timestamp is stored with
    the time of each scrape (once or more, within the compared hour); one with a timestamp once."""
    found = []
    for key in sorted((printed.exemplars.keys() | stored.keys()) - printed.unobservable):
        unmatched = list(stored.get(key, []))
        for exemplar in printed.exemplars.get(key, []):

            def same(candidate: StoredExemplar, exemplar: PrintedExemplar = exemplar) -> bool:
                labels, value, timestamp = candidate
                if labels != exemplar.labels or go_format_g(value) != exemplar.value:
                    return False
                if exemplar.timestamp is None:
                    return since_ms <= timestamp <= until_ms
                return timestamp == exemplar.timestamp

            matches = [candidate for candidate in unmatched if same(candidate)]
            if not matches:
                found.append(f"{render(key)}: exemplar {exemplar} not stored; stored {stored.get(key, [])}")
            for candidate in matches if exemplar.timestamp is None else matches[:1]:
                unmatched.remove(candidate)
        found.extend(
            f"{render(key)}: exemplar only stored by Prometheus: {candidate}" for candidate in unmatched
        )
    return found


def promscrape_parse(body: bytes, content_type: str, tmp_path: Path) -> tuple[int, list[str], str]:
    """Run `promscrape parse` on the body: (exit status, printed lines, error text)."""
    path = tmp_path / "exposition"
    path.write_bytes(body)
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["parse", str(path), "--content-type", content_type], out, err)
    return code, out.getvalue().splitlines(), err.getvalue().removesuffix("\n")


# ---------------------------------------------------------------------------------------- tests

ALL_CASES = CASES + OPENMETRICS_CASES + PROTOBUF_CASES


@dataclass
class Run:
    """The bodies as parsed and as scraped, and what Prometheus made of them, by job."""

    bodies: dict[str, bytes]
    served: dict[str, Served]
    scraped: dict[str, Scraped]


@pytest.fixture(scope="module")
def run(conformance_dir: Path) -> Iterator[Run]:
    now_ms = int(time.time() * 1000)
    recent_ms = now_ms - 30_000
    stamps = {
        TS: str(recent_ms).encode(),
        TS_EARLIER: str(now_ms - 31_000).encode(),
        TS_SECONDS: str(recent_ms // 1000).encode(),
        TS_THOUSANDS: repr(recent_ms / 1e6).encode(),
    }

    def stamped(body: bytes | Callable[[int], bytes]) -> bytes:
        if callable(body):
            return body(recent_ms)
        for placeholder, stamp in stamps.items():
            body = body.replace(placeholder, stamp)
        return body

    bodies = {case.name: stamped(case.body) for case in ALL_CASES}
    served = {
        case.name: Served(stamped(case.served_to_242 or case.body), case.content_type) for case in ALL_CASES
    }
    for file_name, content_type in CONFORMANCE_FILES.items():
        body = (conformance_dir / "prometheus" / file_name).read_bytes()
        bodies[conformance_job(file_name)] = body
        served[conformance_job(file_name)] = Served(body, content_type)
    for case in SUITE_CASES:
        body = (conformance_dir / "openmetrics" / "parsers" / case / "metrics").read_bytes()
        bodies[suite_job(case)] = body
        served[suite_job(case)] = Served(body, OPENMETRICS)
    with ScrapingPrometheus(binary=require_binary("prometheus"), features=FEATURES) as prometheus:
        yield Run(bodies, served, scrape_all(prometheus, served))


def check(run: Run, job: str, tmp_path: Path) -> None:
    body, content_type = run.bodies[job], run.served[job].content_type
    code, lines, error = promscrape_parse(body, content_type, tmp_path)
    scraped = run.scraped[job]
    differs = DIFFERENT_IN_242.get(job)
    if differs is not None:
        assert (scraped.health, scraped.last_error) == (
            "down" if differs.error_242 else "up",
            differs.error_242,
        )
        assert code == (0 if differs.accepted_by_3 else 1), f"{differs.reason}: promscrape: {error or lines}"
        return
    if scraped.health != "up":
        assert code == 1, f"Prometheus refused it ({scraped.last_error!r}); promscrape printed {lines}"
        ours = re.sub(r"^(line|byte) [0-9]+: ", "", error)
        theirs = without_target_labels(scraped.last_error, job, scraped.instance)
        assert as_prometheus_242(ours, content_type) == theirs, f"promscrape: {ours!r}"
        return
    assert code == 0, f"Prometheus ingested it; promscrape parse failed: {error}"
    printed = read_lines(lines)
    mtypes: dict[str, str] = {}
    if content_type == PROTOBUF:
        printed = as_stored_by_242(printed, body)
    else:
        mtypes = names_by_last_type(run.served[job].body)
    since_ms = scraped.at_ms - HOUR_MS
    printed = within(printed, since_ms, scraped.at_ms)
    assert [
        *differences(printed, scraped.samples, mtypes),
        *histogram_differences(printed, scraped.histograms),
        *exemplar_differences(printed, canonical_keys(scraped.exemplars, mtypes), since_ms, scraped.at_ms),
    ] == []
    parsed = exposition.new(body, content_type, native_histograms=True, classic_histograms=True).parse()
    ours_meta = {
        name: (meta.type, meta.help or "", meta.unit or "") for name, meta in parsed.metadata.items()
    }
    assert ours_meta == scraped.metadata


@pytest.mark.parametrize("case", ALL_CASES, ids=[case.name for case in ALL_CASES])
def test_exposition_like_prometheus(run: Run, case: Case, tmp_path: Path) -> None:
    check(run, case.name, tmp_path)


@pytest.mark.parametrize("file_name", CONFORMANCE_FILES)
def test_conformance_file_like_prometheus(run: Run, file_name: str, tmp_path: Path) -> None:
    job = conformance_job(file_name)
    assert run.scraped[job].health == "up", run.scraped[job].last_error
    check(run, job, tmp_path)


@pytest.mark.parametrize("case", SUITE_CASES)
def test_openmetrics_suite_like_prometheus(run: Run, case: str, tmp_path: Path) -> None:
    check(run, suite_job(case), tmp_path)


def test_openmetrics_suite_is_complete(conformance_dir: Path) -> None:
    """The suite's cases are parametrised from the vectors: their absence must fail, not shrink."""
    assert (conformance_dir / "openmetrics" / "parsers").resolve() == OPENMETRICS_SUITE.resolve()
    assert len(SUITE_CASES) == SUITE_SIZE


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
        (["m 1 10 st=5"], {M: [(10, 1.0)]}, []),
        (["m 1 st=5", '  # {a="b"} 1'], {M: [(10, 1.0)]}, []),
        (['h_bucket{le="1.0"} 1'], {BUCKET: [(10, 1.0)]}, []),
        (['{"m"} 1'], {M: [(10, 1.0)]}, []),
        (['m{"a.b"="x\\"\\n\\\\"} 1'], {(*M, ("a.b", 'x"\n\\')): [(10, 1.0)]}, []),
        (["# TYPE m gauge", "m 1"], {M: [(10, 1.0)]}, []),
    ],
)
def test_differences(
    printed: list[str], stored: dict[SeriesKey, list[tuple[int, float]]], found: list[str]
) -> None:
    """The comparison itself: what it accepts and what it reports."""
    assert differences(read_lines(printed), stored, {"h_bucket": "histogram"}) == found


NATIVE = (
    "n {count:9, sum:2.5, schema:0, zero_threshold:0.001, zero_count:1, "
    "[-0.5,-0.25):1, [-0.001,0.001]:1, (0.5,1]:3}"
)
SHAPE: HistogramShape = (9.0, 2.5, ((1, -0.5, -0.25, 1.0), (3, -0.001, 0.001, 1.0), (0, 0.5, 1.0, 3.0)))
N = (("__name__", "n"),)


def test_read_histogram() -> None:
    assert read_histogram(NATIVE.removeprefix("n ")) == SHAPE
    assert read_histogram("{count:2, sum:0, schema:-53, zero_threshold:0, zero_count:0, [-Inf,1]:2}") == (
        2.0,
        0.0,
        ((3, -math.inf, 1.0, 2.0),),
    )


@pytest.mark.parametrize(
    ("printed", "stored", "found"),
    [
        ([NATIVE], {N: [(10, SHAPE), (20, SHAPE)]}, []),
        ([NATIVE + " 10"], {N: [(10, SHAPE)]}, []),
        ([NATIVE + " 10"], {N: [(11, SHAPE)]}, [f"n{{}}: printed {[(10, SHAPE)]}, stored {[(11, SHAPE)]}"]),
        ([NATIVE + " st=3"], {N: [(10, (SHAPE[0], SHAPE[1], SHAPE[2][::-1]))]}, []),
        (
            [NATIVE],
            {N: [(10, (9.0, 2.5, SHAPE[2][1:]))]},
            [f"n{{}}: printed {[SHAPE]}, stored {[(10, (9.0, 2.5, SHAPE[2][1:]))]}"],
        ),
        ([NATIVE], {}, ["native histogram only printed by promscrape: n{}"]),
        ([], {N: [(10, SHAPE)]}, ["native histogram only stored by Prometheus: n{}"]),
    ],
)
def test_histogram_differences(
    printed: list[str], stored: dict[SeriesKey, list[tuple[int, HistogramShape]]], found: list[str]
) -> None:
    assert histogram_differences(read_lines(printed), stored) == found


def test_as_stored_by_242(tmp_path: Path) -> None:
    """GAUGE_HISTOGRAM_NAMES, CLASSIC_BESIDE_NATIVE and NATIVE_EXEMPLARS on printed protobuf lines."""
    body = pb_gauge_histograms(0) + pb_native_and_classic(0) + pb_native_integer(5000)
    code, lines, error = promscrape_parse(body, PROTOBUF, tmp_path)
    assert code == 0, error
    printed = read_lines(lines)
    assert printed.exemplars[(("__name__", "n"),)] == [PrintedExemplar((("tid", "n1"),), "0.7", 5000, True)]
    stored = as_stored_by_242(printed, body)
    assert stored.samples == {
        (("__name__", "gh"),): [("3", None)],
        (("__name__", "gh"), ("le", "0.5")): [("1", None)],
        (("__name__", "gh"), ("le", "1.0")): [("3", None)],
        (("__name__", "gh"), ("le", "+Inf")): [("3", None)],
    }
    assert sorted(stored.histograms) == [
        (("__name__", "ghn"),),
        (("__name__", "n"),),
        (("__name__", "n"), ("unpacked", "yes")),
        (("__name__", "nc"),),
    ]
    assert stored.exemplars == {(("__name__", "n"),): []}


A_B = (("a", "b"),)


@pytest.mark.parametrize(
    ("printed", "stored", "found"),
    [
        (["m 1", '  # {a="b"} 0.5 100'], {M: [(A_B, 0.5, 100)]}, []),
        (["m 1", '  # {a="b"} 0.5'], {M: [(A_B, 0.5, 1000), (A_B, 0.5, 2000)]}, []),
        (
            ["m 1", '  # {a="b"} 0.5'],
            {M: [(A_B, 0.5, 5)]},
            [
                f"m{{}}: exemplar {PrintedExemplar(A_B, '0.5', None, False)} not stored; "
                f"stored [({A_B}, 0.5, 5)]",
                f"m{{}}: exemplar only stored by Prometheus: ({A_B}, 0.5, 5)",
            ],
        ),
        (
            ["m 1", '  # {a="b"} 0.5 100'],
            {M: [(A_B, 0.5, 100), (A_B, 0.5, 200)]},
            [f"m{{}}: exemplar only stored by Prometheus: ({A_B}, 0.5, 200)"],
        ),
        (["m 1 5"], {M: [(A_B, 0.5, 5)]}, []),  # m at 5 ms is outside the hour: unobservable
    ],
)
def test_exemplar_differences(
    printed: list[str], stored: dict[SeriesKey, list[StoredExemplar]], found: list[str]
) -> None:
    assert exemplar_differences(within(read_lines(printed), 1000, 3000), stored, 1000, 3000) == found


@pytest.mark.parametrize(
    ("prometheus_3", "content_type", "prometheus_242"),
    [
        (
            'expected label value, got "1" ("INVALID") while parsing: "m{a=1"',
            TEXT,
            'expected label value, got "INVALID"',
        ),
        (
            'expected a valid start token, got "\\xef" ("INVALID") while parsing: "\\xef"',
            TEXT,
            '"INVALID" is not a valid start token',
        ),
        (
            'expected a valid start token, got "# HELP\\n" ("INVALID") while parsing: "# HELP\\n"',
            OPENMETRICS,
            '"INVALID" "\\n" is not a valid start token',
        ),
        (
            'expected a valid start token, got "#a" ("INVALID") while parsing: "#a"',
            OPENMETRICS,
            '"INVALID" "a" is not a valid start token',
        ),
        (
            'strconv.ParseFloat: parsing "1\\r": invalid syntax while parsing: "m 1\\r"',
            TEXT,
            'strconv.ParseFloat: parsing "1\\r": invalid syntax',
        ),
        ('invalid UTF-8 label value: "\\"\\xff\\""', TEXT, "invalid UTF-8 label value"),
        ('help text "\\xff" is not a valid utf8 string', TEXT, "help text is not a valid utf8 string"),
        ('invalid metric type " counter"', TEXT, 'invalid metric type " counter"'),
        ("invalid exemplar timestamp +Inf", OPENMETRICS, "invalid exemplar timestamp"),
        ("invalid timestamp NaN", OPENMETRICS, "invalid timestamp"),
        ('unit "seconds" not a suffix of metric "a"', OPENMETRICS, 'unit not a suffix of metric "a"'),
        ("clientpb: invalid varint encountered", PROTOBUF, "protobufparse: invalid varint encountered"),
    ],
)
def test_as_prometheus_242(prometheus_3: str, content_type: str, prometheus_242: str) -> None:
    assert as_prometheus_242(prometheus_3, content_type) == prometheus_242
