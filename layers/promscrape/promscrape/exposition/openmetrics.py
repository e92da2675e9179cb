"""The OpenMetrics 1.0 text parser (0.0.1 and 1.0.0 share the grammar), exact to Prometheus 3.

A port of model/textparse/openmetricslex.l (the golex DFA, state by state: where a token stops,
where an invalid one gives up, which states skip null bytes) and openmetricsparse.go (the parser on
top), so it accepts, rejects and words errors as Prometheus does. A line-level regular expression
takes the common sample shape in one step; anything else goes through the token lexer, and a
differential test proves the shortcut never changes a result.

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
from collections.abc import Iterator, Mapping

from promscrape.gostring import go_quote

from .floats import FloatSyntaxError, parse_value
from .model import Exemplar, Exposition, Labels, Metadata, ParseError
from .text import empty_names, is_valid_utf8, make_series, unescape_label_value

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


def parse_openmetrics(body: bytes, *, line_shortcut: bool = True) -> Exposition:
    """Parse a whole OpenMetrics exposition; errors come back in `.error`, never raised.

    `line_shortcut=False` sends every line through the token lexer; the tests use it to prove the
    one-regex shortcut for common lines never changes a result.
    """
    return _Parser(body, line_shortcut).run()


class OpenMetricsParser:
    """The Parser `exposition.new()` returns for `application/openmetrics-text` bodies."""

    media_type = MEDIA_TYPE

    def __init__(self, body: bytes) -> None:
        self._body = body

    def parse(self) -> Exposition:
        return parse_openmetrics(self._body)
