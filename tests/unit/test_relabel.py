"""The relabel engine against Prometheus's model/relabel tests (relabel_test.go), ported as tables.

Prometheus's own tests run under UTF-8 name validation; this project validates label names with
the legacy scheme (Alloy's default), so the cases whose target is a UTF-8 name (`utf-8.label`)
appear here as validation errors instead.
"""

from typing import Any

import pytest
from promscrape.relabel import (
    Regex,
    RelabelConfig,
    compile_rules,
    expand,
    go_lower,
    go_upper,
    parse_template,
)
from pydantic import ValidationError

Case = tuple[dict[str, str], list[dict[str, Any]], dict[str, str] | None]

# (input labels, rules, output labels or None when dropped) from TestRelabel.
PROMETHEUS_CASES: list[Case] = [
    (
        {"a": "foo", "b": "bar", "c": "baz"},
        [{"source_labels": ["a"], "regex": "f(.*)", "target_label": "d", "replacement": "ch${1}-ch${1}"}],
        {"a": "foo", "b": "bar", "c": "baz", "d": "choo-choo"},
    ),
    (
        {"a": "foo", "b": "bar", "c": "baz"},
        [
            {
                "source_labels": ["a", "b"],
                "regex": "f(.*);(.*)r",
                "target_label": "a",
                "replacement": "b${1}${2}m",
            },
            {
                "source_labels": ["c", "a"],
                "regex": "(b).*b(.*)ba(.*)",
                "target_label": "d",
                "replacement": "$1$2$2$3",
            },
        ],
        {"a": "boobam", "b": "bar", "c": "baz", "d": "boooom"},
    ),
    (
        {"a": "foo"},
        [
            {"source_labels": ["a"], "regex": ".*o.*", "action": "drop"},
            {"source_labels": ["a"], "regex": "f(.*)", "target_label": "d", "replacement": "ch$1-ch$1"},
        ],
        None,
    ),
    ({"a": "foo", "b": "bar"}, [{"source_labels": ["a"], "regex": ".*o.*", "action": "drop"}], None),
    (
        {"a": "abc"},
        [{"source_labels": ["a"], "regex": ".*(b).*", "target_label": "d", "replacement": "$1"}],
        {"a": "abc", "d": "b"},
    ),
    ({"a": "foo"}, [{"source_labels": ["a"], "regex": "no-match", "action": "drop"}], {"a": "foo"}),
    ({"a": "foo"}, [{"source_labels": ["a"], "regex": "f|o", "action": "drop"}], {"a": "foo"}),
    ({"a": "foo"}, [{"source_labels": ["a"], "regex": "no-match", "action": "keep"}], None),
    ({"a": "foo"}, [{"source_labels": ["a"], "regex": "f.*", "action": "keep"}], {"a": "foo"}),
    # No replacement must be applied if there is no match.
    (
        {"a": "boo"},
        [{"source_labels": ["a"], "regex": "f", "target_label": "b", "replacement": "bar"}],
        {"a": "boo"},
    ),
    # Blank replacement should delete the label.
    (
        {"a": "foo", "f": "baz"},
        [{"source_labels": ["a"], "regex": "(f).*", "target_label": "$1", "replacement": "$2"}],
        {"a": "foo"},
    ),
    (
        {"a": "foo", "b": "bar", "c": "baz"},
        [{"source_labels": ["c"], "target_label": "d", "action": "hashmod", "modulus": 1000}],
        {"a": "foo", "b": "bar", "c": "baz", "d": "976"},
    ),
    (
        {"a": "foo\nbar"},
        [{"source_labels": ["a"], "target_label": "b", "action": "hashmod", "modulus": 1000}],
        {"a": "foo\nbar", "b": "734"},
    ),
    (
        {"a": "foo", "b1": "bar", "b2": "baz"},
        [{"regex": "(b.*)", "replacement": "bar_${1}", "action": "labelmap"}],
        {"a": "foo", "b1": "bar", "b2": "baz", "bar_b1": "bar", "bar_b2": "baz"},
    ),
    (
        {"a": "foo", "__meta_my_bar": "aaa", "__meta_my_baz": "bbb", "__meta_other": "ccc"},
        [{"regex": "__meta_(my.*)", "replacement": "${1}", "action": "labelmap"}],
        {
            "a": "foo",
            "__meta_my_bar": "aaa",
            "__meta_my_baz": "bbb",
            "__meta_other": "ccc",
            "my_bar": "aaa",
            "my_baz": "bbb",
        },
    ),
    (
        {"a": "some-name-value"},
        [
            {
                "source_labels": ["a"],
                "regex": "some-([^-]+)-([^,]+)",
                "replacement": "${2}",
                "target_label": "${1}",
            }
        ],
        {"a": "some-name-value", "name": "value"},
    ),
    # Invalid replacement "".
    (
        {"a": "some-name-value"},
        [
            {
                "source_labels": ["a"],
                "regex": "some-([^-]+)-([^,]+)",
                "replacement": "${3}",
                "target_label": "${1}",
            }
        ],
        {"a": "some-name-value"},
    ),
    # Invalid target labels.
    (
        {"a": "some-name-0"},
        [
            {
                "source_labels": ["a"],
                "regex": "some-([^-]+)-([^,]+)",
                "replacement": "${1}",
                "target_label": "${3}",
            },
            {
                "source_labels": ["a"],
                "regex": "some-([^-]+)-([^,]+)",
                "replacement": "${1}",
                "target_label": "${3}",
            },
            {
                "source_labels": ["a"],
                "regex": "some-([^-]+)(-[^,]+)",
                "replacement": "${1}",
                "target_label": "${3}",
            },
        ],
        {"a": "some-name-0"},
    ),
    # More complex real-life like usecase.
    (
        {"__meta_sd_tags": "path:/secret,job:some-job,label:foo=bar"},
        [
            {
                "source_labels": ["__meta_sd_tags"],
                "regex": "(?:.+,|^)path:(/[^,]+).*",
                "replacement": "${1}",
                "target_label": "__metrics_path__",
            },
            {
                "source_labels": ["__meta_sd_tags"],
                "regex": "(?:.+,|^)job:([^,]+).*",
                "replacement": "${1}",
                "target_label": "job",
            },
            {
                "source_labels": ["__meta_sd_tags"],
                "regex": "(?:.+,|^)label:([^=]+)=([^,]+).*",
                "replacement": "${2}",
                "target_label": "${1}",
            },
        ],
        {
            "__meta_sd_tags": "path:/secret,job:some-job,label:foo=bar",
            "__metrics_path__": "/secret",
            "job": "some-job",
            "foo": "bar",
        },
    ),
    # From https://github.com/prometheus/prometheus/issues/12283
    (
        {
            "__meta_kubernetes_pod_container_port_name": "foo",
            "__meta_kubernetes_pod_annotation_XXX_metrics_port": "9091",
        },
        [
            {"regex": "^__meta_kubernetes_pod_container_port_name$", "action": "labeldrop"},
            {
                "source_labels": ["__meta_kubernetes_pod_annotation_XXX_metrics_port"],
                "regex": "(.+)",
                "replacement": "metrics",
                "target_label": "__meta_kubernetes_pod_container_port_name",
            },
            {
                "source_labels": ["__meta_kubernetes_pod_container_port_name"],
                "regex": "^metrics$",
                "action": "keep",
            },
        ],
        {
            "__meta_kubernetes_pod_annotation_XXX_metrics_port": "9091",
            "__meta_kubernetes_pod_container_port_name": "metrics",
        },
    ),
    (
        {"a": "foo", "b1": "bar", "b2": "baz"},
        [{"regex": "(b.*)", "action": "labelkeep"}],
        {"b1": "bar", "b2": "baz"},
    ),
    ({"a": "foo", "b1": "bar", "b2": "baz"}, [{"regex": "(b.*)", "action": "labeldrop"}], {"a": "foo"}),
    (
        {"foo": "bAr123Foo"},
        [
            {"source_labels": ["foo"], "action": "uppercase", "target_label": "foo_uppercase"},
            {"source_labels": ["foo"], "action": "lowercase", "target_label": "foo_lowercase"},
        ],
        {"foo": "bAr123Foo", "foo_lowercase": "bar123foo", "foo_uppercase": "BAR123FOO"},
    ),
    (
        {"__tmp_port": "1234", "__port1": "1234", "__port2": "5678"},
        [{"source_labels": ["__tmp_port"], "action": "keepequal", "target_label": "__port1"}],
        {"__tmp_port": "1234", "__port1": "1234", "__port2": "5678"},
    ),
    (
        {"__tmp_port": "1234", "__port1": "1234", "__port2": "5678"},
        [{"source_labels": ["__tmp_port"], "action": "dropequal", "target_label": "__port1"}],
        None,
    ),
    (
        {"__tmp_port": "1234", "__port1": "1234", "__port2": "5678"},
        [{"source_labels": ["__tmp_port"], "action": "dropequal", "target_label": "__port2"}],
        {"__tmp_port": "1234", "__port1": "1234", "__port2": "5678"},
    ),
    (
        {"__tmp_port": "1234", "__port1": "1234", "__port2": "5678"},
        [{"source_labels": ["__tmp_port"], "action": "keepequal", "target_label": "__port2"}],
        None,
    ),
    (
        {"a": "line1\nline2", "b": "bar", "c": "baz"},
        [{"source_labels": ["a"], "regex": "line1.*line2", "target_label": "d", "replacement": "match${1}"}],
        {"a": "line1\nline2", "b": "bar", "c": "baz", "d": "match"},
    ),
    # Replace on a source label with UTF-8 characters.
    (
        {"utf-8.label": "line1\nline2", "b": "bar", "c": "baz"},
        [
            {
                "source_labels": ["utf-8.label"],
                "regex": "line1.*line2",
                "target_label": "d",
                "replacement": "match${1}",
            }
        ],
        {"utf-8.label": "line1\nline2", "b": "bar", "c": "baz", "d": "match"},
    ),
    # Various $var styles, with a named group.
    (
        {"a": "line1\nline2", "b": "bar", "c": "baz"},
        [
            {
                "source_labels": ["a"],
                "regex": "(line1).*(?<second>line2)",
                "target_label": "label1_${1}",
                "replacement": "val_${second}",
            },
            {
                "source_labels": ["a"],
                "regex": "(line1).*(?<second>line2)",
                "target_label": "label2_$1",
                "replacement": "val_$second",
            },
        ],
        {
            "a": "line1\nline2",
            "b": "bar",
            "c": "baz",
            "label1_line1": "val_line2",
            "label2_line1": "val_line2",
        },
    ),
    (
        {"__name__": "http_requests_total"},
        [
            {
                "source_labels": ["__name__"],
                "regex": ".*_total$",
                "target_label": "__type__",
                "replacement": "counter",
            }
        ],
        {"__name__": "http_requests_total", "__type__": "counter"},
    ),
    (
        {"__name__": "disk_usage_bytes"},
        [
            {
                "source_labels": ["__name__"],
                "regex": ".*_bytes$",
                "target_label": "__unit__",
                "replacement": "bytes",
            }
        ],
        {"__name__": "disk_usage_bytes", "__unit__": "bytes"},
    ),
]

# Beyond relabel_test.go: REFERENCE §10 and Go semantics that the port must keep.
MORE_CASES: list[Case] = [
    # Defaults: replace, `;` separator, `(.*)`, `$1`; a missing source label is "".
    (
        {"a": "x", "b": "y"},
        [{"source_labels": ["a", "b", "z"], "target_label": "t"}],
        {"a": "x", "b": "y", "t": "x;y;"},
    ),
    ({"a": "x"}, [{"source_labels": ["a", "b"], "separator": "", "target_label": "t"}], {"a": "x", "t": "x"}),
    # Static label (Prometheus's fast path) and its deletion.
    ({"a": "x"}, [{"target_label": "env", "replacement": "prod"}], {"a": "x", "env": "prod"}),
    ({"a": "x", "env": "dev"}, [{"target_label": "env", "replacement": ""}], {"a": "x"}),
    # An empty value matches only regexes that accept "" (fully anchored).
    (
        {"a": "x"},
        [{"source_labels": ["b"], "regex": "x?", "target_label": "t", "replacement": "y"}],
        {"a": "x", "t": "y"},
    ),
    ({"a": "x"}, [{"source_labels": ["b"], "regex": ".+", "action": "keep"}], None),
    # Anchoring: no partial matches, and `$` is the end of the text (not before a final newline).
    ({"a": "foobar"}, [{"source_labels": ["a"], "regex": "foo", "action": "drop"}], {"a": "foobar"}),
    ({"a": "foo\n"}, [{"source_labels": ["a"], "regex": "foo", "action": "drop"}], {"a": "foo\n"}),
    ({"a": "foo\n"}, [{"source_labels": ["a"], "regex": "foo$", "action": "drop"}], {"a": "foo\n"}),
    ({"a": "foo"}, [{"source_labels": ["a"], "regex": "^foo$", "action": "drop"}], None),
    # RE2 classes: \d is ASCII only, POSIX classes and \pL work.
    ({"a": "١٢"}, [{"source_labels": ["a"], "regex": "\\d+", "action": "keep"}], None),
    ({"a": "12"}, [{"source_labels": ["a"], "regex": "[[:digit:]]+", "action": "keep"}], {"a": "12"}),
    ({"a": "héllo"}, [{"source_labels": ["a"], "regex": "\\pL+", "action": "keep"}], {"a": "héllo"}),
    # Case-insensitive action names.
    ({"a": "foo"}, [{"source_labels": ["a"], "regex": "foo", "action": "DROP"}], None),
    # The expanded target must be a legacy label name, else the rule is skipped.
    ({"a": "x.y"}, [{"source_labels": ["a"], "target_label": "$1", "replacement": "v"}], {"a": "x.y"}),
    (
        {"a": "x_y"},
        [{"source_labels": ["a"], "target_label": "$1", "replacement": "v"}],
        {"a": "x_y", "x_y": "v"},
    ),
    ({"a": "x"}, [{"source_labels": ["a"], "target_label": "${2}", "replacement": "v"}], {"a": "x"}),
    # Non-ASCII values through groups (byte offsets back to text).
    (
        {"a": "größe=10"},
        [{"source_labels": ["a"], "regex": "(.*)=(.*)", "target_label": "k", "replacement": "$1:$2"}],
        {"a": "größe=10", "k": "größe:10"},
    ),
    # lowercase/uppercase write into target_label; an empty result deletes it.
    ({"a": "ÀB"}, [{"source_labels": ["a"], "target_label": "a", "action": "lowercase"}], {"a": "àb"}),
    ({"b": "x"}, [{"source_labels": ["a"], "target_label": "b", "action": "uppercase"}], {}),
    # keepequal/dropequal compare with the target label's value ("" when missing).
    ({"a": ""}, [{"source_labels": ["a"], "target_label": "b", "action": "keepequal"}], {"a": ""}),
    # labelmap keeps originals; later rules see the new labels.
    (
        {"__meta_x": "1"},
        [
            {"regex": "__meta_(.*)", "replacement": "m_$1", "action": "labelmap"},
            {"regex": "__meta_.*", "action": "labeldrop"},
        ],
        {"m_x": "1"},
    ),
    # hashmod uses bytes 8..16 of md5, big-endian, modulo the modulus.
    (
        {"a": ""},
        [{"source_labels": ["a"], "target_label": "h", "action": "hashmod", "modulus": 1 << 63}],
        {"a": "", "h": str(int.from_bytes(bytes.fromhex("e9800998ecf8427e"), "big") % (1 << 63))},
    ),
    # A rule list that drops everything midway stops there.
    (
        {"a": "1"},
        [{"regex": ".*", "action": "labeldrop"}, {"target_label": "b", "replacement": "2"}],
        {"b": "2"},
    ),
]


@pytest.mark.parametrize(("labels", "rules", "expected"), PROMETHEUS_CASES + MORE_CASES)
def test_process(
    labels: dict[str, str], rules: list[dict[str, Any]], expected: dict[str, str] | None
) -> None:
    relabeler = compile_rules([RelabelConfig.model_validate(rule) for rule in rules])
    assert relabeler.process(dict(labels)) == expected


# labelmap visits labels in labels.Builder.Range's order: the original labels not touched by an
# earlier rule (sorted), then the labels set since, in the order of their first Set. When two names
# map to one label, the one visited last wins.
LABELMAP_TO_Y = {"regex": "(.)_x", "replacement": "y", "action": "labelmap"}
LABELMAP_ORDER_CASES = [
    # Untouched originals only: sorted, b_x last.
    pytest.param({"b_x": "2", "a_x": "1"}, [LABELMAP_TO_Y], "2", "1", id="originals-sorted"),
    # An earlier rule set a_x: Range visits it after the untouched b_x, so a_x wins.
    pytest.param(
        {"a_x": "1", "b_x": "2"},
        [{"target_label": "a_x", "replacement": "3"}, LABELMAP_TO_Y],
        "3",
        "2",  # for a target every label was Set already: a_x keeps its place before b_x
        id="set-after-originals",
    ),
    # Set twice keeps the first Set's place; a deleted and re-set label moves to the end.
    pytest.param(
        {"a_x": "1", "b_x": "2", "c_x": "4"},
        [
            {"target_label": "b_x", "replacement": "5"},
            {"target_label": "a_x", "replacement": "6"},
            {"target_label": "b_x", "replacement": "7"},
            LABELMAP_TO_Y,
        ],
        "6",
        "4",
        id="first-set-keeps-place",
    ),
    pytest.param(
        {"a_x": "1", "b_x": "2"},
        [
            {"target_label": "a_x", "replacement": "6"},
            {"target_label": "b_x", "replacement": "7"},
            {"regex": "a_x", "action": "labeldrop"},
            {"target_label": "a_x", "replacement": "8"},
            LABELMAP_TO_Y,
        ],
        "8",
        "8",
        id="deleted-then-set-moves-last",
    ),
]


@pytest.mark.parametrize(("labels", "rules", "built", "added"), LABELMAP_ORDER_CASES)
def test_labelmap_visits_labels_in_builder_order(
    labels: dict[str, str], rules: list[dict[str, Any]], built: str, added: str
) -> None:
    """`process` starts from a built label set; `process_target` from labels Set in dict order."""
    relabeler = compile_rules([RelabelConfig.model_validate(rule) for rule in rules])
    result = relabeler.process(dict(labels))
    assert result is not None and result["y"] == built and type(result) is dict
    result = relabeler.process_target(dict(labels))
    assert result is not None and result["y"] == added


def test_labelmap_target_labels_visit_in_insertion_order() -> None:
    relabeler = compile_rules([RelabelConfig.model_validate(LABELMAP_TO_Y)])
    assert relabeler.process_target({"b_x": "2", "a_x": "1"}) == {"b_x": "2", "a_x": "1", "y": "1"}
    assert relabeler.process({"b_x": "2", "a_x": "1"}) == {"b_x": "2", "a_x": "1", "y": "2"}


def test_empty_rule_list_is_the_identity() -> None:
    relabeler = compile_rules([])
    labels = {"a": "1"}
    assert relabeler.empty
    assert relabeler.process(labels) is labels
    assert not compile_rules([RelabelConfig(target_label="x", replacement="y")]).empty


def test_rules_are_reusable() -> None:
    relabeler = compile_rules(
        [RelabelConfig(source_labels=["a"], regex="(.)(.)", target_label="b", replacement="$2$1")]
    )
    assert [relabeler.process({"a": value}) for value in ("xy", "12", "abc")] == [
        {"a": "xy", "b": "yx"},
        {"a": "12", "b": "21"},
        {"a": "abc"},
    ]


@pytest.mark.parametrize(
    ("template", "value", "expanded"),
    [
        ("$1", "ab", "a"),
        ("${1}", "ab", "a"),
        ("${1}x", "ab", "ax"),
        ("$1x", "ab", ""),  # group "1x" does not exist
        ("$2$1", "ab", "ba"),
        ("$0", "ab", "ab"),
        ("$first-$second", "ab", "a-b"),
        ("${first}_${second}", "ab", "a_b"),
        ("$$", "ab", "$"),
        ("$$1", "ab", "$1"),
        ("$", "ab", "$"),
        ("a$", "ab", "a$"),
        ("${1", "ab", "${1"),
        ("${}", "ab", "${}"),
        ("$-1", "ab", "$-1"),
        ("$3", "ab", ""),
        ("$01", "ab", ""),  # a name, not a number
        ("$100000000", "ab", ""),
        ("$nope", "ab", ""),
        ("x$1y$2z", "ab", "x"),  # `$1y` and `$2z` are names
        ("x${1}y${2}z", "ab", "xaybz"),
        ("$é", "ab", ""),  # letters beyond ASCII make names too
        ("no refs", "ab", "no refs"),
    ],
)
def test_go_template_expansion(template: str, value: str, expanded: str) -> None:
    regex = Regex("(?P<first>.)(?<second>.)")
    data = value.encode()
    spans = regex.spans(data)
    assert spans is not None
    assert expand(parse_template(template, regex), data, spans) == expanded


def test_unmatched_optional_group_expands_to_empty() -> None:
    regex = Regex("(a)?(b)")
    spans = regex.spans(b"b")
    assert spans is not None
    assert expand(parse_template("[$1][$2]", regex), b"b", spans) == "[][b]"


@pytest.mark.parametrize(
    ("text", "upper", "lower"),
    [
        ("bAr123Foo", "BAR123FOO", "bar123foo"),
        ("ß", "ß", "ß"),  # Python: "SS"
        ("straße", "STRAßE", "straße"),
        ("ﬁ", "ﬁ", "ﬁ"),  # Python: "FI"
        ("ŉ", "ŉ", "ŉ"),  # Python: "ʼN"
        ("İ", "İ", "i"),  # Python lower: "i̇"
        ("ΟΔΟΣ", "ΟΔΟΣ", "οδοσ"),  # Python lower: final "ς"
        ("Σ", "Σ", "σ"),
        ("ǅ", "Ǆ", "ǆ"),
        ("ᾳ", "ᾼ", "ᾳ"),  # Python upper: "ΑΙ"
        ("ᾼ", "ᾼ", "ᾳ"),
        ("ǰ", "ǰ", "ǰ"),
        ("ẞ", "ẞ", "ß"),
        ("Ωmega ǆ", "ΩMEGA Ǆ", "ωmega ǆ"),
    ],
)
def test_go_case_mapping(text: str, upper: str, lower: str) -> None:
    assert (go_upper(text), go_lower(text)) == (upper, lower)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        # TestRelabelValidate, legacy validation.
        ({"action": None}, "relabel action cannot be empty"),
        ({"action": "replace"}, "relabel configuration for replace action requires 'target_label' value"),
        ({"action": "lowercase"}, "relabel configuration for lowercase action requires 'target_label' value"),
        (
            {"action": "lowercase", "target_label": "${3}"},
            "\"${3}\" is invalid 'target_label' for lowercase action",
        ),
        (
            {
                "source_labels": ["a"],
                "regex": "some-([^-]+)-([^,]+)",
                "replacement": "${1}",
                "target_label": "0${3}",
            },
            "\"0${3}\" is invalid 'target_label' for replace action",
        ),
        (
            {
                "source_labels": ["a"],
                "regex": "some-([^-]+)-([^,]+)",
                "replacement": "${1}",
                "target_label": "-${3}",
            },
            "\"-${3}\" is invalid 'target_label' for replace action",
        ),
        # TestRelabel's UTF-8 targets, invalid under legacy validation.
        (
            {"source_labels": ["a"], "target_label": "utf-8.label"},
            "\"utf-8.label\" is invalid 'target_label' for replace action",
        ),
        (
            {"source_labels": ["a"], "target_label": "utf-8.label${1}"},
            "\"utf-8.label${1}\" is invalid 'target_label' for replace action",
        ),
        # Config.Validate, every message.
        (
            {"action": "hashmod", "target_label": "x"},
            "relabel configuration for hashmod requires non-zero modulus",
        ),
        (
            {"action": "hashmod", "modulus": 2},
            "relabel configuration for hashmod action requires 'target_label' value",
        ),
        (
            {"action": "hashmod", "modulus": 2, "target_label": "$1"},
            "\"$1\" is invalid 'target_label' for hashmod action",
        ),
        ({"action": "uppercase"}, "relabel configuration for uppercase action requires 'target_label' value"),
        ({"action": "keepequal"}, "relabel configuration for keepequal action requires 'target_label' value"),
        ({"action": "dropequal"}, "relabel configuration for dropequal action requires 'target_label' value"),
        (
            {"action": "uppercase", "target_label": "a.b"},
            "\"a.b\" is invalid 'target_label' for uppercase action",
        ),
        (
            {"action": "keepequal", "target_label": "1a"},
            "\"1a\" is invalid 'target_label' for keepequal action",
        ),
        (
            {"action": "lowercase", "target_label": "x", "replacement": "y"},
            "'replacement' can not be set for lowercase action",
        ),
        (
            {"action": "uppercase", "target_label": "x", "replacement": ""},
            "'replacement' can not be set for uppercase action",
        ),
        (
            {"action": "keepequal", "target_label": "x", "replacement": "y"},
            "'replacement' can not be set for keepequal action",
        ),
        (
            {"action": "dropequal", "target_label": "x", "replacement": "y"},
            "'replacement' can not be set for dropequal action",
        ),
        (
            {"action": "dropequal", "target_label": "x", "regex": "a"},
            "dropequal action requires only 'source_labels' and `target_label`, and no other fields",
        ),
        (
            {"action": "keepequal", "target_label": "x", "separator": ","},
            "keepequal action requires only 'source_labels' and `target_label`, and no other fields",
        ),
        (
            {"action": "keepequal", "target_label": "x", "modulus": 3},
            "keepequal action requires only 'source_labels' and `target_label`, and no other fields",
        ),
        (
            {"action": "labeldrop", "source_labels": ["a"]},
            "labeldrop action requires only 'regex', and no other fields",
        ),
        (
            {"action": "labeldrop", "source_labels": []},
            "labeldrop action requires only 'regex', and no other fields",
        ),
        (
            {"action": "labelkeep", "target_label": "a"},
            "labelkeep action requires only 'regex', and no other fields",
        ),
        (
            {"action": "labelkeep", "modulus": 1},
            "labelkeep action requires only 'regex', and no other fields",
        ),
        (
            {"action": "labelkeep", "separator": ","},
            "labelkeep action requires only 'regex', and no other fields",
        ),
        (
            {"action": "labeldrop", "replacement": "x"},
            "labeldrop action requires only 'regex', and no other fields",
        ),
        (
            {"action": "labelmap", "replacement": "a-$1"},
            "\"a-$1\" is invalid 'replacement' for labelmap action",
        ),
        ({"action": "labelmap", "replacement": ""}, "\"\" is invalid 'replacement' for labelmap action"),
        ({"action": "foo"}, 'unknown relabel action "foo"'),
        ({"action": "Foo Bar"}, 'unknown relabel action "Foo Bar"'),
        ({"action": ""}, 'unknown relabel action ""'),
        ({"source_labels": [""], "target_label": "x"}, 'source_labels: "" is not a valid label name'),
        ({"modulus": -1, "target_label": "x"}, "modulus: Input should be greater than or equal to 0"),
        ({"target_label": "x", "extra": 1}, "extra: Extra inputs are not permitted"),
        # RE2 rejects what Go's regexp rejects, with Go's words.
        (
            {"regex": "(a)\\1", "target_label": "x"},
            "regex: error parsing regexp: invalid escape sequence: `\\1`",
        ),
        (
            {"regex": "(?=x)", "target_label": "x"},
            "regex: error parsing regexp: invalid or unsupported Perl syntax: `(?=`",
        ),
        (
            {"regex": "(?<!x)", "target_label": "x"},
            "regex: error parsing regexp: invalid or unsupported Perl syntax: `(?<!`",
        ),
        ({"regex": "(", "target_label": "x"}, "regex: error parsing regexp: missing closing ): `^(?s:()$`"),
        (
            {"regex": "a**", "target_label": "x"},
            "regex: error parsing regexp: invalid nested repetition operator: `**`",
        ),
        (
            {"regex": "*", "target_label": "x"},
            "regex: error parsing regexp: missing argument to repetition operator: `*`",
        ),
        (
            {"regex": "x{1001}", "target_label": "x"},
            "regex: error parsing regexp: invalid repeat count: `{1001}`",
        ),
        (
            {"regex": "[z-a]", "target_label": "x"},
            "regex: error parsing regexp: invalid character class range: `z-a`",
        ),
    ],
)
def test_validation_errors(rule: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        RelabelConfig.model_validate(rule)
    errors = caught.value.errors(include_url=False, include_input=False)
    assert len(errors) == 1
    location = ".".join(str(part) for part in errors[0]["loc"])
    text = errors[0]["msg"].removeprefix("Value error, ")
    assert (f"{location}: {text}" if location else text) == message


@pytest.mark.parametrize(
    ("rule", "action"),
    [
        # TestRelabelValidate cases valid under legacy validation.
        (
            {
                "source_labels": ["a"],
                "regex": "some-([^-]+)-([^,]+)",
                "replacement": "${1}",
                "target_label": "${3}",
            },
            "replace",
        ),
        (
            {
                "regex": "__meta_kubernetes_pod_label_(strimzi_io_.+)",
                "action": "labelmap",
                "replacement": "$1",
            },
            "labelmap",
        ),
        ({"regex": "__meta_(.+)", "action": "LabelMap", "replacement": "${1}"}, "labelmap"),
        ({"action": "lowercase", "target_label": "x", "replacement": "$1"}, "lowercase"),
        ({"action": "Keep", "regex": "x"}, "keep"),
        ({"action": "labeldrop", "regex": "x"}, "labeldrop"),
        ({"action": "labelkeep", "source_labels": None}, "labelkeep"),
        ({"target_label": "x", "separator": None, "replacement": None, "regex": None}, "replace"),
    ],
)
def test_valid_rules(rule: dict[str, Any], action: str) -> None:
    assert RelabelConfig.model_validate(rule).action == action


def test_yaml_nulls_are_go_zero_values() -> None:
    rule = RelabelConfig.model_validate(
        {"target_label": "x", "separator": None, "replacement": None, "regex": None}
    )
    assert (rule.separator, rule.replacement, rule.regex) == ("", "", "")
    # regex "" only matches the empty value.
    relabeler = compile_rules([RelabelConfig(source_labels=["a"], regex="", action="keep")])
    assert relabeler.process({"b": "1"}) == {"b": "1"}
    assert relabeler.process({"a": "1"}) is None


@pytest.mark.parametrize(
    ("target", "valid"),
    [
        # TestTargetLabelLegacyValidity.
        ("-label", False),
        ("label", True),
        ("label${1}", True),
        ("${1}label", True),
        ("${1}", True),
        ("${", False),
        ("$", False),
        ("${}", False),
        ("foo${", False),
        ("$1", True),
        ("asd$2asd", True),
        ("-foo${1}bar-", False),
        ("bar.foo${1}bar", False),
        ("_${1}_", True),
        ("foo${bar}foo", True),
    ],
)
def test_replace_target_label_legacy_validity(target: str, valid: bool) -> None:
    try:
        RelabelConfig(target_label=target)
    except ValidationError:
        assert not valid
    else:
        assert valid


def test_regex_is_compiled_once_and_rules_compare_by_value() -> None:
    rule = RelabelConfig(source_labels=["a"], regex="a+", action="keep")
    assert rule.compiled_regex is rule.compiled_regex
    assert rule == RelabelConfig.model_validate(rule.model_dump())


def test_go_case_tables_cover_every_multi_rune_mapping() -> None:
    """Where Python maps to several runes, Go keeps one: the single-rune title case, else the rune."""
    for code in range(0x110000):
        char = chr(code)
        if 0xD800 <= code <= 0xDFFF:
            continue
        if len(char.upper()) != 1:
            title = char.title()
            assert go_upper(char) == (title if len(title) == 1 else char), hex(code)
        if len(char.lower()) != 1:
            assert go_lower(char) == "i", hex(code)


def test_relabeler_keeps_its_rules() -> None:
    rules = [RelabelConfig(target_label="a", replacement="b")]
    assert compile_rules(rules).rules == tuple(rules)
    assert compile_rules([]).rules == ()
