"""prometheus/common `model.EscapeName`: the names a target exposes under an `escaping=` scheme.

The scraper never renames (escaping is only negotiated); the tests use this to know what a target
answering a negotiated scheme sends. Names are `str` as the parsers give them: a lone surrogate
stands for a byte that was not UTF-8, which Go's range loop yields as utf8.RuneError (U+FFFD).
"""

import re

ESCAPING_SCHEMES: tuple[str, ...] = ("allow-utf-8", "underscores", "dots", "values")
"""`metric_name_escaping_scheme` values (model.AllowUTF8, EscapeUnderscores, EscapeDots, EscapeValues)."""

_LEGACY_METRIC = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LEGACY_FIRST = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_:")
_LEGACY_REST = _LEGACY_FIRST | frozenset("0123456789")
_RUNE_ERROR = 0xFFFD


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
