"""Metric and label name rules, exactly as prometheus/common `model` states them (REFERENCE §7).

Two things live here:
- validity under a `metric_name_validation_scheme`: `legacy` is the classic character set
  (`[a-zA-Z_:][a-zA-Z0-9_:]*` for metric names, `[a-zA-Z_][a-zA-Z0-9_]*` for label names), `utf8`
  accepts any non-empty valid UTF-8 (`ValidationScheme.IsValidMetricName/IsValidLabelName`);
- `EscapeName`, the renaming a target applies when the scraper asks for an `escaping=` scheme
  (`underscores`, `dots`, `values`; `allow-utf-8` leaves names alone). The scraper itself never
  renames: this serves `promscrape parse` and the tests that check what targets send.

Names are `str` as the parsers give them: bytes that were not UTF-8 survive as lone surrogates
(U+DC80..U+DCFF, `surrogateescape`; see exposition.text.decode_body). A surrogate therefore marks
invalid UTF-8, and stands for what Go's `for _, r := range s` yields for such a byte: one
utf8.RuneError (U+FFFD).
"""

import re

from promscrape.gostring import go_quote

__all__ = [
    "ESCAPING_SCHEMES",
    "VALIDATION_SCHEMES",
    "escape_name",
    "is_valid_label_name",
    "is_valid_metric_name",
]

VALIDATION_SCHEMES: tuple[str, ...] = ("legacy", "utf8")
"""`metric_name_validation_scheme` values (model.ValidationScheme's String forms)."""

ESCAPING_SCHEMES: tuple[str, ...] = ("allow-utf-8", "underscores", "dots", "values")
"""`metric_name_escaping_scheme` values (model.AllowUTF8, EscapeUnderscores, EscapeDots, EscapeValues)."""

_LEGACY_METRIC = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LEGACY_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_SURROGATE = re.compile("[\ud800-\udfff]")
_LEGACY_FIRST = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_:")
_LEGACY_REST = _LEGACY_FIRST | frozenset("0123456789")
_RUNE_ERROR = 0xFFFD


def _is_utf8(name: str) -> bool:
    """utf8.ValidString: no lone surrogate (each one is a byte that was not UTF-8)."""
    return name.isascii() or _SURROGATE.search(name) is None


def _check_validation(scheme: str) -> None:
    if scheme not in VALIDATION_SCHEMES:
        raise ValueError(f"unrecognized ValidationScheme: {go_quote(scheme)}")


def is_valid_metric_name(name: str, scheme: str) -> bool:
    """ValidationScheme.IsValidMetricName: legacy character set, or non-empty valid UTF-8."""
    _check_validation(scheme)
    if scheme == "legacy":
        return _LEGACY_METRIC.fullmatch(name) is not None
    return bool(name) and _is_utf8(name)


def is_valid_label_name(name: str, scheme: str) -> bool:
    """ValidationScheme.IsValidLabelName: legacy character set (no `:`), or non-empty valid UTF-8."""
    _check_validation(scheme)
    if scheme == "legacy":
        return _LEGACY_LABEL.fullmatch(name) is not None
    return bool(name) and _is_utf8(name)


def _legacy_rune(char: str, index: int) -> bool:
    """isValidLegacyRune: the metric-name set (`:` included, for label names too); no leading digit."""
    return char in _LEGACY_FIRST or (index > 0 and char in _LEGACY_REST)


def escape_name(name: str, scheme: str) -> str:
    """model.EscapeName: the name a target exposes under `escaping=<scheme>`.

    `underscores`: each rune outside the legacy set becomes `_` (legacy-valid names unchanged);
    `dots`: `_` -> `__`, `.` -> `_dot_`, any other invalid rune -> `__` (applied to every name);
    `values`: legacy-valid names unchanged, else `U__` + the name with `_` -> `__` and each invalid
    rune -> `_<lowercase hex code point>_`; `allow-utf-8`: unchanged. The empty name stays empty.
    Go's rune index is a byte offset, but only "is it the first rune" matters, which agrees.
    """
    if scheme not in ESCAPING_SCHEMES:
        raise ValueError(f"unknown format scheme {scheme}")
    if not name or scheme == "allow-utf-8":
        return name
    legacy = _LEGACY_METRIC.fullmatch(name) is not None
    if scheme == "underscores":
        if legacy:
            return name
        return "".join(char if _legacy_rune(char, index) else "_" for index, char in enumerate(name))
    if scheme == "dots":
        out = []
        for index, char in enumerate(name):
            if char == "_":
                out.append("__")
            elif char == ".":
                out.append("_dot_")
            elif _legacy_rune(char, index):
                out.append(char)
            else:
                out.append("__")
        return "".join(out)
    if legacy:
        return name
    out = ["U__"]
    for index, char in enumerate(name):
        if char == "_":
            out.append("__")
        elif _legacy_rune(char, index):
            out.append(char)
        else:
            code = ord(char)
            out.append(f"_{_RUNE_ERROR if 0xD800 <= code <= 0xDFFF else code:x}_")
    return "".join(out)
