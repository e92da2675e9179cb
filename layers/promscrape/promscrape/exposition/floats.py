"""Ports of the Go `strconv` behaviour Prometheus shows when it reads and prints numbers.

Python's `float()` accepts inputs Go rejects (`1_0`, `-nan`, `１`, surrounding whitespace, `1e400` as
inf) and `repr()` prints some numbers differently from Go (`1000000.0` vs `1e+06`), so every parse
is checked against Go's syntax first and every print follows Go's `FormatFloat(f, 'g', -1, 64)`.

- `parse_value(text)`: a sample value as Prometheus's text parser reads it (`parseFloat` in
  model/textparse: Go `ParseFloat` that also refuses `p`, `P` and `_`).
- `go_parse_float(text)`: Go `strconv.ParseFloat(s, 64)` itself (hex floats and `_` separators
  included); Prometheus uses it to canonicalise `le`/`quantile` label values.
- `format_go(f)`: Go `strconv.FormatFloat(f, 'g', -1, 64)`.
- `format_le(f)`: Prometheus `FormatOpenMetricsFloat`, the canonical `le`/`quantile` form.
"""

import math
import re
import struct

from promscrape.gostring import go_quote

NORMAL_NAN: float = struct.unpack("<d", struct.pack("<Q", 0x7FF8000000000001))[0]
"""Prometheus `value.NormalNaN`: every NaN read from text is stored with these bits."""

INT64_MAX = (1 << 63) - 1

_SIMPLE_DECIMAL = re.compile(r"[+-]?[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?")
_DECIMAL = re.compile(r"[+-]?(?=\.?[0-9])[0-9_]*(?:\.[0-9_]*)?(?:[eE][+-]?[0-9][0-9_]*)?")
_HEX = re.compile(
    r"[+-]?0[xX](?=\.?[0-9a-fA-F_]*[0-9a-fA-F])[0-9a-fA-F_]*(?:\.[0-9a-fA-F_]*)?[pP][+-]?[0-9][0-9_]*"
)
_SPECIALS = {"inf": math.inf, "+inf": math.inf, "-inf": -math.inf}


class FloatSyntaxError(ValueError):
    """A number Go would refuse; `str()` is Go's own error text (e.g. `strconv.ParseFloat: ...`)."""


def _special(text: str) -> float | None:
    """Go `special()`: optional sign + `inf`/`infinity`, or `nan` without sign, any case."""
    low = text.lower()
    if low == "nan":
        return math.nan
    if low in _SPECIALS:
        return _SPECIALS[low]
    if low in ("infinity", "+infinity", "-infinity"):
        return _SPECIALS[low[: len(low) - 5]]
    return None


def _underscore_ok(text: str) -> bool:
    """Go `underscoreOK`: `_` only between digits, or between a base prefix and a digit."""
    saw = "^"
    if text[:1] in ("+", "-"):
        text = text[1:]
    i = 0
    hexa = False
    if len(text) >= 2 and text[0] == "0" and text[1] in "bBoOxX":
        i = 2
        saw = "0"
        hexa = text[1] in "xX"
    while i < len(text):
        c = text[i]
        i += 1
        if "0" <= c <= "9" or (hexa and c in "abcdefABCDEF"):
            saw = "0"
            continue
        if c == "_":
            if saw != "0":
                return False
            saw = "_"
            continue
        if saw == "_":
            return False
        saw = "!"
    return saw != "_"


def _num_error(func: str, text: str, reason: str) -> FloatSyntaxError:
    quoted = go_quote(text.encode("utf-8", "surrogateescape"))
    return FloatSyntaxError(f"strconv.{func}: parsing {quoted}: {reason}")


def go_parse_float(text: str) -> float:
    """Go `strconv.ParseFloat(text, 64)`; raises FloatSyntaxError with Go's message."""
    special = _special(text)
    if special is not None:
        return special
    if _HEX.fullmatch(text):
        if "_" in text and not _underscore_ok(text):
            raise _num_error("ParseFloat", text, "invalid syntax")
        try:
            return float.fromhex(text.replace("_", ""))
        except OverflowError:
            raise _num_error("ParseFloat", text, "value out of range") from None
    if not _DECIMAL.fullmatch(text) or ("_" in text and not _underscore_ok(text)):
        raise _num_error("ParseFloat", text, "invalid syntax")
    value = float(text.replace("_", ""))
    if math.isinf(value):
        raise _num_error("ParseFloat", text, "value out of range")
    return value


def parse_value(text: str) -> float:
    """A sample value as Prometheus's text parser reads it; NaN comes back as NORMAL_NAN.

    Raises FloatSyntaxError with Prometheus's text (`unsupported character in float`, or Go's
    `strconv.ParseFloat: parsing "x": invalid syntax` / `value out of range`).
    """
    if _SIMPLE_DECIMAL.fullmatch(text):
        value = float(text)
        if math.isinf(value):
            raise _num_error("ParseFloat", text, "value out of range")
        return value
    if "p" in text or "P" in text or "_" in text:
        raise FloatSyntaxError("unsupported character in float")
    value = go_parse_float(text)
    if value != value:
        return NORMAL_NAN
    return value


def parse_timestamp(text: str) -> int:
    """Go `strconv.ParseInt(text, 10, 64)` for the digits-only token the lexer gives."""
    value = int(text)
    if value > INT64_MAX:
        raise _num_error("ParseInt", text, "value out of range")
    return value


def _shortest_digits(f: float) -> tuple[str, int]:
    """Shortest round-trip digits of |f| and the decimal point position (Go's `digs.d`, `digs.dp`)."""
    mantissa, _, exponent = repr(abs(f)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    point = len(whole) + (int(exponent) if exponent else 0)
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    return stripped.rstrip("0"), point


def format_go(f: float) -> str:
    """Go `strconv.FormatFloat(f, 'g', -1, 64)`: `1e+06`, `1.234567e+06`, `1e-05`, `0.1`, `+Inf`."""
    if f != f:
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    sign = "-" if math.copysign(1.0, f) < 0 else ""
    digits, point = _shortest_digits(f)
    if not digits:
        return sign + "0"
    exponent = point - 1
    if exponent < -4 or exponent >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mantissa}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"


def format_le(f: float) -> str:
    """Prometheus `FormatOpenMetricsFloat`: format_go with `.0` added when it has no `.` or `e`."""
    if f == 0:
        return "0.0"
    text = format_go(f)
    if "." in text or "e" in text or "N" in text or "I" in text:
        return text
    return text + ".0"
