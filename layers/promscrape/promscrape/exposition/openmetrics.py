"""The OpenMetrics 1.0 text parser (0.0.1 and 1.0.0 share the grammar), exact to Prometheus 3.

A port of model/textparse/openmetricslex.l (the golex DFA, state by state: where a token stops,
where an invalid one gives up, which states skip null bytes) and openmetricsparse.go (the parser on
top), so it accepts, rejects and words errors as Prometheus does. A line-level regular expression
takes the common sample shape in one step; anything else goes through the token lexer, and a
differential test proves the shortcut never changes a result.

Canonical bodies (the usual exporter output: bare-name HELP/TYPE/UNIT lines, sample lines
`name{a="x",...} value [timestamp]` with single spaces and no escape or exemplar) skip even that:
their sample lines read the same as Prometheus text lines, so exposition/fast.py's column
machinery splits them all at once and proves the keys (in C when promscrape._native is built),
and `series` is a lazy fast.Series, whose keys the pipeline's C encoder reads without building
labels; `values()`/`items()` resolve every key at once (in C: native.c's series_entries, else
column-wise Python). OpenMetrics' own rules are checked on top; any doubt sends the whole body to
the token path, which the tests hold the results equal to.

What Prometheus does, and so this parser:
- Exactly one space between tokens, no blank lines, `# EOF` last (one final `\\n` allowed, and
  nothing else: `unexpected data after # EOF`); without it `data does not end with # EOF`.
- Timestamps are float seconds, stored as Go's `int64(ts*1000)` (truncated; a product outside
  int64 gives int64's minimum, as Go on amd64 does). NaN or infinite ones are errors.
- `# UNIT` must be the suffix `_<unit>` of the family name; `# TYPE` takes the OpenMetrics words.
- A trailing comma in a label list is accepted (the spec forbids it), and so is a sample line
  that ends in a token the lexer cannot read: Prometheus's parser has no error branch there, so
  the sample counts and the next entry then fails (`expected a valid start token, ...`).
- Exemplars (` # {labels} value [timestamp]`) on any sample line; their label values are kept as
  written (not unescaped), labels in written order. One whose label names and values exceed 128
  runes is dropped, as Prometheus's exemplar storage refuses it; the sample is kept.
- `_created` lines are ordinary samples: Prometheus 3 skips them (and reads them as start
  timestamps) only with the `created-timestamp-zero-ingestion` feature flag, off by default
  (scrape passes `OpenMetricsSkipSTSeries: enableSTZeroIngestion`), so `start_timestamps` stays
  empty.
- `le` (histogram) and `quantile` (summary) label values are canonicalised under those TYPEs,
  the last `# TYPE` seen deciding, as in Prometheus; HELP text unescapes `\\\\`, `\\"`, `\\n`.

Contract: `parse_openmetrics(body)` never raises ParseError: parsing stops at the first error,
returned in `Exposition.error` as `line N: <Prometheus's message>` (N the 1-based line where the
failing entry starts), with every sample before it kept.
"""

import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from itertools import compress, repeat
from operator import itemgetter
from typing import Any

from promscrape.gostring import go_quote

from . import fast
from .floats import FloatSyntaxError, parse_value
from .model import Exemplar, Exposition, Labels, Metadata, ParseError
from .text import canonical_float_label, empty_names, is_valid_utf8, make_series, unescape_label_value

__all__ = ["MEDIA_TYPE", "METRIC_TYPES", "OpenMetricsParser", "parse_openmetrics"]

MEDIA_TYPE = "application/openmetrics-text"

METRIC_TYPES = frozenset(
    {"counter", "gauge", "histogram", "gaugehistogram", "summary", "info", "stateset", "unknown"}
)
"""The `# TYPE` words OpenMetrics allows; Metadata.type holds them as written."""

EXEMPLAR_MAX_LABEL_RUNES = 128
"""Prometheus `exemplar.ExemplarMaxLabelSetLength`: longer exemplars are dropped, not fatal."""

# Lexer start conditions, as openmetricslex.l declares them.
(
    _S_INIT,
    _S_COMMENT,
    _S_META1,
    _S_META2,
    _S_LABELS,
    _S_LVALUE,
    _S_VALUE,
    _S_TIMESTAMP,
    _S_EXEMPLAR,
    _S_EVALUE,
    _S_ETIMESTAMP,
) = range(11)

# Tokens, numbered as in promparse.go; the names are what `%q` of a token prints.
_T_INVALID = -1
_T_EOF = 0
_T_LINEBREAK = 2
_T_HELP = 4
_T_TYPE = 5
_T_UNIT = 6
_T_EOFWORD = 7
_T_TEXT = 8
_T_COMMENT = 9
_T_MNAME = 11
_T_QSTRING = 12
_T_BOPEN = 13
_T_BCLOSE = 14
_T_LNAME = 15
_T_LVALUE = 16
_T_COMMA = 17
_T_EQUAL = 18
_T_TIMESTAMP = 19
_T_VALUE = 20
_TOKEN_NAMES = {
    _T_INVALID: "INVALID",
    _T_EOF: "EOF",
    _T_LINEBREAK: "LINEBREAK",
    _T_HELP: "HELP",
    _T_TYPE: "TYPE",
    _T_UNIT: "UNIT",
    _T_EOFWORD: "EOFWORD",
    _T_TEXT: "TEXT",
    _T_COMMENT: "COMMENT",
    _T_MNAME: "MNAME",
    _T_QSTRING: "QSTRING",
    _T_BOPEN: "BOPEN",
    _T_BCLOSE: "BCLOSE",
    _T_LNAME: "LNAME",
    _T_LVALUE: "LVALUE",
    _T_COMMA: "COMMA",
    _T_EQUAL: "EQUAL",
    _T_TIMESTAMP: "TIMESTAMP",
    _T_VALUE: "VALUE",
}
_KEYWORDS = {"H": ("HELP", _T_HELP), "T": ("TYPE", _T_TYPE), "U": ("UNIT", _T_UNIT), "E": ("EOF", _T_EOFWORD)}

_METRIC_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_:")
_LABEL_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_METRIC_REST = re.compile(r"[a-zA-Z0-9_:]*")
_LABEL_REST = re.compile(r"[a-zA-Z0-9_]*")
_NULLS = re.compile(r"\x00*")
# `{S}[^ \n]+` after the space (golex excludes the null byte from every class).
_TOKEN_CHARS = re.compile(r"[^\x00\n ]+")
# Quoted names (HELP/TYPE/UNIT and label blocks): any byte but null; a raw line feed is fine,
# a backslash takes any byte but null and line feed. No null skipping in these states.
_QUOTED = re.compile(r'"[^\x00"\\]*+(?:\\[^\x00\n][^\x00"\\]*+)*+"')
_QUOTED_PREFIX = re.compile(r'"[^\x00"\\]*+(?:\\[^\x00\n][^\x00"\\]*+)*+\\?')
# Label values: nulls are skipped (so allowed anywhere, even between `\` and the escaped byte) and
# those right after the closing quote belong to the token; no raw line feed.
_LVALUE = re.compile(r'"[^\n"\\]*+(?:\\\x00*+[^\x00\n][^\n"\\]*+)*+"\x00*+')
_LVALUE_PREFIX = re.compile(r'"[^\n"\\]*+(?:\\\x00*+[^\x00\n][^\n"\\]*+)*+(?:\\\x00*+)?')
# Quoted strings inside an exemplar: no null skipping and no raw line feed.
_EQUOTED = re.compile(r'"[^\x00\n"\\]*+(?:\\[^\x00\n][^\x00\n"\\]*+)*+"')
_EQUOTED_PREFIX = re.compile(r'"[^\x00\n"\\]*+(?:\\[^\x00\n][^\x00\n"\\]*+)*+\\?')

# The common sample line in one match: bare names, label values without backslash, null or line
# feed, value, optional timestamp, optional exemplar of the same shape. Whatever it accepts the
# token lexer accepts with the same result; anything else (or a value that does not parse) goes
# to the token lexer, which decides and words the error.
_PAIRS = r'(?:[a-zA-Z_][a-zA-Z0-9_]*+="[^"\\\n\x00]*+",)*+(?:[a-zA-Z_][a-zA-Z0-9_]*+="[^"\\\n\x00]*+")?'
_COMMON_LINE = re.compile(
    r"([a-zA-Z_:][a-zA-Z0-9_:]*+)"
    rf"(?:\{{({_PAIRS})\}})?"
    r" ([^ \n\x00]++)"
    r"(?: ([^ \n\x00#][^ \n\x00]*+))?"
    rf"(?: # \{{({_PAIRS})\}} ([^ \n\x00]++)(?: ([^ \n\x00]++))?)?"
    r"\n"
)
_COMMON_PAIR = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*+)="([^"]*+)"')
_INVALID_UTF8 = re.compile("[\udc80-\udcff]")
_NUMERIC = str.maketrans("", "", "0123456789.eE+-")
_INT64_LIMIT = 9.223372036854775808e18
_INF = math.inf
_DROPPED = Exemplar((), 0.0)
"""Marks an exemplar the shortcut read but Prometheus would drop (too long)."""


def _raw(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _go_int64(value: float) -> int:
    """Go's `int64(f)` on amd64: truncation, and int64's minimum for anything out of range."""
    if -_INT64_LIMIT <= value < _INT64_LIMIT:
        return int(value)
    return -(1 << 63)


def _go_float_verb(value: float) -> str:
    """Go `%f` of the only values it is used on here: NaN and the infinities."""
    if value != value:
        return "NaN"
    return "+Inf" if value > 0 else "-Inf"


def _exemplar_fits(labels: Labels) -> bool:
    """Rune count as Prometheus's exemplar storage checks it (invalid bytes count one each)."""
    return sum(len(name) + len(value) for name, value in labels) <= EXEMPLAR_MAX_LABEL_RUNES


def _quick_float(text: str) -> float | None:
    """A float token the shortcut may take: Go's value, or None to let the careful path decide.

    Over the characters `0-9 . e E + -` Python's float() and Go's ParseFloat accept the same
    strings; only overflow differs (Python gives inf, Go an error), so infinities go back too.
    Anything else goes through floats.parse_value (NaN, Inf spellings, errors).
    """
    if not text.translate(_NUMERIC):
        try:
            value = float(text)
        except ValueError:
            return None
        return None if math.isinf(value) else value
    try:
        return parse_value(text)
    except FloatSyntaxError:
        return None


class _Series(Mapping[str, tuple[str, Labels]]):
    """`Exposition.series` of an OpenMetrics parse: common lines are turned into labels on first access.

    A common line stores (name, label block, TYPE in force); the pipeline asks only for keys its
    per-target cache lacks, so a target seen before never pays for label parsing. Entries built
    by the token path are stored resolved.
    """

    __slots__ = ("entries",)

    def __init__(self) -> None:
        self.entries: dict[str, tuple[str, Labels] | tuple[str, str, str]] = {}

    def __getitem__(self, key: str) -> tuple[str, Labels]:
        entry = self.entries[key]
        if len(entry) == 3:
            name, block, mtype = entry
            resolved = self.entries[key] = make_series(name, _COMMON_PAIR.findall(block), mtype)
            return resolved
        return entry

    def __contains__(self, key: object) -> bool:
        return key in self.entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)


class _Parser:
    """One parse of one body: the lexer's state plus the parser's (openmetricsparse.go)."""

    def __init__(self, body: bytes, line_shortcut: bool) -> None:
        self.line_shortcut = line_shortcut
        self.text = body.decode("utf-8", "surrogateescape")
        self.n = len(self.text)
        self.i = 0
        self.start = 0
        self.state = _S_INIT
        self.entry_start = 0
        self.mtype = ""
        self.series = _Series()
        self.entries = self.series.entries
        self.empty_labels: dict[str, frozenset[str]] = {}
        self.result = Exposition(series=self.series, empty_labels=self.empty_labels)

    # ---- lexer (openmetricslex.l) ----

    def _skip_nulls(self, i: int) -> int:
        """`next()` in the null-skipping states (label value, HELP text, comment keyword)."""
        if i < self.n and self.text[i] == "\x00":
            return _NULLS.match(self.text, i).end()
        return i

    def lex(self) -> int:
        """One token from self.i; sets self.start/self.i around it and the next state.

        At the end of the input Go returns EOF before moving `l.start`, so the previous token's
        start stays (error messages quote from there). An invalid token leaves self.i on the byte
        the DFA could not take, the state unchanged.
        """
        text = self.text
        i = self.i
        if i >= self.n:
            return _T_EOF
        self.start = i
        c = text[i]
        state = self.state
        if state == _S_INIT:
            if c in _METRIC_START:
                self.i = _METRIC_REST.match(text, i + 1).end()
                self.state = _S_VALUE
                return _T_MNAME
            if c == "{":
                self.i = i + 1
                self.state = _S_LABELS
                return _T_BOPEN
            if c == "#":
                if text.startswith(" ", i + 1):
                    return self._lex_keyword(i + 2)
                self.i = i + 1
            return _T_INVALID
        if state == _S_LABELS:
            if c in _LABEL_START:
                self.i = _LABEL_REST.match(text, i + 1).end()
                return _T_LNAME
            if c == '"':
                return self._lex_quoted(i, _QUOTED, _QUOTED_PREFIX, _T_QSTRING, _S_LABELS)
            if c == ",":
                self.i = i + 1
                return _T_COMMA
            if c == "=":
                self.i = i + 1
                self.state = _S_LVALUE
                return _T_EQUAL
            if c == "}":
                self.i = i + 1
                self.state = _S_VALUE
                return _T_BCLOSE
            return _T_INVALID
        if state == _S_LVALUE:
            if c != '"':
                return _T_INVALID
            return self._lex_quoted(i, _LVALUE, _LVALUE_PREFIX, _T_LVALUE, _S_LABELS)
        if state == _S_VALUE:
            if c == " ":
                return self._lex_spaced(i, _T_VALUE, _S_TIMESTAMP)
            if c == "{":
                self.i = i + 1
                self.state = _S_LABELS
                return _T_BOPEN
            return _T_INVALID
        if state == _S_TIMESTAMP:
            if c == "\n":
                self.i = i + 1
                self.state = _S_INIT
                return _T_LINEBREAK
            if c != " ":
                return _T_INVALID
            if text.startswith("# ", i + 1):
                if text.startswith("{", i + 3):
                    self.i = i + 4
                    self.state = _S_EXEMPLAR
                    return _T_COMMENT
                self.i = i + 3
                return _T_INVALID
            return self._lex_spaced(i, _T_TIMESTAMP, _S_TIMESTAMP)
        if state == _S_EXEMPLAR:
            if c in _LABEL_START:
                self.i = _LABEL_REST.match(text, i + 1).end()
                return _T_LNAME
            if c == '"':
                return self._lex_quoted(i, _EQUOTED, _EQUOTED_PREFIX, _T_QSTRING, _S_EXEMPLAR)
            if c == ",":
                self.i = i + 1
                return _T_COMMA
            if c == "=" or c == "}":
                self.i = i + 1
                self.state = _S_EVALUE
                return _T_EQUAL if c == "=" else _T_BCLOSE
            return _T_INVALID
        if state == _S_EVALUE:
            if c == " ":
                return self._lex_spaced(i, _T_VALUE, _S_ETIMESTAMP)
            if c == '"':
                return self._lex_quoted(i, _EQUOTED, _EQUOTED_PREFIX, _T_LVALUE, _S_EXEMPLAR)
            return _T_INVALID
        if state == _S_ETIMESTAMP:
            if c == "\n":
                self.i = i + 1
                self.state = _S_INIT
                return _T_LINEBREAK
            if c == " ":
                return self._lex_spaced(i, _T_TIMESTAMP, _S_ETIMESTAMP)
            return _T_INVALID
        if state == _S_META1:
            if c == '"':
                return self._lex_quoted(i, _QUOTED, _QUOTED_PREFIX, _T_MNAME, _S_META2)
            if c in _METRIC_START:
                self.i = _METRIC_REST.match(text, i + 1).end()
                self.state = _S_META2
                return _T_MNAME
            return _T_INVALID
        # _S_META2 (sComment is never a start state here: _lex_keyword reads it in one go, and an
        # invalid keyword ends the parse).
        if c != " ":
            return _T_INVALID
        end = text.find("\n", i + 1)
        if end < 0:
            self.i = self.n
            return _T_INVALID
        self.i = self._skip_nulls(end + 1)
        self.state = _S_INIT
        return _T_TEXT

    def _lex_keyword(self, i: int) -> int:
        """The sComment state after `# `: HELP/TYPE/UNIT plus a space, or `EOF` with an optional line feed.

        The first byte was read before the state became sComment, so only the later ones skip nulls.
        """
        text = self.text
        keyword = _KEYWORDS.get(text[i : i + 1])
        if keyword is None:
            self.i = i
            return _T_INVALID
        word, token = keyword
        at = i
        for char in word:
            if not text.startswith(char, at):
                self.i = at
                return _T_INVALID
            at = self._skip_nulls(at + 1)
        if token == _T_EOFWORD:
            if text.startswith("\n", at):
                at = self._skip_nulls(at + 1)
            self.i = at
            self.state = _S_INIT
            return token
        if not text.startswith(" ", at):
            self.i = at
            return _T_INVALID
        self.i = self._skip_nulls(at + 1)
        self.state = _S_META1
        return token

    def _lex_quoted(
        self, i: int, full: re.Pattern[str], prefix: re.Pattern[str], token: int, state: int
    ) -> int:
        m = full.match(self.text, i)
        if m is None:
            self.i = prefix.match(self.text, i).end()
            return _T_INVALID
        self.i = m.end()
        self.state = state
        return token

    def _lex_spaced(self, i: int, token: int, state: int) -> int:
        """`{S}[^ \\n]+`: a space and at least one more byte; invalid on the byte after the space."""
        m = _TOKEN_CHARS.match(self.text, i + 1)
        if m is None:
            self.i = i + 1
            return _T_INVALID
        self.i = m.end()
        self.state = state
        return token

    # ---- parser (openmetricsparse.go) ----

    def error(self, message: str) -> ParseError:
        return ParseError(message, line=self.text.count("\n", 0, self.entry_start) + 1)

    def _upto(self, start: int) -> bytes:
        """Go's `b[start:min(len(b), l.i+1)]`: up to the lexer position plus one more byte."""
        head = _raw(self.text[start : self.i])
        if self.i < self.n:
            head += _raw(self.text[self.i])[:1]
        return head

    def parse_error(self, expected: str, token: int) -> ParseError:
        got = go_quote(self._upto(self.start))
        line = go_quote(self._upto(self.entry_start))
        return self.error(f'{expected}, got {got} ("{_TOKEN_NAMES[token]}") while parsing: {line}')

    def _while_parsing(self) -> str:
        return go_quote(_raw(self.text[self.entry_start : self.i]))

    def run(self) -> Exposition:
        try:
            while True:
                if self.line_shortcut and self.state == _S_INIT:
                    self.i = self._common_lines(self.i)
                self.entry_start = self.i
                if not self.next_entry():
                    break
        except ParseError as exc:
            self.result.error = exc
        return self.result

    def next_entry(self) -> bool:
        """OpenMetricsParser.Next: one entry; False at a well-formed end."""
        token = self.lex()
        if token == _T_MNAME:
            name_span: tuple[int, int] | None = (self.start, self.i)
            spans: list[tuple[int, int, int, int]] = []
            series_end = self.i
            after = self.lex()
            if after == _T_BOPEN:
                name_span, spans = self._label_block(name_span, exemplar=False)
                series_end = self.i
                after = self.lex()
            self._sample(name_span, spans, series_end, after)
            return True
        if token in (_T_HELP, _T_TYPE, _T_UNIT):
            self._metadata(token)
            return True
        if token == _T_BOPEN:
            name_span, spans = self._label_block(None, exemplar=False)
            self._sample(name_span, spans, self.i, self.lex())
            return True
        if token == _T_EOFWORD:
            if self.lex() != _T_EOF:
                raise self.error("unexpected data after # EOF")
            return False
        if token == _T_EOF:
            raise self.error("data does not end with # EOF")
        raise self.parse_error("expected a valid start token", token)

    def _metadata(self, kind: int) -> None:
        text = self.text
        kind_name = _TOKEN_NAMES[kind]
        token = self.lex()
        if token != _T_MNAME:
            raise self.parse_error(f"expected metric name after {kind_name}", token)
        start, end = self.start, self.i
        if text[start] == '"' and text[end - 1] == '"':
            start += 1
            end -= 1
        name = text[start:end]
        if self.lex() != _T_TEXT:
            raise self.error(f"expected text in {kind_name}")
        token_text = text[self.start : self.i]
        body = token_text[1:-1] if len(token_text) > 1 else ""
        if kind == _T_TYPE:
            if body not in METRIC_TYPES:
                raise self.error(f"invalid metric type {go_quote(_raw(body))}")
            self.mtype = body
        elif kind == _T_HELP:
            if not is_valid_utf8(body):
                raise self.error(f"help text {go_quote(_raw(body))} is not a valid utf8 string")
        elif body and not name.endswith("_" + body):
            # Go compares bytes: suffix, one more byte before it, and that byte '_'. With the
            # lossless decoding this is the same as a str suffix check on "_" + unit.
            raise self.error(f"unit {go_quote(_raw(body))} not a suffix of metric {go_quote(_raw(name))}")
        metadata = self.result.metadata.get(name)
        if metadata is None:
            metadata = self.result.metadata[name] = Metadata()
        if kind == _T_TYPE:
            metadata.type = body
        elif kind == _T_HELP:
            metadata.help = unescape_label_value(body)
        else:
            metadata.unit = body

    def _label_block(
        self, name_span: tuple[int, int] | None, *, exemplar: bool
    ) -> tuple[tuple[int, int] | None, list[tuple[int, int, int, int]]]:
        """parseLVals: the metric name span (a quoted string alone sets it) and the label spans.

        As in Go, any lone name token followed by `,` or `}` is taken as the metric name with its
        first and last byte cut, quoted or not (`{abc} 1` is the metric "b"); where Go would slice
        out of range (a one-byte bare name) the name here is empty, and the scrape fails later.
        """
        text = self.text
        spans: list[tuple[int, int, int, int]] = []
        token = self.lex()
        while True:
            name_start, name_end = self.start, self.i
            if token == _T_BCLOSE:
                return name_span, spans
            if token != _T_LNAME and token != _T_QSTRING:
                raise self.parse_error("expected label name", token)
            token = self.lex()
            if token in (_T_COMMA, _T_BCLOSE):
                if exemplar:
                    raise self.parse_error("expected label name", token)
                if name_span is not None:
                    raise self.error(f"metric name already set while parsing: {self._while_parsing()}")
                name_span = (name_start + 1, name_end - 1)
                if token == _T_BCLOSE:
                    return name_span, spans
                token = self.lex()
                continue
            if text[name_start] == '"':
                name_start += 1
                name_end -= 1
            if token != _T_EQUAL:
                raise self.parse_error("expected equal", token)
            token = self.lex()
            if token != _T_LVALUE:
                raise self.parse_error("expected label value", token)
            raw = text[self.start : self.i]
            if not is_valid_utf8(raw):
                raise self.error(f"invalid UTF-8 label value: {go_quote(_raw(raw))}")
            spans.append((name_start, name_end, self.start + 1, self.i - 1))
            token = self.lex()
            if token == _T_COMMA:
                token = self.lex()
            elif token != _T_BCLOSE:
                raise self.parse_error("expected comma or brace close", token)

    def _float_value(self, token: int, after: str) -> float:
        """getFloatValue: a VALUE token read as Prometheus's text parsers read floats."""
        if token != _T_VALUE:
            raise self.parse_error(f"expected value after {after}", token)
        try:
            return parse_value(self.text[self.start + 1 : self.i])
        except FloatSyntaxError as exc:
            raise self.error(f"{exc} while parsing: {self._while_parsing()}") from None

    def _timestamp(self, what: str) -> int:
        """A TIMESTAMP token: float seconds to int64 milliseconds; NaN and infinities refused."""
        try:
            seconds = parse_value(self.text[self.start + 1 : self.i])
        except FloatSyntaxError as exc:
            raise self.error(f"{exc} while parsing: {self._while_parsing()}") from None
        if math.isnan(seconds) or math.isinf(seconds):
            raise self.error(f"{what} {_go_float_verb(seconds)}")
        return _go_int64(seconds * 1000)

    def _exemplar(self) -> Exemplar | None:
        """parseComment: the exemplar after ` # {`; None when storage would refuse its length."""
        text = self.text
        _, spans = self._label_block(None, exemplar=True)
        value = self._float_value(self.lex(), "exemplar labels")
        timestamp = None
        token = self.lex()
        if token == _T_EOF:
            raise self.error("data does not end with # EOF")
        if token == _T_TIMESTAMP:
            timestamp = self._timestamp("invalid exemplar timestamp")
            token = self.lex()
            if token != _T_LINEBREAK:
                raise self.parse_error("expected next entry after exemplar timestamp", token)
        elif token != _T_LINEBREAK:
            raise self.parse_error("expected timestamp or comment", token)
        labels = tuple((text[a:b], text[c:d]) for a, b, c, d in spans)
        return Exemplar(labels, value, timestamp) if _exemplar_fits(labels) else None

    def _sample(
        self,
        name_span: tuple[int, int] | None,
        spans: list[tuple[int, int, int, int]],
        series_end: int,
        token: int,
    ) -> None:
        """parseSeriesEndOfLine, then the sample's columns.

        As in Go, a token after the value other than EOF, line break, timestamp or exemplar is no
        error here: the sample stands and the next entry starts on that token.
        """
        text = self.text
        if name_span is None:
            raise self.error(f"metric name not set while parsing: {self._while_parsing()}")
        value = self._float_value(token, "metric")
        timestamp = None
        exemplar = None
        token = self.lex()
        if token == _T_EOF:
            raise self.error("data does not end with # EOF")
        if token == _T_COMMENT:
            exemplar = self._exemplar()
        elif token == _T_TIMESTAMP:
            timestamp = self._timestamp("invalid timestamp")
            token = self.lex()
            if token == _T_COMMENT:
                exemplar = self._exemplar()
            elif token != _T_LINEBREAK:
                raise self.parse_error("expected next entry after timestamp", token)
        key = text[self.entry_start : series_end]
        if key not in self.entries:
            name = unescape_label_value(text[name_span[0] : name_span[1]])
            pairs = [
                (unescape_label_value(text[a:b]), unescape_label_value(text[c:d])) for a, b, c, d in spans
            ]
            self._add_series(key, name, pairs)
        self._append(key, value, timestamp, exemplar)

    def _add_series(self, key: str, name: str, pairs: list[tuple[str, str]]) -> None:
        empty = empty_names(pairs)
        if empty:
            self.empty_labels[key] = empty
        self.entries[key] = make_series(name, pairs, self.mtype)

    def _append(self, key: str, value: float, timestamp: int | None, exemplar: Exemplar | None) -> None:
        result = self.result
        if exemplar is not None:
            result.exemplars[len(result.keys)] = exemplar
        result.keys.append(key)
        result.values.append(value)
        result.timestamps.append(timestamp)

    def _common_lines(self, i: int) -> int:
        """Take the run of lines from i that match _COMMON_LINE; the position of the first that does not.

        A line whose numbers Go would refuse (or that holds invalid UTF-8) is left to the token
        path, which words the error; one it would accept comes out the same either way.
        """
        text = self.text
        match = _COMMON_LINE.match
        entries = self.entries
        result = self.result
        keys = result.keys
        values = result.values
        timestamps = result.timestamps
        exemplars = result.exemplars
        mtype = self.mtype
        while True:
            m = match(text, i)
            if m is None:
                return i
            name, block, value_text, ts_text, exemplar_block, exemplar_value, exemplar_ts = m.groups()
            if block and not block.isascii() and _INVALID_UTF8.search(block) is not None:
                return i
            if value_text.translate(_NUMERIC):
                value = _quick_float(value_text)
                if value is None:
                    return i
            else:
                try:
                    value = float(value_text)
                except ValueError:
                    return i
                if value == _INF or value == -_INF:
                    return i
            timestamp = None
            if ts_text is not None:
                seconds = _quick_float(ts_text)
                if seconds is None or not math.isfinite(seconds):
                    return i
                timestamp = _go_int64(seconds * 1000)
            exemplar = None
            if exemplar_value is not None:
                exemplar = self._common_exemplar(exemplar_block, exemplar_value, exemplar_ts)
                if exemplar is None:
                    return i
            if block is None:
                key = name
                if key not in entries:
                    entries[key] = (name, ())
            else:
                key = text[i : m.end(2) + 1]
                if key not in entries:
                    if '=""' in block:
                        self._add_series(key, name, _COMMON_PAIR.findall(block))
                    else:
                        entries[key] = (name, block, mtype)
            if exemplar is not None and exemplar is not _DROPPED:
                exemplars[len(keys)] = exemplar
            keys.append(key)
            values.append(value)
            timestamps.append(timestamp)
            i = m.end()

    @staticmethod
    def _common_exemplar(block: str, value_text: str, ts_text: str | None) -> Exemplar | None:
        """The exemplar of a common line, _DROPPED when too long, None to leave the line to the token path."""
        if not block.isascii() and _INVALID_UTF8.search(block) is not None:
            return None
        value = _quick_float(value_text)
        if value is None:
            return None
        timestamp = None
        if ts_text is not None:
            seconds = _quick_float(ts_text)
            if seconds is None or not math.isfinite(seconds):
                return None
            timestamp = _go_int64(seconds * 1000)
        labels = tuple(_COMMON_PAIR.findall(block))
        return Exemplar(labels, value, timestamp) if _exemplar_fits(labels) else _DROPPED


# ---- the canonical body, column-wise (exposition/fast.py's machinery) ----

_META_LINES = re.compile(r"^ (HELP|TYPE|UNIT) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$", re.M)
"""A `#` line (without its `#`) the canonical path takes: bare name, exactly one space each side."""
_COMMENT_LINE = re.compile(r"\n#([^\n]*)")
_BANNED = ("\\", "\t", "\r")
"""Never in a canonical sample line (escapes, separators Prometheus refuses, null skipping)."""
_EOF_LINES = ("# EOF\n", "# EOF")
_EMPTY_VALUE = re.compile('=""')
"""Searched with re: about twice as fast as `in` for this needle over a whole body."""


def _canonical(body: bytes) -> Exposition | None:
    """The Exposition of a canonical body, or None whenever anything is not the common shape.

    Canonical: valid UTF-8 ending in `# EOF`, `# HELP|TYPE|UNIT name text` lines with a bare name
    (TYPE and UNIT valid), and sample lines `key value` (every one) or `key value timestamp`
    (every one) whose keys are the canonical form of exposition/fast.py (no escape, no quoted
    name), no exemplar. Such a sample line reads the same in OpenMetrics as in Prometheus text, so
    fast.py's column machinery, key proof and lazy Series apply as they are; OpenMetrics' own
    rules (metadata, `# EOF`, no blank line, float-second timestamps) are checked here. Errors
    only ever come from the token path: any doubt returns None.
    """
    try:
        text = body.decode()
    except UnicodeDecodeError:
        return None
    if "\x00" in text:  # skipped in places by the lexer: the token path's
        return None
    for eof in _EOF_LINES:
        if text.endswith(eof):
            text = text[: -len(eof)]
            break
    else:
        return None
    if not text:
        return Exposition(series=_ColumnSeries([], None))
    if text[0] == "\n" or text[-1] != "\n":  # a leading blank line, or `# EOF` not at a line start
        return None
    text = text[:-1]
    comments: list[str] = []
    if text[0] == "#":
        end = text.find("\n")
        end = len(text) if end < 0 else end
        comments.append(text[1:end])
        text = text[end:]
    # [run, comment, run, comment, ..., run]: every run but a leading one starts with its "\n".
    pieces = _COMMENT_LINE.split(text)
    del text  # the pieces are copies: keep one copy of the body's text alive at a time
    runs = pieces[0::2]
    comments += pieces[1::2]
    del pieces
    metadata: dict[str, Metadata] = {}
    after = _canonical_metadata(comments, metadata)
    if after is None:
        return None
    lines = list(map(str.count, runs, repeat("\n")))
    if runs[0] and runs[0][0] != "\n":
        lines[0] += 1
    else:
        first = next((index for index, run in enumerate(runs) if run), 0)
        runs[first] = runs[first][1:]
    types = list(zip(lines, after if len(after) == len(runs) else ["", *after], strict=True))
    samples = "".join(runs)
    del runs
    for banned in _BANNED:
        if banned in samples:
            return None
    columns = _canonical_columns(samples, sum(lines)) if samples else ([], [], [])
    # One key a line that is not a `#` line: no blank line anywhere (the OpenMetrics rule).
    if columns is None or len(columns[0]) != sum(lines):
        return None
    written_empty = _EMPTY_VALUE.search(samples) is not None  # in canonical keys, exactly `=""`
    del samples
    keys, values, timestamps = columns
    scaled = "histogram" in after or "summary" in after
    return Exposition(
        keys=keys,
        values=values,
        timestamps=timestamps,
        series=_ColumnSeries(keys, types if scaled else None),
        metadata=metadata,
        empty_labels=fast._empty_labels(keys) if written_empty else {},
    )


def _canonical_metadata(comments: list[str], metadata: dict[str, Metadata]) -> list[str] | None:
    """Apply the `#` lines in order (as _Parser._metadata does): the TYPE in force after each, or None."""
    found = _META_LINES.findall("\n".join(comments))
    if len(found) != len(comments):
        return None
    after: list[str] = []
    mtype = ""
    for kind, name, body in found:
        if kind == "TYPE":
            if body not in METRIC_TYPES:
                return None
            mtype = body
        elif kind == "UNIT" and body and not name.endswith("_" + body):
            return None
        entry = metadata.get(name)
        if entry is None:
            entry = metadata[name] = Metadata()
        if kind == "TYPE":
            entry.type = body
        elif kind == "HELP":
            entry.help = unescape_label_value(body)
        else:
            entry.unit = body
        after.append(mtype)
    return after


def _canonical_columns(samples: str, lines: int) -> tuple[list[str], list[float], list[int | None]] | None:
    """Keys, values and timestamps of the sample lines, each line proven `key value [timestamp]`.

    Every line split at its spaces (two tokens each, or three), else each line at its last space
    (label values with spaces, no timestamps); the keys proven canonical by fast._keys_ok, the
    numbers read by fast._values (Prometheus's float syntax, NaN normalised).
    """
    tokens = samples.replace("\n", " ").split(" ")
    if len(tokens) == 2 * lines:
        keys, raw = tokens[0::2], tokens[1::2]
        del tokens
        if fast._rebuilds(samples, (keys, raw)) and fast._keys_ok(keys):
            values = fast._values(raw)
            return None if values is None else (keys, values, [None] * lines)
    elif len(tokens) == 3 * lines:
        keys, raw, raw_stamps = tokens[0::3], tokens[1::3], tokens[2::3]
        del tokens
        if fast._rebuilds(samples, (keys, raw, raw_stamps)) and fast._keys_ok(keys):
            values = fast._values(raw)
            stamps = _milliseconds(raw_stamps)
            return None if values is None or stamps is None else (keys, values, stamps)
    columns = fast._columns_by_line(samples)
    return columns if columns is not None and fast._keys_ok(columns[0]) else None


def _milliseconds(raw: list[str]) -> list[int | None] | None:
    """Float-second timestamps as Go's `int64(ts*1000)`; None to leave the body to the token path.

    NaN and the infinities are errors there, and so is anything fast._values refuses; a product
    outside int64 (Go's minimum) and a sum that overflows are left to it as well.
    """
    seconds = fast._values(raw)
    if seconds is None or not math.isfinite(sum(seconds)):
        return None
    millis = list(map((1000.0).__mul__, seconds))
    if max(millis) >= _INT64_LIMIT or min(millis) < -_INT64_LIMIT:
        return None
    return list(map(int, millis))


_SCALED_BY_TYPE = {"histogram": "le", "summary": "quantile"}
"""The label whose value make_series canonicalises under each TYPE."""
_FIRST, _SECOND, _THIRD = itemgetter(0), itemgetter(1), itemgetter(2)


class _ColumnSeries(fast.Series):
    """fast.Series whose bulk path, without promscrape._native's series_entries, is column-wise Python.

    `series[key]` stays fast.Series' lazy per-key path: the pipeline asks only for keys its cache
    lacks (or none: its C encoder reads the key text). Whoever reads them all (rendering, a first
    scrape through the general path, the parser benchmark) gets `values()`/`items()` from
    fast.Series' bulk path: series_entries in C, or else `_resolve` here, at a fraction of the
    per-key cost either way; differential tests compare all three.
    """

    __slots__ = ()

    def _bulk(self, keys: list[str], resolved: dict[str, Any]) -> list[str]:
        if fast._SERIES_ENTRIES is not None:
            return super()._bulk(keys, resolved)
        return _resolve(keys, resolved, self._kinds if self._runs is not None else None)

    def _kinds(self, keys: list[str]) -> list[str]:
        """type_of of every key (not empty), one lookup each in the map type_of builds on first use."""
        return list(map(self.scaled_types().get, keys, repeat("")))  # type: ignore[union-attr]


def _resolve(
    keys: list[str], resolved: dict[str, Any], kinds_of: Callable[[list[str]], list[str]] | None
) -> list[str]:
    """Put make_series of every canonical key into `resolved`; return those left to the per-key path.

    Keys go a class of equal label count at a time (a key has two `"` a label).
    """
    counts = list(map(str.count, keys, repeat('"')))
    classes = set(counts)
    left: list[str] = []
    for quotes in classes:
        group = keys if len(classes) == 1 else list(compress(keys, map(quotes.__eq__, counts)))
        if quotes:
            left += _resolve_class(group, quotes // 2, resolved, kinds_of)
        else:
            resolved.update(
                zip(group, zip(map(str.removesuffix, group, repeat("{}")), repeat(())), strict=False)
            )
    return left


def _resolve_class(
    keys: list[str], labels: int, resolved: dict[str, Any], kinds_of: Callable[[list[str]], list[str]] | None
) -> list[str]:
    """Resolve canonical keys of `labels` labels each, column by column; return those left over.

    Joined by `",` and split there, key i is the pieces i*labels .. i*labels+labels-1:
    `name{l0="v0`, `l1="v1`, ..., `lN="vN"}` (a trailing comma adds a piece: the count tells,
    and the class is left over). A column whose pieces repeat (job, method, le...) turns its
    distinct pieces into (label, value) pairs once, shared by every key that wrote them; others
    (pod, id...) are split key by key. zip builds each key's labels and entry: no Python-level
    loop but over the keys whose `le`/`quantile` make_series canonicalises. Keys with an empty
    value are left over (make_series drops every label of that name).
    """
    pieces = '",'.join(keys).split('",')
    if len(pieces) != labels * len(keys):
        return keys
    heads = pieces[0::labels]
    distinct = list(set(heads))
    opened = list(map(str.partition, distinct, repeat("{")))
    metric = dict(zip(distinct, map(_FIRST, opened), strict=True))
    first = dict(zip(distinct, _pairs(map(_THIRD, opened), labels == 1), strict=True))
    columns = [list(map(first.__getitem__, heads))]
    del heads
    for offset in range(1, labels):
        column = pieces[offset::labels]
        last = offset == labels - 1
        if len(distinct := set(column)) * 2 > len(column):
            columns.append(_pairs(column, last))
        else:
            memo = dict(zip(distinct, _pairs(distinct, last), strict=True))
            columns.append(list(map(memo.__getitem__, column)))
    metrics = list(map(metric.__getitem__, pieces[0::labels]))
    del pieces
    if kinds_of is not None:
        _canonicalise(columns, keys, kinds_of)
    resolved.update(zip(keys, zip(metrics, zip(*columns, strict=True), strict=True), strict=True))
    if any("" in map(_SECOND, column) for column in columns):
        return list(compress(keys, map(str.__contains__, keys, repeat('=""'))))
    return []


def _pairs(texts: Iterable[str], last: bool) -> list[tuple[str, str]]:
    """(label, value) of pieces `label="value` (`label="value"}` when last)."""
    if last:
        texts = map(str.removesuffix, texts, repeat('"}'))
    parts = list(map(str.partition, texts, repeat('="')))
    return list(zip(map(_FIRST, parts), map(_THIRD, parts), strict=True))


def _canonicalise(
    columns: list[list[tuple[str, str]]], keys: list[str], kinds_of: Callable[[list[str]], list[str]]
) -> None:
    """make_series' `le` (under histogram) and `quantile` (under summary) values, in place."""
    kinds: list[str] | None = None
    for column in columns:
        for kind, special in _SCALED_BY_TYPE.items():
            if special not in map(_FIRST, column):
                continue
            kinds = kinds or kinds_of(keys)
            scaled: dict[str, tuple[str, str]] = {}
            for index in compress(range(len(column)), map(kind.__eq__, kinds)):
                label, value = column[index]
                if label == special:
                    pair = scaled.get(value)
                    if pair is None:
                        pair = scaled[value] = (special, canonical_float_label(value))
                    column[index] = pair


def parse_openmetrics(body: bytes, *, canonical: bool = True, line_shortcut: bool = True) -> Exposition:
    """Parse a whole OpenMetrics exposition; errors come back in `.error`, never raised.

    `canonical=False` skips the column-wise path for canonical bodies, `line_shortcut=False` also
    sends every line through the token lexer; the tests use them to prove that neither shortcut
    ever changes a result.
    """
    if canonical:
        result = _canonical(body)
        if result is not None:
            return result
    return _Parser(body, line_shortcut).run()


class OpenMetricsParser:
    """The Parser `exposition.new()` returns for `application/openmetrics-text` bodies."""

    media_type = MEDIA_TYPE

    def __init__(self, body: bytes) -> None:
        self._body = body

    def parse(self) -> Exposition:
        return parse_openmetrics(self._body)
