"""The fast path of the Prometheus text parser: the common shape, column-wise, proven or handed back.

Most bodies are canonical: `# HELP`/`# TYPE` lines, then runs of `name{a="x",b="y"} value` (or
`name value`, optionally `... value timestamp`) lines with single spaces, no backslash, tab, CR or
NUL anywhere. The `#` lines go through one regex pass; all sample lines are joined and split once
into columns with C-level builtins: keys and values are the alternate tokens, proven by rebuilding
the text from them (or, when label values hold spaces, each line is split at its last space);
values are converted in bulk after a character check that keeps Python's `float()` to Go's
syntax. Keys are proven canonical in C (promscrape._native) or, without it, all at once in
Python (joined, split on `"`, the few distinct pieces between label values checked; the
reference) and remembered process-wide, so a key seen before costs one set lookup; a key's labels
are parsed only when asked (`series` is lazy). Anything else, or any doubt,
and the whole body goes to the careful parser (`text.parse_text`), the reference; a differential
test keeps both results identical, error line numbers included (errors only ever come from the
careful parser).
"""

import math
import re
from bisect import bisect_right
from collections.abc import ItemsView, Iterator, Mapping, ValuesView
from itertools import accumulate, repeat
from operator import itemgetter
from typing import Any

from promscrape.native import ACCELERATOR as _native

from .floats import INT64_MAX, NORMAL_NAN, FloatSyntaxError, format_le, go_parse_float
from .model import Exposition, Labels, Metadata
from .text import METRIC_TYPES, canonical_float_label, empty_names, make_series, parse_text

__all__ = [
    "FastTextParser",
    "Series",
    "Shape",
    "forget_keys",
    "normalized",
    "parse",
    "parse_canonical",
    "shape",
    "shapes",
]

_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_BARE = r"[a-zA-Z_:][a-zA-Z0-9_:]*(?:\{\})?"
_OPEN = r"[a-zA-Z_:][a-zA-Z0-9_:]*\{[a-zA-Z_][a-zA-Z0-9_]*="
_ALL_BARE = re.compile(f"{_BARE}(?:\n{_BARE})*")
_START = re.compile(f"(?:{_BARE}\n)*{_OPEN}")
_END = re.compile(f",?\\}}(?:\n{_BARE})*")
_BETWEEN = re.compile(f",[a-zA-Z_][a-zA-Z0-9_]*=|,?\\}}(?:\n{_BARE})*\n{_OPEN}")
_META_LINE = re.compile(r"^(?: (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*)(?:$| (.*))|(.*))$", re.M)
_COMMENT_LINE = re.compile(r"\n#([^\n]*)")
_FIRST = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\{([a-zA-Z_][a-zA-Z0-9_]*)=")
_MIDDLE = re.compile(r",([a-zA-Z_][a-zA-Z0-9_]*)=")
_SPECIAL_VALUES = frozenset({"nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"})
_NUMERIC = str.maketrans("", "", "0123456789.eE+-")
_BANNED = ("\\", "\t", "\r", "\x00")
_SCALED = ("histogram", "summary")
_BEFORE, _SEPARATOR, _AFTER = itemgetter(0), itemgetter(1), itemgetter(2)

# Process-wide, bounded by clearing when full; correctness never depends on them.
_SHAPES: dict[tuple[str, ...], "Shape | None"] = {}
_SHAPES_MAX = 50_000
_NAMES: dict[tuple[str, ...], tuple[str, ...]] = {}
_VALID_KEYS: set[str] = set()
_VALID_KEYS_MAX = 250_000
"""Keys proven canonical; the strings are mostly those the targets' SeriesCaches hold anyway, but
a cleared cache's keys stay here until this clears too: at most ~45 MB of 180-byte keys."""
_KEY_LISTS: dict[tuple[int, str, str], list[str]] = {}
"""Key lists of recent bodies, proven canonical, at most _VALID_KEYS_MAX keys in all (their strings
are mostly those the targets' SeriesCaches hold: the lists add 8 bytes a key)."""
_NORMALIZED: dict[str, str] = {}
_KEYS_AT_ONCE = 2048
"""Keys validated per join/split: bounds the temporary pieces (a dozen objects a key)."""
_SERIES_ENTRIES = getattr(_native, "series_entries", None)
"""promscrape._native.series_entries (Series' bulk path), None without it (or in a build predating it)."""


class Shape:
    """What a key's text says apart from its label values: metric name and label names in order.

    `names` is interned (shapes with the same label names share one tuple: one hash, one copy);
    `scaled` says whether an `le` or `quantile` label may need canonicalising (under a histogram or
    summary TYPE).
    """

    __slots__ = ("name", "names", "scaled")

    def __init__(self, name: str, names: tuple[str, ...]) -> None:
        self.name = name
        if len(_NAMES) >= _SHAPES_MAX:
            _NAMES.clear()
        self.names = names = _NAMES.setdefault(names, names)
        self.scaled = "le" in names or "quantile" in names


def _shape(signature: tuple[str, ...]) -> Shape | None:
    """The Shape of a key split on `"` (its even parts), or None when it is not the canonical form."""
    if len(signature) == 1:
        text = signature[0]
        bare = text[:-2] if text.endswith("{}") else text
        return Shape(bare, ()) if _METRIC_NAME.fullmatch(bare) else None
    last = signature[-1]
    if last != "}" and last != ",}":
        return None
    first = _FIRST.fullmatch(signature[0])
    if first is None:
        return None
    names = [first.group(2)]
    for part in signature[1:-1]:
        middle = _MIDDLE.fullmatch(part)
        if middle is None:
            return None
        names.append(middle.group(1))
    return Shape(first.group(1), tuple(names))


def shape(signature: tuple[str, ...]) -> Shape | None:
    """The Shape of a key from its even parts when split on `"` (None: not the canonical form)."""
    got = _SHAPES.get(signature, False)
    if got is False:
        if len(_SHAPES) >= _SHAPES_MAX:
            _SHAPES.clear()
        got = _SHAPES[signature] = _shape(signature)
    return got


def shapes(signatures: list[tuple[str, ...]]) -> list[Shape | None]:
    """`shape` of many signatures: one C-level lookup pass, computing only the ones never seen."""
    got = list(map(_SHAPES.get, signatures, repeat(_UNSEEN)))
    if _UNSEEN in got:
        got = [
            shape(signature) if found is _UNSEEN else found
            for signature, found in zip(signatures, got, strict=True)
        ]
    return got  # type: ignore[return-value]


_UNSEEN = object()


def normalized(raw: str) -> str:
    """An `le`/`quantile` value in Prometheus's canonical float form (unchanged when not a Go float)."""
    got = _NORMALIZED.get(raw)
    if got is None:
        try:
            got = format_le(go_parse_float(raw))
        except FloatSyntaxError:
            got = raw
        if len(_NORMALIZED) >= 10_000:
            _NORMALIZED.clear()
        _NORMALIZED[raw] = got
    return got


class Series(Mapping[str, tuple[str, Labels]]):
    """`Exposition.series` of a fast parse: filled on first access from the key text itself.

    `type_of(key)` is the TYPE in force at the key's first line (what `le`/`quantile`
    canonicalisation depends on), worked out only when first asked; `type_at(position)` the TYPE
    in force at a sample line. `values()`/`items()` resolve every key at once (in C where
    promscrape._native has series_entries), for whoever reads them all: the same entries as the
    per-key path, which stays the reference and takes the keys the bulk path hands back.
    """

    __slots__ = ("_complete", "_context", "_ends", "_keys", "_keyset", "_memo", "_runs")

    def __init__(self, keys: list[str], runs: list[tuple[int, str]] | None) -> None:
        self._keys = keys
        self._runs = runs
        self._context: dict[str, str] | None = None
        self._ends: list[int] | None = None
        self._memo: dict[str, tuple[str, Labels]] = {}
        self._keyset: dict[str, None] | None = None
        self._complete = False

    def _unique(self) -> dict[str, None]:
        if self._keyset is None:
            self._keyset = dict.fromkeys(self._keys)
        return self._keyset

    def type_of(self, key: str) -> str:
        """The last `# TYPE` before the key's first line (only histogram and summary matter).

        Without duplicate keys only the histogram and summary runs need mapping; with them, every
        run does, so that a key's first line decides.
        """
        if self._context is None:
            every_run = len(self._unique()) != len(self._keys)
            context: dict[str, str] = {}
            end = len(self._keys)
            for lines, run_type in reversed(self._runs or ()):
                if every_run or run_type in _SCALED:
                    context.update(dict.fromkeys(self._keys[end - lines : end], run_type))
                end -= lines
            self._context = context
        return self._context.get(key, "")

    def type_at(self, position: int) -> str:
        """The last `# TYPE` before sample line `position` (only histogram and summary matter)."""
        if self._runs is None:
            return ""
        if self._ends is None:
            self._ends = list(accumulate(lines for lines, _ in self._runs))
        return self._runs[bisect_right(self._ends, position)][1]

    def __getitem__(self, key: str) -> tuple[str, Labels]:
        got = self._memo.get(key)
        if got is None:
            if key not in self._unique():
                raise KeyError(key)
            parts = key.split('"')
            shape_ = shape(tuple(parts[0::2]))
            if shape_ is None:
                raise RuntimeError(f"fast parser invariant broken: {key!r} is not in the canonical form")
            mtype = self.type_of(key) if shape_.scaled else ""
            pairs = list(zip(shape_.names, parts[1::2], strict=True))
            got = self._memo[key] = make_series(shape_.name, pairs, mtype)
        return got

    def __iter__(self) -> Iterator[str]:
        return iter(self._unique())

    def __len__(self) -> int:
        return len(self._unique())

    def __contains__(self, key: object) -> bool:
        return key in self._unique()

    def values(self) -> ValuesView[tuple[str, Labels]]:
        return self._all().values()

    def items(self) -> ItemsView[str, tuple[str, Labels]]:
        return self._all().items()

    def _all(self) -> dict[str, tuple[str, Labels]]:
        """Every entry in key order: the bulk path's, then the per-key path's for the keys it left."""
        if not self._complete:
            unique = self._unique()
            resolved: dict[str, Any] = unique.copy()  # every key in order, filled in place
            for key in self._bulk(list(unique), resolved):
                resolved[key] = self[key]
            self._memo = resolved
            self._complete = True
        return self._memo

    def _bulk(self, keys: list[str], resolved: dict[str, Any]) -> list[str]:
        """Put the entries of canonical keys into `resolved` (C); return the keys left to the per-key path."""
        if _SERIES_ENTRIES is None or not keys:
            return keys
        return _SERIES_ENTRIES(keys, resolved, self.scaled_types(), canonical_float_label)

    def scaled_types(self) -> dict[str, str] | None:
        """A map whose `.get(key, "")` is type_of(key), or None when no run is a histogram or summary."""
        if self._runs is None or not self._keys:
            return None
        self.type_of(self._keys[0])
        return self._context


def parse(body: bytes) -> Exposition:
    """Parse a text body: the fast path when it proves the body canonical, else the careful parser."""
    result = parse_canonical(body)
    return result if result is not None else parse_text(body)


def parse_canonical(body: bytes) -> Exposition | None:
    """The Exposition of a canonical body, or None whenever anything is not the common shape."""
    try:
        text = body.decode()
    except UnicodeDecodeError:
        return None
    for banned in _BANNED:
        if banned in text:
            return None
    if text.endswith("\n"):
        text = text[:-1]
    comments: list[str] = []
    if text.startswith("#"):
        end = text.find("\n")
        end = len(text) if end < 0 else end
        comments.append(text[1:end])
        text = text[end:]
    # [run, comment, run, comment, ..., run]: every run but a leading one starts with its "\n".
    pieces = _COMMENT_LINE.split(text)
    del text  # the pieces are copies: keep one copy of the body's text alive at a time
    runs = pieces[0::2]
    comments += pieces[1::2]
    del pieces
    metadata: dict[str, Metadata] = {}
    after = _metadata(comments, metadata)
    if after is None:
        return None
    lines = list(map(str.count, runs, repeat("\n")))
    if runs[0] and runs[0][0] != "\n":
        lines[0] += 1
    else:
        first = next((index for index, run in enumerate(runs) if run), 0)
        runs[first] = runs[first][1:]
    types = list(zip(lines, after if len(after) == len(runs) else ["", *after], strict=True))
    # All sample lines as one column set (a few C-level passes however many families), else
    # line by line (label values with spaces), else run by run (timestamps only on some runs).
    # A way that misreads lines yields keys that are not canonical, so the next one is tried.
    samples = "".join(runs)
    del runs
    columns = _columns_by_tokens(samples) if samples else ([], [], [])
    if columns is None or not _keys_ok(columns[0]):
        columns = _columns_by_line(samples)
        if columns is None or not _keys_ok(columns[0]):
            columns = _columns_by_run(samples, types)
            if columns is None or not _keys_ok(columns[0]):
                return None
    written_empty = '=""' in samples  # one C-level scan; a canonical value holds no `"`
    del samples
    keys, values, timestamps = columns
    return Exposition(
        keys=keys,
        values=values,
        timestamps=timestamps,
        series=Series(keys, types if _SCALED[0] in after or _SCALED[1] in after else None),
        metadata=metadata,
        empty_labels=_empty_labels(keys) if written_empty else {},
    )


def _empty_labels(keys: list[str]) -> dict[str, frozenset[str]]:
    """`Exposition.empty_labels` of canonical keys: in that form `=""` is exactly an empty value."""
    empty: dict[str, frozenset[str]] = {}
    for key in dict.fromkeys(keys):
        if '=""' in key:
            parts = key.split('"')
            shape_ = shape(tuple(parts[0::2]))
            if shape_ is None:
                raise RuntimeError(f"fast parser invariant broken: {key!r} is not in the canonical form")
            names = empty_names(list(zip(shape_.names, parts[1::2], strict=True)))
            if names:
                empty[key] = names
    return empty


def _metadata(comments: list[str], metadata: dict[str, Metadata]) -> list[str] | None:
    """Apply the `#` lines in order: the TYPE in force after each one, or None to bail out.

    The canonical `# HELP name text` / `# TYPE name type` lines are read by one regex pass over
    all of them; any other line (a plain comment, or unusual spacing) by `_comment`.
    """
    after: list[str] = []
    mtype = ""
    types = METRIC_TYPES
    if not comments:
        return after
    for keyword, name, rest, other in _META_LINE.findall("\n".join(comments)):
        if not keyword:
            kind = _comment(other, metadata) if other else ""
            if kind is None:
                return None
            mtype = kind or mtype
        else:
            content = rest if rest.strip(" ") else ""
            entry = metadata.get(name)
            if keyword == "TYPE":
                kind = types.get(content)
                if kind is None:
                    return None
                if entry is None:
                    entry = metadata[name] = Metadata()
                entry.type = mtype = kind
            else:
                if entry is None:
                    entry = metadata[name] = Metadata()
                entry.help = content
        after.append(mtype)
    if len(after) != len(comments):
        return None
    return after


def _comment(line: str, metadata: dict[str, Metadata]) -> str | None:
    """Apply one `#` line (without its `#`): the TYPE it sets, "" for HELP or a comment, None to bail out."""
    if not line.startswith(" "):
        return ""
    rest = line.lstrip(" ")
    keyword = rest[:5]
    if keyword != "HELP " and keyword != "TYPE ":
        return ""
    rest = rest[5:].lstrip(" ")
    match = _METRIC_NAME.match(rest)
    if match is None:
        return None
    name = match.group()
    tail = rest[match.end() :]
    if not tail or not tail.strip(" "):
        content = ""
    elif tail[0] == " ":
        content = tail[1:]
    else:
        return None
    entry = metadata.get(name)
    if keyword == "TYPE ":
        kind = METRIC_TYPES.get(content)
        if kind is None:
            return None
        if entry is None:
            entry = metadata[name] = Metadata()
        entry.type = kind
        return kind
    if entry is None:
        entry = metadata[name] = Metadata()
    entry.help = content
    return ""


_Columns = tuple[list[str], list[float], list[int | None]]


def _columns_by_run(samples: str, types: list[tuple[int, str]]) -> _Columns | None:
    """Each run (lines between `#` lines) on its own: some with timestamps, some with spaced values."""
    lines = samples.split("\n")
    columns: _Columns = ([], [], [])
    start = 0
    for count, _ in types:
        if not count:
            continue
        run = "\n".join(lines[start : start + count])
        start += count
        got = _columns_by_tokens(run) or _columns_by_line(run)
        if got is None:
            return None
        for column, part in zip(columns, got, strict=True):
            column += part  # type: ignore[operator]
    return columns


def _columns_by_tokens(run: str) -> _Columns | None:
    """Every line `key value` or every line `key value timestamp`, proven by rebuilding the run."""
    lines = run.count("\n") + 1
    tokens = run.replace("\n", " ").split(" ")
    spaces = len(tokens) - lines
    if spaces == lines:
        keys = tokens[0::2]
        raw_values = tokens[1::2]
        if not _rebuilds(run, (keys, raw_values)):
            return None
        stamps: list[int | None] | None = [None] * lines
    elif spaces == 2 * lines:
        keys = tokens[0::3]
        raw_values = tokens[1::3]
        raw_timestamps = tokens[2::3]
        if not _rebuilds(run, (keys, raw_values, raw_timestamps)):
            return None
        stamps = _timestamps(raw_timestamps)
    else:
        return None
    converted = _values(raw_values)
    if converted is None or stamps is None:
        return None
    return keys, converted, stamps


def _rebuilds(run: str, columns: tuple[list[str], ...]) -> bool:
    """True when the run is exactly its lines of space-joined columns (checked a slice at a time)."""
    position = 0
    step = 4096
    for start in range(0, len(columns[0]), step):
        piece = "\n".join(
            map(" ".join, zip(*(column[start : start + step] for column in columns), strict=True))
        )
        end = position + len(piece)
        if not run.startswith(piece, position) or run[end : end + 1] not in ("\n", ""):
            return False
        position = end + 1
    return position == len(run) + 1


def _columns_by_line(run: str) -> _Columns | None:
    """A run whose label values hold spaces: split each line at its last space (no timestamps here)."""
    parts = list(map(str.rpartition, run.split("\n"), repeat(" ")))
    if list(map(_SEPARATOR, parts)).count(" ") != len(parts):
        return None
    keys = list(map(_BEFORE, parts))
    converted = _values(list(map(_AFTER, parts)))
    if converted is None:
        return None
    return keys, converted, [None] * len(keys)


def _values(raw: list[str]) -> list[float] | None:
    """Bulk float conversion limited to what Prometheus accepts, NaN as Prometheus's NormalNaN."""
    joined = "".join(raw)
    if not joined.isascii():
        return None
    letters = joined.translate(_NUMERIC)
    if letters and any(value.lower() not in _SPECIAL_VALUES for value in raw if value.translate(_NUMERIC)):
        return None
    try:
        converted = list(map(float, raw))
    except ValueError:
        return None
    if math.inf in converted or -math.inf in converted:
        for value, number in zip(raw, converted, strict=True):
            if math.isinf(number) and value.lower() not in _SPECIAL_VALUES:
                return None
    if letters and ("n" in letters or "N" in letters):
        converted = [NORMAL_NAN if number != number else number for number in converted]
    return converted


def _timestamps(raw: list[str]) -> list[int | None] | None:
    """Millisecond timestamps: ASCII digits within int64."""
    joined = "".join(raw)
    if not (joined.isascii() and joined.isdigit()) or "" in raw:
        return None
    stamps: list[int | None] = list(map(int, raw))
    if max(map(int, raw)) > INT64_MAX:
        return None
    return stamps


def _keys_ok(keys: list[str]) -> bool:
    """Whether every key is in the canonical form (known already, or proven now).

    A body whose keys are those of one seen before, in the same order (a target scraped again),
    is recognised by one list comparison; otherwise each key is proven in C (promscrape._native),
    or, without it, looked up among the keys proven before or proven by _check_keys.
    """
    if not keys:
        return True
    signature = (len(keys), keys[0], keys[-1])
    if _KEY_LISTS.get(signature) == keys:
        return True
    if _native is not None:
        if not _native.canonical_keys(keys):
            return False
    elif not (_VALID_KEYS.issuperset(keys) or _check_keys(keys)):
        return False
    if sum(map(len, _KEY_LISTS.values())) + len(keys) > _VALID_KEYS_MAX:
        _KEY_LISTS.clear()
    _KEY_LISTS[signature] = list(keys)
    return True


def forget_keys() -> None:
    """Forget every key proven canonical, as a fresh process would (to measure first scrapes)."""
    _VALID_KEYS.clear()
    _KEY_LISTS.clear()


def _check_keys(keys: list[str]) -> bool:
    """Validate keys (some not seen before) all at once, and remember them.

    The keys joined by line feeds and split on `"` alternate between label values (anything but
    `"`, `\\`, LF) and the text between them, whose few distinct pieces are checked: the first
    (bare names, then `name{label=`), the last (`}` and bare names), and in between either
    `,label=` or a key's end, bare names and the next key's start. Together that is exactly the
    canonical form of every key.
    """
    if len(_VALID_KEYS) >= _VALID_KEYS_MAX:
        _VALID_KEYS.clear()
    for start in range(0, len(keys), _KEYS_AT_ONCE):
        parts = "\n".join(keys[start : start + _KEYS_AT_ONCE]).split('"')
        if len(parts) % 2 == 0:
            return False
        if len(parts) == 1:
            if not _ALL_BARE.fullmatch(parts[0]):
                return False
            continue
        if not _START.fullmatch(parts[0]) or not _END.fullmatch(parts[-1]):
            return False
        for piece in set(parts[2:-1:2]):
            if not _BETWEEN.fullmatch(piece):
                return False
    _VALID_KEYS.update(keys)
    return True


class FastTextParser:
    """The Parser `exposition.new()` should return for Prometheus text: fast path, careful fallback."""

    media_type = "text/plain"

    def __init__(self, body: bytes) -> None:
        self._body = body

    def parse(self) -> Exposition:
        return parse(self._body)
