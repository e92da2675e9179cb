"""Prometheus model.Duration parsing and formatting, and Go's time.Duration and %q forms."""

import pytest
from promscrape.durations import format_duration, format_go_duration, parse_duration
from promscrape.gostring import go_quote

DAY = 24 * 3600 * 1000


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("0", 0),
        ("0s", 0),
        ("1ms", 1),
        ("500ms", 500),
        ("1s", 1000),
        ("1s500ms", 1500),
        ("90s", 90_000),
        ("1m30s", 90_000),
        ("1m", 60_000),
        ("1h", 3_600_000),
        ("1h30m", 5_400_000),
        ("1d", DAY),
        ("1w", 7 * DAY),
        ("1y", 365 * DAY),
        ("1y1w1d1h1m1s1ms", 365 * DAY + 7 * DAY + DAY + 3_600_000 + 60_000 + 1000 + 1),
        ("0h5m", 300_000),
        ("007s", 7000),
        ("106751d", 106751 * DAY),
    ],
)
def test_parse_duration(text: str, ms: int) -> None:
    assert parse_duration(text) == ms


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty duration string"),
        ("1.5s", 'unknown unit "." in duration "1.5s"'),
        ("-1s", 'not a valid duration string: "-1s"'),
        ("1x", 'unknown unit "x" in duration "1x"'),
        ("1s1m", 'not a valid duration string: "1s1m"'),
        ("1s1s", 'not a valid duration string: "1s1s"'),
        ("s", 'not a valid duration string: "s"'),
        ("1", 'not a valid duration string: "1"'),
        (" 1s", 'not a valid duration string: " 1s"'),
        ("1s ", 'unknown unit "s " in duration "1s "'),
        ("1S", 'unknown unit "S" in duration "1S"'),
        ("1µs", 'unknown unit "µs" in duration "1µs"'),
        ("300y", 'duration out of range: "300y"'),
        ("99999999999999999999s", 'not a valid duration string: "99999999999999999999s"'),
    ],
)
def test_parse_duration_rejects(text: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration(text)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (0, "0s"),
        (1, "1ms"),
        (500, "500ms"),
        (1000, "1s"),
        (1500, "1s500ms"),
        (90_000, "1m30s"),
        (60_000, "1m"),
        (3_600_000, "1h"),
        (3_660_000, "1h1m"),
        (DAY, "1d"),
        (7 * DAY, "1w"),
        (8 * DAY, "8d"),
        (14 * DAY, "2w"),
        (90 * DAY, "90d"),
        (365 * DAY, "1y"),
        (366 * DAY, "366d"),
        (730 * DAY, "2y"),
        (DAY + 1, "1d1ms"),
    ],
)
def test_format_duration(ms: int, text: str) -> None:
    assert format_duration(ms) == text


@pytest.mark.parametrize("text", ["1m30s", "1d", "1s500ms", "1w", "1y", "10s", "2h5m3s7ms"])
def test_round_trip(text: str) -> None:
    assert format_duration(parse_duration(text)) == text


def test_format_rejects_negative() -> None:
    with pytest.raises(ValueError, match="negative duration: -1ms"):
        format_duration(-1)


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (0, "0s"),
        (5, "5ms"),
        (1000, "1s"),
        (1500, "1.5s"),
        (1050, "1.05s"),
        (60_000, "1m0s"),
        (90_000, "1m30s"),
        (7_200_000, "2h0m0s"),
        (DAY, "24h0m0s"),
        (3_600_001, "1h0m0.001s"),
    ],
)
def test_format_go_duration(ms: int, text: str) -> None:
    assert format_go_duration(ms) == text


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("abc", '"abc"'),
        ('a"b', '"a\\"b"'),
        ("a\\b", '"a\\\\b"'),
        ("a\nb\t", '"a\\nb\\t"'),
        ("\x00\x7f", '"\\x00\\x7f"'),
        ("héllo ☃", '"héllo ☃"'),
        ("\u200b", '"\\u200b"'),
        ("\U000e0001", '"\\U000e0001"'),
    ],
)
def test_quote_go(text: str, quoted: str) -> None:
    assert go_quote(text) == quoted
