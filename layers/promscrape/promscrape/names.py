"""Metric and label name rules, exactly as prometheus/common `model` states them (REFERENCE §7).

Validity under a `metric_name_validation_scheme`: `legacy` is the classic character set
(`[a-zA-Z_:][a-zA-Z0-9_:]*` for metric names, `[a-zA-Z_][a-zA-Z0-9_]*` for label names), `utf8`
accepts any non-empty valid UTF-8 (`ValidationScheme.IsValidMetricName/IsValidLabelName`). The
escaping schemes are only negotiated (the Accept header): the scraper never renames.

Names are `str` as the parsers give them: bytes that were not UTF-8 survive as lone surrogates
(U+DC80..U+DCFF, `surrogateescape`; see exposition.text.decode_body). A surrogate therefore marks
invalid UTF-8, and stands for what Go's `for _, r := range s` yields for such a byte: one
utf8.RuneError (U+FFFD).
"""

import re

from promscrape.gostring import go_quote

__all__ = [
    "VALIDATION_SCHEMES",
    "is_valid_label_name",
    "is_valid_metric_name",
]

VALIDATION_SCHEMES: tuple[str, ...] = ("legacy", "utf8")
"""`metric_name_validation_scheme` values (model.ValidationScheme's String forms)."""

_LEGACY_METRIC = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LEGACY_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_SURROGATE = re.compile("[\ud800-\udfff]")


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
