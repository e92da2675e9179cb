"""The careful Prometheus text format parser (0.0.4, with 1.0.0's quoted names), exact to Prometheus 3.

It is a port of model/textparse/promlex.l (the generated lexer, state by state, including its
null-byte handling) and promparse.go (the hand-written parser on top), so it accepts, rejects and
words errors exactly like Prometheus. Line-level regular expressions take the common sample shapes
(bare names, and text 1.0.0's quoted metric name first) in one step; anything else goes through the
token lexer, so the shortcuts never change a result.

Contract: `parse_text(body)` never raises ParseError: parsing stops at the first error, which is
returned in `Exposition.error` (`line N: <Prometheus's message>`, N the 1-based line where the
failing entry starts) with every sample before it kept.

Helpers with stable names for the fast path (exposition/fast.py) and others:
- `parse_text(body: bytes) -> Exposition`: the whole careful parse.
- `decode_body(body) -> str`: the text every position refers to (UTF-8 with surrogateescape, so
  invalid bytes survive as U+DC80..U+DCFF and the text maps back to the exact bytes) plus the `\\n`
  Prometheus appends.
- `is_valid_utf8(text) -> bool`: whether a piece of decode_body's text came from valid UTF-8.
- `unescape_label_value(raw) -> str`: Prometheus's `\\\\`, `\\"`, `\\n` unescaping (others literal).
- `unescape_help(raw) -> str`: HELP's `\\\\` and `\\n` unescaping.
- `canonical_float_label(value) -> str`: an `le`/`quantile` value as Prometheus rewrites it.
- `make_series(name, pairs, mtype) -> (name, Labels)`: the `series` entry from the unescaped
  name and (label, unescaped value) pairs as written: `le`/`quantile` canonicalised when `mtype`
  (the last `# TYPE` seen, whatever its family, as in Prometheus) is histogram/summary, and every
  label whose name has an empty value anywhere removed (empty means absent; a `__name__=""` gives
  the name "", i.e. no metric name). Other `__name__` labels and duplicate names stay in the pairs
  for the pipeline to reject as Prometheus does.
- `empty_names(pairs) -> frozenset[str]`: the names written with an empty value (the
  `Exposition.empty_labels` entry of a series, when not empty).
- `METRIC_TYPES`: `# TYPE` words to Metadata.type (`untyped` is `unknown`).

Quoted names (text 1.0.0: `{"my.metric","label.x"="v"} 1`, `my_metric{"a.b"="v"} 1`,
`# TYPE "my.metric" counter`) are accepted whatever version was negotiated, as Prometheus does. A
quoted string followed by `,` or `}` is the metric name (once per series); followed by `=` it is a
label name. Like Prometheus, the parser checks only label values and HELP text for UTF-8: a name
holding invalid bytes parses (the bytes survive as surrogates) and fails later, at name validation
under the scrape's scheme (promscrape.names). Sample names are unescaped like label values; HELP and
TYPE names are the raw text between the quotes (Prometheus's Help()/Type() do not unescape them).

Keys: `Exposition.keys[i]` is the series exactly as Prometheus's parser slices it: from the start
of the line (leading whitespace included, as Prometheus includes it) to the end of the name or of
the closing brace. The metric name of a bare-name line also starts at the line start, as in
Prometheus, so ` a 1` has the name " a" (which legacy validation then rejects).
"""

import re

from promscrape.gostring import go_quote

from .floats import FloatSyntaxError, format_le, go_parse_float, parse_timestamp, parse_value
from .model import Exposition, Labels, Metadata, ParseError

METRIC_TYPES: dict[str, str] = {
    "counter": "counter",
    "gauge": "gauge",
    "histogram": "histogram",
    "summary": "summary",
    "untyped": "unknown",
}

# Lexer states (promlex.l start conditions).
_S_INIT, _S_META1, _S_META2, _S_LABELS, _S_LVALUE, _S_VALUE, _S_TIMESTAMP = range(7)

# Tokens, numbered as in promparse.go; names are what `%q` of a token prints.
_T_INVALID = -1
_T_EOF = 0
_T_LINEBREAK = 2
_T_WHITESPACE = 3
_T_HELP = 4
_T_TYPE = 5
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
    _T_WHITESPACE: "WHITESPACE",
    _T_HELP: "HELP",
    _T_TYPE: "TYPE",
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

_METRIC_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_:")
_LABEL_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_NOT_VALUE = frozenset("\x00\t\n {")

_WS = re.compile(r"[ \t]+")
# In the states where promlexer.next() skips null bytes (label value, HELP/TYPE text, comment),
# a whitespace token swallows the nulls that follow it.
_WS_NUL = re.compile(r"[ \t][ \t\x00]*")
_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_DIGITS = re.compile(r"[0-9]+")
_VALUE = re.compile(r"[^\x00\t\n {]+")
# Quoted names: no null skipping, so a null ends them in error; a raw LF is fine, `\` + LF is not.
_QUOTED = re.compile(r'"[^\x00"\\]*+(?:\\[^\x00\n][^\x00"\\]*+)*+"')
_QUOTED_PREFIX = re.compile(r'"[^\x00"\\]*+(?:\\[^\x00\n][^\x00"\\]*+)*+\\?')
# Label values: nulls are skipped (so allowed anywhere, even between `\` and the escaped byte),
# and nulls right after the closing quote belong to the token, as the lexer reads them.
_LVALUE = re.compile(r'"[^"\\]*+(?:\\\x00*+[^\n\x00][^"\\]*+)*+"\x00*')
_LVALUE_PREFIX = re.compile(r'"[^"\\]*+(?:\\\x00*+[^\n\x00][^"\\]*+)*+(?:\\\x00*)?')
_HELP = re.compile(r"H\x00*E\x00*L\x00*P\x00*[\t ][\t \x00]*")
_TYPE = re.compile(r"T\x00*Y\x00*P\x00*E\x00*[\t ][\t \x00]*")
_INVALID_UTF8 = re.compile("[\udc80-\udcff]")
_LVAL_ESCAPE = re.compile(r'\\([\\"n])')
_HELP_ESCAPE = re.compile(r"\\([\\n])")
_ESCAPED = {"\\": "\\", '"': '"', "n": "\n"}
_SCALED = frozenset({"histogram", "summary"})
_CANONICAL: dict[str, str] = {}
_CANONICAL_MAX = 10_000

# The common sample line in one match: bare name, optional label block of bare names and quoted
# values without nulls or raw line feeds, one value, optional timestamp. Whatever it accepts the
# token lexer accepts with the same result; everything else goes to the token lexer.
_COMMON_LINE = re.compile(
    r"([a-zA-Z_:][a-zA-Z0-9_:]*+)"
    r'(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*+="[^"\\\n\x00]*+(?:\\[^\n\x00][^"\\\n\x00]*+)*+",?)*+)\})?'
    r"[ \t]++([^\x00\t\n {]++)(?:[ \t]++([0-9]++))?[ \t]*\n"
)
_COMMON_PAIR = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*+)="([^"\\]*+(?:\\.[^"\\]*+)*+)"', re.DOTALL)
# The common text 1.0.0 line (what client libraries write under escaping=allow-utf-8): the quoted
# metric name first, then labels with bare or quoted names, no escapes, raw line feeds or nulls in
# the names. Same guarantee as _COMMON_LINE: the token lexer would give the identical result.
_QUOTED_LINE = re.compile(
    r'\{"([^"\\\n\x00]++)"'
    r'((?:,(?:[a-zA-Z_][a-zA-Z0-9_]*+|"[^"\\\n\x00]++")="[^"\\\n\x00]*+(?:\\[^\n\x00][^"\\\n\x00]*+)*+")*+,?)\}'
    r"[ \t]++([^\x00\t\n {]++)(?:[ \t]++([0-9]++))?[ \t]*\n"
)
_QUOTED_PAIR = re.compile(
    r'(?:([a-zA-Z_][a-zA-Z0-9_]*+)|"([^"\\]*+)")="([^"\\]*+(?:\\.[^"\\]*+)*+)"', re.DOTALL
)


def decode_body(body: bytes) -> str:
    """The parser's text: lossless str form of the body plus the `\\n` Prometheus appends."""
    return body.decode("utf-8", "surrogateescape") + "\n"


def is_valid_utf8(text: str) -> bool:
    """True when this slice of decode_body's text holds no byte that was invalid UTF-8."""
    return text.isascii() or _INVALID_UTF8.search(text) is None


def _raw(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def unescape_label_value(raw: str) -> str:
    """Prometheus `lvalReplacer`: `\\\\`, `\\"`, `\\n`; any other escape stays as written."""
    if "\\" not in raw:
        return raw
    return _LVAL_ESCAPE.sub(lambda m: _ESCAPED[m.group(1)], raw)


def unescape_help(raw: str) -> str:
    """Prometheus `helpReplacer`: `\\\\` and `\\n` only."""
    if "\\" not in raw:
        return raw
    return _HELP_ESCAPE.sub(lambda m: _ESCAPED[m.group(1)], raw)


def canonical_float_label(value: str) -> str:
    """An `le`/`quantile` value as Prometheus stores it: Go-parsed and FormatOpenMetricsFloat-ed,
    or unchanged when Go cannot parse it. Memoised (bounded): bucket bounds repeat across series."""
    canonical = _CANONICAL.get(value)
    if canonical is None:
        try:
            canonical = format_le(go_parse_float(value))
        except FloatSyntaxError:
            canonical = value
        if len(_CANONICAL) >= _CANONICAL_MAX:
            _CANONICAL.clear()
        _CANONICAL[value] = canonical
    return canonical


def make_series(name: str, pairs: list[tuple[str, str]], mtype: str) -> tuple[str, Labels]:
    """The `Exposition.series` entry for one sample line (see the module docstring); may modify pairs."""
    if mtype in _SCALED:
        special = "le" if mtype == "histogram" else "quantile"
        for index, (label, value) in enumerate(pairs):
            if label == special:
                pairs[index] = (label, canonical_float_label(value))
    empty = {label for label, value in pairs if not value}
    if not empty:
        return name, tuple(pairs)
    if "__name__" in empty:
        name = ""
    return name, tuple((label, value) for label, value in pairs if label not in empty)


def empty_names(pairs: list[tuple[str, str]]) -> frozenset[str]:
    """Label names written with an empty value (honor_labels=true adds no target label of these)."""
    return frozenset(label for label, value in pairs if not value)


class _Parser:
    """One parse of one body: the lexer's state plus the parser's (promparse.go's PromParser)."""

    def __init__(self, body: bytes, line_shortcut: bool) -> None:
        self.line_shortcut = line_shortcut
        self.text = decode_body(body)
        self.n = len(self.text)
        self.i = 0
        self.start = 0
        self.state = _S_INIT
        self.entry_start = 0
        self.mtype = ""
        self.series: dict[str, tuple[str, Labels]] = {}
        self.empty_labels: dict[str, frozenset[str]] = {}
        self.result = Exposition(series=self.series, empty_labels=self.empty_labels)

    def _add_series(self, key: str, name: str, pairs: list[tuple[str, str]]) -> None:
        """Record a new series: its `series` entry and, when it wrote any, its empty-valued names."""
        empty = empty_names(pairs)
        if empty:
            self.empty_labels[key] = empty
        self.series[key] = make_series(name, pairs, self.mtype)

    # ---- lexer (promlex.l) ----

    def lex(self) -> int:
        """One token from self.i; sets self.start/self.i around it and the next state."""
        text = self.text
        i = self.i
        self.start = i
        if i >= self.n:
            return _T_EOF
        c = text[i]
        state = self.state
        if state == _S_INIT:
            if c in _METRIC_START:
                self.i = _METRIC_NAME.match(text, i).end()
                self.state = _S_VALUE
                return _T_MNAME
            if c == "\n":
                self.i = i + 1
                return _T_LINEBREAK
            if c == " " or c == "\t":
                self.i = _WS.match(text, i).end()
                return _T_WHITESPACE
            if c == "#":
                return self._lex_comment(i)
            if c == "{":
                self.i = i + 1
                self.state = _S_LABELS
                return _T_BOPEN
            if c == "\x00":
                self.i = i + 1
                return _T_EOF
            return _T_INVALID
        if state == _S_LABELS:
            if c in _LABEL_START:
                self.i = _LABEL_NAME.match(text, i).end()
                return _T_LNAME
            if c == "=":
                self.i = i + 1
                self.state = _S_LVALUE
                return _T_EQUAL
            if c == ",":
                self.i = i + 1
                return _T_COMMA
            if c == "}":
                self.i = i + 1
                self.state = _S_VALUE
                return _T_BCLOSE
            if c == '"':
                return self._lex_quoted(i, _T_QSTRING, _S_LABELS)
            if c == " " or c == "\t":
                self.i = _WS.match(text, i).end()
                return _T_WHITESPACE
            return _T_INVALID
        if state == _S_LVALUE:
            if c == '"':
                m = _LVALUE.match(text, i)
                if m is None:
                    self.i = _LVALUE_PREFIX.match(text, i).end()
                    return _T_INVALID
                self.i = m.end()
                self.state = _S_LABELS
                return _T_LVALUE
            if c == " " or c == "\t":
                self.i = _WS_NUL.match(text, i).end()
                return _T_WHITESPACE
            return _T_INVALID
        if state == _S_VALUE:
            if c == " " or c == "\t":
                self.i = _WS.match(text, i).end()
                return _T_WHITESPACE
            if c == "{":
                self.i = i + 1
                self.state = _S_LABELS
                return _T_BOPEN
            if c not in _NOT_VALUE:
                self.i = _VALUE.match(text, i).end()
                self.state = _S_TIMESTAMP
                return _T_VALUE
            return _T_INVALID
        if state == _S_TIMESTAMP:
            if c == "\n":
                self.i = i + 1
                self.state = _S_INIT
                return _T_LINEBREAK
            if c == " " or c == "\t":
                self.i = _WS.match(text, i).end()
                return _T_WHITESPACE
            if "0" <= c <= "9":
                self.i = _DIGITS.match(text, i).end()
                return _T_TIMESTAMP
            return _T_INVALID
        if state == _S_META1:
            if c == '"':
                return self._lex_quoted(i, _T_MNAME, _S_META2)
            if c in _METRIC_START:
                self.i = _METRIC_NAME.match(text, i).end()
                self.state = _S_META2
                return _T_MNAME
            return _T_INVALID
        return self._lex_text(i, c)

    def _lex_quoted(self, i: int, token: int, next_state: int) -> int:
        m = _QUOTED.match(self.text, i)
        if m is None:
            self.i = _QUOTED_PREFIX.match(self.text, i).end()
            return _T_INVALID
        self.i = m.end()
        self.state = next_state
        return token

    def _lex_comment(self, i: int) -> int:
        """`#` in the initial state: a comment, `# HELP`, `# TYPE`, or EOF on a stray null byte."""
        text = self.text
        if text[i + 1] == " " or text[i + 1] == "\t":
            j = _WS.match(text, i + 1).end()
            if text[j] == "\x00":
                return _T_EOF
            m = _HELP.match(text, j)
            if m is not None:
                self.i = m.end()
                self.state = _S_META1
                return _T_HELP
            m = _TYPE.match(text, j)
            if m is not None:
                self.i = m.end()
                self.state = _S_META1
                return _T_TYPE
            self.i = text.index("\n", j)
            return _T_COMMENT
        end = text.index("\n", i + 1)
        if text.find("\x00", i + 1, end) >= 0:
            return _T_EOF
        self.i = end
        return _T_COMMENT

    def _lex_text(self, i: int, c: str) -> int:
        """HELP/TYPE text after the name: the rest of the line, or whitespace when only that is left."""
        if c == "\n" or c == "\x00":
            self.state = _S_INIT
            return _T_TEXT
        end = self.text.index("\n", i)
        self.i = end
        if (c == " " or c == "\t") and _WS_NUL.match(self.text, i).end() == end:
            return _T_WHITESPACE
        self.state = _S_INIT
        return _T_TEXT

    def next_token(self) -> int:
        while True:
            token = self.lex()
            if token != _T_WHITESPACE:
                return token

    # ---- parser (promparse.go) ----

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

    def run(self) -> Exposition:
        result = self.result
        common = _COMMON_LINE.match if self.line_shortcut else None
        quoted = _QUOTED_LINE.match
        text = self.text
        try:
            while True:
                self.entry_start = self.i
                if common is not None:
                    m = common(text, self.i)
                    if m is not None:
                        if self._common_line(m):
                            continue
                    else:
                        m = quoted(text, self.i)
                        if m is not None and self._quoted_line(m):
                            continue
                if not self.next_entry():
                    break
        except ParseError as exc:
            result.error = exc
        return result

    def next_entry(self) -> bool:
        """Lex and parse one line (or a sample whose label values span lines); False at the end."""
        while True:
            token = self.next_token()
            if token == _T_EOF:
                return False
            if token == _T_LINEBREAK:
                return True
            if token in (_T_HELP, _T_TYPE):
                self._metadata(token)
                return True
            if token == _T_COMMENT:
                self.next_token()
                return True
            if token == _T_BOPEN:
                name_span, spans = self._label_block(None)
                self._sample(name_span, spans, self.i, self.next_token())
                return True
            if token == _T_MNAME:
                name_span: tuple[int, int] | None = (self.entry_start, self.i)
                spans: list[tuple[int, int, int, int]] = []
                series_end = self.i
                after = self.next_token()
                if after == _T_BOPEN:
                    name_span, spans = self._label_block(name_span)
                    series_end = self.i
                    after = self.next_token()
                self._sample(name_span, spans, series_end, after)
                return True
            raise self.parse_error("expected a valid start token", token)

    def _common_line(self, m: re.Match[str]) -> bool:
        """Take a line matched by _COMMON_LINE; False (nothing consumed) when the lexer must decide."""
        name, block, value_text, ts_text = m.groups()
        if block is not None and not block.isascii() and _INVALID_UTF8.search(block) is not None:
            return False
        numbers = _line_numbers(value_text, ts_text)
        if numbers is None:
            return False
        value, timestamp = numbers
        result = self.result
        key = self.text[m.start() : m.end(2) + 1] if block is not None else name
        if key not in self.series:
            if block:
                pairs = _COMMON_PAIR.findall(block)
                if "\\" in block:
                    pairs = [(label, unescape_label_value(raw)) for label, raw in pairs]
                if '=""' in block:
                    self._add_series(key, name, pairs)
                elif self.mtype in _SCALED:
                    self.series[key] = make_series(name, pairs, self.mtype)
                else:
                    self.series[key] = (name, tuple(pairs))
            else:
                self.series[key] = (name, ())
        result.keys.append(key)
        result.values.append(value)
        result.timestamps.append(timestamp)
        self.i = m.end()
        return True

    def _quoted_line(self, m: re.Match[str]) -> bool:
        """Take a line matched by _QUOTED_LINE; False (nothing consumed) when the lexer must decide."""
        name, block, value_text, ts_text = m.groups()
        key = self.text[m.start() : m.end(2) + 1]
        if not key.isascii() and _INVALID_UTF8.search(key) is not None:
            return False
        numbers = _line_numbers(value_text, ts_text)
        if numbers is None:
            return False
        if key not in self.series:
            pairs = [(bare or quoted, raw) for bare, quoted, raw in _QUOTED_PAIR.findall(block)]
            if "\\" in block:
                pairs = [(label, unescape_label_value(raw)) for label, raw in pairs]
            self._add_series(key, name, pairs)
        result = self.result
        result.keys.append(key)
        result.values.append(numbers[0])
        result.timestamps.append(numbers[1])
        self.i = m.end()
        return True

    def _metadata(self, kind: int) -> None:
        text = self.text
        token = self.next_token()
        if token != _T_MNAME:
            raise self.parse_error(f"expected metric name after {_TOKEN_NAMES[kind]}", token)
        start, end = self.start, self.i
        if text[start] == '"':
            start += 1
            end -= 1
        name = text[start:end]
        self.next_token()
        token_text = text[self.start : self.i]
        body = token_text[1:] if len(token_text) > 1 else ""
        metadata = self.result.metadata.get(name)
        if kind == _T_TYPE:
            mtype = METRIC_TYPES.get(body)
            if mtype is None:
                raise self.error(f"invalid metric type {go_quote(_raw(body))}")
            self.mtype = mtype
        elif not is_valid_utf8(body):
            raise self.error(f"help text {go_quote(_raw(body))} is not a valid utf8 string")
        token = self.next_token()
        if token != _T_LINEBREAK:
            raise self.parse_error("linebreak expected after metadata", token)
        if metadata is None:
            metadata = self.result.metadata[name] = Metadata()
        if kind == _T_TYPE:
            metadata.type = self.mtype
        else:
            metadata.help = unescape_help(body)

    def _label_block(
        self, name_span: tuple[int, int] | None
    ) -> tuple[tuple[int, int] | None, list[tuple[int, int, int, int]]]:
        """promparse parseLVals: the metric name span (set here by a quoted name) and the label spans."""
        text = self.text
        spans: list[tuple[int, int, int, int]] = []
        token = self.next_token()
        while True:
            name_start, name_end = self.start, self.i
            if token == _T_BCLOSE:
                return name_span, spans
            if token != _T_LNAME and token != _T_QSTRING:
                raise self.parse_error("expected label name", token)
            quoted = token == _T_QSTRING
            token = self.next_token()
            if quoted and token in (_T_COMMA, _T_BCLOSE):
                if name_span is not None:
                    line = go_quote(_raw(text[self.entry_start : self.i]))
                    raise self.error(f"metric name already set while parsing: {line}")
                name_span = (name_start + 1, name_end - 1)
                if token == _T_BCLOSE:
                    return name_span, spans
                token = self.next_token()
                continue
            if quoted:
                name_start += 1
                name_end -= 1
            if token != _T_EQUAL:
                raise self.parse_error("expected equal", token)
            token = self.next_token()
            if token != _T_LVALUE:
                raise self.parse_error("expected label value", token)
            raw = text[self.start : self.i]
            if not is_valid_utf8(raw):
                raise self.error(f"invalid UTF-8 label value: {go_quote(_raw(raw))}")
            spans.append((name_start, name_end, self.start + 1, self.i - 1))
            token = self.next_token()
            if token == _T_COMMA:
                token = self.next_token()

    def _sample(
        self,
        name_span: tuple[int, int] | None,
        spans: list[tuple[int, int, int, int]],
        series_end: int,
        token: int,
    ) -> None:
        """promparse parseMetricSuffix, then the sample's columns."""
        text = self.text
        if name_span is None:
            line = go_quote(_raw(text[self.entry_start : self.i]))
            raise self.error(f"metric name not set while parsing: {line}")
        if token != _T_VALUE:
            raise self.parse_error("expected value after metric", token)
        try:
            value = parse_value(text[self.start : self.i])
        except FloatSyntaxError as exc:
            raise self.error(
                f"{exc} while parsing: {go_quote(_raw(text[self.entry_start : self.i]))}"
            ) from None
        timestamp = None
        token = self.next_token()
        if token == _T_TIMESTAMP:
            try:
                timestamp = parse_timestamp(text[self.start : self.i])
            except FloatSyntaxError as exc:
                line = go_quote(_raw(text[self.entry_start : self.i]))
                raise self.error(f"{exc} while parsing: {line}") from None
            token = self.next_token()
            if token != _T_LINEBREAK:
                raise self.parse_error("expected next entry after timestamp", token)
        elif token != _T_LINEBREAK:
            raise self.parse_error("expected timestamp or new record", token)
        result = self.result
        key = text[self.entry_start : series_end]
        if key not in self.series:
            name = unescape_label_value(text[name_span[0] : name_span[1]])
            pairs = [
                (unescape_label_value(text[a:b]), unescape_label_value(text[c:d])) for a, b, c, d in spans
            ]
            self._add_series(key, name, pairs)
        result.keys.append(key)
        result.values.append(value)
        result.timestamps.append(timestamp)


def _line_numbers(value_text: str, ts_text: str | None) -> tuple[float, int | None] | None:
    """A shortcut line's value and timestamp; None when either needs the lexer's error path."""
    try:
        return parse_value(value_text), None if ts_text is None else parse_timestamp(ts_text)
    except FloatSyntaxError:
        return None


def parse_text(body: bytes, *, line_shortcut: bool = True) -> Exposition:
    """Parse a whole text exposition; errors come back in `.error`, never raised.

    `line_shortcut=False` sends every line through the token lexer; the tests use it to prove the
    one-regex shortcuts for common lines (bare or quoted names) never change a result.
    """
    return _Parser(body, line_shortcut).run()
