"""Durations as Prometheus writes them (prometheus/common `model.Duration`), in milliseconds.

Jobs store durations as int milliseconds; users and target labels (`__scrape_interval__`) see
the Prometheus text form, so parsing and formatting must match Go byte for byte.
"""

from promscrape.gostring import go_quote

_MS_PER_UNIT: dict[str, int] = {
    "y": 365 * 24 * 60 * 60 * 1000,
    "w": 7 * 24 * 60 * 60 * 1000,
    "d": 24 * 60 * 60 * 1000,
    "h": 60 * 60 * 1000,
    "m": 60 * 1000,
    "s": 1000,
    "ms": 1,
}
# Units must appear from the largest to the smallest, each at most once (model.ParseDuration).
_UNIT_POSITION: dict[str, int] = {unit: pos for pos, unit in enumerate(_MS_PER_UNIT, start=1)}
_NS_PER_MS = 1_000_000
_MAX_NS = (1 << 63) - 1


def parse_duration(text: str) -> int:
    """Parse a Prometheus duration (`1m30s`, `500ms`, `1d`, `0`) into milliseconds.

    Raises ValueError naming the text, with prometheus/common's messages.
    """
    if not isinstance(text, str):
        raise ValueError(f"not a valid duration string: {text!r} is not a string")
    if text == "0":
        return 0
    if text == "":
        raise ValueError("empty duration string")
    rest = text
    total_ns = 0
    last_position = 0
    while rest:
        i = 0
        while i < len(rest) and _is_ascii_digit(rest[i]):
            i += 1
        if i == 0:
            raise ValueError(f"not a valid duration string: {go_quote(text)}")
        number = int(rest[:i])
        if number >= 1 << 64:
            raise ValueError(f"not a valid duration string: {go_quote(text)}")
        rest = rest[i:]
        j = 0
        while j < len(rest) and not _is_ascii_digit(rest[j]):
            j += 1
        if j == 0:
            raise ValueError(f"not a valid duration string: {go_quote(text)}")
        unit = rest[:j]
        rest = rest[j:]
        if unit not in _MS_PER_UNIT:
            raise ValueError(f"unknown unit {go_quote(unit)} in duration {go_quote(text)}")
        position = _UNIT_POSITION[unit]
        if position <= last_position:
            raise ValueError(f"not a valid duration string: {go_quote(text)}")
        last_position = position
        unit_ns = _MS_PER_UNIT[unit] * _NS_PER_MS
        if number > (1 << 63) // unit_ns:
            raise ValueError(f"duration out of range: {go_quote(text)}")
        total_ns += number * unit_ns
        if total_ns > _MAX_NS:
            raise ValueError(f"duration out of range: {go_quote(text)}")
    return total_ns // _NS_PER_MS


def _is_ascii_digit(char: str) -> bool:
    return "0" <= char <= "9"


def format_duration(ms: int) -> str:
    """Format milliseconds as model.Duration.String(): largest unit first, y and w only when exact."""
    if ms < 0:
        raise ValueError(f"negative duration: {ms}ms")
    if ms == 0:
        return "0s"
    parts: list[str] = []
    for unit, unit_ms in _MS_PER_UNIT.items():
        if unit in ("y", "w") and ms % unit_ms != 0:
            continue
        count, ms = divmod(ms, unit_ms)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def format_go_duration(ms: int) -> str:
    """Format milliseconds as Go's time.Duration.String() (`1m0s`, `1.5s`, `500ms`, `2h0m0s`).

    Alloy holds scrape_interval/scrape_timeout as time.Duration, so its error messages use this form.
    """
    if ms == 0:
        return "0s"
    sign = "-" if ms < 0 else ""
    ms = abs(ms)
    if ms < 1000:
        return f"{sign}{ms}ms"
    hours, rem = divmod(ms, 3_600_000)
    minutes, rem = divmod(rem, 60_000)
    seconds, millis = divmod(rem, 1000)
    sec_text = f"{seconds}.{millis:03d}".rstrip("0").rstrip(".") if millis else str(seconds)
    if hours:
        return f"{sign}{hours}h{minutes}m{sec_text}s"
    if minutes:
        return f"{sign}{minutes}m{sec_text}s"
    return f"{sign}{sec_text}s"
