"""Exposition parsing: choose the parser from the response's Content-Type as Prometheus 3 does.

Choice is by media type only (`version=` and other parameters are not looked at), as textparse.New
does: `text/plain` is Prometheus text (FastTextParser), `application/openmetrics-text` is
OpenMetrics (OpenMetricsParser), `application/vnd.google.protobuf` is the delimited protobuf
format (ProtobufParser). A missing, unparseable (Go `mime.ParseMediaType` rules) or other
Content-Type uses the media type of the scrape's `scrape_fallback_protocol`; with no fallback
(`""`) the scrape fails with Prometheus's error for that case, except for an empty body, which
Prometheus appends as an empty scrape before it picks any parser.

`Parser.parse()` never raises ParseError: the error is returned in `Exposition.error`.
"""

import unicodedata
from typing import Protocol

from promscrape.gostring import go_quote

from .fast import FastTextParser
from .model import Exposition, Labels, Metadata, ParseError
from .openmetrics import OpenMetricsParser

__all__ = [
    "FALLBACK_MEDIA_TYPES",
    "MEDIA_TYPES",
    "Exposition",
    "Labels",
    "Metadata",
    "NoParser",
    "ParseError",
    "Parser",
    "new",
    "parse_media_type",
]

TEXT_MEDIA_TYPE = "text/plain"
OPENMETRICS_MEDIA_TYPE = "application/openmetrics-text"
PROTOBUF_MEDIA_TYPE = "application/vnd.google.protobuf"
# config.ScrapeProtocol.HeaderMediaType() of every protocol a scrape_fallback_protocol may name.
FALLBACK_MEDIA_TYPES: dict[str, str] = {
    "PrometheusProto": PROTOBUF_MEDIA_TYPE,
    "PrometheusText0.0.4": TEXT_MEDIA_TYPE,
    "PrometheusText1.0.0": TEXT_MEDIA_TYPE,
    "OpenMetricsText0.0.1": OPENMETRICS_MEDIA_TYPE,
    "OpenMetricsText1.0.0": OPENMETRICS_MEDIA_TYPE,
}
# The media types Prometheus has a parser for; any other Content-Type means the fallback.
MEDIA_TYPES = frozenset({TEXT_MEDIA_TYPE, OPENMETRICS_MEDIA_TYPE, PROTOBUF_MEDIA_TYPE})
_TSPECIALS = frozenset('()<>@,;:\\"/[]?=')
_NO_FALLBACK = "no fallback_scrape_protocol specified for target"


class Parser(Protocol):
    def parse(self) -> Exposition: ...


class NoParser:
    """What Prometheus does when no parser fits and there is no fallback: the scrape fails.

    Prometheus never picks a parser for an empty body (scrape.go append returns first), so an
    empty body is an empty, successful scrape here too.
    """

    media_type = ""

    def __init__(self, body: bytes, message: str) -> None:
        self._body = body
        self.message = message

    def parse(self) -> Exposition:
        if not self._body:
            return Exposition()
        return Exposition(error=ParseError(self.message))


def _is_space(c: str) -> bool:
    """Go `unicode.IsSpace`: Latin-1 spaces, then the White_Space property (Zs, U+2028, U+2029)."""
    if c <= "\xff":
        return c in "\t\n\v\f\r \x85\xa0"
    return c in "\u2028\u2029" or unicodedata.category(c) == "Zs"


def _lstrip(s: str) -> str:
    """Go strings.TrimLeftFunc(s, unicode.IsSpace)."""
    i = 0
    while i < len(s) and _is_space(s[i]):
        i += 1
    return s[i:]


def _strip(s: str) -> str:
    """Go strings.TrimSpace."""
    end = len(s)
    while end and _is_space(s[end - 1]):
        end -= 1
    return _lstrip(s[:end])


def _lower(s: str) -> str:
    """Go strings.ToLower: simple case mapping (U+0130 becomes "i", not Python's "i̇")."""
    return s.replace("\u0130", "i").lower()


def _token(s: str) -> tuple[str, str]:
    """Go mime `consumeToken`: the leading RFC 1521 token and the rest."""
    i = 0
    while i < len(s) and " " < s[i] < "\x7f" and s[i] not in _TSPECIALS:
        i += 1
    return s[:i], s[i:]


def _value(s: str) -> tuple[str, str]:
    """Go mime `consumeValue`: a token or a quoted string; ("", s) when there is none.

    In a quoted string a backslash escapes only a tspecial; before anything else it is literal.
    """
    if not s.startswith('"'):
        return _token(s)
    out = []
    i = 1
    while i < len(s):
        c = s[i]
        if c == '"':
            return "".join(out), s[i + 1 :]
        if c == "\\" and i + 1 < len(s) and s[i + 1] in _TSPECIALS:
            out.append(s[i + 1])
            i += 2
            continue
        if c in "\r\n":
            return "", s
        out.append(c)
        i += 1
    return "", s


def _param(v: str) -> tuple[str, str, str]:
    """Go mime `consumeMediaParam`: ("", "", v) when v does not start with a parameter."""
    rest = _lstrip(v)
    if not rest.startswith(";"):
        return "", "", v
    name, rest = _token(_lstrip(rest[1:]))
    if not name:
        return "", "", v
    rest = _lstrip(rest)
    if not rest.startswith("="):
        return "", "", v
    rest = _lstrip(rest[1:])
    value, after = _value(rest)
    if not value and after == rest:
        return "", "", v
    return _lower(name), value, after


def _as_go_string(content_type: str) -> str:
    """The header as Go sees it: http.client decodes header bytes as Latin-1, Go keeps the bytes.

    Re-reading them as UTF-8 (invalid bytes kept as surrogate escapes, never spaces or token
    characters) makes e.g. a trailing byte 0xA0 an error, as in Go, rather than Latin-1's NBSP.
    """
    try:
        raw = content_type.encode("latin-1")
    except UnicodeEncodeError:
        return content_type
    return raw.decode("utf-8", "surrogateescape")


def parse_media_type(content_type: str) -> tuple[str, str | None]:
    """Go's mime.ParseMediaType reduced to what Prometheus uses: (lower-case media type, error text).

    The error text is Go's (`mime: no media type`, ...) when the value does not parse; the media
    type is then not to be used.
    """
    value = _as_go_string(content_type)
    base = value.split(";", 1)[0]
    media = _strip(_lower(base))
    kind, rest = _token(media)
    if not kind:
        return "", "mime: no media type"
    if rest:
        if not rest.startswith("/"):
            return "", "mime: expected slash after first token"
        sub, rest = _token(rest[1:])
        if not sub:
            return "", "mime: expected token after slash"
        if rest:
            return "", "mime: unexpected content after media subtype"
    params: dict[str, str] = {}
    v = value[len(base) :]
    while v:
        v = _lstrip(v)
        if not v:
            break
        name, param_value, rest = _param(v)
        if not name:
            if _strip(rest) == ";":
                break
            return media, "mime: invalid media parameter"
        if params.get(name, param_value) != param_value:
            return "", "mime: duplicate parameter name"
        params[name] = param_value
        v = rest
    return media, None


def _choose(content_type: str | None, fallback_media: str) -> tuple[str, str]:
    """Prometheus's extractMediaType: (media type, "") or ("", the error when there is no fallback)."""
    if not content_type:
        if fallback_media:
            return fallback_media, ""
        return "", f"non-compliant scrape target sending blank Content-Type and {_NO_FALLBACK}"
    media, error = parse_media_type(content_type)
    if error is None and media in MEDIA_TYPES:
        return media, ""
    if fallback_media:
        return fallback_media, ""
    # Go's %q of the header's bytes.
    quoted = go_quote(_as_go_string(content_type).encode("utf-8", "surrogateescape"))
    if error is not None:
        # errors.Join(retErr, err): the two texts on two lines.
        return "", f"cannot parse Content-Type {quoted} and no fallback_scrape_protocol for target\n{error}"
    return "", f"received unsupported Content-Type {quoted} and {_NO_FALLBACK}"


def new(
    body: bytes,
    content_type: str | None,
    fallback: str = "PrometheusText0.0.4",
    *,
    native_histograms: bool = False,
    classic_histograms: bool = False,
) -> Parser:
    """The parser for a scrape response, chosen like Prometheus's textparse.New.

    `fallback` is the job's scrape_fallback_protocol ("" for none); `native_histograms` and
    `classic_histograms` (scrape_native_histograms, scrape_classic_histograms) reach the
    protobuf parser, the only format here that carries native histograms.
    """
    if fallback and fallback not in FALLBACK_MEDIA_TYPES:
        raise ValueError(f"unknown scrape_fallback_protocol {fallback!r}")
    media, error = _choose(content_type, FALLBACK_MEDIA_TYPES.get(fallback, ""))
    if media == TEXT_MEDIA_TYPE:
        return FastTextParser(body)
    if media == OPENMETRICS_MEDIA_TYPE:
        return OpenMetricsParser(body)
    if media == PROTOBUF_MEDIA_TYPE:
        # Imported here: the protobuf parser is only loaded by the scrapes that need it.
        from .protobuf import ProtobufParser

        return ProtobufParser(
            body, native_histograms=native_histograms, classic_histograms=classic_histograms
        )
    return NoParser(body, error)
