"""Samples of an Exposition printed one per line, for the CLI and for readable test expectations.

`name{label="value",...} value [timestamp_ms]`: labels sorted by name (stable for duplicates),
label values escaped as Prometheus's text format writes them (`\\\\`, `\\"`, `\\n`), the value in
Go's `FormatFloat(f, 'g', -1, 64)` (`NaN`, `+Inf`, `1e+06`). A metric or label name outside the
legacy character set is written quoted, text format 1.0.0 style: `{"my.metric","a.b"="v"} 1`.
"""

import re
from collections.abc import Iterator

from .floats import format_go
from .model import Exposition, Labels

_LEGACY_METRIC = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LEGACY_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


def escape(value: str) -> str:
    """Escape a label value (or quoted name) as the text format writes it."""
    if "\\" in value or '"' in value or "\n" in value:
        return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return value


def render_series(name: str, labels: Labels) -> str:
    """`name{label="value",...}` with the labels sorted by name."""
    parts = [
        (label if _LEGACY_LABEL.fullmatch(label) else f'"{escape(label)}"') + f'="{escape(value)}"'
        for label, value in sorted(labels, key=lambda pair: pair[0])
    ]
    if _LEGACY_METRIC.fullmatch(name):
        return f"{name}{{{','.join(parts)}}}" if parts else name
    return "{" + ",".join([f'"{escape(name)}"', *parts]) + "}"


def render_samples(exposition: Exposition) -> Iterator[str]:
    """One line per sample, in exposition order, without the trailing newline."""
    rendered: dict[str, str] = {}
    series = exposition.series
    for key, value, timestamp in zip(exposition.keys, exposition.values, exposition.timestamps, strict=True):
        text = rendered.get(key)
        if text is None:
            text = rendered[key] = render_series(*series[key])
        if timestamp is None:
            yield f"{text} {format_go(value)}"
        else:
            yield f"{text} {format_go(value)} {timestamp}"
