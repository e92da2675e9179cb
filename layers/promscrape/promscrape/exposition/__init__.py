"""Exposition parsing: choose the parser from the response's Content-Type as Prometheus does.

Choice is by media type only (`version=` is not looked at): `text/plain` is Prometheus text;
a missing, unparseable (Go `mime.ParseMediaType` rules) or unknown Content-Type uses the
scrape's fallback protocol. Only the text parser exists yet: `application/openmetrics-text` and
`application/vnd.google.protobuf` bodies come back as a parse error instead of being misread as
text, and a fallback other than PrometheusText0.0.4 is refused.

`Parser.parse()` never raises ParseError: the error is returned in `Exposition.error`.
"""

import unicodedata
from typing import Protocol

from .fast import FastTextParser
from .model import Exposition, Labels, Metadata, ParseError

__all__ = ["Exposition", "Labels", "Metadata", "ParseError", "Parser", "media_type", "new"]

TEXT_MEDIA_TYPE = "text/plain"
_FALLBACK_MEDIA_TYPES = {"PrometheusText0.0.4": TEXT_MEDIA_TYPE}
_KNOWN_MEDIA_TYPES = frozenset(
    {TEXT_MEDIA_TYPE, "application/openmetrics-text", "application/vnd.google.protobuf"}
)
_TSPECIALS = frozenset('()<>@,;:\\"/[]?=')


class Parser(Protocol):
    def parse(self) -> Exposition: ...


class UnsupportedFormat:
    """A body in a format Prometheus knows but this project does not parse yet: a clear error."""

    def __init__(self, media: str) -> None:
        self.media_type = media

    def parse(self) -> Exposition:
        return Exposition(error=ParseError(f"content type {self.media_type!r} is not supported yet"))


def _is_space(c: str) -> bool:
    """Go `unicode.IsSpace`."""
    return c in "\t\n\v\f\r \x85\xa0" or (ord(c) > 0xFF and unicodedata.category(c) == "Zs")


def _token(s: str) -> tuple[str, str]:
    """Go mime `consumeToken`: the leading RFC 1521 token and the rest."""
    i = 0
    while i < len(s) and " " < s[i] < "\x7f" and s[i] not in _TSPECIALS:
        i += 1
    return s[:i], s[i:]


def _value(s: str) -> tuple[str, str]:
    """Go mime `consumeValue`: a token or a quoted string; ("", s) when there is none."""
    if not s.startswith('"'):
        return _token(s)
    out = []
    i = 1
    while i < len(s):
        c = s[i]
        if c == '"':
            return "".join(out), s[i + 1 :]
        if c == "\\" and i + 1 < len(s) and (s[i + 1] in _TSPECIALS or " " < s[i + 1] < "\x7f"):
            out.append(s[i + 1])
            i += 2
            continue
        if c in "\r\n":
            return "", s
        out.append(c)
        i += 1
    return "", s


def _lstrip(s: str) -> str:
    i = 0
    while i < len(s) and _is_space(s[i]):
        i += 1
    return s[i:]


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
    return name.lower(), value, after


def media_type(content_type: str | None) -> str | None:
    """The lower-case media type of a Content-Type, or None where Go's mime.ParseMediaType errs."""
    if not content_type:
        return None
    base = content_type.split(";", 1)[0]
    media = base.lower().strip(" \t\n\v\f\r\x85\xa0")
    kind, rest = _token(media)
    if not kind:
        return None
    if rest:
        if not rest.startswith("/"):
            return None
        sub, rest = _token(rest[1:])
        if not sub or rest:
            return None
    params: dict[str, str] = {}
    v = content_type[len(base) :]
    while v:
        v = _lstrip(v)
        if not v:
            break
        name, value, rest = _param(v)
        if not name:
            if rest.strip() == ";":
                break
            return None
        if params.get(name, value) != value:
            return None
        params[name] = value
        v = rest
    return media


def new(body: bytes, content_type: str | None, fallback: str = "PrometheusText0.0.4") -> Parser:
    """The parser for a scrape response, chosen like Prometheus's textparse.New."""
    if fallback not in _FALLBACK_MEDIA_TYPES:
        raise ValueError(f"scrape_fallback_protocol {fallback!r} is not supported yet")
    media = media_type(content_type)
    if media not in _KNOWN_MEDIA_TYPES:
        media = _FALLBACK_MEDIA_TYPES[fallback]
    if media == TEXT_MEDIA_TYPE:
        return FastTextParser(body)
    return UnsupportedFormat(media)
