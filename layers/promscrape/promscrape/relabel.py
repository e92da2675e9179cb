"""The relabel engine: Prometheus's model/relabel, rule for rule, with RE2 for the regexes.

`RelabelConfig` validates one rule with Prometheus's names, defaults and error messages
(REFERENCE §10; label names under the legacy validation scheme, Alloy's default).
`compile_rules` turns a list of them into a `Relabeler` whose `process` runs on the hot path:
every regex and template is prepared once, and an empty rule list costs one attribute lookup.
"""

import hashlib
import re
from collections.abc import Callable
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator
from re2 import _re2  # the RE2 binding itself: the `re2` wrapper adds ~1 us per match on str

from promscrape.gostring import go_quote

Labels = dict[str, str]

ACTIONS: Final = frozenset(
    {
        "replace",
        "keep",
        "drop",
        "keepequal",
        "dropequal",
        "hashmod",
        "labelmap",
        "labeldrop",
        "labelkeep",
        "lowercase",
        "uppercase",
    }
)
DEFAULT_REGEX: Final = "(.*)"
DEFAULT_SEPARATOR: Final = ";"
DEFAULT_REPLACEMENT: Final = "$1"

_LEGACY_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
# Prometheus's relabelTargetLegacy: a legacy label name in which `$var`/`${var}` may appear.
_LEGACY_TARGET_WITH_VARS = re.compile(r"(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+", re.ASCII)
_ANCHOR_BOTH = _re2.RE2.Anchor.ANCHOR_BOTH
_NO_MATCH = (-1, -1)


def is_legacy_label_name(name: str) -> bool:
    """`[a-zA-Z_][a-zA-Z0-9_]*`: model.LabelName.IsValid under the legacy validation scheme."""
    return _LEGACY_LABEL_NAME.fullmatch(name) is not None


class Regex:
    """A compiled RE2 regex matched as Go's `^(?s:<re>)$`, on the UTF-8 bytes of the value."""

    __slots__ = ("_re", "group_count", "group_names", "pattern")

    def __init__(self, pattern: str) -> None:
        options = _re2.RE2.Options()
        options.log_errors = False
        # Anchored exactly as Prometheus does, so error messages show the same expression.
        compiled = _re2.RE2(("^(?s:" + pattern + ")$").encode(), options)
        if not compiled.ok():
            raise ValueError(_go_regexp_error(compiled.error()))
        self.pattern = pattern
        self._re = compiled
        self.group_count: int = compiled.NumberOfCapturingGroups()
        self.group_names: dict[str, int] = {
            (name.decode() if isinstance(name, bytes) else name): index
            for name, index in compiled.NamedCapturingGroups()
        }

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Regex) and other.pattern == self.pattern

    def __hash__(self) -> int:
        return hash(self.pattern)

    def matches(self, text: str) -> bool:
        """Whether the whole of text matches."""
        data = text.encode()
        return self._re.Match(_ANCHOR_BOTH, data, 0, len(data))[0] != _NO_MATCH

    def spans(self, data: bytes) -> list[tuple[int, int]] | None:
        """Byte spans of every group (group 0 first) when all of data matches, else None."""
        spans = self._re.Match(_ANCHOR_BOTH, data, 0, len(data))
        return None if spans[0] == _NO_MATCH else spans


# RE2's (C++) error codes, in the words of Go's regexp/syntax.ErrorCode.
_GO_REGEXP_ERRORS: Final = {
    "missing ]": "missing closing ]",
    "missing )": "missing closing )",
    "trailing \\": "trailing backslash at end of expression",
    "no argument for repetition operator": "missing argument to repetition operator",
    "invalid repetition size": "invalid repeat count",
    "bad repetition operator": "invalid nested repetition operator",
    "invalid perl operator": "invalid or unsupported Perl syntax",
    "invalid named capture group": "invalid named capture",
    "pattern too large - compile failed": "expression too large",
}


def _go_regexp_error(message: bytes | str) -> str:
    """RE2's `code: arg` as Go's regexp/syntax.Error prints it: error parsing regexp: code: `arg`."""
    text = message.decode(errors="replace") if isinstance(message, bytes) else message
    code, sep, arg = text.partition(": ")
    code = _GO_REGEXP_ERRORS.get(code, code)
    return f"error parsing regexp: {code}: `{arg}`" if sep else f"error parsing regexp: {code}"


# A parsed Go template (regexp.Expand): literal text and group references (None: expands to "").
_TemplatePiece = str | int | None


def parse_template(template: str, regex: Regex) -> tuple[_TemplatePiece, ...]:
    """Split a `$1`/`${1}`/`$name`/`$$` template into pieces once, as Go's Regexp.Expand reads it."""
    pieces: list[_TemplatePiece] = []
    literal: list[str] = []
    rest = template
    while rest:
        before, dollar, after = rest.partition("$")
        if not dollar:
            break
        literal.append(before)
        rest = after
        if rest.startswith("$"):
            literal.append("$")
            rest = rest[1:]
            continue
        reference = _extract_reference(rest)
        if reference is None:
            literal.append("$")
            continue
        name, number, rest = reference
        if literal:
            pieces.append("".join(literal))
            literal = []
        if number >= 0:
            pieces.append(number if number <= regex.group_count else None)
        else:
            pieces.append(regex.group_names.get(name))
    literal.append(rest)
    tail = "".join(literal)
    if tail:
        pieces.append(tail)
    return tuple(pieces)


def _extract_reference(text: str) -> tuple[str, int, str] | None:
    """Go's regexp `extract`: the name after `$` (letters, digits, `_`; optional braces)."""
    brace = text.startswith("{")
    if brace:
        text = text[1:]
    i = 0
    while i < len(text) and (text[i].isalpha() or text[i].isdecimal() or text[i] == "_"):
        i += 1
    if i == 0:
        return None
    name = text[:i]
    if brace:
        if i >= len(text) or text[i] != "}":
            return None
        i += 1
    number = 0
    for char in name:
        if not "0" <= char <= "9" or number >= 100_000_000:
            number = -1
            break
        number = number * 10 + ord(char) - 48
    if name[0] == "0" and len(name) > 1:
        number = -1
    return name, number, text[i:]


def expand(pieces: tuple[_TemplatePiece, ...], data: bytes, spans: list[tuple[int, int]]) -> str:
    """Fill a parsed template with the groups of one match (spans index the UTF-8 bytes data)."""
    out: list[str] = []
    for piece in pieces:
        if piece.__class__ is str:
            out.append(piece)  # type: ignore[arg-type]
        elif piece is not None:
            start, end = spans[piece]  # type: ignore[index]
            if start >= 0:
                out.append(data[start:end].decode())
    return "".join(out)


# Go's unicode.ToUpper/ToLower map rune by rune with the simple case mappings; Python's str methods
# use the full ones. These are the runes whose full mapping is not a single rune (Unicode 15.0,
# the version of both Python 3.12 and Go 1.21+), mapped to their simple mapping (themselves when
# they have none).
_GO_UPPER: Final[dict[str, str]] = {
    **{
        char: char
        for char in (
            "\u00df\u0149\u01f0\u0390\u03b0\u0587\u1e96\u1e97\u1e98\u1e99\u1e9a\u1f50"
            "\u1f52\u1f54\u1f56\u1fb2\u1fb4\u1fb6\u1fb7\u1fc2\u1fc4\u1fc6\u1fc7\u1fd2"
            "\u1fd3\u1fd6\u1fd7\u1fe2\u1fe3\u1fe4\u1fe6\u1fe7\u1ff2\u1ff4\u1ff6\u1ff7"
            "\ufb00\ufb01\ufb02\ufb03\ufb04\ufb05\ufb06\ufb13\ufb14\ufb15\ufb16\ufb17"
        )
    },
    **dict(
        zip(
            (
                "\u1f80\u1f81\u1f82\u1f83\u1f84\u1f85\u1f86\u1f87\u1f88\u1f89\u1f8a\u1f8b"
                "\u1f8c\u1f8d\u1f8e\u1f8f\u1f90\u1f91\u1f92\u1f93\u1f94\u1f95\u1f96\u1f97"
                "\u1f98\u1f99\u1f9a\u1f9b\u1f9c\u1f9d\u1f9e\u1f9f\u1fa0\u1fa1\u1fa2\u1fa3"
                "\u1fa4\u1fa5\u1fa6\u1fa7\u1fa8\u1fa9\u1faa\u1fab\u1fac\u1fad\u1fae\u1faf"
                "\u1fb3\u1fbc\u1fc3\u1fcc\u1ff3\u1ffc"
            ),
            (
                "\u1f88\u1f89\u1f8a\u1f8b\u1f8c\u1f8d\u1f8e\u1f8f\u1f88\u1f89\u1f8a\u1f8b"
                "\u1f8c\u1f8d\u1f8e\u1f8f\u1f98\u1f99\u1f9a\u1f9b\u1f9c\u1f9d\u1f9e\u1f9f"
                "\u1f98\u1f99\u1f9a\u1f9b\u1f9c\u1f9d\u1f9e\u1f9f\u1fa8\u1fa9\u1faa\u1fab"
                "\u1fac\u1fad\u1fae\u1faf\u1fa8\u1fa9\u1faa\u1fab\u1fac\u1fad\u1fae\u1faf"
                "\u1fbc\u1fbc\u1fcc\u1fcc\u1ffc\u1ffc"
            ),
            strict=True,
        )
    ),
}
_GO_LOWER: Final[dict[str, str]] = {"\u0130": "i", "\u03a3": "\u03c3"}  # İ: Python "i̇"; Σ: "ς" at word end


def go_upper(text: str) -> str:
    """strings.ToUpper as Go does it (`ß` stays `ß`, `ﬁ` stays `ﬁ`)."""
    upper = text.upper()
    if len(upper) == len(text):
        return upper
    return "".join(_GO_UPPER.get(char) or char.upper() for char in text)


def go_lower(text: str) -> str:
    """strings.ToLower as Go does it (`İ` becomes `i`, `Σ` is always `σ`)."""
    lower = text.lower()
    if len(lower) == len(text) and "Σ" not in text:
        return lower
    return "".join(_GO_LOWER.get(char) or char.lower() for char in text)


class RelabelConfig(BaseModel):
    """One relabel rule, with Prometheus's names, defaults and validation messages."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    source_labels: list[str] | None = None
    separator: str = DEFAULT_SEPARATOR
    regex: str = DEFAULT_REGEX
    modulus: int = Field(default=0, ge=0, lt=1 << 64)
    target_label: str = ""
    replacement: str = DEFAULT_REPLACEMENT
    action: str = "replace"

    _compiled: Regex = PrivateAttr()

    @model_validator(mode="before")
    @classmethod
    def _yaml_nulls_and_action(cls, data: Any) -> Any:
        """YAML `key: null` is Go's zero value; the action name is case-insensitive."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        action = data.get("action", "replace")
        for key in ("separator", "regex", "target_label", "replacement"):
            if key in data and data[key] is None:
                data[key] = ""
        if data.get("modulus", 0) is None:
            data["modulus"] = 0
        if action is None:
            data["action"] = ""  # Go's zero value: "relabel action cannot be empty", below
        elif isinstance(action, str):
            if action.lower() not in ACTIONS:
                raise ValueError(f"unknown relabel action {go_quote(action)}")
            data["action"] = action.lower()
        return data

    @field_validator("source_labels")
    @classmethod
    def _source_label_names(cls, names: list[str] | None) -> list[str] | None:
        for name in names or ():
            if name == "":
                raise ValueError(f"{go_quote(name)} is not a valid label name")
        return names

    @field_validator("regex")
    @classmethod
    def _regex_compiles(cls, regex: str) -> str:
        Regex(regex)
        return regex

    @model_validator(mode="after")
    def _validate(self) -> "RelabelConfig":
        """model/relabel Config.Validate, message for message."""
        action = self.action
        target = self.target_label
        if action == "":
            raise ValueError("relabel action cannot be empty")
        if self.modulus == 0 and action == "hashmod":
            raise ValueError("relabel configuration for hashmod requires non-zero modulus")
        needs_target = ("replace", "hashmod", "lowercase", "uppercase", "keepequal", "dropequal")
        if action in needs_target and target == "":
            raise ValueError(f"relabel configuration for {action} action requires 'target_label' value")
        if action == "replace":
            valid = (
                _LEGACY_TARGET_WITH_VARS.fullmatch(target) is not None
                if "$" in target
                else is_legacy_label_name(target)
            )
            if not valid:
                raise ValueError(f"{go_quote(target)} is invalid 'target_label' for {action} action")
        if action in ("lowercase", "uppercase", "keepequal", "dropequal"):
            if not is_legacy_label_name(target):
                raise ValueError(f"{go_quote(target)} is invalid 'target_label' for {action} action")
            if self.replacement != DEFAULT_REPLACEMENT:
                raise ValueError(f"'replacement' can not be set for {action} action")
        if action == "labelmap" and _LEGACY_TARGET_WITH_VARS.fullmatch(self.replacement) is None:
            raise ValueError(f"{go_quote(self.replacement)} is invalid 'replacement' for {action} action")
        if action == "hashmod" and not is_legacy_label_name(target):
            raise ValueError(f"{go_quote(target)} is invalid 'target_label' for {action} action")
        if action in ("keepequal", "dropequal") and (
            self.regex != DEFAULT_REGEX
            or self.modulus != 0
            or self.separator != DEFAULT_SEPARATOR
            or self.replacement != DEFAULT_REPLACEMENT
        ):
            raise ValueError(
                f"{action} action requires only 'source_labels' and `target_label`, and no other fields"
            )
        if action in ("labeldrop", "labelkeep") and (
            self.source_labels is not None
            or target != ""
            or self.modulus != 0
            or self.separator != DEFAULT_SEPARATOR
            or self.replacement != DEFAULT_REPLACEMENT
        ):
            raise ValueError(f"{action} action requires only 'regex', and no other fields")
        self._compiled = Regex(self.regex)
        return self

    @property
    def compiled_regex(self) -> Regex:
        """The rule's regex, compiled once when the rule was validated."""
        return self._compiled


Step = Callable[[Labels], bool]


class _Builder(dict[str, str]):
    """Labels that remember the order Prometheus's labels.Builder.Range visits them in.

    Range visits the original labels still untouched (sorted) first, then the labels set since
    (the builder's `add` list: in the order of their first Set; a Del forgets one). Only labelmap
    depends on that order (when two names map to one label, the one visited last wins), so only
    rule lists with a labelmap pay for this bookkeeping.
    """

    __slots__ = ("added",)

    def __init__(self, labels: Labels, *, all_added: bool) -> None:
        super().__init__(labels)
        self.added: dict[str, None] = dict.fromkeys(labels) if all_added else {}

    def __setitem__(self, name: str, value: str) -> None:
        super().__setitem__(name, value)
        self.added.setdefault(name, None)

    def __delitem__(self, name: str) -> None:
        super().__delitem__(name)
        self.added.pop(name, None)

    def pop(self, name: str, *default: Any) -> Any:  # type: ignore[override]
        self.added.pop(name, None)
        return super().pop(name, *default)

    def range_order(self) -> list[tuple[str, str]]:
        """A snapshot of the labels in Builder.Range's order."""
        untouched = sorted((name, value) for name, value in self.items() if name not in self.added)
        return untouched + [(name, self[name]) for name in self.added]


class Relabeler:
    """Compiled relabel rules. `process(labels)` returns the relabeled labels or None if dropped.

    `process` may change and return the dict it is given. With no rules it is the identity.
    `process` treats the given labels as a built label set (metric relabeling: Prometheus
    relabels `lb.Labels()`); `process_target` as labels Set one by one in the dict's order, which
    is how Prometheus builds a target's labels before relabeling them (PopulateDiscoveredLabels).
    The two differ only in the order a labelmap visits labels.
    """

    __slots__ = ("_steps", "empty", "process", "process_target", "rules")

    def __init__(self, rules: list[RelabelConfig], steps: list[Step]) -> None:
        self.rules = tuple(rules)
        self._steps = tuple(steps)
        self.empty = not steps
        self.process: Callable[[Labels], Labels | None]
        self.process_target: Callable[[Labels], Labels | None]
        if any(rule.action == "labelmap" for rule in rules):
            self.process = self._run_built
            self.process_target = self._run_added
        else:
            self.process = self.process_target = self._run if steps else _passthrough

    def _run(self, labels: Labels) -> Labels | None:
        for step in self._steps:
            if not step(labels):
                return None
        return labels

    def _run_built(self, labels: Labels) -> Labels | None:
        result = self._run(_Builder(labels, all_added=False))
        return None if result is None else dict(result)

    def _run_added(self, labels: Labels) -> Labels | None:
        result = self._run(_Builder(labels, all_added=True))
        return None if result is None else dict(result)


def _passthrough(labels: Labels) -> Labels:
    return labels


def compile_rules(configs: list[RelabelConfig]) -> Relabeler:
    """Prepare the rules once: regexes, templates and value extraction become closures."""
    return Relabeler(configs, [_compile_step(config) for config in configs])


def _value_getter(config: RelabelConfig) -> Callable[[Labels], str]:
    names = tuple(config.source_labels or ())
    separator = config.separator
    if not names:
        return lambda labels: ""
    if len(names) == 1:
        (name,) = names
        return lambda labels: labels.get(name, "")
    return lambda labels: separator.join([labels.get(name, "") for name in names])


def _set(labels: Labels, name: str, value: str) -> None:
    """labels.Builder.Set: an empty value deletes the label."""
    if value:
        labels[name] = value
    else:
        labels.pop(name, None)


def _compile_step(config: RelabelConfig) -> Step:
    action = config.action
    regex = config.compiled_regex
    value_of = _value_getter(config)
    target = config.target_label

    if action == "drop":
        return lambda labels: not regex.matches(value_of(labels))
    if action == "keep":
        return lambda labels: regex.matches(value_of(labels))
    if action == "dropequal":
        return lambda labels: labels.get(target, "") != value_of(labels)
    if action == "keepequal":
        return lambda labels: labels.get(target, "") == value_of(labels)
    if action == "lowercase":

        def lowercase(labels: Labels) -> bool:
            _set(labels, target, go_lower(value_of(labels)))
            return True

        return lowercase
    if action == "uppercase":

        def uppercase(labels: Labels) -> bool:
            _set(labels, target, go_upper(value_of(labels)))
            return True

        return uppercase
    if action == "hashmod":
        modulus = config.modulus

        def hashmod(labels: Labels) -> bool:
            digest = hashlib.md5(value_of(labels).encode()).digest()
            labels[target] = str(int.from_bytes(digest[8:], "big") % modulus)
            return True

        return hashmod
    if action == "replace":
        return _compile_replace(config, regex, value_of)
    if action == "labelmap":
        pieces = parse_template(config.replacement, regex)

        def labelmap(labels: Labels) -> bool:
            assert isinstance(labels, _Builder), "a Relabeler with a labelmap runs on a _Builder"
            for name, value in labels.range_order():
                data = name.encode()
                spans = regex.spans(data)
                if spans is not None:
                    _set(labels, expand(pieces, data, spans), value)
            return True

        return labelmap
    if action == "labeldrop":

        def labeldrop(labels: Labels) -> bool:
            for name in [name for name in labels if regex.matches(name)]:
                del labels[name]
            return True

        return labeldrop
    if action == "labelkeep":

        def labelkeep(labels: Labels) -> bool:
            for name in [name for name in labels if not regex.matches(name)]:
                del labels[name]
            return True

        return labelkeep
    raise ValueError(f"unknown relabel action {go_quote(action)}")


def _compile_replace(config: RelabelConfig, regex: Regex, value_of: Callable[[Labels], str]) -> Step:
    target = config.target_label
    replacement = config.replacement
    # Prometheus's fast path: the default regex on an empty value just sets the label.
    static = config.regex == DEFAULT_REGEX and "$" not in target and "$" not in replacement
    target_pieces = parse_template(target, regex)
    replacement_pieces = parse_template(replacement, regex)
    static_target = target if "$" not in target else None

    def replace(labels: Labels) -> bool:
        value = value_of(labels)
        if static and value == "":
            _set(labels, target, replacement)
            return True
        data = value.encode()
        spans = regex.spans(data)
        if spans is None:
            return True
        name = static_target if static_target is not None else expand(target_pieces, data, spans)
        if not is_legacy_label_name(name):
            return True
        _set(labels, name, expand(replacement_pieces, data, spans))
        return True

    return replace
